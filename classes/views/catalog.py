"""What the catalog's home and category pages show: which semesters, which courses, grouped how.

The semesters patrons see are ``selectors.semesters_visible`` (published, not yet over; the
current one first). A page shows either one of them or all of them (its *scope*):

- ``?semester=<slug>``: that semester; ``?semester=all``: every visible semester.
- Neither: browsing the home page shows the current semester (the others are a click away in the
  semester switcher); a search (any filter) and a category page cover every visible semester.

Courses of several semesters are grouped by semester (soonest first), each group by month of
first meeting. A page lists at most ``PAGE_SIZE`` classes (a large semester is paged: "Page 2 of
10"), and runs a fixed number of queries whatever the number of courses or semesters: the
visible semesters, the categories (with a count per semester) and the venues (kept for the day
and the catalog's version), the list's classes in order (kept too, for a page reached without a
search), the page's seat counts, then the courses and meetings of the cards not in the cache
(``cards``).

For a visitor whose cart holds none of the page's classes, the page's whole content — all but
the header, the footer and the one "add to cart" form with its CSRF token — is shared from the
cache for ``SEAT_STALENESS`` seconds (``classes.catalog_cache``), for the pages reached without a
search: a semester (or all), a page number. A change to a course, a meeting, a semester, a venue,
a category or an instructor shows at once (the version in the keys); seat counts are at most
``SEAT_STALENESS`` seconds late (checkout re-checks them under the lock).

The catalog's home and category pages live here too. This module is part of the catalog's views,
an entry point: it may read enrollment's seat counts (``course_seats_annotate``); models and
selectors of classes must not.
"""

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.views.generic import TemplateView

from core.context_processors import site
from enrollment.cart import Cart
from enrollment.selectors import course_seats_annotate

from .. import catalog_cache, schedule, selectors
from ..models import Category, Course, Semester
from ..selectors import ALL_SEMESTERS
from .cards import CourseRow, cards_fill, course_rows
from .forms import CatalogFilterForm

#: Classes on one page of the catalog (a whole demo semester fits; a 10x one is paged).
PAGE_SIZE = 60


@dataclass
class SemesterGroup:
    """The courses of one semester on a catalog page."""

    semester: Semester
    registration_open: bool
    courses: list[CourseRow] = field(default_factory=list)  # those on this page
    total: int = 0  # on every page
    held_total: int = 0

    @property
    def coming(self) -> list[CourseRow]:
        """Classes not yet held (the list opens on what a patron can still join)."""
        return [c for c in self.courses if c.status != Course.Status.COMPLETED]

    @property
    def held(self) -> list[CourseRow]:
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
    query.pop("page", None)
    query["semester"] = semester
    return f"{path}?{query.urlencode()}"


def _page_number(params: QueryDict) -> int:
    value = params.get("page", "")
    return max(1, int(value)) if value.isdigit() and len(value) < 6 else 1


@dataclass(frozen=True)
class Pager:
    number: int
    count: int  # pages
    previous_url: str
    next_url: str


def _pager(path: str, params: QueryDict, number: int, count: int) -> Pager | None:
    if count < 2:
        return None

    def url(n: int) -> str:
        query = params.copy()
        query["page"] = str(n)
        return f"{path}?{query.urlencode()}"

    return Pager(number=number, count=count, previous_url=url(number - 1) if number > 1 else "",
                 next_url=url(number + 1) if number < count else "")


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


def _form_fields(request, form: CatalogFilterForm, *, version: str, now: dt.datetime) -> str:
    """The filter form's fields (crispy's markup, the slowest part of a page to render): cached
    for the pages of ``_shared_key`` — their choices change with the version and the day."""
    key = None
    if _canonical(request.GET):
        day = schedule.local(now).date().isoformat()
        key = f"catalog:filters:{version}:{day}:{request.path}:{request.GET.urlencode()}"
        cached = cache.get(key)
        if cached is not None:
            return cached
    html = get_template("classes/_filter_fields.html").render({"form": form})
    if key is not None:
        cache.set(key, html, catalog_cache.FRAGMENT_TIMEOUT)
    return html


def _index(courses) -> list[dict]:
    """The filtered list's classes in order, without seat counts (``selectors.CATALOG_ROW_FIELDS``)."""
    return list(courses.values(*selectors.CATALOG_ROW_FIELDS))


def _page_rows(courses, *, scope: list[Semester], number: int, now: dt.datetime, index=None
               ) -> tuple[list[CourseRow], dict[int, tuple[int, int]], int]:
    """One page of a filtered list, in two queries: the list's classes in order (no seat counts,
    unless the filter needs them; ``index`` when the caller has them), then the seat counts of
    the page's. Also the list's totals (semester id → classes, of which already held) and the
    page number (the last page when ``number`` is past it)."""
    index = _index(courses) if index is None else index
    totals: dict[int, tuple[int, int]] = {}
    for value in index:
        n, held = totals.get(value["semester_id"], (0, 0))
        totals[value["semester_id"]] = (n + 1, held + (value["status"] == Course.Status.COMPLETED))
    number = min(number, max(1, -(-len(index) // PAGE_SIZE)))
    page = index[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
    seats = {}
    if page:
        counted = course_seats_annotate(Course.objects.filter(pk__in=[value["pk"] for value in page]), now=now)
        seats = {value["pk"]: value for value in counted.order_by().values("pk", "seats_left", "needed_to_run")}
    rows = course_rows([{**value, **seats[value["pk"]]} for value in page if value["pk"] in seats],
                       semesters={s.pk: s for s in scope}, now=now)
    return rows, totals, number


def catalog_context(request, *, now: dt.datetime, category: Category | None = None,
                    cart_ids: frozenset[int] = frozenset(), version: str = "") -> dict:
    """The context of the home page (``category`` None) or of a category page: one page of its
    classes, each with its card (``cards``)."""
    version = version or catalog_cache.version()
    visible = catalog_cache.memo("visible", lambda: selectors.semesters_visible(now=now), version=version, now=now)
    context: dict = {"semester": None, "semesters": visible, "path": request.path}
    if not visible:
        return context
    categories, venues = catalog_cache.memo(
        "filters", lambda: (selectors.catalog_categories(semesters=visible),
                            list(selectors.catalog_venues(semesters=visible))), version=version, now=now)
    form = CatalogFilterForm(request.GET, categories=categories, venues=venues, semesters=visible,
                             with_category=category is None)
    filters = form.filters()
    context["form_fields"] = _form_fields(request, form, version=version, now=now)
    if category is not None:
        filters = dataclasses.replace(filters, category=category.slug)
    by_slug = {s.slug: s for s in visible}
    if filters.semester in by_slug:
        scope = [by_slug[filters.semester]]
    elif filters.semester == ALL_SEMESTERS or form.is_filtered() or category is not None:
        scope = visible
    else:
        scope = visible[:1]
    courses = selectors.catalog_rows(semesters=scope)
    if filters.has_seats:  # the filter reads the seat counts
        courses = course_seats_annotate(courses, now=now)
    courses = selectors.catalog_filter(courses, filters, semesters=scope, now=now)
    index = None
    if _canonical(request.GET):  # the order of the classes changes only with the catalog's version
        scope_key = "-".join(str(s.pk) for s in scope)
        index = catalog_cache.memo(f"index:{category.pk if category else ''}:{scope_key}",
                                   lambda: _index(courses), version=version, now=now)
    rows, totals, number = _page_rows(courses, scope=scope, number=_page_number(request.GET), now=now,
                                      index=index)
    total = sum(n for n, _ in totals.values())
    pages = max(1, -(-total // PAGE_SIZE))
    groups = {s.pk: SemesterGroup(semester=s, registration_open=s.registration_is_open(now),
                                  total=totals.get(s.pk, (0, 0))[0], held_total=totals.get(s.pk, (0, 0))[1])
              for s in scope}
    for row in rows:
        groups[row.semester_id].courses.append(row)
    open_ids = {pk for pk, group in groups.items() if group.registration_open}
    cards_fill(rows, version=version, semesters=scope, open_ids=open_ids,
               cart_ids=cart_ids)
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
        total=total,
        pager=_pager(request.path, request.GET, number, pages),
        offers_registration=any(
            row.offers_registration(registration_open=row.semester_id in open_ids, in_cart=row.pk in cart_ids)
            for row in rows
        ),
    )
    if one is not None:
        group = context["groups"][0]
        context.update(coming_courses=group.coming, held_courses=group.held, held_total=group.held_total,
                       registration_open=group.registration_open)
    return context


def cart_ids(request) -> frozenset[int]:
    """The visitor's cart, as the header's context processor reads it (no session: empty)."""
    session = getattr(request, "session", None)
    if session is None or (not session.session_key and not session.modified):
        return frozenset()
    return frozenset(Cart(session).ids)


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


def _canonical(params: QueryDict) -> bool:
    """A page reached without a search: at most a semester (a slug, or "all") and a page number."""
    if set(params) - {"semester", "page"} or any(len(params.getlist(name)) > 1 for name in params):
        return False
    semester, page = params.get("semester", ""), params.get("page", "")
    return not ((semester and not _SLUG.fullmatch(semester)) or (page and not (page.isdigit() and len(page) < 6)))


def _shared_key(request, *, version: str, now: dt.datetime, category: Category | None) -> str | None:
    """The cache key of the page's content when it may be shared (no search: at most a semester
    and a page number), else None."""
    if not _canonical(request.GET):
        return None
    semester, page = request.GET.get("semester", ""), request.GET.get("page", "")
    slug = category.slug if category else ""
    return f"catalog:page:{version}:{catalog_cache.seat_bucket(now)}:{slug}:{semester}:{page}"


def catalog_page(request, *, now: dt.datetime, template: str, title, category: Category | None = None) -> dict:
    """``{"catalog": {"title", "content", "register", "pks"}}`` for ``catalog_page.html``.

    Shared from the cache (``_shared_key``) with every visitor whose cart holds none of the
    page's classes — their cards would say "In your cart" — and built and stored by a request of
    such a visitor only, so what is stored never shows anyone's cart. Along with it, when it was
    built, the whole context."""
    ids = cart_ids(request)
    version = catalog_cache.version()
    key = _shared_key(request, version=version, now=now, category=category)
    if key is not None:
        cached = cache.get(key)
        if cached is not None and not ids & cached["pks"]:
            return {"catalog": cached}
    context = catalog_context(request, now=now, category=category, cart_ids=ids, version=version)
    context.update(category=category, site=site(request)["site"])  # site: the page without a semester
    page = {
        "title": title(context),
        "content": render_to_string(template, context),  # no request: no context processor, no CSRF token
        "register": context.get("offers_registration", False),
        "pks": frozenset(row.pk for row in context.get("courses", [])),
    }
    if key is not None and not ids & page["pks"]:
        cache.set(key, page, catalog_cache.SEAT_STALENESS * 2)
    return {**context, "catalog": page}


def _home_title(context) -> str:
    return f"{context['semester'].name} classes" if context.get("semester") else "Classes"


def _category_title(context) -> str:
    semester = context.get("semester")
    return context["category"].name + (f" · {semester.name}" if semester else "")


class CatalogHomeView(TemplateView):
    """The current semester's categories (with counts) and courses, searchable; the other
    visible semesters a click away, and a search covering them all (``catalog_context``)."""

    template_name = "classes/catalog_page.html"

    def get_context_data(self, **kwargs):
        page = catalog_page(self.request, now=timezone.now(), template="classes/_home_content.html",
                            title=_home_title)
        return {**super().get_context_data(**kwargs), **page}


class CategoryDetailView(TemplateView):
    """One category's courses in every visible semester (or the one chosen), with the same
    filters (bar category)."""

    template_name = "classes/catalog_page.html"

    def get_context_data(self, **kwargs):
        category = get_object_or_404(Category, slug=kwargs["slug"])
        page = catalog_page(self.request, now=timezone.now(), template="classes/_category_content.html",
                            title=_category_title, category=category)
        return {**super().get_context_data(**kwargs), **page, "category": category}
