"""The catalog's semesters: patrons see every published semester not yet over — the current one
(running now, or the soonest) first, the next ones a click away — and search, filters and
category pages cover them all, grouped by semester. Course pages of any published semester open."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from classes.models import Course
from classes.selectors import semester_current, semesters_visible
from core.models import SiteOptions
from tests.factories import CategoryFactory, SemesterFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db

HOME = reverse("classes:home")


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


def day(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def year():
    """Winter runs now; Spring is published with registration open; Summer is published with
    registration to come; Fall ended yesterday; Draft is not published."""
    now = timezone.now()
    semesters = {
        "fall": SemesterFactory(name="Fall 2026", slug="fall-2026", starts_on=day(-120), ends_on=day(-1)),
        "winter": SemesterFactory(name="Winter 2026–27", slug="winter-2026-27", starts_on=day(-30), ends_on=day(40)),
        "spring": SemesterFactory(name="Spring 2027", slug="spring-2027", starts_on=day(45), ends_on=day(130),
                                  registration_opens_at=now - dt.timedelta(days=1), cutoff_days=3),
        "summer": SemesterFactory(name="Summer 2027", slug="summer-2027", starts_on=day(140), ends_on=day(220),
                                  registration_opens_at=local_dt(day(20), 9)),
        "draft": SemesterFactory(name="Autumn Draft", slug="autumn-draft", starts_on=day(230), ends_on=day(300),
                                 is_published=False),
    }
    pottery = CategoryFactory(name="Pottery", slug="pottery")
    cooking = CategoryFactory(name="Cooking", slug="cooking")
    courses = {
        "fall": course_with_meetings(semester=semesters["fall"], title="Fall Pottery", category=pottery,
                                     first=local_dt(day(-60), 18), status=Course.Status.COMPLETED),
        "winter": course_with_meetings(semester=semesters["winter"], title="Winter Pottery", category=pottery,
                                       first=local_dt(day(20), 18)),
        "winter_bread": course_with_meetings(semester=semesters["winter"], title="Winter Bread", category=cooking,
                                             first=local_dt(day(25), 10)),
        "spring": course_with_meetings(semester=semesters["spring"], title="Spring Pottery", category=pottery,
                                       first=local_dt(day(50), 18)),
        "spring_bread": course_with_meetings(semester=semesters["spring"], title="Spring Bread", category=cooking,
                                             first=local_dt(day(60), 10)),
        "summer": course_with_meetings(semester=semesters["summer"], title="Summer Pottery", category=pottery,
                                       first=local_dt(day(150), 18)),
        "draft": course_with_meetings(semester=semesters["draft"], title="Draft Pottery", category=pottery,
                                      first=local_dt(day(240), 18)),
    }
    return {"semesters": semesters, "courses": courses}


def titles(response) -> list[str]:
    return [course.title for course in response.context["courses"]]


def tabs(body: str) -> list[tuple[str, str, bool]]:
    """(label, href, current) of each link of the semester switcher."""
    nav = re.search(r'<nav[^>]*aria-label="Semesters"[^>]*>(.*?)</nav>', body, re.S)
    assert nav, "no semester switcher"
    found = []
    for attrs, text in re.findall(r"<a ([^>]*)>(.*?)</a>", nav.group(1), re.S):
        href = re.search(r'href="([^"]*)"', attrs).group(1).replace("&amp;", "&")
        label = " ".join(re.sub(r"<[^>]+>", " ", text).split())
        found.append((label, href, 'aria-current="page"' in attrs))
    return found


def test_visible_semesters_are_the_published_ones_not_yet_over_current_first(year):
    s = year["semesters"]
    assert semesters_visible() == [s["winter"], s["spring"], s["summer"]]
    assert semester_current() == s["winter"]


def test_home_shows_the_current_semester_and_a_switcher_to_the_next_ones(client, year):
    response = client.get(HOME)
    body = response.content.decode()
    assert "<h1>Winter 2026–27 classes</h1>" in body
    assert sorted(titles(response)) == ["Winter Bread", "Winter Pottery"]
    found = tabs(body)
    assert [(href, current) for _, href, current in found] == [
        (HOME + "?semester=winter-2026-27", True),
        (HOME + "?semester=spring-2027", False),
        (HOME + "?semester=summer-2027", False),
        (HOME + "?semester=all", False),
    ]
    labels = [label for label, _, _ in found]
    assert labels[0].startswith("Winter 2026–27") and labels[3] == "All semesters"
    assert "Registration open" in labels[1]
    opens = timezone.localtime(year["semesters"]["summer"].registration_opens_at)
    assert f"Registration opens {opens:%b} {opens.day}" in labels[2]
    assert "Fall 2026" not in body and "Autumn Draft" not in body


def test_the_next_semester_is_a_click_away_and_open_for_registration(client, year):
    response = client.get(HOME, {"semester": "spring-2027"})
    body = response.content.decode()
    assert "<h1>Spring 2027 classes</h1>" in body
    assert sorted(titles(response)) == ["Spring Bread", "Spring Pottery"]
    assert [current for _, _, current in tabs(body)] == [False, True, False, False]
    spring = year["courses"]["spring"]
    assert f'name="course" value="{spring.pk}"' in body  # Register
    summer = client.get(HOME, {"semester": "summer-2027"}).content.decode()
    assert "Registration opens" in summer and 'name="course"' not in summer


def test_search_covers_every_visible_semester_grouped_by_semester(client, year):
    response = client.get(HOME, {"q": "pottery"})
    body = response.content.decode()
    assert titles(response) == ["Winter Pottery", "Spring Pottery", "Summer Pottery"]
    groups = re.findall(r'<h2 id="semester-[^"]+"[^>]*>(.*?)</h2>', body, re.S)
    assert [" ".join(re.sub(r"<[^>]+>", " ", g).split()) for g in groups] == [
        "Winter 2026–27 (1 class)", "Spring 2027 (1 class)", "Summer 2027 (1 class)"]
    assert body.index("Winter Pottery") < body.index("Spring Pottery") < body.index("Summer Pottery")
    assert "Fall Pottery" not in body and "Draft Pottery" not in body
    assert tabs(body)[-1] == ("All semesters", HOME + "?q=pottery&semester=all", True)
    # The switcher narrows the search to one semester, keeping it.
    assert tabs(body)[1][1] == HOME + "?q=pottery&semester=spring-2027"
    assert titles(client.get(HOME, {"q": "pottery", "semester": "spring-2027"})) == ["Spring Pottery"]
    # Every filter does the same, e.g. the category.
    assert titles(client.get(HOME, {"category": "cooking"})) == ["Winter Bread", "Spring Bread"]
    # "All semesters" alone lists them all.
    assert len(titles(client.get(HOME, {"semester": "all"}))) == 5


def test_only_classes_with_open_seats_use_each_semesters_own_cutoff(client, year):
    """Spring's cutoff is 3 days: a Spring class 5 days away still has open seats, a Winter one (7 days) not."""
    s = year["semesters"]
    soon_winter = course_with_meetings(semester=s["winter"], title="Soon Winter", first=local_dt(day(5), 18))
    s["spring"].starts_on = day(2)
    s["spring"].save()
    soon_spring = course_with_meetings(semester=s["spring"], title="Soon Spring", first=local_dt(day(5), 18))
    found = titles(client.get(HOME, {"has_seats": "on"}))
    assert soon_spring.title in found and soon_winter.title not in found


def test_the_category_page_covers_every_visible_semester_and_the_home_links_match_its_counts(client, year):
    url = reverse("classes:category", args=["pottery"])
    response = client.get(url)
    assert titles(response) == ["Winter Pottery", "Spring Pottery", "Summer Pottery"]
    assert titles(client.get(url, {"semester": "spring-2027"})) == ["Spring Pottery"]
    assert tabs(response.content.decode())[1][1] == url + "?semester=spring-2027"
    # The home's category list counts the semester shown, and its links show that semester.
    home = client.get(HOME, {"semester": "spring-2027"})
    counts = {c.slug: c.course_count for c in home.context["categories"]}
    assert counts == {"pottery": 1, "cooking": 1}
    assert f'href="{url}?semester=spring-2027"' in home.content.decode()


def test_an_unknown_or_ended_semester_is_ignored_and_said_so(client, year):
    for slug in ("fall-2026", "autumn-draft", "no-such"):
        response = client.get(HOME, {"semester": slug})
        assert response.status_code == 200
        assert response.context["ignored_filters"] == ["Semester"]
        assert sorted(titles(response)) == ["Winter Bread", "Winter Pottery"]


def test_course_pages_of_every_published_semester_open(client, year):
    c = year["courses"]
    for key in ("fall", "winter", "spring", "summer"):
        assert client.get(c[key].get_absolute_url()).status_code == 200
    assert client.get(c["draft"].get_absolute_url()).status_code == 404
    # The breadcrumb leads back to the course's own semester.
    body = client.get(c["spring"].get_absolute_url()).content.decode()
    assert f'href="{HOME}?semester=spring-2027">Spring 2027 classes</a>' in body


def test_one_semester_needs_no_switcher(client):
    course_with_meetings(title="Only Course")
    body = client.get(HOME).content.decode()
    assert 'aria-label="Semesters"' not in body and "Only Course" in body
    assert 'name="semester"' not in body
