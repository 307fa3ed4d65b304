"""
Writes of the roll-up: recording results, attendance and comprehensive
reviews, awarding ranks with a frozen copy of their evidence, HR's decisions,
and recomputing everyone's ranks in a set-based pass.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.models import Assessment, AssessmentResult, ComprehensiveReview, RankRecord, RuleSet
from certifications.ranks import rules
from certifications.ranks.inputs import rollup_inputs_load
from core.bulk import JsonText, gc_paused, history_copy, rows_insert
from core.history import with_reason
from core.signals import evidence_changed, figures_stale
from training.locking import workers_lock
from training.models import Attendance, Rank, Trade, TrainingClass, Worker

LIVE = (RankRecord.Status.PENDING, RankRecord.Status.AWARDED)
SETTLED = (RankRecord.Status.REJECTED, RankRecord.Status.REVOKED)


# The values of settings.KUANGJIANG["RANK_AWARD_MODE"]; certifications/checks.py refuses any other.
AWARD_MODES = ("auto", "confirm")


def award_mode() -> str:
    """Return "auto" or "confirm" (settings.KUANGJIANG["RANK_AWARD_MODE"])."""
    mode = settings.KUANGJIANG.get("RANK_AWARD_MODE", "confirm")
    return mode if mode in AWARD_MODES else "confirm"


def _recompute_after_commit(worker_id: int) -> None:
    transaction.on_commit(partial(ranks_recompute, worker_ids=[worker_id]))


def _flag_dependent_records(*, worker_id: int, kind: str, pk: int, reason: str, user=None) -> list[RankRecord]:
    """Mark for HR review every live rank record whose evidence includes this row; never revoke it."""
    flagged = []
    for record in RankRecord.objects.filter(worker_id=worker_id, status__in=LIVE):
        if pk in (record.evidence or {}).get(kind, ()):
            record.needs_review = True
            record.review_reason = reason[:300]
            with_reason(record, reason, user=user)
            record.save(update_fields=["needs_review", "review_reason"])
            flagged.append(record)
    return flagged


# --- results, attendance, reviews ---------------------------------------------------------


@transaction.atomic
def result_record(
    *,
    assessment: Assessment,
    worker: Worker,
    score: Decimal | None,
    absent: bool = False,
    attempt: int | None = None,
    recorded_by: AbstractBaseUser | None = None,
    remarks: str = "",
) -> AssessmentResult:
    """Record one attempt's score (or absence) and re-evaluate the worker once the transaction commits."""
    if attempt is None:
        last = AssessmentResult.objects.filter(assessment=assessment, worker=worker).aggregate(last=Max("attempt"))[
            "last"
        ]
        attempt = (last or 0) + 1
    result = AssessmentResult(
        assessment=assessment,
        worker=worker,
        score=None if absent else score,
        absent=absent,
        attempt=attempt,
        recorded_by=recorded_by,
        remarks=remarks,
    )
    result.full_clean()
    result.save()
    _recompute_after_commit(worker.pk)
    return result


@transaction.atomic
def result_correct(
    *,
    result: AssessmentResult,
    score: Decimal | None,
    absent: bool = False,
    reason: str,
    corrected_by: AbstractBaseUser | None = None,
    remarks: str | None = None,
) -> AssessmentResult:
    """Correct a recorded score; awards resting on it are marked for HR review, never revoked."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the score is corrected.")})
    before = "—" if result.absent else str(result.score)
    result.score = None if absent else score
    result.absent = absent
    if remarks is not None:
        result.remarks = remarks
    result.full_clean()
    with_reason(result, reason, user=corrected_by)
    result.save()
    after = _("absent") if absent else str(score)
    _flag_dependent_records(
        worker_id=result.worker_id,
        kind="results",
        pk=result.pk,
        reason=_("Result #%(id)s corrected from %(before)s to %(after)s: %(reason)s")
        % {"id": result.pk, "before": before, "after": after, "reason": reason},
        user=corrected_by,
    )
    _recompute_after_commit(result.worker_id)
    return result


@transaction.atomic
def result_delete(*, result: AssessmentResult, user: AbstractBaseUser | None, reason: str) -> None:
    """Mark a result deleted; awards resting on it are marked for HR review, never revoked."""
    from training.retention import record_soft_delete

    record_soft_delete(instance=result, user=user, reason=reason)
    _flag_dependent_records(
        worker_id=result.worker_id,
        kind="results",
        pk=result.pk,
        reason=_("Result #%(id)s deleted: %(reason)s") % {"id": result.pk, "reason": reason},
        user=user,
    )
    _recompute_after_commit(result.worker_id)


@transaction.atomic
def attendance_record(
    *,
    training_class: TrainingClass,
    worker: Worker,
    theory_hours: Decimal,
    practical_hours: Decimal,
    remarks: str = "",
    recorded_by: AbstractBaseUser | None = None,
) -> Attendance:
    """Record (or correct) the hours a worker attended in a class and re-evaluate them after commit."""
    attendance = Attendance.objects.filter(training_class=training_class, worker=worker).first()
    corrected = attendance is not None and (
        attendance.theory_hours != theory_hours or attendance.practical_hours != practical_hours
    )
    if attendance is None:
        attendance = Attendance(training_class=training_class, worker=worker)
    before = (attendance.theory_hours, attendance.practical_hours)
    attendance.theory_hours = theory_hours
    attendance.practical_hours = practical_hours
    attendance.remarks = remarks
    attendance.full_clean()
    attendance.save()
    if corrected:
        _flag_dependent_records(
            worker_id=worker.pk,
            kind="attendance",
            pk=attendance.pk,
            reason=_("Attendance #%(id)s corrected from %(before)s to %(after)s hours")
            % {"id": attendance.pk, "before": "+".join(map(str, before)), "after": f"{theory_hours}+{practical_hours}"},
            user=recorded_by,
        )
    _recompute_after_commit(worker.pk)
    return attendance


@transaction.atomic
def review_record(
    *, worker: Worker, trade: Trade, rank: Rank, held_on: dt.date, passed: bool, panel: str = "", remarks: str = ""
) -> ComprehensiveReview:
    """Record the outcome of a comprehensive review (综合评审) and re-evaluate the worker after commit."""
    review = ComprehensiveReview(
        worker=worker, trade=trade, rank=rank, held_on=held_on, passed=passed, panel=panel, remarks=remarks
    )
    review.full_clean()
    review.save()
    _recompute_after_commit(worker.pk)
    return review


# --- awards -----------------------------------------------------------------------------------


def _rule_info(inputs: rules.WorkerTradeInputs, step: rules.RankStep) -> rules.RuleSetInfo | None:
    return next((r for r in inputs.rule_sets.get(step.rank_id, ()) if r.id == step.rule_set_id), None)


def _record_build(
    *, worker_id: int, trade_id: int, step: rules.RankStep, rule_info, on: dt.date, mode: str
) -> RankRecord:
    awarded = mode == "auto"
    return RankRecord(
        worker_id=worker_id,
        trade_id=trade_id,
        rank_id=step.rank_id,
        status=RankRecord.Status.AWARDED if awarded else RankRecord.Status.PENDING,
        source=RankRecord.Source.ENGINE,
        awarded_on=on if awarded else None,
        rule_set_id=step.rule_set_id,
        evidence=rules.step_snapshot(step, rule_info, on),
    )


@transaction.atomic
def rank_award(
    *, worker: Worker, trade: Trade, step: rules.RankStep, on: dt.date, mode: str | None = None
) -> RankRecord:
    """Create a rank record for a met step, with a snapshot of its evidence and the rule version used."""
    if not step.met:
        raise ValidationError(_("%(rank)s is not earned yet.") % {"rank": step.rank_name})
    rule_info = None
    if step.rule_set_id is not None:
        rule_set = RuleSet.objects.select_related("package").get(pk=step.rule_set_id)
        rule_info = rules.RuleSetInfo(
            id=rule_set.pk,
            name=rule_set.name,
            rank_id=rule_set.package.rank_id,
            **{name: getattr(rule_set, name) for name in rules.RULE_SET_FIELDS},
        )
    record = _record_build(
        worker_id=worker.pk, trade_id=trade.pk, step=step, rule_info=rule_info, on=on, mode=mode or award_mode()
    )
    record.full_clean()
    with_reason(record, _("Awarded by the roll-up engine"))
    record.save()
    return record


@transaction.atomic
def rank_approve(*, record: RankRecord, user: AbstractBaseUser | None, on: dt.date | None = None) -> RankRecord:
    """Approve a pending award: the worker holds the rank from `on` (today by default)."""
    if record.status != RankRecord.Status.PENDING:
        raise ValidationError(_("Only a pending award can be approved."))
    record.status = RankRecord.Status.AWARDED
    record.awarded_on = on or timezone.localdate()
    record.decided_by = user
    record.decided_at = timezone.now()
    record.full_clean()
    with_reason(record, _("Approved"), user=user)
    record.save()
    # The next rank may now be within reach.
    _recompute_after_commit(record.worker_id)
    return record


@transaction.atomic
def rank_reject(*, record: RankRecord, user: AbstractBaseUser | None, reason: str) -> RankRecord:
    """Reject a pending award with a reason; the engine does not propose it again on the same evidence."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the rejection.")})
    if record.status != RankRecord.Status.PENDING:
        raise ValidationError(_("Only a pending award can be rejected."))
    record.status = RankRecord.Status.REJECTED
    record.decided_by = user
    record.decided_at = timezone.now()
    record.evidence = {**(record.evidence or {}), "rejection_reason": reason}
    record.full_clean()
    with_reason(record, _("Rejected: %(reason)s") % {"reason": reason}, user=user)
    record.save()
    return record


# --- recompute ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankChange:
    worker_id: int
    employee_no: str
    worker_name: str
    trade_name: str
    rank_name: str
    status: str

    def __str__(self):
        return f"{self.employee_no} {self.worker_name} · {self.trade_name} → {self.rank_name} ({self.status})"


@dataclass
class RecomputeReport:
    evaluated: int = 0  # worker × trade pairs
    workers: int = 0
    changes: list[RankChange] = field(default_factory=list)
    dry_run: bool = False
    mode: str = "confirm"

    @property
    def awarded(self) -> int:
        return sum(c.status == RankRecord.Status.AWARDED for c in self.changes)

    @property
    def pending(self) -> int:
        return sum(c.status == RankRecord.Status.PENDING for c in self.changes)


def _describe(report: RecomputeReport, records: list[dict], worker_filter) -> None:
    if not records:
        return
    wanted = {r["worker_id"] for r in records}
    workers = {
        pk: (no, name)
        for pk, no, name in Worker.objects.filter(**worker_filter)
        .values_list("id", "employee_no", "name")
        .iterator(chunk_size=5000)
        if pk in wanted
    }
    trades = dict(Trade.objects.values_list("id", "name"))
    ranks = dict(Rank.objects.values_list("id", "name"))
    for record in records:
        no, name = workers.get(record["worker_id"], ("?", "?"))
        report.changes.append(
            RankChange(
                record["worker_id"], no, name, trades[record["trade_id"]], ranks[record["rank_id"]], record["status"]
            )
        )


def _record_rows(on: dt.date, mode: str):
    """Return a function building the plain row (attname → value) of a new engine award: no model instance per award."""
    template = {
        f.attname: getattr(RankRecord(), f.attname) for f in RankRecord._meta.concrete_fields if not f.primary_key
    }
    awarded = mode == "auto"
    template.update(
        status=RankRecord.Status.AWARDED if awarded else RankRecord.Status.PENDING,
        source=RankRecord.Source.ENGINE,
        awarded_on=on if awarded else None,
    )

    def row(*, worker_id: int, trade_id: int, step: rules.RankStep, rule_info) -> dict:
        evidence = JsonText(json.dumps(rules.step_snapshot(step, rule_info, on), ensure_ascii=False))
        return {
            **template,
            "worker_id": worker_id,
            "trade_id": trade_id,
            "rank_id": step.rank_id,
            "rule_set_id": step.rule_set_id,
            "evidence": evidence,
        }

    return row


def _records_insert(rows: list[dict]) -> None:
    """
    Insert new rank records (one executemany per batch) and copy them into
    their history in one INSERT … SELECT: at a mine's scale bulk_create spends
    seconds building SQL per row. Not rows_insert's columnar form: psycopg
    spends 1.5 s of CPU quoting 6,730 evidence snapshots (2.3 KB each) into
    one array literal, where an executemany is 0.8 s wall in all.
    """
    stamp = timezone.now()
    for row in rows:
        row["created_at"] = stamp
    after_id = RankRecord._base_manager.aggregate(last=Max("pk"))["last"] or 0
    rows_insert(RankRecord, rows)
    history_copy(
        RankRecord,
        after_id=after_id,
        marker={"created_at": stamp, "source": RankRecord.Source.ENGINE},
        user_id=None,
        reason=_("Awarded by the roll-up engine"),
        date=stamp,
    )


@transaction.atomic
def ranks_recompute(
    *,
    unit_ids: Iterable[int] | None = None,
    worker_ids: Iterable[int] | None = None,
    on: dt.date | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    mode: str | None = None,
) -> RecomputeReport:
    """
    Evaluate every worker in scope and create the rank records they have
    earned: awarded (auto mode) or pending for HR (confirm mode). Loads in a
    fixed number of queries, writes in bulk, never touches existing records;
    a second run changes nothing. `mode` overrides RANK_AWARD_MODE (the demo
    backfills its already-decided history in auto mode).
    """
    on = on or timezone.localdate()
    mode = mode or award_mode()
    if not dry_run:
        # Before reading anything: a concurrent recompute of the same workers waits, then sees what this one wrote.
        workers_lock(worker_ids=worker_ids, unit_ids=unit_ids)
    with gc_paused():
        return _ranks_recompute(
            unit_ids=unit_ids, worker_ids=worker_ids, on=on, dry_run=dry_run, progress=progress, mode=mode
        )


def _ranks_recompute(*, unit_ids, worker_ids, on: dt.date, dry_run: bool, progress, mode: str) -> RecomputeReport:
    inputs = rollup_inputs_load(worker_ids=worker_ids, unit_ids=unit_ids, on=on)
    scope = {}
    if worker_ids is not None:
        scope["worker_id__in"] = list(worker_ids)
    if unit_ids is not None:
        scope["worker__unit_id__in"] = list(unit_ids)
    live = set(
        RankRecord.objects.filter(status__in=LIVE, **scope)
        .values_list("worker_id", "trade_id", "rank_id")
        .iterator(chunk_size=5000)
    )
    settled = set(
        RankRecord.objects.filter(status__in=SETTLED, **scope)
        .values_list("worker_id", "trade_id", "rank_id", "evidence__fingerprint")
        .iterator(chunk_size=5000)
    )

    report = RecomputeReport(
        evaluated=len(inputs), workers=len({worker_id for worker_id, _trade_id in inputs}), dry_run=dry_run, mode=mode
    )
    new_records: list[dict] = []
    record_row = _record_rows(on, mode)
    total = len(inputs)
    for done, key in enumerate(sorted(inputs), start=1):
        data = inputs[key]
        worker_id, trade_id = key
        # In confirm mode HR decides one rank at a time; in auto mode the worker climbs every rank earned today.
        for step, _explanation in rules.climb(data, on, max_steps=None if mode == "auto" else 1):
            if (worker_id, trade_id, step.rank_id) in live:
                break
            if (worker_id, trade_id, step.rank_id, rules.step_fingerprint(step)) in settled:
                break  # HR already said no to exactly this evidence
            new_records.append(
                record_row(worker_id=worker_id, trade_id=trade_id, step=step, rule_info=_rule_info(data, step))
            )
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)

    if new_records and not dry_run:
        _records_insert(new_records)
        # Pending awards are on a large mine's dashboard, whose figures are computed in the background.
        transaction.on_commit(lambda: figures_stale.send(sender=None))
    worker_filter = {"id__in": list(worker_ids)} if worker_ids is not None else {}
    if unit_ids is not None:
        worker_filter["unit_id__in"] = list(unit_ids)
    _describe(report, new_records, worker_filter)
    return report


def worker_reevaluate_after_save(
    *, worker_id: int, corrected: tuple[str, int] | None = None, reason: str = "", user: AbstractBaseUser | None = None
) -> None:
    """
    For rows the admin saves itself (results, attendance, reviews): mark awards
    resting on a corrected row for HR review, and re-evaluate the worker after commit.
    """
    if corrected is not None:
        kind, pk = corrected
        _flag_dependent_records(
            worker_id=worker_id,
            kind=kind,
            pk=pk,
            reason=reason or _("%(kind)s #%(id)s corrected in the admin") % {"kind": kind, "id": pk},
            user=user,
        )
    _recompute_after_commit(worker_id)


def workers_reevaluate_after_save(
    *,
    worker_ids: Iterable[int],
    corrected: Iterable[tuple[int, str, int, str]] = (),
    user: AbstractBaseUser | None = None,
) -> None:
    """
    For rows an admin inline saves in a batch (a sitting's results, a class's
    attendance): mark awards resting on each corrected or deleted row
    (worker id, kind, pk, reason) for HR review, and re-evaluate every
    affected worker once, in one recompute after commit.
    """
    for worker_id, kind, pk, reason in corrected:
        _flag_dependent_records(worker_id=worker_id, kind=kind, pk=pk, reason=reason, user=user)
    worker_ids = sorted(set(worker_ids))
    if worker_ids:
        transaction.on_commit(partial(ranks_recompute, worker_ids=worker_ids))


@receiver(evidence_changed)
def _evidence_changed(*, worker_ids, corrected=(), user=None, **kwargs) -> None:
    """Flag awards resting on corrected rows and re-evaluate the workers after commit (core.signals)."""
    corrected = [
        (worker_id, kind, pk, reason or _("%(kind)s #%(id)s corrected in the admin") % {"kind": kind, "id": pk})
        for worker_id, kind, pk, reason in corrected
    ]
    workers_reevaluate_after_save(worker_ids=worker_ids, corrected=corrected, user=user)
