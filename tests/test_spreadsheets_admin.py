"""The admin import/export buttons: preview, all-or-nothing confirm, permissions, private storage."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories as f
from tests.spreadsheet_builders import xlsx_bytes
from training.models import Worker

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.spreadsheets_admin_urls")]

IMPORT_URL = "/admin/training/worker/import/"
HEADER = ["Employee number", "Name", "Unit", "Personnel category", "Hire date", "Status", "Trades"]


@pytest.fixture
def crew():
    f.TradeFactory(code="T1")
    return f.UnitFactory(code="C1")


def preview(client, rows, fmt=0):
    return client.post(
        IMPORT_URL, {"format": fmt, "resource": 0, "import_file": SimpleUploadedFile("roster.xlsx", xlsx_bytes(rows))}
    )


def test_hr_previews_a_roster_then_confirms_it(hr_client, crew):
    response = preview(
        hr_client, [["花名册"], HEADER, ["E100", "赵一", "C1", "Other staff", "2020-01-01", "Active", "T1*"]]
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert [row.import_type for row in result.rows] == ["new"]
    assert not Worker.objects.filter(employee_no="E100").exists()
    confirm = response.context["confirm_form"].initial
    response = hr_client.post("/admin/training/worker/process_import/", confirm)
    assert response.status_code == 302
    assert Worker.objects.get(employee_no="E100").worker_trades.get().is_primary


def test_the_preview_shows_each_bad_row_with_its_number_and_reason(hr_client, crew):
    response = preview(
        hr_client,
        [
            HEADER,
            ["E101", "钱二", "C1", "Other staff", "2020-01-01", "Active", ""],
            ["E102", "孙三", "NOPE", "Other staff", "2020-01-01", "Active", ""],
        ],
    )
    result = response.context["result"]
    assert result.has_validation_errors() and "confirm_form" not in response.context
    assert [row.number for row in result.invalid_rows] == [3]  # the sheet's row: the header is row 1
    assert "does not exist" in response.content.decode()
    assert Worker.objects.count() == 0


def test_a_confirm_that_meets_an_invalid_row_imports_nothing(hr_client, crew):
    response = preview(hr_client, [HEADER, ["E103", "李四", "C1", "Other staff", "2020-01-01", "Active", ""]])
    confirm = response.context["confirm_form"].initial
    # The unit disappears between preview and confirm: the confirm must roll back as a whole.
    stored_key = "kuangjiang-import-" + confirm["import_file_name"]
    assert cache.get(stored_key) is not None
    f.UnitFactory(code="C2")
    from training.models import Unit

    Unit.objects.filter(code="C1").update(code="C9")
    hr_client.post("/admin/training/worker/process_import/", confirm)
    assert Worker.objects.count() == 0


def test_only_hr_may_import_but_viewers_may_export(client, crew):
    officer = f.UserFactory(role="training_officer", username="officer")
    officer.is_staff = True
    officer.save()
    client.force_login(officer)
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get("/admin/training/worker/export/").status_code == 200


def test_a_file_over_the_size_limit_is_refused(hr_client, crew, settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "UPLOAD_MAX_BYTES": 100}
    response = preview(hr_client, [HEADER])
    assert "size limit" in response.content.decode()


def test_the_changelists_carry_the_spreadsheet_buttons(hr_client, crew):
    assert "Export the training ledger" in hr_client.get("/admin/training/worker/").content.decode()
    assert "Import exam results" in hr_client.get("/admin/certifications/assessmentresult/").content.decode()


def test_a_confirmed_import_queues_fresh_dashboard_figures_and_a_refused_one_does_not(
    hr_client, crew, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("certifications.progress.figures.dashboard_figures_invalidate", lambda: queued.append(True))
    bad = preview(hr_client, [HEADER, ["E105", "周五", "NOPE", "Other staff", "2020-01-01", "Active", ""]])
    assert "confirm_form" not in bad.context
    confirm = (
        preview(hr_client, [HEADER, ["E104", "吴六", "C1", "Other staff", "2020-01-01", "Active", ""]])
        .context["confirm_form"]
        .initial
    )
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        hr_client.post("/admin/training/worker/process_import/", confirm)
    assert Worker.objects.filter(employee_no="E104").exists()
    assert queued == [True]


def test_a_confirm_that_loses_a_race_to_another_session_says_so_and_writes_nothing(hr_client, crew, monkeypatch):
    from django.contrib.messages import get_messages

    from core.importexport import PreloadedInstanceLoader

    response = preview(hr_client, [HEADER, ["E105", "周五", "C1", "Other staff", "2020-01-01", "Active", "T1*"]])
    confirm = response.context["confirm_form"].initial
    loaded = PreloadedInstanceLoader.__init__

    def loaded_then_beaten(self, *args, **kwargs):
        loaded(self, *args, **kwargs)
        # Another HR session confirms the same file after this one read the existing rows.
        f.WorkerFactory(employee_no="E105", name="周五（先到）", unit=crew)

    monkeypatch.setattr(PreloadedInstanceLoader, "__init__", loaded_then_beaten)
    response = hr_client.post("/admin/training/worker/process_import/", confirm)
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    # The winner's row is seen by the import's own unique check (one load of the stored keys, after the
    # preload), so the loser's confirm meets a row error rather than the database's IntegrityError.
    assert shown in (
        ["Nothing was imported: the file has errors. Import it again to see them row by row."],
        [
            "Nothing was imported: another import wrote the same rows a moment ago. "
            "Import the file again to see what is still to change."
        ],
    )
    # The stand-in winner wrote inside this confirm's transaction, so it is rolled back with it here; what
    # matters is that the loser wrote nothing (tests/test_concurrency.py keeps a real winner on PostgreSQL).
    assert not Worker.objects.filter(name="周五").exists()


def test_a_bad_row_is_numbered_as_in_the_sheet_listed_under_its_header_with_empty_cells_empty(hr_client, crew):
    response = preview(
        hr_client,
        [
            ["职工花名册"],  # a title row above the header
            [],
            HEADER,
            ["E101", "钱二", "C1", "Other staff", "2020-01-01", "Active", ""],
            ["E102", "孙三", "NOPE", "Other staff", "2020-01-01", "Active", ""],
        ],
    )
    row = response.context["result"].invalid_rows[0]
    assert row.number == 5
    assert list(row.field_specific_errors) == ["Unit"]
    assert None not in row.values
    html = response.content.decode()
    assert "None" not in html.split('class="import-preview"')[1]


def test_an_import_fills_the_pinyin_initials_of_new_and_renamed_workers(hr_client, crew):
    f.WorkerFactory(employee_no="E200", name="李娜", unit=crew)
    rows = [
        HEADER,
        ["E201", "徐宁敏", "C1", "Other staff", "2020-01-01", "Active", ""],
        ["E200", "欧阳娜娜", "C1", "Other staff", "2020-01-01", "Active", ""],
    ]
    confirm = preview(hr_client, rows).context["confirm_form"].initial
    assert hr_client.post("/admin/training/worker/process_import/", confirm).status_code == 302
    initials = dict(Worker.objects.values_list("employee_no", "name_initials"))
    assert initials == {"E200": "oynn", "E201": "xnm"}
