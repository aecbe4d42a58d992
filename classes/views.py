"""The public catalog: no login. Views are thin: they read through the selectors and render.

Every catalog page runs the same number of SQL queries whatever the number of courses: the
selectors join the course's relations and prefetch its meetings (with their venues), and the
templates only touch what was loaded (``meeting.venue``, never ``meeting.effective_venue``).
"""

import dataclasses
import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from core.models import SiteOptions
from enrollment.selectors import course_seats_annotate

from . import selectors
from .forms import CatalogFilterForm
from .ics import course_calendar
from .models import Category, Course, Semester


def _catalog_context(request, *, semester: Semester | None, now: dt.datetime, category: Category | None = None) -> dict:
    """What the home page and a category page share: the filter form and the filtered courses."""
    context: dict = {"semester": semester}
    if semester is None:
        return context
    categories = list(selectors.catalog_categories(semester=semester))
    venues = list(selectors.catalog_venues(semester=semester))
    form = CatalogFilterForm(request.GET, categories=categories, venues=venues, with_category=category is None)
    filters = form.filters()
    if category is not None:
        filters = dataclasses.replace(filters, category=category.slug)
    courses = course_seats_annotate(selectors.catalog_courses(semester=semester), now=now)
    courses = list(selectors.catalog_filter(courses, filters, semester=semester, now=now))
    for course in courses:
        course.registration_closed = course.is_past_cutoff(now)
    context.update(
        categories=categories,
        form=form,
        ignored_filters=form.ignored_labels(),
        is_filtered=form.is_filtered(),
        courses=courses,
        # Classes already held go last, so the list opens on what a patron can still join.
        coming_courses=[c for c in courses if c.status != Course.Status.COMPLETED],
        held_courses=[c for c in courses if c.status == Course.Status.COMPLETED],
        registration_open=semester.registration_is_open(now),
    )
    return context


class CatalogHomeView(TemplateView):
    """The current semester: its categories (with counts) and its courses, searchable."""

    template_name = "classes/catalog_home.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        semester = selectors.semester_current(now=now)
        return {**super().get_context_data(**kwargs), **_catalog_context(self.request, semester=semester, now=now)}


class CategoryDetailView(TemplateView):
    """One category's courses in the current semester, with the same filters (bar category)."""

    template_name = "classes/category_detail.html"

    def get_context_data(self, **kwargs):
        category = get_object_or_404(Category, slug=kwargs["slug"])
        now = timezone.now()
        semester = selectors.semester_current(now=now)
        context = _catalog_context(self.request, semester=semester, now=now, category=category)
        return {**super().get_context_data(**kwargs), **context, "category": category}


def _public_course(semester_slug: str, course_slug: str, *, now: dt.datetime) -> Course:
    """A public course of a published semester, with seat counts; drafts are a 404."""
    semester = get_object_or_404(Semester, slug=semester_slug, is_published=True)
    courses = course_seats_annotate(selectors.catalog_courses(semester=semester), now=now)
    try:
        return courses.get(slug=course_slug)
    except Course.DoesNotExist:
        raise Http404("No such class.") from None


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
