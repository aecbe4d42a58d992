"""The password-free "My registrations" pages: asking for a link, the signed link itself,
cancelling (and its refund), leaving the waitlist, and claiming a seat offered from it."""

import datetime as dt
import types
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from core.locking import Busy
from core.models import OutboxMessage, SiteOptions
from enrollment.links import manage_token
from enrollment.models import EnrollmentOptions, Registration
from enrollment.selectors import refund_due
from tests.enrollment.test_seat_service import email_templates  # noqa: F401  (fixture)
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_templates")]

S = Registration.Status
EMAIL = "jordan@example.org"
REQUEST = reverse("enrollment:manage-link-request")
NEUTRAL = "If we have registrations for that address, we’ve sent a link to it."


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


@pytest.fixture(autouse=True)
def _signing_clock(monkeypatch):
    """Signed links carry a timestamp to the second: hold the clock still so that the same
    address always gives the same link within a test (and comparing URLs is not flaky)."""
    frozen = signing.time.time()
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: frozen))
    return frozen


class SettleSpy:
    """Records calls to ``finance.services.refunds_settle`` and passes them on to it."""

    def __init__(self, real):
        self.real = real
        self.calls: list[int] = []

    def __call__(self, *, registration_id, reason="", **kwargs):
        self.calls.append(registration_id)
        return self.real(registration_id=registration_id, reason=reason, **kwargs)


@pytest.fixture
def settle(monkeypatch) -> SettleSpy:
    import finance.services as finance_services

    spy = SettleSpy(finance_services.refunds_settle)
    monkeypatch.setattr(finance_services, "refunds_settle", spy)
    return spy


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=Decimal("25.00"), capacity=1, minimum=1)


def mine(course, *, status=S.CONFIRMED, email=EMAIL, **kwargs) -> Registration:
    return RegistrationFactory(order=OrderFactory(email=email), course=course, status=status,
                               attendee_first_name="Alex", attendee_last_name="Reader", **kwargs)


def link(email=EMAIL) -> str:
    """The "My registrations" link as e-mailed (it carries the signed token)."""
    return reverse("enrollment:my-registrations-link", args=[manage_token(email)])


def arrive(client, email=EMAIL):
    """Follow the e-mailed link: a redirect to the page at a URL without the token."""
    response = client.get(link(email))
    assert response.status_code == 302 and response["Location"] == my_url(), response
    return response


def my_url() -> str:
    return reverse("enrollment:my-registrations")


def cancel_url(registration) -> str:
    return reverse("enrollment:registration-cancel", args=[registration.pk])


def claim_url(registration) -> str:
    return reverse("enrollment:offer-claim", args=[registration.pk])


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- asking for a link ----------------------------------------------------------------------

def test_a_link_is_sent_only_to_an_address_with_registrations_and_the_answer_is_the_same(client, course):
    mine(course)
    page = client.get(REQUEST)
    assert page.status_code == 200 and "Your e-mail address" in page.content.decode()

    known = client.post(REQUEST, {"email": "JORDAN@example.org"}, follow=True)
    unknown = client.post(REQUEST, {"email": "nobody@example.org"}, follow=True)

    assert NEUTRAL in known.content.decode() and NEUTRAL in unknown.content.decode()
    links = OutboxMessage.objects.filter(template="manage_link")
    assert [m.to for m in links] == ["JORDAN@example.org"]


@pytest.mark.parametrize("value", ["", "not-an-address", "a@b", "<script>@x.org"])
def test_a_malformed_address_is_answered_on_the_field(client, value):
    response = client.post(REQUEST, {"email": value})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert 'aria-describedby="id_email_helptext id_email_error"' in body
    assert not OutboxMessage.objects.exists()


# --- the signed link ------------------------------------------------------------------------

def test_the_page_lists_this_address_s_registrations_only(client, course):
    other_course = course_with_meetings(title="Chess Club")
    confirmed = mine(course)
    waiting = mine(other_course, status=S.WAITLISTED)
    stranger = RegistrationFactory(course=course, attendee_first_name="Someone", attendee_last_name="Else",
                                   status=S.CANCELLED)

    arrive(client)
    response = client.get(my_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<h1") == 1
    assert 'name="robots" content="noindex' in body
    assert "Bread Baking" in body and "Chess Club" in body
    assert "Someone Else" not in body and stranger.order.email not in body
    assert cancel_url(confirmed) in body
    assert cancel_url(waiting) in body
    assert "Leave the waitlist" in body
    assert "On the waitlist, number 1 in line" in body
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("token", ["forged", "jordan@example.org", "jordan@example.org:1abc:xyz", "a/b/c"])
def test_an_invalid_link_is_a_friendly_page_with_the_request_form(client, token):
    response = client.get(reverse("enrollment:my-registrations-link", args=[token]))
    assert response.status_code == 403
    body = response.content.decode()
    assert "This link has expired or is not valid" in body
    assert f'action="{REQUEST}"' in body


def test_an_expired_link_is_a_friendly_page(client, course, monkeypatch, _signing_clock):
    EnrollmentOptions.objects.update_or_create(pk=EnrollmentOptions.current().pk, defaults={"link_days": 30})
    registration = mine(course)
    url = link()
    arrive(client)
    assert client.get(my_url()).status_code == 200
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: _signing_clock + 31 * 86400))
    response = client.get(url)
    assert response.status_code == 403
    assert "This link has expired or is not valid" in response.content.decode()
    # the session it opened ends with the link: the page asks to open the link again
    page = client.get(my_url())
    assert page.status_code == 403 and "Please open your link again" in page.content.decode()
    assert client.post(cancel_url(registration)).status_code == 403
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED


def test_someone_else_s_registration_is_not_found(client, course, settle):
    stranger = mine(course_with_meetings(), email="someone@example.org")
    mine(course)
    arrive(client)
    assert client.get(cancel_url(stranger)).status_code == 404
    assert client.post(cancel_url(stranger)).status_code == 404
    assert client.get(claim_url(stranger)).status_code == 404
    assert client.post(reverse("enrollment:registration-cancel", args=[999999])).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == S.CONFIRMED
    assert settle.calls == []


# --- cancelling -----------------------------------------------------------------------------

def test_cancelling_before_the_cutoff_refunds_in_full_and_offers_the_seat(client, course, settle):
    registration = mine(course)
    waiting = mine(course, status=S.WAITLISTED, email="next@example.org")
    payment = _paid_in_cash(registration)

    arrive(client)
    page = client.get(cancel_url(registration))
    body = page.content.decode()
    assert page.status_code == 200
    assert "full refund of $25.00" in body
    assert "$25.00 you paid in cash is paid back by the library." in body

    response = client.post(cancel_url(registration))
    assert response.status_code == 302 and response["Location"] == my_url()
    assert ("Your registration for “Bread Baking” is cancelled. Your refund: $25.00 you paid in cash is paid back by "
            "the library.") in " ".join(flashes(response))
    registration.refresh_from_db()
    assert registration.status == S.CANCELLED
    assert refund_due(registration) == Decimal("25.00")
    waiting.refresh_from_db()
    assert waiting.status == S.OFFERED  # the seat went to the first on the waitlist
    assert settle.calls == [registration.pk]  # finance was asked to settle, right after

    assert [(r.payment_id, r.amount) for r in registration.refunds.all()] == [(payment.pk, Decimal("25.00"))]


def _paid_in_cash(registration):
    from finance.models import Payment

    payment = Payment.objects.create(order=registration.order, provider=Payment.Provider.CASH,
                                     amount=registration.price, status=Payment.Status.SUCCEEDED,
                                     succeeded_at=timezone.now())
    payment.registrations.add(registration)
    return payment


def test_cancelling_after_the_cutoff_is_not_refunded(client, course, settle, monkeypatch):
    registration = mine(course)
    later = course.registration_closes_at + dt.timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    arrive(client)
    body = client.get(cancel_url(registration)).content.decode()
    assert "not refunded" in body

    response = client.post(cancel_url(registration))
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.CANCELLED
    assert refund_due(registration) == Decimal("0.00")
    assert "is on its way" not in " ".join(flashes(response))
    assert settle.calls == [registration.pk]


def test_leaving_the_waitlist(client, course, settle):
    mine(course, email="first@example.org")
    waiting = mine(course, status=S.WAITLISTED)
    arrive(client)
    body = client.get(cancel_url(waiting)).content.decode()
    assert "Leave the waitlist?" in body and "nothing to refund" in body
    response = client.post(cancel_url(waiting))
    assert "You left the waitlist for “Bread Baking”." in flashes(response)
    waiting.refresh_from_db()
    assert waiting.status == S.CANCELLED


def test_cancelling_twice_changes_nothing(client, course, settle):
    registration = mine(course)
    arrive(client)
    client.post(cancel_url(registration))
    events = registration.events.count()
    response = client.post(cancel_url(registration))
    assert response.status_code == 302
    assert "was already cancelled" in " ".join(flashes(response))
    assert registration.events.count() == events
    assert settle.calls == [registration.pk]


def test_a_busy_database_is_a_message_not_a_500(client, course, settle, monkeypatch):
    def busy(**kwargs):
        raise Busy("busy, please try again")

    monkeypatch.setattr("enrollment.views.manage.registration_cancel", busy)
    registration = mine(course)
    arrive(client)
    response = client.post(cancel_url(registration))
    assert response.status_code == 302
    assert "The system is busy, please try again in a moment." in flashes(response)
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED
    assert settle.calls == []


def test_a_failing_refund_settlement_does_not_undo_the_cancellation(client, course, settle, caplog):
    def broken(**kwargs):
        raise RuntimeError("Stripe is down")

    settle.real = broken
    registration = mine(course)
    arrive(client)
    response = client.post(cancel_url(registration))
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.CANCELLED
    assert "the sweep will retry" in caplog.text
    assert settle.calls == [registration.pk]


def test_no_cancel_button_for_a_class_that_has_ended(client, settle):
    from tests.factories import local_dt, today

    ended = course_with_meetings(first=local_dt(today() - dt.timedelta(days=3), 9), status="running")
    registration = mine(ended)
    arrive(client)
    body = client.get(my_url()).content.decode()
    assert cancel_url(registration) not in body
    response = client.post(cancel_url(registration))
    assert "can no longer be cancelled online" in " ".join(flashes(response))
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED


# --- claiming an offered seat ---------------------------------------------------------------

def test_an_offered_seat_is_claimed_by_paying(client, course):
    offered = mine(course, status=S.OFFERED, expires_at=timezone.now() + dt.timedelta(hours=10))
    arrive(client)
    body = client.get(my_url()).content.decode()
    assert "A seat is offered to you" in body and "the seat is yours until" in body
    assert claim_url(offered) in body

    page = client.get(claim_url(offered))
    assert page.status_code == 200 and "Claim and pay" in page.content.decode()
    response = client.post(claim_url(offered))
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:pay", args=[offered.order.pk])
    assert client.get(response["Location"]).status_code != 403  # the claim opened the order's payment page


def test_a_free_offered_seat_is_confirmed_on_claiming(client):
    course = course_with_meetings(fee=Decimal("0.00"), capacity=1, minimum=1)
    offered = mine(course, status=S.OFFERED, expires_at=timezone.now() + dt.timedelta(hours=10), price=0)
    arrive(client)
    response = client.post(claim_url(offered))
    assert response["Location"] == my_url()
    offered.refresh_from_db()
    assert offered.status == S.CONFIRMED


def test_an_expired_offer_cannot_be_claimed(client, course):
    offered = mine(course, status=S.OFFERED, expires_at=timezone.now() - dt.timedelta(minutes=1))
    arrive(client)
    for response in (client.get(claim_url(offered)), client.post(claim_url(offered))):
        assert response.status_code == 302 and response["Location"] == my_url()
        assert "was not claimed in time" in " ".join(flashes(response))
    offered.refresh_from_db()
    assert offered.status == S.OFFERED  # the sweep expires it; the page changes nothing


def test_a_confirmed_registration_has_nothing_to_claim(client, course):
    registration = mine(course)
    arrive(client)
    response = client.get(claim_url(registration))
    assert response.status_code == 302
    assert "already confirmed" in " ".join(flashes(response))
