"""
Bad input into every importer: random bytes, truncated and damaged .xlsx,
sheets of random cell types and values, CSV in the wrong encoding, huge
strings, formulas, empty files and zip bombs.

Every importer must answer with a clear message (never a server error or an
unexpected exception), and a refused import leaves every table as it was.
`make test` runs a few examples (hypothesis profile "default"); `make fuzz`
many more (HYPOTHESIS_PROFILE=fuzz).

Importers: the exam-results import (certifications/imports.py), its command
(import_results), its upload page, the roster check (page and check_roster
command), and the admin import of every ModelAdmin that has one (found from
the admin registry, so a new one is fuzzed too).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from certifications.clearance.roster import roster_check
from certifications.spreadsheets.results import ResultsImportError, results_import
from core.spreadsheets import SpreadsheetError
from tests import factories as f
from tests.spreadsheet_builders import xlsx_with_sheet_xml
from training import roles

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

HEADERS = [
    "工号",
    "姓名",
    "理论成绩",
    "实操成绩",
    "考试日期",
    "考核编码",
    "课程",
    "工种",
    "等级",
    "日期",
    "备注",
    "次数",
    "名称",
    "代码",
]
FORMULAS = ["=1+1", '=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "=A1/0", "\t=1"]

# --- strategies -------------------------------------------------------------------------------------------

text = st.text(max_size=40)
huge_text = st.integers(1000, 32767).map(lambda n: "长" * n)  # Excel's cell limit is 32,767 characters
cell = st.one_of(
    st.none(),
    text,
    st.sampled_from(HEADERS + FORMULAS + ["缺考", "８５", "2026年9月5日", "2023.5", "理论24+实操48", "E001", "", " "]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9),
    huge_text,
)
rows = st.lists(st.lists(cell, max_size=12), max_size=12)


def xlsx_of(table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in table:
        values = []
        for value in row:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # openpyxl cannot write these at all
            if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
                value = str(value)  # NaN/inf cannot be stored in .xlsx
            values.append(value)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_of(table, encoding: str) -> bytes:
    lines = [",".join("" if v is None else str(v).replace(",", "，") for v in row) for row in table]
    return "\n".join(lines).encode(encoding, errors="replace")


files = st.one_of(
    st.binary(max_size=4000),
    st.just(b""),
    st.binary(max_size=200).map(lambda tail: b"PK\x03\x04" + tail),  # claims to be a zip
    st.binary(max_size=200).map(lambda tail: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + tail),  # claims to be .xls
    rows.map(xlsx_of),
    st.tuples(rows.map(xlsx_of), st.floats(0, 1)).map(lambda p: p[0][: int(len(p[0]) * p[1])]),  # truncated
    st.tuples(
        rows, st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-32", "latin-1", "shift_jis", "big5"])
    ).map(lambda p: csv_of(p[0], p[1])),
    st.tuples(rows.map(xlsx_of), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)).map(lambda p: _flip(*p)),
)


def _flip(data: bytes, at: int, junk: bytes) -> bytes:
    at %= max(len(data), 1)
    return data[:at] + junk + data[at + len(junk) :]


def zip_bomb(unpacked_bytes: int) -> bytes:
    """A valid .xlsx whose sheet unpacks to `unpacked_bytes` of XML: a few kilobytes on disk."""
    good = xlsx_of([["工号", "姓名", "理论成绩"], ["E001", "张三", 90]])
    return xlsx_with_sheet_xml(good, lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + b" " * unpacked_bytes))


# --- what every refused import must leave behind -------------------------------------------------------------


def row_counts() -> dict[str, int]:
    counts = {}
    for model in [*apps.get_app_config("training").get_models(), *apps.get_app_config("certifications").get_models()]:
        manager = getattr(model, "all_objects", model._default_manager)
        counts[model._meta.label] = manager.count()
    return counts


@pytest.fixture
def sitting(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    f.AssessmentFactory(code="AP1", course=course, kind="practical", held_on=dt.date(2026, 9, 5))
    f.WorkerFactory(employee_no="E001", name="张三")
    return course


def assert_clear(message: str) -> None:
    assert message.strip(), "a refusal must say why"
    assert "Traceback" not in message


# --- the exam-results import ----------------------------------------------------------------------------------


@given(data=files)
def test_the_results_import_refuses_bad_files_with_a_message_and_writes_nothing(sitting, data):
    before = row_counts()
    try:
        results_import(data)
    except SpreadsheetError as exc:
        assert_clear(str(exc))
        assert row_counts() == before
    except ResultsImportError as exc:
        assert exc.errors and all(line.strip() for line in exc.errors)
        assert row_counts() == before


@given(data=files)
def test_the_import_results_command_fails_with_a_command_error_only(sitting, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("sheets") / "results.xlsx"
    path.write_bytes(data)
    before = row_counts()
    try:
        call_command("import_results", str(path), "--dry-run", stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as exc:
        assert_clear(str(exc))
    assert row_counts() == before


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 5 * 1024 * 1024])
def test_a_zip_bomb_is_refused_by_the_size_limit(sitting, settings, size):
    settings.KUANGJIANG = {
        **settings.KUANGJIANG,
        "UPLOAD_MAX_BYTES": 100 * 1024,
        "UPLOAD_MAX_UNCOMPRESSED_BYTES": 1024 * 1024,
    }
    bomb = zip_bomb(size)
    assert len(bomb) < 100 * 1024  # small on disk: only the unpacked size gives it away
    before = row_counts()
    with pytest.raises(SpreadsheetError, match="unpacks to more than"):
        results_import(bomb)
    assert row_counts() == before


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(sitting, settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "UPLOAD_MAX_BYTES": 1024}
    with pytest.raises(SpreadsheetError, match="size limit"):
        results_import(b"a," * 2000)


def test_a_csv_cell_larger_than_the_csv_modules_limit_gets_a_message(sitting):
    data = ("工号,姓名,理论成绩\nE001," + "长" * 200_000 + ",90\n").encode()
    with pytest.raises((SpreadsheetError, ResultsImportError)):
        results_import(data)


# --- the upload pages ------------------------------------------------------------------------------------------


@given(data=files, name=st.sampled_from(["results.xlsx", "results.csv", "results.xls", "成绩.txt", "x"]))
def test_the_results_upload_page_answers_every_file_with_a_page(sitting, hr_client, data, name):
    before = row_counts()
    response = hr_client.post(reverse("certifications:results-import"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert row_counts() == before  # the upload is a preview: nothing is written before confirm
    if "outcome" not in response.context:
        assert response.context["form"].errors["file"]


@given(data=files, on=st.one_of(st.just(""), st.sampled_from(["2026-09-05", "2026-02-30", "x" * 300, "９９"])))
def test_the_roster_check_answers_every_file_with_a_page(sitting, hr_client, data, on):
    before = row_counts()
    response = hr_client.post(
        reverse("certifications:roster-check"), {"file": SimpleUploadedFile("roster.xlsx", data), "on": on}
    )
    assert response.status_code == 200
    assert row_counts() == before
    context = response.context
    assert context["rows"] is not None or context["error"] or context["form"].errors


@given(data=files)
def test_the_roster_check_function_raises_only_spreadsheet_errors(sitting, data):
    try:
        roster_check(data)
    except SpreadsheetError as exc:
        assert_clear(str(exc))


@given(data=files)
def test_the_check_roster_command_fails_with_a_command_error_only(sitting, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("rosters") / "roster.xlsx"
    path.write_bytes(data)
    try:
        call_command("check_roster", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as exc:
        assert_clear(str(exc))


# --- the admin import of every model that has one --------------------------------------------------------------


def admin_imports() -> list[str]:
    """Return the model label of every registered ModelAdmin with an import page."""
    return sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if hasattr(model_admin, "import_action")
    )


@pytest.fixture
def superuser_client(client, db):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def scaled(fraction: float):
    """Run a fraction of the profile's examples: these go through the whole admin, once per model."""
    return settings(max_examples=max(4, int(settings.default.max_examples * fraction)))


@pytest.mark.parametrize("label", admin_imports())
@scaled(0.25)
@given(data=files, format_index=st.sampled_from(["0", "1", "2"]))  # xlsx, xls, csv: a file may claim any
@example(data=b"\n!", format_index="0")  # a blank line above a one-column sheet once read as a zero-column header
def test_every_admin_import_answers_bad_files_with_a_page_and_writes_nothing(
    sitting, superuser_client, label, data, format_index
):
    app_label, model_name = label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_import")
    before = row_counts()
    response = superuser_client.post(
        url, {"import_file": SimpleUploadedFile("upload.xlsx", data), "format": format_index, "resource": "0"}
    )
    assert response.status_code == 200
    assert row_counts() == before  # the first step is a dry run
    form = response.context.get("form")
    if form is not None and form.errors:
        assert "encountered while trying to read file" not in str(form.errors)  # our message, not the exception's name


def test_the_admin_import_refuses_a_zip_bomb_with_a_message(sitting, superuser_client, settings):
    settings.KUANGJIANG = {
        **settings.KUANGJIANG,
        "UPLOAD_MAX_BYTES": 100 * 1024,
        "UPLOAD_MAX_UNCOMPRESSED_BYTES": 1024 * 1024,
    }
    if "training.worker" not in admin_imports():
        pytest.skip("the worker admin has no import")
    response = superuser_client.post(
        reverse("admin:training_worker_import"),
        {"import_file": SimpleUploadedFile("bomb.xlsx", zip_bomb(2 * 1024 * 1024)), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    assert "unpacks to more than" in response.content.decode()


def test_a_role_without_the_import_permission_cannot_import(sitting, client):
    client.force_login(f.UserFactory(username="assessor", role=roles.ASSESSOR, is_staff=True))
    before = row_counts()
    response = client.post(
        reverse("admin:certifications_assessmentresult_import"),
        {"import_file": SimpleUploadedFile("r.xlsx", xlsx_of([["a"]])), "format": "0", "resource": "0"},
    )
    assert response.status_code == 403
    assert row_counts() == before


@pytest.mark.parametrize("label", admin_imports())
@pytest.mark.parametrize("blank_rows", [0, 3])
def test_every_admin_import_refuses_a_file_with_headers_and_no_rows(sitting, superuser_client, label, blank_rows):
    """An empty import is an error the user can act on, never 'imported 0'."""
    app_label, model_name = label.split(".")
    model_admin = admin.site._registry[apps.get_model(app_label, model_name)]
    resource = model_admin.get_import_resource_classes(None)[0]()
    headers = [str(field.column_name) for field in resource.get_import_fields()]
    data = xlsx_of([headers, *[[None] * len(headers)] * blank_rows])
    before = row_counts()
    response = superuser_client.post(
        reverse(f"admin:{app_label}_{model_name}_import"),
        {"import_file": SimpleUploadedFile("empty.xlsx", data), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    assert row_counts() == before
    assert "No valid data to import" in str(response.context["form"].errors)
