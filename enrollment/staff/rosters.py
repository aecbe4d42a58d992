"""Class rosters in the back office: a course's roster on screen, printable rosters (one course,
or every course of a semester or a week, one page per course), the roster as CSV, and taking
attendance at a meeting.

Every view is wrapped in ``admin.site.admin_view`` (``enrollment.staff.urls.rosters``): staff only,
anyone else goes to the back-office login. Seeing, printing and downloading rosters needs
``enrollment.view_roster``; taking attendance needs ``enrollment.take_attendance``; staff
without the permission get 403.
"""

import csv
import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from classes.models import Course, Meeting
from classes.schedule import local
from classes.selectors import semester_current
from core.locking import Busy
from core.staff import StaffPageView

from ..models import Attendance, Registration
from ..selectors import course_seats_annotate
from ..selectors.rosters import Roster, roster_build, roster_course_list, roster_courses, rosters_build, week_bounds
from ..services.attendance import AttendanceError, attendance_mark
from .forms.rosters import AttendanceForm, RosterChoiceForm

VIEW_ROSTER = "enrollment.view_roster"
TAKE_ATTENDANCE = "enrollment.take_attendance"


class StaffPermissionView(StaffPageView):
    """A roster page (or another enrollment back-office page) that needs one permission."""

    permission: str = VIEW_ROSTER

    def page_flags(self) -> dict:
        user = self.request.user
        return {"can_view_roster": user.has_perm(VIEW_ROSTER), "can_take_attendance": user.has_perm(TAKE_ATTENDANCE)}


def _roster_course(course_id: int) -> Course:
    return get_object_or_404(roster_courses(Course.objects.filter(pk=course_id)))


def _attendance_open(meeting: Meeting, now) -> bool:
    """Attendance can be taken on the meeting's day and afterwards."""
    return local(meeting.starts_at).date() <= local(now).date()


class RosterIndexView(StaffPermissionView):
    """Courses with a roster, for a semester (the current one by default) and/or a week, with
    links to each roster, its print page and CSV, and "print all"."""

    def get(self, request):
        data = request.GET if request.GET else {"semester": getattr(semester_current(), "pk", None)}
        form = RosterChoiceForm(data)
        courses = []
        if form.is_valid():
            semester, week = form.cleaned_data["semester"], form.cleaned_data["week"]
            courses = list(course_seats_annotate(roster_course_list(semester=semester, week_of=week),
                                                 now=timezone.now()).select_related("semester", "venue"))
        query = request.GET.urlencode() if request.GET else (f"semester={data['semester']}" if data["semester"] else "")
        return self.render("staff/rosters/index.html", "Class rosters", form=form, courses=courses, query=query)


class CourseRosterView(StaffPermissionView):
    """One course's roster: confirmed attendees with their marks per meeting and no-show flags;
    the waitlist apart."""

    def get(self, request, course_id: int):
        roster = roster_build(_roster_course(course_id))
        now = timezone.now()
        meetings = [(m, _attendance_open(m, now)) for m in roster.meetings]
        return self.render("staff/rosters/course.html", f"Roster: {roster.course.title}", roster=roster,
                           course=roster.course, meeting_links=meetings)


class CourseRosterPrintView(StaffPermissionView):
    """One course's roster, laid out for paper (static/css/print.css)."""

    def get(self, request, course_id: int):
        roster = roster_build(_roster_course(course_id))
        return self.render("staff/rosters/print.html", f"Roster: {roster.course.title}", rosters=[roster],
                           back_url=reverse("rosters:course", args=[roster.course.pk]))


class RostersPrintView(StaffPermissionView):
    """Every roster of a semester and/or a week, one course per printed page."""

    def get(self, request):
        form = RosterChoiceForm(request.GET, require_choice=True)
        if not form.is_valid():
            return self.render("staff/rosters/index.html", "Class rosters", status=400, form=form, courses=[],
                               query="")
        semester, week = form.cleaned_data["semester"], form.cleaned_data["week"]
        rosters = rosters_build(roster_courses(roster_course_list(semester=semester, week_of=week)))
        parts = []
        if semester:
            parts.append(str(semester))
        if week:
            start, end = week_bounds(week)
            parts.append(f"week of {local(start):%a %b %-d, %Y}")
        return self.render("staff/rosters/print.html", f"Rosters: {', '.join(parts)}", rosters=rosters,
                           back_url=f"{reverse('rosters:index')}?{request.GET.urlencode()}")


# --- CSV ------------------------------------------------------------------------------------------

#: A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell as text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _mark_text(mark: bool | None) -> str:
    return {True: "present", False: "absent"}.get(mark, "")


def roster_csv(roster: Roster) -> str:
    """The roster as CSV text: confirmed attendees, then those waiting for a seat."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["Attendee"]
    if roster.asks_age:
        header.append("Age")
    header += ["Buyer phone", "Buyer e-mail", "Status", "No-show"]
    header += [f"Meeting {i} ({local(m.starts_at):%a %Y-%m-%d %H:%M})" for i, m in enumerate(roster.meetings, 1)]
    writer.writerow(header)

    def row(registration: Registration, marks: list, no_show: bool):
        cells = [registration.attendee_name]
        if roster.asks_age:
            cells.append(registration.attendee_age)
        cells += [registration.order.phone, registration.order.email, registration.get_status_display(),
                  "no-show" if no_show else ""]
        cells += [_mark_text(mark) for mark in marks]
        writer.writerow([csv_cell(c) for c in cells])

    for r in roster.rows:
        row(r.registration, r.marks, r.no_show)
    for registration in roster.waiting:
        row(registration, [None] * len(roster.meetings), False)
    return out.getvalue()


class CourseRosterCsvView(StaffPermissionView):
    """The roster as a CSV file for Excel (UTF-8 with a byte-order mark)."""

    def get(self, request, course_id: int):
        roster = roster_build(_roster_course(course_id))
        course = roster.course
        response = HttpResponse(("\ufeff" + roster_csv(roster)).encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="roster-{course.semester.slug}-{course.slug}.csv"'
        return response


# --- Attendance -----------------------------------------------------------------------------------

class AttendanceTakeView(StaffPermissionView):
    """Take attendance at one meeting: a checkbox per confirmed attendee, saved through
    ``attendance_mark`` (who and when are recorded on each mark)."""

    permission = TAKE_ATTENDANCE

    def _setup(self, meeting_id: int):
        meeting = get_object_or_404(Meeting.objects.select_related("course", "course__semester", "course__venue",
                                                                   "venue"), pk=meeting_id)
        registrations = sorted(
            Registration.objects.filter(course_id=meeting.course_id, status=Registration.Status.CONFIRMED)
            .select_related("order"),
            key=lambda r: (r.attendee_last_name.casefold(), r.attendee_first_name.casefold(), r.pk),
        )
        existing = {
            a.registration_id: a
            for a in Attendance.objects.filter(meeting=meeting).select_related("marked_by")
        }
        return meeting, registrations, existing

    def _page(self, meeting, form, existing, status=200):
        rows = [(registration, field, existing.get(registration.pk)) for registration, field in form.rows()]
        return self.render("staff/rosters/attendance.html", f"Attendance: {meeting.course.title}", status=status,
                           meeting=meeting, course=meeting.course, form=form, rows=rows,
                           is_open=_attendance_open(meeting, timezone.now()))

    def get(self, request, meeting_id: int):
        meeting, registrations, existing = self._setup(meeting_id)
        form = AttendanceForm(registrations=registrations,
                              initial_marks={pk: a.present for pk, a in existing.items()})
        return self._page(meeting, form, existing)

    def post(self, request, meeting_id: int):
        meeting, registrations, existing = self._setup(meeting_id)
        form = AttendanceForm(request.POST, registrations=registrations,
                              initial_marks={pk: a.present for pk, a in existing.items()})
        if form.is_valid():
            try:
                result = attendance_mark(meeting=meeting, marks=form.marks(), actor=request.user)
            except AttendanceError as exc:
                messages.error(request, exc.message)
            except Busy:
                messages.error(request, "Someone else is saving this attendance right now. Please try again.")
            else:
                present = sum(form.marks().values())
                messages.success(request, f"Attendance saved for {meeting}: {present} of {len(registrations)} "
                                          f"present ({result.saved} mark{'' if result.saved == 1 else 's'} "
                                          "recorded or changed).")
                if request.user.has_perm(VIEW_ROSTER):
                    return HttpResponseRedirect(reverse("rosters:course", args=[meeting.course_id]))
                return HttpResponseRedirect(reverse("rosters:attendance", args=[meeting.pk]))
        return self._page(meeting, form, existing, status=400)
