"""The instructor model now lives in ``classes`` (classes 0005): drop it from this app's state only,
keeping its table and rows."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("instructors", "0001_initial"),
        ("classes", "0005_instructor_moved_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Instructor")],
        ),
    ]
