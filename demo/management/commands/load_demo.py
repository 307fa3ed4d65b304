from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.mine import DEFAULT_SEED, DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Build the demo mine (示范煤矿) with its workers, training records and demo logins. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed; the same seed builds the same mine."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (never on a real mine's database)."
        )

    def handle(self, *args, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("load_demo adds made-up people and logins; it runs only with DEBUG on, or with --force.")
        counts = demo_load(seed=seed)
        for label, count in counts.items():
            self.stdout.write(f"  {label:<34} {count:>6}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo mine ready. Logins admin, hr, officer, assessor, leader, trainee; password '{DEMO_PASSWORD}'."
            )
        )
