"""``manage.py demo_staff``: a back-office login for the demo (the program coordinator).

Creates the user ``staff`` (staff and superuser) with a random password, printed once. When the
user already exists nothing is changed and no password is shown; reset it with
``manage.py changepassword staff``. ``--password`` sets the password of a new user explicitly
(for scripted setups); it is checked against the password validators and never printed.
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

USERNAME = "staff"


class Command(BaseCommand):
    help = "Create the demo back-office login 'staff' (prints a random password once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Use this password instead of a random one (only when the user is created; never printed).",
        )

    def handle(self, *args, **options):
        User = get_user_model()
        with transaction.atomic():
            if User.objects.filter(username=USERNAME).exists():
                self.stdout.write(
                    f"The demo login '{USERNAME}' already exists; its password was not changed.\n"
                    f"To set a new one: python manage.py changepassword {USERNAME}"
                )
                return
            chosen = options.get("password")
            password = chosen or secrets.token_urlsafe(12)
            user = User(
                username=USERNAME,
                email="coordinator@example.org",
                first_name="Program",
                last_name="Coordinator",
                is_staff=True,
                is_superuser=True,
            )
            if chosen:
                try:
                    validate_password(chosen, user)
                except ValidationError as exc:
                    raise CommandError("That password is not accepted: " + " ".join(exc.messages)) from exc
            user.set_password(password)
            user.save()
        self.stdout.write(self.style.SUCCESS("Created the demo back-office login (program coordinator) at /staff/."))
        self.stdout.write(f"  Username: {USERNAME}")
        if chosen:
            self.stdout.write("  Password: the one given with --password")
        else:
            self.stdout.write(f"  Password: {password}")
            self.stdout.write("  It is shown only this once; to change it: python manage.py changepassword staff")
