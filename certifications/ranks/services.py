"""
Writes of the roll-up: recording results, attendance and comprehensive
reviews, awarding ranks with a frozen copy of their evidence, HR's decisions,
and recomputing everyone's ranks in a set-based pass.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from certifications.models import (
    Assessment,
    AssessmentResult,
    ComprehensiveReview,
    RankEvaluation,
    RankRecord,
    RuleSet,
)
from certifications.ranks import rules
from certifications.ranks.inputs import rollup_catalog_load, rollup_inputs_load, rollup_later_evidence_load
from core.bulk import JsonText, gc_paused, history_copy, rows_insert
from core.dates import stored_date
from core.history import with_reason
from core.signals import evidence_changed, figures_stale
from core.versions import VERSION, bump
from core.writes import Door
from training.locking import workers_lock
from training.models import Rank, Trade, Worker, WorkerTrade
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
    reason: str = "",
) -> AssessmentResult:
    """
    Record one attempt's score (or absence) and re-evaluate the worker once the transaction commits. `reason`
    is the history's (e.g. "online exam", "scoring sheet"): where the score came from.
    """
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
    return RESULTS.save(result, user=recorded_by, reason=reason)


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
    changes: list[RankChange] = field(default_factory=list)  # empty when the caller took them (`changes=`)
    dry_run: bool = False
    mode: str = "confirm"
    awarded: int = 0
    pending: int = 0
    chunks: int = 0
    jobs: int = 1  # the processes that ran the chunks
    only_changed: bool = False
    # Pairs whose evidence differed from their fingerprint with no mark (a write that bypassed its service);
    # counted by full runs only.
    unmarked: int = 0

    def add(self, part: RecomputeReport, *, keep_changes: bool = True) -> None:
        self.evaluated += part.evaluated
        self.workers += part.workers
        self.awarded += part.awarded
        self.pending += part.pending
        self.unmarked += part.unmarked
        if keep_changes:
            self.changes.extend(part.changes)


def _describe(report: RecomputeReport, records: list[dict], run: _Run, dates: list | None = None) -> None:
    if not records:
        return
    workers = {
        pk: (no, name)
        for pk, no, name in Worker._base_manager.filter(id__in={r["worker_id"] for r in records}).values_list(
            "id", "employee_no", "name"
        )
    }
    for index, record in enumerate(records):
        no, name = workers.get(record["worker_id"], ("?", "?"))
        report.changes.append(
            RankChange(
                record["worker_id"],
                no,
                name,
                run.trade_names[record["trade_id"]],
                run.rank_names[record["rank_id"]],
                record["status"],
                trade_id=record["trade_id"],
                rank_id=record["rank_id"],
                awarded_on=record["awarded_on"] or (dates[index] if dates else None),
            )
        )
        if record["status"] == RankRecord.Status.AWARDED:
            report.awarded += 1
        else:
            report.pending += 1


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
        extra = {}
        if awarded:  # as an approved award is: dated the day its last requirement was met
            extra["awarded_on"] = rules.step_met_on(step) or on
        return {
            **template,
            "worker_id": worker_id,
            "trade_id": trade_id,
            "rank_id": step.rank_id,
            "rule_set_id": step.rule_set_id,
            "evidence": evidence,
            **extra,
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
    written = history_copy(
        RankRecord,
        after_id=after_id,
        marker={"created_at": stamp, "source": RankRecord.Source.ENGINE},
        user_id=None,
        reason=_("Awarded by the roll-up engine"),
        date=stamp,
    )
    # Chunks in other processes insert too: their rows carry their own timestamp (a clash rolls this chunk back).
    if written != len(rows):
        raise RuntimeError(f"{written} history rows written for {len(rows)} engine awards")


# A run is cut into chunks of workers (CHUNK_WORKERS by id range, or lists of ids), each loaded, evaluated and
# written in its own transaction with a constant number of queries, so memory does not grow with the group;
# with jobs > 1 the chunks run in forked processes, each with its own connection. Each worker × trade evaluated
# leaves a RankEvaluation row (fingerprints, due date); only_changed=True evaluates the pairs a write marked,
# those whose rules, trade or due date changed, and the pairs never evaluated (docs/ranks.md).

CHUNK_WORKERS = 5000


@dataclass(frozen=True)
class _Run:
    """What every chunk of one run shares; forked processes inherit it."""

    on: dt.date
    mode: str
    dry_run: bool
    unit_ids: list[int] | None
    catalog: tuple[dict, dict, dict]
    rules_fingerprints: dict[int, str]
    clocks: dict[int, rules.TradeClock]
    trade_names: dict[int, str]
    rank_names: dict[int, str]
    check: bool  # count pairs whose evidence changed without a mark (full runs)


# A chunk: (worker ids, None) or (None, (lowest id, highest id)).
Chunk = tuple[tuple[int, ...] | None, tuple[int, int] | None]


def _scope_q(run: _Run, chunk: Chunk) -> Q:
    ids, worker_range = chunk
    query = Q()
    if ids is not None:
        query &= Q(worker_id__in=ids)
    if worker_range is not None:
        query &= Q(worker_id__gte=worker_range[0], worker_id__lte=worker_range[1])
    if run.unit_ids is not None:
        query &= Q(worker__unit_id__in=run.unit_ids)
    return query


def _grouped(rows) -> dict[tuple[int, int], tuple]:
    grouped: dict[tuple[int, int], list] = {}
    for worker_id, trade_id, *rest in rows:
        grouped.setdefault((worker_id, trade_id), []).append(tuple(rest))
    return {key: tuple(sorted(values, key=repr)) for key, values in grouped.items()}


def _chunk_recompute(run: _Run, chunk: Chunk) -> RecomputeReport:
    """Evaluate one chunk of workers, write their new awards and their evaluation state: one transaction."""
    ids, worker_range = chunk
    on, mode = run.on, run.mode
    with transaction.atomic(), gc_paused():
        if not run.dry_run:
            # Before reading anything: a concurrent recompute of the same workers waits, then sees what this one wrote.
            workers_lock(worker_ids=ids, unit_ids=run.unit_ids, worker_range=worker_range)
        scope = _scope_q(run, chunk)
        evidence_of: dict[tuple[int, int], str] = {}
        inputs = rollup_inputs_load(
            worker_ids=ids,
            unit_ids=run.unit_ids,
            worker_range=worker_range,
            on=on,
            catalog=run.catalog,
            fingerprints=evidence_of,
        )
        later = rollup_later_evidence_load(on=on, worker_ids=ids, unit_ids=run.unit_ids, worker_range=worker_range)
        live_of = _grouped(
            RankRecord.objects.filter(scope, status__in=LIVE).values_list("worker_id", "trade_id", "rank_id")
        )
        settled_of = _grouped(
            RankRecord.objects.filter(scope, status__in=SETTLED).values_list(
                "worker_id", "trade_id", "rank_id", "evidence__fingerprint"
            )
        )
        stored = {}
        if run.check:
            stored = {
                (w, t): rest
                for w, t, *rest in RankEvaluation.objects.filter(scope).values_list(
                    "worker_id",
                    "trade_id",
                    "evidence_fingerprint",
                    "stale",
                    "due_on",
                    "evaluated_on",
                    "started_on",
                    "rules_fingerprint",
                )
            }

        report = RecomputeReport(
            evaluated=len(inputs), workers=len({worker_id for worker_id, _t in inputs}), dry_run=run.dry_run, mode=mode
        )
        new_records: list[dict] = []
        met_dates: list[dt.date] = []
        states: list[dict] = []
        record_row = _record_rows(on, mode)
        for key in sorted(inputs):
            data = inputs[key]
            worker_id, trade_id = key
            live = live_of.get(key, ())
            settled = settled_of.get(key, ())
            live_ranks = {rank_id for (rank_id,) in live}
            settled_keys = set(settled)
            fingerprint = evidence_of[key]
            if live or settled:
                fingerprint = rules.fingerprint_with_records(fingerprint, live, settled)
            if run.check and (old := stored.get(key)) is not None:
                old_fingerprint, stale, due_on, evaluated_on, started_on, rules_fp = old
                if (
                    old_fingerprint
                    and not stale
                    and (due_on is None or due_on > on)
                    and evaluated_on <= on
                    and started_on == data.started_on
                    and rules_fp == run.rules_fingerprints[trade_id]
                    and old_fingerprint != fingerprint
                ):
                    report.unmarked += 1
            climbed, wrote = data, False
            # In confirm mode HR decides one rank at a time; in auto mode the worker climbs every rank earned today.
            for step, _explanation in rules.climb(data, on, max_steps=None if mode == "auto" else 1):
                if step.rank_id in live_ranks:
                    break
                if (step.rank_id, rules.step_fingerprint(step)) in settled_keys:
                    break  # HR already said no to exactly this evidence
                new_records.append(
                    record_row(worker_id=worker_id, trade_id=trade_id, step=step, rule_info=_rule_info(data, step))
                )
                met_dates.append(rules.step_met_on(step) or on)  # the date the award carries (once approved)
                wrote = True
                if mode == "auto":
                    climbed = climbed.with_award(step.rank_id, on)
            if not run.dry_run:
                states.append(
                    {
                        "worker_id": worker_id,
                        "trade_id": trade_id,
                        "evaluated_on": on,
                        "started_on": data.started_on,
                        "due_on": rules.next_change_on(climbed, on, run.clocks[trade_id], later.get(worker_id)),
                        "stale": False,
                        "rules_fingerprint": run.rules_fingerprints[trade_id],
                        # The records written now are not in what was fingerprinted: no fingerprint to compare.
                        "evidence_fingerprint": "" if wrote else fingerprint,
                    }
                )
        if not run.dry_run:
            # The chunk's state is replaced whole: pairs no longer held (a trade given up, a worker gone) leave it.
            RankEvaluation.objects.filter(scope).delete()
            # Columnar: on PostgreSQL one INSERT … SELECT FROM unnest(arrays), not one INSERT per row.
            rows_insert(RankEvaluation, states, columnar=True)
            if new_records:
                _records_insert(new_records)
        _describe(report, new_records, run, met_dates)
    return report


def _changed_worker_ids(*, on: dt.date, unit_ids: list[int] | None, rules_fingerprints: dict[int, str]) -> set[int]:
    """
    Return the workers an incremental run evaluates: a pair marked by a write,
    due (a date reached), evaluated for a later date, under changed rules, or a
    worker trade with no evaluation for its start date (new, changed, restored).
    Two queries.
    """
    states = RankEvaluation.objects.all()
    held = WorkerTrade.objects.filter(worker__deleted_at__isnull=True)
    if unit_ids is not None:
        states = states.filter(worker__unit_id__in=unit_ids)
        held = held.filter(worker__unit_id__in=unit_ids)
    flagged = states.filter(
        Q(stale=True)
        | Q(due_on__lte=on)
        | Q(evaluated_on__gt=on)
        | ~Q(rules_fingerprint__in=list(rules_fingerprints.values()))
    )
    unevaluated = held.exclude(
        Exists(
            RankEvaluation.objects.filter(
                worker_id=OuterRef("worker_id"), trade_id=OuterRef("trade_id"), started_on=OuterRef("started_on")
            )
        )
    )
    found: set[int] = set()
    for queryset in (flagged, unevaluated):
        found.update(queryset.order_by().values_list("worker_id", flat=True).distinct().iterator(chunk_size=10000))
    return found


def _chunks(*, run: _Run, worker_ids, only_changed: bool, size: int) -> list[Chunk]:
    """Cut the run's workers into chunks of `size`: id ranges for everyone, id lists otherwise (one query)."""
    if only_changed or worker_ids is not None:
        ids = (
            _changed_worker_ids(on=run.on, unit_ids=run.unit_ids, rules_fingerprints=run.rules_fingerprints)
            if only_changed
            else set(worker_ids)
        )
        if only_changed and worker_ids is not None:
            ids &= set(worker_ids)
        ordered = sorted(ids)
        return [(tuple(ordered[i : i + size]), None) for i in range(0, len(ordered), size)]
    everyone = Worker.objects.all()
    if run.unit_ids is not None:
        everyone = everyone.filter(unit_id__in=run.unit_ids)
    bounds: list[list[int]] = []
    # Streamed: only the bounds are kept, so planning a 300,000-worker run holds 60 pairs of ids.
    for n, pk in enumerate(everyone.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=10000)):
        if n % size == 0:
            bounds.append([pk, pk])
        else:
            bounds[-1][1] = pk
    return [(None, (low, high)) for low, high in bounds]


def _processes_can_share_the_database() -> bool:
    """
    Whether forked processes would see what this one sees: not inside a
    transaction (they would not see its rows) nor on an in-memory SQLite
    database (each process would have its own). Otherwise the chunks run here.
    """
    if connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return False
    return "fork" in multiprocessing.get_all_start_methods()


_FORKED_RUN: _Run | None = None


def _forked_chunk(job: tuple[int, Chunk]) -> tuple[int, RecomputeReport]:
    index, chunk = job
    try:
        return index, _chunk_recompute(_FORKED_RUN, chunk)
    finally:
        connections.close_all()


def ranks_recompute(
    *,
    unit_ids: Iterable[int] | None = None,
    worker_ids: Iterable[int] | None = None,
    on: dt.date | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    mode: str | None = None,
    only_changed: bool = False,
    jobs: int = 1,
    chunk_size: int = CHUNK_WORKERS,
    changes: Callable[[list[RankChange]], None] | None = None,
) -> RecomputeReport:
    """
    Evaluate the workers in scope and create the rank records they have
    earned: awarded (auto mode) or pending for HR (confirm mode). Works in
    chunks of `chunk_size` workers, each loaded in a fixed number of queries
    and written in bulk in its own transaction, in `jobs` processes; never
    touches existing records; a second run changes nothing. `only_changed`
    evaluates only the workers whose evidence, rules or dates changed since
    their last evaluation. `mode` overrides RANK_AWARD_MODE (the demo backfills
    its already-decided history in auto mode). `progress(done, total)` counts
    chunks; `changes(list)` takes each chunk's new awards as they are written
    (the report then keeps none).
    """
    global _FORKED_RUN
    on = on or timezone.localdate()
    mode = mode or award_mode()
    catalog = rollup_catalog_load()
    ladders, rule_sets, lines = catalog
    trades = dict(Trade.objects.values_list("id", "name"))
    run = _Run(
        on=on,
        mode=mode,
        dry_run=dry_run,
        unit_ids=None if unit_ids is None else list(unit_ids),
        catalog=catalog,
        rules_fingerprints={
            t: rules.rules_fingerprint(t, ladders.get(t, ()), rule_sets.get(t, {}), lines.get(t, {})) for t in trades
        },
        clocks={t: rules.trade_clock(rule_sets.get(t, {})) for t in trades},
        trade_names=trades,
        rank_names={rank.id: rank.name for ladder in ladders.values() for rank in ladder},  # awards climb ladders
        check=not only_changed and worker_ids is None,
    )
    chunks = _chunks(run=run, worker_ids=worker_ids, only_changed=only_changed, size=max(1, chunk_size))
    report = RecomputeReport(dry_run=dry_run, mode=mode, only_changed=only_changed, chunks=len(chunks))
    keep = changes is None

    def take(part: RecomputeReport) -> None:
        report.add(part, keep_changes=keep)
        if changes is not None and part.changes:
            changes(part.changes)

    if jobs > 1 and len(chunks) > 1 and _processes_can_share_the_database():
        report.jobs = min(jobs, len(chunks))
        parts: dict[int, RecomputeReport] = {}
        # Each process opens its own connection: none may inherit this one's.
        connections.close_all()
        _FORKED_RUN = run
        try:
            with multiprocessing.get_context("fork").Pool(report.jobs) as pool:
                for done, (index, part) in enumerate(pool.imap_unordered(_forked_chunk, enumerate(chunks)), start=1):
                    if keep:
                        parts[index] = part
                    else:
                        take(part)
                    if progress is not None:
                        progress(done, len(chunks))
        finally:
            _FORKED_RUN = None
        for index in sorted(parts):  # the changes in the order a serial run lists them
            take(parts[index])
    else:
        for done, chunk in enumerate(chunks, start=1):
            take(_chunk_recompute(run, chunk))
            if progress is not None:
                progress(done, len(chunks))
    if report.awarded + report.pending and not dry_run:
        # Pending awards are on a large mine's dashboard, whose figures are computed in the background.
        transaction.on_commit(lambda: figures_stale.send(sender=None))
    return report


def _mark_stale(worker_ids: list[int]) -> None:
    """Mark every evaluation of these workers stale: the next incremental run evaluates them."""
    for start in range(0, len(worker_ids), CHUNK_WORKERS):
        RankEvaluation.objects.filter(worker_id__in=worker_ids[start : start + CHUNK_WORKERS], stale=False).update(
            stale=True
        )


@receiver(evidence_changed)
def _evidence_changed(*, worker_ids, corrected=(), user=None, **kwargs) -> None:
    """
    Rows a rank award can rest on (or rank records) were written through their
    door (core/writes.py): mark the awards resting on each corrected or deleted
    row for HR review, mark the workers' evaluations stale, and re-evaluate
    every affected worker once, in one recompute after commit.
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
        # Kept if the recompute after commit never runs or fails: the nightly run evaluates them then.
        _mark_stale(worker_ids)
        transaction.on_commit(partial(ranks_recompute, worker_ids=worker_ids))
