"""The staff dashboard: what the back office's first page shows above the list of models
(``templates/admin/index.html``, through the ``staff_dashboard`` template tag).

- this week's classes (Monday to Sunday, local time), with confirmed counts;
- open courses near their week-out cutoff (or past it, still waiting for the decision), with the
  confirmed count against the minimum;
- holds and waitlist offers open now, and how many are on waitlists;
- refunds to issue (cash and check refunds waiting for staff, and refunds that failed) — only for
  staff who may see refunds (``finance.view_refund``);
- messages that could not be delivered.

It reads every app below ``reports`` (see ``reports/__init__.py`` for why it lives here) and writes
nothing; no model or service imports it. Each section is one or two queries, whatever the number
of courses: the page's query count is constant.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, IntegerField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from classes import schedule
from classes.models import Course, Meeting
from core.models import OutboxMessage
from enrollment.models import Registration, ScholarshipWait
from enrollment.selectors import course_seats_annotate
from enrollment.selectors.rosters import this_week
from finance.models import Payment, Refund
from finance.services.fund import fund_balance

S = Registration.Status

#: Courses whose registration closes within this many days are "near their cutoff".
NEAR_CUTOFF_DAYS = 14
#: The longest week-out cutoff a semester can have (``Semester.cutoff_days`` validator).
MAX_CUTOFF_DAYS = 60
#: Rows listed per section (the counts are always complete; the links lead to the full lists).
LIST_LIMIT = 10


@dataclass
class CutoffCourse:
    course: Course
    closes_at: dt.datetime
    confirmed: int
    passed: bool  # the cutoff has passed and the course is still open: the week-out run has not decided it

    @property
    def short_by(self) -> int:
        return max(self.course.minimum - self.confirmed, 0)


@dataclass
class RefundsToIssue:
    count: int
    failed: int
    total: Decimal
    items: list[Refund]


@dataclass(frozen=True)
class FundGlance:
    balance: Decimal
    waiting: int  # on the scholarship waitlist, waiting for donations
    offered: int  # offered a seat with a scholarship, not paid yet


@dataclass
class Dashboard:
    now: dt.datetime
    week_start: dt.datetime
    week_end: dt.datetime
    meetings: list[Meeting]
    near_cutoff: list[CutoffCourse]
    holds_open: int | None = None
    offers_open: int | None = None
    waitlisted: int | None = None
    open_items: list[Registration] = field(default_factory=list)
    refunds: RefundsToIssue | None = None  # None: the user may not see refunds
    failed_count: int = 0
    failed_messages: list[OutboxMessage] | None = None  # None: the user may not open the outbox
    #: Pass the Buck at a glance (coordinator and Finance: ``finance.view_fundentry``): the balance
    #: and the scholarship waitlist. None for anyone else.
    fund: "FundGlance | None" = None
    can_view_roster: bool = False
    can_take_attendance: bool = False
    can_view_registrations: bool = False
    can_view_courses: bool = False

    @property
    def week_last_day(self) -> dt.datetime:
        return self.week_end - dt.timedelta(days=1)

    @property
    def today(self) -> dt.date:
        return schedule.local(self.now).date()

    @property
    def attendance_until(self) -> dt.datetime:
        """Attendance can be taken for meetings starting before this (the end of today, local)."""
        return schedule.local_midnight(self.today + dt.timedelta(days=1))


def _confirmed_count(course_ref: str) -> Coalesce:
    rows = (
        Registration.objects.filter(course=OuterRef(course_ref), status=S.CONFIRMED)
        .order_by().values("course").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def week_meetings(*, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, list[Meeting]]:
    """Meetings of this week (not of draft or cancelled courses), each with ``confirmed_count``
    of its course. One query."""
    start, end = this_week(now)
    meetings = (
        Meeting.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(course__status__in=[Course.Status.DRAFT, Course.Status.CANCELLED])
        .select_related("course", "course__venue", "venue")
        .annotate(confirmed_count=_confirmed_count("course_id"))
        .order_by("starts_at", "course__title", "pk")
    )
    return start, end, list(meetings)


def courses_near_cutoff(*, now: dt.datetime, days: int = NEAR_CUTOFF_DAYS) -> list[CutoffCourse]:
    """Open courses whose registration closes within ``days`` (or has closed while the course is
    still open and has not started), soonest first, with the confirmed count. One query."""
    horizon = now + dt.timedelta(days=days)
    candidates = course_seats_annotate(
        Course.objects.filter(status=Course.Status.OPEN)
        .annotate(first_meeting_start=Min("meetings__starts_at"))
        # The cutoff is at most MAX_CUTOFF_DAYS (+1 for local midnight) before the first meeting.
        .filter(first_meeting_start__gt=now,
                first_meeting_start__lte=horizon + dt.timedelta(days=MAX_CUTOFF_DAYS + 1))
        .select_related("semester"),
        now=now,
    )
    found = []
    for course in candidates:
        closes = course.registration_closes_at
        if closes is not None and closes <= horizon:
            found.append(CutoffCourse(course=course, closes_at=closes, confirmed=course.confirmed_count,
                                      passed=closes <= now))
    return sorted(found, key=lambda c: (c.closes_at, c.course.title, c.course.pk))


def refunds_to_issue(*, limit: int = LIST_LIMIT) -> RefundsToIssue:
    """Cash, check and scholarship refunds waiting for staff to hand them out, and refunds that
    failed (card refunds Stripe would not make). Card refunds still pending are Stripe's job
    (``refund_issue`` and the sweep), so they are not listed. Two queries."""
    waiting = Refund.objects.filter(
        Q(status=Refund.Status.PENDING) & ~Q(payment__provider=Payment.Provider.CARD) | Q(status=Refund.Status.FAILED)
    )
    totals = waiting.aggregate(
        count=Count("pk"), failed=Count("pk", filter=Q(status=Refund.Status.FAILED)),
        total=Coalesce(Sum("amount"), Value(Decimal("0.00"))),
    )
    items = list(waiting.select_related("payment", "registration", "registration__course").order_by("created_at", "pk")
                 [:limit])
    return RefundsToIssue(count=totals["count"], failed=totals["failed"], total=totals["total"], items=items)


def dashboard_build(*, user, now: dt.datetime | None = None) -> Dashboard:
    """Everything the dashboard shows to ``user``, in a constant number of queries."""
    now = now or timezone.now()
    start, end, meetings = week_meetings(now=now)
    board = Dashboard(
        now=now, week_start=start, week_end=end, meetings=meetings, near_cutoff=courses_near_cutoff(now=now),
        can_view_roster=user.has_perm("enrollment.view_roster"),
        can_take_attendance=user.has_perm("enrollment.take_attendance"),
        can_view_registrations=user.has_perm("enrollment.view_registration"),
        can_view_courses=user.has_perm("classes.view_course"),
    )
    if board.can_view_registrations:
        counts = Registration.objects.filter(status__in=[S.HELD, S.OFFERED, S.WAITLISTED]).aggregate(
            holds=Count("pk", filter=Q(status=S.HELD, expires_at__gt=now)),
            offers=Count("pk", filter=Q(status=S.OFFERED, expires_at__gt=now)),
            waitlisted=Count("pk", filter=Q(status=S.WAITLISTED)),
        )
        board.holds_open, board.offers_open, board.waitlisted = counts["holds"], counts["offers"], counts["waitlisted"]
        board.open_items = list(
            Registration.objects.filter(status__in=[S.HELD, S.OFFERED], expires_at__gt=now)
            .select_related("course").order_by("expires_at", "pk")[:LIST_LIMIT]
        )
    if user.has_perm("finance.view_refund"):
        board.refunds = refunds_to_issue()
    if user.has_perm("finance.view_fundentry"):
        waits = scholarship_waits_summary()
        board.fund = FundGlance(balance=fund_balance(), waiting=waits["waiting"], offered=waits["offered"])
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
    board.failed_count = failed.count()
    if user.has_perm("core.view_outboxmessage"):
        board.failed_messages = list(failed.order_by("-created_at", "-pk")[:LIST_LIMIT])
    return board


def scholarship_waits_summary() -> dict:
    """Counts for the staff dashboard: waiting and offered requests of the scholarship waitlist."""
    W = ScholarshipWait.Status
    return ScholarshipWait.objects.aggregate(
        waiting=Count("pk", filter=Q(status=W.WAITING)), offered=Count("pk", filter=Q(status=W.OFFERED)),
    )
