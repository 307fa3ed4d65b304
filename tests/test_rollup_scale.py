"""
The roll-up at a group's scale (issue 15): chunks give the result of one pass, processes give the result of one
process, and the incremental run (only the workers whose evidence, rules or dates changed) gives the result of
`--all` after any sequence of writes through the services.
"""

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from certifications.models import Assessment, AssessmentResult, RankEvaluation, RankRecord
from certifications.ranks.services import (
    rank_approve,
    rank_reject,
    ranks_recompute,
    result_correct,
    result_delete,
    result_record,
    review_record,
)
from demo.scale import scale_load
from tests.factories import AssessmentFactory, RuleSetFactory, TrainingClassFactory, WorkerTradeFactory
from tests.rollup_setup import trade_setup, worker_in
from training.services import attendance_record

ON = dt.date(2026, 6, 1)
ROOT = Path(__file__).resolve().parent.parent


def engine_records():
    """The engine's records as comparable rows (ids differ between runs)."""
    return sorted(
        (w, t, r, status, rule_set, str(sorted((evidence or {}).get("evidence", []))))
        for w, t, r, status, rule_set, evidence in RankRecord.objects.filter(source="engine").values_list(
            "worker_id", "trade_id", "rank_id", "status", "rule_set_id", "evidence"
        )
    )


def changes(report):
    return sorted(map(str, report.changes))


# --- bounded memory: chunks ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_in_tiny_chunks_awards_exactly_what_one_pass_awards():
    scale_load(workers=60, seed=11, today=ON)
    one_pass = ranks_recompute(on=ON, dry_run=True, chunk_size=10_000)
    assert one_pass.chunks == 1 and one_pass.pending > 0
    chunked = ranks_recompute(on=ON, chunk_size=7)
    assert chunked.chunks == 9
    assert changes(chunked) == changes(one_pass)
    assert (chunked.evaluated, chunked.workers) == (one_pass.evaluated, one_pass.workers)
    assert len(engine_records()) == one_pass.pending
    # Every pair evaluated has its evaluation, and nothing is left to do.
    assert RankEvaluation.objects.count() == one_pass.evaluated
    assert ranks_recompute(on=ON, only_changed=True).evaluated == 0


@pytest.mark.django_db
def test_each_chunk_costs_the_same_number_of_queries_whatever_its_size():
    scale_load(workers=60, seed=12, today=ON)

    def queries(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            ranks_recompute(on=ON, dry_run=True, chunk_size=chunk_size)
        return len(captured)

    one, two, three = queries(60), queries(30), queries(20)
    assert two - one == three - two > 0


# --- every core: processes -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_inside_a_transaction_the_chunks_run_in_this_process():
    # Processes would not see rows this transaction has not committed: the run falls back to one process.
    scale_load(workers=30, seed=13, today=ON)
    report = ranks_recompute(on=ON, jobs=2, chunk_size=10)
    assert (report.chunks, report.jobs) == (3, 1)
    assert report.pending == len(engine_records()) > 0


@pytest.mark.django_db(transaction=True)
def test_two_processes_award_what_one_process_awards_on_postgres(on_postgres):
    scale_load(workers=80, seed=14, today=ON)
    serial = ranks_recompute(on=ON, dry_run=True)
    seen = []
    parallel = ranks_recompute(on=ON, jobs=2, chunk_size=20, progress=lambda done, total: seen.append((done, total)))
    assert (parallel.chunks, parallel.jobs) == (4, 2)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]  # chunks counted from both processes
    assert changes(parallel) == changes(serial) and serial.pending > 0
    assert len(engine_records()) == serial.pending
    assert ranks_recompute(on=ON).changes == []


def _command(database: Path, *args) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DEBUG": "1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "recompute_ranks", "--on", ON.isoformat(), "--no-progress", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _file_records(database: Path):
    with sqlite3.connect(database) as db:
        return sorted(
            db.execute(
                "SELECT worker_id, trade_id, rank_id, status, rule_set_id, evidence FROM certifications_rankrecord "
                "WHERE source = 'engine'"
            )
        )


@pytest.mark.django_db(transaction=True)
def test_two_processes_award_what_one_process_awards_on_a_sqlite_file(tmp_path):
    # The test database lives in memory, where other processes cannot see it: copy it to two files and run the
    # command on each, in one process and in two.
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only (PostgreSQL: the test above)")
    scale_load(workers=80, seed=15, today=ON)
    connection.ensure_connection()
    serial_db, parallel_db = tmp_path / "serial.sqlite3", tmp_path / "parallel.sqlite3"
    for path in (serial_db, parallel_db):
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
    serial = _command(serial_db, "--all", "--jobs", "1", "--chunk-size", "20")
    parallel = _command(parallel_db, "--all", "--jobs", "2", "--chunk-size", "20")
    assert "4 chunks in 1 processes" in serial and "4 chunks in 2 processes" in parallel
    assert sorted(parallel.splitlines()[:-2]) == sorted(serial.splitlines()[:-2])
    assert _file_records(parallel_db) == _file_records(serial_db) != []


# --- only what changed ---------------------------------------------------------------------------------------


@pytest.fixture
def mine(db):
    setup = trade_setup(years_at_previous_rank=Decimal("1"))
    workers = [worker_in(setup) for _ in range(3)]
    ranks_recompute(on=ON)
    return setup, workers


def test_a_new_result_is_evaluated_for_its_worker_alone(mine):
    setup, (first, *_others) = mine
    attendance_record(
        training_class=setup.training_class, worker=first, theory_hours=Decimal(8), practical_hours=Decimal(8)
    )
    result_record(assessment=setup.theory, worker=first, score=Decimal(70))
    result_record(assessment=setup.practical, worker=first, score=Decimal(70))
    report = ranks_recompute(on=ON, only_changed=True)
    assert (report.workers, report.pending) == (1, 1)
    assert ranks_recompute(on=ON, only_changed=True).evaluated == 0


def test_a_rule_set_change_evaluates_everyone_holding_the_trade(mine):
    setup, workers = mine
    other = trade_setup(code="T901")
    outsider = worker_in(other)
    ranks_recompute(on=ON, worker_ids=[outsider.pk])
    setup.rule_set.theory_pass_mark = Decimal(50)
    setup.rule_set.save()
    report = ranks_recompute(on=ON, only_changed=True)
    assert report.workers == len(workers)


def test_a_date_reached_evaluates_the_worker_then(mine):
    setup, (first, *_others) = mine
    setup.rule_set.years_at_previous_rank = None
    setup.rule_set.years_in_trade = Decimal(10)
    setup.rule_set.save()
    first.worker_trades.update(started_on=dt.date(2017, 1, 1))  # in the trade 10 years on 2027-01-01
    attendance_record(
        training_class=setup.training_class, worker=first, theory_hours=Decimal(8), practical_hours=Decimal(8)
    )
    result_record(assessment=setup.theory, worker=first, score=Decimal(70))
    result_record(assessment=setup.practical, worker=first, score=Decimal(70))
    assert ranks_recompute(on=ON, only_changed=True).pending == 0
    assert RankEvaluation.objects.get(worker=first).due_on == dt.date(2027, 1, 1)
    assert ranks_recompute(on=dt.date(2026, 12, 31), only_changed=True).evaluated == 0
    report = ranks_recompute(on=dt.date(2027, 1, 1), only_changed=True)
    assert (report.workers, report.pending) == (1, 1)


def test_a_new_trade_of_a_worker_is_evaluated(mine):
    setup, (first, *_others) = mine
    other = trade_setup(code="T902")
    WorkerTradeFactory(worker=first, trade=other.trade, is_primary=False)
    report = ranks_recompute(on=ON, only_changed=True)
    assert (report.workers, report.evaluated) == (1, 2)


def test_a_full_run_counts_evidence_changed_without_a_mark(mine):
    setup, (first, *_others) = mine
    # A write that bypasses the door (a raw insert): no mark; only --all finds it, and says so.
    AssessmentResult.objects.create(assessment=setup.theory, worker=first, score=Decimal(70), attempt=1)
    assert ranks_recompute(on=ON, only_changed=True).evaluated == 0
    assert ranks_recompute(on=ON).unmarked == 1


SCORES = st.sampled_from([None, Decimal("40"), Decimal("59.5"), Decimal("60"), Decimal("85")])


class WritesThroughTheServices(RuleBasedStateMachine):
    """A small mine, random writes through the services and the passing of time; incremental = --all after each."""

    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.setup = trade_setup(years_at_previous_rank=Decimal("1"))
        self.workers = [worker_in(self.setup) for _ in range(3)]
        self.sittings = [self.setup.theory, self.setup.practical]
        self.classes = [self.setup.training_class]
        self.on = dt.date(2026, 5, 1)
        for worker in self.workers[:2]:  # trained: an exam or a date away from 中级工
            attendance_record(
                training_class=self.setup.training_class,
                worker=worker,
                theory_hours=Decimal(8),
                practical_hours=Decimal(8),
            )
        ranks_recompute(on=self.on)

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @rule(worker=st.integers(0, 2), sitting=st.integers(0, 20), score=SCORES)
    def record_a_result(self, worker, sitting, score):
        result_record(
            assessment=self.sittings[sitting % len(self.sittings)],
            worker=self.workers[worker],
            score=score,
            absent=score is None,
        )

    @precondition(lambda self: AssessmentResult.objects.exists())
    @rule(pick=st.integers(0, 50), score=SCORES)
    def correct_a_result(self, pick, score):
        results = list(AssessmentResult.objects.order_by("pk"))
        result_correct(result=results[pick % len(results)], score=score, absent=score is None, reason="typo")

    @precondition(lambda self: AssessmentResult.objects.exists())
    @rule(pick=st.integers(0, 50))
    def delete_a_result(self, pick):
        results = list(AssessmentResult.objects.order_by("pk"))
        result_delete(result=results[pick % len(results)], user=None, reason="wrong worker")

    @rule(worker=st.integers(0, 2), cls=st.integers(0, 20), hours=st.sampled_from([Decimal(4), Decimal(8)]))
    def attend_a_class(self, worker, cls, hours):
        attendance_record(
            training_class=self.classes[cls % len(self.classes)],
            worker=self.workers[worker],
            theory_hours=hours,
            practical_hours=hours,
        )

    @rule(kind=st.sampled_from([Assessment.Kind.THEORY, Assessment.Kind.PRACTICAL]), days=st.integers(-30, 90))
    def hold_a_sitting(self, kind, days):
        self.sittings.append(
            AssessmentFactory(
                kind=kind,
                course=None,
                trade=self.setup.trade,
                rank=self.setup.ranks[1],
                held_on=self.on + dt.timedelta(days=days),
            )
        )

    @rule(worker=st.integers(0, 2), days=st.integers(-30, 60), score=SCORES)
    def sit_both_exams(self, worker, days, score):
        # A sitting dated later counts from its date: the worker is due then.
        for kind in (Assessment.Kind.THEORY, Assessment.Kind.PRACTICAL):
            sitting = AssessmentFactory(
                kind=kind,
                course=None,
                trade=self.setup.trade,
                rank=self.setup.ranks[1],
                held_on=self.on + dt.timedelta(days=days),
            )
            self.sittings.append(sitting)
            result_record(assessment=sitting, worker=self.workers[worker], score=score, absent=score is None)

    @rule(days=st.integers(-30, 90))
    def open_a_class(self, days):
        start = self.on + dt.timedelta(days=days)
        self.classes.append(
            TrainingClassFactory(course=self.setup.course, start=start, end=start + dt.timedelta(days=4))
        )

    @rule(
        pass_mark=st.sampled_from([Decimal(50), Decimal(60), Decimal(80)]),
        valid_months=st.sampled_from([None, 1, 6]),
        years=st.sampled_from([None, Decimal(1), Decimal(7)]),
        review=st.booleans(),
    )
    def change_the_rule_set(self, pass_mark, valid_months, years, review):
        rule_set = self.setup.rule_set
        rule_set.refresh_from_db()
        rule_set.theory_pass_mark = pass_mark
        rule_set.exam_valid_months = valid_months
        rule_set.years_at_previous_rank = years
        rule_set.require_review = review
        rule_set.save()

    @rule(days=st.integers(-60, 120), pass_mark=st.sampled_from([Decimal(55), Decimal(70)]))
    def add_a_rule_set_version(self, days, pass_mark):
        if self.setup.package.rule_sets.filter(effective_from=self.on + dt.timedelta(days=days)).exists():
            return  # one version per effective date
        RuleSetFactory(
            package=self.setup.package,
            name=f"版本{days}",
            effective_from=self.on + dt.timedelta(days=days),
            practical_pass_mark=pass_mark,
        )

    @rule(worker=st.integers(0, 2), passed=st.booleans(), days=st.integers(-30, 30))
    def hold_a_review(self, worker, passed, days):
        review_record(
            worker=self.workers[worker],
            trade=self.setup.trade,
            rank=self.setup.ranks[1],
            held_on=self.on + dt.timedelta(days=days),
            passed=passed,
        )

    @precondition(lambda self: RankRecord.objects.filter(status="pending").exists())
    @rule(approve=st.booleans())
    def decide_a_pending_award(self, approve):
        record = RankRecord.objects.filter(status="pending").order_by("pk").first()
        if approve:
            rank_approve(record=record, user=None, on=self.on)
        else:
            rank_reject(record=record, user=None, reason="not yet")

    @rule(worker=st.integers(0, 2), status=st.sampled_from(["active", "away", "left"]))
    def change_a_workers_status(self, worker, status):
        self.workers[worker].refresh_from_db()
        self.workers[worker].status = status
        self.workers[worker].save()

    @rule(worker=st.integers(0, 2), years=st.integers(0, 12))
    def change_when_a_worker_took_up_the_trade(self, worker, years):
        self.workers[worker].worker_trades.update(started_on=dt.date(2026 - years, 3, 1))

    @rule(days=st.sampled_from([1, 29, 31, 200, 400]))
    def time_passes(self, days):
        self.on += dt.timedelta(days=days)

    @invariant()
    def the_incremental_run_leaves_nothing_for_a_full_run(self):
        ranks_recompute(on=self.on, only_changed=True)
        full = ranks_recompute(on=self.on, dry_run=True)
        assert changes(full) == []
        assert full.unmarked == 0


@pytest.mark.django_db
def test_incremental_runs_equal_full_runs_after_any_writes():
    run_state_machine_as_test(
        WritesThroughTheServices,
        settings=hypothesis_settings(
            max_examples=int(os.environ.get("ROLLUP_MACHINE_EXAMPLES", "10")),
            stateful_step_count=12,
            deadline=None,
        ),
    )


def _run_command(*args):
    out, err = StringIO(), StringIO()
    call_command("recompute_ranks", "--on", ON.isoformat(), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_evaluates_only_what_changed_unless_told_all(mine):
    setup, workers = mine
    out, _err = _run_command()
    assert "0 worker trades of 0 workers evaluated" in out
    assert "Only the workers whose evidence, rules or dates changed were evaluated" in out
    out, _err = _run_command("--all", "--jobs", "2", "--chunk-size", "2")
    assert f"{len(workers)} worker trades of {len(workers)} workers evaluated" in out
    assert "Every worker was evaluated. 2 chunks in 1 processes." in out  # in the test's transaction: this process


def test_the_command_refuses_no_processes(mine):
    with pytest.raises(CommandError):
        _run_command("--jobs", "0")
