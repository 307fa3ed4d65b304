#!/usr/bin/env python
"""
Benchmark of the roll-up engine against a floor.

Builds a synthetic mining group (20,000 workers by default, ~10 attendance rows
and ~20 results each) with `demo.scale.scale_load`, then measures, on the
same data, each in a fresh process (so each peak memory is its own):

- the floor: ONE SQL query computing each worker's best theory and practical
  score per rank assessment (trade × rank) and their attended hours;
- the full `ranks_recompute` in one process (--jobs 1): load, evaluate every
  worker × trade with the rules, write the new rank records, chunk by chunk;
- the same with --jobs N (default 2), from the same starting point;
- the incremental run (`recompute_ranks` without --all) after 1 % of the
  workers were marked, as a write through a service marks them;

and prints the wall and CPU times, the ratios to the floor, the query counts
and the peak memory (max RSS; with --jobs, of the parent and of the largest
child process).

    .venv/bin/python bench/rollup.py                       # throwaway SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_bench .venv/bin/python bench/rollup.py
    .venv/bin/python bench/rollup.py --workers 2000 --reuse --jobs 2 --chunk-size 500
"""

import argparse
import json
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


def max_rss_mib(who=resource.RUSAGE_SELF) -> float:
    # This process's own peak: VmHWM belongs to its address space, made anew by exec. ru_maxrss would not do
    # for RUSAGE_SELF: Linux carries it across fork and exec, so every measuring process would report the
    # peak of the builder that started it.
    if who == resource.RUSAGE_SELF:
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
    # ru_maxrss is in KiB on Linux; for RUSAGE_CHILDREN, the largest child's.
    return resource.getrusage(who).ru_maxrss / 1024


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


def reset() -> None:
    """Start a measurement from the imported ranks alone and no evaluations, so the recompute writes everything."""
    from certifications.models import RankEvaluation, RankRecord

    RankRecord.history.model.objects.filter(source=RankRecord.Source.ENGINE).delete()
    RankRecord._base_manager.filter(source=RankRecord.Source.ENGINE).delete()
    RankEvaluation.objects.all().delete()


def build(workers: int, reuse: bool, seed: int) -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    from demo.scale import scale_load
    from training.models import Worker

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the dashboard figures a new award makes stale
    existing = Worker._base_manager.count()
    if reuse and existing:
        reset()
        print(f"Reusing the database: {existing:,} workers.")
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


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def floor_sql() -> str:
    from django.db import connection

    def has_column(table, column):
        with connection.cursor() as cursor:
            return column in {c.name for c in connection.introspection.get_table_description(cursor, table)}

    return FLOOR_SQL.format(
        live_results="AND res.deleted_at IS NULL"
        if has_column("certifications_assessmentresult", "deleted_at")
        else "",
        live_attendance="WHERE att.deleted_at IS NULL" if has_column("training_attendance", "deleted_at") else "",
    )


def measure(what: str, jobs: int, touched: float, chunk_size: int) -> None:
    """Run one measurement in this (fresh) process and print it as one JSON line."""
    import django

    django.setup()
    from django.db import connection

    from certifications.models import RankEvaluation
    from certifications.ranks.services import _mark_stale, ranks_recompute

    figures: dict = {"what": what, "vendor": connection.vendor}
    if what == "floor":
        sql = floor_sql()
        walls, cpus = [], []
        for _ in range(3):
            started, cpu = time.perf_counter(), time.process_time()
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        figures.update(wall=min(walls), cpu=min(cpus), rows=len(rows), queries=1)
    else:
        if what == "incremental":
            # Mark 1 % of the workers, spread over the group, as a write through a service marks them.
            ids = sorted(set(RankEvaluation.objects.values_list("worker_id", flat=True)))
            step = max(1, round(1 / touched))
            _mark_stale(ids[::step])
            figures["marked"] = len(ids[::step])
        counter = Counter()
        started, cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(counter):
            report = ranks_recompute(
                jobs=1 if what == "serial" else jobs,
                only_changed=what == "incremental",
                chunk_size=chunk_size,
                changes=lambda _c: None,
            )
        figures.update(
            wall=time.perf_counter() - started,
            cpu=time.process_time() - cpu,
            queries=counter.count,  # this process's: with --jobs, the chunks' queries run in the children
            workers=report.workers,
            pairs=report.evaluated,
            awarded=report.awarded,
            pending=report.pending,
            chunks=report.chunks,
            jobs=report.jobs,
        )
    figures.update(rss=max_rss_mib(), children_rss=max_rss_mib(resource.RUSAGE_CHILDREN))
    print(json.dumps(figures))


def run_measure(what: str, args) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            *("--measure", what, "--jobs", str(args.jobs), "--touched", str(args.touched)),
            *("--chunk-size", str(args.chunk_size)),
        ],
        check=True,
        env=os.environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(floor: dict, serial: dict, parallel: dict, incremental: dict) -> None:
    print(f"Database: {floor['vendor']}; {serial['workers']:,} workers, {serial['pairs']:,} worker trades.")
    print(
        f"Floor (one SQL query, {floor['rows']:,} rows; best of 3): {floor['wall']:.2f} s wall, "
        f"{floor['cpu']:.2f} s CPU in this process; peak memory {floor['rss']:.0f} MiB"
    )
    for name, run in (
        ("Full recompute, --jobs 1", serial),
        (f"Full recompute, --jobs {parallel['jobs']}", parallel),
        (f"Incremental after {incremental['marked']:,} workers marked", incremental),
    ):
        memory = f"peak memory {run['rss']:.0f} MiB"
        if run["jobs"] > 1:
            memory += f" (largest child process {run['children_rss']:.0f} MiB)"
        print(
            f"{name}: {run['wall']:.2f} s wall, {run['cpu']:.2f} s CPU here, {run['chunks']} chunks, "
            f"{run['workers']:,} workers evaluated, {run['awarded'] + run['pending']:,} records written, "
            f"{run['queries']} queries here; {memory}"
        )
    print(f"RATIO full --jobs 1 / floor: {serial['wall'] / floor['wall']:.1f}x wall")
    print(
        f"RATIO full --jobs {parallel['jobs']} / floor: {parallel['wall'] / floor['wall']:.1f}x wall "
        f"(target: within 5x on PostgreSQL at 100,000 workers)"
    )
    print(
        f"RATIO incremental / floor: {incremental['wall'] / floor['wall']:.2f}x wall "
        f"(target: within 0.5x at 100,000 workers, 1 % touched)"
    )
    if floor["vendor"] == "sqlite":
        # SQLite runs inside the process, so CPU time is comparable and immune to other load on the machine.
        print(f"RATIO full --jobs 1 / floor: {serial['cpu'] / floor['cpu']:.1f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse", action="store_true", help="Keep the data already in the database.")
    parser.add_argument("--jobs", type=int, default=2, help="Processes of the parallel full run (default 2).")
    parser.add_argument(
        "--touched", type=float, default=0.01, help="Share of workers marked before the incremental run."
    )
    parser.add_argument("--chunk-size", type=int, default=5000, help="Workers per chunk (ranks_recompute's default).")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.jobs, args.touched, args.chunk_size)
        return
    build(args.workers, args.reuse, args.seed)
    # Each measurement in a fresh process, so its peak memory is its own, not the build's or another run's.
    floor = run_measure("floor", args)
    serial = run_measure("serial", args)
    reset()
    parallel = run_measure("parallel", args)
    incremental = run_measure("incremental", args)
    report(floor, serial, parallel, incremental)


if __name__ == "__main__":
    main()
