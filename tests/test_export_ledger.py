"""The training ledger workbook, re-read with openpyxl."""

import datetime as dt
import io
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import load_workbook

from certifications.spreadsheets.ledger import LedgerWriter, ledger_export
from tests import factories as f
from training.models import Unit

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def mine():
    root = f.MineFactory()
    dept = f.UnitFactory(code="D1", name="综采一队", kind=Unit.Kind.PRODUCTION_TEAM, parent=root)
    crew = f.UnitFactory(code="C1", name="检修班", kind=Unit.Kind.CREW, parent=dept)
    other = f.UnitFactory(code="D2", name="机电科", kind=Unit.Kind.OFFICE, parent=root)
    ladder = f.make_ladder()
    trade = f.TradeFactory(code="T1", name="综采维修电工")
    course = f.CourseFactory(code="C100", title="综采维修")
    klass = f.TrainingClassFactory(
        code="K1", name="综采维修培训班", course=course, start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 13)
    )
    alice = f.WorkerFactory(employee_no="E001", name='=HYPERLINK("x")', unit=crew)
    bob = f.WorkerFactory(employee_no="E002", name="李四", unit=crew)
    carol = f.WorkerFactory(employee_no="E003", name="王五", unit=other)
    f.WorkerTradeFactory(worker=alice, trade=trade)
    f.AttendanceFactory(
        training_class=klass, worker=alice, theory_hours=Decimal("24"), practical_hours=Decimal("16"), remarks="-5 days"
    )
    f.AttendanceFactory(training_class=klass, worker=bob, theory_hours=Decimal("12.5"), practical_hours=Decimal("0"))
    f.AttendanceFactory(training_class=f.TrainingClassFactory(code="K2", course=course), worker=carol)
    theory = f.AssessmentFactory(code="AT", course=course, kind="theory", held_on=dt.date(2026, 3, 14))
    f.ResultFactory(assessment=theory, worker=alice, score=Decimal("88"))
    f.ResultFactory(assessment=theory, worker=bob, score=Decimal("40"))
    f.RankRecordFactory(worker=alice, trade=trade, rank=ladder[1])
    f.CertificateFactory(
        worker=alice,
        number="T0001",
        issued_on=dt.date(2026, 4, 1),
        valid_until=dt.date(2026, 5, 1),
        next_review_due=dt.date(2026, 4, 20),
    )
    return {"root": root, "dept": dept, "crew": crew, "other": other, "alice": alice, "bob": bob, "carol": carol}


def export(**kwargs):
    buffer = io.BytesIO()
    LedgerWriter(today=TODAY, **kwargs).write(buffer)
    buffer.seek(0)
    return load_workbook(buffer)


def test_the_workbook_has_summary_department_certificate_and_matrix_sheets(mine):
    book = export()
    assert book.sheetnames == ["Summary", "综采一队", "机电科", "特种作业证", "技能矩阵"]


def test_a_department_sheet_has_a_row_per_worker_and_class_with_ledger_columns(mine):
    sheet = export()["综采一队"]
    headers = [c.value for c in sheet[2]]
    assert headers[:6] == ["序号", "单位", "班组", "姓名", "工号", "人员类别"]
    assert "下次复审日期" in headers
    rows = {r[4]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert set(rows) == {"E001", "E002"}
    alice = dict(zip(headers, rows["E001"]))
    assert alice["单位"] == "综采一队" and alice["班组"] == "检修班"
    assert alice["工种"] == "综采维修电工" and alice["技能等级"] == "中级工"
    assert alice["合计学时"] == 40 and alice["理论成绩"] == 88 and alice["考核结果"] == "合格"
    assert alice["证书编号"] == "T0001" and alice["有效期至"] == dt.datetime(2026, 5, 1)
    bob = dict(zip(headers, rows["E002"]))
    assert bob["考核结果"] == "不合格" and bob["理论学时"] == 12.5


def test_text_that_would_run_as_a_formula_is_escaped_and_numbers_stay_numbers(mine):
    sheet = export()["综采一队"]
    headers = [c.value for c in sheet[2]]
    rows = {r[4]: dict(zip(headers, r)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["E001"]["姓名"] == '\'=HYPERLINK("x")'
    assert rows["E001"]["备注"] == "'-5 days"
    assert isinstance(rows["E001"]["理论学时"], (int, float))
    for row in sheet.iter_rows(min_row=1):
        for cell in row:
            assert cell.data_type != "f"


def test_sheets_are_styled_for_printing(mine):
    book = export()
    sheet = book["综采一队"]
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:Y4"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$1:$2"
    assert "A1:Y1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A1"].font.bold and sheet["A2"].font.bold
    assert sheet.column_dimensions["J"].width == 22
    headers = [c.value for c in sheet[2]]
    row = next(r for r in sheet.iter_rows(min_row=3) if r[4].value == "E001")
    cells = dict(zip(headers, row))
    assert cells["开始日期"].number_format == "yyyy-mm-dd"
    assert cells["合计学时"].number_format == "0.0"
    assert cells["有效期至"].font.color.rgb.endswith("C00000")
    assert cells["下次复审日期"].font.color.rgb.endswith("C00000")
    bob = next(r for r in sheet.iter_rows(min_row=3) if r[4].value == "E002")
    assert dict(zip(headers, bob))["考核结果"].font.color.rgb.endswith("C00000")


def test_the_certificate_sheet_and_skills_matrix(mine):
    book = export()
    certs = list(book["特种作业证"].iter_rows(min_row=3, values_only=True))
    assert [(c[2], c[5]) for c in certs] == [("E001", "T0001")]
    matrix = book["技能矩阵"]
    headers = [c.value for c in matrix[2]]
    rows = {r[0]: dict(zip(headers, r)) for r in matrix.iter_rows(min_row=3, values_only=True)}
    assert rows["E001"]["综采维修电工"] == "中级工" and rows["E002"]["综采维修电工"] is None


def test_the_summary_counts_workers_hours_and_pass_rates_per_department(mine):
    sheet = export()["Summary"]
    headers = [c.value for c in sheet[2]]
    rows = {r[0]: dict(zip(headers, r)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["综采一队"]["Active workers"] == 2 and rows["综采一队"]["Class hours (all training)"] == 52.5
    assert rows["综采一队"]["Theory pass rate"] == 0.5
    assert rows["综采一队"]["中级工"] == 1
    assert rows["综采一队"]["Certificates overdue"] == 1
    assert rows["Total"]["Active workers"] == 3


def test_a_unit_export_holds_only_that_subtree(mine):
    book = export(unit=mine["dept"])
    assert "机电科" not in book.sheetnames
    assert {r[0] for r in book["技能矩阵"].iter_rows(min_row=3, values_only=True)} == {"E001", "E002"}


def test_a_year_filter_keeps_only_classes_of_that_year(mine):
    assert list(export(year=2025)["综采一队"].iter_rows(min_row=3, values_only=True)) == []


def test_a_crew_leader_may_export_only_their_subtree(mine):
    leader = f.UserFactory(role="crew_leader")
    f.WorkerFactory(employee_no="L1", unit=mine["crew"], is_team_leader=True, user=leader)
    book = export(user=leader)
    assert {r[0] for r in book["技能矩阵"].iter_rows(min_row=3, values_only=True)} == {"E001", "E002", "L1"}
    with pytest.raises(PermissionDenied):
        LedgerWriter(user=leader, unit=mine["other"])


def test_a_trainee_sees_only_their_own_record(mine):
    trainee = f.UserFactory(role="trainee")
    mine["bob"].user = trainee
    mine["bob"].save()
    book = export(user=trainee)
    assert {r[0] for r in book["技能矩阵"].iter_rows(min_row=3, values_only=True)} == {"E002"}
    assert book.sheetnames == ["Summary", "综采一队", "特种作业证", "技能矩阵"]
    assert {r[4] for r in book["综采一队"].iter_rows(min_row=3, values_only=True)} == {"E002"}


def test_the_command_writes_the_workbook_with_a_progress_bar(mine, tmp_path):
    path = tmp_path / "ledger.xlsx"
    out, err = StringIO(), StringIO()
    call_command("export_ledger", str(path), "--unit", "D1", "--year", "2026", stdout=out, stderr=err)
    assert "2 ledger row(s)" in out.getvalue()
    assert load_workbook(path).sheetnames[1] == "综采一队"


def test_the_export_makes_a_fixed_number_of_queries(mine, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        ledger_export(io.BytesIO())
