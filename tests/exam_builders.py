"""A bank, a paper template and an online exam session on the roll-up's test trade (tests/rollup_setup.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from certifications.models import ExamCandidate, ExamSession, PaperTemplate, Question
from tests import factories as f
from tests.rollup_setup import Trade, trade_setup, worker_in
from training import roles


def bank(setup: Trade, n: int, *, kind=Question.Kind.SINGLE, difficulty=3, knowledge_point="供电安全", **kwargs):
    """Return n active questions serving the trade × rank of the setup (answer B for choices, T for true/false)."""
    questions = []
    for _ in range(n):
        question = f.QuestionFactory(kind=kind, difficulty=difficulty, knowledge_point=knowledge_point, **kwargs)
        question.trades.add(setup.trade)
        question.ranks.add(setup.ranks[1])
        questions.append(question)
    return questions


def template_for(setup: Trade, *, count=10, marks=Decimal("10"), **kwargs) -> PaperTemplate:
    template = f.PaperTemplateFactory(trade=setup.trade, rank=setup.ranks[1], **kwargs)
    f.PaperSectionFactory(template=template, kind=Question.Kind.SINGLE, count=count, marks_each=marks)
    return template


@dataclass
class Exam:
    setup: Trade
    template: PaperTemplate
    session: ExamSession
    candidate: ExamCandidate
    worker: object
    user: object


def exam_setup(*, questions=12, count=10, minutes=30, ready=True, **template_kwargs) -> Exam:
    """
    A trainee who holds 初级工 and (ready=True) attended the 中级工 course and passed the practical: the online
    theory exam is the last requirement of the 中级工 award.
    """
    setup = trade_setup()
    user = f.UserFactory(role=roles.TRAINEE)
    worker = worker_in(setup, f.WorkerFactory(user=user))
    if ready:
        f.AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
        f.ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("80"))
    bank(setup, questions)
    template = template_for(
        setup, count=count, marks=Decimal("100") / count, duration_minutes=minutes, **template_kwargs
    )
    now = timezone.now()
    session = f.ExamSessionFactory(
        template=template,
        assessment=setup.theory,
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=3),
    )
    candidate = f.ExamCandidateFactory(session=session, worker=worker)
    return Exam(setup, template, session, candidate, worker, user)
