"""
The exam door under concurrent requests on a real PostgreSQL server (issue 16): a candidate's saves racing their
submission — every save acknowledged is in the graded paper, every later one refused — and two tabs starting at
once get one attempt. Skipped on SQLite (it serialises writers).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from certifications.exams import services
from certifications.models import Attempt, AttemptQuestion
from tests.exam_builders import exam_setup
from tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_every_acknowledged_save_is_graded_when_the_submission_races_them(on_postgres):
    exam = exam_setup(questions=30, count=20)
    attempt = services.attempt_start(exam.candidate, ip=None, user_agent="")
    acknowledged: list[int] = []
    refused: list[int] = []

    def saves():
        for order in range(1, 21):
            try:
                services.answer_save(attempt, order, "B", 1, False, ip=None, user_agent="")
                acknowledged.append(order)
            except services.AnswerRefused:
                refused.append(order)

    def submit():
        services.attempt_submit(attempt)

    assert run_together(saves, submit) == []
    attempt.refresh_from_db()
    graded = dict(AttemptQuestion.objects.filter(attempt=attempt).values_list("order", "awarded"))
    assert sorted(acknowledged + refused) == list(range(1, 21))
    assert all(graded[order] == Decimal("5") for order in acknowledged)
    assert attempt.score == Decimal("5") * len(acknowledged)


def test_two_tabs_starting_at_once_get_one_attempt(on_postgres):
    exam = exam_setup()
    started = []

    def start():
        started.append(services.attempt_start(exam.candidate, ip=None, user_agent="").pk)

    assert run_together(start, start) == []
    assert len(set(started)) == 1 and Attempt.objects.filter(candidate=exam.candidate).count() == 1
