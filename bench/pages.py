#!/usr/bin/env python
"""
In-process page timings: the worker page, a crew's unit page, the top unit's
page, the HR dashboard (cached figures) and the clearance API, through
Django's test client against the database in DATABASE_URL (the synthetic
group built by `load_scale`, e.g. bench/load.py's kj_bench_load), with no
HTTP server in between. Prints, per page, the fastest and median of a few
requests, the number of queries and the time the database took; --profile
prints a cProfile of one page. Not part of CI; nothing is written except a
login user, an API token and the dashboard's cached figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_bench_load .venv/bin/python bench/pages.py
    DATABASE_URL=… .venv/bin/python bench/pages.py --repeat 7 --profile worker
    DATABASE_URL=… .venv/bin/python bench/pages.py --explain crew   # EXPLAIN ANALYZE of the slowest queries
"""

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# DEBUG off, as in production: cached templates; queries are captured with CaptureQueriesContext.
os.environ.setdefault("SECRET_KEY", "bench-pages-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup():
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    from certifications.clearance.tokens import api_token_create
    from certifications.models import ApiToken
    from training.models import Unit, Worker, WorkerTrade

    hr, _ = User.objects.get_or_create(username="bench-pages-hr", defaults={"is_staff": True})
    hr.groups.add(Group.objects.get(name="training_department"))
    ApiToken.objects.filter(user=hr).delete()
    _token, raw = api_token_create(user=hr, name="bench pages")
    client = Client()
    client.force_login(hr)
    rng = random.Random(5)
    top = Unit.objects.filter(parent__isnull=True, code__endswith="-GROUP").order_by("code").first()
    crews = list(Unit.objects.filter(kind="crew", code__startswith="S-").values_list("code", flat=True)[:2000])
    last = Worker.objects.filter(employee_no__startswith="S").order_by("-pk").values_list("pk", flat=True).first()
    first = Worker.objects.filter(employee_no__startswith="S").order_by("pk").values_list("pk", flat=True).first()
    pairs = []
    while len(pairs) < 50:
        found = (
            WorkerTrade.objects.filter(worker_id=rng.randint(first, last))
            .values_list("worker__employee_no", "trade__name")
            .first()
        )
        if found:
            pairs.append(found)
    pages = {
        "worker": lambda: client.get(reverse("certifications:worker-detail", args=[rng.choice(pairs)[0]])),
        "crew": lambda: client.get(reverse("certifications:unit-detail", args=[rng.choice(crews)])),
        "top unit": lambda: client.get(reverse("certifications:unit-detail", args=[top.code])),
        "dashboard": lambda: client.get(reverse("certifications:dashboard")),
        "api": lambda: client.get(
            reverse("certifications:api-clearance"),
            dict(zip(("employee_no", "trade"), rng.choice(pairs), strict=True)),
            HTTP_AUTHORIZATION=f"Token {raw}",
        ),
    }
    return pages


def measure(name, request, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries, sql = [], [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = request()
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        queries.append(len(captured.captured_queries))
        sql.append(sum(float(q["time"]) for q in captured.captured_queries))
    return {
        "min": min(timings) * 1000,
        "median": statistics.median(timings) * 1000,
        "queries": max(queries),
        "sql": statistics.median(sql) * 1000,
    }


def explain(request, top):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        request()
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:top]
    with connection.cursor() as cursor:
        for q in slowest:
            print(f"\n-- {float(q['time']) * 1000:.1f} ms\n{q['sql'][:1500]}")  # long IN lists cut short
            if connection.vendor == "postgresql" and q["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                print("\n".join(row[0][:300] for row in cursor.fetchall()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", help="worker, crew, 'top unit', dashboard, api (default: all)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", help="cProfile one page")
    parser.add_argument("--explain", help="EXPLAIN ANALYZE the slowest queries of one page")
    args = parser.parse_args()
    pages = setup()
    for request in pages.values():  # warm-up: templates, translations, the dashboard's cached figures
        request()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            pages[args.profile]()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(40)
        return
    if args.explain:
        explain(pages[args.explain], 4)
        return
    from django.db import connection

    print(
        f"{connection.vendor} · {connection.settings_dict['NAME']} · {args.repeat} requests each · "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'page':<12}{'min ms':>9}{'median ms':>11}{'queries':>9}{'SQL ms':>9}")
    for name in args.pages or pages:
        r = measure(name, pages[name], args.repeat)
        print(f"{name:<12}{r['min']:>9.1f}{r['median']:>11.1f}{r['queries']:>9}{r['sql']:>9.1f}")


if __name__ == "__main__":
    main()
