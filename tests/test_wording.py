"""Messages that tell a person what happened and what to do next (issue 14, "wording")."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.spreadsheets import SpreadsheetError, detect_kind
from tests import factories as f
from tests.spreadsheet_builders import xlsx_bytes
from training.models import Worker


def zip_with(*names) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a picture (PNG)"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a picture (JPEG)"),
        (zip_with("word/document.xml", "[Content_Types].xml"), "a Word document"),
        (zip_with("ppt/presentation.xml"), "a PowerPoint presentation"),
        (zip_with("photos/1.jpg"), "a ZIP archive"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_named_for_what_it_is(data, what):
    with pytest.raises(SpreadsheetError) as caught:
        detect_kind(data)
    assert str(caught.value) == (
        f"This file is {what}, not a spreadsheet. Upload the sheet itself, saved as .xlsx, .xls or .csv."
    )


def test_a_real_workbook_is_still_a_workbook():
    assert detect_kind(xlsx_bytes([["工号", "姓名"], ["E1", "张三"]])) == "xlsx"


@pytest.mark.django_db
@pytest.mark.urls("tests.spreadsheets_admin_urls")
def test_a_roster_without_its_key_column_says_which_columns_it_needs_and_keeps_the_database(hr_client):
    f.UnitFactory(code="C1")
    before = Worker.objects.count()
    hr_client.cookies["django_language"] = "zh-hans"
    response = hr_client.post(
        "/admin/training/worker/import/",
        {
            "format": 0,
            "resource": 0,
            "import_file": SimpleUploadedFile("花名册.xlsx", xlsx_bytes([["姓名", "单位"], ["赵一", "C1"]])),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "表格缺少“工号”列" in html
    assert "表头行须包含以下列：工号、姓名" in html
    assert "Traceback" not in html and 'class="traceback"' not in html
    assert Worker.objects.count() == before


@pytest.mark.django_db
def test_the_due_filter_offers_all_due_and_none_not_unknown(hr_client):
    mine = f.MineFactory()
    hr_client.cookies["django_language"] = "zh-hans"
    html = hr_client.get(reverse("certifications:unit-detail", args=[mine.code])).content.decode()
    select = html.split('name="due"')[1].split("</select>")[0]
    assert "未知" not in select
    assert "全部职工" in select and "到期或已逾期" in select and "无到期证书" in select


@pytest.mark.django_db
def test_the_worker_form_shows_absent_as_a_word_not_a_red_cross_on_every_result(client):
    user = f.UserFactory(username="root2", is_staff=True, is_superuser=True)
    client.force_login(user)
    worker = f.WorkerFactory()
    f.ResultFactory(worker=worker, score=None, absent=True)
    f.ResultFactory(worker=worker)
    html = client.get(reverse("admin:training_worker_change", args=[worker.pk])).content.decode()
    assert "Absent" in html
    assert "icon-no.svg" not in html
