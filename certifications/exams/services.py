"""
The exam door (机考): start or resume an attempt, save an answer as given,
submit (by the candidate or at time-out), grade into the roll-up and grant a
re-sit. The score reaches the roll-up only through the results door
(certifications/ranks/services.py result_record), as an imported result does.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.exams import bank
from certifications.exams.papers import QuotaSpec, draw_paper
from certifications.exams.sessions import resit_limit, results_used, scaled
from certifications.models import (
    AssessmentResult,
    Attempt,
    AttemptEvent,
    AttemptQuestion,
    ExamCandidate,
    ExamSession,
    PaperSection,
    Question,
    SectionQuota,
)
from certifications.ranks.services import result_record

Kind = AttemptEvent.Kind
USER_AGENT_MAX = 300
ANSWER_MAX = 500


class AnswerRefused(Exception):
    """A save after the deadline or after the attempt ended (the API answers 409)."""


def _event(attempt: Attempt, kind: str, *, now: dt.datetime, order=None, detail="", ip=None, user_agent=""):
    return AttemptEvent.objects.create(
        attempt=attempt,
        at=now,
        kind=kind,
        order=order,
        detail=detail[:500],
        ip=ip,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
    )


def _rng() -> random.Random:
    return random.SystemRandom()


@transaction.atomic
def attempt_start(
    candidate: ExamCandidate, *, ip: str | None, user_agent: str, now: dt.datetime | None = None
) -> Attempt:
    """
    Return the candidate's open attempt (audited as resumed) or start a new one: a paper drawn for them, the
    deadline fixed by the server. Refuse outside the session's window or when the attempts allowed are used.
    """
    now = now or timezone.now()
    # One start at a time per candidate: two tabs pressing "start" get the same attempt.
    candidate = ExamCandidate.objects.select_for_update().select_related("session__template").get(pk=candidate.pk)
    session = candidate.session
    for stale in Attempt.objects.filter(candidate=candidate, ended_at__isnull=True, deadline__lte=now):
        attempt_submit(stale, how=Attempt.Ended.TIMED_OUT, now=now)
    current = Attempt.objects.filter(candidate=candidate, ended_at__isnull=True).first()
    if current is not None:
        _event(current, Kind.RESUME, now=now, ip=ip, user_agent=user_agent)
        return current
    if now < session.opens_at:
        raise ValidationError(
            _("The exam opens at %(at)s.") % {"at": timezone.localtime(session.opens_at).strftime("%Y-%m-%d %H:%M")}
        )
    if now >= session.closes_at:
        raise ValidationError(_("The exam session has closed."))
    used = Attempt.objects.filter(candidate=candidate).count()
    if used >= candidate.attempts_allowed:
        raise ValidationError(
            _("You have used the %(n)d attempt(s) allowed at this exam; HR may grant a re-sit.")
            % {"n": candidate.attempts_allowed}
        )
    paper = draw_paper(session.template, _rng())
    deadline = min(now + dt.timedelta(minutes=session.minutes), session.closes_at)
    attempt = Attempt.objects.create(
        candidate=candidate,
        number=used + 1,
        started_at=now,
        deadline=deadline,
        full_marks=sum((marks for _v, marks, _o in paper), Decimal("0")),
    )
    AttemptQuestion.objects.bulk_create(
        AttemptQuestion(attempt=attempt, question_version=version, order=i, marks=marks, option_order=order)
        for i, (version, marks, order) in enumerate(paper, start=1)
    )
    _event(attempt, Kind.START, now=now, detail=f"{len(paper)} questions", ip=ip, user_agent=user_agent)
    return attempt


def attempt_opened(attempt: Attempt, *, ip: str | None, user_agent: str, now: dt.datetime | None = None) -> None:
    """Record that the candidate opened their open attempt's page again (a reload, another phone)."""
    _event(attempt, Kind.RESUME, now=now or timezone.now(), detail="page", ip=ip, user_agent=user_agent)


def answer_clean(kind: str, keys: list[str], answer: str) -> str:
    """Return an answer in the bank's form ("B", "ACD", "T"/"F", text); raise ValidationError for one not possible."""
    answer = (answer or "").strip()
    if not answer:
        return ""
    if kind == Question.Kind.FILL:
        if len(answer) > ANSWER_MAX:
            raise ValidationError(_("The answer is longer than %(n)d characters.") % {"n": ANSWER_MAX})
        return answer
    if kind == Question.Kind.TRUE_FALSE:
        if answer.upper() not in ("T", "F"):
            raise ValidationError(_("Answer T (true) or F (false)."))
        return answer.upper()
    chosen = sorted(set(answer.upper()))
    if any(key not in keys for key in chosen):
        raise ValidationError(_("%(answer)s is not among this question's options.") % {"answer": answer})
    if kind == Question.Kind.SINGLE and len(chosen) > 1:
        raise ValidationError(_("Choose one option."))
    return "".join(chosen)


def answer_save(
    attempt: Attempt,
    order: int,
    answer: str,
    seq: int,
    flagged: bool,
    *,
    ip: str | None,
    user_agent: str,
    now: dt.datetime | None = None,
) -> dict:
    """
    Keep an answer as given (a save with an older seq than stored changes nothing: offline replays arrive late);
    raise AnswerRefused after the deadline or once the attempt ended, audited as refused. A fixed number of
    queries whatever the question.
    """
    now = now or timezone.now()
    with transaction.atomic():
        saved = _answer_keep(attempt, order, answer, seq, flagged, ip=ip, user_agent=user_agent, now=now)
    if saved is None:
        # Outside the transaction: the refusal stays on the audit.
        _event(attempt, Kind.REFUSED, now=now, order=order, detail=f"seq {seq}: {answer}", ip=ip, user_agent=user_agent)
        raise AnswerRefused(_("The time is up: the answer was not saved."))
    return saved


def _answer_keep(attempt, order, answer, seq, flagged, *, ip, user_agent, now) -> dict | None:
    # Serialise with the submission: a save acknowledged is a save graded.
    ended_at, deadline = (
        Attempt.objects.select_for_update().filter(pk=attempt.pk).values_list("ended_at", "deadline").get()
    )
    if ended_at is not None or now >= deadline:
        return None
    question = (
        AttemptQuestion.objects.filter(attempt_id=attempt.pk, order=order)
        .select_related("question_version__question")
        .first()
    )
    if question is None:
        raise ValidationError(_("This paper has no question %(n)s.") % {"n": order})
    if seq <= question.answer_seq:
        return {"order": order, "seq": question.answer_seq, "saved": True}
    version = question.question_version
    clean = answer_clean(version.question.kind, version.option_keys, answer)
    changed_answer = clean != question.answer
    changed_flag = bool(flagged) != question.flagged
    AttemptQuestion.objects.filter(pk=question.pk, answer_seq__lt=seq).update(
        answer=clean, answer_seq=seq, flagged=bool(flagged), answered_at=now if changed_answer else question.answered_at
    )
    kind = Kind.FLAG if changed_flag and not changed_answer else Kind.SAVE
    detail = f"seq {seq}: {clean or '—'}" + (" ⚑" if flagged else "")
    _event(attempt, kind, now=now, order=order, detail=detail, ip=ip, user_agent=user_agent)
    return {"order": order, "seq": seq, "saved": True}


def _result_attempt_number(assessment_id: int, worker_id: int) -> int:
    last = AssessmentResult.all_objects.filter(assessment_id=assessment_id, worker_id=worker_id).aggregate(
        last=Max("attempt")
    )["last"]
    return (last or 0) + 1


@transaction.atomic
def attempt_submit(
    attempt: Attempt,
    how: str = Attempt.Ended.SUBMITTED,
    *,
    ip: str | None = None,
    user_agent: str = "",
    now: dt.datetime | None = None,
) -> Attempt:
    """
    End an attempt (by the candidate, or at time-out), grade every question with the bank's rule and record the
    score, scaled to the assessment's full marks, as the worker's theory result. Ending twice changes nothing.
    """
    now = now or timezone.now()
    attempt = (
        Attempt.objects.select_for_update()
        .select_related("candidate__session__template", "candidate__session__assessment")
        .get(pk=attempt.pk)
    )
    if not attempt.open:
        return attempt
    if now >= attempt.deadline:
        how = Attempt.Ended.TIMED_OUT
    session = attempt.candidate.session
    partial = session.template.partial_marks
    questions = list(attempt.questions.select_related("question_version__question"))
    for question in questions:
        version = question.question_version
        question.awarded = bank.grade(version.question.kind, version.answer, question.answer, question.marks, partial)
    AttemptQuestion.objects.bulk_update(questions, ["awarded"])
    attempt.score = sum((q.awarded for q in questions), Decimal("0"))
    attempt.ended = how
    attempt.ended_at = min(now, attempt.deadline)
    assessment = session.assessment
    result = result_record(
        assessment=assessment,
        worker=attempt.candidate.worker,
        score=scaled(attempt.score, attempt.full_marks, assessment.full_marks),
        attempt=_result_attempt_number(assessment.pk, attempt.candidate.worker_id),
        remarks=_("Online exam %(session)s, attempt %(n)d") % {"session": session.name, "n": attempt.number},
        reason=_("online exam"),
    )
    attempt.result = result
    attempt.save(update_fields=["score", "ended", "ended_at", "result"])
    kind = Kind.TIMEOUT if how == Attempt.Ended.TIMED_OUT else Kind.SUBMIT
    _event(attempt, kind, now=now, detail=f"{attempt.score} / {attempt.full_marks}", ip=ip, user_agent=user_agent)
    return attempt


def attempt_close_if_late(attempt: Attempt, *, now: dt.datetime | None = None) -> Attempt:
    """Submit an open attempt whose deadline has passed (on access); return it as it is now."""
    now = now or timezone.now()
    if attempt.open and now >= attempt.deadline:
        return attempt_submit(attempt, how=Attempt.Ended.TIMED_OUT, now=now)
    return attempt


def attempts_time_out(now: dt.datetime | None = None) -> int:
    """Submit every open attempt past its deadline (the close_exams command); return how many."""
    now = now or timezone.now()
    count = 0
    for attempt in Attempt.objects.filter(ended_at__isnull=True, deadline__lte=now).order_by("deadline", "id"):
        attempt_submit(attempt, how=Attempt.Ended.TIMED_OUT, now=now)
        count += 1
    return count


def _history_reason(instance, reason: str) -> None:
    instance._change_reason = reason


@transaction.atomic
def resit_grant(candidate: ExamCandidate, user: AbstractBaseUser | None) -> ExamCandidate:
    """
    Allow the candidate one more attempt; refuse while an attempt is unused, after a pass, or when the
    rule set's re-sit limit is used up (every result at the assessment is one try of 1 + re-sits allowed).
    """
    candidate = (
        ExamCandidate.objects.select_for_update().select_related("session__assessment", "worker").get(pk=candidate.pk)
    )
    assessment = candidate.session.assessment
    attempts = list(Attempt.objects.filter(candidate=candidate).select_related("result"))
    if len(attempts) < candidate.attempts_allowed:
        raise ValidationError(
            _("%(worker)s still has an attempt to use at this session.") % {"worker": candidate.worker.name}
        )
    if any(a.result is not None and a.result.passed for a in attempts):
        raise ValidationError(_("%(worker)s has passed this exam.") % {"worker": candidate.worker.name})
    limit = resit_limit(assessment)
    used = max(results_used(candidate), len(attempts))
    if used >= limit + 1:
        raise ValidationError(
            _(
                "%(worker)s has used %(used)d of the %(tries)d attempts the rule set allows at %(assessment)s "
                "(1 + %(limit)d re-sits): they must retrain before another attempt counts."
            )
            % {
                "worker": candidate.worker.name,
                "used": used,
                "tries": limit + 1,
                "assessment": assessment.code,
                "limit": limit,
            }
        )
    candidate.attempts_allowed += 1
    by = user.get_username() if user is not None else "—"
    _history_reason(candidate, _("Re-sit granted by %(user)s") % {"user": by})
    candidate.full_clean()
    candidate.save()
    return candidate


@transaction.atomic
def candidates_add(
    *, session: ExamSession, worker_ids: Iterable[int], user: AbstractBaseUser | None = None, reason: str = ""
) -> int:
    """Put workers on a session's roster (those already on it stay as they are); return how many were added."""
    on_roster = set(ExamCandidate.objects.filter(session=session).values_list("worker_id", flat=True))
    added = 0
    for worker_id in sorted(set(worker_ids) - on_roster):
        candidate = ExamCandidate(session=session, worker_id=worker_id)
        _history_reason(candidate, reason)
        candidate.save()
        added += 1
    return added


def session_prepare(session: ExamSession) -> ExamSession:
    """Take the theory assessment of the session's sitting when one is chosen; refuse a sitting without one."""
    if session.sitting_id:
        if session.sitting.theory_id is None:
            raise ValidationError({"sitting": _("This sitting has no theory exam: give it a theory date first.")})
        session.assessment_id = session.sitting.theory_id
    if session.assessment_id and session.assessment.kind != "theory":
        raise ValidationError({"assessment": _("Choose a theory assessment.")})
    return session


@transaction.atomic
def section_mix_set(section: PaperSection, quotas: Iterable[QuotaSpec]) -> None:
    """Replace a section's mixes with these (QuotaSpec: difficulty, knowledge point, count)."""
    section.quotas.all().delete()
    for quota in quotas:
        row = SectionQuota(
            section=section, difficulty=quota.difficulty, knowledge_point=quota.knowledge_point, count=quota.count
        )
        row.full_clean()
        row.save()
