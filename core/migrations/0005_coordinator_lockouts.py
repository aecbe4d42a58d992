from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def coordinator_lockouts(apps, schema_editor):
    """The coordinator sees and clears staff login lockouts (django-axes' admin pages)."""
    for label in ("core", "instructors", "classes", "enrollment", "finance", "auth", "axes"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    from core.roles import roles_sync

    roles_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_siteoptions_nonprofit_statement"),
        ("axes", "0010_accessattemptexpiration"),
    ]
    operations = [migrations.RunPython(coordinator_lockouts, migrations.RunPython.noop)]
