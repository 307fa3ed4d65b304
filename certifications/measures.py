"""
One reader per figure (docs/architecture.md, "Figures"). Each figure the
pages, the ledger and the API show per unit is counted here, once, as a
GROUP BY on the worker's unit; the callers roll units up their own trees.

- head count: workers on the books who have not left (`active_workers`);
- certificates due and overdue: an active certificate of an active worker is
  due on the earlier of its next review and its expiry — for special-operation
  certificates as the clearance engine replays them (`certificates_due_by_unit`);
  overdue when that day has passed, due within N days when it falls in the
  next N days (today included), never both;
- pass rate: results that passed (`passed_q`) over results sat or missed;
- rank distribution: each active worker once, at the highest rank awarded in
  any trade (`top_rank_by_unit`);
- pending awards: awards waiting for HR, per unit of their worker;
- annual retraining hours: attendance of annual-retraining classes ending in
  the year (`annual_hours_q`, the clearance engine's rule as SQL), against the
  hours in force for the worker's category and primary trade (clearance
  `rules.annual_hours_required`; `annual_hours_by_unit` per unit).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Least

from certifications.clearance import rules
from certifications.clearance.facts import certificate_states, compliance_rules
from certifications.models import AssessmentResult, Certificate, RankRecord, passed_q
from training.models import Attendance, Worker, WorkerTrade

DUE_WINDOWS = (30, 60, 90)


def active_workers(workers: QuerySet | None = None) -> QuerySet:
    """Return the workers counted in figures: everyone on the books who has not left."""
    workers = Worker.objects.all() if workers is None else workers
    return workers.exclude(status=Worker.Status.LEFT)


def head_count_by_unit(workers: QuerySet) -> Counter:
    """Return unit id → active workers."""
    return Counter(
        dict(active_workers(workers).order_by().values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"))
    )


def certificate_due_on():
    """The day a certificate is next due as stored: the earlier of its review and its expiry (either may be empty)."""
    return Least(Coalesce("next_review_due", "valid_until"), Coalesce("valid_until", "next_review_due"))


def due_q(on: dt.date, days: int, prefix: str = "") -> Q:
    """Certificates whose stored review or expiry falls within `days` of `on`, or has passed (due or overdue)."""
    limit = on + dt.timedelta(days=days)
    return Q(**{f"{prefix}next_review_due__lte": limit}) | Q(**{f"{prefix}valid_until__lte": limit})


@dataclass
class CertificatesDue:
    overdue: int = 0
    due: dict[int, int] = field(default_factory=lambda: dict.fromkeys(DUE_WINDOWS, 0))


def certificates_due_by_unit(
    *, workers: QuerySet, on: dt.date, windows: tuple[int, ...] = DUE_WINDOWS
) -> dict[int, CertificatesDue]:
    """
    Return unit id → active certificates of active workers that are overdue, and
    that are due within each window (overdue ones excluded). A special-operation
    certificate is judged by the clearance engine (its reviews replayed, missing
    dates from the statutory intervals: certifications/clearance/rules.py), the
    rule the forecast and clearance use; it is overdue when no longer valid. Any
    other certificate is due on its stored review or expiry, whichever is earlier.
    """
    states = certificate_states(on=on)
    found: dict[int, CertificatesDue] = {}
    rows = (
        Certificate.objects.filter(status=Certificate.Status.ACTIVE, worker__in=active_workers(workers))
        .annotate(due_on=certificate_due_on())
        .values_list("pk", "kind", "worker__unit_id", "due_on")
    )
    for pk, kind, unit_id, due_on in rows.iterator(chunk_size=5000):
        overdue = False
        if kind == Certificate.Kind.SPECIAL_OPERATION:
            state = states.get(pk)
            if state is None:
                continue  # issued after `on`: not in force yet
            overdue = not state.valid
            due_on = min(d for d in (state.review_due, state.valid_until) if d is not None)
        elif due_on is None:
            continue
        else:
            overdue = due_on < on
        counts = found.setdefault(unit_id, CertificatesDue(due=dict.fromkeys(windows, 0)))
        if overdue:
            counts.overdue += 1
            continue
        for window in windows:
            counts.due[window] += due_on <= on + dt.timedelta(days=window)
    return found


def pass_counts_by_unit(results: QuerySet) -> dict[tuple[int, str], tuple[int, int]]:
    """Return (unit id, assessment kind) → (results, passes) among `results` of active workers."""
    return {
        (unit_id, kind): (total, passes)
        for unit_id, kind, total, passes in results.filter(worker__in=active_workers())
        .order_by()
        .values("worker__unit_id", "assessment__kind")
        .annotate(total=Count("pk"), passes=Count("pk", filter=passed_q()))
        .values_list("worker__unit_id", "assessment__kind", "total", "passes")
    }


def results_in_year(year: int | None) -> QuerySet:
    """The results of sittings held in `year` (every year when None)."""
    results = AssessmentResult.objects.all()
    return results.filter(assessment__held_on__year=year) if year else results


def top_rank_by_unit(workers: QuerySet) -> Counter:
    """Return (unit id, rank order) → active workers whose highest awarded rank in any trade it is."""
    found: Counter = Counter()
    for unit_id, order in (
        RankRecord.objects.filter(status=RankRecord.Status.AWARDED, worker__in=active_workers(workers))
        .order_by()
        .values("worker_id", "worker__unit_id")
        .annotate(top=Max("rank__order"))
        .values_list("worker__unit_id", "top")
    ):
        found[(unit_id, order)] += 1
    return found


def pending_awards_by_unit(workers: QuerySet) -> Counter:
    """Return unit id → awards waiting for HR's decision."""
    return Counter(
        dict(
            RankRecord.objects.filter(status=RankRecord.Status.PENDING, worker__in=workers)
            .order_by()
            .values("worker__unit_id")
            .annotate(n=Count("pk"))
            .values_list("worker__unit_id", "n")
        )
    )


# ── annual retraining hours ───────────────────────────────────────────────

HOURS_FIELD = DecimalField(max_digits=9, decimal_places=1)
NO_HOURS = Decimal("0")


@dataclass(frozen=True)
class Hours:
    theory: Decimal = NO_HOURS
    practical: Decimal = NO_HOURS

    @property
    def total(self) -> Decimal:
        return self.theory + self.practical


def annual_hours_q(year: int, prefix: str = "") -> Q:
    """
    The attendance that counts toward a year's annual retraining: classes of an
    annual-retraining kind that end in that year (the SQL form of
    clearance `rules.counts_as_annual_retraining`).
    """
    return Q(
        **{
            f"{prefix}training_class__kind__in": sorted(rules.ANNUAL_KINDS),
            f"{prefix}training_class__end__range": (dt.date(year, 1, 1), dt.date(year, 12, 31)),
        }
    )


def annual_hours_subquery(year: int, worker_ref: str = "pk") -> Coalesce:
    """A worker's annual retraining hours in `year`, as an expression to annotate workers with."""
    total = (
        Attendance.objects.filter(annual_hours_q(year), worker=OuterRef(worker_ref))
        .order_by()
        .values("worker")
        .annotate(total=Sum(F("theory_hours") + F("practical_hours"), output_field=HOURS_FIELD))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=HOURS_FIELD), Value(NO_HOURS), output_field=HOURS_FIELD)


def annual_hours_by_worker(workers: QuerySet, year: int) -> dict[int, Hours]:
    """Return worker id → annual retraining hours in `year` (workers without any are absent: zero)."""
    return {
        worker_id: Hours(theory or NO_HOURS, practical or NO_HOURS)
        for worker_id, theory, practical in Attendance.objects.filter(annual_hours_q(year), worker__in=workers)
        .order_by()
        .values("worker_id")
        .annotate(theory=Sum("theory_hours"), practical=Sum("practical_hours"))
        .values_list("worker_id", "theory", "practical")
    }


def _requirements(workers: QuerySet, on: dt.date):
    """Yield (worker id, unit id, annual hours required on `on`) for each worker: two queries."""
    all_rules = compliance_rules()
    primary = WorkerTrade.objects.filter(worker=OuterRef("pk"), is_primary=True, ended_on__isnull=True).values(
        "trade_id"
    )[:1]
    for worker_id, unit_id, category, trade_id in (
        workers.order_by()
        .annotate(primary_trade_id=Subquery(primary))
        .values_list("pk", "unit_id", "category", "primary_trade_id")
    ):
        yield worker_id, unit_id, rules.annual_hours_required(all_rules, category=category, trade_id=trade_id, on=on)


@dataclass
class UnitHours:
    workers: int = 0
    met: int = 0  # workers at or above their annual requirement (a zero requirement is met without training)
    trained: int = 0  # workers with any annual retraining hours this year
    total: Decimal = NO_HOURS


def annual_hours_by_unit(workers: QuerySet, on: dt.date) -> dict[int, UnitHours]:
    """Return unit id → annual retraining figures of its own active workers in `on`'s year: three queries."""
    workers = active_workers(workers)
    hours = annual_hours_by_worker(workers, on.year)
    by_unit: dict[int, UnitHours] = {}
    for worker_id, unit_id, need in _requirements(workers, on):
        have = hours.get(worker_id, Hours()).total
        figures = by_unit.setdefault(unit_id, UnitHours())
        figures.workers += 1
        figures.met += have >= need
        figures.trained += have > 0
        figures.total += have
    return by_unit
