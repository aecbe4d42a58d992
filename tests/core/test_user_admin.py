"""Users and roles in the back office (issue 10 §3): the program coordinator assigns staff to the
roles (the groups of ``core.roles``); only a superuser may make a superuser, give a user
permissions of their own beyond the roles, change what a group can do, or touch a superuser's
account. Every case is a crafted POST, not just what the form shows."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.roles import COORDINATOR, FINANCE, FRONT_DESK
from tests.factories import role_client

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passw0rd"


@pytest.fixture
def coordinator(django_user_model):
    return role_client(django_user_model, COORDINATOR, "coord")


@pytest.fixture
def clerk():
    return User.objects.create_user("clerk", "clerk@library.example", PASSWORD, is_staff=True)


@pytest.fixture
def root():
    return User.objects.create_superuser("root", "root@library.example", PASSWORD)


def change_form(user: User, **changes) -> dict:
    now = timezone.localtime()
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on", "is_staff": "on",
        "groups": [str(g.pk) for g in user.groups.all()], "user_permissions": [],
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": now.strftime("%Y-%m-%d"), "date_joined_1": now.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def powerful_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="auth", codename="change_group")


def test_a_crafted_post_cannot_make_a_superuser_but_the_role_sticks(coordinator, clerk):
    desk = Group.objects.get(name=FRONT_DESK)
    response = coordinator.post(reverse("admin:auth_user_change", args=[clerk.pk]), change_form(
        clerk, is_superuser="on", groups=[str(desk.pk)], user_permissions=[str(powerful_permission().pk)]))
    assert response.status_code == 302, response.content[-1500:]
    clerk.refresh_from_db()
    assert not clerk.is_superuser
    assert list(clerk.groups.values_list("name", flat=True)) == [FRONT_DESK]
    assert not clerk.user_permissions.exists()


def test_the_coordinator_cannot_make_themselves_a_superuser_or_add_permissions(coordinator):
    me = coordinator.user
    coordinator.post(reverse("admin:auth_user_change", args=[me.pk]), change_form(
        me, is_superuser="on", user_permissions=[str(powerful_permission().pk)]))
    me.refresh_from_db()
    assert not me.is_superuser and not me.user_permissions.exists()


def test_the_form_shows_no_superuser_box_or_own_permissions_to_the_coordinator(coordinator, clerk):
    html = coordinator.get(reverse("admin:auth_user_change", args=[clerk.pk])).content.decode()
    assert 'name="groups"' in html
    assert 'name="is_superuser"' not in html and 'name="user_permissions"' not in html


def test_a_superusers_account_is_out_of_the_coordinators_reach(coordinator, root):
    before = User.objects.get(pk=root.pk).password
    post = coordinator.post(reverse("admin:auth_user_change", args=[root.pk]),
                            change_form(root, is_superuser=None, is_staff=None, is_active=None))
    assert post.status_code == 403
    password = coordinator.post(reverse("admin:auth_user_password_change", args=[root.pk]),
                                {"password1": "Taken-0ver-pass", "password2": "Taken-0ver-pass",
                                 "usable_password": "true"})
    assert password.status_code == 403
    assert coordinator.post(reverse("admin:auth_user_delete", args=[root.pk]), {"post": "yes"}).status_code == 403
    bulk = coordinator.post(reverse("admin:auth_user_changelist"),
                            {"action": "delete_selected", "_selected_action": [str(root.pk)], "post": "yes"})
    assert bulk.status_code == 403
    root.refresh_from_db()
    assert root.is_superuser and root.is_active and root.is_staff and root.password == before


def test_the_coordinator_cannot_change_what_a_group_can_do(coordinator):
    desk = Group.objects.get(name=FRONT_DESK)
    count = desk.permissions.count()
    everything = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    response = coordinator.post(reverse("admin:auth_group_change", args=[desk.pk]),
                                {"name": FRONT_DESK, "permissions": everything})
    assert response.status_code == 403
    assert desk.permissions.count() == count
    added = coordinator.post(reverse("admin:auth_group_add"), {"name": "Everything", "permissions": everything})
    assert added.status_code == 403 and not Group.objects.filter(name="Everything").exists()
    deleted = coordinator.post(reverse("admin:auth_group_delete", args=[desk.pk]), {"post": "yes"})
    assert deleted.status_code == 403 and Group.objects.filter(pk=desk.pk).exists()
    # the roles can still be read, to know what each gives
    assert coordinator.get(reverse("admin:auth_group_change", args=[desk.pk])).status_code == 200


def test_a_superuser_may_do_all_of_it(root, clerk):
    client = Client()
    client.force_login(root)
    finance = Group.objects.get_or_create(name=FINANCE)[0]
    perm = powerful_permission()
    response = client.post(reverse("admin:auth_user_change", args=[clerk.pk]), change_form(
        clerk, is_superuser="on", groups=[str(finance.pk)], user_permissions=[str(perm.pk)]))
    assert response.status_code == 302, response.content[-1500:]
    clerk.refresh_from_db()
    assert clerk.is_superuser and list(clerk.user_permissions.all()) == [perm]
    group = client.post(reverse("admin:auth_group_change", args=[finance.pk]),
                        {"name": FINANCE, "permissions": [str(perm.pk)]})
    assert group.status_code == 302
    assert list(finance.permissions.all()) == [perm]
