"""
A NUL or another control character (C0 but tab, newline and carriage return;
DEL) is refused wherever it comes in: anywhere in an uploaded sheet, not only
in its first 4 KB (core.spreadsheets checks every cell of every row), and in
any request parameter (core.middleware answers 400). PostgreSQL cannot store
NUL, so before this a late NUL was stored on SQLite and a server error on
PostgreSQL. `make test-postgres` runs these on PostgreSQL too.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certifications.clearance.roster import roster_check
from certifications.spreadsheets.results import results_import
from core.spreadsheets import SpreadsheetError
from core.text import CONTROL_CHARACTERS
from tests import factories as f
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes, xlsx_with_sheet_xml
from tests.test_fuzz_imports import admin_imports, row_counts

pytestmark = pytest.mark.django_db

PLACEHOLDER = "ZZPLACEHOLDERZZ"
CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f", "\x7f"]
HEADER = ["工号", "姓名", "工种", "课程", "理论成绩", "日期"]


def padded_rows(bad_cell: str) -> list[list]:
    """A sheet of good rows over 5 KB, then one row whose name cell is `bad_cell`."""
    good = [[f"E{n:04d}", "张三" * 10, "综采维修电工", "C100", 90, "2026-09-05"] for n in range(100)]
    return [HEADER, *good, ["E9999", bad_cell, "综采维修电工", "C100", 90, "2026-09-05"]]


def csv_with(char: str) -> bytes:
    data = csv_bytes(padded_rows(f"王{char}五"))
    assert data.index(char.encode()) > 5 * 1024
    return data


def xlsx_with(char: str) -> bytes:
    # openpyxl will not write a control character, and XML 1.0 has no way to hold C0 ones but tab, newline and
    # carriage return: a file from elsewhere carries DEL as a character reference and NUL as a broken one.
    data = xlsx_bytes(padded_rows(PLACEHOLDER))
    return xlsx_with_sheet_xml(data, lambda xml: xml.replace(PLACEHOLDER.encode(), f"王&#{ord(char)};五".encode()))


FILES = [("csv", char) for char in CONTROL] + [("xlsx", "\x7f"), ("xlsx", "\x00")]


def bad_file(kind: str, char: str) -> bytes:
    return csv_with(char) if kind == "csv" else xlsx_with(char)


def assert_refused(message: str, kind: str, char: str) -> None:
    if kind == "xlsx" and char == "\x00":
        assert "damaged" in message  # not XML at all
    else:
        assert f"U+{ord(char):04X}" in message
        assert "Row 102, column B" in message


@pytest.fixture
def sitting(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory")
    f.WorkerFactory(employee_no="E0001", name="张三" * 10)
    return course


def test_the_pattern_is_exactly_c0_but_tab_newline_cr_and_del():
    refused = {chr(code) for code in range(0x110000) if CONTROL_CHARACTERS.search(chr(code))}
    assert refused == {chr(code) for code in [*range(32), 127]} - {"\t", "\n", "\r"}


@pytest.mark.parametrize(("kind", "char"), FILES)
def test_the_reader_refuses_a_control_character_late_in_the_file(sitting, kind, char):
    before = row_counts()
    for read in (results_import, roster_check):
        with pytest.raises(SpreadsheetError) as caught:
            read(bad_file(kind, char))
        assert_refused(str(caught.value), kind, char)
    assert row_counts() == before


@pytest.mark.parametrize(("kind", "char"), FILES)
def test_the_results_preview_refuses_it_with_a_message_and_no_confirm(sitting, hr_client, kind, char):
    before = row_counts()
    response = hr_client.post(
        reverse("certifications:results-import"), {"file": SimpleUploadedFile(f"r.{kind}", bad_file(kind, char))}
    )
    assert response.status_code == 200
    assert not response.context.get("token")
    assert_refused(response.content.decode(), kind, char)
    assert row_counts() == before


@pytest.mark.parametrize(("kind", "char"), FILES)
def test_the_roster_check_page_refuses_it_with_a_message(sitting, hr_client, kind, char):
    response = hr_client.post(
        reverse("certifications:roster-check"), {"file": SimpleUploadedFile(f"r.{kind}", bad_file(kind, char))}
    )
    assert response.status_code == 200
    assert response.context["rows"] is None
    assert_refused(response.context["error"], kind, char)


@pytest.fixture
def superuser_client(client):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize("label", admin_imports())
@pytest.mark.parametrize(("kind", "char"), [("csv", "\x00"), ("csv", "\x1b"), ("xlsx", "\x7f")])
def test_every_admin_import_refuses_it_and_writes_nothing(sitting, superuser_client, label, kind, char):
    app_label, model_name = label.split(".")
    model_admin = admin.site._registry[_model(label)]
    resource = model_admin.get_import_resource_classes(None)[0]()
    headers = [str(field.column_name) for field in resource.get_import_fields()]
    good = [[f"X{n:04d}"] + ["张三" * 10] * (len(headers) - 1) for n in range(100)]
    rows = [headers, *good, ["X9999", PLACEHOLDER if kind == "xlsx" else f"王{char}五", *[""] * (len(headers) - 2)]]
    if kind == "csv":
        data = csv_bytes(rows)
        assert data.index(char.encode()) > 5 * 1024
    else:
        data = xlsx_with_sheet_xml(
            xlsx_bytes(rows), lambda xml: xml.replace(PLACEHOLDER.encode(), f"王&#{ord(char)};五".encode())
        )
    before = row_counts()
    response = superuser_client.post(
        reverse(f"admin:{app_label}_{model_name}_import"),
        {
            "import_file": SimpleUploadedFile(f"upload.{kind}", data),
            "format": "2" if kind == "csv" else "0",
            "resource": "0",
        },
    )
    assert response.status_code == 200
    assert f"U+{ord(char):04X}" in str(response.context["form"].errors)
    assert "confirm_form" not in response.context
    assert row_counts() == before


def _model(label: str):
    from django.apps import apps

    return apps.get_model(label)


# --- request parameters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROL)
@pytest.mark.parametrize("name", ["certifications:dashboard", "certifications:me", "certifications:roster-check"])
def test_a_control_character_in_a_query_string_is_a_400(hr_client, name, char):
    response = hr_client.get(reverse(name), {"q": f"张{char}三"})
    assert response.status_code == 400
    assert b"NUL" in response.content or "控制字符".encode() in response.content


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"])
@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse("certifications:roster-check"),
        lambda: reverse("certifications:results-import"),
        lambda: "/admin/training/worker/add/",
        lambda: "/admin/training/worker/import/",
    ],
)
def test_a_control_character_in_a_posted_form_is_a_400(superuser_client, url, char):
    before = row_counts()
    response = superuser_client.post(url(), {"name": f"张{char}三", "employee_no": "E1", "on": ""})
    assert response.status_code == 400
    assert row_counts() == before


def test_tab_newline_and_carriage_return_pass(superuser_client):
    response = superuser_client.get(reverse("certifications:dashboard"), {"q": "a\tb\r\nc"})
    assert response.status_code == 200


def test_a_control_character_in_the_api_is_a_json_400(client):
    response = client.get(reverse("certifications:api-clearance"), {"employee_no": "1\x1b"})
    assert response.status_code == 400
    assert response.json()["error"]
