"""`manage.py recompute_ranks`: what it prints, dry runs, idempotence and its query count."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.models import RankRecord
from tests.factories import AttendanceFactory, ResultFactory, UnitFactory
from tests.rollup_setup import trade_setup, worker_in

ON = "2026-06-01"
pytestmark = pytest.mark.django_db


def earning_worker(setup, **kwargs):
    worker = worker_in(setup, **kwargs)
    AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"))
    ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("70"))
    return worker


def idle_worker(setup, **kwargs):
    worker = worker_in(setup, **kwargs)
    AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=4, practical_hours=0)
    ResultFactory(assessment=setup.theory, worker=worker, score=None, absent=True)
    return worker


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("recompute_ranks", "--on", ON, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_each_change_and_draws_a_progress_bar():
    setup = trade_setup()
    worker = earning_worker(setup)
    idle_worker(setup)
    out, err = run()
    assert f"{worker.employee_no} {worker.name}" in out and "中级工 (pending)" in out
    assert "2 worker trades of 2 workers evaluated; 0 awarded, 1 pending" in out
    assert "[########################################] 1/1" in err  # chunks


def test_a_dry_run_writes_nothing():
    setup = trade_setup()
    earning_worker(setup)
    out, _ = run("--dry-run")
    assert "Dry run" in out and "中级工 (pending)" in out
    assert not RankRecord.objects.filter(status="pending").exists()


def test_a_second_run_changes_nothing():
    setup = trade_setup()
    earning_worker(setup)
    run()
    before = list(RankRecord.objects.values_list("id", "status", "needs_review").order_by("id"))
    out, _ = run()
    assert "0 awarded, 0 pending" in out
    assert list(RankRecord.objects.values_list("id", "status", "needs_review").order_by("id")) == before


def test_it_can_be_limited_to_a_unit_and_the_units_below():
    setup = trade_setup()
    department = UnitFactory(code="D1", kind="production_team")
    crew = UnitFactory(code="D1-1", parent=department)
    inside = earning_worker(setup, worker__unit=crew)
    earning_worker(setup)
    run("--unit", "D1")
    assert list(RankRecord.objects.filter(status="pending").values_list("worker", flat=True)) == [inside.pk]


def test_an_unknown_unit_is_an_error():
    with pytest.raises(CommandError):
        run("--unit", "NOPE")


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_query_count_does_not_grow_with_the_number_of_workers(dry_run):
    def queries_with(idle: int) -> int:
        setup = trade_setup(code=f"T{idle}")
        for _ in range(5):
            earning_worker(setup)
        for _ in range(idle):
            idle_worker(setup)
        RankRecord.objects.filter(status="pending").update(status="rejected")
        with CaptureQueriesContext(connection) as captured:
            run(*(["--dry-run"] if dry_run else []))
        return len(captured)

    few = queries_with(0)
    many = queries_with(45)
    assert few == many
