"""The instructor's table becomes ``classes_instructor`` (foreign keys follow the rename), and its
content type moves from app label ``instructors`` to ``classes``, so group permissions and admin log
entries stay attached and no second content type or permission appears."""

from django.db import migrations

MODEL = "instructor"


def _content_type_move(apps, from_label: str, to_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    old = ContentType.objects.filter(app_label=from_label, model=MODEL).first()
    if old is None:
        return
    new = ContentType.objects.filter(app_label=to_label, model=MODEL).first()
    if new is None:  # the usual case: relabel the row, everything pointing at it follows
        old.app_label = to_label
        old.save(update_fields=["app_label"])
        return
    # Both exist (permissions were made for the new label early): fold the old one into the new.
    group_perms = apps.get_model("auth", "Group").permissions.through
    user_perms = apps.get_model("auth", "User").user_permissions.through
    for perm in Permission.objects.filter(content_type=old):
        twin = Permission.objects.filter(content_type=new, codename=perm.codename).first()
        if twin is None:
            perm.content_type = new
            perm.save(update_fields=["content_type"])
            continue
        for through, owner in ((group_perms, "group_id"), (user_perms, "user_id")):
            has_twin = through.objects.filter(permission=twin).values_list(owner, flat=True)
            through.objects.filter(permission=perm).exclude(**{f"{owner}__in": has_twin}).update(permission=twin)
        perm.delete()
    LogEntry.objects.filter(content_type=old).update(content_type=new)
    old.delete()


def forwards(apps, schema_editor):
    _content_type_move(apps, "instructors", "classes")


def backwards(apps, schema_editor):
    _content_type_move(apps, "classes", "instructors")


class Migration(migrations.Migration):

    dependencies = [
        ("classes", "0005_instructor_moved_here"),
        ("instructors", "0002_instructor_moved_to_classes"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.AlterModelTable(name="instructor", table=None),
        migrations.RunPython(forwards, backwards),
    ]
