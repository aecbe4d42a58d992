"""The public catalog: home, category and course pages, filters, query counts, page structure."""

import datetime as dt
import html
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classes.models import Course, Meeting
from core.models import SiteOptions
from enrollment.models import Registration
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    InstructorFactory,
    MeetingFactory,
    OrderFactory,
    RegistrationFactory,
    SemesterFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
    today,
)

pytestmark = pytest.mark.django_db

HOME = reverse("classes:home")


@pytest.fixture(autouse=True)
def _site_options():
    """Make the one SiteOptions row up front, so no request pays for creating it."""
    SiteOptions.current()


def next_weekday(weekday: int, *, after_days: int = 21) -> dt.date:
    """The first date at least ``after_days`` from today that falls on ISO ``weekday`` (1 = Monday)."""
    day = today() + dt.timedelta(days=after_days)
    return day + dt.timedelta(days=(weekday - day.isoweekday()) % 7)


def short(day: dt.date) -> str:
    """'Tue, Mar 3' — written with strftime, independently of the templates' date filter."""
    return f"{day:%a, %b} {day.day}"


def titles(response) -> list[str]:
    return [course.title for course in response.context["courses"]]


# --- query counts ---------------------------------------------------------------------------

def _bulk_courses(n: int, *, start: int, semester, category, instructor, venue, other_venue, days: int = 21) -> None:
    """``n`` open courses with two meetings each (the second at another venue), made in bulk, the
    first ``days`` days from today or later."""
    courses = Course.objects.bulk_create(
        Course(
            semester=semester, title=f"Bulk course {i:03d}", slug=f"bulk-{i:03d}", category=category,
            instructor=instructor, venue=venue, capacity=12, minimum=5, fee=Decimal("25.00"),
            status=Course.Status.OPEN, description="Bulk.",
        )
        for i in range(start, start + n)
    )
    meetings = []
    for i, course in enumerate(courses):
        first = local_dt(today() + dt.timedelta(days=days + i % 40), 9 + i % 10)
        meetings.append(Meeting(course=course, starts_at=first, ends_at=first + dt.timedelta(minutes=90)))
        second = first + dt.timedelta(weeks=1)
        meetings.append(
            Meeting(course=course, starts_at=second, ends_at=second + dt.timedelta(minutes=90), venue=other_venue)
        )
    Meeting.objects.bulk_create(meetings)
    order = OrderFactory()
    Registration.objects.bulk_create(
        Registration(order=order, course=course, attendee_first_name="A", attendee_last_name="B",
                     attendee_key=f"a b|{course.pk}", status=Registration.Status.CONFIRMED)
        for course in courses[::3]
    )


def _count_queries(client, url: str, expect_title: str, *, cold: bool = True) -> int:
    """The queries of one GET; ``cold``: with the cache emptied first (every card, the filter form
    and the page built from the database)."""
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert expect_title in response.content.decode()
    return len(ctx.captured_queries)


def test_catalog_pages_use_the_same_number_of_queries_for_10_and_200_courses(client, monkeypatch):
    """Also with two semesters on show (the current one and the next: a search covers both), and
    on the later pages of a long list (60 classes a page)."""
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)  # one seat-count time bucket throughout
    semester = SemesterFactory(starts_on=today() - dt.timedelta(days=14), ends_on=today() + dt.timedelta(days=70))
    later = SemesterFactory(slug="later", starts_on=today() + dt.timedelta(days=71),
                            ends_on=today() + dt.timedelta(days=200))
    category = CategoryFactory(name="Crafts", slug="crafts")
    CategoryFactory(name="Cooking", slug="cooking")
    kw = {
        "semester": semester, "category": category, "instructor": InstructorFactory(),
        "venue": VenueFactory(), "other_venue": VenueFactory(name="Annex"),
    }
    category_url = reverse("classes:category", args=["crafts"])
    weekday = (today() + dt.timedelta(days=21)).isoweekday()  # course 000 meets then, at 9 am
    filtered_url = HOME + f"?q=bulk&weekday={weekday}&time_of_day=morning&has_seats=on&audience=adults"
    later_url = HOME + "?semester=later"
    all_url = HOME + "?semester=all"

    _bulk_courses(10, start=0, **kw)
    _bulk_courses(10, start=500, **{**kw, "semester": later}, days=80)
    small = [
        _count_queries(client, HOME, "Bulk course 009"),
        _count_queries(client, category_url, "Bulk course 509"),
        _count_queries(client, filtered_url, "Bulk course 000"),
        _count_queries(client, later_url, "Bulk course 509"),
        _count_queries(client, all_url, "Bulk course 509"),
    ]

    _bulk_courses(190, start=10, **kw)
    _bulk_courses(190, start=510, **{**kw, "semester": later}, days=80)
    large = [
        _count_queries(client, HOME, "200 classes"),
        _count_queries(client, category_url, "400 classes"),
        _count_queries(client, filtered_url, "Bulk course 000"),
        _count_queries(client, later_url, "Bulk course 500"),
        _count_queries(client, all_url, "400 classes"),
    ]
    # The last of 200 (the 160th made in bulk meets on the latest day), on page 4 of 4.
    last_page = _count_queries(client, HOME + "?page=4", "Bulk course 169")

    assert small == large
    # site options, semesters, categories, venues, the counts, the page's rows, then the courses
    # and meetings of the cards not in the cache (+ the category page's category)
    assert large == [8, 9, 8, 8, 8] and last_page == 8
    for url in (filtered_url, HOME, HOME + "?page=4", category_url):
        client.get(url)  # fills the cache
    # Every card in the cache, a search (never shared): the site options, the list, its seat
    # counts (the semesters, categories and venues are kept for the day and the catalog's version).
    assert _count_queries(client, filtered_url, "Bulk course 000", cold=False) == 3
    # The whole page shared from the cache: the site options (+ the category).
    assert _count_queries(client, HOME, "200 classes", cold=False) == 1
    assert _count_queries(client, HOME + "?page=4", "Bulk course 169", cold=False) == 1
    assert _count_queries(client, category_url, "400 classes", cold=False) == 2


def test_course_page_query_count_does_not_grow_with_meetings(client):
    one = course_with_meetings(weekly=1)
    six = course_with_meetings(weekly=6, semester=one.semester, venue=VenueFactory())
    MeetingFactory(course=six, venue=VenueFactory(name="Church hall"),
                   starts_at=local_dt(today() + dt.timedelta(days=80), 10),
                   ends_at=local_dt(today() + dt.timedelta(days=80), 12))
    counts = []
    for course in (one, six):
        for _ in range(2):  # built, then its fixed part from the cache
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(course.get_absolute_url())
            assert response.status_code == 200
            assert "Church hall" in response.content.decode() or course == one
            counts.append(len(ctx.captured_queries))
    # the semester, the course with its seats, its meetings, the semesters on show, the site
    # options; then the course with its seats of the moment and the site options
    assert counts == [5, 2, 5, 2]


# --- home and category pages ----------------------------------------------------------------

def test_home_without_a_published_semester_says_so_kindly(client):
    SemesterFactory(is_published=False)
    response = client.get(HOME)
    assert response.status_code == 200
    assert "not published yet" in response.content.decode()
    category = CategoryFactory(slug="art")
    assert client.get(category.get_absolute_url()).status_code == 200


def test_home_lists_categories_with_counts_and_public_courses_only(client):
    semester = SemesterFactory(name="Spring 2031")
    cooking = CategoryFactory(name="Cooking", slug="cooking")
    art = CategoryFactory(name="Art", slug="art")
    CategoryFactory(name="Empty", slug="empty")
    course_with_meetings(semester=semester, category=cooking, title="Bread Baking")
    course_with_meetings(semester=semester, category=cooking, title="Knife Skills", status=Course.Status.CANCELLED)
    course_with_meetings(semester=semester, category=art, title="Watercolor")
    course_with_meetings(semester=semester, category=art, title="Secret Draft", status=Course.Status.DRAFT)
    course_with_meetings(semester=SemesterFactory(is_published=False), category=art, title="Other Semester")

    response = client.get(HOME)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Spring 2031 classes</h1>" in body
    assert sorted(titles(response)) == ["Bread Baking", "Knife Skills", "Watercolor"]
    counts = {c.slug: c.course_count for c in response.context["categories"]}
    assert counts == {"cooking": 2, "art": 1}
    assert 'href="/category/cooking/"' in body
    assert "Secret Draft" not in body
    assert "Cancelled" in body  # the cancelled course is labelled, in words


def test_home_sorts_by_first_meeting_and_shows_card_details(client):
    semester = SemesterFactory()
    later = course_with_meetings(semester=semester, title="Later", first=local_dt(today() + dt.timedelta(days=50), 10))
    sooner = course_with_meetings(
        semester=semester, title="Sooner", weekly=3, fee=Decimal("0"), first=local_dt(today() + dt.timedelta(days=25), 18, 30),
        age_min=8, age_max=12, audience=Course.Audience.KIDS,
    )
    RegistrationFactory.create_batch(12, course=later)  # later is full

    response = client.get(HOME)
    body = response.content.decode()
    assert titles(response) == ["Sooner", "Later"]
    assert sooner.get_absolute_url() in body
    assert "Kids · Ages 8–12" in body
    assert "3 meetings" in body
    assert "6:30 p.m." in body
    assert "Free" in body and "$25.00" in body
    assert "Full" in body
    assert f"Register by {short(sooner.last_day_to_register)}" in body  # the last day, inclusive


def test_course_without_meetings_is_listed_last_with_dates_to_be_announced(client):
    semester = SemesterFactory()
    CourseFactory(semester=semester, title="Aaa Not Yet Scheduled")
    course_with_meetings(semester=semester, title="Zzz Scheduled")
    response = client.get(HOME)
    assert titles(response) == ["Zzz Scheduled", "Aaa Not Yet Scheduled"]
    assert "Dates to be announced" in response.content.decode()


def test_category_page_shows_only_that_category_and_still_filters(client):
    semester = SemesterFactory()
    cooking = CategoryFactory(name="Cooking", slug="cooking", description="Good food.")
    course_with_meetings(semester=semester, category=cooking, title="Bread", audience=Course.Audience.ADULTS)
    course_with_meetings(semester=semester, category=cooking, title="Kids Pizza", audience=Course.Audience.KIDS)
    course_with_meetings(semester=semester, category=CategoryFactory(slug="art"), title="Drawing")

    url = cooking.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 200
    assert sorted(titles(response)) == ["Bread", "Kids Pizza"]
    assert "category" not in response.context["form"].fields
    assert titles(client.get(url, {"audience": "kids"})) == ["Kids Pizza"]
    # a category in the query string cannot widen a category page
    assert sorted(titles(client.get(url, {"category": "art"}))) == ["Bread", "Kids Pizza"]


def test_unknown_category_course_and_semester_are_404(client):
    course = course_with_meetings()
    assert client.get(reverse("classes:category", args=["nope"])).status_code == 404
    assert client.get(reverse("classes:course", args=[course.semester.slug, "nope"])).status_code == 404
    response = client.get(reverse("classes:course", args=["nope", course.slug]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# --- filters --------------------------------------------------------------------------------

@pytest.fixture
def filter_courses():
    """Three courses whose local times fall on another day / part of the day in UTC."""
    semester = SemesterFactory()
    cooking = CategoryFactory(name="Cooking", slug="cooking")
    tech = CategoryFactory(name="Technology", slug="tech")
    kitchen = VenueFactory(name="Teaching Kitchen", slug="kitchen")
    room = VenueFactory(name="Meeting Room", slug="meeting-room")
    bread = course_with_meetings(  # Tuesday 7:30 pm local = Wednesday in UTC
        semester=semester, title="Bread Baking", category=cooking, venue=kitchen,
        first=local_dt(next_weekday(2), 19, 30), instructor=InstructorFactory(last_name="Crumb"),
    )
    robots = course_with_meetings(  # Thursday 9 am local = afternoon in UTC
        semester=semester, title="Lego Robots", category=tech, venue=room, audience=Course.Audience.KIDS,
        first=local_dt(next_weekday(4), 9),
    )
    yoga = course_with_meetings(  # Saturday 1 pm local = evening in UTC; full
        semester=semester, title="Family Yoga", category=tech, venue=room, audience=Course.Audience.FAMILY,
        first=local_dt(next_weekday(6), 13), capacity=2, minimum=1,
    )
    RegistrationFactory.create_batch(2, course=yoga)
    return {"bread": bread, "robots": robots, "yoga": yoga}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Bread Baking", "Family Yoga", "Lego Robots"]),
        ({"category": "cooking"}, ["Bread Baking"]),
        ({"category": "tech"}, ["Family Yoga", "Lego Robots"]),
        ({"audience": "kids"}, ["Lego Robots"]),
        ({"audience": "family"}, ["Family Yoga"]),
        ({"audience": "teens"}, []),
        ({"weekday": "2"}, ["Bread Baking"]),
        ({"weekday": "3"}, []),
        ({"weekday": "4"}, ["Lego Robots"]),
        ({"weekday": "6"}, ["Family Yoga"]),
        ({"time_of_day": "morning"}, ["Lego Robots"]),
        ({"time_of_day": "afternoon"}, ["Family Yoga"]),
        ({"time_of_day": "evening"}, ["Bread Baking"]),
        ({"venue": "kitchen"}, ["Bread Baking"]),
        ({"venue": "meeting-room"}, ["Family Yoga", "Lego Robots"]),
        ({"has_seats": "on"}, ["Bread Baking", "Lego Robots"]),
        ({"q": "bread"}, ["Bread Baking"]),
        ({"q": "crumb"}, ["Bread Baking"]),
        ({"q": "lego robots"}, ["Lego Robots"]),
        ({"q": "nothing-like-this"}, []),
        ({"category": "tech", "has_seats": "on"}, ["Lego Robots"]),
        ({"venue": "meeting-room", "time_of_day": "afternoon"}, ["Family Yoga"]),
    ],
)
def test_each_filter_narrows_the_list(client, filter_courses, params, expected):
    response = client.get(HOME, params)
    assert response.status_code == 200
    assert sorted(titles(response)) == expected
    assert response.context["ignored_filters"] == []


def test_has_seats_leaves_out_courses_past_their_cutoff(client, filter_courses):
    bread = filter_courses["bread"]
    closes = bread.registration_closes_at
    from classes.selectors import CatalogFilters, catalog_courses, catalog_filter
    from enrollment.selectors import course_seats_annotate

    def open_titles(now):
        qs = course_seats_annotate(catalog_courses(semesters=[bread.semester]), now=now)
        return sorted(c.title for c in catalog_filter(qs, CatalogFilters(has_seats=True), semesters=[bread.semester],
                                                      now=now))

    assert "Bread Baking" in open_titles(closes - dt.timedelta(minutes=1))
    assert "Bread Baking" not in open_titles(closes)


def test_has_seats_leaves_out_cancelled_courses(client, filter_courses):
    filter_courses["robots"].status = Course.Status.CANCELLED
    filter_courses["robots"].save()
    assert titles(client.get(HOME, {"has_seats": "on"})) == ["Bread Baking"]


@pytest.mark.parametrize(
    "params",
    [
        {"weekday": "abc"},
        {"weekday": "99999999999999999999999"},
        {"time_of_day": "xyz"},
        {"category": "no-such-category"},
        {"audience": "aliens"},
        {"venue": "<script>alert(1)</script>"},
        {"q": "x" * 5000},
        {"q": "bad\x00byte"},
        {"weekday": "abc", "time_of_day": "xyz", "audience": "aliens", "q": "y" * 300},
    ],
)
def test_bogus_filter_values_are_ignored_and_reported(client, filter_courses, params):
    response = client.get(HOME, params)
    assert response.status_code == 200
    assert sorted(titles(response)) == ["Bread Baking", "Family Yoga", "Lego Robots"]
    assert response.context["ignored_filters"]
    body = response.content.decode()
    assert "could not understand" in body
    assert "<script>alert(1)</script>" not in body


def test_a_bogus_value_does_not_drop_the_valid_filters(client, filter_courses):
    response = client.get(HOME, {"weekday": "abc", "category": "cooking"})
    assert titles(response) == ["Bread Baking"]
    assert response.context["ignored_filters"] == ["Day of the week"]


def test_draft_courses_never_match_a_filter(client, filter_courses):
    course_with_meetings(semester=filter_courses["bread"].semester, title="Bread Draft", status=Course.Status.DRAFT)
    assert titles(client.get(HOME, {"q": "bread"})) == ["Bread Baking"]


# --- course page ----------------------------------------------------------------------------

def test_course_page_shows_everything_a_patron_needs(client):
    venue = VenueFactory(name="Teaching Kitchen", accessibility_notes="Ramp at the side door.",
                         parking_notes="Park on 5th Street.")
    instructor = InstructorFactory(first_name="Rosa", last_name="Baker", bio="Baked bread for 30 years.")
    first_day = next_weekday(2)  # a Tuesday
    course = course_with_meetings(
        title="Bread Baking", venue=venue, instructor=instructor, capacity=12, minimum=5, weekly=2,
        first=local_dt(first_day, 18, 30), description="Sourdough from scratch.", what_to_bring="An apron.",
        audience=Course.Audience.TEENS, age_min=13, age_max=17, fee=Decimal("25.00"),
    )
    RegistrationFactory.create_batch(2, course=course)  # confirmed
    RegistrationFactory(course=course, status=Registration.Status.HELD, expires_at=timezone.now() + dt.timedelta(minutes=10))
    RegistrationFactory(course=course, status=Registration.Status.HELD, expires_at=timezone.now() - dt.timedelta(minutes=1))
    RegistrationFactory(course=course, status=Registration.Status.CANCELLED)

    response = client.get(course.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1" in body and "Bread Baking</h1>" in body
    assert course.category.name in body
    assert "Teens · Ages 13–17" in body
    assert "Sourdough from scratch." in body and "An apron." in body
    assert "Rosa Baker" in body and "Baked bread for 30 years." in body
    assert "$25.00" in body
    assert "9 seats left" in body  # 12 − 2 confirmed − 1 live hold
    assert "Needs 3 more to run" in body  # minimum 5 − 2 confirmed
    closes = first_day - dt.timedelta(days=7)
    assert f"Register by {short(closes - dt.timedelta(days=1))}" in body  # the last day, inclusive
    assert short(closes) not in body  # the closing day itself is not a patron's date
    assert "Registration closed" not in body
    assert venue.full_address in body
    assert f'href="{html.escape(venue.map_url)}"' in body
    assert "Ramp at the side door." in body and "Park on 5th Street." in body
    assert f"{first_day:%A, %B} {first_day.day}, {first_day.year}, 6:30 p.m." in body
    second = first_day + dt.timedelta(weeks=1)
    assert f"{second:%A, %B} {second.day}" in body
    assert reverse("classes:course-ics", args=[course.semester.slug, course.slug]) in body
    assert "Add to calendar (.ics)" in body


def test_course_page_free_fee_and_meeting_at_another_venue(client):
    course = course_with_meetings(fee=Decimal("0.00"), minimum=1)
    RegistrationFactory(course=course)
    hall = VenueFactory(name="St. Mark's Hall", street_address="12 Oak Ave")
    start = local_dt(today() + dt.timedelta(days=40), 10)
    MeetingFactory(course=course, venue=hall, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    body = client.get(course.get_absolute_url()).content.decode()
    assert "Free" in body
    assert "St. Mark&#x27;s Hall" in body and "12 Oak Ave" in body
    assert "more to run" not in body


def test_full_course_says_full(client):
    course = course_with_meetings(capacity=3, minimum=2)
    RegistrationFactory.create_batch(3, course=course)
    body = client.get(course.get_absolute_url()).content.decode()
    assert "Full" in body
    assert "seats left" not in body


def test_past_cutoff_says_registration_closed(client):
    course = course_with_meetings(first=local_dt(today() + dt.timedelta(days=3), 18, 30))
    body = client.get(course.get_absolute_url()).content.decode()
    assert "Registration closed" in body
    assert "Register by" not in body
    assert "seats left" not in body


def test_registration_not_yet_open_says_when_it_opens(client):
    opens = timezone.now() + dt.timedelta(days=5)
    semester = SemesterFactory(registration_opens_at=opens)
    course = course_with_meetings(semester=semester, first=local_dt(today() + dt.timedelta(days=40), 18, 30))
    body = client.get(course.get_absolute_url()).content.decode()
    assert f"Registration opens {short(timezone.localtime(opens).date())}" in body
    assert "Registration opens" in client.get(HOME).content.decode()


@pytest.mark.parametrize(
    ("status", "label"),
    [(Course.Status.CANCELLED, "Cancelled"), (Course.Status.RUNNING, "Running"), (Course.Status.COMPLETED, "Completed")],
)
def test_status_labels(client, status, label):
    # Past the cutoff: a running class before it still takes registrations (test_run_early.py).
    course = course_with_meetings(status=status, first=timezone.now() + dt.timedelta(days=3))
    body = client.get(course.get_absolute_url()).content.decode()
    assert f"<strong>{label}.</strong>" in body
    assert "seats left" not in body
    assert "more to run" not in body


def test_cancelled_course_has_no_calendar_link(client):
    course = course_with_meetings(status=Course.Status.CANCELLED)
    body = client.get(course.get_absolute_url()).content.decode()
    assert "Add to calendar" not in body


def test_draft_course_and_unpublished_semester_are_404(client):
    draft = course_with_meetings(status=Course.Status.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(reverse("classes:course-ics", args=[draft.semester.slug, draft.slug])).status_code == 404
    hidden = course_with_meetings(semester=SemesterFactory(is_published=False))
    assert client.get(hidden.get_absolute_url()).status_code == 404


# --- page structure (WCAG basics) -----------------------------------------------------------

class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.html_lang = None
        self.headings: list[int] = []
        self.landmarks: list[str] = []
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if tag in {"header", "nav", "main", "footer"}:
            self.landmarks.append(tag)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag in {"select", "textarea"} or (tag == "input" and a.get("type") not in {"hidden", "submit"}):
            self.controls.append(a)
        if tag == "a":
            self.links.append(a.get("href", ""))


def _outline(response) -> _Outline:
    parser = _Outline()
    parser.feed(response.content.decode())
    return parser


@pytest.mark.parametrize("page", ["home", "category", "course", "404"])
def test_pages_have_landmarks_one_h1_ordered_headings_and_labelled_controls(client, filter_courses, page):
    bread = filter_courses["bread"]
    url = {
        "home": HOME + "?weekday=abc",
        "category": bread.category.get_absolute_url(),
        "course": bread.get_absolute_url(),
        "404": "/no/such/page/",
    }[page]
    outline = _outline(client.get(url))
    assert outline.html_lang == "en"
    assert outline.headings.count(1) == 1 and outline.headings[0] == 1
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    assert {"header", "nav", "main", "footer"} <= set(outline.landmarks)
    assert "main" in outline.ids and "#main" in outline.links  # skip link
    for control in outline.controls:
        assert control.get("id") in outline.label_for, f"unlabelled control {control}"
    if page in {"home", "category"}:
        assert len(outline.controls) >= 6
    assert not [href for href in outline.links if href.startswith("//")]


def test_no_external_assets_and_header_shows_site_names(client, filter_courses):
    options = SiteOptions.current()
    options.library_name = "Salina Public Library"
    options.program_name = "Lifelong Learning"
    options.phone = "785-555-0100"
    options.email = "classes@salina.example"
    options.save()
    body = client.get(HOME).content.decode()
    assert "Salina Public Library" in body and "Lifelong Learning" in body
    assert "785-555-0100" in body and "classes@salina.example" in body
    assert 'src="http' not in body
    assert '<link rel="stylesheet" href="http' not in body
