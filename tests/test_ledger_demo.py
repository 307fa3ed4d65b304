"""
The training ledger of the demo mine (issue 13): every exam a worker sat in the year is in the score
columns — skill-level appraisals, special-operation exams and course exams, re-sits in 补考 — counted
against the results table the dashboard counts (certifications.measures.results_in_year).
"""

import io
import os
import re
import shutil
import subprocess
from collections import Counter
from io import StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation

from certifications import measures
from certifications.spreadsheets.ledger import LedgerWriter
from training.models import Unit


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo mine, loaded once for the module in a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", "--force", stdout=StringIO())
        yield timezone.localdate().year
        transaction.set_rollback(True)


@pytest.fixture
def year(demo, db):
    return demo


def department_rows(year: int) -> list[dict]:
    buffer = io.BytesIO()
    with translation.override("zh-hans"):
        writer = LedgerWriter(year=year)
        writer.write(buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    rows = []
    for title in (writer.unit_names[d] for d in writer.departments):
        sheet = list(book[title].iter_rows(values_only=True))[1:]
        # A read-only sheet leaves out a row's empty cells at its end.
        rows += [dict(zip(sheet[0], (*row, *[None] * len(sheet[0])))) for row in sheet[1:]]
    return rows


def subject(row: dict) -> tuple:
    if row["assessment__trade_id"] and row["assessment__rank_id"]:
        return ("rank", row["assessment__trade_id"], row["assessment__rank_id"])
    if row["assessment__special_operation_id"]:
        return ("operation", row["assessment__special_operation_id"])
    return ("course", row["assessment__course_id"])


def test_every_worker_with_an_exam_that_year_has_their_scores_in_the_ledger(year):
    results = list(
        measures.results_in_year(year).values(
            "worker__employee_no",
            "assessment__kind",
            "assessment__trade_id",
            "assessment__rank_id",
            "assessment__special_operation_id",
            "assessment__course_id",
            "assessment__held_on",
            "attempt",
        )
    )
    assert results, "the demo has exams this year"
    # One score cell per worker, exam subject and kind (theory, practical): the latest attempt.
    expected = Counter(
        number
        for number, _subject, _kind in {(r["worker__employee_no"], subject(r), r["assessment__kind"]) for r in results}
    )
    rows = department_rows(year)
    found = Counter()
    for row in rows:
        found[row["工号"]] += (row["理论成绩"] is not None) + (row["实操成绩"] is not None)
    assert +found == expected  # + drops the workers with no score
    assert {r["worker__employee_no"] for r in results} == {r["工号"] for r in rows if r["考核结果"]}
    # Every appraisal and special-operation exam is there, not only course exams.
    kinds = Counter(r["培训类别"] for r in rows if r["考核结果"])
    assert kinds["技能等级认定"] > 0 and kinds["特种作业考核"] > 0


def test_a_resit_that_year_is_marked_in_the_resit_column(year):
    resat = {
        (r["worker__employee_no"], subject(r))
        for r in measures.results_in_year(year)
        .filter(attempt__gt=1)
        .values(
            "worker__employee_no",
            "assessment__trade_id",
            "assessment__rank_id",
            "assessment__special_operation_id",
            "assessment__course_id",
        )
    }
    rows = department_rows(year)
    assert resat and len([r for r in rows if r["补考"] == "是"]) == len(resat)


# --- printed: LibreOffice turns the ledger into a PDF a person can read ---------------------------------------

SOFFICE = shutil.which("soffice")
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def _no_libreoffice(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. Under CI=true the LibreOffice test must run: `make browser` installs it as root.")
    pytest.skip(f"{reason}; the PDF test is skipped (run `make browser` as root to install LibreOffice).")


@pytest.mark.libreoffice
def test_libreoffice_prints_the_unit_ledger_on_legible_pages_with_no_column_cut(year, tmp_path):
    if SOFFICE is None or shutil.which("pdftotext") is None:
        _no_libreoffice("soffice or pdftotext is not installed")
    unit = Unit.objects.get(name="综采一队")
    source = tmp_path / "ledger.xlsx"
    with translation.override("zh-hans"):
        LedgerWriter(unit=unit, year=year).write(source)
        headers = LedgerWriter.LEDGER_HEADERS
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile"]
        + ["--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run(["pdftotext", "-bbox", str(tmp_path / "ledger.pdf"), str(tmp_path / "words.html")], check=True)
    pages = PAGE.findall((tmp_path / "words.html").read_text())
    department = [body for _w, _h, body in pages if "培训台账（" in body and "序号" in body]
    rows = len(list(openpyxl.load_workbook(source, read_only=True)["综采一队"].iter_rows(min_row=3)))
    # One page for each of the other three sheets, and the department's pages only as many as its rows need:
    # had a column been pushed onto a page of its own, there would be twice as many.
    assert len(pages) >= 4 and len(department) == len(pages) - 3
    assert len(department) <= rows // 40 + 1
    for width, height, body in pages:
        assert float(width) > float(height)  # landscape
        words = WORD.findall(body)
        assert "示范煤矿" in body and "综采一队" in body  # the page header names the mine and the unit
        # Nothing runs off the page, and text prints at 7 pt or more.
        assert max(float(w[2]) for w in words) <= float(width)
        assert min(float(w[3]) - float(w[1]) for w in words) >= 7
    for body in department:
        # Every page repeats the header row whole: no column is cut or pushed to another page.
        assert all(header in body for header in headers), [h for h in headers if h not in body]
