"""
The one place Kuangjiang writes a spreadsheet cell.

Every workbook, CSV or TSV the app hands out is written through here: the
training ledger, the roster check, the recertification forecast, the results
template and the admin exports. Text that a spreadsheet would run as a formula
(core.spreadsheets.FORMULA_TRIGGERS) gets the leading apostrophe of
escape_formula wherever it lands — a data row, a header row, a merged title
row — and a sheet title is made one Excel accepts. Nothing else in the app
creates an openpyxl Workbook or writes a cell (tests/test_export_escape.py
checks the source), so a new export cannot forget the escape.

Write-only workbooks (the default, for anything that streams) escape each row
as it is appended: rows go to disk straight away. Normal workbooks can be
written cell by cell, so they are escaped in one sweep when saved.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from decimal import Decimal

from django.utils.http import content_disposition_header
from openpyxl import Workbook as _OpenpyxlWorkbook
from openpyxl.cell import Cell as _Cell
from openpyxl.cell import WriteOnlyCell as _WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.spreadsheets import ESCAPE_PREFIX, FORMULA_TRIGGERS, escape_formula

# Values that are never text: no escape to look for.
_PLAIN = frozenset({int, float, bool, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta, type(None)})
SHEET_TITLE_MAX = 31
# Characters Excel refuses in a sheet title; control characters (a tab, a line break) too.
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
# A title may not start or end with an apostrophe; one starting like a formula gets a harmless first character.
_TITLE_LEADING = (*FORMULA_TRIGGERS, ESCAPE_PREFIX)
_RESERVED_TITLES = {"history"}  # Excel keeps this name for its change log


def escape_value(value):
    """Return a cell value that no spreadsheet runs as a formula: text starting with = + - @ tab or CR is prefixed."""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, _Cell):
        text = value._value
        if isinstance(text, str) and text.startswith(FORMULA_TRIGGERS):
            value.value = ESCAPE_PREFIX + text
    return value


def escape_row(values: Iterable) -> list:
    """Return the row with every value escaped (escape_value)."""
    return [escape_value(value) for value in values]


def sheet_title(name: object, used: Iterable[str] = ()) -> str:
    """
    Return a sheet title Excel accepts and no one mistakes for a formula: none of
    []:*?/\\ or control characters, no leading or trailing apostrophe, no leading
    = + - @, at most 31 characters, and unique (Excel compares titles ignoring case).
    """
    clean = _TITLE_FORBIDDEN.sub("_", str(name or "")).strip().rstrip(ESCAPE_PREFIX)
    if clean.startswith(_TITLE_LEADING):
        clean = "_" + clean.lstrip(ESCAPE_PREFIX)
    clean = clean[:SHEET_TITLE_MAX].rstrip(ESCAPE_PREFIX) or "Sheet"
    if clean.casefold() in _RESERVED_TITLES:
        clean += "_"
    taken = {title.casefold() for title in used}
    title, i = clean, 2
    while title.casefold() in taken:
        suffix = f" ({i})"
        title, i = clean[: SHEET_TITLE_MAX - len(suffix)] + suffix, i + 1
    return title


class Sheet:
    """
    A worksheet of a Workbook: append rows, make styled cells, and set the
    layout (freeze_panes, column_dimensions, page_setup, merged_cells, ...),
    which is passed through to openpyxl's worksheet.
    """

    __slots__ = ("_book", "_sheet", "_append")

    def __init__(self, book: Workbook, worksheet):
        object.__setattr__(self, "_book", book)
        object.__setattr__(self, "_sheet", worksheet)
        object.__setattr__(self, "_append", worksheet.append)

    def append(self, row: Sequence) -> None:
        """Write a row below the last one, every text value and cell escaped."""
        # escape_value, inlined for plain text and skipped for numbers and dates: this runs for every ledger cell.
        self._append(
            [
                (ESCAPE_PREFIX + value if value.startswith(FORMULA_TRIGGERS) else value)
                if value.__class__ is str
                else value
                if value.__class__ in _PLAIN
                else escape_value(value)
                for value in row
            ]
        )

    def cell(self, value=None, style=None):
        """
        Return a cell to append carrying value and a style array from Sheet.style(),
        copied: far cheaper than setting fonts per cell.
        """
        cell = _WriteOnlyCell(self._sheet, value)
        if style is not None:
            cell._style = copy(style)
        return cell

    def style(self, **attrs):
        """Return the style array of a cell with these attributes (font, fill, border, alignment, number_format)."""
        cell = _WriteOnlyCell(self._sheet)
        for name, attr in attrs.items():
            setattr(cell, name, attr)
        return cell._style

    def validate(self, cells: str, **options) -> None:
        """Check what may be typed into a range ("F3:F52"): openpyxl's DataValidation options (type, formula1, ...)."""
        rule = DataValidation(**options)
        rule.add(cells)
        self._sheet.add_data_validation(rule)

    @property
    def title(self) -> str:
        return self._sheet.title

    @title.setter
    def title(self, name: str) -> None:
        self._sheet.title = sheet_title(name, self._book.titles(besides=self._sheet))

    def __getattr__(self, name):
        return getattr(self._sheet, name)

    def __setattr__(self, name, value):
        if name == "title":
            object.__setattr__(self, name, value)
        else:
            setattr(self._sheet, name, value)

    def __getitem__(self, key):
        return self._sheet[key]

    def __setitem__(self, key, value):
        self._sheet[key] = value


class Workbook:
    """An openpyxl workbook whose sheets escape what is written to them (see the module docstring)."""

    def __init__(self, *, write_only: bool = True):
        self.write_only = write_only
        self._book = _OpenpyxlWorkbook(write_only=write_only)
        if not write_only:
            self._book.remove(self._book.active)  # every sheet is made by create_sheet, with a safe title

    def create_sheet(self, title: object) -> Sheet:
        """Add a sheet; the title is made valid and unique (sheet_title), so read it back from the sheet."""
        return Sheet(self, self._book.create_sheet(sheet_title(title, self.titles())))

    def titles(self, besides=None) -> list[str]:
        return [ws.title for ws in self._book.worksheets if ws is not besides]

    @property
    def sheets(self) -> list[Sheet]:
        return [Sheet(self, ws) for ws in self._book.worksheets]

    def save(self, target) -> None:
        """Write the workbook to a path or binary file."""
        if not self.write_only:
            for worksheet in self._book.worksheets:
                for cell in worksheet._cells.values():
                    escape_value(cell)
        self._book.save(target)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.save(out)
        return out.getvalue()


# --- file names --------------------------------------------------------------------------------------------

_FILENAME_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def download_filename(*parts: object, extension: str = "xlsx") -> str:
    """
    Return a download's file name: its parts (what it holds, in the active language, then the unit, the date …)
    joined by "_", with the characters no file system accepts replaced, e.g. 工种_2026-12-02.xlsx.
    """
    words = [_FILENAME_FORBIDDEN.sub("_", str(part)).strip() for part in parts if part not in (None, "")]
    return "_".join(word for word in words if word) + f".{extension}"


def attachment_header(filename: str) -> str:
    """Return the Content-Disposition of a download: ASCII as is, anything else as RFC 5987 filename*=utf-8''…"""
    return content_disposition_header(True, filename)


# --- tables: the admin exports (a header row and rows of values) ----------------------------------------

_HEADER_FONT = Font(bold=True)
_WIDTH_MAX = 60


def table_xlsx(title: object, headers: Sequence, rows: Iterable[Sequence]) -> bytes:
    """Return a one-sheet .xlsx: a bold, frozen header row and the rows, columns as wide as their text."""
    rows = [list(row) for row in rows]
    book = Workbook()
    sheet = book.create_sheet(title)
    widths = [_width(header) for header in headers]
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _width(value))
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, _WIDTH_MAX)
    sheet.freeze_panes = "A2"
    bold = sheet.style(font=_HEADER_FONT)
    sheet.append([sheet.cell(header, bold) for header in headers])
    for row in rows:
        sheet.append(row)
    return book.to_bytes()


def table_text(headers: Sequence, rows: Iterable[Sequence], *, delimiter: str = ",") -> str:
    """Return the table as CSV (or TSV with delimiter="\\t"), every value escaped."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(escape_row(headers))
    for row in rows:
        writer.writerow(escape_row(row))
    return out.getvalue()


def _width(value) -> int:
    return text_width(value)


def text_width(value) -> int:
    """Return the text's width in Latin characters: an East-Asian wide or full-width character counts two."""
    if value is None:
        return 0
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def column_widths(
    headers: Sequence, samples: Sequence[Iterable], *, minimum: int = 4, maximum: int = _WIDTH_MAX, padding: int = 2
) -> list[float]:
    """
    Return a width per column that fits its longest sample (text_width) and the
    longest word of its header (headers wrap), within minimum … maximum; text
    wider than the maximum wraps inside its cell.
    """
    widths = []
    for index, header in enumerate(headers):
        column = samples[index] if index < len(samples) else ()
        content = max((text_width(value) for value in column), default=0)
        word = max((text_width(part) for part in str(header).split()), default=0)
        widths.append(float(min(max(content, word, minimum - padding) + padding, maximum)))
    return widths


# --- printing ------------------------------------------------------------------------------------------------

# openpyxl's paper codes, and the paper's width in landscape (mm), smallest first.
PAPERS = (("A4", 9, 297.0), ("A3", 8, 420.0))
MARGIN_INCHES = 0.4
# Fit to the page width only while the text prints at this share of its size or more: 11 pt at no less than 7 pt.
MIN_PRINT_SCALE = 64


def column_mm(width: float) -> float:
    """Return how wide a column of this width (in characters of the default font) prints, in millimetres."""
    pixels = int(width * 7 + 5)  # Calibri 11: 7 pixels a character and 5 of padding, at 96 dpi
    return pixels * 25.4 / 96


def print_scale(widths: Sequence[float], paper_mm: float) -> int:
    """Return the scale (percent, at most 100) at which columns this wide fit a landscape page of this paper."""
    printable = paper_mm - 2 * MARGIN_INCHES * 25.4
    needed = sum(column_mm(width) for width in widths) or 1
    return min(100, int(100 * printable / needed))


def header_footer_text(text: object) -> str:
    """Return text for a page header or footer: a literal & doubled, within Excel's 255 characters."""
    return str(text).replace("&", "&&")[:250]


def print_setup(
    sheet: Sheet,
    *,
    widths: Sequence[float],
    title_rows: str,
    header: object = "",
    footer: object = "",
    title_columns: str | None = None,
) -> None:
    """
    Set a sheet up to print legibly: landscape, on A4 when its columns fit the
    page width at MIN_PRINT_SCALE or more, else on A3; when even A3 would shrink
    the text further, at MIN_PRINT_SCALE across several pages with
    `title_columns` repeated. Header rows repeat on every page; `header` is the
    page header (plain text) and `footer` the footer, which may hold &P and &N.
    """
    code, scale = PAPERS[0][1], 100
    for _name, paper_code, paper_mm in PAPERS:
        code, scale = paper_code, print_scale(widths, paper_mm)
        if scale >= MIN_PRINT_SCALE:
            break
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = code
    if scale >= MIN_PRINT_SCALE:
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        setup.scale = MIN_PRINT_SCALE
        sheet.sheet_properties.pageSetUpPr.fitToPage = False
        if title_columns:
            sheet.print_title_cols = title_columns
    sheet.print_title_rows = title_rows
    sheet.print_options.horizontalCentered = True
    margins = sheet.page_margins
    margins.left = margins.right = MARGIN_INCHES
    margins.top = margins.bottom = 0.6
    margins.header = margins.footer = 0.3
    if header:
        sheet.HeaderFooter.oddHeader.center.text = header_footer_text(header)
    if footer:
        # The footer's codes (&P the page, &N the pages) are kept; it is our own text, never a user's.
        sheet.HeaderFooter.oddFooter.center.text = str(footer)
