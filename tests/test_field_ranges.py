"""
Numbers and text stay inside what both databases can store and what makes sense
(issue 12, class 3). Run on PostgreSQL too:
DATABASE_URL=postgres://postgres@127.0.0.1:5432/kj_ranges pytest tests/test_field_ranges.py

- every numeric field of every model of training and certifications declares a
  min and a max validator (or choices), inside what its PostgreSQL column holds;
  every text field has a length it is checked against;
- every admin import (found from the admin registry) refuses a value one past
  either end of every numeric column's range, and text one character too long,
  with a row error, writing nothing;
- the results import refuses an attempt out of range or not whole, and remarks
  that do not fit, instead of cutting them; so does a deletion reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

from certifications.models import AssessmentResult
from certifications.spreadsheets.results import ResultsImportError, results_import
from tests import factories as f
from tests.import_helpers import admin_resources, column, exported_rows, import_refused, messages_of
from tests.spreadsheet_builders import xlsx_bytes
from tests.test_resources_roundtrip import data  # noqa: F401  (the fixture)
from training.retention import record_soft_delete

# Written by the app itself, never from a form or a file ("id" of a historical model copies the primary key).
APP_WRITTEN = {"id", "history_id", "history_change_reason", "history_type", "history_date", "evidence"}


def app_models():
    return [*apps.get_app_config("training").get_models(), *apps.get_app_config("certifications").get_models()]


def declared(field, kind):
    return [v for v in field._validators if isinstance(v, kind)]


def range_problems(fields) -> list[str]:
    """Every numeric field without a declared range inside its PostgreSQL column, every text field without a length."""
    found = []
    pg_int = BaseDatabaseOperations.integer_field_ranges
    for field in fields:
        name = f"{field.model._meta.label}.{field.name}" if hasattr(field, "model") else field.name
        if field.primary_key or field.name in APP_WRITTEN or type(field).__module__.startswith("concurrency"):
            continue
        if isinstance(field, models.ForeignKey | models.BooleanField | models.DateField | models.JSONField):
            continue
        if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
            if field.choices:
                continue
            lows = [v.limit_value for v in declared(field, MinValueValidator)]
            highs = [v.limit_value for v in declared(field, MaxValueValidator)]
            if not lows or not highs:
                found.append(f"{name}: no declared min and max")
                continue
            if isinstance(field, models.IntegerField):
                column_low, column_high = pg_int[field.get_internal_type()]
            elif isinstance(field, models.DecimalField):
                column_high = (
                    Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places
                )
                column_low = -column_high
            else:
                continue
            if max(lows) < column_low or min(highs) > column_high:
                found.append(
                    f"{name}: range {max(lows)}..{min(highs)} is wider than the column {column_low}..{column_high}"
                )
        elif isinstance(field, models.CharField):
            if not field.max_length or not any(isinstance(v, MaxLengthValidator) for v in field.validators):
                found.append(f"{name}: no length")
        elif isinstance(field, models.TextField) and not declared(field, MaxLengthValidator):
            found.append(f"{name}: no declared length")
    return found


def test_every_number_and_text_of_every_model_has_a_range_both_databases_hold():
    fields = [field for model in app_models() for field in model._meta.concrete_fields]
    assert len(fields) > 200  # the historical models are walked too
    assert range_problems(fields) == []


def test_the_range_meta_test_finds_an_unbounded_or_too_wide_field():
    class Probe(models.Model):  # noqa: DJ008
        attempts = models.PositiveSmallIntegerField()
        half = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
        wide = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(70000)])
        hours = models.DecimalField(max_digits=4, decimal_places=1, validators=[MinValueValidator(0)])
        money = models.DecimalField(
            max_digits=4, decimal_places=1, validators=[MinValueValidator(0), MaxValueValidator(1000)]
        )
        notes = models.TextField()
        fine = models.SmallIntegerField(validators=[MinValueValidator(-5), MaxValueValidator(5)])
        level = models.PositiveSmallIntegerField(choices=[(1, "one")])

        class Meta:
            app_label = "tests"

    found = range_problems(Probe._meta.concrete_fields)
    assert [line.split(":")[0] for line in found] == [
        "tests.Probe.attempts",
        "tests.Probe.half",
        "tests.Probe.wide",
        "tests.Probe.hours",
        "tests.Probe.money",
        "tests.Probe.notes",
    ]


# --- every admin import: one past the range is a row error ---------------------------------------------


def past_range(model_field) -> list[tuple[str, str]]:
    """(label, cell text) just outside the field's range, at each end."""
    if isinstance(model_field, models.IntegerField | models.DecimalField):
        step = Decimal(10) ** -model_field.decimal_places if isinstance(model_field, models.DecimalField) else 1
        low = max(v.limit_value for v in declared(model_field, MinValueValidator))
        high = min(v.limit_value for v in declared(model_field, MaxValueValidator))
        return [("below", str(Decimal(low) - step)), ("above", str(Decimal(high) + step))]
    if isinstance(model_field, models.CharField | models.TextField):
        limit = model_field.max_length or max(v.limit_value for v in declared(model_field, MaxLengthValidator))
        return [("too long", "长" * (limit + 1))]
    return []


def bounded_columns():
    cases = []
    for resource_class in admin_resources():
        model = resource_class._meta.model
        concrete = {f.name: f for f in model._meta.concrete_fields}
        for name, field in resource_class().fields.items():
            model_field = concrete.get(field.attribute)
            if (
                model_field is None
                or field.readonly
                or model_field.choices
                or isinstance(model_field, models.ForeignKey)
            ):
                continue
            for label, value in past_range(model_field):
                cases.append(pytest.param(resource_class, name, value, id=f"{resource_class.__name__}-{name}-{label}"))
    return cases


CASES = bounded_columns()


def test_the_cases_cover_every_bounded_column():
    names = {c.id for c in CASES}
    for expected in (
        "AssessmentResultResource-attempt-above",
        "AttendanceResource-theory_hours-above",
        "TrainingClassResource-capacity-below",
        "AttendanceResource-remarks-too long",
        "CourseResource-description-too long",
        "UnitResource-sort_order-above",
    ):
        assert expected in names
    assert len(CASES) > 40


@pytest.mark.django_db
@pytest.mark.parametrize("resource_class, name, value", CASES)
def test_every_admin_import_refuses_a_value_one_past_its_range(data, resource_class, name, value):  # noqa: F811
    headers, rows = exported_rows(resource_class)
    assert rows, f"the fixture has a {resource_class._meta.model.__name__} to edit"
    row = dict(rows[0])
    row[column(resource_class, name)] = value
    invalid = import_refused(resource_class, headers, [row])
    assert [r.number for r in invalid] == [1]
    assert messages_of(invalid[0])


# --- the results import ---------------------------------------------------------------------------------


@pytest.fixture
def sitting(db):
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    f.WorkerFactory(employee_no="E001", name="张三")


def results_sheet(attempt="", remarks="", examiner=""):
    return xlsx_bytes(
        [
            ["工号", "姓名", "考核编码", "理论成绩", "次数", "备注", "考评员"],
            ["E001", "张三", "AT1", 80, attempt, remarks, examiner],
        ]
    )


@pytest.mark.parametrize(
    "attempt, fragment",
    [
        ("100", "1 to 99"),
        ("70000", "1 to 99"),
        ("0", "1 to 99"),
        ("1.5", "1 to 99"),
        ("1e9", "1 to 99"),
        ("inf", "1 to 99"),
    ],
)
def test_the_results_import_refuses_an_attempt_outside_its_range(sitting, attempt, fragment):
    with pytest.raises(ResultsImportError) as refused:
        results_import(results_sheet(attempt=attempt))
    assert fragment in refused.value.errors[0] and "Row 2" in refused.value.errors[0]
    assert not AssessmentResult.all_objects.exists()


def test_the_results_import_stores_the_last_attempt_in_range(sitting):
    results_import(results_sheet(attempt="99"))
    assert AssessmentResult.objects.get().attempt == 99
    # After a failed 99th attempt a row without an attempt number would be the 100th (after a passed one, a correction).
    AssessmentResult.objects.update(score=40)
    with pytest.raises(ResultsImportError, match="every attempt"):
        results_import(xlsx_bytes([["工号", "姓名", "考核编码", "理论成绩"], ["E001", "张三", "AT1", 70]]))
    assert AssessmentResult.objects.count() == 1


@pytest.mark.parametrize(
    "remarks, examiner, accepted",
    [("长" * 200, "", True), ("长" * 201, "", False), ("长" * 190, "外聘考评员王五", False)],
)
def test_the_results_import_refuses_remarks_that_do_not_fit_instead_of_cutting_them(
    sitting, remarks, examiner, accepted
):
    if accepted:
        results_import(results_sheet(remarks=remarks, examiner=examiner))
        assert AssessmentResult.objects.get().remarks == remarks
        return
    with pytest.raises(ResultsImportError, match="at most 200 fit"):
        results_import(results_sheet(remarks=remarks, examiner=examiner))
    assert not AssessmentResult.all_objects.exists()


@pytest.mark.django_db
def test_a_deletion_reason_that_does_not_fit_is_refused_not_cut():
    from django.core.exceptions import ValidationError

    result = f.ResultFactory()
    with pytest.raises(ValidationError, match="at most 300"):
        record_soft_delete(instance=result, user=None, reason="长" * 301)
    result.refresh_from_db()
    assert result.deleted_at is None
    record_soft_delete(instance=result, user=None, reason="长" * 300)
    result.refresh_from_db()
    assert result.delete_reason == "长" * 300


@pytest.mark.django_db
def test_a_review_reason_longer_than_its_field_is_marked_and_kept_whole_on_the_history():
    from certifications.ranks.services import _flag_dependent_records

    record = f.RankRecordFactory(evidence={"results": [7]})
    reason = "成绩更正：" + "长" * 400
    _flag_dependent_records(worker_id=record.worker_id, kind="results", pk=7, reason=reason)
    record.refresh_from_db()
    assert record.needs_review
    assert len(record.review_reason) == 300 and record.review_reason.endswith("…")
    assert record.history.latest().history_change_reason == reason
