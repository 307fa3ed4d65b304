"""The roll-up in the HR admin: evaluation on the worker page, evaluate action, approving and rejecting awards."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from certifications.models import RankRecord
from certifications.ranks.services import ranks_recompute
from tests.factories import AttendanceFactory, ResultFactory
from tests.rollup_setup import trade_setup, worker_in

pytestmark = pytest.mark.django_db


def earner():
    setup = trade_setup()
    worker = worker_in(setup)
    AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"))
    ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("58"))
    return setup, worker


def test_hr_sees_the_evaluation_on_the_worker_page(hr_client):
    setup, worker = earner()
    response = hr_client.get(reverse("admin:training_worker_change", args=[worker.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "中级工" in page and "Practical exam" in page and "58" in page and "✗" in page
    # Evidence in words ("<exam> on <date>: 58", the class with its hours), never "result:12" or "attendance:7".
    assert f"{setup.practical.name} on {setup.practical.held_on.isoformat()}: 58" in page
    assert setup.training_class.name in page
    assert "result:" not in page and "attendance:" not in page


def test_the_evaluate_action_reports_new_pending_awards(hr_client):
    setup, worker = earner()
    ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("75"), attempt=2)
    response = hr_client.post(
        reverse("admin:training_worker_changelist"),
        {"action": "evaluate_selected_workers", "_selected_action": [worker.pk]},
        follow=True,
    )
    assert "中级工 (pending)" in response.content.decode()
    assert RankRecord.objects.filter(worker=worker, status="pending").exists()


def test_hr_approves_a_pending_award(hr_client, hr_user):
    setup, worker = earner()
    ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("75"), attempt=2)
    ranks_recompute(worker_ids=[worker.pk])
    record = RankRecord.objects.get(status="pending")
    changelist = reverse("admin:certifications_rankrecord_changelist")
    assert record.worker.name in hr_client.get(changelist, {"status__exact": "pending"}).content.decode()
    hr_client.post(changelist, {"action": "approve_awards", "_selected_action": [record.pk]})
    record.refresh_from_db()
    # The rank is held from the day its last requirement was met (the re-sit), not from the approval day.
    assert (record.status, record.decided_by, record.awarded_on) == ("awarded", hr_user, setup.practical.held_on)
    assert timezone.localtime(record.decided_at).date() == timezone.localdate()


def test_rejecting_asks_for_a_reason_first(hr_client):
    setup, worker = earner()
    ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("75"), attempt=2)
    ranks_recompute(worker_ids=[worker.pk])
    record = RankRecord.objects.get(status="pending")
    changelist = reverse("admin:certifications_rankrecord_changelist")
    page = hr_client.post(changelist, {"action": "reject_awards", "_selected_action": [record.pk]})
    assert "Reason for rejection" in page.content.decode()
    record.refresh_from_db()
    assert record.status == "pending"
    hr_client.post(
        changelist,
        {"action": "reject_awards", "_selected_action": [record.pk], "post": "yes", "reject_reason": "材料不全"},
    )
    record.refresh_from_db()
    assert record.status == "rejected" and record.evidence["rejection_reason"] == "材料不全"


def test_packages_carry_their_rule_sets_inline(hr_client):
    setup, _worker = earner()
    page = hr_client.get(reverse("admin:training_trainingpackage_change", args=[setup.package.pk])).content.decode()
    assert "2018 标准" in page
