"""
The admin keeps the audit trail: a reason for score changes, soft delete with
a reason, deleted rows visible to HR.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from certifications.models import AssessmentResult
from tests.factories import AttendanceFactory, ResultFactory, TrainingClassFactory, WorkerFactory, signed_version
from training.models import Attendance, Worker

pytestmark = pytest.mark.django_db


def result_post(result, **changes):
    data = {
        "assessment": result.assessment_id,
        "worker": result.worker_id,
        "attempt": result.attempt,
        "score": result.score,
        "remarks": result.remarks,
        "change_reason": "",
        "version": signed_version(result),
    }
    if result.absent:
        data["absent"] = "on"
    data.update(changes)
    return data


def test_the_admin_refuses_a_score_change_without_a_reason(hr_client):
    result = ResultFactory(score=Decimal("58"))
    url = reverse("admin:certifications_assessmentresult_change", args=[result.pk])
    assert "change_reason" in hr_client.get(url).content.decode()
    response = hr_client.post(url, result_post(result, score="61"))
    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    result.refresh_from_db()
    assert result.score == Decimal("58")


def test_a_score_change_in_the_admin_keeps_who_and_why(hr_client, hr_user):
    result = ResultFactory(score=Decimal("58"))
    url = reverse("admin:certifications_assessmentresult_change", args=[result.pk])
    response = hr_client.post(url, result_post(result, score="61", change_reason="appeal upheld"))
    assert response.status_code == 302
    latest = result.history.first()
    assert (latest.score, latest.history_user, latest.history_change_reason) == (
        Decimal("61"),
        hr_user,
        "appeal upheld",
    )
    history = hr_client.get(reverse("admin:certifications_assessmentresult_history", args=[result.pk]))
    assert "appeal upheld" in history.content.decode()


def test_the_add_form_asks_no_reason(hr_client):
    response = hr_client.get(reverse("admin:certifications_assessmentresult_add"))
    assert "change_reason" not in response.content.decode()


def test_deleting_in_the_admin_marks_the_record_deleted_with_the_reason(hr_client, hr_user):
    result = ResultFactory()
    url = reverse("admin:certifications_assessmentresult_delete", args=[result.pk])
    page = hr_client.get(url)
    assert page.status_code == 200 and 'name="delete_reason"' in page.content.decode()
    assert hr_client.post(url, {"post": "yes", "delete_reason": "entered twice"}).status_code == 302
    kept = AssessmentResult.all_objects.get(pk=result.pk)
    assert (kept.is_deleted, kept.deleted_by, kept.delete_reason) == (True, hr_user, "entered twice")


def test_deleting_without_a_reason_deletes_nothing(hr_client):
    result = ResultFactory()
    url = reverse("admin:certifications_assessmentresult_delete", args=[result.pk])
    response = hr_client.post(url, {"post": "yes", "delete_reason": " "})
    assert response.status_code == 302
    assert AssessmentResult.objects.filter(pk=result.pk).exists()


def test_bulk_delete_marks_every_selected_record_deleted(hr_client):
    results = ResultFactory.create_batch(3)
    url = reverse("admin:certifications_assessmentresult_changelist")
    ids = [r.pk for r in results]
    confirm = hr_client.post(url, {"action": "delete_selected", "_selected_action": ids})
    assert 'name="delete_reason"' in confirm.content.decode()
    hr_client.post(
        url, {"action": "delete_selected", "_selected_action": ids, "post": "yes", "delete_reason": "wrong sitting"}
    )
    assert AssessmentResult.objects.filter(pk__in=ids).count() == 0
    assert AssessmentResult.all_objects.filter(pk__in=ids, delete_reason="wrong sitting").count() == 3


def test_hr_lists_deleted_records_and_restores_them(hr_client, hr_user):
    from training.retention import record_soft_delete

    live, gone = ResultFactory(remarks="live-row"), ResultFactory(remarks="gone-row")
    record_soft_delete(instance=gone, user=hr_user, reason="typo")
    url = reverse("admin:certifications_assessmentresult_changelist")
    default = hr_client.get(url).context["cl"].result_list
    assert list(default) == [live]
    deleted = hr_client.get(url, {"deleted": "yes"}).context["cl"].result_list
    assert list(deleted) == [gone]
    assert hr_client.get(reverse("admin:certifications_assessmentresult_change", args=[gone.pk])).status_code == 200
    hr_client.post(
        url + "?deleted=yes",
        {"action": "restore_selected", "_selected_action": [gone.pk], "apply": "yes", "restore_reason": "typo fixed"},
    )
    assert AssessmentResult.objects.filter(pk=gone.pk).exists()
    assert gone.history.first().history_change_reason == "Restored: typo fixed"


def test_a_worker_with_records_can_be_marked_deleted_in_the_admin(hr_client):
    attendance = AttendanceFactory()
    url = reverse("admin:training_worker_delete", args=[attendance.worker.pk])
    page = hr_client.get(url).content.decode()
    assert "protected" not in page
    hr_client.post(url, {"post": "yes", "delete_reason": "duplicate person"})
    assert not Worker.objects.filter(pk=attendance.worker.pk).exists()
    assert Attendance.objects.filter(pk=attendance.pk).exists()


def test_removing_an_attendance_row_in_a_class_marks_it_deleted(hr_client):
    training_class = TrainingClassFactory(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 13))
    attendance = AttendanceFactory(training_class=training_class, worker=WorkerFactory())
    url = reverse("admin:training_trainingclass_change", args=[training_class.pk])
    form = hr_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "version": signed_version(training_class),
            "course": training_class.course_id,
            "start": "2026-03-02",
            "end": "2026-03-13",
            "attendances-TOTAL_FORMS": "1",
            "attendances-INITIAL_FORMS": "1",
            "attendances-MIN_NUM_FORMS": "0",
            "attendances-MAX_NUM_FORMS": "1000",
            "attendances-0-id": attendance.pk,
            "attendances-0-training_class": training_class.pk,
            "attendances-0-worker": attendance.worker_id,
            "attendances-0-theory_hours": "24",
            "attendances-0-practical_hours": "16",
            "attendances-0-remarks": "",
            "attendances-0-version": signed_version(attendance),
            "attendances-0-DELETE": "on",
            "attendances-0-change_reason": "not in this class",
        }
    )
    response = hr_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    kept = Attendance.all_objects.get(pk=attendance.pk)
    assert kept.is_deleted and kept.delete_reason == "not in this class"


def test_reviews_and_mentorships_under_retention_cannot_be_deleted_in_the_admin(hr_client):
    from tests.factories import CertificateReviewFactory, MentorshipFactory

    review, mentorship = CertificateReviewFactory(), MentorshipFactory()
    assert hr_client.get(reverse("admin:certifications_certificatereview_delete", args=[review.pk])).status_code == 403
    assert hr_client.get(reverse("admin:certifications_mentorship_delete", args=[mentorship.pk])).status_code == 403
