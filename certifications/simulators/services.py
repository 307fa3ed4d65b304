"""
The one door for simulator writes: credentials, statements as they arrive, and what HR's mappings make of them —
practical hours through training/services.py, practical results through certifications/ranks/services.py.

Effects are recomputed from the stored statements, never added up on arrival: the day's simulation hours of a
worker in a course are the sum of its applied statements' durations, and the practical result is the score of
the latest applied statement. So applying twice, a statement sent again, or one voided, leaves exactly what the
statements that stand say.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.clearance.tokens import TOKEN_BYTES, token_hash
from certifications.models import Assessment, AssessmentResult, SimulatorActivity, SimulatorActor, SimulatorCredential
from certifications.models import SimulatorStatement as Statement
from certifications.ranks.services import result_correct, result_delete, result_record
from certifications.ranks.wording import number
from certifications.simulators.statements import Mapped, StatementError, comparable
from training.models import Attendance, Course, Worker
from training.services import attendance_delete, attendance_record, simulation_class_get

REASON = "simulator (xAPI)"
TENTH = Decimal("0.1")
# A day has 24 hours: more simulator time on one day for one course is a clock's error, counted as the day.
DAY_SECONDS = Decimal(24 * 3600)


def voided_reason() -> str:
    return _("%(reason)s: its statements were voided") % {"reason": REASON}


def class_hour_minutes() -> int:
    return int(settings.KUANGJIANG.get("CLASS_HOUR_MINUTES", 45))


# --- credentials -------------------------------------------------------------------------------------------------


@transaction.atomic
def credential_create(*, name: str, key: str = "") -> tuple[SimulatorCredential, str]:
    """Create a simulator's credential; return it with the raw secret, which is never stored or shown again."""
    key = key.strip() or f"sim-{secrets.token_hex(4)}"
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    credential = SimulatorCredential(name=name, key=key, secret_hash=token_hash(secret))
    credential.full_clean()
    credential.save()
    return credential, secret


def credential_authenticate(header: str) -> SimulatorCredential | None:
    """Return the active credential an `Authorization: Basic …` header names, or None."""
    scheme, _sep, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    key, sep, secret = decoded.partition(":")
    if not sep or not key or not secret or "\x00" in decoded or len(key) > 40:
        return None
    credential = SimulatorCredential.objects.filter(key=key, active=True).first()
    # Compared even when the key is unknown, so the time a refusal takes says nothing about which keys exist.
    stored = credential.secret_hash if credential is not None else "0" * 64
    if not hmac.compare_digest(stored.encode(), token_hash(secret).encode()) or credential is None:
        return None
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > dt.timedelta(minutes=1):
        SimulatorCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential


# --- statements as they arrive ------------------------------------------------------------------------------------


class Conflict(Exception):
    """A statement id the store holds with other content (409)."""


@dataclass
class Stored:
    """What one POST or PUT did: the ids in the order sent, and how many were new."""

    ids: list[str]
    new: int = 0


def statements_store(
    mapped: list[Mapped], *, credential: SimulatorCredential | None, user: AbstractBaseUser | None = None
) -> Stored:
    """
    Store a batch of checked statements all or nothing, then apply them. A statement id already held with the same
    content is accepted again and changes nothing; with other content the whole batch is refused (Conflict).
    """
    for attempt in range(2):
        try:
            return _store(mapped, credential=credential, user=user)
        except IntegrityError:
            # Another request stored one of these ids between our check and our insert: check again, once.
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _store(mapped: list[Mapped], *, credential, user) -> Stored:
    seen: dict[uuid.UUID, Mapped] = {}
    for m in mapped:
        if m.statement_id in seen:
            raise StatementError(_("The batch holds statement %(id)s twice.") % {"id": m.statement_id})
        seen[m.statement_id] = m
    ids = list(seen)
    held = {
        row["statement_id"]: row["received"]
        for row in Statement.objects.filter(statement_id__in=ids).values("statement_id", "received")
    }
    for statement_id, received in held.items():
        if comparable(received) != seen[statement_id].comparable:
            raise Conflict(_("Statement %(id)s is already stored with other content.") % {"id": statement_id})
    new = [m for m in mapped if m.statement_id not in held]
    if not new:
        return Stored(ids=[str(i) for i in ids])

    targets = {m.target_statement_id for m in new if m.voids}
    target_rows = {
        s.statement_id: s for s in Statement.objects.filter(statement_id__in=targets).select_related("activity__course")
    }
    in_batch = {m.statement_id: m for m in new}
    for m in new:
        if not m.voids:
            continue
        target = target_rows.get(m.target_statement_id)
        if (target is not None and target.status == Statement.Status.VOIDING) or (
            m.target_statement_id in in_batch and in_batch[m.target_statement_id].voids
        ):
            raise StatementError(_("A voiding statement cannot void another voiding statement."))
    # Voiding statements stored before the statements they void (xAPI lets them arrive first).
    voided_early = dict(
        Statement.objects.filter(
            status=Statement.Status.VOIDING, target_statement_id__in=[m.statement_id for m in new]
        ).values_list("target_statement_id", "statement_id")
    )
    voiders = {m.target_statement_id: m.statement_id for m in new if m.voids}

    now = timezone.now()
    rows = []
    for m in new:
        when = m.timestamp or now
        rows.append(
            Statement(
                statement_id=m.statement_id,
                credential=credential,
                received=m.received,
                stored=now,
                timestamp=when,
                on=timezone.localtime(when).date(),
                actor_key=m.actor_key,
                actor_name=m.actor_name,
                account_name=m.account_name,
                verb_id=m.verb_id,
                activity_iri=m.activity_iri,
                target_statement_id=m.target_statement_id,
                score_scaled=m.score_scaled,
                success=m.success,
                completion=m.completion,
                duration_seconds=m.duration_seconds,
                status=Statement.Status.VOIDING
                if m.voids
                else Statement.Status.OTHER
                if not m.activity_iri
                else Statement.Status.UNMAPPED,
            )
        )
    for row in rows:
        voider = voided_early.get(row.statement_id) or voiders.get(row.statement_id)
        if voider is not None and row.status != Statement.Status.VOIDING:
            row.status, row.voided_by = Statement.Status.VOIDED, voider
    fresh = [row for row in rows if row.status == Statement.Status.UNMAPPED]
    _resolve(fresh, now=now)
    Statement.objects.bulk_create(rows, batch_size=500)

    # Stored targets voided now: their effects are recomputed without them.
    touched = _Groups()
    newly_voided = []
    for target_id, voider in voiders.items():
        target = target_rows.get(target_id)
        if target is None or target.status in (Statement.Status.VOIDED, Statement.Status.VOIDING):
            continue
        if target.status == Statement.Status.APPLIED:
            touched.add(target)
        target.status, target.voided_by = Statement.Status.VOIDED, voider
        newly_voided.append(target)
    if newly_voided:
        Statement.objects.bulk_update(newly_voided, ["status", "voided_by"])
    for row in fresh:
        if row.status == Statement.Status.APPLIED:
            touched.add(row)
    touched.sync(user=user)
    return Stored(ids=[str(i) for i in ids], new=len(new))


# --- mapping ------------------------------------------------------------------------------------------------------


def _resolve(statements: list[Statement], *, now: dt.datetime) -> None:
    """Find each statement's worker and activity mapping (three queries whatever the number); mark it applied."""
    if not statements:
        return
    actors = dict(
        SimulatorActor.objects.filter(actor_key__in={s.actor_key for s in statements}).values_list(
            "actor_key", "worker_id"
        )
    )
    # The default rule: an account's name is the worker's employee number.
    numbers = {s.account_name for s in statements if s.actor_key not in actors and s.account_name}
    by_number = dict(Worker.objects.filter(employee_no__in=numbers).values_list("employee_no", "pk")) if numbers else {}
    activities = {
        a.activity_iri: a
        for a in SimulatorActivity.objects.filter(activity_iri__in={s.activity_iri for s in statements}).select_related(
            "course", "assessment"
        )
    }
    for s in statements:
        worker_id = actors.get(s.actor_key) or by_number.get(s.account_name)
        activity = activities.get(s.activity_iri)
        problems = []
        if worker_id is None:
            problems.append(_("no worker for this actor"))
        if activity is None:
            problems.append(_("no mapping for this activity"))
        s.worker_id, s.activity = worker_id, activity
        if problems:
            s.status, s.problem = Statement.Status.UNMAPPED, "; ".join(problems)
        else:
            s.status, s.problem, s.applied_at = Statement.Status.APPLIED, "", now


@dataclass
class ApplyReport:
    applied: int = 0
    still_unmapped: int = 0


@transaction.atomic
def statements_apply(statement_ids: list[int] | None = None, *, user: AbstractBaseUser | None = None) -> ApplyReport:
    """
    Apply the unmapped statements (all, or those with these ids) whose actor and activity are now mapped. Run
    twice, the second run finds nothing left to apply.
    """
    pending = Statement.objects.select_for_update().filter(status=Statement.Status.UNMAPPED)
    if statement_ids is not None:
        pending = pending.filter(pk__in=statement_ids)
    statements = list(pending)
    _resolve(statements, now=timezone.now())
    Statement.objects.bulk_update(statements, ["worker", "activity", "status", "problem", "applied_at"], batch_size=500)
    touched = _Groups()
    for s in statements:
        if s.status == Statement.Status.APPLIED:
            touched.add(s)
    touched.sync(user=user)
    applied = sum(1 for s in statements if s.status == Statement.Status.APPLIED)
    return ApplyReport(applied=applied, still_unmapped=len(statements) - applied)


@transaction.atomic
def statements_reapply(statement_ids: list[int], *, user: AbstractBaseUser | None = None) -> ApplyReport:
    """
    Apply the current mappings again to these applied or unmapped statements (after HR corrected a mapping):
    what they gave the worker and course they were mapped to is worked out again without them, then what they
    give now.
    """
    statements = list(
        Statement.objects.select_for_update(of=("self",))
        .filter(pk__in=statement_ids, status__in=[Statement.Status.APPLIED, Statement.Status.UNMAPPED])
        .select_related("activity")
    )
    before = _Groups()
    for s in statements:
        if s.status == Statement.Status.APPLIED:
            before.add(s)
        s.training_class = None
    _resolve(statements, now=timezone.now())
    Statement.objects.bulk_update(
        statements, ["worker", "activity", "status", "problem", "applied_at", "training_class"], batch_size=500
    )
    # What they gave before is undone first, so a result they carried is corrected or deleted before another
    # worker's is recorded.
    before.sync(user=user)
    after = _Groups()
    for s in statements:
        if s.status == Statement.Status.APPLIED:
            after.add(s)
    after.sync(user=user)
    applied = sum(1 for s in statements if s.status == Statement.Status.APPLIED)
    return ApplyReport(applied=applied, still_unmapped=len(statements) - applied)


# --- effects ------------------------------------------------------------------------------------------------------


@dataclass
class _Groups:
    """The (worker, course, day) hours and (worker, assessment) results some statements touch."""

    hours: set[tuple[int, int, dt.date, str]] = field(default_factory=set)
    results: set[tuple[int, int]] = field(default_factory=set)

    def add(self, s: Statement) -> None:
        activity = s.activity
        if activity is None or s.worker_id is None:
            return
        if activity.course_id is not None and s.duration_seconds is not None:
            self.hours.add((s.worker_id, activity.course_id, s.on, activity.class_kind))
        if activity.assessment_id is not None and s.score_scaled is not None:
            self.results.add((s.worker_id, activity.assessment_id))

    def sync(self, *, user) -> None:
        for worker_id, course_id, on, kind in sorted(self.hours):
            _hours_sync(worker_id=worker_id, course_id=course_id, on=on, kind=kind, user=user)
        for worker_id, assessment_id in sorted(self.results):
            _result_sync(worker_id=worker_id, assessment_id=assessment_id, user=user)


def practical_hours(seconds: Decimal) -> Decimal:
    """Return the class hours (学时, settings.KUANGJIANG["CLASS_HOUR_MINUTES"] minutes each) in these seconds."""
    seconds = min(seconds, DAY_SECONDS)
    return (seconds / Decimal(60 * class_hour_minutes())).quantize(TENTH, rounding=ROUND_HALF_UP)


def _hours_sync(*, worker_id: int, course_id: int, on: dt.date, kind: str, user) -> None:
    """Make the worker's attendance of the day's simulation class what the standing statements add up to."""
    standing = Statement.objects.filter(
        status=Statement.Status.APPLIED, worker_id=worker_id, activity__course_id=course_id, on=on
    ).exclude(duration_seconds__isnull=True)
    seconds = standing.aggregate(seconds=Sum("duration_seconds"))["seconds"] or Decimal(0)
    hours = practical_hours(seconds)
    worker = Worker.objects.get(pk=worker_id)
    course = Course.objects.get(pk=course_id)
    training_class = simulation_class_get(course=course, on=on, kind=kind)
    attendance = Attendance.objects.filter(training_class=training_class, worker=worker).first()
    if hours <= 0 and seconds <= 0:
        if attendance is not None:
            attendance_delete(attendance, user=user, reason=voided_reason())
    elif attendance is None or attendance.practical_hours != hours or attendance.theory_hours:
        minutes = (seconds / 60).quantize(TENTH, rounding=ROUND_HALF_UP)
        attendance_record(
            training_class=training_class,
            worker=worker,
            theory_hours=Decimal(0),
            practical_hours=hours,
            remarks=(_("%(minutes)s min in the simulator") % {"minutes": number(minutes)})[:200],
            recorded_by=user,
            reason=REASON,
        )
    Statement.objects.filter(
        Q(status=Statement.Status.APPLIED) | Q(status=Statement.Status.VOIDED),
        worker_id=worker_id,
        activity__course_id=course_id,
        on=on,
        training_class__isnull=True,
    ).update(training_class=training_class)


def result_score(scaled: Decimal, full_marks: Decimal) -> Decimal:
    """Return the score a scaled score stands for: scaled × full marks, to a tenth; below zero counts as zero."""
    return (max(scaled, Decimal(0)) * full_marks).quantize(TENTH, rounding=ROUND_HALF_UP)


def _result_sync(*, worker_id: int, assessment_id: int, user) -> None:
    """Make the worker's simulator result of the assessment the latest standing statement's score."""
    group = Statement.objects.filter(worker_id=worker_id, activity__assessment_id=assessment_id)
    latest = (
        group.filter(status=Statement.Status.APPLIED, score_scaled__isnull=False)
        .order_by("-timestamp", "-stored", "-pk")
        .first()
    )
    # The worker's result a simulator statement made, whichever statement still points at it (one that has
    # just moved to another worker does, until that worker's result is worked out).
    current = (
        AssessmentResult.objects.filter(
            worker_id=worker_id,
            assessment_id=assessment_id,
            pk__in=Statement.objects.filter(result__isnull=False).values("result_id"),
        )
        .select_related("assessment")
        .order_by("-pk")
        .first()
    )
    if latest is None:
        if current is not None:
            result_delete(result=current, user=user, reason=voided_reason())
        return
    assessment = current.assessment if current is not None else Assessment.objects.get(pk=assessment_id)
    score = result_score(latest.score_scaled, assessment.full_marks)
    remarks = (_("xAPI statement %(id)s") % {"id": latest.statement_id})[:200]
    if current is None:
        current = result_record(
            assessment=assessment,
            worker=Worker.objects.get(pk=worker_id),
            score=score,
            recorded_by=user,
            remarks=remarks,
            reason=REASON,
        )
    elif current.score != score or current.absent:
        result_correct(
            result=current,
            score=score,
            reason=_("%(reason)s: statement %(id)s") % {"reason": REASON, "id": latest.statement_id},
            corrected_by=user,
            remarks=remarks,
        )
    group.filter(Q(result__isnull=True) | ~Q(result=current)).exclude(score_scaled__isnull=True).update(result=current)
