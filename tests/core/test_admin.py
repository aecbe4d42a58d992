"""The back office as a whole (every registered model's pages load) and the site options."""

from decimal import Decimal

import factory
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

import tests.factories as factories
from core.models import OutboxMessage, SiteOptions
from enrollment.models import CallListEntry, CourseDecision, EnrollmentOptions, Order, Registration, ScholarshipWait
from finance.models import Donation, Fund, FundEntry, Payment, Refund, StripeEvent

# Models whose rows are only ever made by services (or are a single options row): no add page.
# django-axes' login attempts and logs are made by axes itself.
NO_ADD_BY_DESIGN = (SiteOptions, EnrollmentOptions, Registration, Order, OutboxMessage, Payment, Refund, StripeEvent,
                    CourseDecision, CallListEntry, Fund, FundEntry, Donation, ScholarshipWait,
                    AccessAttempt, AccessLog, AccessFailureLog)

pytestmark = pytest.mark.django_db

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _factory_for(model):
    for value in vars(factories).values():
        if (
            isinstance(value, type)
            and issubclass(value, factory.django.DjangoModelFactory)
            and value._meta.model is model
        ):
            return value
    return None


def make_object(model, client):
    """One saved row of ``model`` with everything its change page needs."""
    if model is SiteOptions:
        return SiteOptions.current()
    if model is EnrollmentOptions:
        return EnrollmentOptions.current()
    if model is client.user.__class__:
        return client.user
    if model is Group:
        return Group.objects.create(name="Desk staff")
    if model._meta.label == "classes.Course":
        return factories.course_with_meetings(weekly=2)
    model_factory = _factory_for(model)
    assert model_factory is not None, f"add a factory for {model._meta.label} to tests/factories"
    return model_factory()


def _admin_request(user):
    request = RequestFactory().get("/staff/")
    request.user = user
    return request


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=[m._meta.label for m, _ in REGISTRY])
def test_every_admin_page_loads(staff_client, model, model_admin):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    obj = make_object(model, staff_client)

    response = staff_client.get(reverse(f"{prefix}_changelist"), follow=True)
    assert response.status_code == 200

    response = staff_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
    assert response.status_code == 200

    add_url = reverse(f"{prefix}_add")
    response = staff_client.get(add_url)
    if model_admin.has_add_permission(_admin_request(staff_client.user)):
        assert response.status_code == 200
    else:
        assert model in NO_ADD_BY_DESIGN
        assert response.status_code == 403


def test_site_options_changelist_goes_to_the_single_row(staff_client):
    response = staff_client.get(reverse("admin:core_siteoptions_changelist"))
    options = SiteOptions.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_siteoptions_change", args=[options.pk])


def test_site_options_cannot_be_added_twice_or_deleted(staff_client):
    options = SiteOptions.current()
    assert staff_client.get(reverse("admin:core_siteoptions_add")).status_code == 403
    assert staff_client.post(reverse("admin:core_siteoptions_add"), {"library_name": "Second"}).status_code == 403
    response = staff_client.post(reverse("admin:core_siteoptions_delete", args=[options.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert SiteOptions.objects.count() == 1


def test_site_options_add_is_never_offered(staff_client):
    """Not even before the row exists: ``current()`` makes it on first use, maybe while the page
    offering "Add" renders, so that "Add" would answer 403 (issue 10)."""
    model_admin = admin.site._registry[SiteOptions]
    request = _admin_request(staff_client.user)
    assert not SiteOptions.objects.exists()
    assert not model_admin.has_add_permission(request)
    SiteOptions.current()
    assert not model_admin.has_add_permission(request)


def test_site_options_edit_saves_and_refuses_a_negative_rate(staff_client):
    options = SiteOptions.current()
    url = reverse("admin:core_siteoptions_change", args=[options.pk])
    data = {
        "library_name": "Salina Public Library", "program_name": "Lifelong Learning", "street_address": "",
        "city_state_zip": "", "phone": "", "email": "classes@example.org",
        "staff_hourly_rate": "22.50", "default_instructor_rate": "16.00",
    }
    assert staff_client.post(url, data).status_code == 302
    options.refresh_from_db()
    assert options.staff_hourly_rate == Decimal("22.50")
    assert options.program_name == "Lifelong Learning"

    response = staff_client.post(url, {**data, "staff_hourly_rate": "-1"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["staff_hourly_rate"]
    options.refresh_from_db()
    assert options.staff_hourly_rate == Decimal("22.50")


def test_registration_status_is_read_only_in_the_admin(staff_client):
    registration = factories.RegistrationFactory(status=Registration.Status.CONFIRMED,
                                                 attendee_first_name="Alex", attendee_last_name="Reader")
    other_course = factories.CourseFactory()
    url = reverse("admin:enrollment_registration_change", args=[registration.pk])
    response = staff_client.get(url)
    assert "status" not in response.context["adminform"].form.fields
    response = staff_client.post(url, {
        "attendee_first_name": "Alexis", "attendee_last_name": "Reader",
        "status": Registration.Status.CANCELLED, "course": other_course.pk, "expires_at_0": "2030-01-01",
    })
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.attendee_first_name == "Alexis"  # a name can be corrected...
    assert registration.status == Registration.Status.CONFIRMED  # ...but not the status
    assert registration.course_id != other_course.pk
    assert registration.expires_at is None
    response = staff_client.post(reverse("admin:enrollment_registration_delete", args=[registration.pk]),
                                 {"post": "yes"})
    assert response.status_code == 403


def test_registration_changelist_search_by_course_title_and_filter(staff_client):
    pottery = factories.CourseFactory(title="Pottery Wheel")
    factories.RegistrationFactory(course=pottery)
    factories.RegistrationFactory(course=factories.CourseFactory(title="Chess"),
                                  status=Registration.Status.CANCELLED)
    url = reverse("admin:enrollment_registration_changelist")
    response = staff_client.get(url, {"q": "pottery"})
    assert [r.course_id for r in response.context["cl"].result_list] == [pottery.pk]
    response = staff_client.get(url, {"status__exact": "cancelled"})
    assert [r.course.title for r in response.context["cl"].result_list] == ["Chess"]
