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
queries, whatever the number of courses or calls. The reads are ``enrollment.selectors.weekout``'s;
marking a call is ``enrollment.services.call_list.call_mark``.
"""


from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from classes.models import Course

from ..models import CallListEntry, EnrollmentOptions
from ..selectors.weekout import DECISION_DAYS, call_list_courses, call_list_entries, recent_decisions, upcoming_cutoffs
from ..services.call_list import call_mark
from .forms.weekout import CallFilterForm, CallMarkForm, DecideForm
from .rosters import StaffPermissionView

VIEW_CALLS = "enrollment.view_calllistentry"
MARK_CALLS = "enrollment.change_calllistentry"
VIEW_DECISIONS = "enrollment.view_coursedecision"
DECIDE = "enrollment.add_coursedecision"


Outcome = CallListEntry.Outcome


# --- the call list ---------------------------------------------------------------------------------

class CallListView(StaffPermissionView):
    """The call list: one row per registrant to phone, with what to tell them; printable."""

    permission = VIEW_CALLS

    def get(self, request):
        form = CallFilterForm(request.GET or None, courses=call_list_courses(), initial={"status": "todo"})
        status, course_id = "todo", None
        if form.is_bound and form.is_valid():
            status = form.cleaned_data["status"] or "todo"
            course_id = form.cleaned_data["course"]
        entries = call_list_entries(status=status, course_id=course_id)
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
