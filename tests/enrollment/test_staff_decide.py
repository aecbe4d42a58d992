"""Staff decisions before the cutoff: run anyway or cancel early, with a reason, through the same
service as the week-out run, recorded in the audit trail."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from classes.models import Course
from enrollment.models import CourseDecision, Registration
from finance.models import Payment, Refund
from tests.factories import PaymentFactory, RegistrationFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db


def _course():
    return course_with_meetings(first=local_dt(today() + dt.timedelta(days=30), 18), capacity=10, minimum=5,
                                fee=Decimal("30.00"))


def test_staff_cancel_early_with_a_reason_cancels_tells_and_refunds(staff_client):
    course = _course()
    registration = RegistrationFactory(course=course, price=Decimal("30.00"))
    PaymentFactory(order=registration.order, amount=Decimal("30.00"), provider=Payment.Provider.CASH,
                   reference="", registrations=[registration])
    url = reverse("weekout:decide", args=[course.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"action": "cancel", "reason": "The instructor is ill"})
    assert response.status_code == 302
    course.refresh_from_db()
    registration.refresh_from_db()
    decision = CourseDecision.objects.get(course=course)
    assert (course.status, decision.outcome, decision.automatic) == ("cancelled", "cancelled", False)
    assert decision.decided_by == staff_client.user and decision.reason == "The instructor is ill"
    assert registration.status == Registration.Status.CANCELLED
    event = registration.events.last()
    assert event.actor == staff_client.user and "The instructor is ill" in event.reason
    refund = Refund.objects.get(registration=registration)
    assert refund.amount == Decimal("30.00") and refund.status == Refund.Status.PENDING  # cash: to issue


def test_staff_run_anyway_below_the_minimum(staff_client):
    course = _course()
    RegistrationFactory(course=course)
    response = staff_client.post(reverse("weekout:decide", args=[course.pk]),
                                 {"action": "run", "reason": "A pilot class; we run it with three"})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == Course.Status.RUNNING
    assert CourseDecision.objects.get(course=course).outcome == "running"


@pytest.mark.parametrize("data", [{"action": "cancel", "reason": ""}, {"action": "explode", "reason": "x"}, {}])
def test_bad_input_changes_nothing(staff_client, data):
    course = _course()
    response = staff_client.post(reverse("weekout:decide", args=[course.pk]), data)
    assert response.status_code == 200
    course.refresh_from_db()
    assert course.status == Course.Status.OPEN and not CourseDecision.objects.exists()


def test_deciding_twice_is_refused_with_a_message(staff_client):
    course = _course()
    url = reverse("weekout:decide", args=[course.pk])
    staff_client.post(url, {"action": "run", "reason": "go"})
    response = staff_client.post(url, {"action": "cancel", "reason": "changed my mind"})
    assert response.status_code == 200 and "already running" in response.content.decode()
    assert CourseDecision.objects.get(course=course).outcome == "running"
