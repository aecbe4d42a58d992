"""A course's public page and its calendar file (.ics): no login. Views are thin: they read
through the selectors and render.

Every catalog page runs the same number of SQL queries whatever the number of courses: the
selectors join the course's relations and prefetch its meetings (with their venues), and the
templates only touch what was loaded (``meeting.venue``, never ``meeting.effective_venue``).
"""

import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from core.models import SiteOptions
from enrollment.selectors import course_seats_annotate

from .. import selectors
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


class CourseDetailView(TemplateView):
    template_name = "classes/course_detail.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        course = _public_course(kwargs["semester_slug"], kwargs["course_slug"], now=now)
        return {
            **super().get_context_data(**kwargs),
            "course": course,
            "semester": course.semester,
            "meetings": course.ordered_meetings(),
            "registration_closed": course.is_past_cutoff(now),
            "registration_open": course.semester.registration_is_open(now),
            # Back to the course's own semester in the catalog (when it is still shown there).
            "semester_url": _semester_url(course.semester, now=now),
            "home_url": reverse("classes:home"),
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
