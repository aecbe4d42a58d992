"""The catalog's shared cache (classes.catalog_cache, classes.views): a change to a course shows at
once, seat counts on a cached page are at most SEAT_STALENESS seconds old (a course page's never
are), a cached page never carries one visitor's cart or CSRF token to another, and a long list is
paged. Time is frozen (``timezone.now`` patched), never slept through."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from classes import catalog_cache
from classes.models import Course
from classes.views.catalog import PAGE_SIZE
from core.models import SiteOptions
from tests.factories import RegistrationFactory, SemesterFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db

HOME = reverse("classes:home")
CART_ADD = reverse("enrollment:cart-add")


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


class Clock:
    """``timezone.now`` frozen at the start of a seat-count time bucket; ``advance`` moves it."""

    def __init__(self, monkeypatch):
        start = int(timezone.now().timestamp()) // catalog_cache.SEAT_STALENESS * catalog_cache.SEAT_STALENESS
        self.now = dt.datetime.fromtimestamp(start, tz=dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def card(body: str, title: str) -> str:
    for part in body.split('<article class="card course-card')[1:]:
        if f">{title}</a></h3>" in part:
            return part[: part.index("</article>")]
    raise AssertionError(f"no card for {title}")


def cart_count(body: str) -> str:
    return re.search(r'<span class="cart-count">(\d+)</span>', body).group(1)


def test_a_cached_page_is_served_without_querying_the_courses(client, clock, django_assert_num_queries):
    course_with_meetings(title="Bread Baking")
    assert "Bread Baking" in client.get(HOME).content.decode()
    with django_assert_num_queries(1):  # the site options, for the header
        assert "Bread Baking" in client.get(HOME).content.decode()


@pytest.mark.parametrize("change", ["course", "meeting", "venue", "category", "status", "semester"])
def test_a_change_to_a_course_shows_at_once_on_a_cached_page(client, clock, change):
    course = course_with_meetings(title="Bread Baking", fee=Decimal("25.00"))
    url = course.get_absolute_url()
    home, page = client.get(HOME).content.decode(), client.get(url).content.decode()
    assert "Bread Baking" in home and "Bread Baking" in page
    if change == "course":
        course.title, course.description = "Sourdough Baking", "Now with rye."
        course.save()
        expect, expect_on_page = "Sourdough Baking", "Now with rye."
    elif change == "meeting":
        meeting = course.meetings.get()
        meeting.starts_at = local_dt(today() + dt.timedelta(days=30), 10, 15)
        meeting.ends_at = meeting.starts_at + dt.timedelta(hours=1)
        meeting.save()
        expect = expect_on_page = "10:15 a.m."
    elif change == "venue":
        course.venue.name = "The New Kitchen"
        course.venue.save()
        expect = expect_on_page = "The New Kitchen"
    elif change == "category":
        course.category.name = "Breads and Pastry"
        course.category.save()
        expect = expect_on_page = "Breads and Pastry"
    elif change == "status":
        course.status = Course.Status.CANCELLED
        course.save(update_fields=["status", "updated_at"])
        expect, expect_on_page = "Cancelled", "This class will not run."
    else:
        course.semester.name = "Winter Term"
        course.semester.save()
        expect = expect_on_page = "Winter Term"
    assert expect in client.get(HOME).content.decode()  # same instant: no time bucket passed
    assert expect_on_page in client.get(url).content.decode()


def test_seat_counts_on_a_cached_page_are_at_most_five_seconds_old(client, clock):
    course = course_with_meetings(title="Bread Baking", capacity=12, minimum=1)
    assert "12 seats left" in card(client.get(HOME).content.decode(), "Bread Baking")
    RegistrationFactory(course=course)  # someone registers (no change to the course itself)

    clock.advance(catalog_cache.SEAT_STALENESS - 1)
    assert "12 seats left" in card(client.get(HOME).content.decode(), "Bread Baking")  # allowed: within the bound
    # The course page, where a patron registers, is never stale.
    assert "11 seats left" in client.get(course.get_absolute_url()).content.decode()
    clock.advance(1)
    assert "11 seats left" in card(client.get(HOME).content.decode(), "Bread Baking")  # the bound, never later


def test_a_search_and_a_visitor_with_a_cart_see_seats_of_the_moment(client, clock):
    course = course_with_meetings(title="Bread Baking", capacity=12, minimum=1)
    other = course_with_meetings(title="Knife Skills", semester=course.semester)
    client.get(HOME)
    client.get(HOME, {"q": "bread"})
    RegistrationFactory(course=course)
    assert "11 seats left" in card(client.get(HOME, {"q": "bread"}).content.decode(), "Bread Baking")
    client.post(CART_ADD, {"course": other.pk})
    assert "11 seats left" in card(client.get(HOME).content.decode(), "Bread Baking")


def test_a_cached_page_never_shows_another_visitors_cart(client, clock):
    from django.test import Client

    bread = course_with_meetings(title="Bread Baking")
    knife = course_with_meetings(title="Knife Skills", semester=bread.semester)
    anonymous, other = Client(), Client()
    # A visitor without a cart fills the shared page first …
    first = anonymous.get(HOME).content.decode()
    assert cart_count(first) == "0" and "In your cart" not in first
    # … a visitor with a cart sees their own cart, not the shared page …
    client.post(CART_ADD, {"course": bread.pk})
    mine = client.get(HOME).content.decode()
    assert cart_count(mine) == "1"
    assert "In your cart" in card(mine, "Bread Baking") and "In your cart" not in card(mine, "Knife Skills")
    # … and what the cart visitor's request rendered never reaches the others.
    for visitor in (anonymous, other):
        body = visitor.get(HOME).content.decode()
        assert cart_count(body) == "0" and "In your cart" not in body
        assert f'name="course" value="{bread.pk}"' in body and f'name="course" value="{knife.pk}"' in body
    assert "In your cart" in client.get(bread.get_absolute_url()).content.decode()
    assert "In your cart" not in other.get(bread.get_absolute_url()).content.decode()


def csrf_tokens(body: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)


def test_one_add_to_cart_form_per_page_with_the_visitors_own_csrf_token(client, clock):
    from django.test import Client

    semester = SemesterFactory()
    courses = [course_with_meetings(title=f"Course {n}", semester=semester) for n in range(3)]
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    bodies = [visitor.get(HOME).content.decode() for visitor in (first, second)]
    for body in bodies:
        assert body.count("<form") == 2  # the filter form and the one "add to cart" form
        assert body.count(f'action="{CART_ADD}"') == 1 and len(csrf_tokens(body)) == 1
        for course in courses:
            assert f'form="cart-add" name="course" value="{course.pk}"' in body
    # Each visitor's page carries a token that works for that visitor (the shared part has none).
    for visitor, body in zip((first, second), bodies, strict=True):
        response = visitor.post(CART_ADD, {"course": courses[0].pk, "csrfmiddlewaretoken": csrf_tokens(body)[0]})
        assert response.status_code == 302


def test_a_page_without_a_register_button_has_no_add_to_cart_form(client, clock):
    course_with_meetings(title="Pottery", semester=SemesterFactory(registration_opens_at=timezone.now() + dt.timedelta(days=3)))
    body = client.get(HOME).content.decode()
    assert "Pottery" in body and CART_ADD not in body


def test_a_long_list_is_paged(client, clock):
    semester = SemesterFactory()
    for n in range(PAGE_SIZE + 1):
        course_with_meetings(title=f"Class {n:03d}", semester=semester,
                             first=local_dt(today() + dt.timedelta(days=20 + n % 30), 9 + n % 10))
    first = client.get(HOME)
    body = first.content.decode()
    assert len(first.context["courses"]) == PAGE_SIZE
    assert f"{PAGE_SIZE + 1} classes." in body and "Page 1 of 2" in body
    assert 'href="/?page=2" rel="next">Next page</a>' in body
    second = client.get(HOME, {"page": "2"})
    assert len(second.context["courses"]) == 1 and "Page 2 of 2" in second.content.decode()
    assert 'href="/?page=1" rel="prev">Previous page</a>' in second.content.decode()
    # A page past the end shows the last one; a bogus one the first.
    assert "Page 2 of 2" in client.get(HOME, {"page": "99"}).content.decode()
    for bogus in ("abc", "0", "-1"):
        assert "Page 1 of 2" in client.get(HOME, {"page": bogus}).content.decode()
    # Changing semester starts at page 1 again.
    assert "page=" not in re.sub(r'href="/\?page=\d"', "", body.split('class="catalog-pager"')[0])


def test_a_visitor_whose_cart_holds_none_of_a_pages_classes_is_served_the_shared_page(
        client, clock, django_assert_num_queries):
    from django.test import Client

    from tests.factories import CategoryFactory

    bread = course_with_meetings(title="Bread Baking", category=CategoryFactory(name="Cooking", slug="cooking"))
    pottery = course_with_meetings(title="Pottery", semester=bread.semester,
                                   category=CategoryFactory(name="Art", slug="art"))
    art = pottery.category.get_absolute_url()
    client.post(CART_ADD, {"course": bread.pk})
    Client().get(art)  # fills the shared page
    with django_assert_num_queries(3):  # the session, the category, the site options
        body = client.get(art).content.decode()
    assert cart_count(body) == "1" and "Pottery" in body and "In your cart" not in body
    # Home lists Bread Baking: built for this visitor (and not stored for the others).
    assert "In your cart" in card(client.get(HOME).content.decode(), "Bread Baking")
    assert "In your cart" not in Client().get(HOME).content.decode()
