"""
Reading the spreadsheets the mine sends us, and the formula escape rule
(escape_formula; core.workbooks applies it to every cell the app writes).

Real sheets are messy (docs/domain.md §4): a title row or two above the header,
merged cells, blank rows, a signature line below the data, full-width digits,
dates written five ways and "缺考" in a score cell. The helpers here turn any
.xlsx, .xls or .csv into plain rows of values with the spreadsheet's own row
numbers, so importers only deal with meaning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import CONTROL_CHARACTERS, normalise_text

# Text starting with one of these is a formula to Excel, LibreOffice or WPS
# (a tab or carriage return hides the rest from a casual reader).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_PREFIX = "'"

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# A row containing one of these is the sign-off below the data: stop reading.
SIGNATURE_MARKERS = (
    "签字",
    "签名",
    "制表",
    "审核人",
    "审核：",
    "审核:",
    "批准",
    "盖章",
    "负责人：",
    "负责人:",
    "考评员：",
)

ABSENT_WORDS = {"缺考", "缺", "缺席", "未考", "absent"}


class SpreadsheetError(Exception):
    """A file we cannot read at all; the message is for the person who sent it."""


def escape_formula(value):
    """Return value made safe for a spreadsheet cell: text that would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return ESCAPE_PREFIX + value
    return value


def unescape_formula(value):
    """Undo escape_formula, so an exported file imports back unchanged."""
    if isinstance(value, str) and value.startswith(ESCAPE_PREFIX) and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def upload_max_bytes() -> int:
    return int(settings.KUANGJIANG.get("UPLOAD_MAX_BYTES", 20 * 1024 * 1024))


def check_size(size: int) -> None:
    """Refuse a file over the configured size limit."""
    limit = upload_max_bytes()
    if size > limit:
        raise SpreadsheetError(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files.")
            % {"size": round(size / 1024 / 1024, 1), "limit": round(limit / 1024 / 1024, 1)}
        )


def uncompressed_max_bytes() -> int:
    """Return how much an .xlsx may unpack to: UPLOAD_MAX_UNCOMPRESSED_BYTES, or 10 × the upload limit."""
    return int(settings.KUANGJIANG.get("UPLOAD_MAX_UNCOMPRESSED_BYTES", 10 * upload_max_bytes()))


def check_unpacked_size(archive: zipfile.ZipFile) -> None:
    """Refuse a zip bomb before anything is unpacked, from the sizes the archive declares.

    zipfile never unpacks more than an entry declares, so the declared sizes are enough.
    """
    if sum(info.file_size for info in archive.infolist()) > uncompressed_max_bytes():
        raise SpreadsheetError(
            _("The file unpacks to more than %(limit)s MB. Split it into smaller files.")
            % {"limit": round(uncompressed_max_bytes() / 1024 / 1024, 1)}
        )


def max_rows() -> int:
    """Return how many rows a sheet may have (SPREADSHEET_MAX_ROWS in KUANGJIANG; default 200,000)."""
    return int(settings.KUANGJIANG.get("SPREADSHEET_MAX_ROWS", 200_000))


def _too_many_rows(sheet: str) -> SpreadsheetError:
    return SpreadsheetError(
        _("The sheet “%(sheet)s” has more rows than the limit of %(limit)s. Split it into smaller files.")
        % {"sheet": sheet, "limit": f"{max_rows():,}"}
    )


def read_bytes(source, *, max_bytes: int | None = None) -> bytes:
    """Return the content of a path, an uploaded file or bytes; refuse a file over the limit before reading it whole."""
    limit = upload_max_bytes() if max_bytes is None else max_bytes
    if isinstance(source, bytes):
        data = source
    elif hasattr(source, "read"):
        if getattr(source, "size", None) is not None and source.size > limit:
            check_size(source.size)
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(limit + 1)
    else:
        try:
            with open(source, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise SpreadsheetError(_("Cannot open the file: %(reason)s") % {"reason": exc.strerror or exc}) from None
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise SpreadsheetError(
            _("The file is over the size limit of %(limit)s MB. Split it into smaller files.")
            % {"limit": round(limit / 1024 / 1024, 1)}
        )
    return data


# Files people upload by mistake, known by their first bytes: what they are, in words.
NOT_SPREADSHEETS = (
    (b"%PDF", gettext_lazy("a PDF document")),
    (b"\x89PNG", gettext_lazy("a picture (PNG)")),
    (b"\xff\xd8\xff", gettext_lazy("a picture (JPEG)")),
    (b"GIF8", gettext_lazy("a picture (GIF)")),
    (b"{\\rtf", gettext_lazy("a Word document (RTF)")),
    (b"Rar!", gettext_lazy("a RAR archive")),
    (b"7z\xbc\xaf", gettext_lazy("a 7-Zip archive")),
)


def _not_a_spreadsheet(what) -> SpreadsheetError:
    return SpreadsheetError(
        _("This file is %(what)s, not a spreadsheet. Upload the sheet itself, saved as .xlsx, .xls or .csv.")
        % {"what": what}
    )


def detect_kind(data: bytes) -> str:
    """Return "xlsx", "xls" or "csv" from the content (not the file name, which users rename)."""
    if not data:
        raise SpreadsheetError(_("The file is empty."))
    for magic, what in NOT_SPREADSHEETS:
        if data.startswith(magic):
            raise _not_a_spreadsheet(what)
    if data.startswith(XLSX_MAGIC):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError):
            return "xlsx"  # the reader says it is damaged
        if "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                raise _not_a_spreadsheet(_("a Word document"))
            if "ppt/presentation.xml" in names:
                raise _not_a_spreadsheet(_("a PowerPoint presentation"))
            if not any(name.startswith("xl/") for name in names):
                raise _not_a_spreadsheet(_("a ZIP archive"))
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        return "xls"
    return "csv"


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 with or without BOM, else GB18030 (a superset of the GBK Chinese Excel writes)."""
    if b"\x00" in data[:4096]:
        raise SpreadsheetError(_("This is not a spreadsheet: save it as .xlsx, .xls or .csv."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        control = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
        if control:
            break
        return text
    raise SpreadsheetError(_("This is not a spreadsheet: save it as .xlsx, .xls or .csv."))


# --- rows ---------------------------------------------------------------------------------------------


@dataclass
class SheetRows:
    """The rows of one worksheet: (row number as the user sees it, values)."""

    title: str
    rows: Iterator[tuple[int, list]]


def iter_sheets(data: bytes) -> Iterator[SheetRows]:
    """Yield each worksheet of the file with merged cells filled from their top-left cell."""
    kind = detect_kind(data)
    clean = False  # not known to be free of control characters: check every cell
    try:
        if kind == "xlsx":
            sheets = _xlsx_sheets(data)
        elif kind == "xls":
            sheets = _xls_sheets(data)
        else:
            text = decode_text(data)
            # One search of the whole text is cheap; only a CSV that has a control character is read cell by cell.
            clean = CONTROL_CHARACTERS.search(text) is None
            sheets = iter([SheetRows("csv", _csv_rows(text))])
        for sheet in sheets:
            rows = _capped(sheet.rows, sheet.title)
            yield SheetRows(sheet.title, _guarded(rows if clean else _without_control_characters(rows)))
    except SpreadsheetError:
        raise
    except Exception:  # noqa: BLE001 — any parser failure means the same thing to the user
        raise _damaged() from None


def _damaged() -> SpreadsheetError:
    return SpreadsheetError(
        _("The file is damaged or incomplete and cannot be read. Open it in Excel, save it again and retry.")
    )


def _guarded(rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    # Rows are parsed lazily, after the sheet has been handed over: a failure there must read the same.
    try:
        yield from rows
    except SpreadsheetError:
        raise
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise SpreadsheetError(
                _("A cell holds more than %(limit)s characters: this is not a sheet we can read.")
                % {"limit": csv.field_size_limit()}
            ) from None
        raise _damaged() from None
    except Exception:  # noqa: BLE001 — a parser failing halfway through means the same: the file is damaged
        raise _damaged() from None


def _capped(rows: Iterator[tuple[int, list]], sheet: str) -> Iterator[tuple[int, list]]:
    """
    Refuse a sheet at its first row with data past the limit, whatever the
    file declares: no importer ever holds more rows. Empty rows past it (a
    border or colour applied down to row 1,048,576, which also makes Excel
    declare that many rows) are skipped; the unpacked-size limit bounds how
    many there can be.
    """
    limit = max_rows()
    for number, values in rows:
        if number > limit:
            if any(value is not None and value != "" for value in values):
                raise _too_many_rows(sheet)
            continue
        yield number, values


def control_character_message(char: str) -> str:
    """Return the refusal for a control character, naming it as U+0000 (it has no visible form)."""
    return _(
        "It contains the control character U+%(code)s, which cannot be stored. "
        "Remove it (it is invisible: retype the value) and try again."
    ) % {"code": f"{ord(char):04X}"}


def _without_control_characters(rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    """
    Refuse a sheet at the first cell holding a control character (C0 but tab,
    newline and carriage return; DEL). PostgreSQL cannot store NUL at all, and
    none of them belongs in a name, a code or a remark. Every cell of every
    row is checked: only the start of a CSV is looked at to tell text from binary.
    """
    for number, values in rows:
        strings = [value for value in values if type(value) is str]
        if strings and CONTROL_CHARACTERS.search("".join(strings)):
            for index, value in enumerate(values):
                found = CONTROL_CHARACTERS.search(value) if isinstance(value, str) else None
                if found:
                    from openpyxl.utils.cell import get_column_letter

                    raise SpreadsheetError(
                        _("Row %(row)s, column %(column)s: %(problem)s")
                        % {
                            "row": number,
                            "column": get_column_letter(index + 1),
                            "problem": control_character_message(found.group()),
                        }
                    )
        yield number, values


def _csv_rows(text: str) -> Iterator[tuple[int, list]]:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1)


_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')


def _xlsx_sheets(data: bytes) -> Iterator[SheetRows]:
    from openpyxl import load_workbook
    from openpyxl.utils.cell import range_boundaries

    archive = zipfile.ZipFile(io.BytesIO(data))
    check_unpacked_size(archive)
    bad = archive.testzip()
    if bad is not None:
        raise SpreadsheetError(
            _("The file is damaged or incomplete and cannot be read. Open it in Excel, save it again and retry.")
        )
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for worksheet in workbook.worksheets:
            if not hasattr(worksheet, "_worksheet_path"):
                continue  # a chart sheet
            # Read-only mode ignores merged cells; their list sits after the data, so find it in the raw XML.
            xml = archive.read(worksheet._worksheet_path)
            start = xml.rfind(b"<mergeCells")
            merges = []
            if start != -1:
                merges = [range_boundaries(ref.decode()) for ref in _MERGE_RE.findall(xml, start)]
            del xml
            yield SheetRows(worksheet.title, _fill_merged(_xlsx_rows(workbook, worksheet), merges))
    finally:
        workbook.close()


def _xlsx_rows(workbook, worksheet) -> Iterator[tuple[int, list]]:
    """
    Yield (row number, values) straight from openpyxl's sheet parser. iter_rows()
    would first parse a file without a <dimension> element (openpyxl's own
    write-only output) a whole extra time to learn its size.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            worksheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            if not cells:
                continue
            values = [None] * max(cell["column"] for cell in cells)
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, values


def _numbered(rows: Iterable) -> Iterator[tuple[int, list]]:
    for number, row in enumerate(rows, 1):
        yield number, list(row)


def _xls_sheets(data: bytes) -> Iterator[SheetRows]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            merges = [(c0 + 1, r0 + 1, c1, r1) for r0, r1, c0, c1 in sheet.merged_cells]
            yield SheetRows(sheet.name, _fill_merged(_xls_rows(book, sheet), merges))
    finally:
        book.release_resources()


def _xls_rows(book, sheet) -> Iterator[tuple[int, list]]:
    import xlrd

    for r in range(sheet.nrows):
        values = []
        for cell in sheet.row(r):
            if cell.ctype == xlrd.XL_CELL_DATE:
                value = xlrd.xldate_as_datetime(cell.value, book.datemode)
                values.append(value.date() if value.time() == dt.time(0) else value)
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                values.append(None)
            elif cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
                values.append(int(cell.value))
            else:
                values.append(cell.value)
        yield r + 1, values


def _fill_merged(
    rows: Iterator[tuple[int, list]], merges: list[tuple[int, int, int, int]]
) -> Iterator[tuple[int, list]]:
    """Give every cell of a merged range the value of its top-left cell (merges: min_col, min_row, max_col, max_row)."""
    if not merges:
        yield from rows
        return
    pending = sorted(merges, key=lambda m: m[1])
    active: list[tuple[tuple[int, int, int, int], object]] = []
    for number, values in rows:
        while pending and pending[0][1] <= number:
            merge = pending.pop(0)
            if merge[1] == number:
                anchor = values[merge[0] - 1] if len(values) >= merge[0] else None
                active.append((merge, anchor))
        active = [(m, v) for m, v in active if m[3] >= number]
        for (min_col, _min_row, max_col, _max_row), anchor in active:
            if len(values) < max_col:
                values.extend([None] * (max_col - len(values)))
            for col in range(min_col - 1, max_col):
                values[col] = anchor
        yield number, values


# --- header row ----------------------------------------------------------------------------------------

_HEADER_NOISE = re.compile(r"[\s:：*（）()\[\]【】/\\._\-—]")


# What a mine's sheets call the employee number (工号); every reader that looks for the column accepts all of them.
EMPLOYEE_NUMBER_HEADERS = (
    "工号",
    "员工编号",
    "职工编号",
    "人员编号",
    "员工号",
    "职工号",
    "employee number",
    "employee no",
    "emp no",
)


def header_key(value) -> str:
    """Return a header cell reduced for matching: folded, lower-case, without spaces or punctuation."""
    return _HEADER_NOISE.sub("", normalise_text(value).lower())


def is_blank(values: list) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def is_signature(values: list) -> bool:
    """Return True for the sign-off line below the data (制表人：… 审核：… 签字)."""
    text = "".join(normalise_text(v) for v in values if v not in (None, ""))
    return any(marker in text for marker in SIGNATURE_MARKERS)


@dataclass
class Table:
    """A sheet cut down to its data: which column holds which field, and the data rows."""

    columns: dict[str, int]
    header_row: int
    rows: Iterator[tuple[int, list]]
    headers: list[str] = field(default_factory=list)
    sheet: str = ""
    above: list[list] = field(default_factory=list)  # the rows above the header (title rows), as read


def find_table(
    data: bytes, aliases: dict[str, Iterable[str]], *, required: Iterable[str] = (), scan_rows: int = 30
) -> Table:
    """
    Find the header row by matching known header names (Chinese and English) and
    return the data below it, skipping blank rows and stopping at the signature line.
    """
    wanted = {key: {header_key(a) for a in names} for key, names in aliases.items()}
    required = set(required)
    for sheet in iter_sheets(data):
        rows = iter(sheet.rows)
        scanned: list[tuple[int, list]] = []
        for number, values in rows:
            scanned.append((number, values))
            columns = _match_header(values, wanted)
            if columns and required <= columns.keys() and len(columns) >= 2:
                # A two-row header: "成绩" merged above "理论 | 实操" (merged cells were filled down).
                extra = []
                for next_number, next_values in rows:
                    sub = _match_header(next_values, wanted)
                    if set(sub) - set(columns) and not _holds_data(next_values, columns, required, sub):
                        for key, index in sub.items():
                            columns.setdefault(key, index)
                        number = next_number
                    else:
                        extra.append((next_number, next_values))
                    break
                headers = [normalise_text(v) for v in values]
                above = [row for _n, row in scanned[:-1]]
                return Table(columns, number, _data_rows(extra, rows), headers, sheet.title, above)
            if len(scanned) >= scan_rows:
                break
    # Say which columns it needs (those it cannot do without first), so the clerk can fix the header.
    needed = [*(k for k in aliases if k in required), *(k for k in aliases if k not in required)][:8]
    raise SpreadsheetError(
        _(
            "No header row found. The sheet needs a header row naming its columns, such as %(names)s "
            "(the first %(count)s are required)."
        )
        % {"names": "、".join(next(iter(aliases[k])) for k in needed), "count": len(required) or 1}
    )


def _holds_data(values: list, columns: dict[str, int], required: set[str], sub: dict[str, int]) -> bool:
    """
    Return True when a row below the header has data where the header says a required field is (an employee
    number under 工号): a data row with a cell that happens to read like a header (缺考), not a second header row.
    """
    for key in required:
        index = columns.get(key)
        if index is not None and index < len(values) and key not in sub and not is_blank([values[index]]):
            return True
    return False


def _match_header(values: list, wanted: dict[str, set[str]]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(values):
        if value is None or isinstance(value, (int, float, dt.date)):
            continue
        key = header_key(value)
        if not key:
            continue
        for name, keys in wanted.items():
            if key in keys and name not in columns:
                columns[name] = index
                break
    return columns


def _data_rows(first: list[tuple[int, list]], rest: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    for source in (first, rest):
        for number, values in source:
            if is_blank(values):
                continue
            if is_signature(values):
                return
            yield number, values


def find_header_generic(data: bytes) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """
    Return the header and data rows of a sheet whose column names are not known
    in advance: the header is the first row as wide as the table (a title row
    has one cell; the header has one per column).
    """
    for sheet in iter_sheets(data):
        rows = iter(sheet.rows)
        head: list[tuple[int, list]] = []
        for number, values in rows:
            head.append((number, values))
            if len(head) >= 30:
                break
        widths = [sum(1 for v in values if v not in (None, "")) for _n, values in head]
        if not widths or max(widths) == 0:
            continue
        widest = max(widths)
        for index, width in enumerate(widths):
            # An empty row is never the header (a blank line above a one-column sheet is not a zero-column table).
            if width and (width >= max(2, widest * 0.6) or widest == 1):
                _number, values = head[index]
                # A merged title spans the header's width with one value: not a header.
                if len({normalise_text(v) for v in values if v not in (None, "")}) == 1 and widest > 1:
                    continue
                headers = [normalise_text(v) for v in values]
                while headers and not headers[-1]:
                    headers.pop()
                return headers, _data_rows(head[index + 1 :], rows)
    raise SpreadsheetError(_("The file has no data."))


# --- values --------------------------------------------------------------------------------------------

ABSENT = object()


def parse_score(value):
    """Return a Decimal score, ABSENT for 缺考/缺, or None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(_("“%(value)s” is not a score.") % {"value": value})
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = normalise_text(value)
    if not text:
        return None
    if text.lower() in ABSENT_WORDS:
        return ABSENT
    text = text.removesuffix("分").strip()
    try:
        score = Decimal(text)
    except InvalidOperation:
        raise ValueError(
            _("“%(value)s” is not a score (write a number, or 缺考 for absent).") % {"value": text}
        ) from None
    if not score.is_finite():
        raise ValueError(_("“%(value)s” is not a score (write a number, or 缺考 for absent).") % {"value": text})
    return score


def cell_text(value) -> str:
    """Return a cell as trimmed, full-width-folded text; whole numbers lose their ".0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return normalise_text(value)
