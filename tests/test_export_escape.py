"""
No export hands anyone a formula: every text field of every model holds a
formula-like payload, and every cell of every file the app writes — the ledger
with and without a unit, the admin exports in every format, the forecast, the
roster check result, the results template — is scanned. A second half reads the
source: no module but core.workbooks creates a workbook or writes a cell, so a
new export cannot skip the escape.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import re
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.db import models, transaction
from django.db.models.functions import Cast, Concat
from django.db.models.lookups import Exact
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from certifications.clearance.forecast import recertification_forecast
from certifications.clearance.roster import forecast_xlsx, roster_check, roster_xlsx
from certifications.spreadsheets.ledger import LedgerWriter
from certifications.spreadsheets.results import results_template
from training.models import Unit, Worker

pytestmark = pytest.mark.django_db

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = ("=1+1", "+SUM(A1)", "-2", "@A1", "\t=1", "\r=1", '=HYPERLINK("http://example.com","x")')
TITLE_FORBIDDEN = set("[]:*?/\\")
ROOT = Path(__file__).resolve().parent.parent


# --- the data: the demo mine with a payload in every text field ---------------------------------------


def planted_fields(model) -> list[models.Field]:
    """Every free-text column: choice fields hold the app's own codes, never what a user typed."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and not f.primary_key
    ]


def plant(model, offset: int) -> None:
    """Put a payload (rotating with the row and the column) in every text field of every row, in one UPDATE."""
    fields = planted_fields(model)
    top = model._base_manager.aggregate(top=models.Max("pk"))["top"]
    if not fields or top is None:
        return
    digits = len(str(top))
    values = {}
    for j, field in enumerate(fields):
        room = (field.max_length or 200) - 1 - digits  # the "~pk" suffix keeps unique columns unique
        whens = [
            models.When(
                Exact(models.F("pk") % len(PAYLOADS), k),
                then=Concat(
                    models.Value(PAYLOADS[(k + j + offset) % len(PAYLOADS)][: max(room, 1)] + "~"),
                    Cast("pk", models.CharField()),
                ),
            )
            for k in range(len(PAYLOADS))
        ]
        values[field.attname] = models.Case(*whens, output_field=field)
    model._base_manager.update(**values)


def app_models():
    for label in ("training", "certifications"):
        yield from apps.get_app_config(label).get_models()


@pytest.fixture(scope="module")
def planted(django_db_setup, django_db_blocker):
    """The demo mine, every text field of every model (history included) a formula payload; rolled back after."""
    from certifications.models import ApiToken, ReminderLog
    from tests.factories import UserFactory

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", "--force", stdout=StringIO())
        # The demo leaves these two empty; give them a row so they are planted too.
        ApiToken.objects.create(name="t", user=UserFactory(), prefix="p", key_hash="h")
        ReminderLog.objects.create(
            recipient="a@example.com",
            item_key="k",
            bucket="30",
            due_on=dt.date(2026, 1, 1),
            sent_on=dt.date(2026, 1, 1),
        )
        for offset, model in enumerate(app_models()):
            plant(model, offset)
        yield
        transaction.set_rollback(True)


# --- the scanner -------------------------------------------------------------------------------------------


def bad_text(value) -> bool:
    return isinstance(value, str) and value.startswith(TRIGGERS)


def escaped(value) -> bool:
    return isinstance(value, str) and value.startswith("'") and value[1:2] != "" and value[1] in "=+-@\t\r"


def scan_title(title: str) -> list[str]:
    problems = []
    if title.startswith((*TRIGGERS, "'")) or title.endswith("'"):
        problems.append(f"sheet title {title!r} starts like a formula or with an apostrophe")
    if TITLE_FORBIDDEN & set(title) or any(ord(ch) < 32 for ch in title) or not 0 < len(title) <= 31:
        problems.append(f"sheet title {title!r} is not one Excel accepts")
    return problems


def scan_xlsx(content: bytes) -> tuple[list[str], int]:
    """Return (what is wrong, how many escaped payloads were seen) for a workbook."""
    problems, seen = [], 0
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and re.search(rb"<(\w+:)?f[ >]", archive.read(name)):
                problems.append(f"{name} stores a formula")
    book = load_workbook(io.BytesIO(content))
    for sheet in book.worksheets:
        problems += scan_title(sheet.title)
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    problems.append(f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}")
                elif bad_text(cell.value):
                    problems.append(f"{sheet.title}!{cell.coordinate} is unescaped: {cell.value!r}")
                seen += escaped(cell.value)
    return problems, seen


def scan_text(content, delimiter=",") -> tuple[list[str], int]:
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content.lstrip("\ufeff")
    problems, seen = [], 0
    for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1):
        for column, value in enumerate(row, 1):
            if bad_text(value):
                problems.append(f"row {number} column {column} is unescaped: {value!r}")
            seen += escaped(value)
    return problems, seen


def assert_clean(content, kind="xlsx", *, payloads_expected=True):
    problems, seen = scan_xlsx(content) if kind == "xlsx" else scan_text(content)
    assert problems == []
    if payloads_expected:
        assert seen, "no planted payload reached this export: the scan proves nothing"
    return seen


# --- every export --------------------------------------------------------------------------------------------


def ledger(**kwargs) -> bytes:
    out = io.BytesIO()
    LedgerWriter(**kwargs).write(out)
    return out.getvalue()


def test_the_scanner_finds_a_formula_and_an_unescaped_value():
    from openpyxl import Workbook  # the raw library, to make the files a careless writer would

    book = Workbook()
    book.active.title = "-2"
    book.active.append(["=1+1", "+SUM(A1)", "ok"])
    out = io.BytesIO()
    book.save(out)
    problems, _seen = scan_xlsx(out.getvalue())
    assert any("formula" in p for p in problems) and any("unescaped" in p for p in problems)
    assert any("sheet title" in p for p in problems)
    assert scan_text("a,@A1\r\n")[0] and scan_text("a,'@A1\r\n") == ([], 1)


def test_the_payloads_are_in_the_database(planted):
    worker = Worker.objects.order_by("pk").first()
    assert worker.name.startswith(TRIGGERS) and worker.employee_no.startswith(TRIGGERS)
    assert all(u.name.startswith(TRIGGERS) for u in Unit.objects.all())


def test_the_ledger_of_every_unit_escapes_every_cell_its_titles_and_headers(planted):
    content = ledger()
    assert_clean(content)
    book = load_workbook(io.BytesIO(content))
    # Sheet titles come from the (planted) unit names; the header rows carry rank and trade names.
    assert any("~" in title for title in book.sheetnames[1:-2])
    summary_header = [c.value for c in book.worksheets[0][2]]
    assert any(escaped(v) for v in summary_header)
    matrix_header = [c.value for c in book["技能矩阵"][2]]
    assert any(escaped(v) for v in matrix_header)


@pytest.mark.parametrize("kind", [Unit.Kind.MINE, Unit.Kind.PRODUCTION_TEAM, Unit.Kind.CREW])
def test_the_ledger_of_one_unit_escapes_its_title_row(planted, kind):
    unit = Unit.objects.filter(kind=kind, workers__isnull=False).first() or Unit.objects.filter(kind=kind).first()
    content = ledger(unit=unit, year=None)
    assert_clean(content)
    title = load_workbook(io.BytesIO(content)).worksheets[0]["A1"].value
    # The title starts with the mine's name, then the unit's (planted names start like formulas too).
    assert escaped(title) and unit.name in title


def test_the_ledger_of_one_year_is_clean(planted):
    assert_clean(ledger(year=dt.date.today().year - 1))


def test_the_forecast_is_clean(planted):
    forecast = recertification_forecast()
    assert forecast.rows
    assert_clean(forecast_xlsx(forecast))


def test_the_roster_check_result_is_clean(planted):
    workers = list(Worker.objects.order_by("pk").select_related("unit")[:40])
    trades = list(apps.get_model("training", "Trade").objects.values_list("name", flat=True)[:5])
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["工号", "姓名", "工种", "日期"])
    for i, worker in enumerate(workers):
        writer.writerow([worker.employee_no, worker.name, trades[i % len(trades)], ""])
    for payload in PAYLOADS:
        writer.writerow([payload, payload, payload, ""])
    rows = roster_check(out.getvalue().encode())
    assert len(rows) == len(workers) + len(PAYLOADS)
    assert any(r.worker is not None for r in rows)
    assert_clean(roster_xlsx(rows))


def test_the_results_template_is_clean():
    assert_clean(results_template(), payloads_expected=False)


def admin_exports():
    for model, model_admin in admin.site._registry.items():
        if hasattr(model_admin, "get_export_formats") and model_admin.get_export_formats():
            for index, fmt in enumerate(model_admin.get_export_formats()):
                yield pytest.param(model, index, id=f"{model.__name__}-{fmt().get_title()}")


@pytest.mark.parametrize("model, format_index", list(admin_exports()))
def test_every_admin_export_in_every_format_is_clean(planted, admin_client, admin_user, model, format_index):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = admin_user
    formats = model_admin.get_export_formats()
    form = model_admin.get_export_form_class()(formats, model_admin.get_export_resource_classes(request))
    data = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
    data.update(format=str(format_index), resource="0")
    opts = model._meta
    response = admin_client.post(f"/admin/{opts.app_label}/{opts.model_name}/export/", data)
    assert response.status_code == 200 and response.get("Content-Disposition", "").startswith("attachment")
    fmt = formats[format_index]()
    kind = "xlsx" if fmt.get_title() == "xlsx" else "text"
    assert_clean(response.content, kind, payloads_expected=model._base_manager.exists())
    if kind == "text":
        header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert header and not any(bad_text(h) for h in header)


# --- the helper itself ------------------------------------------------------------------------------------


def test_a_normal_workbook_is_escaped_however_its_cells_were_written():
    from core.workbooks import Workbook

    book = Workbook(write_only=False)
    sheet = book.create_sheet("=sheet")
    sheet.append(["=1+1", 5, None])
    sheet["B2"] = "@A1"
    sheet["C3"].value = "\t=1"
    book.create_sheet("other").title = "+renamed"
    problems, seen = scan_xlsx(book.to_bytes())
    assert problems == [] and seen == 3
    assert book.titles() == ["_=sheet", "_+renamed"]


def test_a_styled_write_only_cell_is_escaped_too():
    from openpyxl.styles import Font

    from core.workbooks import Workbook

    book = Workbook()
    sheet = book.create_sheet("s")
    bold = sheet.style(font=Font(bold=True))
    sheet.append([sheet.cell("=1+1", bold), sheet.cell("-2", sheet.style(font=Font(italic=True))), sheet.cell(3, bold)])
    content = book.to_bytes()
    problems, seen = scan_xlsx(content)
    assert problems == [] and seen == 2
    cells = list(load_workbook(io.BytesIO(content)).active.iter_rows())[0]
    assert cells[0].font.bold and cells[1].font.italic and cells[2].value == 3


@given(st.text(max_size=60), st.lists(st.text(max_size=40), max_size=5))
def test_any_name_makes_a_valid_unique_sheet_title(name, used):
    from core.workbooks import sheet_title

    title = sheet_title(name, used)
    assert scan_title(title) == []
    assert title.casefold() not in {u.casefold() for u in used}
    assert title.casefold() != "history"


def test_sheet_titles_in_a_workbook_stay_unique_ignoring_case():
    from core.workbooks import Workbook

    book = Workbook()
    titles = [book.create_sheet(name).title for name in ("综采一队", "综采一队", "Sheet", "sheet", "a" * 40, "a" * 40)]
    assert len({t.casefold() for t in titles}) == len(titles)
    assert all(len(t) <= 31 for t in titles)


# --- the source: nothing but core.workbooks writes a spreadsheet -----------------------------------------

APP_PACKAGES = ("config", "demo", "certifications", "training", "core")
HELPER = "core/workbooks.py"
# openpyxl parts that cannot write a cell; the reader (core/spreadsheets.py) may also use its parser.
HARMLESS_OPENPYXL = ("openpyxl.styles", "openpyxl.utils")
READER = "core/spreadsheets.py"
READER_OPENPYXL = ("openpyxl.worksheet._reader", "openpyxl.utils", "openpyxl.reader")
WRITER_LIBRARIES = ("xlsxwriter", "xlwt", "odf", "pyexcel", "pandas", "tablib")
SHEET_NAME = re.compile(r"(^|_)(sheet|ws|worksheet)$")


def app_sources():
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and relative != HELPER:
                yield relative, path.read_text()


def _receiver_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def writer_violations(relative: str, source: str) -> list[str]:
    """Return how this module writes a spreadsheet other than through core.workbooks (empty: it does not)."""
    tree = ast.parse(source)
    found = []
    uses_helper = False
    openpyxl_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "core.workbooks":
                uses_helper = True
            allowed = HARMLESS_OPENPYXL + (READER_OPENPYXL if relative == READER else ())
            if node.module.split(".")[0] == "openpyxl" and not node.module.startswith(allowed):
                names = {a.name for a in node.names}
                if not (relative == READER and node.module == "openpyxl" and names == {"load_workbook"}):
                    found.append(f"{relative}:{node.lineno} imports {', '.join(sorted(names))} from {node.module}")
                    openpyxl_names |= names
            if node.module.split(".")[0] in WRITER_LIBRARIES:
                found.append(f"{relative}:{node.lineno} imports from {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top == "openpyxl" and not alias.name.startswith(HARMLESS_OPENPYXL):
                    found.append(f"{relative}:{node.lineno} imports {alias.name}")
                if top in WRITER_LIBRARIES and not (relative == "core/importexport.py" and top == "tablib"):
                    found.append(f"{relative}:{node.lineno} imports {alias.name}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = _receiver_name(func)
            receiver = _receiver_name(func.value) if isinstance(func, ast.Attribute) else ""
            if name in {"Workbook", "WriteOnlyCell", "Cell"} and (name in openpyxl_names or not uses_helper):
                found.append(f"{relative}:{node.lineno} creates an openpyxl {name}")
            if name == "load_workbook" and not any(
                k.arg == "read_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            ):
                found.append(f"{relative}:{node.lineno} loads a workbook it could write to")
            if receiver == "csv" and name in {"writer", "DictWriter"}:
                found.append(f"{relative}:{node.lineno} writes CSV itself")
            if name == "export" and node.args and isinstance(node.args[0], ast.Constant):
                found.append(f"{relative}:{node.lineno} exports a tablib dataset itself")
            if name in {"append", "cell"} and SHEET_NAME.search(receiver) and not uses_helper:
                found.append(f"{relative}:{node.lineno} writes to a sheet not made by core.workbooks")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                sheet = isinstance(target, ast.Subscript) and SHEET_NAME.search(_receiver_name(target.value))
                if sheet and not uses_helper:
                    found.append(f"{relative}:{node.lineno} writes to a sheet not made by core.workbooks")
                if isinstance(target, ast.Attribute) and target.attr in {"xlsx", "csv", "tsv", "xls", "ods"}:
                    found.append(f"{relative}:{node.lineno} sets a tablib export")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in {"xlsx", "csv", "tsv", "xls", "ods"}
            and isinstance(node.ctx, ast.Load)
        ):
            found.append(f"{relative}:{node.lineno} reads a tablib export ({node.attr})")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from openpyxl import Workbook\nbook = Workbook()\nbook.active.append(['=1'])\n",
        "import openpyxl\nbook = openpyxl.Workbook()\n",
        "from openpyxl.cell import WriteOnlyCell\ncell = WriteOnlyCell(None, '=1')\n",
        "def f(sheet):\n    sheet.append(['=1'])\n",
        "def f(ws):\n    ws.cell(row=1, column=1, value='=1')\n",
        "def f(worksheet):\n    worksheet['A1'] = '=1'\n",
        "import csv\ndef f(out):\n    csv.writer(out).writerow(['=1'])\n",
        "def f(dataset):\n    return dataset.export('xlsx')\n",
        "def f(dataset):\n    return dataset.xlsx\n",
        "import xlsxwriter\n",
        "from openpyxl import load_workbook\nbook = load_workbook('x.xlsx')\n",
    ],
)
def test_the_source_check_catches_a_writer_that_skips_the_helper(source):
    assert writer_violations("certifications/new_export.py", source)


def test_the_source_check_accepts_a_writer_through_the_helper():
    source = (
        "from core.workbooks import Workbook\n"
        "def f():\n    book = Workbook()\n    sheet = book.create_sheet('x')\n    sheet.append(['=1'])\n"
        "    return book.to_bytes()\n"
    )
    assert writer_violations("certifications/new_export.py", source) == []


def test_no_app_module_writes_a_spreadsheet_but_core_workbooks():
    found = [problem for relative, source in app_sources() for problem in writer_violations(relative, source)]
    assert found == []


def test_every_admin_export_format_writes_through_core_workbooks():
    import inspect

    from core import importexport

    formats = {
        fmt
        for ma in admin.site._registry.values()
        if hasattr(ma, "get_export_formats")
        for fmt in ma.get_export_formats()
    }
    assert formats
    for fmt in formats | set(importexport.EXPORT_FORMATS):
        method = fmt.export_data
        assert method.__module__ == "core.importexport", fmt
        source = inspect.getsource(method)
        assert "table_xlsx(" in source or "table_text(" in source, fmt


# Characters openpyxl refuses in a cell (XML 1.0 forbids them); \r reads back as \n, as in any XML.
UNWRITABLE = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32)]) + "\r"


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=UNWRITABLE)), max_size=6))
def test_any_text_is_written_safe_and_reads_back_as_it_was(texts):
    from core.spreadsheets import unescape_formula
    from core.workbooks import Workbook

    book = Workbook()
    sheet = book.create_sheet("s")
    sheet.append(texts)
    sheet.append([sheet.cell(text) for text in texts])
    content = book.to_bytes()
    assert scan_xlsx(content)[0] == []
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    for row in rows:
        for text, value in zip(texts, row, strict=False):
            if text:
                assert unescape_formula(value) == text or text.startswith("'")
