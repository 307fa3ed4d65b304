"""Every import/export resource: export → import of the same file changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from certifications.models import AssessmentResult, Certificate, Honour, RankRecord
from certifications.spreadsheets import resources as cr
from core import importexport
from tests import factories as f
from tests.spreadsheet_builders import xlsx_bytes
from training import resources as tr
from training.models import (
    Attendance,
    Catalog,
    Course,
    PackageCourse,
    TrainingClass,
    TrainingPackage,
    Unit,
    Worker,
    WorkerTrade,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    mine = f.MineFactory()
    crew = f.UnitFactory(code="C1", name="检修班", parent=mine)
    ladder = f.make_ladder()
    trade = f.TradeFactory(code="T1")
    trade2 = f.TradeFactory(code="T2")
    so = f.SpecialOperationFactory(code="SO1")
    course = f.CourseFactory(
        code="C100", title="=cmd|' /C calc'!A0", practical_hours=Decimal("16.5"), description="井下供电"
    )
    catalog = f.CatalogFactory(code="CAT1")
    catalog.courses.add(course, f.CourseFactory(code="C200"))
    package = f.PackageFactory(code="P1", trade=trade, rank=ladder[1], catalog=catalog)
    f.PackageCourseFactory(package=package, course=course)
    worker = f.WorkerFactory(employee_no="E001", name="张三", unit=crew, underground_start=dt.date(2016, 1, 1))
    other = f.WorkerFactory(
        employee_no="E002", name="李四", unit=crew, is_team_leader=True, appointed_on=dt.date(2022, 3, 1)
    )
    f.WorkerTradeFactory(worker=worker, trade=trade)
    f.WorkerTradeFactory(
        worker=worker, trade=trade2, is_primary=False, started_on=dt.date(2019, 5, 6), ended_on=dt.date(2021, 1, 1)
    )
    klass = f.TrainingClassFactory(code="K1", course=course, organiser=crew, venue="培训中心", instructors="王工")
    f.AttendanceFactory(training_class=klass, worker=worker, remarks="-半天")
    f.AttendanceFactory(training_class=klass, worker=other, theory_hours=Decimal("7.5"))
    assessment = f.AssessmentFactory(code="A1", course=course)
    f.ResultFactory(assessment=assessment, worker=worker, score=Decimal("88.5"), remarks="补考")
    f.ResultFactory(assessment=assessment, worker=other, score=None, absent=True)
    f.RankRecordFactory(worker=worker, trade=trade, rank=ladder[0], certificate_no="Y123")
    f.CertificateFactory(
        worker=worker, number="T1", special_operation=so, remarks="@home", first_issued_on=dt.date(2017, 5, 6)
    )
    f.CertificateFactory(
        worker=other,
        kind="skill_level",
        number="S2",
        special_operation=None,
        trade=trade,
        rank=ladder[0],
        valid_until=None,
        next_review_due=None,
    )
    f.HonourFactory(worker=worker, document_no="矿发〔2025〕12号", remarks="年度")


RESOURCES = [
    (tr.UnitResource, Unit),
    (tr.WorkerResource, Worker),
    (tr.CourseResource, Course),
    (tr.CatalogResource, Catalog),
    (tr.PackageResource, TrainingPackage),
    (tr.PackageCourseResource, PackageCourse),
    (tr.TrainingClassResource, TrainingClass),
    (tr.AttendanceResource, Attendance),
    (cr.AssessmentResultResource, AssessmentResult),
    (cr.RankRecordResource, RankRecord),
    (cr.CertificateResource, Certificate),
    (cr.HonourResource, Honour),
]


def snapshot(model):
    rows = [model_to_dict(obj) for obj in model._default_manager.order_by("pk")]
    for row in rows:
        for key, value in list(row.items()):
            if isinstance(value, list):
                row[key] = sorted(getattr(v, "pk", v) for v in value)
    return rows


def as_file(resource_class, fmt):
    dataset = resource_class().export()
    return fmt().export_data(dataset)


@pytest.mark.parametrize("resource_class, model", RESOURCES, ids=[r[0].__name__ for r in RESOURCES])
@pytest.mark.parametrize("fmt", [importexport.XLSX, importexport.CSV], ids=["xlsx", "csv"])
def test_an_exported_file_imports_back_changing_nothing(data, resource_class, model, fmt):
    before = snapshot(model)
    trades_before = snapshot(WorkerTrade)
    content = as_file(resource_class, fmt)
    content = content.encode("utf-8") if isinstance(content, str) else content
    dataset = fmt().create_dataset(content)
    result = resource_class().import_data(dataset, dry_run=False, rollback_on_validation_errors=True)
    assert not result.has_errors(), [e.error for row in result.row_errors() for e in row[1]]
    assert not result.has_validation_errors(), [r.error_dict for r in result.invalid_rows]
    assert result.totals["skip"] == len(before) and result.totals["new"] == 0 and result.totals["update"] == 0
    assert snapshot(model) == before
    assert snapshot(WorkerTrade) == trades_before


def test_headers_are_human_and_ids_never_appear(data):
    dataset = tr.WorkerResource().export()
    assert dataset.headers[:3] == ["Employee number", "Name", "Unit"]
    assert dataset.dict[0]["Unit"] == "C1"
    assert "id" not in [h.lower() for h in dataset.headers]


def test_exported_text_is_escaped_and_numbers_stay_numbers(data):
    row = tr.CourseResource().export().dict[0]
    assert row["Title"] == "'=cmd|' /C calc'!A0"
    rows = tr.AttendanceResource().export().dict
    assert {r["Remarks"] for r in rows} == {"'-半天", ""}


def test_a_roster_imports_workers_with_their_trades(data):
    sheet = xlsx_bytes(
        [
            ["2026 人员花名册"],
            ["Employee number", "Name", "Unit", "Personnel category", "Team leader", "Hire date", "Status", "Trades"],
            ["E010", "王 五", "C1", "Other staff", "否", "2020年3月1日", "Active", "T2:2020-03-01*, T1"],
            ["E001", "张三", "C1", "Other staff", "No", "2015-03-01", "Active", "T1:2015-03-01*"],
        ],
        merges=["A1:H1"],
    )
    dataset = importexport.XLSX().create_dataset(sheet)
    result = tr.WorkerResource().import_data(dataset, dry_run=False, rollback_on_validation_errors=True)
    assert not result.has_errors() and not result.has_validation_errors(), [r.error_dict for r in result.invalid_rows]
    new = Worker.objects.get(employee_no="E010")
    assert new.name == "王 五" and new.hire_date == dt.date(2020, 3, 1) and new.name_pinyin
    trades = {(wt.trade.code, wt.is_primary, wt.started_on) for wt in new.worker_trades.select_related("trade")}
    assert trades == {("T2", True, dt.date(2020, 3, 1)), ("T1", False, dt.date(2020, 3, 1))}
    assert list(WorkerTrade.objects.filter(worker__employee_no="E001").values_list("trade__code", flat=True)) == ["T1"]


def test_a_bad_row_refuses_the_whole_import_with_its_row_and_reason(data):
    before = Worker.objects.count()
    dataset = importexport.XLSX().create_dataset(
        xlsx_bytes(
            [
                ["Employee number", "Name", "Unit", "Personnel category", "Hire date", "Status", "Trades"],
                ["E020", "甲", "C1", "Other staff", "2020-01-01", "Active", ""],
                ["E021", "乙", "NOPE", "Other staff", "2020-01-01", "Active", ""],
                ["E022", "丙", "C1", "Other staff", "not a date", "Active", "T404"],
            ]
        )
    )
    result = tr.WorkerResource().import_data(dataset, dry_run=False, rollback_on_validation_errors=True)
    assert result.has_validation_errors()
    errors = {row.number: str(row.error_dict) for row in result.invalid_rows}
    # Numbered as in the sheet: the header is row 1.
    assert "does not exist" in errors[3]
    assert "not a date" in errors[4] and "T404" in errors[4]
    assert Worker.objects.count() == before


def test_a_repeated_key_in_one_file_is_an_error(data):
    dataset = importexport.CSV().create_dataset(
        "课程编码,名称\n".encode()
        + b"Course code,Title,Theory hours,Practical hours,Delivery,Description,Active\nX1,a,1,1,Classroom,,Yes\nX1,b,1,1,Classroom,,Yes\n"  # noqa: E501
    )
    result = tr.CourseResource().import_data(dataset, dry_run=True)
    assert result.has_validation_errors()


def test_import_queries_do_not_grow_with_the_rows(data):
    def count(n, offset):
        rows = [["Employee number", "Name", "Unit", "Personnel category", "Hire date", "Status", "Trades"]]
        rows += [
            [f"N{offset + i:05d}", f"工人{i}", "C1", "Other staff", "2020-01-01", "Active", "T1*"] for i in range(n)
        ]
        dataset = importexport.XLSX().create_dataset(xlsx_bytes(rows))
        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: queries.append(sql) or execute(sql, params, many, context)
        ):
            result = tr.WorkerResource().import_data(dataset, dry_run=False, rollback_on_validation_errors=True)
        assert not result.has_validation_errors() and not result.has_errors()
        return sum(1 for sql in queries if not sql.lstrip().upper().startswith("INSERT"))

    assert count(3, 0) == count(40, 1000)


def test_every_admin_resource_is_checked_here():
    from django.contrib import admin

    declared = {
        resource_class
        for model_admin in admin.site._registry.values()
        for resource_class in getattr(model_admin, "resource_classes", ())
    }
    assert declared, "no admin declares an import-export resource"
    assert declared <= {resource_class for resource_class, _model in RESOURCES}, declared - {
        resource_class for resource_class, _model in RESOURCES
    }


@pytest.mark.parametrize("resource_class, model", RESOURCES, ids=[r[0].__name__ for r in RESOURCES])
def test_every_declared_column_is_filled_for_a_filled_row(data, resource_class, model):
    """A column a resource declares (姓名 beside the employee number, say) carries a value, never a blank."""
    dataset = resource_class().export()
    assert len(dataset) == model._default_manager.count() > 0
    never_filled = [header for header in dataset.headers if not any(str(row[header] or "") for row in dataset.dict)]
    assert not never_filled, f"{resource_class.__name__}: columns empty in every row: {never_filled}"


def test_the_name_column_carries_the_workers_name(data):
    for resource_class in (tr.AttendanceResource, cr.AssessmentResultResource, cr.RankRecordResource):
        names = {row["Name"] for row in resource_class().export().dict}
        assert "张三" in names, (resource_class.__name__, names)
