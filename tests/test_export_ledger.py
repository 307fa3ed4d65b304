"""The training ledger workbook, re-read with openpyxl."""

import datetime as dt
import io
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from certifications.spreadsheets.ledger import LedgerWriter, ledger_export, ledger_filename
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
    assert "A1:Y1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A1"].font.bold and sheet["A2"].font.bold
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
    # Three streams per department (workers, attendance, results) and a fixed number for the rest.
    with django_assert_max_num_queries(28):
        ledger_export(io.BytesIO())


def test_the_export_makes_no_more_queries_for_more_workers_and_exams(mine, django_assert_max_num_queries):
    theory = f.AssessmentFactory(code="BIG", course=None, trade=f.TradeFactory(), rank=f.make_ladder()[2])
    for i in range(30):
        worker = f.WorkerFactory(employee_no=f"M{i:03d}", unit=mine["crew"])
        f.ResultFactory(assessment=theory, worker=worker, score=Decimal(50 + i))
    with django_assert_max_num_queries(28):
        ledger_export(io.BytesIO())


# --- every exam in the score columns ---------------------------------------------------------------------


def rows_of(sheet) -> list[dict]:
    headers = [c.value for c in sheet[2]]
    return [dict(zip(headers, r)) for r in sheet.iter_rows(min_row=3, values_only=True)]


@pytest.fixture
def exams(mine):
    """Bob sits a skill-level appraisal (theory failed, passed at the re-sit) and misses a special-operation exam."""
    ladder = f.make_ladder()
    trade = f.TradeFactory(code="T2", name="采煤机司机")
    appraisal = {"course": None, "trade": trade, "rank": ladder[2]}
    theory = f.AssessmentFactory(code="JD-T", kind="theory", held_on=dt.date(2026, 4, 10), **appraisal)
    practical = f.AssessmentFactory(code="JD-P", kind="practical", held_on=dt.date(2026, 4, 12), **appraisal)
    resit = f.AssessmentFactory(code="JD-TB", kind="theory", held_on=dt.date(2026, 5, 10), **appraisal)
    f.ResultFactory(assessment=theory, worker=mine["bob"], score=Decimal("52"))
    f.ResultFactory(assessment=practical, worker=mine["bob"], score=Decimal("81"))
    f.ResultFactory(assessment=resit, worker=mine["bob"], score=Decimal("71"), attempt=2)
    operation = f.SpecialOperationFactory(code="MK-DQ", name="煤矿井下电气作业")
    special = f.AssessmentFactory(
        code="TZ-T", kind="theory", course=None, special_operation=operation, held_on=dt.date(2026, 6, 3), pass_mark=80
    )
    f.ResultFactory(assessment=special, worker=mine["bob"], score=None, absent=True)
    # Last year's appraisal is not in this year's ledger.
    old = f.AssessmentFactory(code="OLD", kind="theory", held_on=dt.date(2025, 4, 10), **appraisal)
    f.ResultFactory(assessment=old, worker=mine["carol"], score=Decimal("90"))
    return mine


def test_a_skill_level_appraisal_and_its_resit_fill_the_score_columns_of_their_own_row(exams):
    rows = [r for r in rows_of(export(year=2026)["综采一队"]) if r["工号"] == "E002"]
    appraisal = next(r for r in rows if r["培训类别"] == "Skill-level appraisal")
    assert appraisal["培训项目"] == "采煤机司机 高级工 skill-level appraisal"
    assert appraisal["开始日期"] == dt.datetime(2026, 4, 10) and appraisal["结束日期"] == dt.datetime(2026, 5, 10)
    assert (appraisal["理论成绩"], appraisal["实操成绩"]) == (71, 81)
    assert appraisal["考核结果"] == "合格" and appraisal["补考"] == "是"
    assert appraisal["合计学时"] is None


def test_a_special_operation_exam_missed_is_absent_in_red(exams):
    sheet = export(year=2026)["综采一队"]
    headers = [c.value for c in sheet[2]]
    row = next(
        dict(zip(headers, r)) for r in sheet.iter_rows(min_row=3) if r[4].value == "E002" and r[16].value == "缺考"
    )
    assert row["培训项目"].value == "煤矿井下电气作业 exam" and row["培训类别"].value == "Special-operation exam"
    assert row["考核结果"].value == "缺考" and row["考核结果"].font.color.rgb.endswith("C00000")
    assert row["实操成绩"].value is None and row["补考"].value is None


def test_rows_are_in_date_order_per_worker_and_a_course_exam_stays_on_its_class(exams):
    rows = rows_of(export(year=2026)["综采一队"])
    bob = [r for r in rows if r["工号"] == "E002"]
    assert [r["开始日期"] for r in bob] == sorted(r["开始日期"] for r in bob)
    assert bob[0]["培训项目"] == "综采维修培训班" and bob[0]["理论成绩"] == 40 and bob[0]["补考"] is None
    assert [r["序号"] for r in rows] == [1, 2, 3, 4]


def test_an_exam_of_another_year_is_in_that_years_ledger_only(exams):
    assert all(r["理论成绩"] is None for r in rows_of(export(year=2026)["机电科"]))
    carol = rows_of(export(year=2025)["机电科"])
    assert [(r["培训类别"], r["理论成绩"]) for r in carol] == [("Skill-level appraisal", 90)]


def test_a_course_resit_shows_the_latest_attempt_on_the_class_row(mine):
    theory = f.AssessmentFactory(code="AT2", course=mine["alice"].attendances.get().training_class.course)
    theory.held_on = dt.date(2026, 3, 20)
    theory.save()
    f.ResultFactory(assessment=theory, worker=mine["bob"], score=Decimal("66"), attempt=2)
    bob = next(r for r in rows_of(export()["综采一队"]) if r["工号"] == "E002")
    assert (bob["理论成绩"], bob["考核结果"], bob["补考"]) == (66, "合格", "是")


# --- printing and the file name ---------------------------------------------------------------------------


def test_the_department_sheet_prints_on_a3_landscape_fit_to_width_at_a_readable_size(exams):
    from core.workbooks import MIN_PRINT_SCALE, print_scale

    sheet = export(year=2026)["综采一队"]
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 8  # A3: 25 columns would print too small on A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1 and setup.fitToHeight == 0
    widths = [sheet.column_dimensions[get_column_letter(i)].width for i in range(1, 26)]
    assert print_scale(widths, 297) < MIN_PRINT_SCALE <= print_scale(widths, 420)
    assert sheet.print_title_rows == "$1:$2"
    summary = export()["Summary"]
    assert summary.page_setup.paperSize == 9 and summary.page_setup.fitToWidth == 1  # 14 columns fit A4


def test_every_sheet_names_the_mine_unit_and_year_in_its_title_and_page_header_and_numbers_its_pages(exams):
    book = export(year=2026, unit=exams["dept"])
    for sheet in book.worksheets:
        title = sheet["A1"].value
        assert title.startswith("示范煤矿 综采一队 ") and title.endswith("（2026）"), title
        assert sheet.oddHeader.center.text == title
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
        assert sheet.print_title_rows == "$1:$2"
    assert export()["综采一队"]["A1"].value == "示范煤矿 综采一队 Training ledger（all years）"


def test_an_ampersand_in_a_unit_name_is_printed_not_read_as_a_header_code(exams):
    Unit.objects.filter(pk=exams["dept"].pk).update(name="综采&一队")
    sheet = export(year=2026)["综采&一队"]
    assert "综采&&一队" in sheet.oddHeader.center.text


def test_columns_are_as_wide_as_their_chinese_text(exams):
    from core.workbooks import text_width

    sheet = export(year=2026)["综采一队"]
    for column in sheet.iter_cols(min_row=2):
        width = sheet.column_dimensions[column[0].column_letter].width
        for cell in column:
            if cell.value is None or cell.alignment.wrap_text or isinstance(cell.value, dt.datetime):
                continue
            assert text_width(cell.value) + 1 <= width, (column[0].value, cell.value, width)


def test_a_long_training_name_wraps_inside_its_column(mine):
    klass = mine["alice"].attendances.get().training_class
    klass.name = "综采工作面液压支架检修与维护技能提升专项培训班（第二期）"
    klass.save()
    sheet = export()["综采一队"]
    cell = next(r[9] for r in sheet.iter_rows(min_row=3) if r[4].value == "E001")
    assert cell.alignment.wrap_text and sheet.column_dimensions["J"].width <= 30


def test_the_file_name_carries_the_unit_and_the_year(mine):
    assert LedgerWriter(unit=mine["dept"], year=2026).filename() == "培训台账_综采一队_2026.xlsx"
    assert LedgerWriter().filename() == "培训台账_示范煤矿.xlsx"
    assert ledger_filename("综采/一队", 2025) == "培训台账_综采_一队_2025.xlsx"


def test_the_mines_own_staff_have_a_sheet_of_their_own(mine):
    manager = f.WorkerFactory(employee_no="M001", name="矿长", unit=mine["root"])
    f.AttendanceFactory(training_class=mine["alice"].attendances.get().training_class, worker=manager)
    book = export()
    assert book.sheetnames == ["Summary", "示范煤矿", "综采一队", "机电科", "特种作业证", "技能矩阵"]
    assert [r["工号"] for r in rows_of(book["示范煤矿"])] == ["M001"]
    assert [r["工号"] for r in rows_of(book["综采一队"])] == ["E001", "E002"]
    summary = {r["Unit"]: r for r in rows_of(book["Summary"])}
    assert summary["示范煤矿"]["Active workers"] == 1 and summary["Total"]["Active workers"] == 4
