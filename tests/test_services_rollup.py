"""Recording results, awarding ranks with their evidence, and HR's decisions."""

import datetime as dt
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError

from certifications.models import RankRecord
from certifications.progress import figures
from certifications.ranks import inputs as selectors
from certifications.ranks import services
from certifications.ranks.rules import Kind, Status
from tests.factories import (
    AssessmentFactory,
    AttendanceFactory,
    ResultFactory,
    RuleSetFactory,
    TrainingClassFactory,
    UserFactory,
    WorkerTradeFactory,
)
from tests.rollup_setup import trade_setup, worker_in
from training import services as training_services

ON = dt.date(2026, 6, 1)
pytestmark = pytest.mark.django_db


def earn(setup, worker, theory="75", practical="80"):
    attendance = AttendanceFactory(
        training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8
    )
    theory_result = ResultFactory(assessment=setup.theory, worker=worker, score=Decimal(theory))
    practical_result = ResultFactory(assessment=setup.practical, worker=worker, score=Decimal(practical))
    return attendance, theory_result, practical_result


def test_it_explains_what_a_worker_lacks_for_the_next_rank(django_assert_max_num_queries):
    setup = trade_setup()
    worker = worker_in(setup)
    ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("59.5"))
    with django_assert_max_num_queries(10):
        explanations = selectors.worker_explanations_get(worker=worker, on=ON)
    step = explanations[0].next_step
    assert explanations[0].held_rank_name == "初级工"
    assert step.rank_name == "中级工"
    statuses = {r.kind: r.status for r in step.requirements}
    assert statuses == {
        Kind.LADDER: Status.MET,
        Kind.COURSE: Status.UNMET,
        Kind.THEORY: Status.UNMET,
        Kind.PRACTICAL: Status.UNMET,
    }


def test_the_selector_query_count_does_not_grow_with_results(django_assert_num_queries):
    setup = trade_setup()
    worker = worker_in(setup)
    earn(setup, worker)
    with django_assert_num_queries(10):
        selectors.worker_explanations_get(worker=worker, on=ON)


def test_in_confirm_mode_an_earned_rank_waits_for_hr(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
    setup = trade_setup()
    worker = worker_in(setup)
    attendance, theory, practical = earn(setup, worker)
    report = services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    assert report.pending == 1
    record = RankRecord.objects.get(worker=worker, rank=setup.ranks[1])
    assert (record.status, record.source, record.awarded_on, record.rule_set) == (
        "pending",
        "engine",
        None,
        setup.rule_set,
    )
    assert record.evidence["results"] == sorted([theory.pk, practical.pk])
    assert record.evidence["attendance"] == [attendance.pk]
    assert record.evidence["rule_set"]["name"] == "2018 标准"
    assert [r["kind"] for r in record.evidence["requirements"]] == ["ladder", "course", "theory", "practical"]
    assert [h.history_type for h in record.history.all()] == ["+"]
    assert record.history.get().history_change_reason == "Awarded by the roll-up engine"


def test_approving_a_pending_award_makes_it_held(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
    setup = trade_setup()
    worker = worker_in(setup)
    earn(setup, worker)
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    record = RankRecord.objects.get(status="pending")
    hr = UserFactory()
    services.rank_approve(record=record, user=hr, on=ON)
    record.refresh_from_db()
    assert (record.status, record.awarded_on, record.decided_by) == ("awarded", ON, hr)
    assert selectors.worker_explanations_get(worker=worker, on=ON)[0].held_rank_name == "中级工"


def test_a_rejected_award_is_not_proposed_again_on_the_same_evidence(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
    setup = trade_setup()
    worker = worker_in(setup)
    earn(setup, worker)
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    record = RankRecord.objects.get(status="pending")
    with pytest.raises(ValidationError):
        services.rank_reject(record=record, user=UserFactory(), reason=" ")
    services.rank_reject(record=record, user=UserFactory(), reason="证件照片不符")
    assert services.ranks_recompute(worker_ids=[worker.pk], on=ON).changes == []
    # New evidence (a better re-sit) lets the engine propose it again.
    ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("90"), attempt=2)
    assert services.ranks_recompute(worker_ids=[worker.pk], on=ON).pending == 1


def test_in_auto_mode_every_rank_earned_today_is_awarded(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = WorkerTradeFactory(trade=setup.trade).worker  # no rank yet; 初级工 needs one year in the trade
    RuleSetFactory(
        package=setup.ranks[0].packages.get(),
        require_package=False,
        require_theory=False,
        require_practical=False,
        years_in_trade=Decimal("1"),
    )
    earn(setup, worker)
    report = services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    assert [c.rank_name for c in report.changes] == ["初级工", "中级工"]
    # Each award is dated the day its last requirement was met, as an approved award is: 初级工 a year after the
    # worker started in the trade (2015-03-01), 中级工 on the day of its exams.
    awarded = dict(RankRecord.objects.filter(worker=worker).values_list("rank__name", "awarded_on"))
    assert awarded == {"初级工": dt.date(2016, 3, 1), "中级工": ON}
    assert set(RankRecord.objects.filter(worker=worker).values_list("status", flat=True)) == {"awarded"}
    assert [c.awarded_on for c in report.changes] == [dt.date(2016, 3, 1), ON]
    assert services.ranks_recompute(worker_ids=[worker.pk], on=ON).changes == []


def test_the_evidence_snapshot_survives_rule_edits(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = worker_in(setup)
    earn(setup, worker)
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    setup.rule_set.theory_pass_mark = Decimal("90")
    setup.rule_set.save()
    record = RankRecord.objects.get(worker=worker, rank=setup.ranks[1])
    assert record.evidence["rule_set"]["theory_pass_mark"] == "60"
    assert record.status == "awarded"
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    record.refresh_from_db()
    assert record.status == "awarded" and not record.needs_review


def test_recording_a_result_re_evaluates_the_worker_after_commit(settings, django_capture_on_commit_callbacks):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
    setup = trade_setup()
    worker = worker_in(setup)
    AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("60"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.result_record(
            assessment=setup.practical, worker=worker, score=Decimal("61"), recorded_by=None
        )
    assert result.attempt == 1
    assert not RankRecord.objects.filter(status="pending").exists()
    recomputes = [c for c in callbacks if isinstance(c, partial) and c.func is services.ranks_recompute]
    assert [c.keywords["worker_ids"] for c in recomputes] == [[worker.pk]]
    recomputes[0]()
    assert RankRecord.objects.filter(worker=worker, rank=setup.ranks[1], status="pending").exists()


def test_the_next_attempt_number_is_filled_in():
    setup = trade_setup()
    worker = worker_in(setup)
    services.result_record(assessment=setup.theory, worker=worker, score=None, absent=True)
    second = services.result_record(assessment=setup.theory, worker=worker, score=Decimal("70"))
    assert second.attempt == 2


def test_recording_attendance_and_a_review_schedule_a_re_evaluation(django_capture_on_commit_callbacks):
    setup = trade_setup()
    worker = worker_in(setup)
    with django_capture_on_commit_callbacks() as callbacks:
        training_services.attendance_record(
            training_class=setup.training_class, worker=worker, theory_hours=Decimal("8"), practical_hours=Decimal("8")
        )
        services.review_record(worker=worker, trade=setup.trade, rank=setup.ranks[1], held_on=ON, passed=True)
    recomputes = [c for c in callbacks if isinstance(c, partial) and c.func is services.ranks_recompute]
    assert [c.keywords["worker_ids"] for c in recomputes] == [[worker.pk], [worker.pk]]


def test_correcting_a_result_an_award_rests_on_marks_it_for_review(settings, django_capture_on_commit_callbacks):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = worker_in(setup)
    _, theory, _ = earn(setup, worker)
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    with django_capture_on_commit_callbacks(execute=True):
        services.result_correct(result=theory, score=Decimal("40"), reason="录入错误", corrected_by=UserFactory())
    record = RankRecord.objects.get(worker=worker, rank=setup.ranks[1])
    assert record.status == "awarded"
    assert record.needs_review
    assert "75" in record.review_reason and "40" in record.review_reason


def test_deleting_a_result_an_award_rests_on_marks_it_for_review(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = worker_in(setup)
    _, _, practical = earn(setup, worker)
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    services.result_delete(result=practical, user=UserFactory(), reason="重复录入")
    record = RankRecord.objects.get(worker=worker, rank=setup.ranks[1])
    assert (record.status, record.needs_review) == ("awarded", True)
    assert "deleted" in record.review_reason


def test_correcting_a_result_no_award_rests_on_flags_nothing(settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = worker_in(setup)
    earn(setup, worker)
    services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    stray = ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("50"), attempt=2)
    services.result_correct(result=stray, score=Decimal("55"), reason="复核")
    assert not RankRecord.objects.filter(needs_review=True).exists()


def test_rank_award_refuses_an_unmet_step():
    setup = trade_setup()
    worker = worker_in(setup)
    step = selectors.worker_explanations_get(worker=worker, on=ON)[0].next_step
    with pytest.raises(ValidationError):
        services.rank_award(worker=worker, trade=setup.trade, step=step, on=ON)


def test_rank_award_stores_the_snapshot_and_rule_version():
    setup = trade_setup()
    worker = worker_in(setup)
    earn(setup, worker)
    step = selectors.worker_explanations_get(worker=worker, on=ON)[0].next_step
    record = services.rank_award(worker=worker, trade=setup.trade, step=step, on=ON, mode="auto")
    assert (record.status, record.awarded_on, record.rule_set_id) == ("awarded", ON, setup.rule_set.pk)
    assert record.evidence["rule_set"]["resit_limit"] == "1"


def test_the_loader_sums_each_course_s_attendance_up_to_the_date():
    setup = trade_setup()
    worker = worker_in(setup)
    first = AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=5, practical_hours=3)
    again = TrainingClassFactory(course=setup.course, start=dt.date(2026, 5, 4), end=dt.date(2026, 5, 8))
    second = AttendanceFactory(training_class=again, worker=worker, theory_hours=Decimal("3.5"), practical_hours=5)
    later = TrainingClassFactory(course=setup.course, start=dt.date(2026, 7, 6), end=dt.date(2026, 7, 10))
    AttendanceFactory(training_class=later, worker=worker, theory_hours=8, practical_hours=8)

    (course,) = selectors.rollup_inputs_load(worker_ids=[worker.pk], on=ON)[(worker.pk, setup.trade.pk)].attendance

    assert (course.course_id, course.theory_hours, course.practical_hours) == (
        setup.course.pk,
        Decimal("8.5"),
        Decimal("8"),
    )
    assert sorted(course.ids) == sorted([first.pk, second.pk])
    assert sorted(course.starts) == [dt.date(2026, 3, 2), dt.date(2026, 5, 4)]
    assert course.last_start == dt.date(2026, 5, 4)


def test_the_loader_leaves_out_results_of_ranks_held_and_results_after_the_date():
    setup = trade_setup()
    worker = worker_in(setup)  # holds 初级工 since 2020
    lower = AssessmentFactory(
        kind="theory", course=None, trade=setup.trade, rank=setup.ranks[0], held_on=dt.date(2019, 4, 1)
    )
    ResultFactory(assessment=lower, worker=worker, score=Decimal("90"))
    wanted = ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"))
    after = AssessmentFactory(
        kind="practical", course=None, trade=setup.trade, rank=setup.ranks[1], held_on=dt.date(2026, 8, 1)
    )
    ResultFactory(assessment=after, worker=worker, score=Decimal("70"))
    newcomer = WorkerTradeFactory(trade=setup.trade).worker  # holds no rank
    unheld = ResultFactory(assessment=lower, worker=newcomer, score=Decimal("90"))

    loaded = selectors.rollup_inputs_load(worker_ids=[worker.pk, newcomer.pk], on=ON)

    assert [r.id for r in loaded[(worker.pk, setup.trade.pk)].results] == [wanted.pk]
    assert [r.id for r in loaded[(newcomer.pk, setup.trade.pk)].results] == [unheld.pk]


def test_a_recompute_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    services.ranks_recompute(on=ON)
    assert gc.isenabled()
    gc.disable()
    try:
        services.ranks_recompute(on=ON)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_new_awards_queue_fresh_dashboard_figures_after_commit_and_no_awards_do_not(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(figures, "dashboard_figures_invalidate", lambda: queued.append(True))
    setup = trade_setup()
    worker = worker_in(setup)
    with django_capture_on_commit_callbacks(execute=True):
        services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    assert queued == []  # nothing earned
    earn(setup, worker)
    with django_capture_on_commit_callbacks(execute=True):
        services.ranks_recompute(worker_ids=[worker.pk], on=ON, dry_run=True)
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        report = services.ranks_recompute(worker_ids=[worker.pk], on=ON)
    assert report.pending + report.awarded == 1
    assert queued == [True]
