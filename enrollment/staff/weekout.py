"""The week-out run in the back office, under /staff/week-out/ (``enrollment.staff.urls.weekout``):

- the **call list**: registrants without e-mail to phone about a decided course (one row each:
  name, phone, class, topic and what to tell them), printable, with a form per row to mark the
  call (outcome and notes; who and when are recorded). Seeing it needs
  ``enrollment.view_calllistentry``; marking a call needs ``enrollment.change_calllistentry``.
- **upcoming cutoffs and recent decisions**: open courses with the day registration closes and
  confirmed against the minimum, and what recent week-out runs (or staff) decided. Needs
  ``enrollment.view_coursedecision``.

Every view is wrapped in ``admin.site.admin_view``: staff only, anyone else goes to the
back-office login; staff without the permission get 403. Each page runs a fixed number of
queries, whatever the number of courses or calls.
"""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Min, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from classes.models import Course

from ..models import CallListEntry, CourseDecision, EnrollmentOptions
from ..selectors import course_seats_annotate
from .rosters import StaffPermissionView

VIEW_CALLS = "enrollment.view_calllistentry"
MARK_CALLS = "enrollment.change_calllistentry"
VIEW_DECISIONS = "enrollment.view_coursedecision"
DECIDE = "enrollment.add_coursedecision"

#: Decisions shown on the cutoffs page: those of the last this-many days, at most ``DECISIONS_LIMIT``.
DECISION_DAYS = 60
DECISIONS_LIMIT = 200

Outcome = CallListEntry.Outcome


# --- forms -----------------------------------------------------------------------------------------

class CallMarkForm(forms.Form):
    """What happened on the call. "Not called yet" is not an outcome one can record."""

    outcome = forms.ChoiceField(choices=[("", "What happened?")] + [(v, label) for v, label in Outcome.choices if v])
    notes = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs={"size": 30}))


class CallFilterForm(forms.Form):
    STATUS_CHOICES = [("todo", "Not called yet"), ("called", "Called"), ("all", "All")]

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Show")
    course = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Class")

    def __init__(self, *args, courses: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [("", "All classes"), *courses]


# --- the write -------------------------------------------------------------------------------------

def call_mark(*, entry_id: int, outcome: str, notes: str, actor, now: dt.datetime | None = None) -> CallListEntry:
    """Record a call: its outcome and notes, who made it and when. Locks the entry's row, so two
    clerks marking the same call at once leave one consistent record (the last one's). Marking a
    call again (a message left, then a real conversation) replaces the outcome."""
    if outcome not in Outcome.values or outcome == Outcome.NOT_CALLED:
        raise ValueError(f"not an outcome of a call: {outcome!r}")
    now = now or timezone.now()
    with transaction.atomic():
        entry = CallListEntry.objects.select_for_update().get(pk=entry_id)
        entry.outcome, entry.notes = outcome, notes.strip()[:300]
        entry.called_at, entry.called_by = now, actor
        entry.save(update_fields=["outcome", "notes", "called_at", "called_by", "updated_at"])
    return entry


# --- the call list ---------------------------------------------------------------------------------

def _call_courses() -> list[tuple[int, str]]:
    """(id, label) of every course with someone on the call list. One query."""
    rows = (
        CallListEntry.objects.order_by().values_list("registration__course_id", "registration__course__title",
                                                     "registration__course__semester__name").distinct()
    )
    return sorted(((pk, f"{title} ({semester})") for pk, title, semester in rows), key=lambda c: c[1].casefold())


class CallListView(StaffPermissionView):
    """The call list: one row per registrant to phone, with what to tell them; printable."""

    permission = VIEW_CALLS

    def get(self, request):
        form = CallFilterForm(request.GET or None, courses=_call_courses(), initial={"status": "todo"})
        status, course_id = "todo", None
        if form.is_bound and form.is_valid():
            status = form.cleaned_data["status"] or "todo"
            course_id = form.cleaned_data["course"]
        entries = CallListEntry.objects.select_related(
            "registration", "registration__order", "registration__course", "registration__course__semester",
            "called_by",
        )
        if status == "todo":
            entries = entries.filter(called_at__isnull=True)
        elif status == "called":
            entries = entries.filter(called_at__isnull=False)
        if course_id:
            entries = entries.filter(registration__course_id=course_id)
        entries = entries.order_by("called_at", "registration__course__title", "registration__order__last_name",
                                   "registration__attendee_last_name", "pk")
        can_mark = request.user.has_perm(MARK_CALLS)
        rows = [(entry, CallMarkForm(prefix=f"call-{entry.pk}", initial={"outcome": entry.outcome or None,
                                                                         "notes": entry.notes}) if can_mark else None)
                for entry in entries]
        filters = {"status": status, "course": course_id or ""}
        return self.render("staff/weekout/calls.html", "Call list", form=form, rows=rows, can_mark=can_mark,
                           show=status, show_label=dict(CallFilterForm.STATUS_CHOICES)[status],
                           next_url=request.get_full_path(), filters=filters, printed_at=timezone.now())


class CallMarkView(StaffPermissionView):
    """Mark one call (POST only): outcome and notes, then back to the list as it was filtered."""

    permission = MARK_CALLS
    http_method_names = ["post"]

    def post(self, request, entry_id: int):
        entry = get_object_or_404(CallListEntry.objects.select_related("registration"), pk=entry_id)
        form = CallMarkForm(request.POST, prefix=f"call-{entry.pk}")
        if form.is_valid():
            call_mark(entry_id=entry.pk, outcome=form.cleaned_data["outcome"], notes=form.cleaned_data["notes"],
                      actor=request.user)
            label = Outcome(form.cleaned_data["outcome"]).label
            messages.success(request, f"Call to {entry.registration.attendee_name} marked: {label}.")
        else:
            messages.error(request, "Choose what happened on the call (notes at most 300 characters).")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = reverse("weekout:calls")
        return HttpResponseRedirect(next_url)


# --- upcoming cutoffs and recent decisions ---------------------------------------------------------

@dataclass
class UpcomingCourse:
    course: Course
    closes_at: dt.datetime | None
    nudge_on: dt.date | None  # the day the low-enrollment nudge goes out, for a course below its minimum
    passed: bool  # registration has closed; the week-out run has not decided the course yet

    @property
    def confirmed(self) -> int:
        return self.course.confirmed_count

    @property
    def short_by(self) -> int:
        return self.course.needed_to_run


def upcoming_cutoffs(*, now: dt.datetime, nudge_days: int) -> list[UpcomingCourse]:
    """Open courses that have not started, soonest cutoff first (courses without meetings last),
    with confirmed and needed-to-run counts, and the day of the nudge (``nudge_days`` before the
    cutoff) for those below their minimum. One query."""
    courses = course_seats_annotate(
        Course.objects.filter(status=Course.Status.OPEN)
        .annotate(first_meeting_start=Min("meetings__starts_at"))
        .filter(Q(first_meeting_start__gt=now) | Q(first_meeting_start__isnull=True))
        .select_related("semester", "venue", "instructor"),
        now=now,
    )
    found = []
    for course in courses:
        closes = course.registration_closes_at
        nudge_on = None
        if closes is not None and course.needed_to_run:
            nudge_on = timezone.localtime(closes).date() - dt.timedelta(days=nudge_days)
        found.append(UpcomingCourse(course=course, closes_at=closes, nudge_on=nudge_on,
                                    passed=closes is not None and closes <= now))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda u: (u.closes_at or far, u.course.title.casefold(), u.course.pk))


def recent_decisions(*, now: dt.datetime, days: int = DECISION_DAYS, limit: int = DECISIONS_LIMIT):
    """The decisions of the last ``days`` days, newest first. One query."""
    return list(
        CourseDecision.objects.filter(decided_at__gte=now - dt.timedelta(days=days))
        .select_related("course", "course__semester", "decided_by")
        .order_by("-decided_at", "course__title")[:limit]
    )


class WeekOutView(StaffPermissionView):
    """Upcoming cutoffs (open courses, confirmed against the minimum) and recent decisions."""

    permission = VIEW_DECISIONS

    def get(self, request):
        now = timezone.now()
        nudge_days = EnrollmentOptions.current().nudge_days
        return self.render("staff/weekout/index.html", "Week-out: cutoffs and decisions",
                           upcoming=upcoming_cutoffs(now=now, nudge_days=nudge_days),
                           decisions=recent_decisions(now=now), decision_days=DECISION_DAYS, nudge_days=nudge_days,
                           now=now, can_view_calls=request.user.has_perm(VIEW_CALLS),
                           can_decide=request.user.has_perm(DECIDE))


class DecideForm(forms.Form):
    action = forms.ChoiceField(
        label="Decision", widget=forms.RadioSelect,
        choices=[("run", "Run the class anyway"), ("cancel", "Cancel the class now")],
    )
    reason = forms.CharField(label="Reason", max_length=250, help_text="Kept in the audit trail; a cancellation "
                             "reason is also given to the registrants and the instructor.")


class DecideView(StaffPermissionView):
    """A staff decision before the cutoff: run a class anyway below its minimum, or cancel it
    early, with a reason — through the same ``course_decide`` as the week-out run."""

    permission = DECIDE

    def _page(self, course, form, status=200):
        from ..selectors import course_seats_annotate as annotate

        counted = annotate(Course.objects.filter(pk=course.pk), now=timezone.now()).get()
        return self.render("staff/weekout/decide.html", f"Decide “{course.title}” now", status=status,
                           course=course, confirmed=counted.confirmed_count, form=form)

    def get(self, request, course_id: int):
        course = get_object_or_404(Course.objects.select_related("semester"), pk=course_id)
        return self._page(course, DecideForm())

    def post(self, request, course_id: int):
        from core.locking import Busy

        from ..services.weekout import course_decide, refund_reason
        from ..tasks import refunds_settle_for

        course = get_object_or_404(Course.objects.select_related("semester"), pk=course_id)
        form = DecideForm(request.POST)
        if not form.is_valid():
            return self._page(course, form, status=200)
        if course.status != Course.Status.OPEN:
            form.add_error(None, f"This class is already {course.get_status_display().lower()}.")
            return self._page(course, form)
        try:
            decision = course_decide(course_id=course.pk, force=form.cleaned_data["action"], actor=request.user,
                                     reason=form.cleaned_data["reason"])
        except Busy:
            form.add_error(None, "The system is busy, please try again.")
            return self._page(course, form, status=503)
        refunds_settle_for(decision.settle_ids, reason=refund_reason(decision), actor=request.user)
        messages.success(request, f"“{course.title}”: {decision.get_outcome_display().lower()} — everyone is being told.")
        return HttpResponseRedirect(reverse("weekout:index"))
