"""Query counts of the payment page and the card return (issue 12), through a real localstripe:
the same however many classes the program has; the payment page the same for one seat as for
four (one query for the payments of all seats). The counts are the tests' (sessions in the test
database; PostgreSQL's lock-wait settings left out: tests.queries); tighten them when a path gets cheaper."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import SiteOptions
from enrollment.models import EnrollmentOptions, Registration
from enrollment.services import AttendeeInput, BuyerInput, order_place
from tests.factories import SemesterFactory, VenueFactory, course_with_meetings, local_dt, open_order, today
from tests.queries import queries

from .stripe_helpers import confirm_with_card, confirmation_url, return_url

pytestmark = pytest.mark.django_db

#: seats -> queries
PAY_PAGE = {1: 13, 4: 13}  # SQLite reads one more (below)
CARD_RETURN = {1: 24, 4: 30}  # incl. one insert of the confirmation's calendar files (OutboxAttachment)


@pytest.fixture(autouse=True)
def _options():
    SiteOptions.current()
    EnrollmentOptions.current()


def program(n: int) -> list:
    semester = SemesterFactory(is_published=True)
    venue = VenueFactory(capacity=500)
    first = local_dt(today() + dt.timedelta(days=21), 18, 30)
    return [course_with_meetings(semester=semester, venue=venue, capacity=100, fee=Decimal("25.00"), weekly=3,
                                 first=first, title=f"Class {i:03d}") for i in range(n)]


def pay_and_return(courses, browser, *, email: str) -> tuple[int, int]:
    placed = order_place(buyer=BuyerInput(first_name="Jordan", last_name="Patron", email=email),
                         attendees=[AttendeeInput(course_id=c.pk, first_name="Alex", last_name="Reader")
                                    for c in courses])
    order = placed.order
    client = Client()
    open_order(client, order)
    with CaptureQueriesContext(connection) as pay:
        response = client.get(reverse("finance:pay", args=[order.pk]))
    assert response.status_code == 200
    payment = response.context["payment"]
    confirm_with_card(client, order, payment, browser.card())
    with CaptureQueriesContext(connection) as back:
        response = client.get(return_url(order, payment))
    assert response.status_code == 302 and response["Location"] == confirmation_url(order), response
    assert all(r.status == Registration.Status.CONFIRMED for r in order.registrations.all())
    return queries(pay), queries(back)


@pytest.mark.stripe
@pytest.mark.parametrize("seats", [1, 4])
def test_pay_page_and_card_return_are_a_fixed_number_of_queries(seats, browser):
    classes = program(seats)
    small = pay_and_return(classes, browser, email="first@example.org")
    program(60)
    large = pay_and_return(classes, browser, email="second@example.org")
    sqlite_extra = 1 if connection.vendor == "sqlite" else 0  # one more read of the site options there (not yet traced)
    assert small == large == (PAY_PAGE[seats] + sqlite_extra, CARD_RETURN[seats]), (small, large)
