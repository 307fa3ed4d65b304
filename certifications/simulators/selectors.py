"""The reads of simulator statements: the endpoints' GET, and the evidence on a worker's page."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from certifications.models import SimulatorCredential
from certifications.models import SimulatorStatement as Statement
from certifications.ranks.wording import number
from certifications.simulators.services import practical_hours, result_score
from training.models import Worker

# The statements a GET lists: every status but voided (a voided one is had only by voidedStatementId).
SHOWN = (Statement.Status.UNMAPPED, Statement.Status.APPLIED, Statement.Status.VOIDING, Statement.Status.OTHER)


def statement_get(
    *,
    credential: SimulatorCredential,
    statement_id: uuid.UUID | None = None,
    voided_statement_id: uuid.UUID | None = None,
) -> Statement | None:
    """
    Return a statement this credential sent, by id (None if voided), or a voided one by voidedStatementId (None
    if not voided). A simulator reads back what it sent, not other simulators' trainees.
    """
    mine = Statement.objects.filter(credential=credential)
    if voided_statement_id is not None:
        return mine.filter(statement_id=voided_statement_id, status=Statement.Status.VOIDED).first()
    return mine.filter(statement_id=statement_id).exclude(status=Statement.Status.VOIDED).first()


def statements_list(*, credential: SimulatorCredential, limit: int) -> QuerySet[Statement]:
    """The latest statements this credential sent that are not voided, newest first."""
    return (
        Statement.objects.filter(credential=credential, status__in=SHOWN)
        .select_related("credential")
        .order_by("-stored", "-pk")[:limit]
    )


def statement_json(statement: Statement) -> dict:
    """Return a statement as received, with what the store adds: stored, a timestamp if it had none, the authority."""
    data = dict(statement.received)
    data["stored"] = statement.stored.isoformat()
    data.setdefault("timestamp", statement.timestamp.isoformat())
    data.setdefault("version", "1.0.0")
    key = statement.credential.key if statement.credential_id else "kuangjiang"
    data["authority"] = {"objectType": "Agent", "account": {"homePage": "urn:kuangjiang:simulators", "name": key}}
    return data


@dataclass(frozen=True)
class SimulatorSession:
    """One statement standing as evidence for a worker, in words."""

    on: dt.date
    activity: str
    words: str


def worker_simulator_evidence(worker: Worker) -> tuple[Decimal, list[SimulatorSession]]:
    """Return a worker's practical hours from simulators and each applied statement in words, newest first (1 query)."""
    rows = list(
        Statement.objects.filter(worker=worker, status=Statement.Status.APPLIED)
        .select_related("activity__course", "activity__assessment")
        .order_by("-timestamp", "-pk")
    )
    seconds_by_day: dict[tuple[int, dt.date], Decimal] = {}
    sessions = []
    for s in rows:
        activity = s.activity
        parts = []
        if s.duration_seconds is not None:
            minutes = (s.duration_seconds / 60).quantize(Decimal("0.1"))
            parts.append(_("%(minutes)s min in the simulator") % {"minutes": number(minutes)})
            if activity.course_id:
                key = (activity.course_id, s.on)
                seconds_by_day[key] = seconds_by_day.get(key, Decimal(0)) + s.duration_seconds
        if s.score_scaled is not None:
            if activity.assessment_id:
                parts.append(
                    _("scored %(score)s of %(full)s (%(assessment)s)")
                    % {
                        "score": number(result_score(s.score_scaled, activity.assessment.full_marks)),
                        "full": number(activity.assessment.full_marks),
                        "assessment": activity.assessment.name,
                    }
                )
            else:
                parts.append(
                    _("scored %(percent)s %%") % {"percent": number((s.score_scaled * 100).quantize(Decimal("0.1")))}
                )
        if s.success is not None:
            parts.append(_("passed") if s.success else _("failed"))
        if s.completion:
            parts.append(_("completed"))
        if not parts:
            parts.append(_("reported, with no time or score"))
        label = activity.name or (activity.course.title if activity.course_id else activity.activity_iri)
        sessions.append(SimulatorSession(on=s.on, activity=label, words="; ".join(parts)))
    hours = sum((practical_hours(v) for v in seconds_by_day.values()), Decimal(0))
    return hours, sessions
