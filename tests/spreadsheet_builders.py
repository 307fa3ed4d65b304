"""Build small messy spreadsheets for the import tests, instead of committing binaries."""

import csv
import io
import zipfile

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


def xlsx_with_sheet_xml(data: bytes, change) -> bytes:
    """Return the .xlsx with its first sheet's XML passed through `change` (bytes → bytes), the rest as it was."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            target.writestr(info.filename, change(part) if info.filename == "xl/worksheets/sheet1.xml" else part)
    return out.getvalue()
