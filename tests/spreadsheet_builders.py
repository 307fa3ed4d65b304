"""Build small messy spreadsheets for the import tests, instead of committing binaries."""

import csv
import io

from openpyxl import Workbook


def xlsx_bytes(rows, *, merges=(), title="Sheet1", number_formats=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for ref in merges:
        sheet.merge_cells(ref)
    for ref, fmt in (number_formats or {}).items():
        sheet[ref].number_format = fmt
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, *, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
