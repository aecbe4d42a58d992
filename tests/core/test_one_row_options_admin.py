"""The one-row options (Site options, Registration options) in the back office: the dashboard
and the model list offer "Change" (to the one row) and never an "Add" whose page answers 403."""

import re

import pytest
from django.urls import reverse

from core.models import SiteOptions
from core.roles import COORDINATOR
from enrollment.models import EnrollmentOptions
from tests.factories import role_client

pytestmark = pytest.mark.django_db

ONE_ROW = [
    ("core", "siteoptions", SiteOptions),
    ("enrollment", "enrollmentoptions", EnrollmentOptions),
]


@pytest.fixture
def coordinator(django_user_model):
    return role_client(django_user_model, COORDINATOR, "coordinator")


def _links(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<a href="([^"]+)" class="{css_class}"', html)


@pytest.mark.parametrize("first_visit", [True, False], ids=["before-the-rows-exist", "rows-exist"])
def test_the_dashboard_offers_no_dead_add_link(coordinator, first_visit):
    """On a fresh database the rows are made on first use (while the dashboard renders): the
    index must not have offered "Add" for them all the same. Every "Add" it offers opens."""
    if not first_visit:
        SiteOptions.current(), EnrollmentOptions.current()
    assert first_visit is not EnrollmentOptions.objects.exists()
    html = coordinator.get(reverse("admin:index")).content.decode()
    adds = _links(html, "addlink")
    assert adds  # the coordinator may add semesters, courses, …
    for app, model, _ in ONE_ROW:
        assert reverse(f"admin:{app}_{model}_add") not in adds
    for url in adds:
        assert coordinator.get(url).status_code == 200, url


@pytest.mark.parametrize(("app", "model", "model_class"), ONE_ROW, ids=[m for _, m, _ in ONE_ROW])
def test_change_leads_to_the_one_row(coordinator, app, model, model_class):
    html = coordinator.get(reverse("admin:index")).content.decode()
    changelist = reverse(f"admin:{app}_{model}_changelist")
    assert changelist in _links(html, "changelink")
    response = coordinator.get(changelist, follow=True)
    row = model_class.objects.get()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(f"admin:{app}_{model}_change", args=[row.pk])
    # Its change page offers no "Save and add another" (there is never a second row).
    assert b'name="_addanother"' not in response.content
    # The app's own page (the model list of one app) offers no "Add" either.
    app_page = coordinator.get(reverse("admin:app_list", args=[app])).content.decode()
    assert reverse(f"admin:{app}_{model}_add") not in app_page
