"""
The pieces of bench/exams.py, without timing and without gunicorn: its data builds a session the exam door
accepts, its candidates' plan drives the JSON API through the Django test client (logged in through the login
form), and its lost-answer check passes a clean run and finds a planted lost answer and a planted wrong score.
"""

import importlib.util
import json
import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from certifications.models import Attempt, AttemptQuestion

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location("bench_exams", Path(__file__).resolve().parent.parent / "bench/exams.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_exams"] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)


def sit(username: str, setup, rng: random.Random) -> "bench.CandidateLog":
    """One candidate as the bench's client plays it, through the test client."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    login = client.post(
        reverse("login"),
        {"username": username, "password": bench.PASSWORD, "csrfmiddlewaretoken": token},
        headers={"user-agent": "KJ-bench"},
    )
    assert login.status_code == 302
    csrf = {"X-CSRFToken": client.cookies["csrftoken"].value}
    log = bench.CandidateLog(username)
    start = client.post(reverse("certifications:exam-rules", args=[setup.session_pk]), headers=csrf)
    assert start.status_code == 302
    log.public_id = start["Location"].rstrip("/").rsplit("/", 1)[1]
    state = client.get(reverse("certifications:exam-state", args=[log.public_id])).json()
    for save in bench.plan(state["questions"], setup.key, rng):
        body = {"order": save.order, "answer": save.answer, "seq": save.seq, "flagged": save.flagged}
        response = client.post(
            reverse("certifications:exam-answer", args=[log.public_id]),
            json.dumps(body),
            content_type="application/json",
            headers=csrf,
        )
        assert response.status_code == 200
        log.acknowledge(save, response.json())
    submitted = client.post(
        reverse("certifications:exam-submit", args=[log.public_id]),
        "{}",
        content_type="application/json",
        headers=csrf,
    )
    assert submitted.status_code == 200
    log.submitted = submitted.json()["score"]
    return log


def test_the_check_passes_a_clean_run_and_finds_each_planted_fault():
    """One run through the API (building it is most of this module's time), then one fault planted at a time."""
    setup = bench.build(candidates=2)
    rng = random.Random(5)
    logs = [sit(username, setup, rng) for username in setup.usernames]

    check = bench.answers_check(logs)
    questions = sum(count for _kind, count, _marks in bench.PAPER)
    assert check.attempts == 2 and check.answers == 2 * questions
    assert (check.lost, check.wrong_scores, check.not_ended) == ([], [], [])
    assert {Attempt.objects.get(public_id=log.public_id).ended for log in logs} == {"submitted"}

    # A save acknowledged but never written: the stored row is older than what the client saw.
    order, (seq, answer) = next(iter(logs[0].acked.items()))
    row = AttemptQuestion.objects.get(attempt__public_id=logs[0].public_id, order=order)
    AttemptQuestion.objects.filter(pk=row.pk).update(answer_seq=seq - 1, answer="")
    check = bench.answers_check(logs)
    assert len(check.lost) == 1 and f"Q{order}" in check.lost[0] and logs[0].username in check.lost[0]

    # Overwritten at the same seq by another answer.
    other = {"T": "F", "F": "T"}.get(answer, "A" if answer != "A" else "B")
    AttemptQuestion.objects.filter(pk=row.pk).update(answer_seq=seq, answer=other)
    assert len(bench.answers_check(logs).lost) == 1
    AttemptQuestion.objects.filter(pk=row.pk).update(answer_seq=row.answer_seq, answer=row.answer)
    assert bench.answers_check(logs).lost == []

    # A stored score that is not the regrade of the stored answers.
    attempt = Attempt.objects.get(public_id=logs[0].public_id)
    Attempt.objects.filter(pk=attempt.pk).update(score=attempt.score + Decimal("2"))
    check = bench.answers_check(logs)
    assert check.lost == [] and len(check.wrong_scores) == 1 and logs[0].username in check.wrong_scores[0]
    Attempt.objects.filter(pk=attempt.pk).update(score=attempt.score)

    # A score shown to the candidate that is not the stored one.
    logs[1].submitted = str(Decimal(logs[1].submitted) + 1)
    check = bench.answers_check(logs)
    assert len(check.wrong_scores) == 1 and logs[1].username in check.wrong_scores[0]


def test_the_plan_changes_some_answers_and_replays_some_old_saves_that_change_nothing():
    options = [{"key": k} for k in "ABCD"]
    questions = [{"order": i, "stem": bench._stem("single", i), "options": options} for i in range(400)]
    key = {q["stem"]: ("single", "B") for q in questions}
    saves = bench.plan(questions, key, random.Random(1))
    assert {s.seq for s in saves} == {1, 2}
    assert any(s.replay for s in saves)
    # A replay comes after the newer save of its question.
    for i, s in enumerate(saves):
        if s.replay:
            assert any(t.order == s.order and t.seq == 2 for t in saves[:i])


def test_a_save_acknowledged_for_an_attempt_that_does_not_exist_is_lost():
    log = bench.CandidateLog("ghost", public_id="00000000-0000-0000-0000-000000000000", acked={1: (1, "A")})
    assert len(bench.answers_check([log]).lost) == 1


def test_a_reply_with_the_newer_seq_is_not_an_acknowledgement_of_the_older_save():
    log = bench.CandidateLog("x")
    log.acknowledge(bench.Save(3, "C", 2, False), {"order": 3, "seq": 2, "saved": True})
    log.acknowledge(bench.Save(3, "A", 1, False, replay=True), {"order": 3, "seq": 2, "saved": True})
    assert log.acked == {3: (2, "C")} and log.replays_kept_newer == 1
