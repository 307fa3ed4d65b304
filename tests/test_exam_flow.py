"""
The exam door and the candidate's API (issue 16): start, save as given, submit or time out, grade into the
roll-up through the results door, re-sits within the rule set's limit, another's attempt 404, versions kept.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certifications.exams import services
from certifications.models import (
    AssessmentResult,
    Attempt,
    AttemptEvent,
    AttemptQuestion,
    QuestionVersion,
    RankRecord,
)
from tests import factories as f
from tests.exam_builders import exam_setup
from training import roles

pytestmark = pytest.mark.django_db

CLIENT = {"ip": "10.0.0.7", "user_agent": "test-phone"}


def start(exam):
    return services.attempt_start(exam.candidate, **CLIENT)


def answer_all(attempt, answer="B"):
    for n, question in enumerate(attempt.questions.order_by("order"), start=1):
        services.answer_save(attempt, question.order, answer, n, False, **CLIENT)


def url(name, attempt):
    return reverse(f"certifications:{name}", kwargs={"public_id": attempt.public_id})


def post_json(client, target, data):
    return client.post(target, json.dumps(data), content_type="application/json")


@pytest.fixture
def exam(db):
    return exam_setup()


def test_a_start_draws_a_paper_with_a_server_deadline_and_is_audited(exam):
    attempt = start(exam)
    assert attempt.questions.count() == 10
    assert attempt.full_marks == Decimal("100")
    assert attempt.deadline - attempt.started_at == dt.timedelta(minutes=30)
    event = attempt.events.get(kind=AttemptEvent.Kind.START)
    assert event.ip == "10.0.0.7" and event.user_agent == "test-phone"


def test_starting_again_resumes_the_same_attempt(exam):
    first = start(exam)
    assert start(exam) == first
    assert first.events.filter(kind=AttemptEvent.Kind.RESUME).count() == 1


def test_a_second_attempt_is_refused(exam):
    services.attempt_submit(start(exam))
    with pytest.raises(ValidationError, match="attempt"):
        start(exam)
    assert Attempt.objects.filter(candidate=exam.candidate).count() == 1


def test_the_score_becomes_the_theory_result_with_the_history_reason(exam):
    attempt = start(exam)
    answer_all(attempt, "B")
    attempt = services.attempt_submit(attempt)
    assert attempt.score == Decimal("100") and attempt.ended == Attempt.Ended.SUBMITTED
    result = AssessmentResult.objects.get(worker=exam.worker, assessment=exam.setup.theory)
    assert result.score == Decimal("100") and result.attempt == 1 and attempt.result == result
    assert result.history.latest().history_change_reason == "online exam"


def test_wrong_answers_score_nothing_and_the_score_is_scaled_to_full_marks(exam):
    exam.setup.theory.full_marks = Decimal("50")
    exam.setup.theory.pass_mark = Decimal("30")
    exam.setup.theory.save()
    attempt = start(exam)
    questions = list(attempt.questions.order_by("order"))
    for n, question in enumerate(questions, start=1):
        services.answer_save(attempt, question.order, "B" if n <= 7 else "A", 1, False, **CLIENT)
    services.attempt_submit(attempt)
    result = AssessmentResult.objects.get(worker=exam.worker, assessment=exam.setup.theory)
    assert result.score == Decimal("35.0") and result.passed


def test_the_last_requirement_met_online_makes_a_pending_award(exam, django_capture_on_commit_callbacks):
    attempt = start(exam)
    answer_all(attempt, "B")
    assert not RankRecord.objects.filter(worker=exam.worker, rank=exam.setup.ranks[1]).exists()
    # The results door re-evaluates the worker once the submission commits, as for an imported result.
    with django_capture_on_commit_callbacks(execute=True):
        services.attempt_submit(attempt)
    record = RankRecord.objects.get(worker=exam.worker, rank=exam.setup.ranks[1])
    assert record.status == "pending"


def test_answers_after_the_deadline_are_refused_and_audited(exam):
    attempt = start(exam)
    question = attempt.questions.first()
    with time_machine.travel(attempt.deadline + dt.timedelta(seconds=1)), pytest.raises(services.AnswerRefused):
        services.answer_save(attempt, question.order, "B", 1, False, **CLIENT)
    assert attempt.events.filter(kind=AttemptEvent.Kind.REFUSED).count() == 1
    question.refresh_from_db()
    assert question.answer == ""


def test_the_api_refuses_an_answer_after_time_out_with_409_and_submits(client, exam):
    attempt = start(exam)
    client.force_login(exam.user)
    with time_machine.travel(attempt.deadline + dt.timedelta(seconds=5)):
        response = post_json(
            client, url("exam-answer", attempt), {"order": 1, "answer": "B", "seq": 1, "flagged": False}
        )
    assert response.status_code == 409 and "error" in response.json()
    attempt.refresh_from_db()
    assert attempt.ended == Attempt.Ended.TIMED_OUT


def test_time_out_submits_what_was_saved(exam):
    attempt = start(exam)
    services.answer_save(attempt, 1, "B", 1, False, **CLIENT)
    with time_machine.travel(attempt.deadline + dt.timedelta(minutes=1)):
        assert services.attempts_time_out() == 1
    attempt.refresh_from_db()
    assert attempt.ended == Attempt.Ended.TIMED_OUT and attempt.ended_at == attempt.deadline
    assert attempt.score == Decimal("10")
    assert attempt.events.filter(kind=AttemptEvent.Kind.TIMEOUT).count() == 1
    assert AssessmentResult.objects.get(worker=exam.worker, assessment=exam.setup.theory).score == Decimal("10")


def test_the_close_exams_command_closes_attempts_past_their_deadline(exam):
    attempt = start(exam)
    out = StringIO()
    call_command("close_exams", stdout=out)
    attempt.refresh_from_db()
    assert attempt.open
    with time_machine.travel(attempt.deadline + dt.timedelta(seconds=1)):
        call_command("close_exams", stdout=out)
    attempt.refresh_from_db()
    assert attempt.ended == Attempt.Ended.TIMED_OUT
    assert "1" in out.getvalue()


def test_opening_a_late_attempt_times_it_out(client, exam):
    attempt = start(exam)
    client.force_login(exam.user)
    with time_machine.travel(attempt.deadline + dt.timedelta(seconds=1)):
        state = client.get(url("exam-state", attempt)).json()
    assert state["ended"] is True and state["remaining"] == 0
    attempt.refresh_from_db()
    assert attempt.ended == Attempt.Ended.TIMED_OUT


def test_an_older_save_changes_nothing(exam):
    attempt = start(exam)
    services.answer_save(attempt, 1, "C", 5, False, **CLIENT)
    assert services.answer_save(attempt, 1, "A", 3, False, **CLIENT) == {"order": 1, "seq": 5, "saved": True}
    assert AttemptQuestion.objects.get(attempt=attempt, order=1).answer == "C"


def test_an_answer_not_among_the_options_is_refused(client, exam):
    attempt = start(exam)
    client.force_login(exam.user)
    response = post_json(client, url("exam-answer", attempt), {"order": 1, "answer": "Z", "seq": 1, "flagged": False})
    assert response.status_code == 400


def test_the_api_saves_flags_and_states(client, exam):
    attempt = start(exam)
    client.force_login(exam.user)
    response = post_json(client, url("exam-answer", attempt), {"order": 2, "answer": "B", "seq": 1, "flagged": True})
    assert response.json() == {"order": 2, "seq": 1, "saved": True}
    state = client.get(url("exam-state", attempt)).json()
    question = state["questions"][1]
    assert question["answer"] == "B" and question["flagged"] is True and question["seq"] == 1
    assert [o["label"] for o in question["options"]] == ["A", "B", "C", "D"]
    assert state["remaining"] > 0 and not state["ended"] and "deadline" in state and "now" in state
    response = post_json(client, url("exam-answer", attempt), {"order": 2, "answer": "B", "seq": 2, "flagged": False})
    assert attempt.events.filter(kind=AttemptEvent.Kind.FLAG, order=2).count() == 1


def test_the_api_submits_and_the_result_page_shows_the_score(client, exam):
    attempt = start(exam)
    client.force_login(exam.user)
    response = client.post(url("exam-submit", attempt), content_type="application/json", data="{}")
    assert response.json() == {"score": "0.0", "full_marks": "100.0", "passed": False}
    page = client.get(url("exam-attempt", attempt)).content.decode()
    assert "0 / 100" in page


def test_a_candidate_opening_anothers_attempt_gets_404(client, exam):
    attempt = start(exam)
    other = f.UserFactory(role=roles.TRAINEE)
    f.WorkerFactory(user=other)
    client.force_login(other)
    assert client.get(url("exam-attempt", attempt)).status_code == 404
    assert client.get(url("exam-state", attempt)).status_code == 404
    data = {"order": 1, "answer": "B", "seq": 1, "flagged": False}
    assert post_json(client, url("exam-answer", attempt), data).status_code == 404
    assert client.post(url("exam-submit", attempt)).status_code == 404
    assert client.get(reverse("certifications:exam-rules", args=[exam.session.pk])).status_code == 404


def test_the_rules_page_starts_the_attempt(client, exam):
    client.force_login(exam.user)
    assert exam.session.name in client.get(reverse("certifications:exam-list")).content.decode()
    page = client.get(reverse("certifications:exam-rules", args=[exam.session.pk])).content.decode()
    assert "30 minutes" in page and "60 / 100" in page
    response = client.post(reverse("certifications:exam-rules", args=[exam.session.pk]))
    attempt = Attempt.objects.get(candidate=exam.candidate)
    assert response.url == url("exam-attempt", attempt)
    assert 'id="exam-app"' in client.get(response.url).content.decode()
    assert attempt.events.filter(kind=AttemptEvent.Kind.RESUME, detail="page").count() == 1


def test_a_resit_is_granted_and_counts_then_refused_past_the_limit(exam, hr_user):
    services.attempt_submit(start(exam))  # 0 marks: failed
    services.resit_grant(exam.candidate, hr_user)
    exam.candidate.refresh_from_db()
    assert exam.candidate.attempts_allowed == 2
    assert exam.candidate.history.latest().history_change_reason == "Re-sit granted by hr-user"
    second = start(exam)
    assert second.number == 2
    services.attempt_submit(second)
    assert list(
        AssessmentResult.objects.filter(worker=exam.worker, assessment=exam.setup.theory).values_list(
            "attempt", flat=True
        )
    ) == [1, 2]
    # The rule set allows one re-sit: 1 + 1 tries used.
    with pytest.raises(ValidationError, match="retrain"):
        services.resit_grant(exam.candidate, hr_user)


def test_a_resit_counts_results_imported_before(exam, hr_user):
    f.ResultFactory(assessment=exam.setup.theory, worker=exam.worker, score=Decimal("20"), attempt=1)
    services.attempt_submit(start(exam))
    with pytest.raises(ValidationError, match="retrain"):
        services.resit_grant(exam.candidate, hr_user)


def test_a_resit_is_refused_while_an_attempt_is_unused(exam, hr_user):
    with pytest.raises(ValidationError, match="still has an attempt"):
        services.resit_grant(exam.candidate, hr_user)


def test_editing_a_shown_question_later_keeps_the_attempts_version_and_score(exam):
    attempt = start(exam)
    answer_all(attempt, "B")
    services.attempt_submit(attempt)
    shown = AttemptQuestion.objects.filter(attempt=attempt).select_related("question_version").first()
    question = shown.question_version.question
    # A later edit makes a new version (the bank's door does so for a shown question).
    QuestionVersion.objects.create(
        question=question, number=2, stem="改过的题干", options=shown.question_version.options, answer="C"
    )
    shown.refresh_from_db()
    assert shown.question_version.number == 1 and shown.question_version.answer == "B"
    attempt.refresh_from_db()
    assert attempt.score == Decimal("100")


def test_a_save_costs_the_same_queries_for_question_1_and_question_50(django_assert_max_num_queries):
    exam = exam_setup(questions=60, count=50)
    attempt = start(exam)
    counts = []
    for order in (1, 50):
        with django_assert_max_num_queries(6) as queries:
            services.answer_save(attempt, order, "B", 1, False, **CLIENT)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_api_save_is_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    exam = exam_setup(questions=60, count=50)
    attempt = start(exam)
    client.force_login(exam.user)
    for order in (1, 50):
        with django_assert_max_num_queries(10):
            response = post_json(
                client, url("exam-answer", attempt), {"order": order, "answer": "B", "seq": 1, "flagged": False}
            )
        assert response.status_code == 200


def test_the_session_window_is_kept(exam):
    exam.session.opens_at = timezone.now() + dt.timedelta(hours=1)
    exam.session.save()
    with pytest.raises(ValidationError, match="opens"):
        start(exam)


def test_the_review_shows_after_the_session_closes(client, exam):
    attempt = start(exam)
    answer_all(attempt, "A")
    services.attempt_submit(attempt)
    client.force_login(exam.user)
    assert "Correct answer" not in client.get(url("exam-attempt", attempt)).content.decode()
    with time_machine.travel(exam.session.closes_at + dt.timedelta(minutes=1)):
        page = client.get(url("exam-attempt", attempt)).content.decode()
    assert "Correct answer" in page and "见《煤矿安全规程》" in page
