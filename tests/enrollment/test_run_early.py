"""A class staff decided to run before its cutoff ("Run the class anyway") keeps taking
registrations, online and at the desk, until its cutoff; then the week-out run does what the
cutoff does for a running class (reminders, holds and the waitlist closed, the instructor's
roster) — once, without deciding the class again."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from classes import cutoff_words
from classes.models import Course
from core.models import OutboxMessage
from enrollment.models import CourseDecision, Order, Registration
from enrollment.services import (
    AttendeeInput,
    BuyerInput,
    order_place,
    registration_cancel,
    registrations_confirm_paid,
    seats,
)
from enrollment.services.errors import RegistrationClosed
from enrollment.services.weekout import course_decide, week_out_run
from enrollment.staff.forms.desk import course_label
from tests.enrollment.test_week_out import (  # noqa: F401 (fixtures)
    _no_broker,
    a_course,
    after_cutoff,
    keys,
    registrant,
    snapshot,
    week_out_templates,
)

pytestmark = pytest.mark.django_db

S = Registration.Status


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("coordinator", is_staff=True)


def buyer(first: str, *, email: str = "") -> BuyerInput:
    return BuyerInput(first_name=first, last_name="Patron", email=email or f"{first.lower()}@example.org",
                      phone="785-555-0142")


def attendee(course, first: str) -> AttendeeInput:
    return AttendeeInput(course_id=course.pk, first_name=first, last_name="Patron")


def run_early(course, staff, *, now):
    return course_decide(course_id=course.pk, now=now, actor=staff, force="run",
                         reason="A pilot class: we run it with a small group")


def test_a_class_run_anyway_before_its_cutoff_takes_registrations_until_the_cutoff(staff):
    course = a_course(minimum=4, capacity=10, fee=Decimal("30.00"))
    registrant(course)
    decided_at = after_cutoff(course, minutes=-3 * 24 * 60)

    decision = run_early(course, staff, now=decided_at)

    course.refresh_from_db()
    assert decision.created and course.status == Course.Status.RUNNING
    assert decision.completed_at is None  # what the cutoff does is still to come
    assert keys(template="reminder") == set() and keys(to=course.instructor.email) == set()

    # Online: a seat held at checkout, then paid and confirmed inside its hold.
    later = decided_at + dt.timedelta(hours=1)
    online = order_place(buyer=buyer("Robin"), attendees=[attendee(course, "Robin")], now=later)
    [held] = online.held
    assert held.expires_at <= Course.objects.get(pk=course.pk).registration_closes_at
    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=later + dt.timedelta(minutes=5))
    assert [r.pk for r in confirmed] == [held.pk] and lost == []
    # At the desk: confirmed at once, no override needed.
    desk = order_place(buyer=buyer("Casey"), attendees=[attendee(course, "Casey")], now=later,
                       channel=Order.Channel.DESK, confirm_now=True, actor=staff, actor_label="coordinator")
    assert [r.status for r in desk.confirmed] == [S.CONFIRMED]
    # Nothing said before the cutoff but the confirmations.
    assert keys(template="reminder") == set()

    # At the cutoff registration closes, as for any class.
    with pytest.raises(RegistrationClosed):
        order_place(buyer=buyer("Dana"), attendees=[attendee(course, "Dana")], now=after_cutoff(course, minutes=0))


def test_at_the_cutoff_the_week_out_run_closes_it_once_without_deciding_it_again(staff):
    course = a_course(minimum=3, capacity=3, fee=Decimal("30.00"))
    early = registrant(course)
    decided_at = after_cutoff(course, minutes=-3 * 24 * 60)
    decision = run_early(course, staff, now=decided_at)
    late = order_place(buyer=buyer("Robin"), attendees=[attendee(course, "Robin")], now=decided_at,
                       channel=Order.Channel.DESK, confirm_now=True).confirmed[0]
    held = order_place(buyer=buyer("Sky"), attendees=[attendee(course, "Sky")], now=decided_at).held[0]
    waiting = order_place(buyer=buyer("Lee"), attendees=[attendee(course, "Lee")], now=decided_at,
                          join_waitlist=True).waitlisted[0]
    run_at = after_cutoff(course)

    [line] = week_out_run(now=run_at)

    assert (line.course_id, line.outcome, line.decided, line.closed) == (course.pk, "running", False, True)
    assert line.text() == f"CLOSED {course.title} — decided earlier: runs (registration closed, reminders sent)"
    again = CourseDecision.objects.get(course=course)  # the one decision, as staff made it
    assert (again.pk, again.decided_at, again.automatic, again.decided_by, again.reason, again.confirmed_count) == (
        decision.pk, decided_at, False, staff, decision.reason, 1)
    assert again.completed_at == run_at
    # What the cutoff does for a running class: a reminder to each confirmed registrant (also
    # those who registered after the decision), the roster to the instructor, holds and the
    # waitlist closed.
    for registration in (early, late):
        assert keys(template="reminder", to=registration.order.email) == {f"reminder:{registration.pk}"}
    assert keys(to=course.instructor.email) == {f"instructor-roster:{course.pk}"}
    for registration, status in ((held, S.EXPIRED), (waiting, S.CANCELLED)):
        registration.refresh_from_db()
        assert registration.status == status
        assert registration.events.order_by("pk").last().actor_label == "week-out run"
    assert keys(to=waiting.order.email) == {f"waitlist-joined:{waiting.pk}", f"cancelled:{waiting.pk}"}

    # Nothing more, ever: the next runs, and a staff call, change nothing.
    before = snapshot()
    assert week_out_run(now=run_at + dt.timedelta(minutes=10)) == []
    assert course_decide(course_id=course.pk, now=run_at + dt.timedelta(hours=1)).created is False
    assert snapshot() == before
    assert OutboxMessage.objects.filter(template="reminder").count() == 2


def test_the_dry_run_and_the_command_say_what_the_cutoff_does_for_it(staff):
    course = a_course(minimum=4, title="Pilot Pottery")
    registrant(course)
    run_early(course, staff, now=after_cutoff(course, minutes=-24 * 60))
    at = f"{timezone.localtime(after_cutoff(course)):%Y-%m-%d %H:%M}"

    out = StringIO()
    call_command("week_out", "--dry-run", "--at", at, stdout=out)
    assert out.getvalue().splitlines() == ["CLOSE Pilot Pottery — decided earlier: runs (registration closes, "
                                           "reminders to send)"]
    assert keys(template="reminder") == set()
    out = StringIO()
    call_command("week_out", "--at", at, stdout=out)
    assert out.getvalue().splitlines() == ["CLOSED Pilot Pottery — decided earlier: runs (registration closed, "
                                           "reminders sent)"]


def test_a_seat_freed_before_the_cutoff_goes_to_its_waitlist(staff):
    course = a_course(minimum=1, capacity=1)
    seated = registrant(course)
    now = after_cutoff(course, minutes=-3 * 24 * 60)
    run_early(course, staff, now=now)
    waiting = order_place(buyer=buyer("Lee"), attendees=[attendee(course, "Lee")], now=now,
                          join_waitlist=True).waitlisted[0]

    registration_cancel(registration_id=seated.pk, now=now + dt.timedelta(minutes=1))

    waiting.refresh_from_db()
    assert waiting.status == S.OFFERED


def test_staff_run_anyway_after_the_cutoff_closes_registration_at_once(staff):
    """A class past its cutoff that the week-out run has not reached yet: deciding it is the cutoff's work."""
    course = a_course(minimum=4)
    patron = registrant(course)
    now = after_cutoff(course, minutes=1)
    decision = run_early(course, staff, now=now)
    assert decision.completed_at == now
    assert keys(to=patron.order.email) == {f"reminder:{patron.pk}"}
    assert week_out_run(now=now + dt.timedelta(minutes=10)) == []


def test_the_catalog_and_the_desk_offer_it_until_the_cutoff(client, staff):
    course = a_course(minimum=4, capacity=10, title="Pilot Pottery")
    registrant(course)
    run_early(course, staff, now=timezone.now())
    course = Course.objects.get(pk=course.pk)

    page = client.get(course.get_absolute_url()).content.decode()
    assert "Running." in page and ">Register</button>" in page
    by = cutoff_words.register_by(course)  # "Register by …", the cutoff's one wording
    assert by.startswith("Register by ") and by in page
    home = client.get(reverse("classes:home")).content.decode()
    card = home[home.index("Pilot Pottery"):]
    card = card[: card.index("</article>")]
    assert "Running" in card and "9 seats left" in card and "Register<span" in card
    with_seats = client.get(reverse("classes:home"), {"has_seats": "on"}).context["courses"]
    assert [c.pk for c in with_seats] == [course.pk]
    # The desk's class list says it runs, and not that it needs an override.
    label = course_label(seats.courses_lock([course.pk])[course.pk], now=timezone.now())
    assert "running" in label and "registration closed" not in label

    after = after_cutoff(course)
    assert "registration closed" in course_label(Course.objects.get(pk=course.pk), now=after)


def test_the_week_out_page_says_registration_stays_open_until_the_cutoff(staff_client):
    course = a_course(minimum=4)
    run_early(course, staff_client.user, now=timezone.now())
    html = staff_client.get(reverse("weekout:index")).content.decode()
    recent = html[html.index('id="recent-decisions"'):]
    assert "Registration stays open until the cutoff" in recent and "In progress" not in recent
