"""The demo back-office login: created once with a printed password that works, never reset."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("demo_staff", *args, stdout=out)
    return out.getvalue()


def signs_in(client, username: str, password: str) -> bool:
    """Through the back office's login page (django-axes wants the request, which client.login lacks)."""
    response = client.post("/staff/login/", {"username": username, "password": password, "next": "/staff/"})
    return response.status_code == 302 and "_auth_user_id" in client.session


def printed_password(output: str) -> str:
    match = re.search(r"Password: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_creates_the_coordinator_once_with_a_working_password(client):
    output = run()
    password = printed_password(output)
    assert len(password) >= 16
    user = get_user_model().objects.get(username="staff")
    assert user.is_staff and user.is_superuser and user.is_active
    assert signs_in(client, "staff", password)


def test_second_run_changes_and_prints_no_password(client):
    password = printed_password(run())
    hashed = get_user_model().objects.get(username="staff").password

    output = run()
    assert "already exists" in output
    assert "changepassword staff" in output
    assert password not in output and "Password:" not in output
    assert get_user_model().objects.get(username="staff").password == hashed
    assert get_user_model().objects.filter(username="staff").count() == 1
    assert signs_in(client, "staff", password)


def test_explicit_password_is_used_and_not_printed(client):
    output = run("--password", "a-long-demo-passw0rd")
    assert "a-long-demo-passw0rd" not in output
    assert signs_in(client, "staff", "a-long-demo-passw0rd")


def test_explicit_password_must_pass_the_validators():
    with pytest.raises(CommandError, match="too short"):
        run("--password", "short")
    assert not get_user_model().objects.filter(username="staff").exists()


def test_existing_login_keeps_its_password_even_with_the_option(client):
    run("--password", "a-long-demo-passw0rd")
    output = run("--password", "another-long-passw0rd")
    assert "already exists" in output
    assert signs_in(client, "staff", "a-long-demo-passw0rd")
