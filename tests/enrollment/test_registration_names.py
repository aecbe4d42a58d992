"""A name corrected in the back office (``RegistrationAdmin`` → ``registration_names_edit``): the
names and the identity key saved under the row lock, and one audit row with who, when and the
name from → to (the status unchanged); nothing written when nothing changed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Registration, RegistrationEvent
from enrollment.services import registration_names_edit
from enrollment.services.seats import attendee_key
from tests.factories import RegistrationFactory, course_with_meetings

pytestmark = pytest.mark.django_db
S = Registration.Status


def change(staff_client, registration, first: str, last: str):
    url = reverse("admin:enrollment_registration_change", args=[registration.pk])
    return staff_client.post(url, {"attendee_first_name": first, "attendee_last_name": last})


def test_a_name_edit_in_the_admin_writes_one_audit_row_with_the_actor(staff_client):
    registration = RegistrationFactory(course=course_with_meetings(), attendee_first_name="Alex",
                                       attendee_last_name="Reeder")
    assert not registration.events.exists()

    response = change(staff_client, registration, "Alexis", "Reader")

    assert response.status_code == 302
    registration.refresh_from_db()
    assert (registration.attendee_first_name, registration.attendee_last_name) == ("Alexis", "Reader")
    assert registration.attendee_key == attendee_key(first_name="Alexis", last_name="Reader",
                                                     email=registration.order.email)
    (event,) = RegistrationEvent.objects.filter(registration=registration)
    assert event.actor == staff_client.user and event.actor_label == staff_client.user.get_username()
    assert (event.from_status, event.to_status) == (S.CONFIRMED, S.CONFIRMED) == (registration.status,) * 2
    assert event.reason == "name corrected: Alex Reeder → Alexis Reader"


def test_a_save_without_a_change_writes_no_audit_row(staff_client):
    registration = RegistrationFactory(course=course_with_meetings(), attendee_first_name="Alex",
                                       attendee_last_name="Reader")
    before = Registration.objects.values_list("updated_at", flat=True).get(pk=registration.pk)

    response = change(staff_client, registration, "Alex", "Reader")

    assert response.status_code == 302
    assert not RegistrationEvent.objects.filter(registration=registration).exists()
    assert Registration.objects.values_list("updated_at", flat=True).get(pk=registration.pk) == before


def test_the_service_keeps_the_status_and_what_others_wrote_meanwhile(django_user_model):
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.org", "a-long-passw0rd")
    registration = RegistrationFactory(course=course_with_meetings(), attendee_first_name="Sam",
                                       attendee_last_name="Lee")
    # cancelled meanwhile (the page read it confirmed): the correction keeps what was written since
    Registration.objects.filter(pk=registration.pk).update(status=S.CANCELLED, cancelled_at=timezone.now())

    edited = registration_names_edit(registration_id=registration.pk, first_name="Samuel", last_name="Lee",
                                     actor=clerk)

    assert edited.status == S.CANCELLED
    registration.refresh_from_db()
    assert (registration.attendee_first_name, registration.status) == ("Samuel", S.CANCELLED)
    (event,) = registration.events.all()
    assert (event.actor, event.from_status, event.to_status) == (clerk, S.CANCELLED, S.CANCELLED)
    assert event.reason == "name corrected: Sam Lee → Samuel Lee"
