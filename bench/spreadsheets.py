#!/usr/bin/env python
"""
Benchmarks of the spreadsheet import and export against floors, on a synthetic
mine built by `demo.scale.scale_load` (~10 attendance rows per worker).

Ledger export (certifications.spreadsheets.ledger) vs the floor: raw openpyxl write-only
appending the same rows from the same values_list() — throughput ratio; and
peak memory (max RSS of a fresh process) at ~100,000 and ~300,000 rows.

Results import of 10,000 rows (certifications.spreadsheets.results) vs django-import-export
with default settings on the same file, and vs the floor: openpyxl read-only
parsing + bulk_create with preloaded lookups. Each import runs in a
transaction that is rolled back; floor and ours run three times each,
interleaved, and the best time counts (the machine is shared). Query counts via connection.execute_wrapper.

    .venv/bin/python bench/spreadsheets.py                 # throwaway SQLite file
    .venv/bin/python bench/spreadsheets.py --reuse         # keep the loaded data
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_bench_sheets .venv/bin/python bench/spreadsheets.py
"""

import argparse
import io
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
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/kj_bench_spreadsheets.sqlite3")
os.environ.setdefault("LOG_LEVEL", "WARNING")

SMALL, LARGE = "S", "T"  # unit-code prefixes of the two synthetic groups
IMPORT_ROWS = 10_000


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django():
    import django

    django.setup()


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


# --- children: each measurement runs in a fresh process so max RSS is its own --------------------------


def child_ledger_ours(prefix: str) -> dict:
    from django.db import connection

    from certifications.spreadsheets.ledger import LedgerWriter
    from training.models import Unit

    unit = Unit.objects.get(code=f"{prefix}-GROUP")
    writer = LedgerWriter(unit=unit)
    rows = sum(writer.attendance(d).count() for d in writer.departments)
    counter = QueryCounter()
    start = time.perf_counter()
    with connection.execute_wrapper(counter):
        writer.write(f"/tmp/kj_bench_ledger_{prefix}.xlsx")
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "queries": counter.count, "rss": max_rss_mib()}


def child_ledger_floor(prefix: str) -> dict:
    from openpyxl import Workbook

    from certifications.spreadsheets.ledger import LedgerWriter
    from training.models import Unit

    unit = Unit.objects.get(code=f"{prefix}-GROUP")
    writer = LedgerWriter(unit=unit)
    start = time.perf_counter()
    workbook = Workbook(write_only=True)
    rows = 0
    for department in writer.departments:
        sheet = workbook.create_sheet(str(department))
        for row in writer.ledger_rows(department):
            sheet.append(row)
            rows += 1
    workbook.save(f"/tmp/kj_bench_floor_{prefix}.xlsx")
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "rss": max_rss_mib()}


def _import_file(dimension: bool) -> bytes:
    """10,000 exam rows: employee number, name, assessment code, theory score."""
    from openpyxl import Workbook

    from training.models import Worker

    workers = list(
        Worker.objects.filter(employee_no__startswith=SMALL)
        .order_by("employee_no")
        .values_list("employee_no", "name")[:IMPORT_ROWS]
    )
    # write_only files carry no <dimension> (openpyxl then parses twice); normal saves do, like Excel's.
    workbook = Workbook(write_only=not dimension)
    sheet = workbook.create_sheet("成绩") if not dimension else workbook.active
    sheet.append(["工号", "姓名", "考核编码", "理论成绩"])
    for i, (number, name) in enumerate(workers):
        sheet.append([number, name, "BENCH-T", 50 + i % 50])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rolled_back(run):
    from django.db import connection, transaction

    counter = QueryCounter()
    with transaction.atomic():
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            created = run()
            seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return {"seconds": seconds, "queries": counter.count, "created": created, "rss": max_rss_mib()}


def child_import(kind: str, dimension: bool) -> dict:
    from certifications.models import Assessment, AssessmentResult
    from training.models import Worker

    data = _import_file(dimension)

    if kind == "ours":
        from certifications.spreadsheets.results import results_import

        return _rolled_back(lambda: len(results_import(data).to_create))

    if kind == "die":
        import tablib
        from import_export import fields, resources, widgets

        class DefaultResultResource(resources.ModelResource):
            worker = fields.Field(
                attribute="worker", column_name="工号", widget=widgets.ForeignKeyWidget(Worker, "employee_no")
            )
            assessment = fields.Field(
                attribute="assessment", column_name="考核编码", widget=widgets.ForeignKeyWidget(Assessment, "code")
            )
            score = fields.Field(attribute="score", column_name="理论成绩", widget=widgets.DecimalWidget())

            class Meta:
                model = AssessmentResult
                fields = ("worker", "assessment", "score")
                import_id_fields = ("worker", "assessment")

        def run():
            dataset = tablib.Dataset().load(data, format="xlsx")
            result = DefaultResultResource().import_data(dataset, dry_run=False)
            assert not result.has_errors(), result.row_errors()[:1]
            return result.totals["new"]

        return _rolled_back(run)

    # The floor: parse with openpyxl read-only, look up with two dicts, bulk_create.
    from django.utils import timezone
    from openpyxl import load_workbook

    def run():
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = workbook.worksheets[0].iter_rows(min_row=2, values_only=True)
        assessment = Assessment.objects.get(code="BENCH-T")
        parsed = list(rows)
        workers = dict(Worker.objects.filter(employee_no__in=[r[0] for r in parsed]).values_list("employee_no", "id"))
        now = timezone.now()
        objs = [
            AssessmentResult(
                assessment=assessment,
                worker_id=workers[r[0]],
                score=r[3],
                full_marks=assessment.full_marks,
                recorded_at=now,
            )
            for r in parsed
        ]
        AssessmentResult.objects.bulk_create(objs)
        return len(objs)

    return _rolled_back(run)


# --- the parent: build the data, run the children, print ratios ---------------------------------------------


def build(small: int, large: int, reuse: bool, seed: int) -> None:
    from django.core.management import call_command

    from training.models import Unit

    call_command("migrate", verbosity=0)
    from certifications.models import Assessment
    from demo.scale import scale_load
    from training.models import Course

    for prefix, workers in ((SMALL, small), (LARGE, large)):
        if reuse and Unit.objects.filter(code=f"{prefix}-GROUP").exists():
            continue
        started = time.perf_counter()
        scale_load(workers=workers, seed=seed, prefix=prefix)
        print(f"  loaded {workers:,} workers ({prefix}) in {time.perf_counter() - started:.0f} s", flush=True)
    course, _ = Course.objects.get_or_create(code="BENCH-C", defaults={"title": "基准测试课程"})
    Assessment.objects.get_or_create(
        code="BENCH-T", defaults={"name": "基准理论考试", "kind": "theory", "course": course, "held_on": "2026-09-05"}
    )


def run_child(*args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000, help="workers in the ~100,000-row group")
    parser.add_argument("--large", type=int, default=30_000, help="workers in the ~300,000-row group")
    parser.add_argument("--reuse", action="store_true", help="keep data already loaded")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["ledger", "import"], help="run one half of the benchmark")
    parser.add_argument(
        "--no-die", action="store_true", help="skip django-import-export (minutes per run): floor vs ours only"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()

    if args.child:
        what, *rest = args.child
        if what == "ledger-ours":
            result = child_ledger_ours(rest[0])
        elif what == "ledger-floor":
            result = child_ledger_floor(rest[0])
        else:
            result = child_import(rest[0], rest[1] == "dimension")
        print(json.dumps(result))
        return

    db = os.environ["DATABASE_URL"]
    if not args.reuse and db.startswith("sqlite:///"):
        path = Path(db.removeprefix("sqlite://"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    print(f"Spreadsheet benchmarks on {db.split('@')[-1]}", flush=True)
    build(args.small, args.large, args.reuse, args.seed)

    if args.only != "import":
        ledger_benchmark()
    if args.only != "ledger":
        import_benchmark(die=not args.no_die)


def ledger_benchmark():
    print("\nLedger export (rows = worker × class rows on the department sheets)")
    floor = run_child("ledger-floor", SMALL)
    ours = run_child("ledger-ours", SMALL)
    ours_large = run_child("ledger-ours", LARGE)
    floor_rate, ours_rate = floor["rows"] / floor["seconds"], ours["rows"] / ours["seconds"]
    print(
        f"  floor (raw write-only, values_list): {floor['rows']:,} rows in {floor['seconds']:.2f} s "
        f"= {floor_rate:,.0f} rows/s"
    )
    print(
        f"  export_ledger (all four kinds of sheet, styled): {ours['rows']:,} rows in {ours['seconds']:.2f} s "
        f"= {ours_rate:,.0f} rows/s, {ours['queries']} queries"
    )
    print(f"  throughput ratio ours/floor: {ours_rate / floor_rate:.2f}x (target ≥ 0.7x)")
    print(
        f"  peak memory (max RSS): {ours['rss']:.0f} MiB at {ours['rows']:,} rows, "
        f"{ours_large['rss']:.0f} MiB at {ours_large['rows']:,} rows "
        f"(ratio {ours_large['rss'] / ours['rss']:.2f}x for {ours_large['rows'] / ours['rows']:.1f}x the rows), "
        f"{ours_large['queries']} queries"
    )


def import_benchmark(die: bool = True):
    for dimension in ("dimension", "nodimension"):
        label = (
            "saved like Excel (with <dimension>)"
            if dimension == "dimension"
            else "openpyxl write-only (no <dimension>)"
        )
        print(f"\nResults import, {IMPORT_ROWS:,} rows, file {label}")
        # The machine is shared: floor and ours run three times, interleaved, and the best time counts.
        floors, ourses = [], []
        for _ in range(3):
            floors.append(run_child("import", "floor", dimension))
            ourses.append(run_child("import", "ours", dimension))
        floor = min(floors, key=lambda r: r["seconds"])
        ours = min(ourses, key=lambda r: r["seconds"])
        print(f"  floor (read-only parse + bulk_create): {floor['seconds']:.2f} s, {floor['queries']} queries")
        print(f"  import_results: {ours['seconds']:.2f} s, {ours['queries']} queries, {ours['created']:,} results")
        print(f"  ours vs floor: {ours['seconds'] / floor['seconds']:.2f}x the floor's time (target ≤ 1.5x)")
        if die:
            die = run_child("import", "die", dimension)
            print(
                f"  django-import-export defaults: {die['seconds']:.2f} s, {die['queries']} queries "
                f"({die['queries'] / IMPORT_ROWS:.1f} per row)"
            )
            print(
                f"  ours vs django-import-export: {die['seconds'] / ours['seconds']:.1f}x faster (target ≥ 3x); "
                f"django-import-export vs floor: {die['seconds'] / floor['seconds']:.1f}x"
            )


if __name__ == "__main__":
    main()
