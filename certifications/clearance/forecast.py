"""
The recertification forecast: per unit and trade, how many special-operation
reviews and expiries fall due in each of the coming months, with the dates
replayed from the review records by the clearance rules.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from certifications.clearance import rules
from certifications.clearance.facts import compliance_rules, special_operation_certificates
from core.dates import add_months
from training.models import SpecialOperation, Trade, Worker, WorkerTrade

# ── forecast ──────────────────────────────────────────────────────────────


def month_starts(start: dt.date, months: int) -> list[dt.date]:
    first = start.replace(day=1)
    return [add_months(first, n) for n in range(months)]


@dataclass
class ForecastRow:
    unit_id: int
    unit_name: str
    trade_name: str
    reviews: list[int]
    expiries: list[int]
    overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.reviews) + sum(self.expiries)

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.reviews, self.expiries, strict=True))


@dataclass
class Forecast:
    start: dt.date
    months: list[dt.date]
    rows: list[ForecastRow]

    @property
    def review_totals(self) -> list[int]:
        return [sum(r.reviews[i] for r in self.rows) for i in range(len(self.months))]

    @property
    def expiry_totals(self) -> list[int]:
        return [sum(r.expiries[i] for r in self.rows) for i in range(len(self.months))]

    @property
    def overdue_total(self) -> int:
        return sum(r.overdue for r in self.rows)


def recertification_forecast(
    *, on: dt.date | None = None, months: int = 12, unit_ids: Iterable[int] | None = None
) -> Forecast:
    """
    Return, per unit and trade, how many special-operation reviews and expiries
    fall due in each of the next `months` calendar months (this one first),
    with the effective dates replayed from the review records. Fixed number of queries.
    """
    on = on or timezone.localdate()
    starts = month_starts(on, months)
    horizon_end = add_months(starts[0], months) - dt.timedelta(days=1)
    workers = Worker.objects.exclude(status=Worker.Status.LEFT)
    if unit_ids is not None:
        workers = workers.filter(unit_id__in=list(unit_ids))
    certs = special_operation_certificates(
        on=on, workers=workers, extra=("worker_id", "worker__unit_id", "worker__unit__name", "trade_id")
    )
    trades = dict(Trade.objects.values_list("id", "name"))
    op_names = dict(SpecialOperation.objects.values_list("id", "name"))
    trade_ops: dict[int, set[int]] = defaultdict(set)
    for trade_id, op_id in Trade.special_operations.through.objects.values_list("trade_id", "specialoperation_id"):
        trade_ops[trade_id].add(op_id)
    worker_trades: dict[int, list[tuple[bool, int]]] = defaultdict(list)
    for worker_id, trade_id, primary in WorkerTrade.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=on), worker__in=workers.values("pk")
    ).values_list("worker_id", "trade_id", "is_primary"):
        worker_trades[worker_id].append((not primary, trade_id))
    categories = dict(workers.values_list("id", "category"))
    all_rules = compliance_rules()

    rows: dict[tuple[int, str], ForecastRow] = {}
    for fact, (worker_id, unit_id, unit_name, trade_id) in certs:
        op_id = fact.special_operation_id
        if trade_id is None:
            matching = sorted(t for t in worker_trades[worker_id] if op_id in trade_ops[t[1]])
            trade_id = matching[0][1] if matching else None
        trade_name = trades.get(trade_id) or op_names.get(op_id, "")
        rule = rules.rule_in_force(all_rules, category=categories.get(worker_id, ""), trade_id=trade_id, on=on)
        # The forecast counts dates only; review training is judged by clearance.
        state = rules.certificate_state(fact, rule, on, check_review_training=False)
        row = rows.setdefault(
            (unit_id, trade_name), ForecastRow(unit_id, unit_name, trade_name, [0] * months, [0] * months)
        )
        if not state.valid:
            row.overdue += 1
            continue
        for when, counts in ((state.review_due, row.reviews), (state.valid_until, row.expiries)):
            if when is None or not (starts[0] <= when <= horizon_end):
                continue
            if counts is row.reviews and state.review_due >= state.valid_until:
                continue  # the last review is the expiry itself: count it once, as an expiry
            index = (when.year - starts[0].year) * 12 + when.month - starts[0].month
            counts[index] += 1
    ordered = sorted(rows.values(), key=lambda r: (r.unit_name, r.trade_name))
    return Forecast(start=starts[0], months=starts, rows=[r for r in ordered if r.total or r.overdue])
