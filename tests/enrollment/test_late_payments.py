"""When the money arrives late: the seat service's rules for payments after a hold ran out,
on a cancelled course, past the cutoff, or for an attendee who registered again meanwhile."""

import datetime as dt

import pytest
from django.utils import timezone

from classes.models import Course
from enrollment.models import Registration
from enrollment.services import order_place, registrations_confirm_paid
from tests.enrollment.test_seat_service import attendee, buyer
from tests.factories import RegistrationFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db
S = Registration.Status


@pytest.fixture
def now():
    return timezone.now()


def _held(course, now, first="Alex"):
    return order_place(buyer=buyer(), attendees=[attendee(course, first=first)], now=now).held[0]


def test_a_late_payment_for_an_attendee_who_registered_again_is_lost_not_a_crash(now):
    course = course_with_meetings(capacity=5)
    first = _held(course, now)
    later = first.expires_at + dt.timedelta(minutes=1)
    second = _held(course, later)  # the same attendee tries again once the first hold ran out
    confirmed, lost = registrations_confirm_paid(registration_ids=[first.pk], now=later)
    assert confirmed == [] and [r.pk for r in lost] == [first.pk]
    second.refresh_from_db()
    assert second.status == S.HELD


def test_a_payment_for_a_cancelled_course_is_lost_even_inside_the_hold(now):
    course = course_with_meetings(capacity=5)
    held = _held(course, now)
    Course.objects.filter(pk=course.pk).update(status=Course.Status.CANCELLED)
    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=now + dt.timedelta(minutes=1))
    assert confirmed == [] and [r.pk for r in lost] == [held.pk]


def test_a_hold_never_runs_past_the_cutoff(now):
    course = course_with_meetings(first=local_dt(today() + dt.timedelta(days=8), 18))
    closes = course.registration_closes_at
    just_before = closes - dt.timedelta(minutes=3)
    held = _held(course, just_before)
    assert held.expires_at == closes
    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=closes + dt.timedelta(minutes=5))
    assert confirmed == [] and len(lost) == 1


def test_a_late_payment_does_not_jump_the_waitlist(now):
    course = course_with_meetings(capacity=2, minimum=1)
    held = _held(course, now)
    RegistrationFactory(course=course)  # the other seat
    later = held.expires_at + dt.timedelta(minutes=1)
    order_place(buyer=buyer("other@example.org"), attendees=[attendee(course, first="Sam")], now=now,
                join_waitlist=True)  # in line while the hold was live
    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=later)
    assert confirmed == [] and len(lost) == 1


def test_a_late_payment_with_a_free_seat_and_nobody_waiting_is_confirmed(now):
    course = course_with_meetings(capacity=3, minimum=1)
    held = _held(course, now)
    later = held.expires_at + dt.timedelta(minutes=10)
    confirmed, lost = registrations_confirm_paid(registration_ids=[held.pk], now=later)
    assert [r.pk for r in confirmed] == [held.pk] and lost == []


def test_correcting_a_name_in_the_back_office_keeps_the_status_and_refuses_a_duplicate(staff_client, now):
    from django.urls import reverse

    course = course_with_meetings(capacity=5)
    held = _held(course, now)
    other = _held(course, now, first="Sam")
    url = reverse("admin:enrollment_registration_change", args=[held.pk])
    # Meanwhile the payment confirms the seat; the page still holds what it read before.
    registrations_confirm_paid(registration_ids=[held.pk], now=now)
    response = staff_client.post(url, {"attendee_first_name": "Alexandra", "attendee_last_name": "Reader"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.attendee_first_name, held.status) == ("Alexandra", S.CONFIRMED)
    assert held.attendee_key.startswith("alexandra reader|")
    response = staff_client.post(reverse("admin:enrollment_registration_change", args=[other.pk]),
                                 {"attendee_first_name": "Alexandra", "attendee_last_name": "Reader"})
    assert response.status_code == 200
    assert "already registered someone of that name" in response.content.decode()
    other.refresh_from_db()
    assert other.attendee_first_name == "Sam"
