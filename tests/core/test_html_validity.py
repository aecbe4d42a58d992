"""What the W3C validator (vnu) refused in our HTML, checked on the rendered pages and e-mails:
an ``autocomplete="street-address"`` on a one-line ``<input>`` (that token is for a multi-line
field), ``<time datetime>`` values with microseconds, and ``<main>`` inside a table cell in the
e-mails (a ``main`` element may only sit in html, body, div or form)."""

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from enrollment import messages
from tests.enrollment.mail_checks import only_message, parts, site  # noqa: F401  (site: autouse fixture)
from tests.factories import MeetingFactory, OrderFactory, SemesterFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db

# HTML's "valid global date and time string" as we write it: to the second, with an offset.
HTML_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:?\d\d)$")


class _Tags(HTMLParser):
    """Every start tag with its attributes and the stack of open elements above it."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict, tuple[str, ...]]] = []
        self.stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass


def _course(**kwargs):
    semester = SemesterFactory(is_published=True)
    first = local_dt(today() + dt.timedelta(days=21), 18, 30)
    return course_with_meetings(semester=semester, first=first, weekly=2, fee=Decimal("30.00"), **kwargs)


def test_the_checkout_street_address_input_autocompletes_as_address_line1(client):
    course = _course()
    client.post(reverse("enrollment:cart-add"), {"course": course.pk})
    body = client.get(reverse("enrollment:checkout")).content.decode()
    inputs = [attrs for tag, attrs, _ in _Tags(body).tags if tag == "input"]
    street = [a for a in inputs if (a.get("name") or "").endswith("street_address")]
    assert street, "the checkout asks for a street address"
    assert {a.get("autocomplete") for a in street} == {"address-line1"}
    assert not [a for a in inputs if a.get("autocomplete") == "street-address"]


def test_time_datetime_attributes_have_no_microseconds(client):
    course = _course(title="Bread Baking")
    # A meeting saved with microseconds (as a time typed to the second never is, but "now + 15
    # minutes", a hold's expiry, always is).
    start = local_dt(today() + dt.timedelta(days=40), 18, 30) + dt.timedelta(microseconds=123456)
    MeetingFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(minutes=90, microseconds=654321))
    pages = [client.get(course.get_absolute_url()), client.get(reverse("classes:home"))]
    values = []
    for response in pages:
        assert response.status_code == 200
        values += [attrs["datetime"] for tag, attrs, _ in _Tags(response.content.decode()).tags
                   if tag == "time" and "datetime" in attrs]
    assert values, "the pages mark up their dates"
    assert [v for v in values if not HTML_DATETIME.match(v)] == []
    assert timezone.localtime(start).replace(microsecond=0).isoformat() in values


def test_the_html_datetime_filter_drops_microseconds_and_keeps_local_time():
    when = dt.datetime(2030, 3, 5, 0, 30, 15, 999999, tzinfo=dt.UTC)
    rendered = Template("{% load html_time %}{{ when|html_datetime }}").render(Context({"when": when}))
    assert rendered == "2030-03-04T18:30:15-06:00"  # Chicago, the program's time zone


def test_emails_have_no_main_element_inside_a_table_cell():
    OrderFactory(email="pat.reader@example.org")
    messages.queue_manage_link("pat.reader@example.org")
    _, html = parts(only_message("manage_link"))
    tags = _Tags(html).tags
    assert not [stack for tag, _, stack in tags if tag == "main" and "td" in stack]
    # The message body is still the one main landmark of the e-mail.
    assert len([tag for tag, attrs, _ in tags if tag == "main" or attrs.get("role") == "main"]) == 1
