"""The results import's preview: what each row does, pass or fail, the re-sit, the awards the roll-up will propose."""

import datetime as dt
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from certifications.models import AssessmentResult, RankRecord
from certifications.ranks.services import ranks_recompute
from certifications.spreadsheets.results import ResultsImportError, results_import, results_parse, results_preview
from tests import factories as f
from tests.rollup_setup import trade_setup, worker_in
from tests.spreadsheet_builders import xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = ["工号", "姓名", "考核编号", "理论成绩", "实操成绩"]


@pytest.fixture
def setup(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    return trade_setup()


def ready_worker(setup, no: str, name: str):
    """A worker who holds 初级工 and has the package's hours: only the 中级工 exams are missing."""
    worker = worker_in(setup, f.WorkerFactory(employee_no=no, name=name))
    f.AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    return worker


def sheet(setup, rows) -> bytes:
    """One row per score: (employee no, name, kind, score) with kind "theory" or "practical"."""
    lines = [HEADER]
    for no, name, kind, score in rows:
        code = setup.theory.code if kind == "theory" else setup.practical.code
        lines.append([no, name, code, score, None] if kind == "theory" else [no, name, code, None, score])
    return xlsx_bytes(lines)


def snapshot() -> dict:
    return {
        "results": sorted(AssessmentResult.all_objects.values_list("id", "score", "absent", "attempt")),
        "result history": AssessmentResult.history.count(),
        "records": sorted(RankRecord.all_objects.values_list("id", "status", "needs_review")),
        "record history": RankRecord.history.count(),
    }


def result_of(outcome, number):
    row = next(r for r in outcome.rows if r.number == number)
    return row, row.results[0] if row.results else None


def test_each_row_says_new_unchanged_changed_or_error_with_the_old_and_new_score(setup):
    passed = ready_worker(setup, "E001", "张三")
    failed = ready_worker(setup, "E002", "李四")
    ready_worker(setup, "E003", "王五")
    f.ResultFactory(assessment=setup.theory, worker=passed, score=Decimal("70"), attempt=1)
    f.ResultFactory(assessment=setup.practical, worker=passed, score=Decimal("66"), attempt=1)
    f.ResultFactory(assessment=setup.theory, worker=failed, score=Decimal("50"), attempt=1)
    data = sheet(
        setup,
        [
            ("E001", "张三", "theory", 80),  # row 2: another score for a passed attempt → a correction
            ("E001", "张三", "practical", 66),  # row 3: the same again
            ("E002", "李四", "theory", 75),  # row 4: after a failed attempt → the re-sit
            ("E003", "王五", "theory", 59),  # row 5: a first attempt, failed
            ("E404", "某", "theory", 90),  # row 6: nobody
        ],
    )
    outcome = results_parse(data)

    row, result = result_of(outcome, 2)
    assert (row.state, result["change"], result["previous"]["score"], result["score"]) == (
        "changed",
        "changed",
        Decimal("70"),
        Decimal("80"),
    )
    assert (result["attempt"], result["passed"], result["pass_mark"]) == (1, True, Decimal("60"))
    row, result = result_of(outcome, 3)
    assert (row.state, result["attempt"]) == ("unchanged", 1)
    row, result = result_of(outcome, 4)
    assert (row.state, result["attempt"], result["passed"]) == ("new", 2, True)
    row, result = result_of(outcome, 5)
    assert (row.state, result["attempt"], result["passed"]) == ("new", 1, False)
    row, _result = result_of(outcome, 6)
    assert row.state == "error" and row.errors
    assert outcome.counts == {"new": 2, "unchanged": 1, "changed": 1, "error": 1}


def test_the_pass_mark_is_the_one_in_force_for_the_trade_and_rank(setup):
    ready_worker(setup, "E001", "张三")
    setup.rule_set.practical_pass_mark = Decimal("70")
    setup.rule_set.save()
    outcome = results_parse(sheet(setup, [("E001", "张三", "practical", 65)]))
    _row, result = result_of(outcome, 2)
    assert (result["pass_mark"], result["passed"]) == (Decimal("70.0"), False)


def test_the_preview_shows_the_award_the_rollup_will_propose_and_writes_nothing(setup):
    worker = ready_worker(setup, "E001", "张三")
    ready_worker(setup, "E002", "李四")
    before = snapshot()
    outcome = results_parse(
        sheet(
            setup,
            [
                ("E001", "张三", "theory", 82),
                ("E001", "张三", "practical", 76),
                ("E002", "李四", "theory", 82),
                ("E002", "李四", "practical", 40),
            ],
        )
    )
    awards = results_preview(outcome)
    assert [(a.employee_no, a.trade_name, a.rank_name, a.awarded_on) for a in awards] == [
        (worker.employee_no, setup.trade.name, setup.ranks[1].name, setup.practical.held_on)
    ]
    assert snapshot() == before


def test_confirming_creates_exactly_the_awards_the_preview_proposed(setup, django_capture_on_commit_callbacks):
    ready_worker(setup, "E001", "张三")
    data = sheet(setup, [("E001", "张三", "theory", 82), ("E001", "张三", "practical", 76)])
    proposed = results_preview(results_parse(data))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = results_import(data, filename="九月.xlsx")
    record = RankRecord.objects.get(status="pending")
    assert (record.status, record.rank, record.evidence["met_on"]) == (
        "pending",
        setup.ranks[1],
        setup.practical.held_on.isoformat(),
    )
    assert outcome.awards == proposed


@pytest.mark.parametrize("seed", range(8))
def test_for_random_small_files_the_dry_run_proposes_what_confirming_creates(
    setup, seed, django_capture_on_commit_callbacks
):
    rng = random.Random(seed)
    workers = [ready_worker(setup, f"E{i:03d}", f"工人{i}") for i in range(rng.randint(1, 5))]
    rows = []
    for worker in workers:
        # Some have a score on record already (passed, failed or absent), which the file repeats, corrects or re-sits.
        for assessment in (setup.theory, setup.practical):
            if rng.random() < 0.4:
                stored = rng.choice([Decimal("45"), Decimal("72"), None])
                f.ResultFactory(assessment=assessment, worker=worker, score=stored, absent=stored is None, attempt=1)
        for kind in ("theory", "practical"):
            if rng.random() < 0.85:
                rows.append((worker.employee_no, worker.name, kind, rng.choice([40, 59, 60, 72, 95, "缺考"])))
    if not rows:
        rows.append((workers[0].employee_no, workers[0].name, "theory", 80))
    data = sheet(setup, rows)
    outcome = results_parse(data)
    proposed = results_preview(outcome)
    records_before = set(RankRecord.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        results_import(data)
    created = RankRecord.objects.exclude(pk__in=records_before).select_related("worker", "rank", "trade")
    assert sorted((a.employee_no, a.trade_id, a.rank_id, a.awarded_on) for a in proposed) == sorted(
        (
            r.worker.employee_no,
            r.trade_id,
            r.rank_id,
            dt.date.fromisoformat(r.evidence["met_on"]),
        )
        for r in created
    )


def test_a_changed_row_corrects_the_result_through_the_door_and_flags_the_award_resting_on_it(
    setup, django_capture_on_commit_callbacks
):
    worker = ready_worker(setup, "E001", "张三")
    theory = f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"), attempt=1)
    f.ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("66"), attempt=1)
    ranks_recompute(worker_ids=[worker.pk])
    award = RankRecord.objects.get(status="pending")
    user = f.UserFactory(username="hr-2", role="training_department")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = results_import(sheet(setup, [("E001", "张三", "theory", 64)]), user=user, filename="更正.xlsx")

    assert (len(outcome.to_create), len(outcome.to_correct)) == (0, 1)
    theory.refresh_from_db()
    assert (theory.score, theory.attempt) == (Decimal("64"), 1)
    assert AssessmentResult.objects.count() == 2
    latest = theory.history.latest()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == ("~", user, "import 更正.xlsx")
    award.refresh_from_db()
    assert award.needs_review and "70" in award.review_reason and "64" in award.review_reason


def test_a_file_with_a_correction_and_a_bad_row_changes_nothing(setup):
    worker = ready_worker(setup, "E001", "张三")
    f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"), attempt=1)
    before = snapshot()
    with pytest.raises(ResultsImportError):
        results_import(sheet(setup, [("E001", "张三", "theory", 64), ("E404", "某", "theory", 64)]))
    assert snapshot() == before


def test_a_correction_of_a_result_deleted_meanwhile_refuses_the_whole_file(setup, monkeypatch):
    worker = ready_worker(setup, "E001", "张三")
    ready_worker(setup, "E002", "李四")
    theory = f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"), attempt=1)
    data = sheet(setup, [("E002", "李四", "theory", 80), ("E001", "张三", "theory", 64)])
    outcome = results_parse(data)
    AssessmentResult.all_objects.filter(pk=theory.pk).update(deleted_at=theory.recorded_at)
    monkeypatch.setattr("certifications.spreadsheets.results.results_parse", lambda *a, **k: outcome)
    with pytest.raises(ResultsImportError):
        results_import(data)
    assert AssessmentResult.objects.count() == 0


def preview_queries(setup, count: int, django_assert_max_num_queries, budget: int):
    rows = []
    for i in range(count):
        worker = ready_worker(setup, f"N{i:04d}", f"工人{i}")
        rows += [(worker.employee_no, worker.name, "theory", 82), (worker.employee_no, worker.name, "practical", 76)]
    data = sheet(setup, rows)
    with django_assert_max_num_queries(budget):
        outcome = results_parse(data)
        awards = results_preview(outcome)
    assert len(awards) == count


@pytest.mark.parametrize("count", [2, 25])
def test_the_preview_with_its_dry_run_takes_the_same_queries_for_2_and_25_workers(
    setup, count, django_assert_max_num_queries
):
    preview_queries(setup, count, django_assert_max_num_queries, 40)


# --- the page --------------------------------------------------------------------------------------------


def upload(client, data: bytes):
    return client.post(reverse("certifications:results-import"), {"file": SimpleUploadedFile("成绩.xlsx", data)})


def test_the_page_shows_the_states_the_pass_marks_and_the_proposed_awards_with_a_cancel_button(hr_client, setup):
    worker = ready_worker(setup, "E001", "张三")
    f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"), attempt=1)
    response = upload(hr_client, sheet(setup, [("E001", "张三", "theory", 82), ("E001", "张三", "practical", 76)]))
    page = response.content.decode()
    assert "70 → 82" in page and "corrects the recorded score" in page
    assert "passed, pass mark 60" in page and "first attempt" in page
    assert "0 new · 0 unchanged · 2 changed" not in page  # one row changed, one new
    assert "1 new · 0 unchanged · 1 changed · 0 with errors" in page
    assert f"<td>{setup.ranks[1].name}</td><td>{setup.practical.held_on.isoformat()}</td>" in page
    assert 'name="cancel"' in page


def test_cancel_leaves_the_database_unchanged_and_forgets_the_upload(hr_client, setup):
    ready_worker(setup, "E001", "张三")
    before = snapshot()
    response = upload(hr_client, sheet(setup, [("E001", "张三", "theory", 82), ("E001", "张三", "practical", 76)]))
    token = response.context["token"]
    assert snapshot() == before
    response = hr_client.post(reverse("certifications:results-import"), {"token": token, "cancel": "1"}, follow=True)
    assert "Import cancelled: nothing was written." in response.content.decode()
    response = hr_client.post(reverse("certifications:results-import"), {"token": token}, follow=True)
    assert "The upload has expired" in response.content.decode()
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_after_confirming_the_message_counts_and_names_the_awards_linking_to_the_approval_page(hr_client, setup):
    # A real commit, as in production: the roll-up runs when the import commits, and the message names its awards.
    ready_worker(setup, "E001", "张三")
    response = upload(hr_client, sheet(setup, [("E001", "张三", "theory", 82), ("E001", "张三", "practical", 76)]))
    response = hr_client.post(
        reverse("certifications:results-import"), {"token": response.context["token"]}, follow=True
    )
    assert RankRecord.objects.filter(status="pending", rank=setup.ranks[1]).exists()
    page = response.content.decode()
    assert "Imported 2 new result(s) and corrected 0 for 1 worker(s)" in page
    assert f"E001 张三 · {setup.trade.name} → {setup.ranks[1].name} ({setup.practical.held_on.isoformat()})" in page
    # The link shows the awards this import proposed, wherever they fall among older pending ones.
    record = RankRecord.objects.get(status="pending", rank=setup.ranks[1])
    assert f'href="{reverse("certifications:award-approvals")}?award={record.pk}"' in page


def test_the_command_dry_run_names_the_awards_it_would_propose_and_writes_nothing(setup, tmp_path):
    ready_worker(setup, "E001", "张三")
    path = tmp_path / "九月.xlsx"
    path.write_bytes(sheet(setup, [("E001", "张三", "theory", 82), ("E001", "张三", "practical", 76)]))
    before = snapshot()
    out = StringIO()
    call_command("import_results", str(path), "--dry-run", stdout=out)
    assert "Would import 2 result(s) and correct 0 for 1 worker(s)" in out.getvalue()
    assert f"Rank award proposed: E001 张三 · {setup.trade.name} → {setup.ranks[1].name}" in out.getvalue()
    assert f"from {setup.practical.held_on.isoformat()}" in out.getvalue()
    assert snapshot() == before


def test_a_correction_of_a_result_changed_meanwhile_refuses_the_whole_file(setup, monkeypatch):
    worker = ready_worker(setup, "E001", "张三")
    ready_worker(setup, "E002", "李四")
    theory = f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"), attempt=1)
    data = sheet(setup, [("E002", "李四", "theory", 80), ("E001", "张三", "theory", 64)])
    outcome = results_parse(data)
    AssessmentResult.objects.filter(pk=theory.pk).update(score=Decimal("75"))
    monkeypatch.setattr("certifications.spreadsheets.results.results_parse", lambda *a, **k: outcome)
    with pytest.raises(ResultsImportError) as refused:
        results_import(data)
    assert "changed meanwhile" in refused.value.errors[0]
    assert sorted(AssessmentResult.objects.values_list("score", flat=True)) == [Decimal("75")]
