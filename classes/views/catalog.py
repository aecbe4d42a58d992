"""What the catalog's home and category pages show: which semesters, which courses, grouped how.

The semesters patrons see are ``selectors.semesters_visible`` (published, not yet over; the
current one first). A page shows either one of them or all of them (its *scope*):

- ``?semester=<slug>``: that semester; ``?semester=all``: every visible semester.
- Neither: browsing the home page shows the current semester (the others are a click away in the
  semester switcher); a search (any filter) and a category page cover every visible semester.

Courses of several semesters are grouped by semester (soonest first), each group by month of
first meeting. The page runs a fixed number of queries whatever the number of courses or
semesters: the visible semesters, the categories (with a count per semester), the venues, the
courses and their meetings.

The catalog's home and category pages live here too. This module is part of the catalog's views,
an entry point: it may read enrollment's seat counts (``course_seats_annotate``); models and
selectors of classes must not.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import TemplateView

from enrollment.selectors import course_seats_annotate

from .. import selectors
from ..models import Category, Course, Semester
from ..selectors import ALL_SEMESTERS
from .forms import CatalogFilterForm


@dataclass
class SemesterGroup:
    """The courses of one semester on a catalog page."""

    semester: Semester
    registration_open: bool
    courses: list[Course] = field(default_factory=list)

    @property
    def coming(self) -> list[Course]:
        """Classes not yet held (the list opens on what a patron can still join)."""
        return [c for c in self.courses if c.status != Course.Status.COMPLETED]

    @property
    def held(self) -> list[Course]:
        return [c for c in self.courses if c.status == Course.Status.COMPLETED]


@dataclass(frozen=True)
class SemesterTab:
    """One link of the semester switcher (``semester`` None: "All semesters")."""

    label: str
    url: str
    current: bool
    semester: Semester | None = None
    registration_open: bool = False


def _url(path: str, params: QueryDict, semester: str) -> str:
    query = params.copy()
    query.pop("semester", None)
    query["semester"] = semester
    return f"{path}?{query.urlencode()}"


def _tabs(request, visible: list[Semester], scope: list[Semester], *, now: dt.datetime) -> list[SemesterTab]:
    """The switcher: each visible semester, then "All semesters"; the page's filters are kept."""
    if len(visible) < 2:
        return []
    one = scope[0] if len(scope) == 1 else None
    tabs = [SemesterTab(label=s.name, url=_url(request.path, request.GET, s.slug), current=s == one, semester=s,
                        registration_open=s.registration_is_open(now))
            for s in visible]
    tabs.append(SemesterTab(label="All semesters", url=_url(request.path, request.GET, ALL_SEMESTERS),
                            current=one is None))
    return tabs


def catalog_context(request, *, now: dt.datetime, category: Category | None = None) -> dict:
    """The context of the home page (``category`` None) or of a category page."""
    visible = selectors.semesters_visible(now=now)
    context: dict = {"semester": None, "semesters": visible}
    if not visible:
        return context
    categories = selectors.catalog_categories(semesters=visible)
    venues = list(selectors.catalog_venues(semesters=visible))
    form = CatalogFilterForm(request.GET, categories=categories, venues=venues, semesters=visible,
                             with_category=category is None)
    filters = form.filters()
    if category is not None:
        filters = dataclasses.replace(filters, category=category.slug)
    by_slug = {s.slug: s for s in visible}
    if filters.semester in by_slug:
        scope = [by_slug[filters.semester]]
    elif filters.semester == ALL_SEMESTERS or form.is_filtered() or category is not None:
        scope = visible
    else:
        scope = visible[:1]
    courses = course_seats_annotate(selectors.catalog_courses(semesters=scope), now=now)
    courses = list(selectors.catalog_filter(courses, filters, semesters=scope, now=now))
    groups = {s.pk: SemesterGroup(semester=s, registration_open=s.registration_is_open(now)) for s in scope}
    for course in courses:
        course.registration_closed = course.is_past_cutoff(now)
        groups[course.semester_id].courses.append(course)
    one = scope[0] if len(scope) == 1 else None
    in_scope = {s.pk for s in scope}
    for c in categories:
        c.course_count = sum(n for pk, n in c.counts.items() if pk in in_scope)
        # The home's category links show what it counted: the semester on show.
        c.catalog_url = c.get_absolute_url() + (f"?semester={one.slug}" if one and len(visible) > 1 else "")
    context.update(
        semester=one,
        scope=scope,
        grouped=one is None,
        groups=list(groups.values()),
        tabs=_tabs(request, visible, scope, now=now),
        categories=[c for c in categories if c.course_count],
        form=form,
        ignored_filters=form.ignored_labels(),
        is_filtered=form.is_filtered(),
        courses=[course for group in groups.values() for course in group.courses],  # as shown
    )
    if one is not None:
        group = context["groups"][0]
        context.update(coming_courses=group.coming, held_courses=group.held,
                       registration_open=group.registration_open)
    return context


class CatalogHomeView(TemplateView):
    """The current semester's categories (with counts) and courses, searchable; the other
    visible semesters a click away, and a search covering them all (``catalog_context``)."""

    template_name = "classes/catalog_home.html"

    def get_context_data(self, **kwargs):
        context = catalog_context(self.request, now=timezone.now())
        return {**super().get_context_data(**kwargs), **context}


class CategoryDetailView(TemplateView):
    """One category's courses in every visible semester (or the one chosen), with the same
    filters (bar category)."""

    template_name = "classes/category_detail.html"

    def get_context_data(self, **kwargs):
        category = get_object_or_404(Category, slug=kwargs["slug"])
        context = catalog_context(self.request, now=timezone.now(), category=category)
        return {**super().get_context_data(**kwargs), **context, "category": category}
