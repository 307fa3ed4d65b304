"""
Reads of online exams for candidates and HR: a worker's sessions, an attempt
as its candidate may see it (another's is 404), the attempt's state for the
exam app, the paper's review and the rule set whose re-sit limit applies.
Each loads in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils import timezone

from certifications.models import (
    Assessment,
    AssessmentResult,
    Attempt,
    AttemptQuestion,
    ExamCandidate,
    QuestionImage,
    RuleSet,
)
from training import access
from training.models import Worker

OPTION_LABELS = "ABCDEF"
# A course exam (no trade × rank, so no rule set) allows as many re-sits as a rule set does by default.
DEFAULT_RESIT_LIMIT = 1


def candidate_places(worker: Worker) -> list[ExamCandidate]:
    """Return the worker's places on exam rosters, newest session first, with their attempts (3 queries)."""
    return list(
        ExamCandidate.objects.filter(worker=worker)
        .select_related("session__template", "session__assessment")
        .prefetch_related(Prefetch("attempts", queryset=Attempt.objects.order_by("number")))
        .order_by("-session__opens_at", "session_id")
    )


def place_for_user_or_404(user, session_pk: int) -> ExamCandidate:
    """Return the logged-in worker's place on a session's roster; 404 when they are not on it."""
    worker = access.user_worker(user)
    if worker is None:
        raise Http404("No worker is linked to this login.")
    place = (
        ExamCandidate.objects.filter(session_id=session_pk, worker=worker)
        .select_related("session__template", "session__assessment", "worker")
        .prefetch_related(Prefetch("attempts", queryset=Attempt.objects.order_by("number")))
        .first()
    )
    if place is None:
        raise Http404("Not on this session's roster.")
    return place


def attempt_for_user_or_404(user, public_id) -> Attempt:
    """Return an attempt of the logged-in worker (one query); another's, or none, is 404."""
    attempt = (
        Attempt.objects.filter(public_id=public_id, candidate__worker__user_id=user.pk)
        .select_related("candidate__session__template", "candidate__session__assessment", "candidate__worker")
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def attempt_questions(attempt: Attempt) -> list[AttemptQuestion]:
    """Return the questions of an attempt in order, with their versions and images (2 queries)."""
    return list(
        AttemptQuestion.objects.filter(attempt=attempt)
        .select_related("question_version__question")
        .prefetch_related(Prefetch("question_version__images", queryset=QuestionImage.objects.order_by("slot")))
        .order_by("order")
    )


def _images(version) -> dict[str, str]:
    return {image.slot: image.image.url for image in version.images.all()}


def shown_options(question: AttemptQuestion) -> list[dict]:
    """Return the options as this candidate saw them: bank key, the label shown (A, B …) and text."""
    version = question.question_version
    texts = {o["key"]: o.get("text", "") for o in version.options}
    images = _images(version)
    order = question.option_order or [o["key"] for o in version.options]
    return [
        {"key": key, "label": OPTION_LABELS[i], "text": texts.get(key, ""), "image": images.get(key, "")}
        for i, key in enumerate(order)
    ]


def shown_answer(question: AttemptQuestion, answer: str) -> str:
    """Return an answer in the labels this candidate saw (bank keys "AC" may read "BD" on their paper)."""
    if question.question_version.question.kind not in ("single", "multiple"):
        return answer
    label = {o["key"]: o["label"] for o in shown_options(question)}
    return "".join(sorted(label.get(key, key) for key in answer))


def attempt_state(attempt: Attempt, *, now: dt.datetime | None = None) -> dict:
    """Return what the exam app needs: server time, deadline, remaining seconds and every question (2 queries)."""
    now = now or timezone.now()
    remaining = max(int((attempt.deadline - now).total_seconds()), 0)
    questions = []
    for question in attempt_questions(attempt):
        version = question.question_version
        images = _images(version)
        questions.append(
            {
                "order": question.order,
                "kind": version.question.kind,
                "stem": version.stem,
                "images": [images[""]] if "" in images else [],
                "options": shown_options(question),
                "marks": str(question.marks),
                "answer": question.answer,
                "flagged": question.flagged,
                "seq": question.answer_seq,
            }
        )
    return {
        "now": now.isoformat(),
        "deadline": attempt.deadline.isoformat(),
        "remaining": remaining,
        "ended": not attempt.open or remaining <= 0,
        "questions": questions,
    }


def session_closed(attempt: Attempt, *, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) >= attempt.candidate.session.closes_at


def review_allowed(attempt: Attempt, *, now: dt.datetime | None = None) -> bool:
    """Return True when the candidate may see the correct answers: ended, session closed, template allows it."""
    return (
        not attempt.open and attempt.candidate.session.template.review_after_close and session_closed(attempt, now=now)
    )


def assessment_rule_set(assessment: Assessment) -> RuleSet | None:
    """Return the rule set in force on the assessment's day for its trade × rank (None for other assessments)."""
    if not (assessment.trade_id and assessment.rank_id):
        return None
    return (
        RuleSet.objects.filter(
            package__trade_id=assessment.trade_id,
            package__rank_id=assessment.rank_id,
            effective_from__lte=assessment.held_on,
        )
        .order_by("-effective_from", "-id")
        .first()
    )


def resit_limit(assessment: Assessment) -> int:
    rule_set = assessment_rule_set(assessment)
    return DEFAULT_RESIT_LIMIT if rule_set is None else rule_set.resit_limit


def results_used(candidate: ExamCandidate) -> int:
    """Return how many attempts at the session's assessment the worker has results for (each one try)."""
    return AssessmentResult.objects.filter(
        assessment_id=candidate.session.assessment_id, worker_id=candidate.worker_id
    ).count()


def session_roster(session) -> list[ExamCandidate]:
    """Return a session's roster with each candidate's attempts (HR's pages; 2 queries)."""
    return list(
        ExamCandidate.objects.filter(session=session)
        .select_related("worker")
        .prefetch_related(Prefetch("attempts", queryset=Attempt.objects.order_by("number")))
        .annotate(attempt_count=Count("attempts"))
        .order_by("worker__employee_no")
    )


def scaled(score: Decimal, full: Decimal, to: Decimal) -> Decimal:
    """Return a paper's score on the assessment's full marks (0.1 mark)."""
    if not full:
        return Decimal("0")
    return (Decimal(score) * Decimal(to) / Decimal(full)).quantize(Decimal("0.1"))
