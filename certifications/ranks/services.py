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
from simple_history.utils import bulk_update_with_history

from certifications.models import Assessment, AssessmentResult, ComprehensiveReview, RankRecord, RuleSet
from certifications.ranks import rules
from certifications.ranks.inputs import rollup_inputs_load
from core.bulk import JsonText, gc_paused, history_copy, rows_insert
from core.dates import stored_date
from core.history import with_reason
from core.signals import evidence_changed, figures_stale
from core.versions import VERSION, bump
from core.writes import Door
from training.locking import workers_lock
from training.models import Rank, Trade, Worker
from training.retention import record_restore, record_soft_delete

LIVE = (RankRecord.Status.PENDING, RankRecord.Status.AWARDED)
SETTLED = (RankRecord.Status.REJECTED, RankRecord.Status.REVOKED)


# The values of settings.KUANGJIANG["RANK_AWARD_MODE"]; certifications/checks.py refuses any other.
AWARD_MODES = ("auto", "confirm")


def award_mode() -> str:
    """Return "auto" or "confirm" (settings.KUANGJIANG["RANK_AWARD_MODE"])."""
    mode = settings.KUANGJIANG.get("RANK_AWARD_MODE", "confirm")
    return mode if mode in AWARD_MODES else "confirm"


def _flag_dependent_records(
    *, worker_id: int, kind: str, pk: int, reason: str, user=None, records: list[RankRecord] | None = None
) -> list[RankRecord]:
    """
    Mark for HR review every live rank record whose evidence includes this row; never revoke it.
    `records`: the worker's live records, when the caller loaded them already.
    """
    flagged = []
    if records is None:
        records = list(RankRecord.objects.filter(worker_id=worker_id, status__in=LIVE))
    for record in records:
        if pk in (record.evidence or {}).get(kind, ()):
            record.needs_review = True
            # A summary written by the app (what changed, and the user's reason): the whole text goes on the
            # record's history below; the field shows it, marked with "…" when it is longer than the field holds.
            limit = RankRecord._meta.get_field("review_reason").max_length
            record.review_reason = reason if len(reason) <= limit else reason[: limit - 1] + "…"
            with_reason(record, reason, user=user)
            with RANK_RECORDS.opened():
                record.save(update_fields=["needs_review", "review_reason", VERSION])
            flagged.append(record)
    return flagged


# --- the doors (core/writes.py) ------------------------------------------------------------------

RESULTS = Door(
    AssessmentResult,
    service="certifications.ranks.services",
    evidence="results",
    watched=frozenset({"score", "absent", "attempt", "assessment", "worker"}),
    soft_delete=record_soft_delete,
    restore=record_restore,
)
REVIEWS = Door(
    ComprehensiveReview,
    service="certifications.ranks.services",
    evidence="reviews",
    watched=frozenset({"passed", "held_on", "trade", "rank", "worker"}),
)
# The roll-up reads rank records (the rank held, since when) but no award rests on them as evidence.
RANK_RECORDS = Door(
    RankRecord,
    service="certifications.ranks.services",
    evidence="",
    soft_delete=record_soft_delete,
    restore=record_restore,
)


# --- results, reviews ---------------------------------------------------------------------------------


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
    return RESULTS.save(result, user=recorded_by)


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
    result.score = None if absent else score
    result.absent = absent
    if remarks is not None:
        result.remarks = remarks
    return RESULTS.save(result, user=corrected_by, reason=reason)


@transaction.atomic
def results_correct_many(
    corrections: list[tuple[AssessmentResult, Decimal | None, bool]],
    *,
    reason: str,
    corrected_by: AbstractBaseUser | None = None,
) -> list[AssessmentResult]:
    """
    Correct several recorded scores at once, as result_correct does one (an import's changed rows): each gets a
    history row with the reason, the awards resting on them are marked for HR review, and the workers are
    re-evaluated once after commit.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the score is corrected.")})
    results = []
    for result, score, absent in corrections:
        result.score = None if absent else score
        result.absent = absent
        results.append(result)
    return RESULTS.save_many(results, user=corrected_by, reason=reason)


def result_save(result: AssessmentResult, *, user: AbstractBaseUser | None, reason: str = "") -> AssessmentResult:
    """Save a result as an admin form filled it (validated by the form): the examiner is the one who saves."""
    if result.recorded_by_id is None and getattr(user, "pk", None):
        result.recorded_by = user
    return RESULTS.save(result, user=user, reason=reason, validate=False)


def result_delete(*, result: AssessmentResult, user: AbstractBaseUser | None, reason: str) -> None:
    """Mark a result deleted; awards resting on it are marked for HR review, never revoked."""
    RESULTS.delete(result, user=user, reason=reason)


@transaction.atomic
def results_create_many(
    rows: list[dict], *, user: AbstractBaseUser | None, reason: str, recorded_at: dt.datetime
) -> None:
    """
    Insert new results given as plain rows (the results import), each with a
    "created" history row naming the user and the reason, and re-evaluate every
    worker once after commit. One statement whatever the size.
    """
    user_id = user.pk if getattr(user, "pk", None) else None
    # The new rows are those above the highest id so far that carry this import's timestamp
    # (ids only grow; another writer's rows in between have their own recorded_at).
    after_id = AssessmentResult.all_objects.aggregate(last=Max("pk"))["last"] or 0
    with RESULTS.opened():
        # An executemany on SQLite, unnest(arrays) on PostgreSQL.
        rows_insert(AssessmentResult, rows, batch=len(rows), columnar=True)
    written = history_copy(
        AssessmentResult,
        after_id=after_id,
        marker={"recorded_at": recorded_at, "recorded_by_id": user_id},
        user_id=user_id,
        reason=reason,
        date=recorded_at,
    )
    if written != len(rows):
        raise RuntimeError(f"{written} history rows written for {len(rows)} imported results")
    RESULTS.announce(worker_ids={row["worker_id"] for row in rows}, user=user)


@transaction.atomic
def review_record(
    *, worker: Worker, trade: Trade, rank: Rank, held_on: dt.date, passed: bool, panel: str = "", remarks: str = ""
) -> ComprehensiveReview:
    """Record the outcome of a comprehensive review (综合评审) and re-evaluate the worker after commit."""
    review = ComprehensiveReview(
        worker=worker, trade=trade, rank=rank, held_on=held_on, passed=passed, panel=panel, remarks=remarks
    )
    return REVIEWS.save(review)


def review_save(review: ComprehensiveReview, *, user: AbstractBaseUser | None, reason: str = "") -> ComprehensiveReview:
    """Save (or correct) a review as an admin form filled it; awards resting on a changed outcome are flagged."""
    return REVIEWS.save(review, user=user, reason=reason, validate=False)


def rank_record_save(record: RankRecord, *, user: AbstractBaseUser | None, reason: str = "") -> RankRecord:
    """Save a rank record HR entered or corrected (validated by the form); the worker is re-evaluated after commit."""
    return RANK_RECORDS.save(record, user=user, reason=reason, validate=False)


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
    return RANK_RECORDS.save(record, reason=_("Awarded by the roll-up engine"))


def award_met_on(record: RankRecord) -> dt.date | None:
    """
    Return the date an engine award's last requirement was met, from its frozen evidence
    (awards proposed before the snapshot carried it: the latest date a requirement names, else the evaluation day).
    """
    evidence = record.evidence or {}
    if evidence.get("met_on"):
        return stored_date(evidence["met_on"])
    dates = [r.get("met_on") for r in evidence.get("requirements", ()) if r.get("met_on")]
    if dates:
        return max(stored_date(d) for d in dates)
    return stored_date(evidence["on"]) if evidence.get("on") else None


def _approved(record: RankRecord, *, user: AbstractBaseUser | None, on: dt.date | None, now: dt.datetime) -> None:
    if record.status != RankRecord.Status.PENDING:
        raise ValidationError(_("Only a pending award can be approved."))
    record.status = RankRecord.Status.AWARDED
    record.awarded_on = on or award_met_on(record) or timezone.localdate()
    record.decided_by = user
    record.decided_at = now


def _rejected(record: RankRecord, *, user: AbstractBaseUser | None, reason: str, now: dt.datetime) -> None:
    if record.status != RankRecord.Status.PENDING:
        raise ValidationError(_("Only a pending award can be rejected."))
    record.status = RankRecord.Status.REJECTED
    record.decided_by = user
    record.decided_at = now
    record.evidence = {**(record.evidence or {}), "rejection_reason": reason}


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the rejection.")})
    return reason


@transaction.atomic
def rank_approve(*, record: RankRecord, user: AbstractBaseUser | None, on: dt.date | None = None) -> RankRecord:
    """
    Approve a pending award: the worker holds the rank from `on`, by default the day its last requirement
    was met (award_met_on; today for an award without evidence). The approver and the moment are recorded beside it.
    """
    _approved(record, user=user, on=on, now=timezone.now())
    # The door re-evaluates the worker after commit: the next rank may now be within reach.
    return RANK_RECORDS.save(record, user=user, reason=_("Approved"))


@transaction.atomic
def rank_reject(*, record: RankRecord, user: AbstractBaseUser | None, reason: str) -> RankRecord:
    """Reject a pending award with a reason; the engine does not propose it again on the same evidence."""
    reason = _reason_required(reason)
    _rejected(record, user=user, reason=reason, now=timezone.now())
    return RANK_RECORDS.save(record, user=user, reason=_("Rejected: %(reason)s") % {"reason": reason})


DECISION_FIELDS = ["status", "awarded_on", "decided_by", "decided_at", "evidence"]


@transaction.atomic
def ranks_decide_many(
    *, record_ids: Iterable[int], approve: bool, user: AbstractBaseUser | None, reason: str = ""
) -> list[RankRecord]:
    """
    Approve (or reject, with a reason) several pending awards at once, as rank_approve and rank_reject do one:
    all or none (a ValidationError when one is no longer pending), each with a history row naming the user,
    the workers re-evaluated once after commit. The rows are locked, then written in a fixed number of statements.
    """
    if not approve:
        reason = _reason_required(reason)
    ids = sorted(set(record_ids))
    records = list(
        RankRecord.objects.select_related("worker", "trade", "rank")
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(records) != len(ids):
        raise ValidationError(_("An award was deleted meanwhile; nothing was decided."))
    now = timezone.now()
    before = RANK_RECORDS.snapshot(records)
    for record in records:
        if approve:
            _approved(record, user=user, on=None, now=now)
        else:
            _rejected(record, user=user, reason=reason, now=now)
    history_reason = _("Approved") if approve else _("Rejected: %(reason)s") % {"reason": reason}
    with RANK_RECORDS.opened():
        bulk_update_with_history(
            records,
            RankRecord,
            bump(records, list(DECISION_FIELDS)),
            default_user=user,
            default_change_reason=history_reason,
            default_date=now,
        )
    RANK_RECORDS.written(saved=records, before=before, user=user, reason=history_reason)
    return records


# --- recompute ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankChange:
    worker_id: int
    employee_no: str
    worker_name: str
    trade_name: str
    rank_name: str
    status: str
    trade_id: int | None = None
    rank_id: int | None = None
    # The date the award carries once it is approved (or carries now, in auto mode).
    awarded_on: dt.date | None = None
    # The rank record written for it (None in a dry run).
    record_id: int | None = None

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


def _describe(report: RecomputeReport, records: list[dict], worker_filter, dates: list | None = None) -> None:
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
    for index, record in enumerate(records):
        no, name = workers.get(record["worker_id"], ("?", "?"))
        report.changes.append(
            RankChange(
                record["worker_id"],
                no,
                name,
                trades[record["trade_id"]],
                ranks[record["rank_id"]],
                record["status"],
                trade_id=record["trade_id"],
                rank_id=record["rank_id"],
                awarded_on=record["awarded_on"] or (dates[index] if dates else None),
            )
        )


def _record_rows(on: dt.date, mode: str):
    """Return a function building the plain row (attname → value) of a new engine award: no model instance per award."""
    template = {
        f.attname: getattr(RankRecord(), f.attname) for f in RankRecord._meta.concrete_fields if not f.primary_key
    }
    template[VERSION] = 1  # as a save would start it (core/versions.py)
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
    # The engine's own awards: announced as figures_stale by the caller, never as evidence (that would recompute).
    with RANK_RECORDS.opened():
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
    met_dates: list[dt.date] = []  # what each pending award will be dated once approved (rank_approve)
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
            met_dates.append(rules.step_met_on(step) or on)
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)

    if new_records and not dry_run:
        _records_insert(new_records)
        # Pending awards are on a large mine's dashboard, whose figures are computed in the background.
        transaction.on_commit(lambda: figures_stale.send(sender=None))
    worker_filter = {"id__in": list(worker_ids)} if worker_ids is not None else {}
    if unit_ids is not None:
        worker_filter["unit_id__in"] = list(unit_ids)
    _describe(report, new_records, worker_filter, met_dates)
    return report


@receiver(evidence_changed)
def _evidence_changed(*, worker_ids, corrected=(), user=None, **kwargs) -> None:
    """
    Rows a rank award can rest on were written through their door (core/writes.py):
    mark the awards resting on each corrected or deleted row for HR review, and
    re-evaluate every affected worker once, in one recompute after commit.
    """
    # The live records of every corrected worker in one query, not one per corrected row (an import corrects many).
    live: dict[int, list[RankRecord]] = {}
    if corrected:
        for record in RankRecord.objects.filter(worker_id__in={c[0] for c in corrected}, status__in=LIVE):
            live.setdefault(record.worker_id, []).append(record)
    for worker_id, kind, pk, reason in corrected:
        _flag_dependent_records(
            worker_id=worker_id, kind=kind, pk=pk, reason=reason, user=user, records=live.get(worker_id, [])
        )
    worker_ids = sorted(set(worker_ids))
    if worker_ids:
        transaction.on_commit(partial(ranks_recompute, worker_ids=worker_ids))
