"""The HR dashboard: per-unit figures, each unit counting its whole subtree, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from certifications.measures import (
    DUE_WINDOWS,
    active_workers,
    annual_hours_by_unit,
    certificates_due_by_unit,
    head_count_by_unit,
    pass_counts_by_unit,
    pending_awards_by_unit,
    top_rank_by_unit,
)
from certifications.models import AssessmentResult
from certifications.progress.common import ZERO, percent, year_bounds
from training.models import Rank, Unit, Worker

# ---------------------------------------------------------------------------
# The HR dashboard


@dataclass
class UnitStats:
    unit: Unit
    depth: int
    workers: int = 0
    trained: int = 0  # workers with any annual retraining hours this year
    hours_met: int = 0  # workers at or above their annual requirement
    hours_total: Decimal = ZERO
    attempts: int = 0
    passes: int = 0
    ranked: int = 0
    high_skill: int = 0
    ranks: Counter = field(default_factory=Counter)  # (rank order, rank name) → workers whose highest rank it is
    overdue: int = 0  # certificates past their review or expiry
    due: dict = field(default_factory=lambda: dict.fromkeys(DUE_WINDOWS, 0))  # due within N days, overdue excluded
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
    active = active_workers()
    for unit_id, n in head_count_by_unit(active).items():
        for uid in chain(unit_id):
            stats[uid].workers += n
    for unit_id, hours in annual_hours_by_unit(active, on).items():
        for uid in chain(unit_id):
            s = stats[uid]
            s.hours_total += hours.total
            s.trained += hours.trained
            s.hours_met += hours.met

    for (unit_id, _kind), (attempts, passes) in pass_counts_by_unit(
        AssessmentResult.objects.filter(assessment__held_on__range=(first, last))
    ).items():
        for uid in chain(unit_id):
            stats[uid].attempts += attempts
            stats[uid].passes += passes

    ranks = {order: (name, high) for order, name, high in Rank.objects.values_list("order", "name", "high_skill")}
    held_orders = set()
    for (unit_id, order), n in top_rank_by_unit(active).items():
        name, high = ranks[order]
        held_orders.add(order)
        for uid in chain(unit_id):
            stats[uid].ranked += n
            stats[uid].high_skill += n if high else 0
            stats[uid].ranks[(order, name)] += n
    rank_names = [ranks[order][0] for order in sorted(held_orders)]

    for unit_id, counts in certificates_due_by_unit(workers=active, on=on).items():
        for uid in chain(unit_id):
            stats[uid].overdue += counts.overdue
            for window, n in counts.due.items():
                stats[uid].due[window] += n

    for unit_id, n in pending_awards_by_unit(Worker.objects.all()).items():
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
