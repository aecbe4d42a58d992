"""One way to state the cutoff (issue 10 §1): registration closes at local midnight a week before
the first meeting's day, and patrons are told only the last day, inclusive — "Register by Wed,
Dec 9" and "Cancel by Wed, Dec 9 for a full refund" — on the course page and card, the
confirmation page and e-mail, the cancel page, the nudges, the desk (its class list and its
receipt) and the call list (``classes.cutoff_words``). The closing day itself ("Thu, Dec 10") is
never what a patron reads."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from classes import cutoff_words
from core.models import OutboxMessage, SiteOptions
from enrollment import messages
from enrollment.links import manage_token
from enrollment.models import CallListEntry, Order
from enrollment.staff.forms.desk import course_label
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db


def short(day: dt.date) -> str:
    return f"{day:%a, %b} {day.day}"


def long(day: dt.date) -> str:
    return f"{day:%A, %B} {day.day}"


@pytest.fixture(autouse=True)
def _site():
    SiteOptions.current()


@pytest.fixture
def first_day():
    return today() + dt.timedelta(days=24)


@pytest.fixture
def course(first_day):
    return course_with_meetings(first=local_dt(first_day, 18, 30), title="Bread Baking", fee=Decimal("25.00"),
                                minimum=4, capacity=10)


def last_and_closing(first_day) -> tuple[dt.date, dt.date]:
    return first_day - dt.timedelta(days=8), first_day - dt.timedelta(days=7)


def check(text: str, first_day, *, wording: str) -> None:
    last, closing = last_and_closing(first_day)
    assert wording.format(day=short(last)) in text, text
    for said in (short(closing), long(closing), f"{closing:%b} {closing.day}"):
        assert said not in text, (said, text)
    assert "registration closes" not in text.lower(), text


def test_the_helper_says_the_last_day_inclusive(course, first_day):
    last, _closing = last_and_closing(first_day)
    assert timezone.localtime(course.registration_closes_at).date() == last + dt.timedelta(days=1)
    assert cutoff_words.register_by(course) == f"Register by {short(last)}"
    assert cutoff_words.cancel_by(course) == f"Cancel by {short(last)} for a full refund"


def test_the_course_page_says_register_by_the_last_day(client, course, first_day):
    body = client.get(course.get_absolute_url()).content.decode()
    check(body, first_day, wording="Register by {day}")


def test_the_confirmation_page_and_email_say_cancel_by_the_last_day(client, course, first_day):
    registration = RegistrationFactory(course=course, order=OrderFactory(email="jordan@example.org"))
    body = client.get(reverse("enrollment:order-confirmation-link", args=[registration.order.token]), follow=True).content.decode()
    check(body, first_day, wording="Cancel by {day} for a full refund")
    messages.queue_confirmation(registration.order, [registration])
    message = OutboxMessage.objects.get(template="registration_confirmed")
    check(message.body_text, first_day, wording="Cancel by {day} for a full refund.")
    check(message.body_html, first_day, wording="Cancel by {day} for a full refund.")


def test_the_cancel_page_says_cancel_by_the_last_day(client, course, first_day, django_user_model):
    from finance.models import Payment
    from finance.services.offline import desk_register
    from tests.finance.scholarship_helpers import buyer, seat

    clerk = django_user_model.objects.create_user("desk")
    registration = desk_register(buyer=buyer("jordan@example.org"), attendees=[seat(course, scholarship=False)],
                                 provider=Payment.Provider.CASH, actor=clerk).registrations[0]
    url = reverse("enrollment:registration-cancel-link", args=[manage_token("jordan@example.org"), registration.pk])
    body = client.get(url, follow=True).content.decode()
    check(body, first_day, wording="Cancel by {day} for a full refund")


def test_the_nudges_and_the_call_list_say_register_by_the_last_day(course, first_day):
    registration = RegistrationFactory(course=course, order=OrderFactory(email="jordan@example.org"))
    messages.queue_nudge(registration, 3)
    messages.queue_instructor_nudge(course, 3)
    for template in ("nudge", "instructor_nudge"):
        message = OutboxMessage.objects.get(template=template)
        check(message.body_text, first_day, wording="to register by {day}.")
        check(message.body_html, first_day, wording="register by {day}.")
    phone = RegistrationFactory(course=course, order=OrderFactory(email="", channel=Order.Channel.DESK))
    script = messages.call_script(phone, CallListEntry.Topic.NUDGE, needed=3)
    check(script, first_day, wording="to register by {day} or it will be cancelled.")


def test_the_desk_says_register_by_and_its_receipt_cancel_by_the_last_day(course, first_day, django_user_model):
    from finance.models import Payment
    from finance.services.offline import desk_receipt_queue, desk_register
    from tests.finance.scholarship_helpers import buyer, seat

    check(course_label(course, now=timezone.now()), first_day, wording="Register by {day}")
    clerk = django_user_model.objects.create_user("desk")
    result = desk_register(buyer=buyer(), attendees=[seat(course, scholarship=False)], provider=Payment.Provider.CASH,
                           actor=clerk)
    desk_receipt_queue(order=result.order)
    message = OutboxMessage.objects.get(template="desk_receipt")
    check(message.body_text, first_day, wording="Bread Baking: Cancel by {day} for a full refund.")
    check(message.body_html, first_day, wording="Bread Baking: Cancel by {day} for a full refund.")
