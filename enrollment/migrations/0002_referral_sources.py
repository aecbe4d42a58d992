from django.db import migrations

SOURCES = ["Printed catalog", "Library website", "Newspaper", "Facebook", "A friend", "Flyer", "Other"]


def add(apps, schema_editor):
    ReferralSource = apps.get_model("enrollment", "ReferralSource")
    for position, name in enumerate(SOURCES):
        ReferralSource.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
