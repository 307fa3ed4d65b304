"""
Database constraints in every import are row errors (issue 12, class 7).

- every CheckConstraint of both apps is checked in Python (core/constraints.py),
  and the Python answer equals the database's for any values (hypothesis);
- every CheckConstraint of every admin resource's model (and of the worker
  trades the roster import writes), violated in an import row, is a row error
  with the constraint's message (or its field's, where a validator says it
  first); none reaches the database, and no row asks the database;
- unique fields and constraints are compared with the stored rows (soft-deleted
  ones too) and the rows above, with a fixed number of queries per import.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import CheckConstraint, Q
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from core import constraints
from tests import factories as f
from tests.import_helpers import admin_resources, column, dataset_of, exported_rows, import_refused, messages_of
from tests.test_resources_roundtrip import data  # noqa: F401  (the fixture)
from training import resources as tr
from training.models import TrainingClass, TrainingPackage, Worker, WorkerTrade


def app_models():
    return [*apps.get_app_config("training").get_models(), *apps.get_app_config("certifications").get_models()]


def check_constraints(model):
    return [c for c in model._meta.constraints if isinstance(c, CheckConstraint)]


ALL_CHECKS = [(model, c) for model in app_models() for c in check_constraints(model)]


def test_every_check_constraint_is_checked_in_python_with_a_message_of_its_own():
    assert len(ALL_CHECKS) > 20
    for model, constraint in ALL_CHECKS:
        assert constraints.supported(model, constraint.condition), f"{constraint.name} would ask the database"
        assert constraint.violation_error_message, constraint.name
        assert constraint.violation_error_message != constraint.default_violation_error_message, constraint.name


def test_the_support_check_finds_a_condition_python_cannot_evaluate():
    from django.db.models.functions import Lower

    assert not constraints.supported(Worker, Q(name__icontains="x"))
    assert not constraints.supported(Worker, Q(name=Lower("employee_no")))
    assert not constraints.supported(Worker, Q(unit__code="M"))
    assert constraints.supported(Worker, Q(hire_date__gte=F_("underground_start")) | Q(unit__isnull=True))


def F_(name):
    return models.F(name)


# --- Python equals the database ------------------------------------------------------------------------


def value_strategy(field):
    if isinstance(field, models.ForeignKey):
        return st.one_of(st.none(), st.integers(1, 3))
    if isinstance(field, models.DateField):
        return st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2020, 1, 5)))
    if isinstance(field, models.DecimalField):
        return st.one_of(st.none(), st.decimals(-2, 102, places=1, allow_nan=False, allow_infinity=False))
    if isinstance(field, models.IntegerField):
        return st.one_of(st.none(), st.integers(-2, 3))
    if isinstance(field, models.BooleanField):
        return st.one_of(st.none(), st.booleans())
    if field.choices:
        return st.sampled_from([key for key, _label in field.choices] + [""])
    return st.one_of(st.none(), st.text(max_size=3))


@pytest.mark.django_db
@pytest.mark.parametrize("model, constraint", ALL_CHECKS, ids=[c.name for _m, c in ALL_CHECKS])
@given(st.data())
def test_the_python_check_agrees_with_the_database(model, constraint, data):  # noqa: F811 (hypothesis' data)
    instance = model()
    for name in constraints.referenced_fields(constraint.condition):
        field = model._meta.get_field(name)
        setattr(instance, field.attname, data.draw(value_strategy(field), label=name))
    try:
        constraint.validate(model, instance)
        database = True
    except ValidationError:
        database = False
    assert constraints.check(model, constraint, instance) is database


# --- every import row that breaks a constraint --------------------------------------------------------------

# constraint → (resource, the row to edit (field, value), the edits, the message, or None where a field says it first)
VIOLATIONS = {
    "unit_only_mine_is_root": (tr.UnitResource, ("code", "C1"), {"parent": ""}, "Only a mine can be"),
    "unit_not_own_parent": (tr.UnitResource, ("code", "C1"), {"parent": "C1"}, "below itself"),
    "worker_underground_after_hire": (
        tr.WorkerResource,
        ("employee_no", "E001"),
        {"hire_date": "2020-01-01", "underground_start": "2019-12-31"},
        "cannot start underground before the hire date",
    ),
    "worker_trade_end_after_start": (
        tr.WorkerResource,
        ("employee_no", "E001"),
        {"trades": "T1:2020-01-01~2019-01-01*"},
        "A trade cannot be left before it was taken up.",
    ),
    "course_hours_not_negative": (None, None, {"theory_hours": "-1"}, None),
    "package_course_hours_not_negative": (None, None, {"practical_hours": "-0.5"}, None),
    "class_end_after_start": (
        tr.TrainingClassResource,
        ("code", "K1"),
        {"start": "2026-09-10", "end": "2026-09-01"},
        "A class cannot end before it starts.",
    ),
    "class_capacity_positive": (tr.TrainingClassResource, ("code", "K1"), {"capacity": "0"}, None),
    "attendance_hours_not_negative": (None, None, {"theory_hours": "-1"}, None),
    "result_score_within_full_marks": (None, None, {"absent": "yes", "score": "50"}, None),
    "result_attempt_positive": (None, None, {"attempt": "0"}, None),
    "rank_record_awarded_has_date": (None, None, {"status": "awarded", "awarded_on": ""}, "needs the date"),
    "certificate_valid_after_issue": (
        None,
        ("number", "T1"),
        {"issued_on": "2026-01-01", "valid_until": "2025-12-31"},
        "A certificate cannot expire before it is issued.",
    ),
    "certificate_special_operation_named": (
        None,
        ("number", "T1"),
        {"special_operation": ""},
        "Name the special operation this certificate is for.",
    ),
}
# Models an import writes besides its own: the roster import writes the workers' trades.
ALSO_WRITES = {tr.WorkerResource: [WorkerTrade]}


def resource_constraints():
    cases = []
    for resource in admin_resources():
        for model in [resource._meta.model, *ALSO_WRITES.get(resource, [])]:
            for constraint in check_constraints(model):
                cases.append((resource, model, constraint))
    return cases


CONSTRAINT_CASES = resource_constraints()


def test_every_constraint_an_import_can_break_has_a_violating_row():
    assert {c.name for _r, _m, c in CONSTRAINT_CASES} == set(VIOLATIONS)


@pytest.fixture
def no_database_check(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a constraint was checked with a query")

    monkeypatch.setattr(Q, "check", refuse)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "resource_class, model, constraint",
    CONSTRAINT_CASES,
    ids=[f"{r.__name__}-{c.name}" for r, _m, c in CONSTRAINT_CASES],
)
def test_a_row_breaking_a_constraint_is_a_row_error_with_its_message(
    data,  # noqa: F811
    no_database_check,
    resource_class,
    model,
    constraint,
):
    _resource, pick, edits, message = VIOLATIONS[constraint.name]
    headers, rows = exported_rows(resource_class)
    if pick is None:
        row = dict(rows[0])
    else:
        row = next(r for r in rows if r[column(resource_class, pick[0])] == pick[1])
    for name, value in edits.items():
        row[column(resource_class, name)] = value
    invalid = import_refused(resource_class, headers, [row])
    errors = invalid[0].error_dict
    if message is None:
        # A field validator says it first; the constraint's fields are named.
        referenced = {model._meta.get_field(n).name for n in constraints.referenced_fields(constraint.condition)}
        assert referenced & set(errors), errors
    else:
        assert any(message in m for m in messages_of(invalid[0])), errors


@pytest.mark.django_db
def test_the_import_gives_the_message_the_admin_form_gives(data):  # noqa: F811
    klass = TrainingClass.objects.get(code="K1")
    klass.end = klass.start - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as form:
        klass.validate_constraints()  # what the admin form runs (ModelForm.validate_unique)
    headers, rows = exported_rows(tr.TrainingClassResource)
    row = dict(rows[0])
    row[column(tr.TrainingClassResource, "end")] = klass.end.isoformat()
    row[column(tr.TrainingClassResource, "start")] = klass.start.isoformat()
    invalid = import_refused(tr.TrainingClassResource, headers, [row])
    assert form.value.messages == messages_of(invalid[0])


# --- unique fields and constraints ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_package_for_a_trade_and_rank_is_a_row_error(data):  # noqa: F811
    headers, rows = exported_rows(tr.PackageResource)
    row = dict(rows[0])
    row[column(tr.PackageResource, "code")] = "P2"
    invalid = import_refused(tr.PackageResource, headers, [row])
    assert "already exists" in " ".join(messages_of(invalid[0]))
    assert not TrainingPackage.objects.filter(code="P2").exists()


@pytest.mark.django_db
def test_two_new_packages_for_one_trade_and_rank_in_one_file_name_the_earlier_row(data):  # noqa: F811
    headers, rows = exported_rows(tr.PackageResource)
    first = dict(rows[0])
    first[column(tr.PackageResource, "code")] = "P2"
    first[column(tr.PackageResource, "rank")] = "L3"
    second = dict(first)
    second[column(tr.PackageResource, "code")] = "P3"
    invalid = import_refused(tr.PackageResource, headers, [first, second])
    assert [r.number for r in invalid] == [2]
    assert "row 1 of this file" in " ".join(messages_of(invalid[0]))


@pytest.mark.django_db
def test_the_employee_number_of_a_soft_deleted_worker_is_a_row_error(data):  # noqa: F811
    from training.retention import record_soft_delete

    gone = f.WorkerFactory(employee_no="E009", name="王五")
    record_soft_delete(instance=gone, user=None, reason="left")
    headers, rows = exported_rows(tr.WorkerResource)
    row = next(r for r in rows if r[column(tr.WorkerResource, "employee_no")] == "E001")
    row = {**row, column(tr.WorkerResource, "employee_no"): "E009", column(tr.WorkerResource, "trades"): ""}
    invalid = import_refused(tr.WorkerResource, headers, [row])
    assert "already exists" in " ".join(messages_of(invalid[0]))


@pytest.mark.django_db
def test_a_trade_listed_twice_for_a_worker_is_a_row_error(data):  # noqa: F811
    headers, rows = exported_rows(tr.WorkerResource)
    row = next(r for r in rows if r[column(tr.WorkerResource, "employee_no")] == "E001")
    row = {**row, column(tr.WorkerResource, "trades"): "T1:2015-01-01*, T1:2016-01-01"}
    invalid = import_refused(tr.WorkerResource, headers, [row])
    assert "listed twice" in " ".join(messages_of(invalid[0]))


@pytest.mark.django_db
def test_constraints_cost_no_query_per_row(data):  # noqa: F811
    headers, rows = exported_rows(tr.TrainingClassResource)

    def queries(count):
        new = []
        for i in range(count):
            row = dict(rows[0])
            row[column(tr.TrainingClassResource, "code")] = f"N{i}"
            new.append(row)
        with CaptureQueriesContext(connection) as captured:
            result = tr.TrainingClassResource().import_data(dataset_of(headers, new), dry_run=True)
        assert not result.has_errors() and not result.has_validation_errors()
        return len(captured)

    assert queries(1) == queries(12)


def test_unknown_comparisons_pass_as_in_sql():
    klass = TrainingClass(start=None, end=dt.date(2026, 1, 1), capacity=None)
    assert constraints.violations(TrainingClass, klass) == []
    klass.capacity = Decimal("0")
    assert [e.messages for e in constraints.violations(TrainingClass, klass)] == [
        ["A class needs a capacity of at least 1."]
    ]
