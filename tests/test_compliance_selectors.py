"""Loading facts from the database and asking who is cleared, for one worker or a whole unit."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from certifications.clearance import facts as compliance
from certifications.models import Certificate
from tests.compliance_builders import TODAY, annual_hours, cleared_electrician, electrician_trade
from tests.factories import (
    AssessmentFactory,
    AttendanceFactory,
    CertificateReviewFactory,
    MentorshipFactory,
    ResultFactory,
    TrainingClassFactory,
    UnitFactory,
    WorkerFactory,
    WorkerTradeFactory,
)
from training import models as tr

pytestmark = pytest.mark.django_db


@pytest.fixture
def trade_op():
    return electrician_trade()


def test_a_worker_with_certificate_and_hours_is_cleared_until_the_review_due_date(trade_op):
    trade, op = trade_op
    worker = cleared_electrician(trade, op)
    verdict = compliance.cleared(worker=worker, trade=trade, on=TODAY)
    assert verdict.cleared, verdict.reasons
    assert verdict.lapses_on == dt.date(2026, 5, 5)


def test_a_passed_review_record_moves_the_due_date_without_editing_the_certificate(trade_op):
    trade, op = trade_op
    worker = cleared_electrician(trade, op)
    certificate = worker.certificates.get()
    CertificateReviewFactory(certificate=certificate, reviewed_on=dt.date(2026, 4, 1))
    verdict = compliance.cleared(worker=worker, trade=trade, on=dt.date(2026, 6, 1))
    assert verdict.cleared
    assert verdict.lapses_on == dt.date(2026, 12, 31)  # this year's hours now come first
    assert any(d.due_on == dt.date(2029, 5, 5) and d.kind == "expiry" for d in verdict.deadlines)
    certificate.refresh_from_db()
    assert certificate.next_review_due == dt.date(2026, 5, 5)


def test_the_rule_numbers_come_from_the_compliance_rule_table(trade_op):
    from certifications.models import ComplianceRule

    trade, op = trade_op
    worker = cleared_electrician(trade, op)
    ComplianceRule.objects.create(name="stricter", effective_from=dt.date(2020, 1, 1), annual_hours=Decimal("24"))
    verdict = compliance.cleared(worker=worker, trade=trade, on=TODAY)
    assert [r.code for r in verdict.reasons] == ["annual_hours"]
    assert "20 of 24" in verdict.reasons[0].message


def test_hours_of_partial_classes_are_summed_from_attendance(trade_op):
    trade, op = trade_op
    worker = cleared_electrician(trade, op, hours=False)
    annual_hours(worker, 2025, Decimal("12"))
    assert not compliance.cleared(worker=worker, trade=trade, on=TODAY).cleared
    klass = TrainingClassFactory(
        kind=tr.TrainingClass.Kind.ANNUAL, start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 2)
    )
    AttendanceFactory(training_class=klass, worker=worker, theory_hours=Decimal("4"), practical_hours=Decimal("4"))
    assert compliance.cleared(worker=worker, trade=trade, on=TODAY).cleared


def test_mentoring_sign_off_gates_a_new_underground_worker(trade_op):
    trade = tr.Trade.objects.create(
        code="T-SUP", name="液压支架工", discipline="production", category="other", underground=True
    )
    worker = WorkerFactory(hire_date=dt.date(2025, 12, 1), underground_start=dt.date(2026, 1, 5))
    WorkerTradeFactory(worker=worker, trade=trade, started_on=dt.date(2026, 1, 5))
    klass = TrainingClassFactory(
        kind=tr.TrainingClass.Kind.PRE_JOB, start=dt.date(2025, 12, 1), end=dt.date(2025, 12, 20)
    )
    AttendanceFactory(training_class=klass, worker=worker, theory_hours=Decimal("40"), practical_hours=Decimal("32"))
    mentorship = MentorshipFactory(apprentice=worker, start=dt.date(2026, 1, 5), planned_end=dt.date(2026, 5, 4))
    verdict = compliance.cleared(worker=worker, trade=trade, on=TODAY)
    assert [r.code for r in verdict.reasons] == ["mentoring_not_signed_off"]
    assert mentorship.mentor.name in verdict.reasons[0].message
    mentorship.signed_off_on = dt.date(2026, 5, 6)
    mentorship.signed_off_by = "王队长"
    mentorship.save()
    assert compliance.cleared(worker=worker, trade=trade, on=dt.date(2026, 5, 6)).cleared
    # As of an earlier date, the later sign-off is not yet on record.
    assert not compliance.cleared(worker=worker, trade=trade, on=dt.date(2026, 5, 5)).cleared


def test_a_practical_exam_after_six_months_away_clears_again(trade_op):
    trade, op = trade_op
    worker = cleared_electrician(trade, op)
    tr.AwayPeriod.objects.create(worker=worker, start=dt.date(2025, 3, 1), end=dt.date(2025, 9, 30))
    on = dt.date(2025, 11, 1)
    annual_hours(worker, 2024)
    assert [r.code for r in compliance.cleared(worker=worker, trade=trade, on=on).reasons] == [
        "practical_exam_required"
    ]
    exam = AssessmentFactory(
        kind="practical", course=None, special_operation=op, held_on=dt.date(2025, 10, 15), pass_mark=Decimal("80")
    )
    ResultFactory(assessment=exam, worker=worker, score=Decimal("79"))
    assert not compliance.cleared(worker=worker, trade=trade, on=on).cleared
    ResultFactory(assessment=exam, worker=worker, score=Decimal("85"), attempt=2)
    assert compliance.cleared(worker=worker, trade=trade, on=on).cleared


def test_as_of_an_incident_date_a_later_revocation_does_not_count(trade_op):
    trade, op = trade_op
    with time_machine.travel(dt.datetime(2025, 6, 1, 8, tzinfo=dt.UTC), tick=False):
        worker = cleared_electrician(trade, op)
        annual_hours(worker, 2024)
    with time_machine.travel(dt.datetime(2026, 2, 1, 8, tzinfo=dt.UTC), tick=False):
        certificate = worker.certificates.get()
        certificate.status = Certificate.Status.REVOKED
        certificate.save()
    with time_machine.travel(dt.datetime(2026, 3, 10, 8, tzinfo=dt.UTC), tick=False):
        assert compliance.cleared(worker=worker, trade=trade, on=dt.date(2025, 12, 1)).cleared
        assert [r.code for r in compliance.cleared(worker=worker, trade=trade, on=dt.date(2026, 2, 2)).reasons] == [
            "certificate_revoked"
        ]


def test_as_of_a_past_date_reviews_and_attendance_recorded_later_are_left_out(trade_op):
    trade, op = trade_op
    worker = cleared_electrician(trade, op)
    CertificateReviewFactory(certificate=worker.certificates.get(), reviewed_on=dt.date(2026, 4, 1))
    assert compliance.cleared(worker=worker, trade=trade, on=dt.date(2026, 6, 1)).cleared
    # On 2026-03-31 the review had not happened: the due date is still 2026-05-05.
    assert compliance.cleared(worker=worker, trade=trade, on=dt.date(2026, 3, 31)).lapses_on == dt.date(2026, 5, 5)


def test_clearance_for_a_whole_unit_takes_a_fixed_number_of_queries(trade_op, django_assert_max_num_queries):
    trade, op = trade_op
    unit = UnitFactory()
    for _n in range(3):
        cleared_electrician(trade, op, unit=unit)
    with django_assert_max_num_queries(12):
        small = compliance.clearance_for_workers(unit_ids=[unit.pk], on=TODAY)
    for _n in range(12):
        worker = cleared_electrician(trade, op, unit=unit)
        CertificateReviewFactory(certificate=worker.certificates.get(), reviewed_on=dt.date(2026, 4, 1))
        tr.AwayPeriod.objects.create(worker=worker, start=dt.date(2020, 1, 1), end=dt.date(2020, 2, 1))
    with django_assert_max_num_queries(12):
        large = compliance.clearance_for_workers(unit_ids=[unit.pk], on=dt.date(2025, 12, 1))
    assert len(small) == 3 and len(large) == 15


def test_a_worker_summary_is_cleared_only_when_every_current_trade_is(trade_op):
    trade, op = trade_op
    worker = cleared_electrician(trade, op)
    other = tr.Trade.objects.create(
        code="T-BLAST", name="爆破工", discipline="production", category="special_operation"
    )
    blasting = tr.SpecialOperation.objects.create(code="SO-BL", name="煤矿井下爆破作业")
    other.special_operations.add(blasting)
    WorkerTradeFactory(worker=worker, trade=other, is_primary=False)
    summary = compliance.worker_clearance_get(worker=worker, on=TODAY)
    assert not summary.cleared
    assert summary.by_trade[trade.pk].cleared
    assert summary.licensed is False
    assert [r.code for r in summary.reasons] == ["certificate_missing"]


def test_unit_figures_count_cleared_and_licensed_workers_in_the_subtree(trade_op, django_assert_max_num_queries):
    trade, op = trade_op
    crew = UnitFactory()
    cleared_electrician(trade, op, unit=crew)
    cleared_electrician(trade, op, unit=crew, certificate=False)
    with django_assert_max_num_queries(14):
        stats = compliance.unit_compliance_get(on=TODAY)
    assert stats[crew.pk].workers == 2
    assert stats[crew.pk].cleared == 1
    assert stats[crew.pk].licensed_rate == 50
    assert stats[crew.parent_id].special == 2
