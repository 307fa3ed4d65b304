"""The admin pages for the results import and the background ledger export."""

import datetime as dt
import io
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from certifications.models import AssessmentResult
from tests import factories as f
from tests.spreadsheet_builders import xlsx_bytes
from training.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sitting(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    mine = f.MineFactory()
    dept = f.UnitFactory(code="D1", name="综采一队", kind=Unit.Kind.PRODUCTION_TEAM, parent=mine)
    f.UnitFactory(code="D2", name="机电科", kind=Unit.Kind.OFFICE, parent=mine)
    f.WorkerFactory(employee_no="E001", name="张三", unit=dept)
    return {"dept": dept}


def upload(client, rows, name="results.xlsx"):
    return client.post(reverse("certifications:results-import"), {"file": SimpleUploadedFile(name, xlsx_bytes(rows))})


def test_hr_previews_then_confirms_an_exam_sheet(hr_client, sitting):
    response = upload(
        hr_client,
        [["成绩单"], ["工号", "姓名", "课程", "理论成绩", "日期"], ["E001", "张三", "C100", "９０", "2026年9月5日"]],
    )
    assert response.status_code == 200
    assert response.context["outcome"].rows[0].state == "new"
    assert AssessmentResult.objects.count() == 0
    response = hr_client.post(reverse("certifications:results-import"), {"token": response.context["token"]})
    assert response.status_code == 302
    assert AssessmentResult.objects.get().score == 90


def test_the_preview_lists_bad_rows_and_offers_no_confirm(hr_client, sitting):
    response = upload(
        hr_client, [["工号", "姓名", "课程", "理论成绩", "日期"], ["E404", "某", "C100", 90, "2026-09-05"]]
    )
    assert "Row 2: employee number E404 does not exist." in response.content.decode()
    assert "token" not in response.context or not response.context["token"]
    assert AssessmentResult.objects.count() == 0


def test_a_file_that_is_not_a_spreadsheet_gets_one_clear_message(hr_client, sitting):
    response = hr_client.post(
        reverse("certifications:results-import"), {"file": SimpleUploadedFile("x.xlsx", b"\x00\x01garbage")}
    )
    assert "not a spreadsheet" in response.content.decode()


def test_only_hr_may_import_results(client, sitting):
    client.force_login(f.UserFactory(role="training_officer"))
    assert upload(client, [["工号"]]).status_code == 403


def test_a_confirm_token_belongs_to_the_user_who_uploaded(hr_client, client, sitting):
    token = upload(
        hr_client, [["工号", "姓名", "课程", "理论成绩", "日期"], ["E001", "张三", "C100", 90, "2026-09-05"]]
    ).context["token"]
    other = f.UserFactory(username="hr2", role="training_department")
    client.force_login(other)
    client.post(reverse("certifications:results-import"), {"token": token})
    assert AssessmentResult.objects.count() == 0


def test_hr_starts_the_ledger_export_and_downloads_it(hr_client, sitting):
    response = hr_client.post(reverse("certifications:ledger-export"), {"year": "2026"})
    assert response.status_code == 302
    progress = hr_client.get(response.url + "?format=json").json()
    assert progress["state"] == "done" and progress["download"]
    page = hr_client.get(response.url)
    assert b"<progress" in page.content
    download = hr_client.get(progress["download"])
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert "技能矩阵" in book.sheetnames
    # The mine's name and the year, as RFC 5987 UTF-8 so every browser keeps the Chinese.
    expected = quote("培训台账_示范煤矿_2026.xlsx")
    assert download["Content-Disposition"] == f"attachment; filename*=utf-8''{expected}"


def test_a_unit_ledger_download_is_named_after_the_unit_and_year(client, sitting):
    leader = f.UserFactory(role="crew_leader")
    f.WorkerFactory(employee_no="L1", unit=sitting["dept"], is_team_leader=True, user=leader)
    client.force_login(leader)
    url = client.post(reverse("certifications:ledger-export"), {"unit": "D1", "year": "2026"}).url
    download = client.get(client.get(url + "?format=json").json()["download"])
    name = sitting["dept"].name
    assert download["Content-Disposition"].endswith(quote(f"培训台账_{name}_2026.xlsx"))


def test_only_the_user_who_started_an_export_may_see_or_download_it(hr_client, client, sitting):
    url = hr_client.post(reverse("certifications:ledger-export")).url
    client.force_login(f.UserFactory(username="hr3", role="training_department"))
    assert client.get(url).status_code == 404
    assert client.get(url + "download/").status_code == 404


def test_a_crew_leader_cannot_export_another_unit(client, sitting):
    leader = f.UserFactory(role="crew_leader")
    f.WorkerFactory(employee_no="L1", unit=sitting["dept"], is_team_leader=True, user=leader)
    client.force_login(leader)
    assert client.post(reverse("certifications:ledger-export"), {"unit": "D2"}).status_code == 404
    url = client.post(reverse("certifications:ledger-export"), {"unit": "D1"}).url
    assert client.get(url + "?format=json").json()["state"] == "done"


def test_a_confirmed_upload_is_recorded_in_the_history_under_the_user_and_file_name(hr_client, hr_user, sitting):
    token = upload(
        hr_client,
        [["工号", "姓名", "课程", "理论成绩", "日期"], ["E001", "张三", "C100", 90, "2026-09-05"]],
        name="九月.xlsx",
    ).context["token"]
    hr_client.post(reverse("certifications:results-import"), {"token": token})
    history = AssessmentResult.history.get()
    assert (history.history_user_id, history.history_change_reason) == (hr_user.pk, "import 九月.xlsx")
