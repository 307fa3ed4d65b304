"""
Reading clearance: load the facts for a set of workers in a fixed number of
queries and hand them to the pure rules in `certifications.clearance.rules`;
the admin's filters by clearance and due date. The forecast, the reminders and
the API tokens are in `forecast`, `reminders` and `tokens` beside this module.

"As of" a past date: rows dated after the date are left out (certificates
issued, reviews held, classes ended, exams held, mentoring signed off, away
periods started after it), and a certificate's status and its 6-year-review
approval are taken from its history as it stood at the end of that day. A
worker's status (away/left) has no history, so it only counts for today.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from certifications.clearance import rules
from certifications.models import (
    AssessmentResult,
    Certificate,
    CertificateReview,
    ComplianceRule,
    Mentorship,
    ReminderLog,
)
from core.versions import VERSION
from training.access import descendant_unit_ids
from training.models import Attendance, AwayPeriod, Trade, Unit, Worker, WorkerTrade

CLEARANCE_KINDS = (Certificate.Kind.SPECIAL_OPERATION, Certificate.Kind.SAFETY_MANAGEMENT)
ATTENDANCE_KINDS_WITH_DATES = (rules.PRE_JOB, rules.REVIEW, *rules.RETRAINING_KINDS)
LITERAL_IDS = 1000


# ── loading facts ─────────────────────────────────────────────────────────


@dataclass
class Facts:
    on: dt.date
    workers: dict[int, rules.WorkerFacts]
    trades: dict[int, rules.TradeFact]
    rules: tuple[rules.RuleVersion, ...]


def compliance_rules() -> tuple[rules.RuleVersion, ...]:
    """Return every configured rule version as plain data (empty: the built-in defaults apply)."""
    names = [
        f.name
        for f in ComplianceRule._meta.concrete_fields
        if f.name not in {"id", "name", "effective_from", "category", "trade", VERSION}
    ]
    return tuple(
        rules.RuleVersion(
            id=row["id"],
            name=row["name"],
            effective_from=row["effective_from"],
            category=row["category"] or "",
            trade_id=row["trade_id"],
            **{name: row[name] for name in names},
        )
        for row in ComplianceRule.objects.values("id", "name", "effective_from", "category", "trade_id", *names)
    )


def trade_facts() -> dict[int, rules.TradeFact]:
    """Return every trade with the special operations it requires, in two queries."""
    ops: dict[int, list[tuple[int, str]]] = defaultdict(list)
    through = Trade.special_operations.through
    for trade_id, op_id, op_name in through.objects.order_by("specialoperation__code").values_list(
        "trade_id", "specialoperation_id", "specialoperation__name"
    ):
        ops[trade_id].append((op_id, op_name))
    return {
        pk: rules.TradeFact(id=pk, name=name, underground=underground, special_operations=tuple(ops[pk]))
        for pk, name, underground in Trade.objects.values_list("id", "name", "underground")
    }


def _as_of_certificate_state(cert_ids: QuerySet, on: dt.date) -> dict[int, tuple[str, bool]]:
    """Return (status, extended_review_approved) of each certificate as it stood at the end of `on`."""
    end_of_day = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))
    state: dict[int, tuple[dt.datetime, str, bool]] = {}
    earliest: dict[int, tuple[dt.datetime, str, bool]] = {}
    for pk, when, status, extended in Certificate.history.filter(id__in=cert_ids).values_list(
        "id", "history_date", "status", "extended_review_approved"
    ):
        if when < end_of_day and (pk not in state or when > state[pk][0]):
            state[pk] = (when, status, extended)
        if pk not in earliest or when < earliest[pk][0]:
            earliest[pk] = (when, status, extended)
    # A certificate entered after `on` (but issued before it) stood as first recorded.
    return {pk: (row[1], row[2]) for pk, row in {**earliest, **state}.items()}


def load_facts(workers: QuerySet, *, on: dt.date) -> Facts:
    """Load everything clearance needs for these workers, in a fixed number of queries (11, or 12 for a past date)."""
    today = timezone.localdate()
    worker_rows = list(
        workers.values("id", "employee_no", "category", "hire_date", "underground_start", "appointed_on", "status")
    )
    # A page's or one worker's ids go into the queries as values, so each table is read through its worker
    # index (SQLite's planner, without statistics, otherwise prefers the soft-delete index and reads every row);
    # a whole mine's stay a subquery.
    ids = [row["id"] for row in worker_rows] if len(worker_rows) <= LITERAL_IDS else workers.values("pk")
    certificates: dict[int, list[dict]] = defaultdict(list)
    cert_rows = list(
        Certificate.objects.filter(worker__in=ids, kind__in=CLEARANCE_KINDS, issued_on__lte=on).values(
            "id",
            "worker_id",
            "kind",
            "number",
            "issued_on",
            "special_operation_id",
            "first_issued_on",
            "valid_until",
            "next_review_due",
            "extended_review_approved",
            "status",
        )
    )
    if on < today and cert_rows:
        past = _as_of_certificate_state(
            Certificate.objects.filter(worker__in=ids, kind__in=CLEARANCE_KINDS, issued_on__lte=on).values("pk"), on
        )
        for row in cert_rows:
            if row["id"] in past:
                row["status"], row["extended_review_approved"] = past[row["id"]]
    reviews: dict[int, list[rules.ReviewFact]] = defaultdict(list)
    for pk, cert_id, reviewed_on, outcome, hours in CertificateReview.objects.filter(
        certificate__worker__in=ids, certificate__kind=Certificate.Kind.SPECIAL_OPERATION, reviewed_on__lte=on
    ).values_list("id", "certificate_id", "reviewed_on", "outcome", "training_hours"):
        reviews[cert_id].append(rules.ReviewFact(pk, reviewed_on, outcome == CertificateReview.Outcome.PASSED, hours))
    for row in cert_rows:
        certificates[row["worker_id"]].append(
            rules.CertificateFact(
                id=row["id"],
                kind=row["kind"],
                number=row["number"],
                issued_on=row["issued_on"],
                special_operation_id=row["special_operation_id"],
                first_issued_on=row["first_issued_on"],
                valid_until=row["valid_until"],
                next_review_due=row["next_review_due"],
                extended_review_approved=row["extended_review_approved"],
                revoked=row["status"] == Certificate.Status.REVOKED,
                reviews=tuple(reviews[row["id"]]),
            )
        )

    held: dict[int, list[rules.WorkerTradeFact]] = defaultdict(list)
    for worker_id, trade_id, started_on, ended_on in WorkerTrade.objects.filter(
        worker__in=ids, started_on__lte=on
    ).values_list("worker_id", "trade_id", "started_on", "ended_on"):
        held[worker_id].append(rules.WorkerTradeFact(trade_id, started_on, ended_on))

    # Annual hours matter for this calendar year and the last; the other kinds for good.
    attendances: dict[int, list[rules.AttendanceFact]] = defaultdict(list)
    for worker_id, kind, start, end, theory, practical in Attendance.objects.filter(
        Q(training_class__kind__in=ATTENDANCE_KINDS_WITH_DATES)
        | Q(training_class__kind__in=rules.ANNUAL_KINDS, training_class__end__gte=dt.date(on.year - 1, 1, 1)),
        worker__in=ids,
        training_class__end__lte=on,
    ).values_list(
        "worker_id",
        "training_class__kind",
        "training_class__start",
        "training_class__end",
        "theory_hours",
        "practical_hours",
    ):
        attendances[worker_id].append(rules.AttendanceFact(kind, start, end, theory + practical))

    practical: dict[int, list[rules.PracticalPassFact]] = defaultdict(list)
    for worker_id, op_id, held_on in (
        AssessmentResult.objects.filter(
            worker__in=ids,
            assessment__special_operation__isnull=False,
            assessment__kind="practical",
            assessment__held_on__lte=on,
        )
        .passed()
        .values_list("worker_id", "assessment__special_operation_id", "assessment__held_on")
    ):
        practical[worker_id].append(rules.PracticalPassFact(op_id, held_on))

    mentorships: dict[int, list[rules.MentorshipFact]] = defaultdict(list)
    for row in Mentorship.objects.filter(apprentice__in=ids, start__lte=on).values(
        "id", "apprentice_id", "mentor__name", "trade_id", "start", "planned_end", "signed_off_on", "signed_off_by"
    ):
        signed = row["signed_off_on"] if row["signed_off_on"] and row["signed_off_on"] <= on else None
        mentorships[row["apprentice_id"]].append(
            rules.MentorshipFact(
                row["id"],
                row["mentor__name"],
                row["trade_id"],
                row["start"],
                row["planned_end"],
                signed,
                row["signed_off_by"],
            )
        )

    away: dict[int, list[rules.AwayFact]] = defaultdict(list)
    for worker_id, start, end in AwayPeriod.objects.filter(worker__in=ids, start__lte=on).values_list(
        "worker_id", "start", "end"
    ):
        away[worker_id].append(rules.AwayFact(start, end))

    facts_of = {}
    for row in worker_rows:
        pk = row["id"]
        facts_of[pk] = rules.WorkerFacts(
            id=pk,
            employee_no=row["employee_no"],
            category=row["category"],
            hire_date=row["hire_date"],
            underground_start=row["underground_start"],
            appointed_on=row["appointed_on"],
            status=row["status"] if on >= today else None,
            trades=tuple(held[pk]),
            certificates=tuple(certificates[pk]),
            attendances=tuple(attendances[pk]),
            practical_passes=tuple(practical[pk]),
            mentorships=tuple(mentorships[pk]),
            away_periods=tuple(away[pk]),
        )
    return Facts(on=on, workers=facts_of, trades=trade_facts(), rules=compliance_rules())


def _workers(
    *, worker_ids: Iterable[int] | None = None, unit_ids: Iterable[int] | None = None, workers: QuerySet | None = None
):
    queryset = workers if workers is not None else Worker.objects.all()
    if worker_ids is not None:
        queryset = queryset.filter(pk__in=list(worker_ids))
    if unit_ids is not None:
        queryset = queryset.filter(unit_id__in=list(unit_ids))
    return queryset


def current_trade_ids(worker: rules.WorkerFacts, on: dt.date) -> list[int]:
    return sorted(
        {t.trade_id for t in worker.trades if t.started_on <= on and (t.ended_on is None or t.ended_on >= on)}
    )


def clearance_for_workers(
    *,
    worker_ids: Iterable[int] | None = None,
    unit_ids: Iterable[int] | None = None,
    workers: QuerySet | None = None,
    on: dt.date | None = None,
) -> dict[tuple[int, int], rules.Clearance]:
    """
    Return the clearance of every (worker, current trade) pair of the selected
    workers, in a fixed number of queries.
    """
    on = on or timezone.localdate()
    facts = load_facts(_workers(worker_ids=worker_ids, unit_ids=unit_ids, workers=workers), on=on)
    return {
        (worker.id, trade_id): rules.evaluate(worker, facts.trades[trade_id], on, facts.rules)
        for worker in facts.workers.values()
        for trade_id in current_trade_ids(worker, on)
    }


def clearance_for_pairs(
    pairs: Iterable[tuple[int, int]], *, on: dt.date | None = None
) -> dict[tuple[int, int], rules.Clearance]:
    """Return the clearance of each (worker id, trade id) pair on one date, held trade or not."""
    on = on or timezone.localdate()
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return {}
    facts = load_facts(Worker.objects.filter(pk__in={w for w, _t in pairs}), on=on)
    return {
        (w, t): rules.evaluate(facts.workers[w], facts.trades[t], on, facts.rules)
        for w, t in pairs
        if w in facts.workers and t in facts.trades
    }


def cleared(*, worker: Worker, trade: Trade, on: dt.date | None = None) -> rules.Clearance:
    """Return whether this worker is cleared to work this trade on `on` (default today), with reasons."""
    on = on or timezone.localdate()
    return clearance_for_pairs([(worker.pk, trade.pk)], on=on)[(worker.pk, trade.pk)]


@dataclass(frozen=True)
class WorkerClearance:
    """A worker's clearance over all their current trades."""

    cleared: bool
    reasons: tuple[rules.Reason, ...]
    lapses_on: dt.date | None
    by_trade: dict[int, rules.Clearance] = field(default_factory=dict)
    licensed: bool | None = None  # None: no current trade needs a special-operation certificate
    trade_names: dict[int, str] = field(default_factory=dict)

    @property
    def has_trade(self) -> bool:
        return bool(self.by_trade)


CERTIFICATE_CODES = frozenset(
    {
        "certificate_missing",
        "certificate_revoked",
        "certificate_expired",
        "review_missed",
        "review_failed",
        "review_training_missing",
    }
)


def worker_summaries(
    clearances: dict[tuple[int, int], rules.Clearance], trades: dict[int, rules.TradeFact] | None = None
) -> dict[int, WorkerClearance]:
    """Fold pair clearances into one verdict per worker: cleared only when cleared for every current trade."""
    grouped: dict[int, dict[int, rules.Clearance]] = defaultdict(dict)
    for (worker_id, trade_id), verdict in clearances.items():
        grouped[worker_id][trade_id] = verdict
    out = {}
    for worker_id, by_trade in grouped.items():
        reasons = tuple(dict.fromkeys(r for c in by_trade.values() for r in c.reasons))
        ok = all(c.cleared for c in by_trade.values())
        lapses = [c.lapses_on for c in by_trade.values() if c.lapses_on]
        licensed = None
        if trades is not None:
            special = [tid for tid in by_trade if trades.get(tid) and trades[tid].special_operations]
            if special:
                licensed = not any(r.code in CERTIFICATE_CODES for tid in special for r in by_trade[tid].reasons)
        names = {tid: trades[tid].name for tid in by_trade if tid in trades} if trades is not None else {}
        out[worker_id] = WorkerClearance(ok, reasons, min(lapses) if ok and lapses else None, by_trade, licensed, names)
    return out


def worker_clearance_get(*, worker: Worker, on: dt.date | None = None) -> WorkerClearance | None:
    """Return one worker's clearance over their current trades, or None when they hold no trade."""
    on = on or timezone.localdate()
    facts = load_facts(Worker.objects.filter(pk=worker.pk), on=on)
    pairs = (
        {
            (worker.pk, trade_id): rules.evaluate(facts.workers[worker.pk], facts.trades[trade_id], on, facts.rules)
            for trade_id in current_trade_ids(facts.workers[worker.pk], on)
        }
        if worker.pk in facts.workers
        else {}
    )
    return worker_summaries(pairs, facts.trades).get(worker.pk)


def workers_clearance_get(*, workers: QuerySet, on: dt.date | None = None) -> dict[int, WorkerClearance]:
    """Return each worker's clearance over their current trades, in a fixed number of queries."""
    on = on or timezone.localdate()
    facts = load_facts(workers, on=on)
    pairs = {
        (worker.id, trade_id): rules.evaluate(worker, facts.trades[trade_id], on, facts.rules)
        for worker in facts.workers.values()
        for trade_id in current_trade_ids(worker, on)
    }
    return worker_summaries(pairs, facts.trades)


@dataclass
class UnitCompliance:
    """Clearance figures for one unit's subtree."""

    unit_id: int
    workers: int = 0  # active workers holding at least one trade
    cleared: int = 0
    special: int = 0  # workers in a trade that needs a special-operation certificate
    licensed: int = 0

    @property
    def cleared_rate(self) -> int | None:
        return round(100 * self.cleared / self.workers) if self.workers else None

    @property
    def licensed_rate(self) -> int | None:
        """持证上岗率: share of special-operation workers whose certificates are all valid."""
        return round(100 * self.licensed / self.special) if self.special else None


def unit_compliance_get(
    *, on: dt.date | None = None, unit_ids: Iterable[int] | None = None
) -> dict[int, UnitCompliance]:
    """Return clearance figures per unit, each unit counting its whole subtree, in a fixed number of queries."""
    on = on or timezone.localdate()
    parent_of = dict(Unit.objects.values_list("id", "parent_id"))
    wanted = set(parent_of) if unit_ids is None else set(unit_ids)
    scope = set()
    for unit_id in wanted:
        scope |= descendant_unit_ids(unit_id, parent_of)
    workers = Worker.objects.filter(unit_id__in=scope).exclude(status=Worker.Status.LEFT)
    unit_of = dict(workers.values_list("id", "unit_id"))
    summaries = workers_clearance_get(workers=workers, on=on)
    stats = {pk: UnitCompliance(pk) for pk in wanted}
    for worker_id, summary in summaries.items():
        unit_id = unit_of.get(worker_id)
        seen = set()
        while unit_id is not None and unit_id not in seen:
            seen.add(unit_id)
            if unit_id in stats:
                s = stats[unit_id]
                s.workers += 1
                s.cleared += summary.cleared
                if summary.licensed is not None:
                    s.special += 1
                    s.licensed += summary.licensed
            unit_id = parent_of.get(unit_id)
    return stats


# ── admin filters ─────────────────────────────────────────────────────────


def special_operation_certificates(
    *, on: dt.date, workers: QuerySet | None = None, extra: tuple[str, ...] = ()
) -> list[tuple[rules.CertificateFact, tuple]]:
    """
    Return each active special-operation certificate issued by `on` (of these
    workers, or all) as a CertificateFact with its reviews held by `on`, beside
    the `extra` values asked for. Two queries.
    """
    certs = Certificate.objects.filter(
        kind=Certificate.Kind.SPECIAL_OPERATION, status=Certificate.Status.ACTIVE, issued_on__lte=on
    )
    held_reviews = CertificateReview.objects.filter(
        certificate__kind=Certificate.Kind.SPECIAL_OPERATION, reviewed_on__lte=on
    )
    if workers is not None:
        certs = certs.filter(worker__in=workers.values("pk"))
        held_reviews = held_reviews.filter(certificate__worker__in=workers.values("pk"))
    rows = list(
        certs.values_list(
            "id",
            "number",
            "issued_on",
            "special_operation_id",
            "first_issued_on",
            "valid_until",
            "next_review_due",
            "extended_review_approved",
            *extra,
        )
    )
    reviews: dict[int, list[rules.ReviewFact]] = defaultdict(list)
    for pk, cert_id, reviewed_on, outcome, hours in held_reviews.values_list(
        "id", "certificate_id", "reviewed_on", "outcome", "training_hours"
    ):
        reviews[cert_id].append(rules.ReviewFact(pk, reviewed_on, outcome == CertificateReview.Outcome.PASSED, hours))
    out = []
    for pk, number, issued, op_id, first, valid_until, review_due, extended, *values in rows:
        fact = rules.CertificateFact(
            pk,
            Certificate.Kind.SPECIAL_OPERATION.value,
            number,
            issued,
            op_id,
            first,
            valid_until,
            review_due,
            extended,
            False,
            tuple(reviews[pk]),
        )
        out.append((fact, tuple(values)))
    return out


def certificate_states(*, on: dt.date | None = None) -> dict[int, rules.CertificateState]:
    """Return the effective state of every active special-operation certificate (reviews replayed), in fixed queries."""
    on = on or timezone.localdate()
    all_rules = compliance_rules()
    out = {}
    for fact, (category, trade_id) in special_operation_certificates(on=on, extra=("worker__category", "trade_id")):
        rule = rules.rule_in_force(all_rules, category=category, trade_id=trade_id, on=on)
        out[fact.id] = rules.certificate_state(fact, rule, on, check_review_training=False)
    return out


def certificate_ids_due(bucket: str, *, on: dt.date | None = None) -> set[int]:
    """
    Return ids of certificates whose next review or expiry is overdue, or due
    within 30/60/90 days; "invalid" for invalid ones.
    """
    on = on or timezone.localdate()
    found = set()
    for pk, state in certificate_states(on=on).items():
        if bucket == "invalid":
            if not state.valid:
                found.add(pk)
            continue
        if not state.valid:
            if bucket == ReminderLog.Bucket.OVERDUE:
                found.add(pk)
            continue
        days = (min(state.review_due, state.valid_until) - on).days
        if bucket != ReminderLog.Bucket.OVERDUE and days <= int(bucket):
            found.add(pk)
    return found


def worker_ids_by_clearance(value: str, *, on: dt.date | None = None) -> set[int]:
    """
    Return ids of active workers that are "not_cleared", "cleared", have
    something "overdue" or due within 30/60/90 days.
    """
    on = on or timezone.localdate()
    summaries = workers_clearance_get(workers=Worker.objects.exclude(status=Worker.Status.LEFT), on=on)
    if value == "not_cleared":
        return {pk for pk, s in summaries.items() if not s.cleared}
    if value == "cleared":
        return {pk for pk, s in summaries.items() if s.cleared}
    found = set()
    for pk, summary in summaries.items():
        for verdict in summary.by_trade.values():
            for deadline in verdict.deadlines:
                if due_bucket(deadline.due_on, on) is None:
                    continue
                days = (deadline.due_on - on).days
                if (value == ReminderLog.Bucket.OVERDUE and days < 0) or (
                    value != ReminderLog.Bucket.OVERDUE and 0 <= days <= int(value)
                ):
                    found.add(pk)
    return found


def filter_by_ids(queryset: QuerySet, ids: set[int]) -> QuerySet:
    """Filter to these ids, naming whichever side is smaller so the query stays short."""
    all_ids = set(queryset.values_list("pk", flat=True))
    wanted = ids & all_ids
    if len(wanted) <= len(all_ids) - len(wanted):
        return queryset.filter(pk__in=wanted)
    return queryset.exclude(pk__in=all_ids - wanted)


# ── due dates ─────────────────────────────────────────────────────────────

BUCKETS = ((30, ReminderLog.Bucket.DAYS_30), (60, ReminderLog.Bucket.DAYS_60), (90, ReminderLog.Bucket.DAYS_90))


def due_bucket(due_on: dt.date, on: dt.date) -> str | None:
    """Return the reminder bucket of a due date: overdue, 30, 60, 90 days, or None when further away."""
    days = (due_on - on).days
    if days < 0:
        return ReminderLog.Bucket.OVERDUE
    for limit, bucket in BUCKETS:
        if days <= limit:
            return bucket
    return None
