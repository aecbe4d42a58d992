"""Who may open a donation (issue 10 §3): a donation's page and its receipt PDF are for Finance and
the coordinator (``finance.view_donation``). A front-desk clerk who records a donation may open
that one donation's page and receipt for a short while afterwards (a grant kept in their own
session), and nothing else: not another donation by its sequential number, not another clerk's,
not their own once the grant ran out, not from another browser."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import SiteOptions
from core.roles import COORDINATOR, FINANCE, FRONT_DESK
from finance import donation_access
from finance.models import Donation
from tests.factories import DonationFactory, role_client

pytestmark = pytest.mark.django_db

FORM = {"first_name": "Ada", "last_name": "Lopez", "email": "", "address": "", "amount": "25",
        "method": "check", "reference": "2207", "dedication": "In memory of Rosa", "anonymous": "on"}


@pytest.fixture(autouse=True)
def _site():
    SiteOptions.current()


def urls(donation) -> list[str]:
    return [reverse("money:donation-detail", args=[donation.pk]), reverse("money:donation-receipt", args=[donation.pk])]


def record(client) -> Donation:
    response = client.post(reverse("money:donation-create"), FORM)
    assert response.status_code == 302
    return Donation.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def test_the_front_desk_cannot_open_a_donation_by_its_number(django_user_model):
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    other = DonationFactory(first_name="Hidden", last_name="Benefactor", anonymous=True, dedication="For Mother")
    for url in urls(other):
        response = desk.get(url)
        assert response.status_code in (403, 404), url
        assert "Benefactor" not in response.content.decode(errors="replace")


def test_the_clerk_who_recorded_a_donation_may_print_that_receipt_and_no_other(django_user_model):
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    earlier = DonationFactory(first_name="Hidden", last_name="Benefactor", anonymous=True)
    mine = record(desk)
    for url in urls(mine):
        assert desk.get(url).status_code == 200, url
    for url in urls(earlier):
        assert desk.get(url).status_code in (403, 404), url


def test_the_grant_ends_after_its_time(django_user_model, monkeypatch):
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    mine = record(desk)
    assert desk.get(urls(mine)[1]).status_code == 200
    later = timezone.now() + donation_access.GRANT_FOR + dt.timedelta(seconds=1)
    monkeypatch.setattr(donation_access.timezone, "now", lambda: later)
    for url in urls(mine):
        assert desk.get(url).status_code in (403, 404), url


def test_the_grant_is_the_clerks_session_only(django_user_model):
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    mine = record(desk)
    same_clerk_elsewhere = Client()
    same_clerk_elsewhere.force_login(desk.user)
    colleague = role_client(django_user_model, FRONT_DESK, "colleague")
    for client in (same_clerk_elsewhere, colleague):
        for url in urls(mine):
            assert client.get(url).status_code in (403, 404), url


def test_a_grant_copied_to_another_clerk_does_not_open_the_donation(django_user_model):
    """The grant names the donation and the check compares its recorder with the user: a session
    holding a grant for someone else's donation opens nothing."""
    desk = role_client(django_user_model, FRONT_DESK, "desk")
    colleague = role_client(django_user_model, FRONT_DESK, "colleague")
    theirs = record(colleague)
    session = desk.session
    session[donation_access.SESSION_KEY] = {str(theirs.pk): (timezone.now() + dt.timedelta(minutes=5)).isoformat()}
    session.save()
    for url in urls(theirs):
        assert desk.get(url).status_code in (403, 404), url


@pytest.mark.parametrize("role", [FINANCE, COORDINATOR])
def test_finance_and_the_coordinator_open_any_donation(django_user_model, role):
    client = role_client(django_user_model, role, "money")
    donation = DonationFactory(amount=Decimal("40.00"))
    for url in urls(donation):
        assert client.get(url).status_code == 200, url
