"""The HR dashboard: per-unit figures, each unit counting its whole subtree, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from certifications.models import AssessmentResult, Certificate, ComplianceRule, RankRecord
from certifications.progress.common import (
    DUE_WINDOWS,
    HOURS_FIELD,
    ZERO,
    annual_hours_required,
    due_q,
    percent,
    year_bounds,
)
from training.models import Attendance, Rank, Unit, Worker

# ---------------------------------------------------------------------------
# The HR dashboard


@dataclass
class UnitStats:
    unit: Unit
    depth: int
    workers: int = 0
    trained: int = 0  # workers with any training hours this year
    hours_met: int = 0  # workers at or above their annual requirement
    hours_total: Decimal = ZERO
    attempts: int = 0
    passes: int = 0
    ranked: int = 0
    high_skill: int = 0
    ranks: Counter = field(default_factory=Counter)  # (rank order, rank name) → workers whose highest rank it is
    due: dict = field(default_factory=lambda: dict.fromkeys(DUE_WINDOWS, 0))
    pending_awards: int = 0
    extra: dict = field(default_factory=dict)  # room for other pages' columns (e.g. 持证上岗率)

    @property
    def rank_counts(self) -> dict[str, int]:
        return {name: n for (_order, name), n in self.ranks.items()}

    @property
    def rank_distribution(self) -> list[tuple[str, int]]:
        return [(name, n) for (_order, name), n in sorted(self.ranks.items())]

    @property
    def coverage(self):
        return percent(self.trained, self.workers)

    @property
    def hours_met_percent(self):
        return percent(self.hours_met, self.workers)

    @property
    def average_hours(self) -> Decimal:
        return (self.hours_total / self.workers).quantize(Decimal("0.1")) if self.workers else ZERO

    @property
    def pass_rate(self):
        return percent(self.passes, self.attempts)

    @property
    def high_skill_percent(self):
        return percent(self.high_skill, self.workers)


@dataclass
class Dashboard:
    on: dt.date
    units: list[UnitStats]
    rank_names: list[str]
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> UnitStats | None:
        return self.units[0] if self.units else None


def dashboard_get(*, on: dt.date | None = None) -> Dashboard:
    """Return per-unit figures (each unit counts its whole subtree), in a fixed number of queries."""
    on = on or timezone.localdate()
    first, last = year_bounds(on)
    units = list(Unit.objects.order_by("sort_order", "code"))
    parent_of = {u.pk: u.parent_id for u in units}

    def chain(unit_id):
        seen = set()
        while unit_id is not None and unit_id not in seen:
            seen.add(unit_id)
            yield unit_id
            unit_id = parent_of.get(unit_id)

    stats = {u.pk: UnitStats(unit=u, depth=0) for u in units}
    for u in units:
        stats[u.pk].depth = sum(1 for _ in chain(u.parent_id))

    # Every figure is aggregated per unit (and category or rank) in SQL; Python rolls units up their chain,
    # so the work here grows with the number of units, not of workers.
    active = Worker.objects.exclude(status=Worker.Status.LEFT)
    compliance_rules = list(ComplianceRule.objects.filter(effective_from__lte=on))
    by_unit_category = list(
        active.order_by().values("unit_id", "category").annotate(n=Count("pk")).values_list("unit_id", "category", "n")
    )
    required = {c: annual_hours_required(compliance_rules, category=c, on=on) for _u, c, _n in by_unit_category}
    for unit_id, _category, n in by_unit_category:
        for uid in chain(unit_id):
            stats[uid].workers += n

    # The database sums each worker's hours (one GROUP BY); Python only compares each sum with its requirement.
    attending: Counter = Counter()
    for unit_id, category, worker_hours in (
        Attendance.objects.filter(training_class__start__range=(first, last), worker__in=active)
        .order_by()
        .values("worker_id", "worker__unit_id", "worker__category")
        .annotate(total=Sum(F("theory_hours") + F("practical_hours"), output_field=HOURS_FIELD))
        .values_list("worker__unit_id", "worker__category", "total")
    ):
        worker_hours = worker_hours or ZERO
        attending[(unit_id, category)] += 1
        met = worker_hours >= required[category]
        for uid in chain(unit_id):
            s = stats[uid]
            s.hours_total += worker_hours
            s.trained += worker_hours > 0
            s.hours_met += met
    # Workers whose requirement is zero meet it without attending anything.
    for unit_id, category, n in by_unit_category:
        if required[category] <= 0:
            for uid in chain(unit_id):
                stats[uid].hours_met += n - attending[(unit_id, category)]

    for unit_id, attempts, passes in (
        AssessmentResult.objects.filter(assessment__held_on__range=(first, last), worker__in=active)
        .values("worker__unit_id")
        .annotate(
            attempts=Count("pk"),
            passes=Count("pk", filter=Q(absent=False, score__gte=F("assessment__pass_mark"))),
        )
        .values_list("worker__unit_id", "attempts", "passes")
    ):
        for uid in chain(unit_id):
            stats[uid].attempts += attempts
            stats[uid].passes += passes

    ranks = {order: (name, high) for order, name, high in Rank.objects.values_list("order", "name", "high_skill")}
    held_orders = set()
    by_unit_top: Counter = Counter()
    for unit_id, order in (
        RankRecord.objects.filter(status=RankRecord.Status.AWARDED, worker__in=active)
        .order_by()
        .values("worker_id", "worker__unit_id")
        .annotate(top=Max("rank__order"))
        .values_list("worker__unit_id", "top")
    ):
        by_unit_top[(unit_id, order)] += 1
    for (unit_id, order), n in by_unit_top.items():
        name, high = ranks[order]
        held_orders.add(order)
        for uid in chain(unit_id):
            stats[uid].ranked += n
            stats[uid].high_skill += n if high else 0
            stats[uid].ranks[(order, name)] += n
    rank_names = [ranks[order][0] for order in sorted(held_orders)]

    # A certificate counts in a window when its review or its expiry falls on or before the window's end.
    for unit_id, *due in (
        Certificate.objects.filter(due_q(on, max(DUE_WINDOWS)), status=Certificate.Status.ACTIVE, worker__in=active)
        .values("worker__unit_id")
        .annotate(**{f"d{w}": Count("pk", filter=due_q(on, w)) for w in DUE_WINDOWS})
        .values_list("worker__unit_id", *[f"d{w}" for w in DUE_WINDOWS])
    ):
        for window, n in zip(DUE_WINDOWS, due, strict=True):
            for uid in chain(unit_id):
                stats[uid].due[window] += n

    for unit_id, n in (
        RankRecord.objects.filter(status=RankRecord.Status.PENDING)
        .values("worker__unit_id")
        .annotate(n=Count("pk"))
        .values_list("worker__unit_id", "n")
    ):
        for uid in chain(unit_id):
            stats[uid].pending_awards += n

    ordered = _tree_order(units)
    return Dashboard(on=on, units=[stats[u.pk] for u in ordered], rank_names=rank_names)


# Rows in the dashboard's unit table: a mine of 2,500 crews lists its top levels, each unit's page the rest.
DASHBOARD_UNIT_ROWS = 300


def levels_that_fit(depths, limit: int) -> int | None:
    """
    Return the deepest level to list so that at most `limit` units are listed
    (never fewer than the top two levels), or None when every unit fits.
    """
    depths = list(depths)
    if len(depths) <= limit:
        return None
    per_depth = Counter(depths)
    deepest, rows = 0, 0
    for level in sorted(per_depth):
        if level > 1 and rows + per_depth[level] > limit:
            break
        deepest, rows = level, rows + per_depth[level]
    return None if deepest == max(per_depth) else deepest


def dashboard_rows(units: list[UnitStats], *, every: bool = False, limit: int | None = None):
    """Return (units to list, deepest level listed or None for all): the top levels that fit in `limit` rows."""
    deepest = (
        None if every else levels_that_fit((s.depth for s in units), DASHBOARD_UNIT_ROWS if limit is None else limit)
    )
    if deepest is None:
        return units, None
    return [s for s in units if s.depth <= deepest], deepest


def _tree_order(units: list[Unit]) -> list[Unit]:
    children: dict[int | None, list[Unit]] = defaultdict(list)
    ids = {u.pk for u in units}
    for u in units:
        children[u.parent_id if u.parent_id in ids else None].append(u)
    ordered, stack = [], list(reversed(children[None]))
    while stack:
        u = stack.pop()
        ordered.append(u)
        stack.extend(reversed(children.get(u.pk, [])))
    return ordered
