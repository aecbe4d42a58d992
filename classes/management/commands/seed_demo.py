"""``manage.py seed_demo``: load (or refresh) the demo semester and the next one, dated from today;
safe to run again. The work is done by ``classes.management.demo`` (see ``demo.seed``)."""

from django.core.management.base import BaseCommand

from classes.management.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Load or refresh the demo semester (dates relative to today). Safe to run again."

    def handle(self, *args, **options):
        summary = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo semester loaded."))
        for label, value in summary.items():
            self.stdout.write(f"  {label}: {value}")
