"""Staff login brute-force protection (django-axes): a few wrong passwords lock the account name and
the client address out for a cool-off, attempts are recorded, a coordinator sees and clears them."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core.roles import COORDINATOR
from tests.factories import role_client

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-passw0rd"
LOGIN = "/staff/login/"


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user("clerk", "clerk@library.example", PASSWORD, is_staff=True)


def attempt(client, username, password, address="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/staff/"},
                       REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_url_is_the_admin_login():
    assert reverse("admin:login") == LOGIN


def test_wrong_passwords_then_the_right_one_is_refused(client, clerk):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert attempt(client, "clerk", "wrong-guess").status_code in (200, 429)
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 429
    assert b"Sign-in paused" in response.content and b"Library Classes" in response.content
    assert not logged_in(client)
    assert AccessAttempt.objects.filter(username="clerk").exists()


def test_the_lockout_holds_for_the_user_name_from_another_address(client, clerk):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", "wrong-guess", address=f"198.51.100.{n + 1}")
    assert attempt(client, "clerk", PASSWORD, address="192.0.2.50").status_code == 429
    assert not logged_in(client)


def test_the_lockout_holds_for_the_address_with_another_user_name(client, clerk, django_user_model):
    django_user_model.objects.create_user("other", "o@library.example", PASSWORD, is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess{n}", "wrong-guess")
    assert attempt(client, "other", PASSWORD).status_code == 429
    assert not logged_in(client)


def test_fewer_failures_than_the_limit_then_the_right_password_works(client, clerk):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "clerk", "wrong-guess")
    assert attempt(client, "clerk", PASSWORD).status_code == 302
    assert logged_in(client)


def test_after_the_cool_off_the_right_password_works(client, clerk, monkeypatch):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", "wrong-guess")
    assert attempt(client, "clerk", PASSWORD).status_code == 429

    later = timezone.now() + timedelta(hours=settings.AXES_COOLOFF_TIME) + timedelta(seconds=1)
    monkeypatch.setattr("axes.handlers.proxy.now", lambda: later)  # the clock axes stamps attempts with
    monkeypatch.setattr("axes.attempts.now", lambda: later)
    assert attempt(client, "clerk", PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_coordinator_sees_and_clears_the_lockout(client, clerk, django_user_model):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", "wrong-guess")
    assert attempt(client, "clerk", PASSWORD).status_code == 429

    coordinator = role_client(django_user_model, COORDINATOR, "coord")
    listing = coordinator.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert b"clerk" in listing.content
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = coordinator.post(reverse("admin:axes_accessattempt_changelist"),
                                {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert attempt(client, "clerk", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_coordinator_group_holds_the_lockout_permissions(django_user_model):
    role_client(django_user_model, COORDINATOR, "coord")
    codenames = set(Group.objects.get(name=COORDINATOR).permissions.filter(
        content_type__app_label="axes").values_list("codename", flat=True))
    assert {"view_accessattempt", "delete_accessattempt", "view_accesslog"} <= codenames


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(client, clerk, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        # a client forges X-Forwarded-For; the proxy appends the real address it saw
        client.post(LOGIN, {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.9")
    assert AccessAttempt.objects.filter(ip_address="203.0.113.9").count() == settings.AXES_FAILURE_LIMIT
    # the address the proxy saw is locked out, whatever the client claims; another one is not
    forged = client.post(LOGIN, {"username": "clerk", "password": PASSWORD}, REMOTE_ADDR="127.0.0.1",
                         HTTP_X_FORWARDED_FOR="198.51.100.20, 203.0.113.9")
    assert forged.status_code == 429
    other = client.post(LOGIN, {"username": "clerk", "password": PASSWORD, "next": "/staff/"},
                        REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert other.status_code == 302
