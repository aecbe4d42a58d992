"""Money words follow the money (issue 10 §1): every page and message that speaks of a refund
says how each refund comes back by the method of the payment it returns — card (back to the
card), cash or check (paid back by the library) — never from the order's channel; a Pass the Buck
share is never told to the patron as their money; and the timing sentence is the same everywhere
(``finance.refund_words.TIMING``).

Each case is paid one way: by card online, in cash or by check at the desk, in cash on an
*online* order (what the demo seeded: the old wording said "back to the card"), and half by the
fund, half by card."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage, SiteOptions
from enrollment.links import manage_token
from enrollment.models import CallListEntry, Order, Registration
from enrollment.services import registration_cancel
from enrollment.services.weekout import course_decide, refund_reason
from enrollment.tasks import refunds_settle_for
from finance.models import Payment, Refund
from finance.refund_words import TIMING
from finance.services import payment_confirm, payment_start, refund_mark_issued, refunds_settle
from finance.services.checkout import checkout_place
from finance.services.offline import desk_receipt_queue, desk_register, order_receipt
from tests.factories import course_with_meetings

from .scholarship_helpers import buyer, donate, install_fake_stripe, seat

pytestmark = pytest.mark.django_db

P = Payment.Provider
D = Decimal
EMAIL = "jordan@example.org"
CARD_WORDS = "$25.00 goes back to the card you paid with."
WORDS = {
    "card": (CARD_WORDS, TIMING["card"]),
    "cash": ("$25.00 you paid in cash is paid back by the library.", TIMING["library"]),
    "check": ("$25.00 you paid by check is paid back by the library.", TIMING["library"]),
    "online-cash": ("$25.00 you paid in cash is paid back by the library.", TIMING["library"]),
    "scholarship-card": ("$12.50 goes back to the card you paid with.", TIMING["card"]),
}
CASES = list(WORDS)


@pytest.fixture(autouse=True)
def _site():
    SiteOptions.current()


@pytest.fixture
def fake_stripe(monkeypatch):
    return install_fake_stripe(monkeypatch)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("desk", first_name="Desk", last_name="Clerk")


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=D("25.00"), capacity=8, minimum=4)


def paid(case: str, course, *, fake_stripe, staff, now) -> Registration:
    """A confirmed $25.00 seat, paid as ``case`` says."""
    if case in ("cash", "check", "online-cash"):
        result = desk_register(buyer=buyer(EMAIL), attendees=[seat(course, scholarship=False)],
                               provider=P.CHECK if case == "check" else P.CASH,
                               reference="1047" if case == "check" else "", actor=staff, now=now)
        if case == "online-cash":  # an online order paid in cash (what the demo seeded)
            Order.objects.filter(pk=result.order.pk).update(channel=Order.Channel.ONLINE)
        return Registration.objects.get(pk=result.registrations[0].pk)
    if case == "scholarship-card":
        donate("12.50")
    placed = checkout_place(buyer=buyer(EMAIL), attendees=[seat(course, scholarship=case == "scholarship-card")],
                            now=now)
    payment, _ = payment_start(order=placed.registrations[0].order, now=now)
    fake_stripe.intents[payment.reference].status = "succeeded"
    payment_confirm(payment_intent_id=payment.reference, now=now)
    registration = Registration.objects.get(pk=placed.registrations[0].pk)
    assert registration.status == Registration.Status.CONFIRMED and registration.order.channel == "online", case
    return registration


def says(body: str, case: str) -> None:
    how, timing = WORDS[case]
    assert how in body, (case, body)
    assert timing in body, (case, body)
    other = TIMING["library"] if timing == TIMING["card"] else TIMING["card"]
    assert other not in body, (case, body)
    if case != "card" and case != "scholarship-card":
        assert "back to the card" not in body, (case, body)
    if case == "scholarship-card":  # the fund's half is not the patron's money
        lowered = body.lower()
        assert "$25.00" not in body and "scholarship" not in lowered and "pass the buck" not in lowered, body


def body(template: str) -> str:
    message = OutboxMessage.objects.get(template=template)
    return message.body_text + message.body_html


@pytest.mark.parametrize("case", CASES)
def test_the_class_cancelled_email_and_call_script_say_how_each_refund_comes_back(case, course, fake_stripe,
                                                                                   staff):
    now = timezone.now()
    registration = paid(case, course, fake_stripe=fake_stripe, staff=staff, now=now)
    decision = course_decide(course_id=course.pk, now=now, actor=staff, force="cancel", reason="The oven broke")
    refunds_settle_for(decision.settle_ids, reason=refund_reason(decision), now=now)
    says(body("course_cancelled"), case)

    # Without an e-mail address: the call script says how, never how much.
    OutboxMessage.objects.all().delete()
    registration = Registration.objects.select_related("course", "order").get(pk=registration.pk)
    registration.order.email = ""
    registration.order.save()
    CallListEntry.objects.all().delete()
    from finance.selectors import registration_refund_note
    from finance.services.notices import queue_cancellation

    queue_cancellation(registration, registration_refund_note(registration, cause="cancel"))
    script = CallListEntry.objects.get(registration=registration).script
    assert "$" not in script
    assert ("back on the card they paid with" in script) == (case in ("card", "scholarship-card")), script
    assert ("the library pays it back" in script) == (case in ("cash", "check", "online-cash")), script


@pytest.mark.parametrize("case", CASES)
def test_the_registration_cancelled_email_says_how_each_refund_comes_back(case, course, fake_stripe, staff):
    now = timezone.now()
    registration = paid(case, course, fake_stripe=fake_stripe, staff=staff, now=now)
    registration_cancel(registration_id=registration.pk, now=now)
    assert not OutboxMessage.objects.filter(template="registration_cancelled").exists()  # finance says it
    refunds_settle(registration_id=registration.pk, now=now)
    says(body("registration_cancelled"), case)
    refunds_settle(registration_id=registration.pk, now=now)  # twice: still one message
    assert OutboxMessage.objects.filter(template="registration_cancelled").count() == 1


@pytest.mark.parametrize("case", CASES)
def test_the_refund_issued_email_says_how_the_refund_came_back(case, course, fake_stripe, staff,
                                                               django_capture_on_commit_callbacks):
    now = timezone.now()
    registration = paid(case, course, fake_stripe=fake_stripe, staff=staff, now=now)
    registration_cancel(registration_id=registration.pk, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        (refund,) = refunds_settle(registration_id=registration.pk, now=now)
    if refund.payment.provider != P.CARD:
        refund_mark_issued(refund_id=refund.pk, reference="2210", actor=staff, now=now)
    text = body("refund_issued")
    amount = "$12.50" if case == "scholarship-card" else "$25.00"
    if case in ("card", "scholarship-card"):
        assert f"We have refunded {amount} to the card you paid with." in text
        assert TIMING["card"] in text
    else:
        assert f"The library has issued your refund of {amount}" in text and "card" not in text.lower()
    if case == "scholarship-card":
        assert "$25.00" not in text and "scholarship" not in text.lower()


@pytest.mark.parametrize("case", CASES)
def test_the_cancel_page_says_how_the_refund_would_come_back(case, course, fake_stripe, staff, client):
    now = timezone.now()
    registration = paid(case, course, fake_stripe=fake_stripe, staff=staff, now=now)
    url = reverse("enrollment:registration-cancel-link", args=[manage_token(EMAIL), registration.pk])
    page = client.get(url, follow=True).content.decode().replace("&#x27;", "'")
    section = page[page.index('id="refund-heading"'):]
    says(section[:section.index("</section>")], case)
    assert not Refund.objects.exists()  # a preview only


@pytest.mark.parametrize("case", CASES)
def test_my_registrations_and_the_desk_receipt_say_how_each_refund_comes_back(case, course, fake_stripe, staff,
                                                                              client):
    now = timezone.now()
    registration = paid(case, course, fake_stripe=fake_stripe, staff=staff, now=now)
    registration_cancel(registration_id=registration.pk, now=now)
    refunds_settle(registration_id=registration.pk, now=now)
    amount = "$12.50" if case == "scholarship-card" else "$25.00"
    by_card = case in ("card", "scholarship-card")

    page = client.get(reverse("enrollment:my-registrations-link", args=[manage_token(EMAIL)]), follow=True)
    html = page.content.decode().replace("&#x27;", "'")
    status = "on its way back to your card" if by_card else "to be paid back by the library"
    assert f"Refund of {amount}: {status}." in html
    assert TIMING["card" if by_card else "library"] in html

    receipt = render_to_string("staff/desk/_receipt_body.html", {"receipt": order_receipt(registration.order)})
    label = "Refund to card (on its way)" if by_card else "Refund by the library, check or cash (to issue)"
    assert label in receipt
    desk_receipt_queue(order=registration.order, now=now + dt.timedelta(minutes=1))
    text = OutboxMessage.objects.get(template="desk_receipt").body_text
    assert f"{label}: -{amount}" in text
    assert TIMING["card" if by_card else "library"] in text


def test_one_timing_sentence_for_card_refunds_on_every_page_and_message():
    """The card timing is one sentence, and the old two ("a few business days" on the page,
    "5 to 10 business days" in the e-mails, each worded its own way) are gone from templates."""
    import pathlib

    from django.conf import settings

    root = pathlib.Path(settings.BASE_DIR) / "templates"
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "a few business days" not in text, path
            assert "usually shows on your statement" not in text, path
