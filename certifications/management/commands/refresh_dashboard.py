"""Recompute the HR dashboard's figures now and keep them in the cache.

Run python manage.py refresh_dashboard, e.g. nightly.
"""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from certifications.progress.figures import dashboard_figures_refresh


class Command(BaseCommand):
    help = (
        "Recompute the HR dashboard's figures (training, clearance, forecast) for the whole mine and keep them in "
        "the cache, so the dashboard of a large mine reads them instead of computing them. Run it nightly."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        figures = dashboard_figures_refresh()
        self.stdout.write(
            f"Dashboard figures for {figures.workers:,} workers computed in {time.perf_counter() - started:.1f} s "
            f"(as of {timezone.localtime(figures.computed_at):%Y-%m-%d %H:%M:%S %Z})."
        )
