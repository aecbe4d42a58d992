"""The "your class changed" e-mail, the call script and the instructor's note, rendered through
``enrollment.services.course_changes`` with realistic objects; and later reminders carrying the
new details."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from classes.changes import course_changes, course_state
from classes.models import Course, Meeting
from core.models import OutboxMessage
from enrollment.models import CallListEntry, Order, Registration
from enrollment.services.course_changes import course_change_notify
from enrollment.services.weekout import course_decide, week_out_run
from tests.enrollment.mail_checks import both, only_message, parts, site  # noqa: F401  (site: autouse fixture)
from tests.factories import (
    InstructorFactory,
    OrderFactory,
    RegistrationFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
)

pytestmark = pytest.mark.django_db
S = Registration.Status

# Tuesday March 5, 2030 (CST) and Tuesday March 12 (CDT, after the switch on March 10), 6:30 pm.
FIRST = dt.date(2030, 3, 5)


@pytest.fixture
def course():
    venue = VenueFactory(name="Community Kitchen", street_address="125 S 7th St", city="Salina", postal_code="67401")
    return course_with_meetings(
        first=local_dt(FIRST, 18, 30), weekly=2, minutes=90, title="Bread & Butter's Basics", venue=venue,
        fee=Decimal("45.00"), capacity=10, minimum=2,
        instructor=InstructorFactory(first_name="Maria", last_name="Lopez", email="maria.lopez@example.org"),
    )


def change(course, edit):
    """Apply ``edit`` to the saved course, then tell people, as the back office does."""
    before = course_state(course.pk)
    edit()
    changes = course_changes(before, course_state(course.pk))
    return course_change_notify(course_id=course.pk, changes=changes)


def move_second_meeting(course, *, to_day: dt.date, hour: int, minute: int = 0):
    second = course.ordered_meetings()[1]
    start = local_dt(to_day, hour, minute)
    return lambda: Meeting.objects.filter(pk=second.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=2))


def test_the_changed_email_holds_every_fact_in_html_and_text(course):
    order = OrderFactory(first_name="Dana", email="dana@example.org")
    RegistrationFactory(course=course, order=order, attendee_first_name="Sam", attendee_last_name="Whitfield")
    notice = change(course, move_second_meeting(course, to_day=dt.date(2030, 3, 14), hour=18))

    assert notice.revision == 1 and notice.audience.count == 1 and notice.instructor_told
    message = only_message("course_changed")
    text, html = parts(message)
    assert message.subject == "Change to your class: Bread & Butter's Basics"
    both(text, html, "Hello Dana")
    both(text, html, "The meeting on Tuesday, March 12, 6:30 PM to 8:00 PM moves to Thursday, March 14, "
                     "6:00 PM to 8:00 PM.")
    both(text, html, "Sam Whitfield is registered.")
    # the class as it is now, in local time either side of daylight saving time
    both(text, html, "Tuesday, March 5, 2030, 6:30 PM to 8:00 PM CST")
    both(text, html, "Thursday, March 14, 2030, 6:00 PM to 8:00 PM CDT")
    both(text, html, "125 S 7th St, Salina, KS 67401")
    assert "/my/" in text  # the patron's own link
    assert "What you pay" not in text


def test_the_instructor_is_told_what_changed_and_who_knows(course):
    registrant = RegistrationFactory(course=course)
    RegistrationFactory(course=course, order=OrderFactory(email="", channel=Order.Channel.DESK))
    change(course, move_second_meeting(course, to_day=dt.date(2030, 3, 12), hour=19))
    message = only_message("instructor_course_changed")
    text, html = parts(message)
    assert message.to == "maria.lopez@example.org"
    both(text, html, "Hello Maria")
    both(text, html, "The meeting on Tuesday, March 12 now runs 7:00 PM to 9:00 PM (it was 6:30 PM to 8:00 PM).")
    both(text, html, "1 registrant is told by e-mail, and library staff phone 1 without e-mail.")
    assert registrant.attendee_last_name not in text and registrant.order.email not in text  # counts, not people


def test_each_patron_keeps_their_own_price_when_the_fee_changes(course):
    early = RegistrationFactory(course=course, price=Decimal("40.00"), order=OrderFactory(email="early@example.org"))
    waiting = RegistrationFactory(course=course, status=S.WAITLISTED, confirmed_at=None,
                                  order=OrderFactory(email="wait@example.org"))
    desk = RegistrationFactory(course=course, order=OrderFactory(email="", channel=Order.Channel.DESK))
    change(course, lambda: Course.objects.filter(pk=course.pk).update(fee=Decimal("60.00")))

    text, html = parts(OutboxMessage.objects.get(template="course_changed", to="early@example.org"))
    both(text, html, "The fee for new registrations is now $60.00 (it was $45.00).")
    both(text, html, f"What you pay for {early.attendee_name} does not change: $40.00.")
    text, _ = parts(OutboxMessage.objects.get(template="course_changed", to="wait@example.org"))
    assert f"{waiting.attendee_name} is on the waitlist; their place in line is kept." in text
    assert f"If a seat opens for {waiting.attendee_name}, it is still $45.00." in text
    assert Registration.objects.get(pk=early.pk).price == Decimal("40.00")
    script = CallListEntry.objects.get(registration=desk, topic=CallListEntry.Topic.CHANGE).script
    assert "what they pay does not change" in script and "$" not in script


def test_an_offered_seat_is_told_its_offer_still_stands(course):
    expires = local_dt(dt.date(2030, 3, 1), 9)
    offered = RegistrationFactory(course=course, status=S.OFFERED, expires_at=expires, confirmed_at=None)
    change(course, move_second_meeting(course, to_day=dt.date(2030, 3, 12), hour=19))
    text, _ = parts(only_message("course_changed"))
    assert (f"{offered.attendee_name} is offered a seat until Friday, March 1 at 9:00 AM; the link in the offer "
            "still works.") in text


def test_nobody_is_told_about_a_cancelled_course_or_a_change_they_would_not_see(course):
    RegistrationFactory(course=course)
    notice = change(course, lambda: Course.objects.filter(pk=course.pk).update(description="New words.",
                                                                                capacity=8))
    assert notice.revision == 0 and not OutboxMessage.objects.exists()
    Course.objects.filter(pk=course.pk).update(status=Course.Status.CANCELLED)
    notice = change(course, move_second_meeting(course, to_day=dt.date(2030, 3, 12), hour=19))
    assert notice.revision == 1 and notice.audience.count == 0
    assert not OutboxMessage.objects.exists() and not CallListEntry.objects.exists()


def test_a_reminder_after_a_change_carries_the_new_time_and_place(course):
    for _ in range(2):
        RegistrationFactory(course=course)
    desk = RegistrationFactory(course=course, order=OrderFactory(email="", channel=Order.Channel.DESK))
    hall = VenueFactory(name="Grange Hall", street_address="9 Oak Ave", city="Salina", postal_code="67401")
    first = course.ordered_meetings()[0]

    def edit():
        Course.objects.filter(pk=course.pk).update(venue=hall)
        start = local_dt(FIRST, 19)
        Meeting.objects.filter(pk=first.pk).update(starts_at=start, ends_at=start + dt.timedelta(minutes=90))

    change(course, edit)
    course_decide(course_id=course.pk, force="run", reason="enough interest", now=timezone.now())
    # Run before its cutoff, the class is reminded at the cutoff (issue 10): the week-out run then.
    week_out_run(now=Course.objects.get(pk=course.pk).registration_closes_at + dt.timedelta(minutes=1))

    reminders = OutboxMessage.objects.filter(template="reminder")
    assert reminders.count() == 2
    for reminder in reminders:
        assert reminder.subject.endswith("starts Tuesday, March 5 at 7:00 PM")
        assert "Where: Grange Hall" in reminder.body_text and "9 Oak Ave, Salina, KS 67401" in reminder.body_text
        assert "Community Kitchen" not in reminder.body_text
    call = CallListEntry.objects.get(registration=desk, topic=CallListEntry.Topic.REMINDER)
    assert "Tuesday, March 5 at 7:00 PM" in call.script and "Grange Hall" in call.script
