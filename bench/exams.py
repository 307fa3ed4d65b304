#!/usr/bin/env python
"""
Online exam benchmark (issue 16, item 7): gunicorn (production settings) on
127.0.0.1 over PostgreSQL, with a question bank, a paper template, an exam
session and N candidates (default 500, each a worker with a login), driven by
a small asyncio HTTP client. Every candidate logs in through /login/, starts
the attempt, reads state.json, answers every question with one save each (some
twice with a higher seq, and some older saves replayed late, as a phone coming
back online does) and submits.

Prints logins/s, saves/s, p50/p95 per request kind against a static file from
the same gunicorn (before the exam, and while it runs), the errors, and the
LOST ANSWERS: every save the client saw acknowledged must be in the database
(AttemptQuestion.answer at that seq or a later one) and in the score (the
submitted score equals a regrade of the stored answers, and the result the
roll-up reads). Exits non-zero on any error, lost answer or wrong score. Not
part of CI.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_bench_exams .venv/bin/python bench/exams.py
    .venv/bin/python bench/exams.py --candidates 100 --concurrency 50 --reuse
    .venv/bin/python bench/exams.py --think 20 --seconds 1200   # candidates who read each question
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kj_bench_exams"
PASSWORD = "bench-exams-password-4c1"
PREFIX = "EXB"
STATIC = "/static/admin/css/base.css"
# The paper: (type, questions, marks each) — 45 questions, 100 marks, the assessment's full marks, so the score
# the candidate sees is the paper's score. The bank holds BANK_FACTOR × each section so neighbours' papers differ.
PAPER = (("single", 20, "2"), ("multiple", 10, "3"), ("true_false", 15, "2"))
BANK_FACTOR = 3
MULTIPLE_ANSWERS = ("AC", "BD", "ABD", "ACD", "BC")


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


# --- the data (run inside Django) ------------------------------------------------------------------------------


@dataclass
class Setup:
    session_pk: int
    usernames: list[str]
    key: dict[str, tuple[str, str]]  # stem → (type, correct answer in bank keys)


def _stem(kind: str, i: int) -> str:
    return f"【压测{kind}-{i:04d}】井下作业时，下列哪一项符合《煤矿安全规程》？"


def _bank_create(course) -> None:
    """The bank: BANK_FACTOR × each section's questions, serving the course; answers varied by number."""
    from certifications.models import Question, QuestionVersion

    questions, texts = [], []
    for kind, count, _marks in PAPER:
        for i in range(count * BANK_FACTOR):
            questions.append(
                Question(kind=kind, difficulty=1 + i % 5, knowledge_point=f"压测{i % 4}", stem_key=f"exb {kind} {i}")
            )
            if kind == "true_false":
                texts.append(([], "T" if i % 2 else "F", _stem(kind, i)))
            else:
                options = [{"key": k, "text": f"选项{k}：第{i}题的说法{k}"} for k in "ABCD"]
                answer = "ABCD"[i % 4] if kind == "single" else MULTIPLE_ANSWERS[i % len(MULTIPLE_ANSWERS)]
                texts.append((options, answer, _stem(kind, i)))
    questions = Question.objects.bulk_create(questions)
    QuestionVersion.objects.bulk_create(
        QuestionVersion(question=q, number=1, stem=stem, options=options, answer=answer, explanation="压测")
        for q, (options, answer, stem) in zip(questions, texts, strict=True)
    )
    Question.courses.through.objects.bulk_create(
        Question.courses.through(question_id=q.pk, course_id=course.pk) for q in questions
    )


def _candidates_create(unit, count: int) -> None:
    """Workers EXB00001… with logins exb-00001…, trainees, one password hash for all (hashing 500 takes minutes)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from core.text import pinyin_initials, pinyin_key
    from training import roles
    from training.models import PersonnelCategory, Worker

    have = Worker.all_objects.filter(employee_no__startswith=PREFIX).count()
    if have >= count:
        return
    encoded = make_password(PASSWORD)
    numbers = range(have + 1, count + 1)
    users = User.objects.bulk_create(User(username=f"exb-{n:05d}", password=encoded) for n in numbers)
    trainee = Group.objects.get(name=roles.TRAINEE)
    User.groups.through.objects.bulk_create(User.groups.through(user_id=u.pk, group_id=trainee.pk) for u in users)
    surnames, given = "王李张刘陈杨赵黄周吴", "强明伟军磊涛斌超勇杰"
    workers = []
    for n, user in zip(numbers, users, strict=True):
        name = surnames[n % 10] + given[(n // 10) % 10] + given[(n // 100) % 10]
        workers.append(
            Worker(
                employee_no=f"{PREFIX}{n:05d}",
                name=name,
                name_pinyin=pinyin_key(name),
                name_initials=pinyin_initials(name),
                unit=unit,
                category=PersonnelCategory.OTHER,
                hire_date="2020-03-01",
                user=user,
            )
        )
    Worker.objects.bulk_create(workers)


def build(*, candidates: int) -> Setup:
    """
    Build (or keep) the bank, the paper template, the assessment and `candidates` workers with logins; open a
    new session with the first `candidates` of them on its roster (each run starts fresh attempts).
    """
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from certifications.models import (
        Assessment,
        ExamCandidate,
        ExamSession,
        PaperSection,
        PaperTemplate,
        QuestionVersion,
    )
    from training.models import Course, Unit, Worker

    with transaction.atomic():
        mine, _ = Unit.objects.get_or_create(code=f"{PREFIX}-MINE", defaults={"name": "压测煤矿", "kind": "mine"})
        crew, _ = Unit.objects.get_or_create(
            code=f"{PREFIX}-CREW", defaults={"name": "压测考场", "kind": "crew", "parent": mine}
        )
        course, created = Course.objects.get_or_create(
            code=f"{PREFIX}-COURSE", defaults={"title": "压测理论课", "theory_hours": 8, "practical_hours": 0}
        )
        if created:
            _bank_create(course)
        template, created = PaperTemplate.objects.get_or_create(
            name="压测理论试卷", defaults={"course": course, "duration_minutes": 90, "partial_marks": False}
        )
        if created:
            PaperSection.objects.bulk_create(
                PaperSection(template=template, order=i, kind=kind, count=count, marks_each=Decimal(marks))
                for i, (kind, count, marks) in enumerate(PAPER, start=1)
            )
        assessment, _ = Assessment.objects.get_or_create(
            code=f"{PREFIX}-THEORY",
            defaults={
                "name": "压测理论考试",
                "kind": "theory",
                "course": course,
                "held_on": timezone.localdate(),
                "full_marks": 100,
                "pass_mark": 60,
            },
        )
        _candidates_create(crew, candidates)
        now = timezone.now()
        session = ExamSession.objects.create(
            name=f"压测机考 {timezone.localtime(now):%Y-%m-%d %H:%M:%S}",
            template=template,
            assessment=assessment,
            opens_at=now - dt.timedelta(minutes=1),
            closes_at=now + dt.timedelta(hours=4),
        )
        workers = list(
            Worker.all_objects.filter(employee_no__startswith=PREFIX)
            .order_by("employee_no")
            .values_list("pk", "user__username")[:candidates]
        )
        ExamCandidate.objects.bulk_create(ExamCandidate(session=session, worker_id=pk) for pk, _u in workers)
    key = {
        stem: (kind, answer)
        for stem, kind, answer in QuestionVersion.objects.filter(question__courses=course).values_list(
            "stem", "question__kind", "answer"
        )
    }
    return Setup(session.pk, [username for _pk, username in workers], key)


# --- what a candidate does (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Save:
    order: int
    answer: str
    seq: int
    flagged: bool
    replay: bool = False  # an older save arriving late: the server must keep the newer one


def _other(kind: str, correct: str, keys: list[str], rng: random.Random) -> str:
    """An answer that is not the correct one."""
    if kind == "true_false":
        return "F" if correct == "T" else "T"
    if kind == "single":
        return rng.choice([k for k in keys if k != correct])
    return "".join(sorted({*correct[:1], *(k for k in keys if k not in correct)}))


def plan(questions: list[dict], key: dict[str, tuple[str, str]], rng: random.Random) -> list[Save]:
    """
    Return a candidate's saves for the questions of state.json: one per question (70 % correct), a fifth of
    them changed once (seq 2), and a tenth of those changed ones' first save replayed at the end (stale).
    """
    saves, replays = [], []
    for q in questions:
        kind, correct = key[q["stem"]]
        keys = [o["key"] for o in q["options"]]
        final = correct if rng.random() < 0.7 else _other(kind, correct, keys, rng)
        flagged = rng.random() < 0.05
        if rng.random() < 0.2:
            first = Save(q["order"], _other(kind, final, keys, rng) if final == correct else correct, 1, False)
            saves += [first, Save(q["order"], final, 2, flagged)]
            if rng.random() < 0.1:
                replays.append(Save(first.order, first.answer, first.seq, first.flagged, replay=True))
        else:
            saves.append(Save(q["order"], final, 1, flagged))
    return saves + replays


@dataclass
class CandidateLog:
    """What one candidate's client saw: its attempt, the saves acknowledged and the score shown at submission."""

    username: str
    public_id: str | None = None
    acked: dict[int, tuple[int, str]] = field(default_factory=dict)  # order → (highest seq acknowledged, answer)
    submitted: str | None = None  # the score the submit answer showed
    replays_kept_newer: int = 0

    def acknowledge(self, save: Save, body: dict) -> None:
        """Record the server's 200 to a save: acknowledged when it kept this seq (an older one answers the newer)."""
        if int(body.get("seq", -1)) == save.seq and body.get("saved"):
            if save.seq >= self.acked.get(save.order, (0, ""))[0]:
                self.acked[save.order] = (save.seq, save.answer)
        elif save.replay:
            self.replays_kept_newer += 1


# --- the check (run inside Django) ------------------------------------------------------------------------------


def _earns(kind: str, correct: str, given: str) -> bool:
    # The bench's own oracle for its own paper (single, true/false, multiple all or nothing): it checks the exam
    # door, so it does not reuse the grading code it checks.
    if not given:
        return False
    if kind == "multiple":
        return sorted(set(given)) == sorted(set(correct))
    return given == correct


@dataclass
class Check:
    attempts: int = 0
    answers: int = 0
    lost: list[str] = field(default_factory=list)
    wrong_scores: list[str] = field(default_factory=list)
    not_ended: list[str] = field(default_factory=list)


def answers_check(logs: list[CandidateLog]) -> Check:
    """
    For every save a client saw acknowledged, the database holds that answer (at that seq, or a later save);
    for every paper a client saw submitted, the stored score, the result and the score shown equal a regrade
    of the stored answers. Three queries whatever the number of candidates.
    """
    from django.db.models import Prefetch

    from certifications.models import Attempt, AttemptQuestion

    check = Check()
    ids = [log.public_id for log in logs if log.public_id]
    attempts = {
        str(a.public_id): a
        for a in Attempt.objects.filter(public_id__in=ids)
        .select_related("result", "candidate__session__assessment")
        .prefetch_related(
            Prefetch("questions", queryset=AttemptQuestion.objects.select_related("question_version__question"))
        )
    }
    for log in logs:
        attempt = attempts.get(log.public_id or "")
        if attempt is None:
            check.lost += [f"{log.username} Q{order}: no attempt" for order in log.acked]
            continue
        check.attempts += 1
        rows = {q.order: q for q in attempt.questions.all()}
        for order, (seq, answer) in sorted(log.acked.items()):
            check.answers += 1
            row = rows.get(order)
            if row is None or row.answer_seq < seq or (row.answer_seq == seq and row.answer != answer):
                stored = "none" if row is None else f"{row.answer or '—'} at seq {row.answer_seq}"
                check.lost.append(f"{log.username} Q{order}: acknowledged {answer} at seq {seq}, stored {stored}")
        if log.submitted is None:
            continue
        if attempt.open:
            check.not_ended.append(f"{log.username}: submitted, still open")
            continue
        regrade = sum(
            (
                q.marks
                for q in rows.values()
                if _earns(q.question_version.question.kind, q.question_version.answer, q.answer)
            ),
            Decimal("0"),
        )
        full = attempt.candidate.session.assessment.full_marks
        shown = (regrade * full / attempt.full_marks).quantize(Decimal("0.1"))
        result = attempt.result.score if attempt.result is not None else None
        if attempt.score != regrade or Decimal(log.submitted) != shown or result != shown:
            check.wrong_scores.append(
                f"{log.username}: regrade {regrade} (shown as {shown}), stored {attempt.score}, "
                f"result {result}, the candidate saw {log.submitted}"
            )
    return check


# --- the client ---------------------------------------------------------------------------------------------------


class HttpError(Exception):
    pass


async def http(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"", timeout: float = 120
) -> tuple[int, dict, bytes]:
    """Send one HTTP/1.1 request on a fresh loopback connection; return status, headers (lists), body."""

    async def exchange():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        head += ["X-Forwarded-Proto: https", *(f"{k}: {v}" for k, v in headers.items())]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await reader.read()
        writer.close()
        return raw

    raw = await asyncio.wait_for(exchange(), timeout)
    header_blob, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_blob.decode("latin-1").split("\r\n")
    if not lines or len(lines[0].split()) < 2:
        raise HttpError("no HTTP answer")
    response_headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        response_headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), response_headers, payload


def cookies_of(headers: dict) -> dict[str, str]:
    return {c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0] for c in headers.get("set-cookie", [])}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def time(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {what}")


class Candidate:
    """One simulated candidate: a login of their own, a phone's user agent, an address at the training base."""

    def __init__(self, port: int, number: int, username: str, stats: Stats):
        self.port, self.username, self.stats = port, username, stats
        self.cookies: dict[str, str] = {}
        self.log = CandidateLog(username)
        self.ip = f"10.20.{number // 250}.{number % 250 + 1}"
        self.user_agent = f"Mozilla/5.0 (Linux; Android 14; KJ-bench {number}) Mobile"

    def _headers(self, extra: dict | None = None) -> dict[str, str]:
        origin = f"https://127.0.0.1:{self.port}"
        headers = {"User-Agent": self.user_agent, "X-Forwarded-For": self.ip, "Origin": origin, "Referer": origin + "/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        return {**headers, **(extra or {})}

    async def _request(self, kind: str, method: str, path: str, body: bytes = b"", extra=None):
        started = time.perf_counter()
        status, headers, payload = await http(self.port, method, path, self._headers(extra), body)
        self.stats.time(kind, time.perf_counter() - started)
        self.cookies.update(cookies_of(headers))
        return status, headers, payload

    async def login(self) -> None:
        status, _h, body = await self._request("login page", "GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or token is None:
            raise HttpError(f"GET /login/ → {status}")
        form = {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()}
        status, _h, _b = await self._request(
            "login",
            "POST",
            "/login/",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise HttpError(f"login of {self.username} → {status}")

    async def sit(self, session_pk: int, key: dict, rng: random.Random, think: float) -> None:
        status, headers, _b = await self._request("start", "POST", f"/exams/{session_pk}/")
        location = (headers.get("location") or [""])[0]
        found = re.search(r"/exams/a/([0-9a-f-]{36})/", location)
        if status != 302 or not found:
            raise HttpError(f"start → {status} {location}")
        self.log.public_id = public_id = found.group(1)
        base = f"/exams/a/{public_id}/"
        status, _h, body = await self._request("state.json", "GET", base + "state.json")
        if status != 200:
            raise HttpError(f"state.json → {status}")
        state = json.loads(body)
        for save in plan(state["questions"], key, rng):
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))
            payload = {"order": save.order, "answer": save.answer, "seq": save.seq, "flagged": save.flagged}
            status, _h, body = await self._request(
                "save", "POST", base + "answer", json.dumps(payload).encode(), {"Content-Type": "application/json"}
            )
            if status != 200:
                self.stats.error("save", f"{self.username} Q{save.order} → {status} {body[:200]!r}")
                continue
            self.log.acknowledge(save, json.loads(body))
        status, _h, body = await self._request(
            "submit", "POST", base + "submit", b"{}", {"Content-Type": "application/json", "Accept": "application/json"}
        )
        if status != 200:
            raise HttpError(f"submit → {status} {body[:200]!r}")
        self.log.submitted = json.loads(body)["score"]


def summary(values: list[float]) -> tuple[int, float, float]:
    if not values:
        return 0, 0.0, 0.0
    ordered = sorted(values)
    return len(ordered), statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


async def static_floor(port: int, requests: int, concurrency: int, stats: Stats) -> float:
    """GET the static file `requests` times, `concurrency` at once; return requests/s."""
    left = [requests]

    async def client():
        while left[0] > 0:
            left[0] -= 1
            started = time.perf_counter()
            try:
                status, _h, _b = await http(port, "GET", STATIC, {})
                if status != 200:
                    stats.error("static file", str(status))
            except Exception as error:  # noqa: BLE001 — counted as an error, the run goes on
                stats.error("static file", repr(error))
            stats.time("static file", time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


async def static_probe(port: int, stats: Stats, stop: asyncio.Event) -> None:
    """GET the static file every 100 ms while the exam runs: how the server answers the cheapest request then."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status, _h, _b = await http(port, "GET", STATIC, {})
            if status != 200:
                stats.error("static during the exam", str(status))
        except Exception as error:  # noqa: BLE001 — counted as an error, the run goes on
            stats.error("static during the exam", repr(error))
        stats.time("static during the exam", time.perf_counter() - started)
        await asyncio.sleep(0.1)


async def run_all(coroutines, concurrency: int, deadline: float) -> int:
    """Run the coroutines, `concurrency` at a time, until `deadline` (perf_counter); return how many were cut."""
    gate = asyncio.Semaphore(concurrency)

    async def gated(coroutine):
        async with gate:
            await coroutine

    tasks = [asyncio.ensure_future(gated(c)) for c in coroutines]
    if not tasks:
        return 0
    _done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return len(pending)


async def benchmark(port: int, setup: Setup, args) -> dict:
    stats = Stats()
    rng = random.Random(args.seed)
    # Warm-up: each gunicorn worker loads its URLs and templates on its first requests.
    await static_floor(port, max(20, args.floor_requests // 10), args.concurrency, stats)
    for _ in range(args.gunicorn_workers * 2):
        await http(port, "GET", "/login/", {})
    stats.latencies.clear()
    floor_rps = await static_floor(port, args.floor_requests, args.concurrency, stats)
    floor = stats.latencies.pop("static file")
    candidates = [Candidate(port, i, username, stats) for i, username in enumerate(setup.usernames, start=1)]
    deadline = time.perf_counter() + args.seconds

    async def logged_in(candidate):
        try:
            await candidate.login()
        except Exception as error:  # noqa: BLE001 — counted as an error, the run goes on
            stats.error("login", repr(error))

    started = time.perf_counter()
    logins_at_once = args.login_concurrency or min(args.concurrency, 20)
    cut_logins = await run_all((logged_in(c) for c in candidates), logins_at_once, deadline)
    login_seconds = time.perf_counter() - started

    async def sat(candidate, seed):
        if "sessionid" not in candidate.cookies:
            return
        try:
            await candidate.sit(setup.session_pk, setup.key, random.Random(seed), args.think)
        except Exception as error:  # noqa: BLE001 — counted as an error, the run goes on
            stats.error("exam", f"{candidate.username}: {error!r}")

    stop = asyncio.Event()
    probe = asyncio.ensure_future(static_probe(port, stats, stop))
    started = time.perf_counter()
    cut = await run_all((sat(c, rng.random()) for c in candidates), args.concurrency, deadline)
    exam_seconds = time.perf_counter() - started
    stop.set()
    await probe
    return {
        "stats": stats,
        "floor": floor,
        "floor_rps": floor_rps,
        "logs": [c.log for c in candidates],
        "logins_at_once": logins_at_once,
        "login_seconds": login_seconds,
        "exam_seconds": exam_seconds,
        "cut": cut + cut_logins,
    }


def report(setup: Setup, outcome: dict, check: Check, args) -> int:
    stats: Stats = outcome["stats"]
    logs: list[CandidateLog] = outcome["logs"]
    saves = len(stats.latencies.get("save", []))
    submitted = sum(1 for log in logs if log.submitted is not None)
    replays = sum(log.replays_kept_newer for log in logs)
    questions = sum(count for _k, count, _m in PAPER)
    print(
        f"\n{len(setup.usernames)} candidates · {questions} questions each · "
        f"gunicorn {args.gunicorn_workers} workers · {args.concurrency} concurrent · "
        f"think {args.think:g} s · cap {args.seconds} s · PostgreSQL"
    )
    print(
        "Logins through /login/ with the production settings unchanged: django-axes counts failed logins only, and "
        "each candidate comes from its own X-Forwarded-For address behind the one trusted proxy."
    )
    print(
        f"logins ({outcome['logins_at_once']} at once): "
        f"{len(stats.latencies.get('login', []))} in {outcome['login_seconds']:.1f} s "
        f"({len(stats.latencies.get('login', [])) / max(outcome['login_seconds'], 1e-9):.1f}/s)"
    )
    print(
        f"exam: {submitted} papers submitted, {saves} saves in {outcome['exam_seconds']:.1f} s → "
        f"{saves / max(outcome['exam_seconds'], 1e-9):.1f} saves/s; {replays} late replays kept the newer answer\n"
    )
    floor_n, floor_p50, floor_p95 = summary(outcome["floor"])
    print(f"{'request':<24}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'p50 vs floor':>14}")
    print(f"{'static file (floor)':<24}{floor_n:>8}{floor_p50:>9.1f}{floor_p95:>9.1f}{'':>8}{'1.0×':>14}")
    for kind in ("static during the exam", "login page", "login", "start", "state.json", "save", "submit"):
        n, p50, p95 = summary(stats.latencies.get(kind, []))
        ratio = f"{p50 / floor_p50:.1f}×" if floor_p50 else "—"
        print(f"{kind:<24}{n:>8}{p50:>9.1f}{p95:>9.1f}{stats.errors.get(kind, 0):>8}{ratio:>14}")
    errors = sum(stats.errors.values())
    if stats.errors.get("exam"):
        print(f"{'candidates stopped':<24}{'':>8}{'':>9}{'':>9}{stats.errors['exam']:>8}")
    print(f"\nfloor throughput: {outcome['floor_rps']:.0f} requests/s")
    print(f"errors: {errors}" + "".join(f"\n  {s}" for s in stats.samples))
    print(f"cut by the time cap: {outcome['cut']}")
    print(f"acknowledged answers checked: {check.answers} in {check.attempts} attempts")
    print(f"LOST ANSWERS: {len(check.lost)}" + "".join(f"\n  {line}" for line in check.lost[:10]))
    print(f"wrong scores: {len(check.wrong_scores)}" + "".join(f"\n  {line}" for line in check.wrong_scores[:10]))
    print(f"submitted but still open: {len(check.not_ended)}")
    return errors + len(check.lost) + len(check.wrong_scores) + len(check.not_ended)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100, help="candidates at the exam at once")
    parser.add_argument("--seconds", type=int, default=900, help="time cap for the logins and the exam")
    parser.add_argument(
        "--login-concurrency",
        type=int,
        default=0,
        help="logins at once (default: --concurrency, at most 20: each costs a password hash, ~0.3 s of CPU)",
    )
    parser.add_argument("--think", type=float, default=0, help="mean seconds a candidate takes per answer")
    parser.add_argument("--floor-requests", type=int, default=2000)
    parser.add_argument("--gunicorn-workers", type=int, default=3, help="as docs/operations.md runs it")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help="keep the bank and the candidates; open a new session")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("bench/exams.py needs PostgreSQL: set DATABASE_URL=postgres://…")
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
    manage(prod_env, "collectstatic", "--no-input", "-v0")

    os.environ.update({k: v for k, v in dev_env.items() if k in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    import django

    django.setup()
    started = time.perf_counter()
    setup = build(candidates=args.candidates)
    took = time.perf_counter() - started
    print(f"Set up {len(setup.usernames)} candidates and session #{setup.session_pk} ({took:.0f} s).")
    from django.db import connections

    connections.close_all()

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
            "--backlog",
            "2048",
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
        outcome = asyncio.run(benchmark(port, setup, args))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    check = answers_check(outcome["logs"])
    if report(setup, outcome, check, args):
        sys.exit("errors, lost answers or wrong scores: see above")


if __name__ == "__main__":
    main()
