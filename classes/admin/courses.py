"""Courses in the back office: the course form with its meetings, the list with each course's
suggested fee, the budget panel, and copying courses to another semester.

State changes go through services: copying courses calls ``classes.services``; telling
registrants about a change calls ``enrollment.services.course_changes`` (``classes.admin.changes``); a course's
running/cancelled/completed status is decided by the week-out run, so staff may only move a
course between draft and open here (see ``classes.admin.forms``). The room fee's figures come from
``finance.pricing``.
"""

from collections import OrderedDict
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.db.models import Min, Prefetch
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from core.models import SiteOptions
from finance.pricing import CourseBudget, course_budget, room_fee_for

from ..models import Course, Meeting
from ..services import courses_copy_to_semester
from .changes import CourseChangeForm, CourseChangesMixin
from .forms import EDITABLE_STATUSES, CopyToSemesterForm, MeetingInlineFormSet


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _local(when) -> str:
    return formats.date_format(timezone.localtime(when), "D M j, Y g:i A")


class MeetingInline(admin.TabularInline):
    model = Meeting
    formset = MeetingInlineFormSet
    fields = ("starts_at", "ends_at", "venue")
    autocomplete_fields = ("venue",)
    extra = 1
    min_num = 1
    verbose_name_plural = "meetings (local time; leave the venue empty to meet at the course's venue)"


class CourseChangeList(ChangeList):
    def get_results(self, request):
        """Attach each listed course's budget, reading the site options once for the page."""
        super().get_results(request)
        options = SiteOptions.current()
        for course in self.result_list:
            course.admin_budget = course_budget(course, options=options)


def _room_fee_detail(course: Course, meetings: list[Meeting]) -> str:
    """How each venue's room fee is worked out (the fee itself is ``finance.pricing.room_fee_for``)."""
    if not meetings:
        return "No meetings yet."
    per_venue: OrderedDict[int, list] = OrderedDict()
    for m in meetings:
        venue = m.venue or course.venue
        entry = per_venue.setdefault(venue.pk, [venue, 0, Decimal("0.00")])
        entry[1] += 1
        entry[2] += m.hours
    parts = []
    for venue, count, hours in per_venue.values():
        if not room_fee_for(venue, meetings=count, hours=hours):
            parts.append(f"{venue} ({venue.get_kind_display().lower()}): no room fee")
        elif venue.room_fee_terms == venue.RoomFee.PER_MEETING:
            plural = "" if count == 1 else "s"
            parts.append(f"{venue}: {_dollars(venue.room_fee_rate)} per meeting × {count} meeting{plural}")
        else:
            parts.append(f"{venue}: {_dollars(venue.room_fee_rate)} per hour × {hours} h")
    return "; ".join(parts)


def budget_panel_context(course: Course, budget: CourseBudget, options: SiteOptions) -> dict:
    """What the budget panel shows, as plain values (the template escapes them)."""
    meetings = course.ordered_meetings()
    instructor = course.instructor
    if instructor.is_volunteer:
        instructor_detail = f"{instructor} is a volunteer ({budget.class_hours} class hours)."
    else:
        instructor_detail = f"{budget.class_hours} class hours × {_dollars(instructor.effective_rate)} per hour"
    rows = [
        ("Instructor pay", instructor_detail, budget.instructor_pay),
        ("Staff time", f"{course.staff_hours} h × {_dollars(options.staff_hourly_rate)} per hour", budget.staff_time),
        ("Room fee", _room_fee_detail(course, meetings), budget.room_fee),
        ("Materials", "", budget.materials),
        ("Supplies", "", budget.supplies),
    ]
    if budget.break_even is None:
        break_even = (
            f"None: this is a free course, so registrations bring in nothing; the program covers the "
            f"{_dollars(budget.total_cost)} cost."
        )
    elif budget.total_cost == 0:
        break_even = "0: this course costs nothing to run."
    else:
        break_even = f"{budget.break_even} paying registrants at {_dollars(budget.fee)}"
        if budget.break_even > course.capacity:
            break_even += f" (more than the capacity of {course.capacity}: this fee cannot cover the costs)"
        elif budget.break_even > budget.minimum:
            break_even += f" (more than the minimum of {budget.minimum})"
    if budget.fee < budget.suggested_fee:
        fee_note = f"{_dollars(budget.suggested_fee - budget.fee)} below the suggested fee"
    elif budget.fee > budget.suggested_fee:
        fee_note = f"{_dollars(budget.fee - budget.suggested_fee)} above the suggested fee"
    else:
        fee_note = "the suggested fee"
    return {
        "rows": [(label, detail, _dollars(amount)) for label, detail, amount in rows],
        "total_cost": _dollars(budget.total_cost),
        "minimum": budget.minimum,
        "suggested_fee": _dollars(budget.suggested_fee),
        "fee": _dollars(budget.fee),
        "fee_note": fee_note,
        "break_even": break_even,
    }


@admin.register(Course)
class CourseAdmin(CourseChangesMixin, admin.ModelAdmin):
    """Courses with their meetings; a change that reaches registrants is confirmed first and then
    told to them (``classes.admin.changes``)."""

    form = CourseChangeForm
    inlines = (MeetingInline,)
    list_display = (
        "title", "semester", "category", "instructor", "venue", "first_meeting", "capacity", "minimum",
        "fee", "suggested_fee", "status", "roster_link",
    )
    list_filter = ("semester", "category", "audience", "status", "venue", "instructor__pay_basis")
    list_select_related = ("semester", "category", "instructor", "venue")
    search_fields = ("title", "description", "instructor__first_name", "instructor__last_name")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("instructor", "venue")
    actions = ("copy_to_semester",)
    fieldsets = (
        ("Course", {"fields": ("semester", "title", "slug", "category", "status")}),
        ("For patrons", {"fields": ("audience", ("age_min", "age_max"), "description", "what_to_bring")}),
        ("Who and where", {"fields": ("instructor", "venue")}),
        ("Seats and fee", {"fields": ("capacity", "minimum", "fee")}),
        ("Costs", {"fields": ("staff_hours", "materials_cost", "supplies_cost")}),
        ("Budget", {"fields": ("budget_panel",)}),
    )

    def get_queryset(self, request):
        meetings = Meeting.objects.select_related("venue").order_by("starts_at")
        return (
            super().get_queryset(request)
            .annotate(first_meeting_start=Min("meetings__starts_at"))
            .prefetch_related(Prefetch("meetings", queryset=meetings))
        )

    def get_changelist(self, request, **kwargs):
        return CourseChangeList

    def get_readonly_fields(self, request, obj=None):
        readonly = ["budget_panel"]
        if obj is not None and obj.status not in EDITABLE_STATUSES:
            readonly.append("status")
        return readonly

    # --- list columns ---------------------------------------------------------------------
    @admin.display(description="First meeting (local)", ordering="first_meeting_start")
    def first_meeting(self, obj):
        start = obj.first_start
        return _local(start) if start else "—"

    @admin.display(description="Suggested fee")
    def suggested_fee(self, obj):
        budget = getattr(obj, "admin_budget", None) or course_budget(obj)
        return _dollars(budget.suggested_fee)

    @admin.display(description="Roster")
    def roster_link(self, obj):
        return format_html('<a href="{}">Roster</a>', reverse("rosters:course", args=[obj.pk]))

    def get_list_display(self, request):
        """The roster column only for staff who may see rosters (``enrollment.view_roster``)."""
        columns = super().get_list_display(request)
        return columns if request.user.has_perm("enrollment.view_roster") else tuple(
            c for c in columns if c != "roster_link"
        )

    # --- the budget panel -----------------------------------------------------------------
    @admin.display(description="Budget")
    def budget_panel(self, obj):
        if obj is None or obj.pk is None or not (obj.instructor_id and obj.venue_id):
            return format_html("<p>{}</p>", "Save the course with its meetings to see its budget.")
        options = SiteOptions.current()
        budget = course_budget(obj, options=options)
        return render_to_string("admin/classes/course/budget_panel.html", budget_panel_context(obj, budget, options))

    # --- actions --------------------------------------------------------------------------
    @admin.action(description="Copy selected courses to another semester…", permissions=["add"])
    def copy_to_semester(self, request, queryset):
        courses = list(queryset.order_by("first_meeting_start", "title"))
        form = CopyToSemesterForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            semester = form.cleaned_data["semester"]
            result = courses_copy_to_semester(courses=courses, semester=semester)
            if result.copied:
                n = len(result.copied)
                self.message_user(
                    request,
                    f"Copied {n} course{'' if n == 1 else 's'} to {semester} as draft{'' if n == 1 else 's'}: "
                    + ", ".join(f"“{c}”" for c in result.copied) + ".",
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, f"No course was copied to {semester}.", messages.WARNING)
            for course, reason in result.skipped:
                self.message_user(request, f"Skipped “{course}” ({course.semester}): {reason}", messages.WARNING)
            return None  # back to the changelist, which shows the messages
        context = {
            **self.admin_site.each_context(request),
            "title": "Copy courses to another semester",
            "subtitle": None,
            "opts": self.opts,
            "courses": courses,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/classes/course/copy_to_semester.html", context)
