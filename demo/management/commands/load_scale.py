"""Synthesise a mining group of N workers for benchmarks."""

import time

from django.core.management.base import BaseCommand
from django.db import connection

from demo.scale import scale_load


class Command(BaseCommand):
    help = "Synthesise a mining group: N workers with ~10 attendance rows and ~20 results each (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--prefix", default="S", help="Code prefix, so several groups can coexist.")

    def handle(self, *args, workers, seed, prefix, **options):
        started = time.perf_counter()
        summary = scale_load(workers=workers, seed=seed, prefix=prefix)
        # Fresh planner statistics: without them SQLite reads whole tables through the soft-delete index and
        # PostgreSQL (until autovacuum gets to it) misjudges the new rows, and the first benchmark measures that.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        counts = ", ".join(f"{name} {value:,}" for name, value in vars(summary).items())
        self.stdout.write(f"Loaded in {elapsed:.1f} s: {counts}")
