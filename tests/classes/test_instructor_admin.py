"""Instructors in the back office: list, search, filters, and refused input."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classes.models import Instructor
from tests.factories import CourseFactory, InstructorFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:classes_instructor_changelist")
ADD_URL = reverse("admin:classes_instructor_add")


def _data(**overrides):
    data = {
        "first_name": "Mae", "last_name": "Jordan", "email": "mae@example.org", "phone": "", "bio": "",
        "pay_basis": Instructor.PayBasis.HOURLY, "hourly_rate": "20.00", "active": "on",
    }
    data.update(overrides)
    return data


def test_list_shows_each_instructor_with_course_count(staff_client):
    busy = InstructorFactory(first_name="Busy", last_name="Bee", email="busy@example.org")
    CourseFactory.create_batch(3, instructor=busy)
    InstructorFactory(first_name="Idle", last_name="Ida")
    response = staff_client.get(CHANGELIST_URL)
    assert response.status_code == 200
    counts = {i.display_name: i.course_count for i in response.context["cl"].result_list}
    assert counts == {"Busy Bee": 3, "Idle Ida": 0}
    html = response.content.decode()
    assert "busy@example.org" in html
    assert '<td class="field-course_count">3</td>' in html


def test_list_query_count_does_not_grow_with_instructors(staff_client):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(CHANGELIST_URL).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        CourseFactory(instructor=InstructorFactory())
    staff_client.get(CHANGELIST_URL)
    few = queries()
    for _ in range(20):
        CourseFactory(instructor=InstructorFactory())
    assert queries() == few


def test_search_by_name_and_email(staff_client):
    InstructorFactory(first_name="Olive", last_name="Stone", email="olive@garden.example")
    InstructorFactory(first_name="Ray", last_name="Park", email="ray@example.org")
    names = lambda response: [i.display_name for i in response.context["cl"].result_list]  # noqa: E731
    assert names(staff_client.get(CHANGELIST_URL, {"q": "stone"})) == ["Olive Stone"]
    assert names(staff_client.get(CHANGELIST_URL, {"q": "garden.example"})) == ["Olive Stone"]
    assert names(staff_client.get(CHANGELIST_URL, {"q": "Ray Park"})) == ["Ray Park"]


def test_filters_by_pay_basis_library_staff_and_active(staff_client):
    InstructorFactory(first_name="Vol", last_name="Unteer", pay_basis=Instructor.PayBasis.VOLUNTEER)
    InstructorFactory(first_name="Lib", last_name="Rarian", is_library_staff=True)
    InstructorFactory(first_name="Gone", last_name="Away", active=False)
    names = lambda params: [  # noqa: E731
        i.display_name for i in staff_client.get(CHANGELIST_URL, params).context["cl"].result_list
    ]
    assert names({"pay_basis__exact": "volunteer"}) == ["Vol Unteer"]
    assert names({"is_library_staff__exact": "1"}) == ["Lib Rarian"]
    assert names({"active__exact": "0"}) == ["Gone Away"]


def test_add_instructor(staff_client):
    response = staff_client.post(ADD_URL, _data(is_library_staff="on"))
    assert response.status_code == 302
    mae = Instructor.objects.get(email="mae@example.org")
    assert mae.hourly_rate == Decimal("20.00") and mae.is_library_staff and mae.active


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hourly_rate": "0.00"}, "hourly_rate", "A paid instructor needs a rate above $0 (or mark them a volunteer)."),
        ({"hourly_rate": "-3.00"}, "hourly_rate", "Ensure this value is greater than or equal to 0."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
    ],
)
def test_invalid_instructor_is_refused_with_a_message_on_the_field(staff_client, overrides, field, message):
    response = staff_client.post(ADD_URL, _data(**overrides))
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert not Instructor.objects.exists()


def test_volunteer_needs_no_rate(staff_client):
    response = staff_client.post(ADD_URL, _data(pay_basis=Instructor.PayBasis.VOLUNTEER, hourly_rate="0.00"))
    assert response.status_code == 302
    assert Instructor.objects.get().is_volunteer
