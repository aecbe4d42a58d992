"""A database made before the instructor moved from ``instructors`` to ``classes`` migrates cleanly:
the instructor's row (same pk, same fields), the course's foreign key to it, a group's permission on
instructors and an admin log entry all survive, now on the ``classes`` content type, with no
``instructors`` content type for the instructor left behind. Runs on PostgreSQL and SQLite."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from classes.models import Course, Instructor

#: The nodes just before the move (classes 0005, instructors 0002 and classes 0006 are the move).
BEFORE = [("classes", "0004_semester_starts_unpublished"), ("instructors", "0001_initial")]
#: The other apps whose historical models the pre-change rows need.
ALSO = [("contenttypes", "0002_remove_content_type_name"), ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices")]


def _migrate(targets=None) -> MigrationExecutor:
    """Migrate to ``targets`` (default: every app's latest migration) and return a fresh executor."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return MigrationExecutor(connection)


def _old_world(apps) -> dict:
    """With the historical models of the pre-change state: an instructor, a course that points at
    them, a group holding ``instructors.view_instructor`` and an admin log entry on the instructor."""
    now = timezone.now()
    instructor = apps.get_model("instructors", "Instructor").objects.create(
        first_name="Ada", last_name="Quilter", email="ada@example.org", phone="785-555-0100",
        bio="Quilts since 1990.", pay_basis="volunteer", hourly_rate=Decimal("22.50"), is_library_staff=True,
    )
    semester = apps.get_model("classes", "Semester").objects.create(
        name="Spring 2027", slug="spring-2027-migration", starts_on=dt.date(2027, 2, 1), ends_on=dt.date(2027, 5, 1),
        registration_opens_at=now,
    )
    category = apps.get_model("classes", "Category").objects.create(name="Crafts (migration)", slug="crafts-migration")
    venue = apps.get_model("classes", "Venue").objects.create(
        name="Main Library", slug="main-library-migration", street_address="1 Main St", city="Lawrence",
        postal_code="66044", capacity=20,
    )
    course = apps.get_model("classes", "Course").objects.create(
        semester=semester, title="Quilting", slug="quilting", category=category, description="Squares.",
        instructor=instructor, venue=venue, capacity=10, minimum=3, fee=Decimal("20.00"),
    )
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.get(app_label="instructors", model="instructor")
    permission = apps.get_model("auth", "Permission").objects.get(content_type=content_type, codename="view_instructor")
    group = apps.get_model("auth", "Group").objects.create(name="Migration test group")
    group.permissions.add(permission)
    log = apps.get_model("admin", "LogEntry").objects.create(
        action_time=now, user=apps.get_model("auth", "User").objects.create(username="migration-clerk"),
        content_type=content_type, object_id=str(instructor.pk), object_repr="Ada Quilter", action_flag=2,
        change_message="[]",
    )
    return {"instructor": instructor.pk, "course": course.pk, "group": group.pk, "permission": permission.pk,
            "content_type": content_type.pk, "log": log.pk}


@pytest.mark.django_db(transaction=True)
def test_a_pre_change_database_keeps_its_instructors_courses_and_permissions():
    try:
        executor = _migrate(BEFORE)
        old = _old_world(executor.loader.project_state(BEFORE + ALSO).apps)
        _migrate()
        ContentType.objects.clear_cache()

        instructor = Instructor.objects.get(pk=old["instructor"])
        assert (instructor.first_name, instructor.last_name, instructor.email, instructor.phone, instructor.bio) == (
            "Ada", "Quilter", "ada@example.org", "785-555-0100", "Quilts since 1990.")
        assert (instructor.pay_basis, instructor.hourly_rate, instructor.is_library_staff, instructor.active) == (
            Instructor.PayBasis.VOLUNTEER, Decimal("22.50"), True, True)
        assert Course.objects.get(pk=old["course"]).instructor == instructor
        assert instructor.courses.count() == 1

        assert Instructor._meta.db_table == "classes_instructor"
        with connection.cursor() as cursor:
            assert "instructors_instructor" not in connection.introspection.table_names(cursor)
            constraints = connection.introspection.get_constraints(cursor, "classes_course")
        assert ("classes_instructor", "id") in [
            c["foreign_key"] for c in constraints.values() if c["foreign_key"] and c["columns"] == ["instructor_id"]]

        content_type = ContentType.objects.get_for_model(Instructor)
        assert (content_type.pk, content_type.app_label) == (old["content_type"], "classes")
        assert not ContentType.objects.filter(app_label="instructors", model="instructor").exists()
        permission = Permission.objects.get(pk=old["permission"])
        assert (permission.content_type, permission.codename) == (content_type, "view_instructor")
        assert Permission.objects.filter(codename="view_instructor").count() == 1
        group = Group.objects.get(pk=old["group"])
        assert list(group.permissions.all()) == [permission]
        assert LogEntry.objects.get(pk=old["log"]).get_edited_object() == instructor
    finally:
        _migrate()
        ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_permissions_made_early_for_the_new_label_are_folded_into_the_old_ones():
    """Should ``classes.instructor``'s content type and permissions exist already when the move runs
    (another migration made them first), the two are merged: one content type, one permission per
    codename, and every group keeps what it had."""
    try:
        executor = _migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE + ALSO).apps
        old = _old_world(apps)
        ContentTypeOld = apps.get_model("contenttypes", "ContentType")
        PermissionOld = apps.get_model("auth", "Permission")
        early = ContentTypeOld.objects.create(app_label="classes", model="instructor")
        twin = PermissionOld.objects.create(content_type=early, codename="view_instructor", name="Can view instructor")
        both = apps.get_model("auth", "Group").objects.create(name="Holds both")
        both.permissions.add(twin, old["permission"])
        only_new = apps.get_model("auth", "Group").objects.create(name="Holds the early one")
        only_new.permissions.add(twin)
        _migrate()
        ContentType.objects.clear_cache()

        content_type = ContentType.objects.get_for_model(Instructor)
        assert content_type.pk == early.pk
        assert not ContentType.objects.filter(app_label="instructors", model="instructor").exists()
        view = Permission.objects.get(content_type=content_type, codename="view_instructor")
        assert Permission.objects.filter(codename="view_instructor").count() == 1
        for group in (old["group"], both.pk, only_new.pk):
            assert list(Group.objects.get(pk=group).permissions.all()) == [view]
        assert Permission.objects.filter(content_type=content_type, codename="change_instructor").count() == 1
        assert LogEntry.objects.get(pk=old["log"]).content_type == content_type
    finally:
        _migrate()
        ContentType.objects.clear_cache()
