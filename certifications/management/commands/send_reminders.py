"""E-mail crew leaders and HR what falls due: python manage.py send_reminders [--dry-run] [--on YYYY-MM-DD]."""

from django.core.management.base import BaseCommand

from certifications.clearance.reminders import reminders_send
from core.dates import argument_date, command_date


class Command(BaseCommand):
    help = (
        "E-mail each crew leader the workers in their units whose certificates, reviews or training hours are due "
        "within 30/60/90 days or overdue, and HR a summary. Each item is sent once per recipient and bucket."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be sent; send and record nothing")
        parser.add_argument("--on", type=argument_date, help="pretend today is this date (default today)")

    def handle(self, *args, dry_run=False, on=None, **options):
        run = reminders_send(on=command_date(on), dry_run=dry_run)
        verb = "Would send" if dry_run else "Sent"
        self.stdout.write(f"{verb} {run.emails} e-mail(s) with {run.items} item(s).")
