"""The cart is always one click away: a header link with the count on every public page, and
"In your cart" on a class's card and page once it is in. The count comes from the session, never
from the database (the catalog's query counts stay as they are)."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import SiteOptions
from tests.factories import course_with_meetings

pytestmark = pytest.mark.django_db

HOME = reverse("classes:home")
CART = reverse("enrollment:cart")


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


def header_link(body: str) -> str:
    match = re.search(rf'<a href="{re.escape(CART)}" class="cart-link"[^>]*>(.*?)</a>', body, re.S)
    assert match, "no cart link in the header"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_every_public_page_links_to_the_cart_with_its_count(client):
    bread = course_with_meetings(title="Bread Baking", fee=Decimal("25.00"))
    knife = course_with_meetings(title="Knife Skills", semester=bread.semester, fee=Decimal("20.00"))
    pages = [HOME, bread.get_absolute_url(), reverse("finance:donate"), reverse("enrollment:manage-link-request"),
             CART]
    for url in pages:
        assert header_link(client.get(url).content.decode()) == "Your cart 0 classes", url
    client.post(reverse("enrollment:cart-add"), {"course": bread.pk})
    client.post(reverse("enrollment:cart-add"), {"course": knife.pk})
    for url in pages:
        assert header_link(client.get(url).content.decode()) == "Your cart 2 classes", url
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert header_link(response.content.decode()) == "Your cart 2 classes"


def test_in_your_cart_on_the_card_and_the_course_page(client):
    bread = course_with_meetings(title="Bread Baking", fee=Decimal("25.00"))
    knife = course_with_meetings(title="Knife Skills", semester=bread.semester, fee=Decimal("20.00"))
    client.post(reverse("enrollment:cart-add"), {"course": bread.pk})

    home = client.get(HOME).content.decode()
    cards = {title: card for card in home.split('<article class="card course-card')[1:]
             for title in ["Bread Baking", "Knife Skills"] if f">{title}</a></h3>" in card}
    assert "In your cart" in cards["Bread Baking"] and "Register<span" not in cards["Bread Baking"]
    assert "In your cart" not in cards["Knife Skills"] and "Register<span" in cards["Knife Skills"]

    page = client.get(bread.get_absolute_url()).content.decode()
    assert "In your cart" in page and f'href="{CART}">View your cart' in page
    assert ">Register</button>" not in page
    page = client.get(knife.get_absolute_url()).content.decode()
    assert "In your cart" not in page and ">Register</button>" in page


def _queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_the_count_costs_no_query(client):
    bread = course_with_meetings(title="Bread Baking", fee=Decimal("25.00"))
    # No session at all: the session is not even read.
    assert not any("django_session" in sql for sql in _queries(client, HOME))
    client.post(reverse("enrollment:cart-add"), {"course": bread.pk})
    cache.clear()  # both built from the database (an empty cart may be served the shared page)
    with_one = _queries(client, HOME)
    client.post(reverse("enrollment:cart-remove"), {"course": bread.pk})
    client.get(CART)  # shows (and so clears) the "removed" notice
    cache.clear()
    empty = _queries(client, HOME)
    # A cart of one costs what an empty one does: the session read, nothing about courses.
    assert len(with_one) == len(empty)
    assert sum("django_session" in sql for sql in with_one) == 1
