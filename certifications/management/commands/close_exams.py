"""Submit every online exam attempt whose deadline has passed.

Run python manage.py close_exams every minute (cron or a systemd timer): the exam pages also close a late
attempt when it is opened, but a candidate who never comes back is closed only by this command.
"""

from django.core.management.base import BaseCommand

from certifications.exams.services import attempts_time_out


class Command(BaseCommand):
    help = "Submit (and grade into the roll-up) every open online exam attempt past its deadline. Run every minute."

    def handle(self, *args, **options):
        closed = attempts_time_out()
        self.stdout.write(f"{closed} attempt(s) past their deadline submitted.")
