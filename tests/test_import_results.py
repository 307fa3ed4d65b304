"""The exam-centre results import: messy sheets in, all rows or none."""

import datetime as dt
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from openpyxl import load_workbook

from certifications.models import AssessmentResult
from certifications.spreadsheets.results import ResultsImportError, results_import, results_parse
from core.spreadsheets import SpreadsheetError
from tests import factories as f
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 9, 5)
HEADER = ["序号", "工号", "姓名", "理论成绩", "实操成绩", "考试日期", "考评员", "备注"]


@pytest.fixture
def sitting():
    course = f.CourseFactory(code="C100", title="综采维修电工（中级）")
    theory = f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=DAY)
    practical = f.AssessmentFactory(code="AP1", course=course, kind="practical", held_on=DAY)
    unit = f.UnitFactory(code="U1")
    workers = [
        f.WorkerFactory(employee_no="E001", name="张三", unit=unit),
        f.WorkerFactory(employee_no="E002", name="李四", unit=unit),
        f.WorkerFactory(employee_no="E003", name="王五", unit=unit),
    ]
    return {"course": course, "theory": theory, "practical": practical, "workers": workers}


def messy_sheet():
    """A sheet like the exam centre sends: title rows, merged cells, full-width digits, 缺考, a signature."""
    return xlsx_bytes(
        [
            ["2026年第三季度综采维修电工技能鉴定成绩表"],
            ["课程：C100", None, None, None, None, None, None, None],
            ["课程", "工号", "姓名", "理论成绩", "实操成绩", "考试日期", "考评员", "备注"],
            ["C100", " Ｅ００１ ", "张 三", "８５", 90, DAY, "王老师", None],
            [None, None, None, None, None, None, None, None],
            ["C100", "E002", "李四", "缺考", "缺", "2026年9月5日", None, "病假"],
            ["C100", "E003", "王五", 59.5, "72分", "2026.9.5", None, None],
            [None, None, None, None, None, None, None, None],
            ["制表人：赵六", None, None, "审核：钱七", None, None, None, None],
        ],
        merges=["A1:H1", "A4:A7"],
    )


def test_it_imports_a_messy_exam_sheet(sitting):
    outcome = results_import(messy_sheet())

    results = {
        (r.worker.employee_no, r.assessment.code): r
        for r in AssessmentResult.objects.select_related("worker", "assessment")
    }
    assert len(results) == 6
    assert results[("E001", "AT1")].score == Decimal("85")
    assert results[("E001", "AP1")].score == Decimal("90")
    assert results[("E002", "AT1")].absent and results[("E002", "AT1")].score is None
    assert results[("E002", "AP1")].absent
    assert results[("E003", "AT1")].score == Decimal("59.5")
    assert results[("E003", "AP1")].score == Decimal("72")
    assert results[("E002", "AT1")].remarks == "病假"
    assert "王老师" in results[("E001", "AT1")].remarks
    assert all(r.attempt == 1 for r in results.values())
    assert [row.number for row in outcome.rows] == [4, 6, 7]


def test_it_imports_the_same_sheet_twice_without_duplicating(sitting):
    results_import(messy_sheet())
    outcome = results_import(messy_sheet())
    assert AssessmentResult.objects.count() == 6
    assert outcome.unchanged == 6 and not outcome.to_create


def test_it_records_a_changed_score_as_the_next_attempt(sitting):
    f.ResultFactory(assessment=sitting["theory"], worker=sitting["workers"][0], score=Decimal("40"), attempt=1)
    results_import(xlsx_bytes([["工号", "姓名", "考核编码", "理论成绩"], ["E001", "张三", "AT1", 88]]))
    latest = AssessmentResult.objects.filter(worker__employee_no="E001").order_by("-attempt").first()
    assert (latest.attempt, latest.score) == (2, Decimal("88"))


def test_it_finds_the_assessment_by_code_and_its_partner(sitting):
    results_import(xlsx_bytes([["工号", "姓名", "考核编码", "理论", "实操"], ["E001", "张三", "AT1", 70, 80]]))
    assert set(AssessmentResult.objects.values_list("assessment__code", "score")) == {
        ("AT1", Decimal("70")),
        ("AP1", Decimal("80")),
    }


def test_it_finds_the_assessment_by_trade_rank_and_date(sitting):
    trade = f.TradeFactory(code="T9", name="井下电钳工", aliases="电钳工")
    rank = f.RankFactory(code="L4", name="中级工")
    f.AssessmentFactory(code="TT", course=None, trade=trade, rank=rank, kind="theory", held_on=DAY)
    results_import(
        csv_bytes(
            [
                ["工号", "姓名", "工种", "等级", "理论成绩", "考试日期"],
                ["E002", "李四", "电钳工", "中级工", "66", "2026/9/5"],
            ]
        )
    )
    assert AssessmentResult.objects.get().assessment.code == "TT"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_it_reads_csv_in_every_encoding_chinese_excel_writes(sitting, encoding):
    data = csv_bytes(
        [HEADER[1:] + ["课程"], ["E001", "张三", "80", "90", "2026-09-05", "", "", "C100"]], encoding=encoding
    )
    results_import(data)
    assert AssessmentResult.objects.count() == 2


def test_it_reads_a_legacy_xls_sheet(sitting):
    from pathlib import Path

    path = Path(__file__).parent / "data" / "results.xls"
    results_import(path.read_bytes())
    assert AssessmentResult.objects.filter(worker__employee_no="E001").count() == 2


def test_it_reads_dates_stored_as_excel_serials(sitting):
    data = xlsx_bytes([["工号", "姓名", "课程", "理论成绩", "日期"], ["E001", "张三", "C100", 80, 46270]])
    results_import(data)
    assert AssessmentResult.objects.get().assessment.held_on == DAY


def test_it_refuses_the_whole_sheet_listing_every_bad_row(sitting):
    data = xlsx_bytes(
        [
            ["成绩表"],
            ["工号", "姓名", "课程", "理论成绩", "实操成绩", "考试日期"],
            ["E001", "张三", "C100", 80, 80, "2026-09-05"],
            ["E999", "无名", "C100", 80, 80, "2026-09-05"],
            ["E002", "王五", "C100", 80, 80, "2026-09-05"],
            ["E003", "王五", "C100", 101, 80, "2026-09-05"],
            ["E003", "王五", "C404", 80, None, "2026-09-05"],
            ["E003", "王五", "C100", "八十", None, "2026-09-31"],
        ]
    )
    with pytest.raises(ResultsImportError) as caught:
        results_import(data)
    errors = caught.value.errors
    assert any(e.startswith("Row 4:") and "E999 does not exist" in e for e in errors)
    assert any(e.startswith("Row 5:") and "does not match" in e and "李四" in e for e in errors)
    assert any(e.startswith("Row 6:") and "101 is outside 0–100" in e for e in errors)
    assert any(e.startswith("Row 7:") and "C404 does not exist" in e for e in errors)
    assert any(e.startswith("Row 8:") and "not a score" in e for e in errors)
    assert any(e.startswith("Row 8:") and "not a real date" in e for e in errors)
    assert not any(e.startswith("Row 3:") for e in errors)
    assert AssessmentResult.objects.count() == 0


def test_it_refuses_an_unknown_assessment_code(sitting):
    with pytest.raises(ResultsImportError) as caught:
        results_import(xlsx_bytes([["工号", "姓名", "考核编码", "理论成绩"], ["E001", "张三", "NOPE", 80]]))
    assert caught.value.errors == ["Row 2: assessment NOPE does not exist."]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4\x00\x01\x02binary", "not a spreadsheet"),
        (b"", "empty"),
        (xlsx_bytes([["工号", "理论成绩"], ["E1", 1]])[:300], "damaged or incomplete"),
        (b"PK\x03\x04 this is no zip at all", "damaged or incomplete"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "damaged or incomplete"),
        (csv_bytes([["foo", "bar"], ["1", "2"]]), "No header row found"),
    ],
)
def test_it_refuses_a_file_it_cannot_read_with_one_clear_message(sitting, data, message):
    with pytest.raises(SpreadsheetError, match=message):
        results_import(data)
    assert AssessmentResult.objects.count() == 0


def test_it_refuses_a_file_over_the_size_limit(sitting, settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "UPLOAD_MAX_BYTES": 1000}
    with pytest.raises(SpreadsheetError, match="size limit"):
        results_import(messy_sheet())
    assert AssessmentResult.objects.count() == 0


def test_the_command_imports_and_reports(sitting, tmp_path):
    path = tmp_path / "results.xlsx"
    path.write_bytes(messy_sheet())
    out = StringIO()
    call_command("import_results", str(path), stdout=out)
    assert "Imported 6 result(s) and corrected 0 for 3 worker(s)" in out.getvalue()


def test_the_command_dry_run_writes_nothing(sitting, tmp_path):
    path = tmp_path / "results.xlsx"
    path.write_bytes(messy_sheet())
    out = StringIO()
    call_command("import_results", str(path), "--dry-run", stdout=out)
    assert "Would import 6" in out.getvalue()
    assert AssessmentResult.objects.count() == 0


def test_the_command_exits_non_zero_listing_bad_rows(sitting, tmp_path):
    path = tmp_path / "results.csv"
    path.write_bytes(
        csv_bytes([["工号", "姓名", "课程", "理论成绩", "日期"], ["E404", "某某", "C100", "80", "2026-09-05"]])
    )
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_results", str(path), stderr=err)
    assert "Row 2: employee number E404 does not exist." in err.getvalue()
    assert AssessmentResult.objects.count() == 0


def test_the_command_refuses_a_corrupt_file_without_a_traceback(sitting, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(CommandError, match="damaged"):
        call_command("import_results", str(path))


def test_the_template_has_the_columns_the_importer_reads(tmp_path, sitting):
    path = tmp_path / "template.xlsx"
    call_command("import_results", "--template", str(path), stdout=StringIO())
    headers = [c.value for c in next(load_workbook(path).active.iter_rows(max_row=1))]
    assert headers[:5] == ["Employee number", "Name", "Assessment", "Theory score", "Practical score"]
    # Every column is recognised: the only complaint about the blank template is that it has no rows yet.
    with pytest.raises(SpreadsheetError, match="no results below them"):
        results_parse(path.read_bytes())


def test_the_rollup_runs_once_per_worker_after_commit(sitting, django_capture_on_commit_callbacks):
    calls = []

    def recompute(*, worker_ids):
        calls.append(sorted(worker_ids))

    with (
        mock.patch("certifications.ranks.services.ranks_recompute", recompute),
        django_capture_on_commit_callbacks(execute=True),
    ):
        results_import(messy_sheet())
    ids = sorted(w.pk for w in sitting["workers"])
    assert calls == [ids]


def import_statements(rows) -> list[str]:
    """Import a sheet of (employee number, name) rows for C100 and return the SQL it sent."""
    data = xlsx_bytes(
        [["工号", "姓名", "课程", "理论成绩", "实操成绩", "日期"]]
        + [[no, name, "C100", 70, 80, "2026-09-05"] for no, name in rows]
    )
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: queries.append(sql) or execute(sql, params, many, context)
    ):
        results_import(data)
    return queries


def test_the_lookup_queries_do_not_grow_with_the_rows(sitting):
    def count(rows):
        return sum(1 for sql in import_statements(rows) if not sql.lstrip().upper().startswith("INSERT"))

    workers = [f.WorkerFactory(employee_no=f"N{i:04d}", name=f"工人{i}") for i in range(60)]
    small = count([(w.employee_no, w.name) for w in workers[:3]])
    large = count([(w.employee_no, w.name) for w in workers[3:]])
    assert small == large


def test_every_imported_result_has_a_created_history_row_naming_the_user_and_the_file(sitting):
    user = f.UserFactory(username="hr-import", role="training_department")
    f.ResultFactory(assessment=sitting["theory"], worker=sitting["workers"][0], score=Decimal("40"), attempt=1)
    before = set(AssessmentResult.history.values_list("history_id", flat=True))

    results_import(messy_sheet(), user=user, filename="2026-09鉴定成绩.xlsx")

    imported = AssessmentResult.objects.filter(recorded_by=user)
    history = AssessmentResult.history.exclude(history_id__in=before)
    assert imported.count() == 6
    assert sorted(history.values_list("id", flat=True)) == sorted(imported.values_list("id", flat=True))
    assert {(h.history_type, h.history_user_id, h.history_change_reason) for h in history} == {
        ("+", user.pk, "import 2026-09鉴定成绩.xlsx")
    }
    e001 = history.get(worker__employee_no="E001", assessment__code="AT1")
    assert (e001.score, e001.attempt, e001.remarks) == (Decimal("85"), 2, imported.get(pk=e001.id).remarks)


def test_the_command_names_the_file_in_the_history(sitting, tmp_path):
    path = tmp_path / "九月成绩.xlsx"
    path.write_bytes(xlsx_bytes([["工号", "姓名", "考核编码", "理论成绩"], ["E001", "张三", "AT1", 88]]))
    call_command("import_results", str(path), stdout=StringIO())
    assert AssessmentResult.history.get().history_change_reason == "import 九月成绩.xlsx"


def test_the_import_writes_in_the_same_number_of_statements_for_3_and_57_rows(sitting):
    def count(rows):
        return len(import_statements(rows))

    workers = [f.WorkerFactory(employee_no=f"N{i:04d}", name=f"工人{i}") for i in range(60)]
    small = count([(w.employee_no, w.name) for w in workers[:3]])
    large = count([(w.employee_no, w.name) for w in workers[3:]])
    assert small == large
    assert AssessmentResult.history.count() == 120


@pytest.mark.parametrize("build", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_a_sheet_with_headers_and_no_rows_is_refused_not_reported_as_imported(sitting, build):
    before = AssessmentResult.objects.count()
    empty = build([["课程", "工号", "姓名", "理论成绩", "实操成绩", "考试日期"], [None, None, None, None, None, None]])
    with pytest.raises(SpreadsheetError, match="no results below them"):
        results_parse(empty)
    assert AssessmentResult.objects.count() == before
