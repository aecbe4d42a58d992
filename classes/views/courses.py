"""A course's public page and its calendar file (.ics): no login. Views are thin: they read
through the selectors and render.

Every catalog page runs the same number of SQL queries whatever the number of courses: the
selectors join the course's relations and prefetch its meetings (with their venues), and the
templates only touch what was loaded (``meeting.venue``, never ``meeting.effective_venue``).

A course page's fixed part (description, schedule, instructor, location) is rendered once per
version of the catalog and day (``classes.catalog_cache``) and shared by every visitor; each
request reads the course's seats of the moment (one query) and renders only the "Fee and seats"
box, with the visitor's cart and CSRF token. Seat counts on a course page are never stale.
"""

import datetime as dt

from django.core.cache import cache
from django.db.models import Min
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import TemplateView

from core.models import SiteOptions
from enrollment.selectors import course_seats_annotate

from .. import catalog_cache, schedule, selectors
from ..ics import course_calendar
from ..models import Course, Semester


def _public_course(semester_slug: str, course_slug: str, *, now: dt.datetime) -> Course:
    """A public course of a published semester, with seat counts; drafts are a 404."""
    semester = get_object_or_404(Semester, slug=semester_slug, is_published=True)
    courses = course_seats_annotate(selectors.catalog_courses(semesters=[semester]), now=now)
    try:
        return courses.get(slug=course_slug)
    except Course.DoesNotExist:
        raise Http404("No such class.") from None


def _semester_url(semester: Semester, *, now: dt.datetime) -> str:
    home = reverse("classes:home")
    visible = selectors.semesters_visible(now=now)
    return f"{home}?semester={semester.slug}" if semester in visible and len(visible) > 1 else home


MARKER = mark_safe("<!-- the Fee and seats box -->")


def _seats_now(semester_slug: str, course_slug: str, *, now: dt.datetime) -> Course:
    """The course with its seat counts and first meeting (for the box), in one query; 404 as
    ``_public_course``."""
    courses = Course.objects.filter(semester__slug=semester_slug, semester__is_published=True, slug=course_slug,
                                    status__in=selectors.PUBLIC_STATUSES)
    courses = courses.select_related("semester").annotate(first_meeting_start=Min("meetings__starts_at"))
    try:
        return course_seats_annotate(courses, now=now).get()
    except Course.DoesNotExist:
        raise Http404("No such class.") from None


def _fixed_part(course: Course, *, now: dt.datetime) -> dict:
    context = {
        "course": course,
        "semester": course.semester,
        "meetings": course.ordered_meetings(),
        # Back to the course's own semester in the catalog (when it is still shown there).
        "semester_url": _semester_url(course.semester, now=now),
        "home_url": reverse("classes:home"),
        "register_box_marker": MARKER,
    }
    before, after = render_to_string("classes/_course_content.html", context).split(MARKER)
    # Our own template's output, cut in two at the marker.
    return {"title": f"{course.title} · {course.semester.name}", "before": mark_safe(before),  # noqa: S308
            "after": mark_safe(after)}  # noqa: S308


class CourseDetailView(TemplateView):
    template_name = "classes/course_detail.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        semester_slug, course_slug = kwargs["semester_slug"], kwargs["course_slug"]
        day = schedule.local(now).date().isoformat()
        key = f"catalog:course:{catalog_cache.version()}:{day}:{semester_slug}:{course_slug}"
        fixed = cache.get(key)
        if fixed is None:
            course = _public_course(semester_slug, course_slug, now=now)
            fixed = _fixed_part(course, now=now)
            cache.set(key, fixed, catalog_cache.FRAGMENT_TIMEOUT)
        else:
            course = _seats_now(semester_slug, course_slug, now=now)
        return {
            **super().get_context_data(**kwargs),
            "course": course,
            "semester": course.semester,
            "course_page": fixed,
            "registration_closed": course.is_past_cutoff(now),
            "registration_open": course.semester.registration_is_open(now),
        }


class CourseCalendarView(View):
    """The course's meetings as an .ics file to add to a calendar."""

    def get(self, request, semester_slug: str, course_slug: str):
        now = timezone.now()
        course = _public_course(semester_slug, course_slug, now=now)
        body = course_calendar(
            course,
            course_url=request.build_absolute_uri(course.get_absolute_url()),
            host=request.get_host().split(":")[0],
            program_name=SiteOptions.current().program_name,
            now=now,
        )
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{course.semester.slug}-{course.slug}.ics"'
        return response
