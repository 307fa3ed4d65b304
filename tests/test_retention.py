"""
Legal retention and soft delete: records under retention are marked deleted,
never removed, and HR still sees them.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from certifications.models import AssessmentResult, Certificate, RankRecord
from core.dates import add_years
from tests.factories import (
    AttendanceFactory,
    CertificateFactory,
    RankRecordFactory,
    ResultFactory,
    TrainingClassFactory,
    UserFactory,
    WorkerFactory,
)
from training.models import Attendance, PersonnelCategory, Worker
from training.retention import (
    RetentionError,
    RetentionYears,
    record_purge,
    record_restore,
    record_retention_ends,
    record_soft_delete,
    retention_ends,
    under_retention,
)

YEARS = RetentionYears(general=3, special_operation=6)


# The rule, as a pure function.


def test_retention_counts_three_years_from_the_latest_date_of_a_record():
    ends = retention_ends(dates=[dt.date(2020, 5, 6), None, dt.date(2021, 1, 2)], special_operation=False, years=YEARS)
    assert ends == dt.date(2024, 1, 2)


def test_retention_is_six_years_for_special_operation_staff():
    assert retention_ends(dates=[dt.date(2020, 5, 6)], special_operation=True, years=YEARS) == dt.date(2026, 5, 6)


def test_a_leap_day_record_is_kept_until_the_28th_of_february():
    assert add_years(dt.date(2024, 2, 29), 3) == dt.date(2027, 2, 28)


def test_a_record_without_any_date_is_kept_for_good():
    ends = retention_ends(dates=[None], special_operation=False, years=YEARS)
    assert ends is None
    assert under_retention(ends=ends, on=dt.date(2999, 1, 1))


@given(
    day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)),
    general=st.integers(min_value=0, max_value=30),
    extra=st.integers(min_value=0, max_value=30),
)
def test_special_operation_records_are_never_kept_shorter_and_retention_ends_on_time(day, general, extra):
    years = RetentionYears(general=general, special_operation=general + extra)
    plain = retention_ends(dates=[day], special_operation=False, years=years)
    special = retention_ends(dates=[day], special_operation=True, years=years)
    assert day <= plain <= special
    assert (plain - day).days >= 365 * general - 1
    assert under_retention(ends=plain, on=plain - dt.timedelta(days=1))
    assert not under_retention(ends=plain, on=plain)


def test_the_retention_years_come_from_settings(settings, db):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RETENTION_YEARS": 10}
    attendance = AttendanceFactory(
        training_class=TrainingClassFactory(start=dt.date(2020, 3, 2), end=dt.date(2020, 3, 13))
    )
    assert record_retention_ends(attendance) == dt.date(2030, 3, 13)


@pytest.mark.django_db
def test_a_special_operation_worker_s_attendance_is_kept_six_years():
    worker = WorkerFactory(category=PersonnelCategory.SPECIAL_OPERATION)
    attendance = AttendanceFactory(
        worker=worker, training_class=TrainingClassFactory(start=dt.date(2020, 3, 2), end=dt.date(2020, 3, 13))
    )
    assert record_retention_ends(attendance) == dt.date(2026, 3, 13)


@pytest.mark.django_db
def test_a_special_operation_certificate_is_kept_six_years_after_it_expires():
    certificate = CertificateFactory(issued_on=dt.date(2017, 5, 6), valid_until=dt.date(2023, 5, 5))
    assert record_retention_ends(certificate) == dt.date(2029, 5, 5)


# Soft delete.


@pytest.mark.django_db
def test_deleting_a_result_under_retention_is_refused():
    result = ResultFactory()
    with pytest.raises(RetentionError):
        result.delete()
    with pytest.raises(RetentionError):
        AssessmentResult.objects.filter(pk=result.pk).delete()
    assert AssessmentResult.all_objects.filter(pk=result.pk).exists()


@pytest.mark.django_db
def test_a_soft_deleted_result_leaves_live_data_but_hr_still_sees_it(hr_user):
    result = ResultFactory()
    record_soft_delete(instance=result, user=hr_user, reason="entered for the wrong worker")
    assert not AssessmentResult.objects.filter(pk=result.pk).exists()
    assert not result.worker.results.exists()
    kept = AssessmentResult.all_objects.get(pk=result.pk)
    assert kept.is_deleted and kept.deleted_by == hr_user and kept.delete_reason == "entered for the wrong worker"
    assert AssessmentResult.all_objects.deleted().count() == 1


@pytest.mark.django_db
def test_history_records_who_deleted_and_why(hr_user):
    result = ResultFactory()
    record_soft_delete(instance=result, user=hr_user, reason="duplicate row")
    latest = result.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == hr_user
    assert latest.history_change_reason == "Deleted: duplicate row"
    assert latest.deleted_at is not None


@pytest.mark.django_db
def test_a_deletion_needs_a_reason(hr_user):
    result = ResultFactory()
    with pytest.raises(ValidationError):
        record_soft_delete(instance=result, user=hr_user, reason="  ")
    assert AssessmentResult.objects.filter(pk=result.pk).exists()


@pytest.mark.django_db
def test_a_record_of_a_deleted_worker_still_names_its_worker(hr_user):
    attendance = AttendanceFactory()
    record_soft_delete(instance=attendance.worker, user=hr_user, reason="duplicate worker")
    assert not Worker.objects.filter(pk=attendance.worker_id).exists()
    assert Attendance.objects.get(pk=attendance.pk).worker.employee_no == attendance.worker.employee_no


@pytest.mark.django_db
def test_an_attendance_deleted_by_mistake_can_be_entered_again(hr_user):
    attendance = AttendanceFactory()
    record_soft_delete(instance=attendance, user=hr_user, reason="wrong hours")
    again = Attendance(training_class=attendance.training_class, worker=attendance.worker, theory_hours=Decimal("8"))
    again.full_clean()
    again.save()
    assert Attendance.all_objects.filter(worker=attendance.worker).count() == 2


@pytest.mark.django_db
def test_restoring_is_refused_when_a_live_duplicate_took_its_place(hr_user):
    attendance = AttendanceFactory()
    record_soft_delete(instance=attendance, user=hr_user, reason="wrong hours")
    AttendanceFactory(training_class=attendance.training_class, worker=attendance.worker)
    with pytest.raises(ValidationError):
        record_restore(
            instance=Attendance.all_objects.get(pk=attendance.pk), user=hr_user, reason="was right after all"
        )
    assert Attendance.all_objects.get(pk=attendance.pk).is_deleted


@pytest.mark.django_db
def test_a_restored_record_is_live_again_and_history_says_why(hr_user):
    certificate = CertificateFactory()
    record_soft_delete(instance=certificate, user=hr_user, reason="wrong number")
    record_restore(instance=Certificate.all_objects.get(pk=certificate.pk), user=hr_user, reason="number was right")
    assert Certificate.objects.filter(pk=certificate.pk).exists()
    assert certificate.history.first().history_change_reason == "Restored: number was right"


@pytest.mark.django_db
def test_a_deleted_worker_s_employee_number_cannot_be_reused(hr_user):
    worker = WorkerFactory(employee_no="E900001")
    record_soft_delete(instance=worker, user=hr_user, reason="left before starting")
    twin = Worker(
        employee_no="E900001", name="李四", unit=worker.unit, category=worker.category, hire_date=worker.hire_date
    )
    with pytest.raises(ValidationError) as error:
        twin.full_clean()
    assert "employee_no" in error.value.message_dict


@pytest.mark.django_db
def test_a_soft_deleted_award_does_not_block_a_new_award(hr_user):
    record = RankRecordFactory()
    record_soft_delete(instance=record, user=hr_user, reason="awarded on the wrong trade")
    RankRecordFactory(worker=record.worker, trade=record.trade, rank=record.rank)
    assert RankRecord.objects.filter(worker=record.worker).count() == 1


@pytest.mark.django_db
def test_a_record_is_purged_only_after_it_was_deleted_and_its_retention_ended(hr_user):
    attendance = AttendanceFactory(
        training_class=TrainingClassFactory(start=dt.date(2020, 3, 2), end=dt.date(2020, 3, 13))
    )
    with time_machine.travel(dt.datetime(2023, 3, 12, 12, 0), tick=False):
        with pytest.raises(ValidationError):
            record_purge(instance=attendance, user=hr_user, reason="retention over")
        record_soft_delete(instance=attendance, user=hr_user, reason="duplicate")
        with pytest.raises(RetentionError):
            record_purge(instance=attendance, user=hr_user, reason="retention over")
    pk = attendance.pk
    with time_machine.travel(dt.datetime(2023, 3, 13, 12, 0), tick=False):
        record_purge(instance=attendance, user=hr_user, reason="retention over")
    assert not Attendance.all_objects.filter(pk=pk).exists()
    last = Attendance.history.filter(id=pk).order_by("-history_id").first()
    assert (last.history_type, last.history_change_reason) == ("-", "Purged after retention: retention over")


@pytest.mark.django_db
def test_history_rows_are_kept_with_the_user_who_changed_a_score():
    user = UserFactory()
    result = ResultFactory(score=Decimal("58"))
    from core.history import with_reason

    result.score = Decimal("62")
    with_reason(result, "re-marked after appeal", user=user).save()
    latest = result.history.first()
    assert (latest.score, latest.history_user, latest.history_change_reason) == (
        Decimal("62"),
        user,
        "re-marked after appeal",
    )
