#!/usr/bin/env python
"""
Load benchmark: gunicorn (production settings) on 127.0.0.1 over PostgreSQL
with a synthetic mining group built by `load_scale`, driven by a small asyncio
HTTP client for a bounded number of requests:

- the worker page (/workers/<employee_no>/) and the unit page (/units/<crew>/),
  as a logged-in training-department session (real login through /login/);
- the clearance API (/api/clearance/) with an API token;
- the floor: a static file served by whitenoise from the same gunicorn.

Prints requests/s, p50/p95 latency and the error count per endpoint, and each
endpoint's throughput as a share of the floor. Not part of CI.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_bench_load .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --workers 5000 --requests 1000 --reuse
"""

import argparse
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kj_bench_load"
PASSWORD = "bench-load-password-9f3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the benchmark database (dropping it first when `fresh`)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str) -> str:
    completed = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


SETUP = r"""
import random
from django.contrib.auth.models import Group, User
from certifications.clearance.tokens import api_token_create
from certifications.models import ApiToken
from training.models import Unit, Worker, WorkerTrade

hr, _ = User.objects.get_or_create(username="bench-hr", defaults={"is_staff": True})
hr.set_password(PASSWORD)
hr.save()
hr.groups.add(Group.objects.get(name="training_department"))
ApiToken.objects.filter(user=hr).delete()
_token, raw = api_token_create(user=hr, name="bench")
rng = random.Random(7)
ids = list(Worker.objects.filter(employee_no__startswith="S").values_list("id", flat=True))
sample = rng.sample(ids, min(500, len(ids)))
pairs = list(WorkerTrade.objects.filter(worker_id__in=sample).values_list("worker__employee_no", "trade__name"))
crews = list(Unit.objects.filter(kind="crew", code__startswith="S-").values_list("code", flat=True))
print("TOKEN", raw)
for no, trade in pairs:
    print("PAIR", no, trade, sep="\t")
for code in rng.sample(crews, min(100, len(crews))):
    print("CREW", code)
"""


async def http(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict, bytes]:
    """Send one HTTP/1.1 request on a fresh loopback connection; return status, headers (last value wins), body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close", "X-Forwarded-Proto: https"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        head.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    header_blob, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_blob.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    response_headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        response_headers.setdefault(key.strip().lower(), []).append(value.strip())
    return status, response_headers, payload


def cookies_of(headers: dict) -> dict[str, str]:
    return {c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0] for c in headers.get("set-cookie", [])}


async def login(port: int, username: str) -> str:
    status, headers, body = await http(port, "GET", "/login/", {})
    assert status == 200, f"GET /login/ → {status}"
    csrf_cookie = cookies_of(headers)["csrftoken"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}).encode()
    status, headers, _ = await http(
        port,
        "POST",
        "/login/",
        {
            "Cookie": f"csrftoken={csrf_cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}/login/",
        },
        form,
    )
    session = cookies_of(headers).get("sessionid")
    assert status == 302 and session, f"login failed: {status}"
    return session


async def drive(port: int, paths: list[str], headers: dict[str, str], concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = list(paths)

    async def one_client():
        nonlocal errors
        while queue:
            path = queue.pop()
            started = time.perf_counter()
            try:
                status, _, _ = await http(port, "GET", path, headers)
                if status != 200:
                    errors += 1
            except Exception:  # noqa: BLE001 - counted as an error
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "errors": errors,
    }


async def benchmark(port: int, setup: dict, requests: int, concurrency: int) -> dict[str, dict]:
    rng = random.Random(11)
    session = await login(port, "bench-hr")
    cookie = {"Cookie": f"sessionid={session}"}
    workers = [no for no, _ in setup["pairs"]]
    plans = {
        "static file (floor)": (["/static/admin/css/base.css"] * requests, {}),
        "worker page": ([f"/workers/{rng.choice(workers)}/" for _ in range(requests)], cookie),
        "unit page (crew)": ([f"/units/{rng.choice(setup['crews'])}/" for _ in range(requests)], cookie),
        "clearance API": (
            [
                f"/api/clearance/?{urlencode({'employee_no': no, 'trade': trade})}"
                for no, trade in (rng.choice(setup["pairs"]) for _ in range(requests))
            ],
            {"Authorization": f"Token {setup['token']}"},
        ),
    }
    results = {}
    for name, (paths, headers) in plans.items():
        await drive(port, paths[: max(20, requests // 20)], headers, concurrency)  # warm-up
        results[name] = await drive(port, paths, headers, concurrency)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100_000, help="size of the synthetic group")
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint (bounded)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep the data already in the database")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(url, fresh=not args.reuse)
    secret = secrets.token_urlsafe(60)
    base_env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    dev_env = {**base_env, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": secret}
    prod_env = {
        **{k: v for k, v in base_env.items() if k != "DEBUG"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
        "CONN_MAX_AGE": "600",
    }

    manage(dev_env, "migrate", "--no-input", "-v0")
    manage(dev_env, "createcachetable")
    count = int(
        manage(
            dev_env,
            "shell",
            "-v0",
            "-c",
            "from training.models import Worker; print(Worker.all_objects.filter(employee_no__startswith='S').count())",
        ).strip()
    )
    if not count:
        started = time.perf_counter()
        print(
            manage(dev_env, "load_scale", "--workers", str(args.workers)).strip(),
            f"({time.perf_counter() - started:.0f} s)",
        )
    else:
        print(f"Reusing {count:,} workers.")
    lines = manage(dev_env, "shell", "-v0", "-c", SETUP.replace("PASSWORD", repr(PASSWORD))).splitlines()
    setup = {"token": "", "pairs": [], "crews": []}
    for line in lines:
        kind, _, rest = line.partition(" " if line.startswith(("TOKEN", "CREW")) else "\t")
        if kind == "TOKEN":
            setup["token"] = rest
        elif kind == "PAIR":
            setup["pairs"].append(tuple(rest.split("\t")))
        elif kind == "CREW":
            setup["crews"].append(rest)
    manage(prod_env, "collectstatic", "--no-input", "-v0")

    port = free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.gunicorn_workers),
            "--access-logfile",
            "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=prod_env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        results = asyncio.run(benchmark(port, setup, args.requests, args.concurrency))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    floor = results["static file (floor)"]["rps"]
    print(
        f"\n{count or args.workers:,} workers · gunicorn {args.gunicorn_workers} workers · "
        f"{args.requests} requests per endpoint, "
        f"{args.concurrency} concurrent · PostgreSQL\n"
    )
    print(f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'vs floor':>10}")
    for name, r in results.items():
        print(f"{name:<22}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['errors']:>8}{r['rps'] / floor:>9.1%}")
    if any(r["errors"] for r in results.values()):
        sys.exit("errors: see above")


if __name__ == "__main__":
    main()
