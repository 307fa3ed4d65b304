"""
Concurrent writers on a real PostgreSQL server: two assessors save results for
the same worker at the same moment while `ranks_recompute` runs. No update is
lost, no worker ever holds two live records for one trade × rank, and the final
ranks are those of a sequential run. Skipped on SQLite (it serialises writers).
"""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from certifications.models import AssessmentResult, RankRecord
from certifications.ranks.services import LIVE, ranks_recompute, result_record
from tests.factories import AttendanceFactory, UserFactory
from tests.rollup_setup import trade_setup, worker_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6


def run_together(*jobs, timeout=60):
    """Run each job in its own thread (its own database connection), released at the same moment; return errors."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def runner(job):
        try:
            barrier.wait(timeout=timeout)
            job()
        except BaseException as error:  # noqa: BLE001 - every failure is reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a writer hung (deadlock?)"
    return errors


def trained_worker(setup):
    worker = worker_in(setup)
    AttendanceFactory(
        worker=worker, training_class=setup.training_class, theory_hours=Decimal("8"), practical_hours=Decimal("8")
    )
    return worker


def live_ranks(workers) -> dict[int, list[tuple[int, int, str]]]:
    index = {worker.pk: i for i, worker in enumerate(workers)}
    found: dict[int, list] = {i: [] for i in index.values()}
    for worker_id, trade_id, rank_id, status in RankRecord.objects.filter(
        worker_id__in=index, status__in=LIVE
    ).values_list("worker_id", "trade_id", "rank_id", "status"):
        found[index[worker_id]].append((trade_id, rank_id, status))
    return {i: sorted(rows) for i, rows in found.items()}


def assert_one_live_record_per_rank():
    duplicates = (
        RankRecord.all_objects.filter(status__in=LIVE, deleted_at__isnull=True)
        .values("worker_id", "trade_id", "rank_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(duplicates) == []


@pytest.mark.parametrize("mode", ["auto", "confirm"])
def test_two_assessors_and_a_recompute_at_once_give_the_sequential_result(on_postgres, settings, mode):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": mode}
    setup = trade_setup()
    assessor_a, assessor_b = UserFactory(), UserFactory()  # groups do not survive a transactional flush
    raced = [trained_worker(setup) for _ in range(ROUNDS)]
    sequential = [trained_worker(setup) for _ in range(ROUNDS)]

    for worker in raced:
        errors = run_together(
            lambda w=worker: result_record(
                assessment=setup.theory, worker=w, score=Decimal("75"), recorded_by=assessor_a
            ),
            lambda w=worker: result_record(
                assessment=setup.practical, worker=w, score=Decimal("81"), recorded_by=assessor_b
            ),
            lambda: ranks_recompute(),
        )
        assert errors == []

    for worker in sequential:
        with transaction.atomic():
            result_record(assessment=setup.theory, worker=worker, score=Decimal("75"), recorded_by=assessor_a)
        with transaction.atomic():
            result_record(assessment=setup.practical, worker=worker, score=Decimal("81"), recorded_by=assessor_b)
    ranks_recompute()

    # No lost update: both assessors' scores are there, once each.
    for worker in raced:
        scores = sorted(AssessmentResult.objects.filter(worker=worker).values_list("assessment__kind", "score"))
        assert scores == [("practical", Decimal("81.0")), ("theory", Decimal("75.0"))]
    assert_one_live_record_per_rank()
    assert live_ranks(raced) == live_ranks(sequential)
    # Every raced worker earned 中级工, in the mode's status.
    expected_status = RankRecord.Status.AWARDED if mode == "auto" else RankRecord.Status.PENDING
    assert all((setup.trade.pk, setup.ranks[1].pk, expected_status) in rows for rows in live_ranks(raced).values())


def test_two_recomputes_of_the_same_worker_award_the_rank_once(on_postgres, settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    workers = [trained_worker(setup) for _ in range(ROUNDS)]
    for worker in workers:
        AssessmentResult.objects.create(assessment=setup.theory, worker=worker, score=Decimal("70"))
        AssessmentResult.objects.create(assessment=setup.practical, worker=worker, score=Decimal("70"))

    for worker in workers:
        errors = run_together(
            lambda w=worker: ranks_recompute(worker_ids=[w.pk]),
            lambda w=worker: ranks_recompute(worker_ids=[w.pk]),
            lambda: ranks_recompute(),
        )
        assert [e for e in errors if isinstance(e, IntegrityError)] == []
        assert errors == []
    assert_one_live_record_per_rank()
    assert RankRecord.objects.filter(rank=setup.ranks[1], status=RankRecord.Status.AWARDED).count() == ROUNDS


def test_the_database_refuses_a_second_live_record_for_the_same_rank(on_postgres):
    setup = trade_setup()
    worker = worker_in(setup)
    with pytest.raises(IntegrityError), transaction.atomic():
        RankRecord.objects.create(
            worker=worker, trade=setup.trade, rank=setup.ranks[0], status=RankRecord.Status.PENDING
        )


# --- two imports of the same results sheet at once --------------------------------------------------------


@pytest.fixture
def results_sheet(settings, tmp_path, monkeypatch):
    """A two-worker sheet, and every parse made to wait for the other import's, so both writes meet."""
    import datetime as dt

    from certifications.spreadsheets import results as results_module
    from tests import factories as f
    from tests.spreadsheet_builders import xlsx_bytes

    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    day = dt.date(2026, 9, 5)
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=day)
    unit = f.UnitFactory(code="U1")
    for no in ("E001", "E002"):
        f.WorkerFactory(employee_no=no, unit=unit)
    sheet = xlsx_bytes([["工号", "课程", "理论成绩", "考试日期"], ["E001", "C100", 85, day], ["E002", "C100", 70, day]])

    original = results_module.results_parse
    barrier = {"now": None}

    def parse_then_wait(source, *, user=None):
        outcome = original(source, user=user)
        if barrier["now"] is not None:
            barrier["now"].wait(timeout=30)
        return outcome

    monkeypatch.setattr(results_module, "results_parse", parse_then_wait)

    def race(*jobs):
        barrier["now"] = threading.Barrier(len(jobs))
        return run_together(*jobs)

    return sheet, race


def results_rows():
    return sorted(AssessmentResult.objects.values_list("worker__employee_no", "score", "attempt", "recorded_by_id"))


def test_two_imports_of_the_same_sheet_at_once_write_it_once_and_tell_the_loser(on_postgres, results_sheet):
    from certifications.spreadsheets.results import ResultsAlreadyImported, results_import

    sheet, race = results_sheet
    first, second = UserFactory(username="hr-a"), UserFactory(username="hr-b")
    errors = race(
        lambda: results_import(sheet, user=first, filename="a.xlsx"),
        lambda: results_import(sheet, user=second, filename="b.xlsx"),
    )
    assert len(errors) == 1 and isinstance(errors[0], ResultsAlreadyImported), errors
    rows = results_rows()
    assert [(no, score, attempt) for no, score, attempt, _by in rows] == [
        ("E001", Decimal("85.0"), 1),
        ("E002", Decimal("70.0"), 1),
    ]
    winner = {by for *_rest, by in rows}
    assert len(winner) == 1
    assert f"imported a moment ago by {'hr-a' if winner == {first.pk} else 'hr-b'}" in str(errors[0])


def test_two_hr_sessions_confirming_the_same_preview_at_once(on_postgres, results_sheet):
    from django.contrib.messages import get_messages
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    sheet, race = results_sheet

    clients, tokens = [], []
    for name in ("hr-a", "hr-b"):
        client = Client()
        # Groups do not survive a transactional flush: a superuser stands in for HR.
        client.force_login(UserFactory(username=name, is_superuser=True, is_staff=True))
        preview = client.post(reverse("certifications:results-import"), {"file": SimpleUploadedFile("r.xlsx", sheet)})
        clients.append(client)
        tokens.append(preview.context["token"])
    responses = []

    def confirm(client, token):
        responses.append(client.post(reverse("certifications:results-import"), {"token": token}))

    errors = race(lambda: confirm(clients[0], tokens[0]), lambda: confirm(clients[1], tokens[1]))
    assert errors == []
    assert [r.status_code for r in responses] == [302, 302]
    shown = sorted(str(m) for r in responses for m in get_messages(r.wsgi_request))
    assert len(shown) == 2
    assert any(m.startswith("Imported 2 new result(s)") for m in shown)
    assert any("imported a moment ago by" in m and "nothing more was written" in m for m in shown)
    assert len(results_rows()) == 2


def test_the_import_command_run_twice_at_once(on_postgres, results_sheet, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    sheet, race = results_sheet
    path = tmp_path / "results.xlsx"
    path.write_bytes(sheet)
    errors = race(
        lambda: call_command("import_results", str(path), stdout=StringIO(), stderr=StringIO()),
        lambda: call_command("import_results", str(path), stdout=StringIO(), stderr=StringIO()),
    )
    assert len(errors) == 1 and isinstance(errors[0], CommandError), errors
    assert "an import from the command line" in str(errors[0])
    assert len(results_rows()) == 2


@pytest.mark.urls("tests.spreadsheets_admin_urls")
def test_two_admin_imports_confirming_the_same_roster_at_once(on_postgres, monkeypatch):
    from django.contrib.messages import get_messages
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from core.importexport import PreloadedInstanceLoader
    from tests import factories as f
    from tests.spreadsheet_builders import xlsx_bytes
    from training.models import Worker

    f.UnitFactory(code="C1")
    sheet = xlsx_bytes(
        [
            ["Employee number", "Name", "Unit", "Personnel category", "Hire date", "Status"],
            ["E105", "周五", "C1", "Other staff", "2020-01-01", "Active"],
        ]
    )
    clients, confirms = [], []
    for name in ("hr-a", "hr-b"):
        client = Client()
        client.force_login(UserFactory(username=name, is_superuser=True, is_staff=True))
        response = client.post(
            "/admin/training/worker/import/",
            {"format": 0, "resource": 0, "import_file": SimpleUploadedFile("roster.xlsx", sheet)},
        )
        clients.append(client)
        confirms.append(response.context["confirm_form"].initial)

    barrier = threading.Barrier(2)
    loaded = PreloadedInstanceLoader.__init__

    def loaded_then_wait(self, *args, **kwargs):
        loaded(self, *args, **kwargs)
        barrier.wait(timeout=30)  # both confirms have read the existing rows before either writes

    monkeypatch.setattr(PreloadedInstanceLoader, "__init__", loaded_then_wait)
    responses = []
    errors = run_together(
        *(
            lambda c=c, data=data: responses.append(c.post("/admin/training/worker/process_import/", data))
            for c, data in zip(clients, confirms, strict=True)
        )
    )
    assert errors == []
    assert [r.status_code for r in responses] == [302, 302]
    shown = [str(m) for r in responses for m in get_messages(r.wsgi_request)]
    assert sum("another import wrote the same rows a moment ago" in m for m in shown) == 1
    assert list(Worker.objects.values_list("employee_no", flat=True)) == ["E105"]
