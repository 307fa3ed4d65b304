"""Item analysis (certifications/exams/analysis.py), on hand-built attempts with figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certifications.exams.analysis import (
    Sat,
    analysis_get,
    upper_lower,
)
from certifications.exams.bank import question_create, question_update
from certifications.models import Attempt, AttemptQuestion, Question
from certifications.ranks.services import result_record
from tests import factories as f
from training import roles

Kind = Question.Kind


def _attempt(candidate, score, answers: dict, *, ended=True):
    now = timezone.now()
    attempt = Attempt.objects.create(
        candidate=candidate,
        started_at=now - dt.timedelta(minutes=50),
        deadline=now + dt.timedelta(minutes=10),
        ended_at=now if ended else None,
        ended=Attempt.Ended.SUBMITTED if ended else "",
        score=Decimal(score) if ended else None,
        full_marks=Decimal(10),
    )
    for order, (version, answer) in enumerate(answers.items(), 1):
        AttemptQuestion.objects.create(
            attempt=attempt, question_version=version, order=order, marks=Decimal(2), answer=answer
        )
    if ended:
        # As the exam door does at submission: the score, scaled to the assessment, through the results door.
        assessment = candidate.session.assessment
        attempt.result = result_record(
            assessment=assessment,
            worker=candidate.worker,
            score=Decimal(score) * assessment.full_marks / attempt.full_marks,
            reason="online exam",
        )
        attempt.save(update_fields=["result"])
    return attempt


@pytest.fixture
def exam(db):
    """
    Four candidates ended (scores 9, 7, 5, 2 of 10; pass mark 60 of 100), one still writing, one not started.
    Q1 (single, B) was edited to answer C after the first two papers showed it.
    """
    assessment = f.AssessmentFactory(full_marks=Decimal(100), pass_mark=Decimal(60))
    session = f.ExamSessionFactory(assessment=assessment)
    workers = [f.WorkerFactory(employee_no=f"E{n}", name=f"考生{n}") for n in range(1, 7)]
    c = [f.ExamCandidateFactory(session=session, worker=w) for w in workers]
    q1 = question_create(kind=Kind.SINGLE, stem="第一题？", options=list("甲乙丙丁"), answer="B")
    q2 = question_create(kind=Kind.MULTIPLE, stem="第二题？", options=list("甲乙丙丁"), answer="ACD")
    q3 = question_create(kind=Kind.TRUE_FALSE, stem="第三题。", answer="对")
    v1, v2, v3 = q1.current, q2.current, q3.current
    _attempt(c[0], 9, {v1: "B", v2: "ACD", v3: "F"})
    _attempt(c[1], 7, {v1: "B", v2: "AC", v3: "T"})
    question_update(q1, answer="C")  # shown: a new version
    q1v2 = q1.versions.get(number=2)
    _attempt(c[2], 5, {q1v2: "C", v2: "ACD", v3: "T"})
    _attempt(c[3], 2, {q1v2: "", v2: "AB", v3: "T"})
    _attempt(c[4], 0, {q1v2: "A", v2: "A", v3: "F"}, ended=False)
    return session, q1, q2, q3


def _by_id(analysis):
    return {q.question_id: q for q in analysis.questions}


@pytest.mark.django_db
def test_the_figures_per_question_are_exact(exam, django_assert_max_num_queries):
    session, q1, q2, q3 = exam
    # The attempts, their questions, the versions, the session's report (its roster, their attempts and results).
    with django_assert_max_num_queries(5):
        analysis = analysis_get(session=session)
    assert analysis.attempts == 4  # the open attempt does not count
    figures = _by_id(analysis)

    one = figures[q1.pk].overall
    assert (one.shown, one.answered, one.correct) == (4, 3, 3)
    assert one.facility == 0.75
    assert (one.upper_facility, one.lower_facility, one.discrimination) == (1.0, 0.0, 1.0)
    first, second = figures[q1.pk].versions
    assert (first.number, first.shown, first.facility, first.discrimination) == (1, 2, 1.0, None)
    assert (second.number, second.shown, second.facility, second.lower_facility) == (2, 2, 0.5, 0.0)
    assert [(c.key, c.count, c.correct) for c in first.choices] == [
        ("A", 0, False),
        ("B", 2, True),
        ("C", 0, False),
        ("D", 0, False),
    ]
    assert [(c.key, c.count) for c in second.distractors] == [("A", 0), ("B", 0), ("D", 0)]

    two = figures[q2.pk].overall
    assert (two.shown, two.correct, two.facility, two.discrimination) == (4, 2, 0.5, 1.0)
    assert [(c.key, c.count, c.correct) for c in two.choices] == [
        ("A", 4, True),
        ("B", 1, False),
        ("C", 3, True),
        ("D", 2, True),
    ]

    three = figures[q3.pk].overall
    assert (three.shown, three.correct, three.facility) == (4, 3, 0.75)
    assert (three.upper_facility, three.lower_facility, three.discrimination) == (0.0, 1.0, -1.0)
    assert [(c.key, c.count, c.correct) for c in three.choices] == [("T", 3, True), ("F", 1, False)]
    assert three.flags == ["tells strong from weak candidates poorly"]
    # The question worth a look comes first.
    assert analysis.questions[0].question_id == q3.pk


@pytest.mark.django_db
def test_the_session_figures_are_exact(exam):
    session, *_questions = exam
    figures = analysis_get(session=session).session
    assert (figures.roster, figures.started, figures.ended, figures.passed) == (6, 5, 4, 2)
    assert figures.pass_rate == 0.5
    assert [band.count for band in figures.bands] == [0, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    assert figures.bands[-1].label == "90–100%"
    assert figures.not_started == [("E6", "考生6")]


@pytest.mark.django_db
def test_the_page_shows_hr_the_figures_and_refuses_others(exam, client):
    session, q1, *_rest = exam
    hr = Client()
    hr.force_login(f.UserFactory(username="hr-analysis", role=roles.HR))
    page = hr.get(reverse("certifications:exam-analysis"), {"session": session.pk})
    assert page.status_code == 200
    body = page.content.decode()
    assert "E6 考生6" in body and "0.75" in body and "-1.00" in body
    assert hr.get(reverse("certifications:exam-analysis")).status_code == 200
    assert hr.get(reverse("certifications:exam-analysis"), {"session": "abc"}).status_code == 404
    assert (
        hr.get(reverse("certifications:exam-analysis"), {"question": q1.pk})
        .context["analysis"]
        .questions[0]
        .question_id
        == q1.pk
    )
    client.force_login(f.UserFactory(username="assessor-analysis", role=roles.ASSESSOR, is_staff=True))
    assert client.get(reverse("certifications:exam-analysis")).status_code == 403


def test_the_groups_are_the_best_and_worst_27_percent():
    sat = [Sat(n, Decimal(n) / 100) for n in range(1, 101)]
    upper, lower = upper_lower(sat)
    assert upper == set(range(74, 101)) and lower == set(range(1, 28))
    assert upper_lower([Sat(1, Decimal(1))]) == (set(), set())
    assert upper_lower([Sat(1, Decimal(1)), Sat(2, Decimal(0))]) == ({1}, {2})
