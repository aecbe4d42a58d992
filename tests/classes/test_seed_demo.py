"""The demo semester loader: realistic, idempotent, and a schedule that breaks no rule.

Seeding takes about a second, so it runs once for the module (inside a transaction rolled back
at the end); each test then runs in its own savepoint on top of it.
"""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from classes.management.demo import data as demo_data
from classes.management.demo.courses import catalog_fee, semester_name
from classes.models import Category, Course, Instructor, Meeting, Semester, Venue
from classes.selectors import MeetingDraft, meeting_problems
from core.models import SiteOptions
from enrollment.models import Registration
from finance.pricing import course_budget

pytestmark = pytest.mark.django_db

MODELS = [SiteOptions, Semester, Category, Venue, Instructor, Course, Meeting, Registration]


def counts() -> dict[str, int]:
    counted = {model.__name__: model.objects.count() for model in MODELS}
    counted["confirmed"] = Registration.objects.filter(status=Registration.Status.CONFIRMED).count()
    return counted


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module; returns the printed summary and the row counts."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        out = StringIO()
        call_command("seed_demo", stdout=out)
        first = counts()
    yield {"output": out.getvalue(), "counts": first}
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def semester(seeded):
    """The demo's current semester (the next one is ``next_semester``)."""
    return Semester.objects.get(courses__slug=demo_data.COURSES[0].slug)


@pytest.fixture
def next_semester(seeded):
    from classes.management.demo.next_semester import NEXT_COURSES

    return Semester.objects.get(courses__slug=NEXT_COURSES[0].slug)


@pytest.fixture
def courses(semester):
    return list(
        Course.objects.filter(semester=semester)
        .select_related("semester", "venue", "instructor")
        .prefetch_related("meetings")
    )


def test_running_twice_changes_no_counts(seeded):
    call_command("seed_demo", stdout=StringIO())
    assert counts() == seeded["counts"]


def test_running_on_a_later_day_moves_the_semester_and_keeps_counts(seeded):
    from classes.management.demo.seed import seed_demo

    later = timezone.now() + dt.timedelta(days=75)
    seed_demo(now=later)  # raises CommandError if the moved schedule broke a rule
    assert counts()["Course"] == seeded["counts"]["Course"]
    assert counts()["Meeting"] == seeded["counts"]["Meeting"]
    assert Semester.objects.count() == 2  # the current semester and the next, moved along
    current = Semester.objects.get(courses__slug=demo_data.COURSES[0].slug)
    from classes.management.demo.next_semester import NEXT_COURSES

    upcoming = Semester.objects.get(courses__slug=NEXT_COURSES[0].slug)
    assert current.starts_on == timezone.localdate(later) - dt.timedelta(days=35)
    assert upcoming.starts_on > current.ends_on and upcoming.slug != current.slug
    for course in Course.objects.annotate(n=Count("registrations", filter=Q(registrations__status="confirmed"))):
        assert course.n <= course.capacity


def test_summary_prints_counts_not_people(seeded):
    out = seeded["output"]
    assert "courses: 59" in out
    assert "confirmed registrations:" in out
    for first in demo_data.ATTENDEE_FIRST_NAMES:
        assert first not in out
    assert "@" not in out


def test_site_options_are_the_demo_library(seeded):
    options = SiteOptions.current()
    assert options.library_name == "Prairie City Public Library"
    assert options.program_name == "Library Classes"
    assert options.phone and options.email and options.street_address


def test_semester_is_relative_to_today(semester):
    today = timezone.localdate()
    assert semester.starts_on == today - dt.timedelta(days=35)
    assert semester.ends_on == today + dt.timedelta(days=84)
    assert timezone.localtime(semester.registration_opens_at).date() == today - dt.timedelta(days=42)
    assert semester.cutoff_days == 7
    assert semester.is_published


def test_size_and_variety(semester, courses):
    assert len(courses) >= 55
    assert Category.objects.filter(courses__semester=semester).distinct().count() >= 8
    venues = Venue.objects.filter(courses__semester=semester).distinct()
    assert venues.count() >= 6
    assert venues.filter(kind=Venue.Kind.LIBRARY_ROOM).count() >= 2
    assert venues.filter(room_fee_terms=Venue.RoomFee.PER_HOUR, room_fee_rate__gt=0).exists()
    assert venues.filter(room_fee_terms=Venue.RoomFee.PER_MEETING, room_fee_rate__gt=0).exists()
    assert venues.filter(room_fee_terms=Venue.RoomFee.NONE, kind=Venue.Kind.OUTSIDE).exists()
    for venue in venues:
        assert venue.postal_code == "67401" and venue.city == "Salina"
        assert abs(venue.latitude - Decimal("38.84")) < Decimal("0.05")
        assert abs(venue.longitude - Decimal("-97.61")) < Decimal("0.05")
        assert venue.accessibility_notes and venue.parking_notes
    instructors = Instructor.objects.filter(courses__semester=semester).distinct()
    assert instructors.count() >= 15
    assert instructors.filter(pay_basis=Instructor.PayBasis.VOLUNTEER).exists()
    assert instructors.filter(is_library_staff=True).exists()
    assert all(i.email.endswith("@example.org") and i.bio for i in instructors)

    meeting_counts = {len(c.meetings.all()) for c in courses}
    assert 1 in meeting_counts and 6 in meeting_counts and max(meeting_counts) == 6
    for course in courses:
        for meeting in course.meetings.all():
            minutes = (meeting.ends_at - meeting.starts_at) / dt.timedelta(minutes=1)
            assert 75 <= minutes <= 180
    audiences = {c.audience for c in courses}
    assert {Course.Audience.KIDS, Course.Audience.FAMILY, Course.Audience.TEENS} <= audiences
    for course in courses:
        if course.audience in (Course.Audience.KIDS, Course.Audience.TEENS):
            assert course.age_min is not None and course.age_max is not None
    assert sum(c.fee == 0 for c in courses) >= 3
    assert 1 <= sum(c.status == Course.Status.DRAFT for c in courses) <= 3
    for course in courses:
        assert course.minimum <= course.capacity <= course.venue.capacity
        course.full_clean()


def test_fees_come_from_the_budget(courses):
    by_slug = {spec.slug: spec for spec in demo_data.COURSES}
    from_budget = [c for c in courses if by_slug[c.slug].price == "budget"]
    assert len(from_budget) >= 40
    for course in from_budget:
        suggested = course_budget(course).suggested_fee
        assert course.fee == catalog_fee(suggested)
        assert suggested <= course.fee < suggested + 5
    # A few are priced off the budget, so the budget panel has something to show.
    assert any(c.fee and c.fee < course_budget(c).suggested_fee for c in courses)


def test_cutoff_spread(courses):
    now = timezone.now()
    days_to_cutoff = [(c.registration_closes_at - now) / dt.timedelta(days=1) for c in courses]
    assert sum(d <= 0 for d in days_to_cutoff) >= 5
    assert sum(0 < d <= 4 for d in days_to_cutoff) >= 4
    assert sum(d >= 21 for d in days_to_cutoff) >= 20
    # Some were already held earlier in the semester.
    held = [c for c in courses if c.first_start < now]
    assert len(held) >= 3


def test_statuses_follow_the_calendar(courses):
    """Courses already held are history (completed); courses under way were decided at their
    cutoff (running, or cancelled and refunded); every other course is open — those past their
    cutoff wait for the week-out run, which decides them (next test)."""
    from enrollment.models import CourseDecision

    now = timezone.now()
    under_way = 0
    for course in courses:
        meetings = course.ordered_meetings()
        if course.status == Course.Status.DRAFT:
            assert not course.is_past_cutoff(now)
        elif meetings[-1].ends_at <= now:
            assert course.status == Course.Status.COMPLETED
        elif meetings[0].starts_at <= now:
            under_way += 1
            decision = CourseDecision.objects.get(course=course)
            runs = decision.confirmed_count >= course.minimum
            assert course.status == decision.outcome == (Course.Status.RUNNING if runs else Course.Status.CANCELLED)
        else:
            assert course.status == Course.Status.OPEN
    assert under_way >= 2
    assert sum(1 for c in courses if c.status == Course.Status.OPEN and c.is_past_cutoff(now)) >= 3


def test_the_week_out_run_decides_the_demo_and_a_second_seed_keeps_its_decisions(courses):
    from django.core.management import call_command

    from enrollment.models import CallListEntry, CourseDecision
    from enrollment.services.weekout import week_out_run

    now = timezone.now()
    due = [c for c in courses if c.status == Course.Status.OPEN and c.is_past_cutoff(now)]
    history = set(CourseDecision.objects.values_list("course_id", flat=True))  # under way when seeded
    lines = week_out_run(now=now)
    assert len(lines) == len(due)
    decided = {d.course_id: d.outcome for d in CourseDecision.objects.exclude(course_id__in=history)}
    assert set(decided) == {c.pk for c in due}
    assert "cancelled" in decided.values() and "running" in decided.values()
    assert CallListEntry.objects.exists()  # demo patrons without e-mail
    call_command("seed_demo", stdout=__import__("io").StringIO())
    for course in Course.objects.filter(pk__in=decided):
        assert course.status == decided[course.pk]


def test_schedule_breaks_no_rule(semester, courses):
    for course in courses:
        drafts = [
            MeetingDraft(key=m.pk, starts_at=m.starts_at, ends_at=m.ends_at, venue=m.venue, pk=m.pk)
            for m in course.meetings.all()
        ]
        assert meeting_problems(course=course, drafts=drafts) == [], course.slug
        for meeting in course.meetings.all():
            assert semester.contains(meeting.starts_at) and semester.contains(meeting.ends_at)


def test_no_outside_venue_is_double_booked_either(courses):
    """meeting_problems only guards library rooms; the demo keeps outside venues clash-free too."""
    outside = set(Venue.objects.exclude(kind=Venue.Kind.LIBRARY_ROOM).values_list("pk", flat=True))
    meetings = [(m.starts_at, m.ends_at, (m.venue or c.venue).pk, c.pk) for c in courses for m in c.meetings.all()
                if (m.venue or c.venue).pk in outside]
    compared = 0
    for i, (start, end, venue, course) in enumerate(meetings):
        for other_start, other_end, other_venue, other_course in meetings[i + 1 :]:
            if venue == other_venue and course != other_course:
                compared += 1
                assert not (start < other_end and other_start < end)
    assert compared > 0  # outside venues host several courses, so the check above compared something


def test_registrations_vary_and_never_exceed_capacity(courses):
    open_courses = [c for c in courses if c.status == Course.Status.OPEN]
    confirmed = {c.pk: c.registrations.filter(status=Registration.Status.CONFIRMED).count() for c in courses}
    for course in courses:
        assert confirmed[course.pk] <= course.capacity
    assert sum(confirmed[c.pk] == c.capacity for c in open_courses) >= 3
    assert sum(0 < confirmed[c.pk] < c.minimum for c in open_courses) >= 5
    assert sum(c.minimum <= confirmed[c.pk] < c.capacity for c in open_courses) >= 5
    assert Registration.objects.filter(status=Registration.Status.CONFIRMED).count() >= 300


def test_the_next_semester_is_published_with_registration_open_and_in_the_catalog(semester, next_semester, client):
    from classes.management.demo.next_semester import NEXT_COURSES
    from classes.selectors import semesters_visible

    now = timezone.now()
    assert next_semester.is_published and next_semester.registration_is_open(now)
    assert next_semester.starts_on > semester.ends_on
    assert semesters_visible(now=now) == [semester, next_semester]
    upcoming = list(next_semester.courses.prefetch_related("meetings"))
    assert len(upcoming) == len(NEXT_COURSES) >= 6
    for course in upcoming:
        assert course.status == Course.Status.OPEN and not course.is_past_cutoff(now)
        assert course.registrations.filter(status=Registration.Status.CONFIRMED).count() <= course.capacity
    # The catalog: the current semester first, the next a click away, a search covering both.
    home = client.get("/").content.decode()
    assert f"<h1>{semester.name} classes</h1>" in home and f"?semester={next_semester.slug}" in home
    response = client.get("/", {"semester": next_semester.slug})
    assert sorted(c.title for c in response.context["courses"]) == sorted(spec.title for spec in NEXT_COURSES)
    body = response.content.decode()
    for course in upcoming:  # each with its Register button
        assert f'name="course" value="{course.pk}"' in body
    found = {c.title for c in client.get("/", {"q": "sourdough"}).context["courses"]}
    assert found == {"Sourdough from Scratch", "Sourdough: Next Steps"}


def test_catalog_fee_and_semester_name():
    assert catalog_fee(Decimal("27.00")) == Decimal("30.00")
    assert catalog_fee(Decimal("30.00")) == Decimal("30.00")
    assert catalog_fee(Decimal("3.00")) == Decimal("5.00")
    assert semester_name(dt.date(2027, 3, 10)) == "Spring 2027"
    assert semester_name(dt.date(2027, 1, 10)) == "Winter 2026–27"
    assert semester_name(dt.date(2026, 12, 10)) == "Winter 2026–27"
    assert semester_name(dt.date(2026, 10, 1)) == "Fall 2026"


def test_the_demo_fund_holds_its_gifts_once(seeded):
    from decimal import Decimal

    from finance.models import Donation, FundEntry
    from finance.services.fund import fund_balance

    assert fund_balance() == Decimal("175.00")
    call_command("seed_demo", stdout=StringIO())
    assert fund_balance() == Decimal("175.00")
    assert Donation.objects.filter(reference__startswith="demo-").count() == 3
    assert FundEntry.objects.filter(kind=FundEntry.Kind.DONATION).count() == 3


def test_the_demo_seen_on_the_day_it_is_loaded_sends_nothing_about_the_past(courses):
    """What ``make run`` does after seeding (the week-out command, then the nudges): every message
    is about a class still to come — no reminder, roster, nudge or cancellation of a class whose
    first meeting is already past ("starts Friday, November 20" mailed on December 3)."""
    from io import StringIO

    from core.models import OutboxMessage
    from enrollment.models import CallListEntry
    from enrollment.services.nudges import nudges_send

    now = timezone.now()
    call_command("week_out", stdout=StringIO())
    nudges_send(now=now)
    started = {c.pk for c in courses if c.first_start is not None and c.first_start <= now}
    assert started  # the demo has classes under way
    sent = OutboxMessage.objects.filter(template__in=["reminder", "nudge", "course_cancelled", "instructor_roster",
                                                      "instructor_cancelled", "instructor_nudge"])
    assert sent.exists()
    for message in sent:
        course = next(c for c in courses if c.title in message.subject or c.title in message.body_text)
        assert course.pk not in started, (message.template, course.title)
    assert not CallListEntry.objects.filter(registration__course_id__in=started).exists()
    assert "LATE" not in " ".join(OutboxMessage.objects.values_list("subject", flat=True))


def test_online_orders_are_paid_by_card_and_desk_orders_in_cash_or_by_check(seeded):
    from enrollment.models import Order
    from finance.models import Payment, Refund

    payments = Payment.objects.select_related("order")
    online = payments.filter(order__channel=Order.Channel.ONLINE)
    desk = payments.filter(order__channel=Order.Channel.DESK)
    assert online.exists() and desk.exists()
    assert set(online.values_list("provider", flat=True)) == {Payment.Provider.CARD}
    assert set(desk.values_list("provider", flat=True)) == {Payment.Provider.CASH, Payment.Provider.CHECK}
    # A class cancelled before the demo began: its seats were refunded then, the way they were paid.
    cancelled = Registration.objects.filter(status=Registration.Status.CANCELLED, course__status=Course.Status.CANCELLED,
                                            price__gt=0)
    assert cancelled.exists()
    for registration in cancelled:
        refund = Refund.objects.get(dedupe_key=f"cancel:{registration.pk}")
        assert refund.status == Refund.Status.DONE and refund.amount == registration.price
