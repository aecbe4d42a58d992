from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def make_roles(apps, schema_editor):
    # Permissions are normally made after migrating; make them now so the groups can use them.
    for label in ("core", "instructors", "classes", "enrollment", "finance", "auth"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    from core.roles import roles_sync

    roles_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_outboxmessage"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("instructors", "0001_initial"),
        ("classes", "0001_initial"),
        ("enrollment", "0005_alter_registration_options_attendance"),
        ("finance", "0003_alter_payment_options_alter_refund_options_and_more"),
    ]
    operations = [migrations.RunPython(make_roles, migrations.RunPython.noop)]
