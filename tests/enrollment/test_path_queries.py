"""Query counts of the patron's checkout and the front desk (issue 12): a fixed number however many
classes the program has, and — for checkout — for one seat as for four. The counts are the
tests' (sessions in the test database: the session's read and write are in them); tighten them
when a path gets cheaper, never loosen them without a reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import tasks as core_tasks
from core.models import SiteOptions
from core.roles import FRONT_DESK, roles_sync
from enrollment.models import EnrollmentOptions, Order, ReferralSource, Registration
from tests.factories import SemesterFactory, VenueFactory, course_with_meetings, local_dt, today
from tests.queries import queries as counted

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("enrollment:checkout")
REGISTER = "/staff/desk/register/"

#: checkout POST that places the order (1 seat, 4 seats in 4 classes)
CHECKOUT_POST = {1: 26, 4: 29}
DESK_GET = 7
DESK_POST = 45  # incl. one insert of the receipt's files (stored once: OutboxAttachment)


@pytest.fixture(autouse=True)
def _setup(monkeypatch):
    SiteOptions.current()
    EnrollmentOptions.current()
    ReferralSource.objects.get_or_create(name="A friend")
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *a, **k: None)


def program(n: int) -> list:
    semester = SemesterFactory(is_published=True)
    venue = VenueFactory(capacity=500)
    first = local_dt(today() + dt.timedelta(days=21), 18, 30)
    return [course_with_meetings(semester=semester, venue=venue, capacity=100, fee=Decimal("25.00"), weekly=3,
                                 first=first, title=f"Class {i:03d}") for i in range(n)]


def queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    return counted(ctx), response


def checkout(courses, *, email: str) -> tuple[int, object]:
    from tests.enrollment.test_checkout_views import rendered_form

    client = Client()
    for course in courses:
        client.post(reverse("enrollment:cart-add"), {"course": course.pk})
    data = rendered_form(client.get(CHECKOUT))
    data.update({"buyer-first_name": "Jordan", "buyer-last_name": "Buyer", "buyer-email": email,
                 "buyer-phone": "785-555-0100", "action": "place",
                 "buyer-referral": str(ReferralSource.objects.filter(active=True).first().pk)})
    for k in range(len(courses)):
        data[f"class{k}-attendee0-first_name"] = "Alex"
        data[f"class{k}-attendee0-last_name"] = "Reader"
    count, response = queries(lambda: client.post(CHECKOUT, data))
    assert response.status_code == 302 and "/pay" in response["Location"], response
    return count, response


@pytest.mark.parametrize("seats", [1, 4])
def test_checkout_post_is_a_fixed_number_of_queries(seats):
    few = program(seats)
    small, _ = checkout(few, email="first@example.org")
    program(60)  # the rest of a large program
    large, _ = checkout(few, email="second@example.org")
    assert small == large == CHECKOUT_POST[seats], (small, large)
    assert Registration.objects.filter(status=Registration.Status.HELD).count() == 2 * seats


def _desk_client(django_user_model) -> Client:
    if not Group.objects.filter(name=FRONT_DESK).exists():
        from django.contrib.auth.models import Permission

        roles_sync(Group, Permission)
    user = django_user_model.objects.create_user("frontdesk", "fd@library.example", "a-long-passw0rd", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client = Client()
    client.force_login(user)
    return client


def _desk_data(course, n: int) -> dict:
    return {
        "nonce": f"{n:032x}", "rows": "4",
        "buyer-first_name": "Jordan", "buyer-last_name": "Buyer", "buyer-email": f"d{n}@example.org",
        "buyer-phone": "785-555-0100", "buyer-street_address": "", "buyer-city_state_zip": "",
        "pay-provider": "cash", "pay-amount": "", "pay-reference": "", "pay-payer": "",
        "row0-course": str(course.pk), "row0-first_name": "Sam", "row0-last_name": "Reader",
        "row0-relationship": "self",
    }


def test_the_desk_page_and_its_post_are_a_fixed_number_of_queries(django_user_model):
    client = _desk_client(django_user_model)
    [course] = program(3)[:1]
    get_small, page = queries(lambda: client.get(REGISTER))
    post_small, done = queries(lambda: client.post(REGISTER, _desk_data(course, 1)))
    assert page.status_code == 200 and done.status_code == 302, done
    program(60)
    get_large, page = queries(lambda: client.get(REGISTER))
    post_large, done = queries(lambda: client.post(REGISTER, _desk_data(course, 2)))
    assert done.status_code == 302 and Order.objects.filter(channel=Order.Channel.DESK).count() == 2
    assert (get_small, post_small) == (get_large, post_large) == (DESK_GET, DESK_POST), (
        get_small, post_small, get_large, post_large)


def test_the_class_list_is_rendered_once_not_once_per_row(django_user_model):
    """The desk page's class list is one rendered block shared by every row: no option template
    is rendered per class, so the work does not grow with rows times classes."""
    from django.test.signals import template_rendered

    client = _desk_client(django_user_model)

    def option_renders() -> int:
        seen: list[str] = []

        def on_render(sender, template, context, **kwargs):
            if template.name and template.name.endswith("select_option.html"):
                seen.append(template.name)

        template_rendered.connect(on_render)
        try:
            assert client.get(REGISTER).status_code == 200
        finally:
            template_rendered.disconnect(on_render)
        return len(seen)

    program(2)
    few = option_renders()
    program(40)
    assert option_renders() == few


def test_a_rows_class_list_is_the_html_djangos_select_would_render():
    from django import forms

    from enrollment.staff.forms.desk import DeskCourses, SharedOptionsSelect

    courses = program(3)
    desk = DeskCourses(now=courses[0].created_at, load=lambda ids: [c for c in courses if ids is None or c.pk in ids])
    attrs = {"class": "desk-course", "aria-label": "Row 2 class", "id": "id_row1-course"}
    for value in (None, "", str(courses[1].pk), "999999"):
        ours = SharedOptionsSelect(attrs, courses=desk).render("row1-course", value)
        django = forms.Select(attrs, choices=desk.choices).render("row1-course", value)
        assert _parsed(ours) == _parsed(django), value


def _parsed(html: str) -> list[tuple[str, list]]:
    """The tags (with their attributes, in any order) and texts of ``html``."""
    from html.parser import HTMLParser

    items: list[tuple[str, list]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            items.append((tag, sorted(attrs)))

        def handle_endtag(self, tag):
            items.append(("/" + tag, []))

        def handle_data(self, data):
            if data.strip():
                items.append(("text", [data.strip()]))

    Parser().feed(html)
    return items
