"""
The results import losing a race on SQLite, made deterministic: the same sheet is written by another
import between this import's check and its write. The loser gets a message naming who imported the
results, writes nothing more, and the data is that of one import.
(tests/test_concurrency.py runs the real race on PostgreSQL.)
"""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from certifications.models import AssessmentResult
from certifications.spreadsheets import results as results_module
from certifications.spreadsheets.results import ResultsAlreadyImported, results_import
from tests import factories as f
from tests.spreadsheet_builders import xlsx_bytes

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 9, 5)


@pytest.fixture
def sheet(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=DAY)
    f.AssessmentFactory(code="AP1", course=course, kind="practical", held_on=DAY)
    unit = f.UnitFactory(code="U1")
    for no, name in (("E001", "张三"), ("E002", "李四")):
        f.WorkerFactory(employee_no=no, name=name, unit=unit)
    return xlsx_bytes(
        [
            ["工号", "姓名", "课程", "理论成绩", "实操成绩", "考试日期"],
            ["E001", "张三", "C100", 85, 90, DAY],
            ["E002", "李四", "C100", 70, 65, DAY],
        ]
    )


@pytest.fixture
def winner_first(monkeypatch):
    """Make the next import's parse be followed, before its write, by a whole import of the same file by `winner`."""
    original = results_module.results_parse

    def arm(winner):
        def parse_then_lose(source, *, user=None):
            outcome = original(source, user=user)
            monkeypatch.setattr(results_module, "results_parse", original)
            results_import(source, user=winner, filename="winner.xlsx")
            return outcome

        monkeypatch.setattr(results_module, "results_parse", parse_then_lose)

    return arm


def scores():
    return sorted(AssessmentResult.objects.values_list("worker__employee_no", "assessment__kind", "score", "attempt"))


EXPECTED = [
    ("E001", "practical", 90, 1),
    ("E001", "theory", 85, 1),
    ("E002", "practical", 65, 1),
    ("E002", "theory", 70, 1),
]


def test_the_loser_of_a_race_is_told_who_imported_the_results_and_writes_nothing(sheet, winner_first):
    winner = f.UserFactory(username="hr-wang", first_name="王", last_name="芳")
    winner_first(winner)
    with pytest.raises(ResultsAlreadyImported) as raised:
        results_import(sheet, user=f.UserFactory(username="hr-li"), filename="loser.xlsx")
    message = str(raised.value)
    assert "imported a moment ago by" in message and "nothing more was written" in message
    assert winner.get_full_name() in message
    assert scores() == EXPECTED
    assert set(AssessmentResult.objects.values_list("recorded_by__username", flat=True)) == {"hr-wang"}
    # One "created" history row per result: the loser's rolled-back savepoint left none behind.
    assert AssessmentResult.history.filter(history_type="+").count() == 4


def test_a_winner_from_the_command_line_is_named_as_such(sheet, winner_first):
    winner_first(None)
    with pytest.raises(ResultsAlreadyImported, match="an import from the command line"):
        results_import(sheet, user=f.UserFactory(username="hr-li"))
    assert scores() == EXPECTED


def test_a_second_import_after_the_first_has_nothing_to_write(sheet):
    results_import(sheet, filename="first.xlsx")
    assert results_import(sheet).to_create == []
    assert scores() == EXPECTED


def test_the_confirm_page_shows_the_message_and_redirects(hr_client, sheet, winner_first):
    response = hr_client.post(
        reverse("certifications:results-import"), {"file": SimpleUploadedFile("results.xlsx", sheet)}
    )
    token = response.context["token"]
    winner_first(f.UserFactory(username="hr-wang", first_name="王", last_name="芳"))
    response = hr_client.post(reverse("certifications:results-import"), {"token": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:certifications_assessmentresult_changelist")
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1
    assert "These results were imported a moment ago by 王 芳" in shown[0]
    assert "nothing more was written" in shown[0]
    assert scores() == EXPECTED


def test_the_command_exits_with_the_message_not_a_traceback(sheet, winner_first, tmp_path):
    path = tmp_path / "results.xlsx"
    path.write_bytes(sheet)
    winner_first(f.UserFactory(username="hr-wang"))
    with pytest.raises(CommandError, match="imported a moment ago by hr-wang"):
        call_command("import_results", str(path), stdout=StringIO(), stderr=StringIO())
    assert scores() == EXPECTED


def test_an_integrity_error_that_is_not_the_race_is_not_disguised(sheet, monkeypatch):
    def broken(*args, **kwargs):
        raise IntegrityError("something else")

    monkeypatch.setattr(results_module, "results_create_many", broken)
    with pytest.raises(IntegrityError, match="something else"):
        results_import(sheet)
