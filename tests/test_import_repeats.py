"""
A key repeated inside one file is always a row error naming the earlier row
(issue 12, class 9): for every admin resource (found from the admin registry),
whether the earlier row equals the stored record (and so is skipped as
unchanged) or both rows are new; for the results import, however the attempt
is reached; for the roster check. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from certifications.clearance.roster import Verdict, roster_check
from certifications.models import AssessmentResult
from certifications.spreadsheets import resources as cr
from certifications.spreadsheets.results import ResultsImportError, results_import
from tests import factories as f
from tests.import_helpers import admin_resources, column, exported_rows, import_refused, messages_of
from tests.spreadsheet_builders import xlsx_bytes
from tests.test_resources_roundtrip import data  # noqa: F401  (the fixture)
from training import resources as tr
from training.models import Attendance

pytestmark = pytest.mark.django_db

# resource → (a change to a column outside the key, the change that makes the key new)
EDITS = {
    tr.UnitResource: ({"name": "新名称"}, {"code": "NEWU"}),
    tr.WorkerResource: ({"name": "赵六"}, {"employee_no": "E100"}),
    tr.CourseResource: ({"title": "新课程"}, {"code": "C900"}),
    tr.CatalogResource: ({"name": "新目录"}, {"code": "CAT9"}),
    tr.PackageResource: ({"name": "新套餐"}, {"code": "P9", "rank": "L3"}),
    tr.PackageCourseResource: ({"sort_order": "7"}, {"course": "C200"}),
    tr.TrainingClassResource: ({"name": "新班"}, {"code": "K9"}),
    tr.AttendanceResource: ({"remarks": "改"}, {"worker": "E003"}),
    cr.AssessmentResultResource: ({"remarks": "改"}, {"attempt": "5"}),
    cr.RankRecordResource: ({"certificate_no": "Y999"}, {"rank": "L3"}),
    cr.CertificateResource: ({"remarks": "改"}, {"number": "T9"}),
    cr.HonourResource: ({"remarks": "改"}, {"title": "新荣誉"}),
}


def test_every_admin_resource_is_tried():
    assert set(admin_resources()) == set(EDITS)


def edited(resource_class, row, edits):
    return {**row, **{column(resource_class, name): value for name, value in edits.items()}}


@pytest.fixture
def more(data):  # noqa: F811
    f.WorkerFactory(employee_no="E003", name="王五", unit=Attendance.objects.first().worker.unit)


@pytest.mark.parametrize("resource_class", list(EDITS), ids=[r.__name__ for r in EDITS])
@pytest.mark.parametrize("case", ["first-as-stored", "both-new"])
def test_a_key_twice_in_one_file_is_refused_naming_both_rows(more, resource_class, case):
    change, new_key = EDITS[resource_class]
    headers, rows = exported_rows(resource_class)
    stored = rows[0]
    if case == "first-as-stored":
        first, second = stored, edited(resource_class, stored, change)
    else:
        first = edited(resource_class, stored, new_key)
        second = edited(resource_class, first, change)
    invalid = import_refused(resource_class, headers, [first, second])
    assert [r.number for r in invalid] == [2]
    assert any("repeats row 1" in m for m in messages_of(invalid[0])), invalid[0].error_dict


@pytest.mark.parametrize("resource_class", list(EDITS), ids=[r.__name__ for r in EDITS])
def test_the_same_stored_row_twice_unchanged_is_refused_too(more, resource_class):
    headers, rows = exported_rows(resource_class)
    invalid = import_refused(resource_class, headers, [rows[0], rows[0]])
    assert [r.number for r in invalid] == [2]


def test_attendance_for_a_worker_twice_does_not_overwrite_the_stored_hours(more):
    stored = Attendance.objects.get(training_class__code="K1", worker__employee_no="E001")
    headers, rows = exported_rows(tr.AttendanceResource)
    row = next(r for r in rows if r[column(tr.AttendanceResource, "worker")] == "E001")
    changed = edited(tr.AttendanceResource, row, {"theory_hours": "1"})
    import_refused(tr.AttendanceResource, headers, [row, changed])
    stored.refresh_from_db()
    assert stored.theory_hours != Decimal("1")


# --- the results import ----------------------------------------------------------------------------------


@pytest.fixture
def sitting(db):
    course = f.CourseFactory(code="C100")
    assessment = f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    worker = f.WorkerFactory(employee_no="E001", name="张三")
    f.ResultFactory(assessment=assessment, worker=worker, score=Decimal("80"), attempt=1)


def test_the_results_import_refuses_a_second_row_after_one_equal_to_the_stored_result(sitting):
    sheet = xlsx_bytes(
        [["工号", "姓名", "考核编码", "理论成绩"], ["E001", "张三", "AT1", 80], ["E001", "张三", "AT1", 40]]
    )
    with pytest.raises(ResultsImportError) as refused:
        results_import(sheet)
    assert refused.value.errors[0].startswith("Row 3") and "row 2" in refused.value.errors[0]
    assert AssessmentResult.all_objects.count() == 1


def test_the_results_import_refuses_a_named_attempt_and_a_counted_one_that_meet(sitting):
    # After a failed attempt a row without an attempt number is the re-sit (after a passed one, a correction).
    AssessmentResult.objects.update(score=Decimal("30"))
    sheet = xlsx_bytes(
        [
            ["工号", "姓名", "考核编码", "理论成绩", "次数"],
            ["E001", "张三", "AT1", 50, 2],
            ["E001", "张三", "AT1", 40, ""],
        ]
    )
    with pytest.raises(ResultsImportError) as refused:
        results_import(sheet)
    assert len(refused.value.errors) == 1
    assert refused.value.errors[0].startswith("Row 3") and "row 2" in refused.value.errors[0]
    assert AssessmentResult.all_objects.count() == 1


# --- the roster check ------------------------------------------------------------------------------------


def test_the_roster_check_marks_a_repeated_row_naming_the_earlier_one(db):
    worker = f.WorkerFactory(employee_no="E001")
    trade = f.TradeFactory(code="T1")
    f.WorkerTradeFactory(worker=worker, trade=trade)
    sheet = xlsx_bytes(
        [
            ["工号", "工种", "日期"],
            ["E001", "T1", "2026-09-05"],
            ["e001", "t1", "2026/9/5"],
            ["E001", "T1", "2026-09-06"],
        ]
    )
    rows = roster_check(sheet)
    assert [r.verdict == Verdict.INVALID for r in rows] == [False, True, False]
    assert "repeats row 2" in rows[1].message
