"""
The one computation of a scoring sheet: each item's deduction, the total, the
score on the assessment's full marks and pass or fail. Pure: plain data in,
plain data out, no queries — the tablet shows the same rule live (practical.js
mirrors it) and the server decides with this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Item:
    """One line of a scheme as the rules need it."""

    id: int
    points: Decimal
    per_mistake: Decimal = ZERO
    per_minute_over: Decimal = ZERO
    critical: bool = False


@dataclass(frozen=True)
class Mark:
    """What the assessor recorded against one item."""

    item_id: int
    mistakes: int = 0
    minutes_over: int = 0


@dataclass(frozen=True)
class Outcome:
    deductions: dict[int, Decimal]  # item id → points off, capped at the item's points
    full_points: Decimal
    total: Decimal
    score: Decimal  # the total on the assessment's full marks; 0 when a critical item failed
    passed: bool
    critical_item_id: int | None


def item_deduction(item: Item, mark: Mark | None) -> Decimal:
    """Return the points an item loses: per mistake and per minute over, never more than its points."""
    if mark is None or item.critical:
        return ZERO
    raw = item.per_mistake * max(0, mark.mistakes) + item.per_minute_over * max(0, mark.minutes_over)
    return min(max(raw, ZERO), item.points)


def _tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def sheet_outcome(
    items: list[Item],
    marks: list[Mark],
    *,
    critical_item_id: int | None,
    pass_mark: Decimal,
    full_marks: Decimal,
) -> Outcome:
    """
    Return a sheet's outcome. `full_marks` and `pass_mark` are the assessment's: the total is scaled to its full
    marks (a scheme of 100 points on an exam of 100 marks keeps its total) and passes at its pass mark, as the
    result it becomes does. A critical item failed (否决项) fails the candidate whatever the total, with a score
    of 0.
    """
    by_item = {m.item_id: m for m in marks}
    deductions = {item.id: item_deduction(item, by_item.get(item.id)) for item in items}
    full = sum((item.points for item in items if not item.critical), ZERO)
    total = max(ZERO, full - sum(deductions.values(), ZERO))
    critical = critical_item_id if critical_item_id in {i.id for i in items if i.critical} else None
    if critical is not None:
        return Outcome(deductions, full, total, ZERO, False, critical)
    score = min(full_marks, _tenth(total * full_marks / full)) if full > 0 else ZERO
    passed = full > 0 and score >= pass_mark
    return Outcome(deductions, full, total, score, passed, None)
