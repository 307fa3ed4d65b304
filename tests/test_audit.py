"""The audit trail: a reason for every change to a recorded value, kept in history, shown to HR only."""

from decimal import Decimal

import pytest
from django.forms import modelform_factory
from django.urls import reverse

from certifications.models import AssessmentResult, RuleSet
from certifications.progress.history import worker_history_get
from core.history import with_reason
from tests.factories import (
    AttendanceFactory,
    CertificateFactory,
    CertificateReviewFactory,
    ResultFactory,
    RuleSetFactory,
    UserFactory,
)
from tests.site_fixtures import build_mine
from training.admin_mixins import with_reason_form
from training.retention import record_soft_delete

ResultForm = with_reason_form(modelform_factory(AssessmentResult, fields=["score", "absent", "remarks"]))


def form_data(result, **changes):
    return {"score": result.score, "absent": result.absent, "remarks": result.remarks, "change_reason": "", **changes}


@pytest.mark.django_db
def test_changing_a_recorded_score_without_a_reason_is_refused():
    result = ResultFactory(score=Decimal("58"))
    form = ResultForm(form_data(result, score="61"), instance=result)
    assert not form.is_valid()
    assert "change_reason" in form.errors


@pytest.mark.django_db
def test_marking_a_scored_worker_absent_needs_a_reason_too():
    result = ResultFactory(score=Decimal("58"))
    form = ResultForm(form_data(result, score="", absent="on"), instance=result)
    assert not form.is_valid()
    assert "change_reason" in form.errors


@pytest.mark.django_db
def test_the_reason_for_a_score_change_lands_in_history():
    result = ResultFactory(score=Decimal("58"))
    form = ResultForm(form_data(result, score="61", change_reason="re-marked after appeal"), instance=result)
    assert form.is_valid(), form.errors
    form.save()
    latest = result.history.first()
    assert (latest.score, latest.history_change_reason) == (Decimal("61"), "re-marked after appeal")
    assert result.history.count() == 2


@pytest.mark.django_db
def test_a_remark_edit_needs_no_reason():
    result = ResultFactory()
    form = ResultForm(form_data(result, remarks="补考通知已发"), instance=result)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_a_new_result_needs_no_reason():
    result = ResultFactory.build()
    form = ResultForm({"score": "70", "absent": "", "remarks": "", "change_reason": ""}, instance=result)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_any_change_to_a_rule_set_needs_a_reason():
    rule_set = RuleSetFactory()
    form_class = with_reason_form(modelform_factory(RuleSet, fields=["name", "theory_pass_mark"]))
    form = form_class({"name": rule_set.name, "theory_pass_mark": "70", "change_reason": ""}, instance=rule_set)
    assert not form.is_valid()


# The worker's change history.


@pytest.mark.django_db
def test_the_history_lists_every_audited_record_of_the_worker_with_who_and_why():
    mine = build_mine()
    worker = mine.trainee
    hr = UserFactory(username="hr-audit")
    result = ResultFactory(worker=worker, score=Decimal("58"))
    result.score = Decimal("62")
    with_reason(result, "re-marked after appeal", user=hr).save()
    attendance = AttendanceFactory(worker=worker)
    record_soft_delete(instance=attendance, user=hr, reason="wrong class")
    CertificateReviewFactory(certificate=CertificateFactory(worker=worker))
    ResultFactory(worker=mine.classmate)

    entries = worker_history_get(worker=worker)
    models = {entry.model for entry in entries}
    assert {"assessment result", "attendance", "certificate", "certificate review", "worker"} <= models
    corrected = next(e for e in entries if e.reason == "re-marked after appeal")
    assert corrected.user == "hr-audit"
    assert [(c.old, c.new) for c in corrected.changes if c.field == "score"] == [("58.0", "62.0")]
    assert any(e.reason == "Deleted: wrong class" for e in entries)
    assert all(e.record != f"#{mine.classmate.pk}" or e.model != "worker" for e in entries)


def _history_for(worker, n):
    for i in range(n):
        result = ResultFactory(worker=worker, score=Decimal("50"))
        result.score = Decimal(60 + i % 40)
        with_reason(result, f"correction {i}").save()
        AttendanceFactory(worker=worker)
        CertificateReviewFactory(certificate=CertificateFactory(worker=worker))


@pytest.mark.django_db
def test_the_history_is_loaded_in_a_fixed_number_of_queries(django_assert_num_queries):
    mine = build_mine()
    _history_for(mine.trainee, 2)
    # Nine audited models, and one query per kind of record the entries name (classes, assessments, certificates).
    with django_assert_num_queries(12):
        worker_history_get(worker=mine.trainee)
    _history_for(mine.trainee, 20)
    with django_assert_num_queries(12):
        assert len(worker_history_get(worker=mine.trainee)) > 60


@pytest.mark.django_db
def test_hr_sees_the_change_history_on_the_worker_page(client, hr_user):
    mine = build_mine()
    result = ResultFactory(worker=mine.trainee, score=Decimal("58"))
    result.score = Decimal("62")
    with_reason(result, "re-marked after appeal").save()
    client.force_login(hr_user)
    response = client.get(reverse("certifications:worker-detail", args=[mine.trainee.employee_no]))
    assert response.status_code == 200
    assert "Change history" in response.content.decode()
    assert "re-marked after appeal" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["trainee", "leader"])
def test_trainees_and_leaders_do_not_see_the_change_history(client, who):
    mine = build_mine()
    result = ResultFactory(worker=mine.trainee, score=Decimal("58"))
    result.score = Decimal("62")
    with_reason(result, "re-marked after appeal").save()
    client.force_login(getattr(mine, who).user)
    response = client.get(reverse("certifications:worker-detail", args=[mine.trainee.employee_no]))
    assert response.status_code == 200
    assert "Change history" not in response.content.decode()
    assert "re-marked after appeal" not in response.content.decode()


@pytest.mark.django_db
def test_history_shows_values_as_people_read_them_and_groups_records_made_together():
    """Dates in Asia/Shanghai to the minute, users by name, foreign keys by name, never `model:id` or raw ids."""
    import datetime as dt

    from django.utils import timezone

    from certifications.models import RankRecord
    from tests.factories import RankRecordFactory, TrainingClassFactory

    mine = build_mine()
    worker = mine.trainee
    approver = UserFactory(username="hr-cn", first_name="刘芳")
    record = RankRecordFactory(worker=worker, status=RankRecord.Status.PENDING, awarded_on=None)
    record.status = RankRecord.Status.AWARDED
    record.awarded_on = dt.date(2026, 12, 2)
    record.decided_by = approver
    record.decided_at = dt.datetime(2026, 12, 2, 7, 19, 34, 885272, tzinfo=dt.UTC)
    with_reason(record, "approved", user=approver).save()
    classes = [TrainingClassFactory(name=f"综采培训班{i}") for i in range(3)]
    for training_class in classes:
        AttendanceFactory(worker=worker, training_class=training_class)

    entries = worker_history_get(worker=worker)
    approved = next(e for e in entries if e.reason == "approved")
    shown = {c.field: c.new for c in approved.changes}
    assert shown["decided at"] == "2026-12-02 15:19"  # 07:19 UTC is 15:19 in Asia/Shanghai
    assert shown["decided by"] == "刘芳（hr-cn）"
    assert shown["awarded on"] == "2026-12-02"
    assert approved.record == str(record.rank)
    assert approved.user == "刘芳（hr-cn）"
    together = [e for e in entries if e.model == "attendance" and e.kind == "+"]
    assert len(together) == 1 and together[0].count == 3
    assert set(together[0].records) == {str(c) for c in classes}
    assert timezone.is_aware(together[0].at)
    text = " ".join(f"{e.record} {e.records} {[(c.old, c.new) for c in e.changes]}" for e in entries)
    assert "attendance:" not in text and "+00:00" not in text
