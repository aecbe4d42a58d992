"""The instructor (the person) moves from ``instructors`` to ``classes``: state only, the rows stay
in their table (renamed by 0006) and the course's foreign key keeps pointing at it."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("classes", "0004_semester_starts_unpublished"),
        ("instructors", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Instructor",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("first_name", models.CharField(max_length=80)),
                        ("last_name", models.CharField(max_length=80)),
                        ("email", models.EmailField(blank=True, max_length=254)),
                        ("phone", models.CharField(blank=True, max_length=40)),
                        ("bio", models.TextField(blank=True, help_text="Shown to patrons on each course page.")),
                        ("pay_basis", models.CharField(
                            choices=[("hourly", "Paid per class hour"), ("volunteer", "Volunteer")],
                            default="hourly", max_length=12)),
                        ("hourly_rate", models.DecimalField(
                            decimal_places=2, default=Decimal("15.00"), help_text="Ignored for volunteers.",
                            max_digits=8, validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                            verbose_name="Pay per class hour")),
                        ("is_library_staff", models.BooleanField(default=False, verbose_name="Library staff")),
                        ("active", models.BooleanField(default=True)),
                    ],
                    options={
                        "ordering": ["last_name", "first_name"],
                        "constraints": [models.CheckConstraint(
                            condition=models.Q(("hourly_rate__gte", 0)), name="instructor_rate_not_negative")],
                        "db_table": "instructors_instructor",  # the table as it is; 0006 renames it
                    },
                ),
                migrations.AlterField(
                    model_name="course",
                    name="instructor",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="courses", to="classes.instructor"),
                ),
            ],
        ),
    ]
