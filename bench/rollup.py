#!/usr/bin/env python
"""
Benchmark of the roll-up engine against a floor.

Builds a synthetic mining group (20,000 workers by default, ~10 attendance rows
and ~20 results each) with `demo.scale.scale_load`, then measures, on the
same data and in a fresh process:

- the floor: ONE SQL query computing each worker's best theory and practical
  score per rank assessment (trade × rank) and their attended hours;
- the full `ranks_recompute`: load, evaluate every worker × trade with the
  rules, write the new rank records;

and prints the ratio, the query counts and the peak memory (max RSS).

    .venv/bin/python bench/rollup.py                       # throwaway SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_bench .venv/bin/python bench/rollup.py
    .venv/bin/python bench/rollup.py --workers 2000 --reuse
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/kj_bench_rollup.sqlite3")
os.environ.setdefault("LOG_LEVEL", "WARNING")

FLOOR_SQL = """
SELECT r.worker_id, r.trade_id, r.rank_id, r.best_theory, r.best_practical, COALESCE(h.hours, 0)
FROM (
    SELECT res.worker_id, a.trade_id, a.rank_id,
           MAX(CASE WHEN a.kind = 'theory' THEN res.score * 100 / res.full_marks END) AS best_theory,
           MAX(CASE WHEN a.kind = 'practical' THEN res.score * 100 / res.full_marks END) AS best_practical
    FROM certifications_assessmentresult res
    JOIN certifications_assessment a ON a.id = res.assessment_id
    WHERE a.trade_id IS NOT NULL AND a.rank_id IS NOT NULL {live_results}
    GROUP BY res.worker_id, a.trade_id, a.rank_id
) r
LEFT JOIN (
    SELECT att.worker_id, SUM(att.theory_hours + att.practical_hours) AS hours
    FROM training_attendance att {live_attendance}
    GROUP BY att.worker_id
) h ON h.worker_id = r.worker_id
"""


def max_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analyze() -> None:
    """
    Refresh PostgreSQL's planner statistics after the bulk load. Without them
    (autovacuum off, or not run yet) the planner takes the 364,000 results for
    a few dozen rows and picks nested loops, which slows the floor and the
    recompute alike and makes the ratio meaningless.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def ensure_database() -> None:
    """Create the PostgreSQL database named in DATABASE_URL when it does not exist yet."""
    from urllib.parse import urlsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build(workers: int, reuse: bool, seed: int) -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    from demo.scale import scale_load
    from training.models import Worker

    call_command("migrate", verbosity=0)
    existing = Worker._base_manager.count()
    if reuse and existing:
        from certifications.models import RankRecord

        # Start each measurement from the imported ranks alone, so the recompute writes its awards again.
        RankRecord.history.model.objects.filter(source=RankRecord.Source.ENGINE).delete()
        removed, _by_model = RankRecord._base_manager.filter(source=RankRecord.Source.ENGINE).delete()
        print(f"Reusing the database: {existing:,} workers ({removed:,} engine awards of an earlier run removed).")
        analyze()
        return
    if existing:
        call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    summary = scale_load(workers=workers, seed=seed)
    analyze()
    print(
        f"Built in {time.perf_counter() - started:.1f} s: {summary.workers:,} workers, "
        f"{summary.worker_trades:,} worker trades, "
        f"{summary.attendance:,} attendance rows, {summary.results:,} results, {summary.rank_records:,} imported ranks."
    )


def measure() -> None:
    import django

    django.setup()
    from django.db import connection

    from certifications.ranks.services import ranks_recompute

    class Counter:
        def __init__(self):
            self.count = 0

        def __call__(self, execute, sql, params, many, context):
            self.count += 1
            return execute(sql, params, many, context)

    def has_column(table, column):
        with connection.cursor() as cursor:
            return column in {c.name for c in connection.introspection.get_table_description(cursor, table)}

    sql = FLOOR_SQL.format(
        live_results="AND res.deleted_at IS NULL"
        if has_column("certifications_assessmentresult", "deleted_at")
        else "",
        live_attendance="WHERE att.deleted_at IS NULL" if has_column("training_attendance", "deleted_at") else "",
    )
    floors, floor_cpus = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        floors.append(time.perf_counter() - started)
        floor_cpus.append(time.process_time() - cpu)
    floor, floor_cpu = min(floors), min(floor_cpus)
    rss_before = max_rss_mib()

    counter = Counter()
    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(counter):
        report = ranks_recompute()
    full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_after = max_rss_mib()

    again = Counter()
    started = time.perf_counter()
    with connection.execute_wrapper(again):
        second = ranks_recompute()
    second_time = time.perf_counter() - started

    print(f"Database: {connection.vendor}; {report.workers:,} workers, {report.evaluated:,} worker trades.")
    print(
        f"Floor (one SQL query, {len(rows):,} rows; best of 3): {floor:.2f} s wall, "
        f"{floor_cpu:.2f} s CPU in this process"
    )
    print(
        f"Full recompute: {full:.2f} s wall, {full_cpu:.2f} s CPU, {counter.count} queries "
        f"({report.awarded:,} awarded, {report.pending:,} pending created; mode {report.mode})"
    )
    print(f"Second recompute: {second_time:.2f} s, {again.count} queries, {len(second.changes)} changes")
    print(f"Peak memory (max RSS): {rss_after:.0f} MiB (before the recompute: {rss_before:.0f} MiB)")
    print(f"RATIO full recompute / floor: {full / floor:.1f}x wall (target: within 5x)")
    if connection.vendor == "sqlite":
        # SQLite runs inside this process, so CPU time is comparable and immune to other load on the machine.
        print(f"RATIO full recompute / floor: {full_cpu / floor_cpu:.1f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse", action="store_true", help="Keep the data already in the database.")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure()
        return
    build(args.workers, args.reuse, args.seed)
    # Measure in a fresh process, so its peak memory is the recompute's, not the build's.
    subprocess.run([sys.executable, __file__, "--measure"], check=True, env=os.environ)


if __name__ == "__main__":
    main()
