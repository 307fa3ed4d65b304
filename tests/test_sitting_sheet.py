"""
The results sheet of an appraisal sitting: the roster pre-filled (工号 姓名 单位 工种 等级, then the
scores to fill in), downloaded from the sitting's admin page or the unit page, filled in and uploaded
back through the results import, which records both scores against the sitting's assessments.
"""

import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from certifications.models import AssessmentResult, Sitting
from certifications.sittings.services import candidates_add, sitting_save
from certifications.spreadsheets.results import ResultsImportError, results_import, results_parse
from certifications.spreadsheets.sitting_sheet import sitting_sheet_xlsx
from core.writes import strict_doors
from tests import factories as f
from tests.rollup_setup import trade_setup, worker_in
from tests.spreadsheet_builders import xlsx_bytes
from training import roles

pytestmark = pytest.mark.django_db

THEORY_DAY = dt.date(2026, 9, 5)
PRACTICAL_DAY = dt.date(2026, 9, 12)
HEADERS = ["工号", "姓名", "单位", "工种", "等级", "理论成绩", "实操成绩", "缺考", "补考", "考核批次"]


@pytest.fixture(autouse=True)
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def setup():
    return trade_setup()


def sitting_with_roster(setup, size: int, **kwargs) -> Sitting:
    sitting = sitting_save(
        Sitting(
            name="综采维修电工中级工鉴定",
            trade=setup.trade,
            rank=setup.ranks[1],
            theory_on=THEORY_DAY,
            practical_on=PRACTICAL_DAY,
            **kwargs,
        )
    )
    unit = f.UnitFactory(code="ZC1", name="综采一队")
    workers = [worker_in(setup, f.WorkerFactory(employee_no=f"E{n:04d}", unit=unit)) for n in range(size)]
    candidates_add(sitting=sitting, worker_ids=[w.pk for w in workers])
    return sitting


def download(client, sitting, **params):
    response = client.get(reverse("certifications:sitting-sheet", args=[sitting.pk]), params)
    assert response.status_code == 200, response.status_code
    return response


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).worksheets[0]


# --- the download -----------------------------------------------------------------------------------------


def test_the_sheet_is_the_roster_with_a_title_naming_the_sitting_and_its_days(setup, hr_client):
    sitting = sitting_with_roster(setup, 3)
    response = download(hr_client, sitting)

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert "2026-09-05.xlsx" in response["Content-Disposition"]
    sheet = sheet_of(response.content)
    title = sheet["A1"].value
    assert sitting.code in title and "2026-09-05" in title and "2026-09-12" in title and sitting.name in title
    assert [c.value for c in sheet[2]] == HEADERS
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [r[0] for r in rows] == ["E0000", "E0001", "E0002"]
    assert rows[0][2:5] == ["综采一队", setup.trade.name, setup.ranks[1].name]
    assert {r[9] for r in rows} == {sitting.code}


def test_the_sheet_checks_scores_freezes_its_header_and_prints_on_landscape_pages(setup, hr_client):
    sitting = sitting_with_roster(setup, 3, practical_full_marks=Decimal("50"))
    sheet = sheet_of(download(hr_client, sitting).content)

    rules = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    theory, practical = rules["F3:F25"], rules["G3:G25"]
    assert theory.type == "custom" and "F3<=100" in theory.formula1 and '"缺考"' in theory.formula1
    assert "G3<=50" in practical.formula1
    assert rules["H3:H25"].type == "list" and rules["H3:H25"].formula1 == '"是"'
    assert sheet.freeze_panes == "C3"
    assert "A1:J1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows.replace("$", "") == "1:2"
    assert "&P" in sheet.oddFooter.center.text


def test_a_sitting_without_a_practical_exam_checks_only_the_theory_column(setup):
    sitting = sitting_with_roster(setup, 1)
    sitting.practical_on = None
    sitting_save(sitting)
    sheet = sheet_of(sitting_sheet_xlsx(Sitting.objects.get(pk=sitting.pk)))
    assert {str(v.sqref)[0] for v in sheet.data_validations.dataValidation} == {"F", "H", "I"}


def test_the_download_costs_the_same_queries_for_a_small_and_a_large_roster(
    setup, hr_client, django_assert_max_num_queries
):
    small = sitting_with_roster(setup, 2)
    large = sitting_save(Sitting(name="大批次", trade=setup.trade, rank=setup.ranks[1], theory_on=THEORY_DAY))
    workers = [worker_in(setup) for _ in range(40)]
    candidates_add(sitting=large, worker_ids=[w.pk for w in workers])
    for worker in workers[:10]:
        f.ResultFactory(assessment=large.theory, worker=worker, score=Decimal("70"))
    for sitting, size in ((small, 2), (large, 40)):
        with django_assert_max_num_queries(9):
            response = download(hr_client, sitting)
        assert sheet_of(response.content).max_row == 2 + size


def test_a_re_sit_and_the_scores_already_recorded_are_shown(setup, hr_client):
    sitting = sitting_with_roster(setup, 2)
    first, second = (c.worker for c in sitting.candidates.order_by("worker__employee_no"))
    f.ResultFactory(assessment=setup.theory, worker=first, score=Decimal("40"))  # an earlier sitting, failed
    f.ResultFactory(assessment=sitting.theory, worker=second, score=Decimal("88"))
    rows = [[c.value for c in row] for row in sheet_of(download(hr_client, sitting).content).iter_rows(min_row=3)]
    assert rows[0][5] is None and rows[0][8] == "是"
    assert rows[1][5] == 88 and rows[1][8] is None


def test_the_sitting_page_links_to_its_sheet_and_to_the_import_that_takes_it_back(setup, hr_client):
    sitting = sitting_with_roster(setup, 1)
    page = hr_client.get(reverse("admin:certifications_sitting_change", args=[sitting.pk])).content.decode()
    assert f'href="{reverse("certifications:sitting-sheet", args=[sitting.pk])}">下载（.xlsx）' in page
    assert f'href="{reverse("certifications:results-import")}">在“导入考试成绩”页面上传' in page
    # A sitting not saved yet has neither.
    page = hr_client.get(reverse("admin:certifications_sitting_add")).content.decode()
    assert reverse("certifications:results-import") not in page


def test_a_leader_downloads_the_candidates_of_their_unit_only_from_the_unit_page(setup, client):
    sitting = sitting_with_roster(setup, 2)
    other = f.UnitFactory(code="JJ1", name="掘进一队")
    outsider = worker_in(setup, f.WorkerFactory(employee_no="X0001", unit=other))
    candidates_add(sitting=sitting, worker_ids=[outsider.pk])
    leader = f.WorkerFactory(unit=other, is_team_leader=True, user=f.UserFactory(role=roles.LEADER))
    client.force_login(leader.user)

    page = client.get(reverse("certifications:unit-detail", args=["JJ1"])).content.decode()
    assert reverse("certifications:sitting-sheet", args=[sitting.pk]) + "?unit=JJ1" in page
    rows = list(sheet_of(download(client, sitting, unit="JJ1").content).iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == ["X0001"]
    assert client.get(reverse("certifications:sitting-sheet", args=[sitting.pk])).status_code == 403
    other_unit = reverse("certifications:sitting-sheet", args=[sitting.pk]) + "?unit=ZC1"
    assert client.get(other_unit).status_code == 404


# --- the round trip -----------------------------------------------------------------------------------------


def filled(data: bytes, scores: dict) -> bytes:
    """Fill the downloaded sheet as a clerk would (openpyxl): employee number → (theory, practical, 缺考)."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=3):
        if row[0].value in scores:
            row[5].value, row[6].value, row[7].value = scores[row[0].value]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, name="成绩.xlsx"):
    return client.post(reverse("certifications:results-import"), {"file": SimpleUploadedFile(name, data)})


def test_the_filled_sheet_uploaded_back_records_both_scores_through_the_door(setup, hr_client):
    sitting = sitting_with_roster(setup, 3)
    data = filled(
        download(hr_client, sitting).content,
        {"E0000": (82, 76, None), "E0001": ("缺考", 60, None), "E0002": (None, None, "是")},
    )

    response = upload(hr_client, data)
    assert response.status_code == 200
    assert not response.context["has_errors"], response.context["outcome"].errors
    assert f"考核批次 {sitting.code}" in response.content.decode()
    with strict_doors():
        response = hr_client.post(reverse("certifications:results-import"), {"token": response.context["token"]})
    assert response.status_code == 302

    recorded = {
        (r.worker.employee_no, r.assessment.kind): ("absent" if r.absent else r.score)
        for r in AssessmentResult.objects.select_related("worker", "assessment")
    }
    assert recorded == {
        ("E0000", "theory"): 82,
        ("E0000", "practical"): 76,
        ("E0001", "theory"): "absent",
        ("E0001", "practical"): 60,
        ("E0002", "theory"): "absent",
        ("E0002", "practical"): "absent",
    }
    assert {r.assessment_id for r in AssessmentResult.objects.all()} == {sitting.theory_id, sitting.practical_id}
    history = AssessmentResult.history.first()
    assert history.history_user_id is not None and "成绩.xlsx" in history.history_change_reason


def test_the_upload_is_all_or_nothing_naming_each_bad_row(setup, hr_client):
    sitting = sitting_with_roster(setup, 2)
    book = load_workbook(io.BytesIO(filled(download(hr_client, sitting).content, {"E0000": (120, 70, None)})))
    sheet = book.worksheets[0]
    sheet.cell(row=4, column=6, value=70)
    sheet.cell(row=5, column=1, value="E9999")  # a spare row: someone not in the file
    sheet.cell(row=5, column=6, value=70)
    out = io.BytesIO()
    book.save(out)

    with pytest.raises(ResultsImportError) as refused:
        results_import(out.getvalue())
    errors = refused.value.errors
    assert any(e.startswith("第 3 行") or "Row 3" in e for e in errors) and any("120" in e for e in errors)
    assert any(("第 5 行" in e or "Row 5" in e) and "E9999" in e for e in errors)
    assert not AssessmentResult.objects.exists()
    response = upload(hr_client, out.getvalue())
    assert response.context["has_errors"] and not response.context.get("token")


def test_a_re_saved_sheet_without_the_sitting_column_is_tied_back_by_its_title_row(setup):
    sitting = sitting_with_roster(setup, 2)
    # As LibreOffice or WPS might leave it: the title unmerged, the 考核批次 column deleted, a blank row inserted.
    rows = [
        [f"考核批次 {sitting.code} · {sitting.name}"],
        [],
        HEADERS[:9],
        ["E0000", None, "综采一队", None, None, 90, 80, None, None],
        ["E0001", None, "综采一队", None, None, None, None, None, None],  # not in yet: left out
    ]
    outcome = results_import(xlsx_bytes(rows))

    assert outcome.sitting == sitting
    assert outcome.blank_rows == [5]
    assert sorted((r["assessment_id"], r["score"]) for r in outcome.to_create) == sorted(
        [(sitting.theory_id, 90), (sitting.practical_id, 80)]
    )


def test_a_generic_row_naming_one_exam_of_a_sitting_records_the_other_against_its_sibling(setup):
    sitting = sitting_with_roster(setup, 1)
    rows = [["工号", "考核编号", "理论成绩", "实操成绩"], ["E0000", sitting.theory.code, 70, 65]]

    outcome = results_import(xlsx_bytes(rows))

    assert sorted((r["assessment_id"], r["score"]) for r in outcome.to_create) == sorted(
        [(sitting.theory_id, 70), (sitting.practical_id, 65)]
    )


def test_the_old_two_row_layout_still_works(setup):
    sitting = sitting_with_roster(setup, 1)
    rows = [
        ["工号", "考核编号", "理论成绩", "实操成绩", "考试日期"],
        ["E0000", sitting.theory.code, 70, None, THEORY_DAY],
        ["E0000", sitting.practical.code, None, 65, PRACTICAL_DAY],
    ]
    outcome = results_import(xlsx_bytes(rows))
    assert len(outcome.to_create) == 2 and not outcome.errors


def test_a_score_for_an_exam_the_sitting_does_not_hold_is_refused(setup):
    sitting = sitting_with_roster(setup, 1)
    sitting.practical_on = None
    sitting_save(sitting)
    rows = [["工号", "理论成绩", "实操成绩", "考核批次"], ["E0000", 70, 65, sitting.code]]
    outcome = results_parse(xlsx_bytes(rows))
    assert any("实操" in e or "practical" in e for e in outcome.errors)


def test_an_unknown_sitting_code_is_refused(setup):
    sitting_with_roster(setup, 1)
    outcome = results_parse(xlsx_bytes([["工号", "理论成绩", "考核批次"], ["E0000", 70, "KP-NONE"]]))
    assert any("KP-NONE" in e for e in outcome.errors)


# --- the generic template -----------------------------------------------------------------------------------


def test_the_import_page_offers_the_template_with_an_example_row_that_is_never_imported(hr_client):
    page = hr_client.get(reverse("certifications:results-import"))
    template_url = reverse("certifications:results-template")
    assert template_url in page.content.decode()

    response = hr_client.get(template_url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = list(sheet_of(response.content).iter_rows(values_only=True))
    assert rows[0][:7] == ("工号", "姓名", "考核编号", "理论成绩", "实操成绩", "日期", "考核批次")
    assert rows[1][0].startswith("示例") and rows[1][3] == 82 and rows[1][6]

    refused = upload(hr_client, response.content)
    assert "no results below them" in str(refused.context["form"].errors) or "没有" in str(
        refused.context["form"].errors
    )


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_sheet_re_saved_by_libreoffice_imports_the_same(setup, hr_client, tmp_path):
    sitting = sitting_with_roster(setup, 2)
    source = tmp_path / "in" / "成绩.xlsx"
    source.parent.mkdir()
    source.write_bytes(
        filled(download(hr_client, sitting).content, {"E0000": (82, "缺考", None), "E0001": (61, 90, None)})
    )
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    resaved = (tmp_path / "out" / "成绩.xlsx").read_bytes()
    assert resaved != source.read_bytes()

    outcome = results_import(resaved)

    written = {
        (r["worker_id"], r["assessment_id"]): ("absent" if r["absent"] else r["score"]) for r in outcome.to_create
    }
    first, second = (c.worker_id for c in sitting.candidates.order_by("worker__employee_no"))
    assert written == {
        (first, sitting.theory_id): 82,
        (first, sitting.practical_id): "absent",
        (second, sitting.theory_id): 61,
        (second, sitting.practical_id): 90,
    }


def test_reading_a_filled_sheet_costs_the_same_queries_for_a_small_and_a_large_roster(
    setup, hr_client, django_assert_max_num_queries
):
    small = sitting_with_roster(setup, 2)
    large = sitting_save(Sitting(name="大批次", trade=setup.trade, rank=setup.ranks[1], practical_on=PRACTICAL_DAY))
    workers = [worker_in(setup) for _ in range(40)]
    candidates_add(sitting=large, worker_ids=[w.pk for w in workers])
    for sitting, scores in (
        (small, {"E0000": (80, 70, None), "E0001": (None, None, "是")}),
        (large, {w.employee_no: (None, 70, None) for w in workers}),
    ):
        data = filled(download(hr_client, sitting).content, scores)
        with django_assert_max_num_queries(11):
            outcome = results_parse(data)
        assert len(outcome.to_create) == (4 if sitting is small else 40) and not outcome.errors


def test_a_generic_row_by_trade_rank_and_one_exams_date_records_both_through_the_sitting(setup):
    sitting = sitting_with_roster(setup, 1)
    rows = [
        ["工号", "工种", "等级", "考试日期", "理论成绩", "实操成绩"],
        ["E0000", setup.trade.name, setup.ranks[1].name, THEORY_DAY, 70, 65],
    ]

    outcome = results_import(xlsx_bytes(rows))

    assert sorted((r["assessment_id"], r["score"]) for r in outcome.to_create) == sorted(
        [(sitting.theory_id, 70), (sitting.practical_id, 65)]
    )
