"""
The row limit (SPREADSHEET_MAX_ROWS): a sheet with data in more rows is
refused with a message naming the limit, whatever its <dimension> declares;
empty rows past the limit (formatting applied down the sheet) are not data;
a refused import writes nothing.
"""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from certifications.spreadsheets.results import results_import
from core import spreadsheets
from core.spreadsheets import SpreadsheetError, find_header_generic, find_table
from tests import factories as f
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes, xlsx_with_sheet_xml
from tests.test_fuzz_imports import row_counts

LIMIT = 50
HEADER = ["工号", "姓名", "考核编码", "理论成绩"]


@pytest.fixture
def limit(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "SPREADSHEET_MAX_ROWS": LIMIT}
    return LIMIT


def results(count: int) -> list[list]:
    """A header and `count` - 1 result rows: `count` rows in all."""
    return [HEADER, *([f"E{n:03d}", "张三", "AT1", 90] for n in range(1, count))]


def write_only_xlsx(rows, title="成绩") -> bytes:
    """openpyxl's write-only output, which carries no <dimension>: only counting the rows finds out."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """Return the .xlsx with its sheet's <dimension> rewritten to `ref`, whatever the rows say."""

    def rewrite(xml: bytes) -> bytes:
        xml, found = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref.encode() + b'"', xml)
        assert found == 1
        return xml

    return xlsx_with_sheet_xml(data, rewrite)


def read_all(data: bytes) -> int:
    table = find_table(data, {"employee_no": ["工号"], "name": ["姓名"]}, required=("employee_no",))
    return sum(1 for _row in table.rows)


def test_the_limit_is_200_000_rows_unless_configured():
    assert spreadsheets.max_rows() == 200_000


def test_a_sheet_with_as_many_rows_as_the_limit_is_read(limit):
    assert read_all(write_only_xlsx(results(limit))) == limit - 1


@pytest.mark.parametrize("build", [write_only_xlsx, xlsx_bytes, csv_bytes], ids=["write-only xlsx", "xlsx", "csv"])
def test_a_sheet_with_one_row_more_than_the_limit_is_refused_saying_so(limit, build):
    with pytest.raises(SpreadsheetError, match="more rows than the limit of 50") as refused:
        read_all(build(results(limit + 1)))
    assert "Split it into smaller files" in str(refused.value)


def test_a_sheet_declaring_a_million_rows_with_data_in_three_is_read():
    # Excel declares every row a format reaches: the dimension is not evidence of data.
    assert read_all(with_dimension(xlsx_bytes(results(3)), "A1:XFD1048576")) == 2


def test_formatted_empty_rows_past_the_limit_are_not_data(limit):
    workbook = Workbook()
    sheet = workbook.active
    for row in results(limit):
        sheet.append(row)
    for number in range(limit + 1, limit + 40):
        sheet.cell(number, 1).number_format = "@"  # a styled cell with no value, as a border down the sheet leaves
        sheet.cell(number, 2).value = ""
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_all(buffer.getvalue()) == limit - 1


def test_data_after_empty_rows_past_the_limit_is_refused(limit):
    rows = [*results(limit), *([None] * 4 for _ in range(20)), ["E999", "李四", "AT1", 80]]
    with pytest.raises(SpreadsheetError, match="more rows than the limit of 50"):
        read_all(write_only_xlsx(rows))


def test_a_dimension_that_understates_the_rows_does_not_get_them_past_the_limit(limit):
    data = with_dimension(xlsx_bytes(results(limit + 10)), "A1:D2")
    with pytest.raises(SpreadsheetError, match="more rows than the limit of 50"):
        read_all(data)


def test_a_dimension_within_the_limit_reads_as_before(limit):
    assert read_all(with_dimension(xlsx_bytes(results(3)), "A1:D3")) == 2


@pytest.fixture
def sitting(db):
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    for n in range(1, 3 * LIMIT):
        f.WorkerFactory(employee_no=f"E{n:03d}", name="张三")


def test_the_results_import_refuses_too_many_rows_and_writes_nothing(limit, sitting):
    assert results_import(write_only_xlsx(results(limit)), dry_run=True).to_create  # the same rows, fewer, import
    before = row_counts()
    with pytest.raises(SpreadsheetError, match="limit of 50"):
        results_import(write_only_xlsx(results(limit + 1)))
    assert row_counts() == before


def test_the_admin_import_refuses_too_many_rows_with_the_message_and_writes_nothing(limit, sitting, hr_client):
    rows = [
        ["Code", "Title", "Theory hours", "Practical hours"],
        *([f"K{n:03d}", "课程", 8, 8] for n in range(1, limit + 1)),
    ]
    before = row_counts()
    response = hr_client.post(
        reverse("admin:training_course_import"),
        {"format": 0, "resource": 0, "import_file": SimpleUploadedFile("courses.xlsx", write_only_xlsx(rows))},
    )
    assert response.status_code == 200
    assert "more rows than the limit of 50" in str(response.context["form"].errors)
    assert row_counts() == before


def test_the_generic_header_reader_is_limited_too(limit):
    headers, rows = find_header_generic(csv_bytes(results(limit + 1)))
    assert headers == HEADER
    with pytest.raises(SpreadsheetError, match="limit of 50"):
        list(rows)
