"""
The results sheet of an appraisal sitting: its roster, pre-filled, with a
title row naming the sitting (its code is what ties the upload back to it),
one row per candidate and the theory and practical scores to fill in. The
results import (certifications/spreadsheets/results.py) reads it back.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from certifications.models import Sitting
from certifications.sittings.selectors import ABSENT, roster_lines
from core.workbooks import Workbook

# The word a score cell takes for a candidate who did not come (core.spreadsheets.ABSENT_WORDS reads it).
ABSENT_WORD = "缺考"
# Rows below the roster with the same checks, for candidates added on the day.
SPARE_ROWS = 20
TITLE_ROWS = 1
WIDTHS = (12, 10, 16, 16, 10, 11, 11, 8, 8, 16)


def sheet_columns() -> list[str]:
    """Return the header of the results sheet, in the user's language (the import reads both languages)."""
    return [
        _("Employee number"),
        _("Name"),
        _("Unit"),
        _("Trade"),
        pgettext("results sheet column", "Rank"),
        _("Theory score"),
        _("Practical score"),
        _("Absent"),
        _("Re-sit"),
        _("Appraisal sitting"),
    ]


def sitting_title(sitting: Sitting) -> str:
    """Return the title row: the sitting's code (set apart by spaces, for the import), name and exam days."""
    parts = [_("Appraisal sitting %(code)s") % {"code": sitting.code}, sitting.name]
    if sitting.theory_on:
        parts.append(_("theory exam %(date)s") % {"date": sitting.theory_on.isoformat()})
    if sitting.practical_on:
        parts.append(_("practical exam %(date)s") % {"date": sitting.practical_on.isoformat()})
    return " · ".join(parts)


def sitting_sheet_filename(sitting: Sitting) -> str:
    """Return the download's file name: the sitting's name and its first exam day."""
    days = [d for d in (sitting.theory_on, sitting.practical_on) if d is not None]
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", sitting.name).strip("_") or sitting.code
    day = min(days).isoformat() if days else ""
    return f"{name}_{day}.xlsx" if day else f"{name}.xlsx"


def _shown(value):
    if value == ABSENT:
        return ABSENT_WORD
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _marks(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def sitting_sheet_xlsx(sitting: Sitting, *, unit_ids: set[int] | None = None) -> bytes:
    """Return the results sheet of a sitting (of the given units' candidates only, when given) as .xlsx bytes."""
    lines = roster_lines(sitting=sitting, unit_ids=unit_ids)
    book = Workbook(write_only=False)
    sheet = book.create_sheet(sitting.code or _("Results"))
    headers = sheet_columns()
    last_column = get_column_letter(len(headers))

    sheet.append([sitting_title(sitting)])
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 28

    bold = sheet.style(
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="DDEBF7"),
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
    )
    sheet.append([sheet.cell(header, bold) for header in headers])
    yes = _("Yes")
    for line in lines:
        sheet.append(
            [
                line.employee_no,
                line.name,
                line.unit,
                line.trade,
                line.rank,
                _shown(line.theory),
                _shown(line.practical),
                None,
                yes if line.resit else None,
                sitting.code,
            ]
        )
    for index, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width

    first = TITLE_ROWS + 2
    last = first + len(lines) + SPARE_ROWS - 1
    for column, kind in (("F", "theory"), ("G", "practical")):
        if getattr(sitting, f"{kind}_on") is None:
            continue  # no such exam in this sitting: the column stays unchecked, and the import refuses a score in it
        full = getattr(sitting, f"{kind}_full_marks")
        cell = f"{column}{first}"
        sheet.validate(
            f"{column}{first}:{column}{last}",
            type="custom",
            formula1=f'OR(AND(ISNUMBER({cell}),{cell}>=0,{cell}<={_marks(full)}),{cell}="{ABSENT_WORD}")',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("Not a score"),
            error=_("Write a score from 0 to %(full)s, or %(absent)s.") % {"full": _marks(full), "absent": ABSENT_WORD},
        )
    for column in ("H", "I"):
        sheet.validate(
            f"{column}{first}:{column}{last}",
            type="list",
            formula1=f'"{yes}"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("Yes or empty"),
            error=_("Write %(yes)s, or leave the cell empty.") % {"yes": yes},
        )

    sheet.freeze_panes = f"C{first}"
    sheet.print_title_rows = f"1:{TITLE_ROWS + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.print_options.gridLines = True
    sheet.oddHeader.center.text = sitting.code
    sheet.oddFooter.center.text = _("Page &P of &N")
    return book.to_bytes()
