"""Links that are credentials never stay in a URL (issue 10 §3): a "My registrations" link, its
cancel and claim links, and an order's token are exchanged on arrival for a short-lived grant in
the session, with a redirect to a URL that carries no secret — so the web server's access log,
the browser's history and Referer headers never hold a working credential. A browser without
the grant (another one, or after it ran out) gets the page that says what to do; another
patron's session reaches nothing of theirs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import SiteOptions
from enrollment import access
from enrollment.links import manage_token
from enrollment.models import Order, Registration
from tests.enrollment.test_checkout_views import add, filled, place  # noqa: F401
from tests.enrollment.test_seat_service import email_templates  # noqa: F401  (fixture)
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_templates")]

S = Registration.Status
EMAIL = "jordan@example.org"


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=Decimal("25.00"), capacity=5, minimum=1)


def mine(course, *, email=EMAIL, status=S.CONFIRMED, **kwargs) -> Registration:
    return RegistrationFactory(order=OrderFactory(email=email), course=course, status=status,
                               attendee_first_name="Alex", attendee_last_name="Reader", **kwargs)


def visited(response) -> list[str]:
    """The URLs the browser was sent to after its first request, as an access log would list them
    (a followed response: each redirect's target, the last one being the page)."""
    return [url for url, _ in response.redirect_chain]


def assert_no_secret(url: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in url, f"{url} carries a secret"


# --- "My registrations" ---------------------------------------------------------------------------

def test_the_link_answers_a_redirect_to_a_url_without_the_token(client, course):
    mine(course)
    token = manage_token(EMAIL)
    link = reverse("enrollment:my-registrations-link", args=[token])
    response = client.get(link)
    assert response.status_code == 302  # not the page
    assert response["Location"] == reverse("enrollment:my-registrations")
    assert_no_secret(response["Location"], token)
    assert "no-store" in response["Cache-Control"]

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "Bread Baking" in body
    assert token not in body  # nor in the page's own links
    assert "no-store" in page["Cache-Control"]
    assert page["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")


def test_every_url_of_a_visit_after_the_first_carries_no_secret(client, course):
    """An access log's view: the e-mailed link is requested once; everything after it is clean."""
    registration = mine(course)
    token = manage_token(EMAIL)
    followed = client.get(reverse("enrollment:registration-cancel-link", args=[token, registration.pk]), follow=True)
    assert followed.status_code == 200 and "Bread Baking" in followed.content.decode()
    for url in visited(followed):
        assert_no_secret(url, token, str(registration.order.token))
    assert followed.request["PATH_INFO"] == reverse("enrollment:registration-cancel", args=[registration.pk])
    done = client.post(followed.request["PATH_INFO"], follow=True)
    for url in [followed.request["PATH_INFO"], *visited(done)]:
        assert_no_secret(url, token)
    registration.refresh_from_db()
    assert registration.status == S.CANCELLED


def test_the_claim_link_is_exchanged_too(client, course):
    offered = mine(course, status=S.OFFERED, expires_at=timezone.now() + dt.timedelta(hours=10))
    token = manage_token(EMAIL)
    response = client.get(reverse("enrollment:offer-claim-link", args=[token, offered.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:offer-claim", args=[offered.pk])
    assert client.get(response["Location"]).status_code == 200


def test_another_browser_without_the_grant_is_asked_to_follow_the_link_again(client, course):
    registration = mine(course)
    client.get(reverse("enrollment:my-registrations-link", args=[manage_token(EMAIL)]))
    other = Client()
    for url in (reverse("enrollment:my-registrations"), reverse("enrollment:registration-cancel",
                                                                args=[registration.pk])):
        page = other.get(url)
        body = page.content.decode()
        assert page.status_code == 403 and "Please open your link again" in body
        assert 'action="/my/"' in body and "Bread Baking" not in body
    assert other.post(reverse("enrollment:registration-cancel", args=[registration.pk])).status_code == 403
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED


def test_the_grant_runs_out(client, course, monkeypatch):
    mine(course)
    client.get(reverse("enrollment:my-registrations-link", args=[manage_token(EMAIL)]))
    assert client.get(reverse("enrollment:my-registrations")).status_code == 200
    later = timezone.now() + access.MANAGE_FOR + dt.timedelta(seconds=1)
    monkeypatch.setattr(access.timezone, "now", lambda: later)
    page = client.get(reverse("enrollment:my-registrations"))
    assert page.status_code == 403 and "Please open your link again" in page.content.decode()


def test_another_patrons_session_reaches_nothing_of_mine(course):
    registration = mine(course)
    mine(course_with_meetings(title="Chess Club"), email="other@example.org")
    stranger = Client()
    stranger.get(reverse("enrollment:my-registrations-link", args=[manage_token("other@example.org")]))
    body = stranger.get(reverse("enrollment:my-registrations")).content.decode()
    assert "Chess Club" in body and "Bread Baking" not in body
    assert stranger.get(reverse("enrollment:registration-cancel", args=[registration.pk])).status_code == 404
    assert stranger.post(reverse("enrollment:registration-cancel", args=[registration.pk])).status_code == 404
    assert stranger.get(reverse("enrollment:order-confirmation", args=[registration.order.pk])).status_code == 403
    registration.refresh_from_db()
    assert registration.status == S.CONFIRMED


def test_following_a_link_gives_a_new_session_key(client, course):
    """A session key planted in the browser beforehand does not get the grant (no fixation)."""
    mine(course)
    client.get(reverse("enrollment:cart"))
    session = client.session
    session["planted"] = True
    session.save()
    before = session.session_key
    client.get(reverse("enrollment:my-registrations-link", args=[manage_token(EMAIL)]))
    assert client.session.session_key != before
    planted = Client()
    planted.cookies["sessionid"] = before
    assert planted.get(reverse("enrollment:my-registrations")).status_code == 403


def test_the_emails_carry_the_exchange_link(course):
    from enrollment.links import manage_url

    mine(course)
    url = manage_url(EMAIL)
    assert url.endswith(reverse("enrollment:my-registrations-link", args=[manage_token(EMAIL)]))


# --- an order's token ------------------------------------------------------------------------------

def test_checkout_goes_to_the_payment_page_without_the_token(client, course):
    add(client, course)
    response = place(client, filled(client, [("Alex", "Reader")]))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:pay", args=[order.pk])
    assert_no_secret(response["Location"], str(order.token))
    confirmation = client.get(reverse("enrollment:order-confirmation", args=[order.pk]))
    assert confirmation.status_code == 200
    assert str(order.token) not in confirmation.content.decode()


def test_the_order_token_is_exchanged_and_other_browsers_get_the_explanation(client, course):
    registration = mine(course)
    order = registration.order
    response = client.get(reverse("enrollment:order-confirmation-link", args=[order.token]))
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:order-confirmation", args=[order.pk])
    assert "no-store" in response["Cache-Control"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Bread Baking" in page.content.decode()
    assert "no-store" in page["Cache-Control"]

    other = Client()
    for url in (reverse("enrollment:order-confirmation", args=[order.pk]), reverse("finance:pay", args=[order.pk]),
                reverse("finance:payment-return", args=[order.pk]) + "?payment_intent=pi_123"):
        closed = other.get(url)
        assert closed.status_code == 403, url
        assert "Open your order from your e-mail" in closed.content.decode()
        assert "Bread Baking" not in closed.content.decode()
    confirm = other.post(reverse("finance:pay-local-confirm", args=[order.pk]),
                         {"payment_intent": "pi_123", "payment_method": "pm_123"})
    assert confirm.status_code == 403 and "timed out" in confirm.json()["error"]


def test_the_old_return_address_keeps_stripes_parameters(client, course):
    order = mine(course).order
    query = "payment_intent=pi_123&payment_intent_client_secret=pi_123_secret_x&redirect_status=succeeded"
    response = client.get(reverse("finance:payment-return-link", args=[order.token]) + "?" + query)
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:payment-return", args=[order.pk]) + "?" + query


def test_an_order_grant_runs_out(client, course, monkeypatch):
    order = mine(course).order
    client.get(reverse("enrollment:order-confirmation-link", args=[order.token]))
    later = timezone.now() + access.ORDER_FOR + dt.timedelta(seconds=1)
    monkeypatch.setattr(access.timezone, "now", lambda: later)
    assert client.get(reverse("enrollment:order-confirmation", args=[order.pk])).status_code == 403


def test_my_registrations_opens_the_orders_of_its_address_only(client, course):
    held = mine(course, status=S.HELD, expires_at=timezone.now() + dt.timedelta(minutes=10))
    theirs = mine(course, email="other@example.org")
    client.get(reverse("enrollment:my-registrations-link", args=[manage_token(EMAIL)]))
    body = client.get(reverse("enrollment:my-registrations")).content.decode()
    assert reverse("finance:pay", args=[held.order.pk]) in body and str(held.order.token) not in body
    assert client.get(reverse("enrollment:order-confirmation", args=[held.order.pk])).status_code == 200
    assert client.get(reverse("enrollment:order-confirmation", args=[theirs.order.pk])).status_code == 403
