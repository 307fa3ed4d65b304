"""
One supported date range (core.dates.SUPPORTED_YEARS, 1900-2200) and one parser
for every entry point: a date outside it, or no date at all, gets a message that
says what to write, never a server error or a traceback, and nothing is written.

The last tests keep the class closed: no date parsing outside core/dates.py, every
admin date field and every import date column reads through core.dates.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import DateField, DateTimeField
from hypothesis import given
from hypothesis import strategies as st

from certifications.clearance.roster import roster_check
from certifications.clearance.tokens import api_token_create
from certifications.spreadsheets.results import ResultsImportError, results_import
from core import dates
from core.importexport import DateWidget
from tests import factories as f
from tests.compliance_builders import cleared_electrician, electrician_trade
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes
from tests.test_fuzz_imports import row_counts

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"]
BAD = [*OUT_OF_RANGE, "garbage"]
REPO = Path(__file__).resolve().parent.parent
APP_DIRS = ("certifications", "training", "core", "demo", "config")


def assert_explains(message: str, value: str) -> None:
    """The message names the value and, for a date outside the range, the range itself."""
    assert "Traceback" not in message and "out of range" not in message
    assert value in message
    if value in OUT_OF_RANGE:
        assert "1900-01-01" in message and "2200-12-31" in message


# --- the parser -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
def test_the_parser_refuses_what_is_outside_the_range_or_no_date(value):
    with pytest.raises(dates.DateError) as caught:
        dates.parse_date(value)
    assert_explains(str(caught.value), value)


@pytest.mark.parametrize("value", [dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.datetime(2201, 1, 1, 8, 0)])
def test_the_parser_refuses_a_date_object_outside_the_range(value):
    with pytest.raises(dates.DateError, match="1900-01-01"):
        dates.parse_date(value)


@given(st.dates())
def test_the_parser_accepts_exactly_the_supported_years(value):
    inside = dates.SUPPORTED_YEARS[0] <= value.year <= dates.SUPPORTED_YEARS[1]
    for written in (value, value.isoformat() if value.year >= 1000 else None):
        if written is None:
            continue
        if inside:
            assert dates.parse_date(written) == value
        else:
            with pytest.raises(dates.DateError):
                dates.parse_date(written)


def test_the_ends_of_the_range_are_inside_it():
    assert dates.parse_date("1900-01-01") == dt.date(1900, 1, 1)
    assert dates.parse_date("2200年12月31日") == dt.date(2200, 12, 31)


# --- the API ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
def test_the_api_answers_a_bad_on_with_a_400_and_the_message(client, hr_user, value):
    trade, op = electrician_trade()
    cleared_electrician(trade, op, employee_no="E100")
    _token, raw = api_token_create(user=hr_user, name="调度系统")
    before = row_counts()
    response = client.get(
        "/api/clearance/",
        {"employee_no": "E100", "trade": "综采维修电工", "on": value},
        headers={"Authorization": f"Token {raw}"},
    )
    assert response.status_code == 400
    assert_explains(response.json()["error"], value)
    assert row_counts() == before


# --- the commands -----------------------------------------------------------------------------------------


@pytest.fixture
def roster_file(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([["工号", "工种"], ["E1", "综采维修电工"]]))
    return str(path)


def command_args(name: str, roster_file: str) -> list[str]:
    return [roster_file] if name == "check_roster" else ["--no-progress"] if name == "recompute_ranks" else []


@pytest.mark.parametrize("name", ["check_roster", "send_reminders", "recompute_ranks"])
@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("how", ["command line", "keyword"])
def test_every_command_refuses_a_bad_on_with_a_command_error(roster_file, name, value, how):
    before = row_counts()
    args = command_args(name, roster_file)
    kwargs = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    with pytest.raises(CommandError) as caught:
        if how == "command line":
            call_command(name, *args, "--on", value, **kwargs)
        else:
            call_command(name, *args, on=value, **kwargs)  # call_command skips argparse's type=
    assert_explains(str(caught.value), value)
    assert row_counts() == before


def test_every_date_option_of_every_command_uses_the_one_parser():
    from django.core.management import get_commands, load_command_class

    found = []
    for name, app in get_commands().items():
        if not app.startswith(("certifications", "training", "core", "demo")):
            continue
        parser = load_command_class(app, name).create_parser("manage.py", name)
        for action in parser._actions:
            help_text = action.help or ""
            takes_a_date = action.dest in ("on", "date", "since", "until") or action.dest.endswith("_on")
            takes_a_value = action.nargs != 0  # a flag (--all) may speak of dates without taking one
            if (
                action.option_strings
                and takes_a_value
                and (takes_a_date or "YYYY" in help_text or "date" in help_text.lower())
            ):
                found.append(name)
                assert action.type is dates.argument_date, f"{name} --{action.dest} does not parse with core.dates"
    assert {"check_roster", "send_reminders", "recompute_ranks"} <= set(found)


# --- the roster check -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
def test_a_roster_row_with_a_bad_date_gets_its_message(value):
    trade, op = electrician_trade()
    cleared_electrician(trade, op, employee_no="E1")
    rows = roster_check(xlsx_bytes([["工号", "工种", "日期"], ["E1", "综采维修电工", value]]))
    assert rows[0].verdict != "cleared"
    assert_explains(rows[0].message, value)


@pytest.mark.parametrize("value", BAD)
def test_the_roster_page_refuses_a_bad_date_in_a_row_and_in_its_form(hr_client, value):
    trade, op = electrician_trade()
    cleared_electrician(trade, op, employee_no="E1")
    before = row_counts()
    data = xlsx_bytes([["工号", "工种", "日期"], ["E1", "综采维修电工", value]])
    response = hr_client.post("/compliance/roster/", {"file": SimpleUploadedFile("r.xlsx", data), "check": "1"})
    assert response.status_code == 200
    assert_explains(response.context["rows"][0].message, value)

    data = xlsx_bytes([["工号", "工种"], ["E1", "综采维修电工"]])
    response = hr_client.post("/compliance/roster/", {"file": SimpleUploadedFile("r.xlsx", data), "on": value})
    assert response.status_code == 200
    assert response.context["rows"] is None
    assert_explains(" ".join(response.context["form"].errors["on"]), value)
    assert row_counts() == before


# --- the results import -----------------------------------------------------------------------------------


@pytest.fixture
def sitting(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    f.WorkerFactory(employee_no="E001", name="张三")
    return course


def results_sheet(value: str) -> bytes:
    return xlsx_bytes([["工号", "姓名", "课程", "理论成绩", "日期"], ["E001", "张三", "C100", 90, value]])


@pytest.mark.parametrize("value", BAD)
def test_the_results_import_refuses_a_bad_date_and_writes_nothing(sitting, hr_client, value):
    before = row_counts()
    with pytest.raises(ResultsImportError) as caught:
        results_import(results_sheet(value))
    assert_explains(" ".join(caught.value.errors), value)
    response = hr_client.post(_results_url(), {"file": SimpleUploadedFile("r.xlsx", results_sheet(value))})
    assert response.status_code == 200
    assert not response.context.get("token")
    assert_explains(response.content.decode(), value)
    assert row_counts() == before


def _results_url() -> str:
    from django.urls import reverse

    return reverse("certifications:results-import")


# --- the admin --------------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize("value", BAD)
def test_the_admin_worker_import_refuses_a_bad_hire_date_and_writes_nothing(superuser_client, value):
    f.TradeFactory(code="T1")
    f.UnitFactory(code="C1")
    header = ["Employee number", "Name", "Unit", "Personnel category", "Hire date", "Status", "Trades"]
    data = xlsx_bytes([header, ["E100", "赵一", "C1", "Other staff", value, "Active", f"T1:{value}*"]])
    before = row_counts()
    response = superuser_client.post(
        "/admin/training/worker/import/",
        {"format": 0, "resource": 0, "import_file": SimpleUploadedFile("w.xlsx", data)},
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors() and "confirm_form" not in response.context
    assert_explains(str(result.invalid_rows[0].error_dict), value)
    assert row_counts() == before


@pytest.mark.parametrize("value", BAD)
def test_an_admin_form_refuses_a_bad_date_and_writes_nothing(superuser_client, value):
    unit = f.UnitFactory(code="C1")
    before = row_counts()
    response = superuser_client.post(
        "/admin/training/worker/add/",
        {"employee_no": "E1", "name": "甲", "unit": unit.pk, "category": "other", "hire_date": value},
    )
    assert response.status_code == 200
    assert_explains(" ".join(response.context["adminform"].form.errors["hire_date"]), value)
    assert row_counts() == before


def _admins():
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline_class in model_admin.inlines:
            yield inline_class.model, inline_class(model, admin.site)


def test_every_admin_date_field_reads_with_the_one_parser(rf):
    request = rf.get("/")
    request.user = f.UserFactory(is_superuser=True, is_staff=True)
    checked = 0
    for model, model_admin in _admins():
        for db_field in model._meta.get_fields():
            if isinstance(db_field, DateField) and not isinstance(db_field, DateTimeField) and db_field.editable:
                form_field = model_admin.formfield_for_dbfield(db_field, request)
                assert isinstance(form_field, dates.DateField), f"{model_admin}: {db_field.name}"
                checked += 1
    assert checked > 10


def test_every_import_date_column_reads_with_the_one_parser():
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model_admin, "get_import_resource_classes"):
            continue
        for resource_class in model_admin.get_import_resource_classes(None):
            for field in resource_class().get_import_fields():
                try:
                    db_field = model._meta.get_field((field.attribute or "").split("__")[0])
                except Exception:  # noqa: BLE001 — a computed column, not a model field
                    continue
                if isinstance(db_field, DateField) and not isinstance(db_field, DateTimeField):
                    assert isinstance(field.widget, DateWidget), f"{resource_class.__name__}.{field.column_name}"
                    checked += 1
    assert checked >= 3


# --- no other date parser -----------------------------------------------------------------------------------

FORBIDDEN = re.compile(r"\bfromisoformat\b|\bstrptime\b|\bforms\.DateField\(|\bdateparse\b|\bSelectDateWidget\b")


def test_no_code_outside_core_dates_parses_a_date():
    offenders = []
    for top in APP_DIRS:
        for path in (REPO / top).rglob("*.py"):
            if path == REPO / "core" / "dates.py" or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FORBIDDEN.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == [], "parse dates with core.dates (parse_date, DateField, argument_date):\n" + "\n".join(
        offenders
    )


def test_the_meta_test_would_see_a_new_parser(tmp_path):
    assert FORBIDDEN.search("on = dt.date.fromisoformat(text)")
    assert FORBIDDEN.search("when = datetime.strptime(text, '%Y')")
    assert FORBIDDEN.search("on = forms.DateField(required=False)")
