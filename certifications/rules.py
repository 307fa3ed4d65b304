"""
The roll-up rules: which rank a worker holds in a trade, and exactly what is
missing for each higher rank. Pure functions over plain data — no queries —
so they can be tested with hypothesis and run for 100,000 workers.

INTERFACE CONTRACT (shared by the engine, the progress pages, exports):
`evaluate(inputs: WorkerTradeInputs, on: date) -> Explanation`.
The dataclasses below are the shape every consumer relies on; extend them with
new optional fields rather than changing existing ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Status(StrEnum):
    MET = "met"
    UNMET = "unmet"
    PENDING = "pending"  # will be met by itself with time (time at level), or awaits an HR decision


class Kind(StrEnum):
    LADDER = "ladder"  # holds the rank below
    COURSE = "course"  # one mandatory course's hours
    ELECTIVES = "electives"  # at least N electives completed
    THEORY = "theory"  # theory exam
    PRACTICAL = "practical"  # practical exam
    COMPOSITE = "composite"  # weighted composite score
    TIME = "time"  # years at previous rank / in trade
    REVIEW = "review"  # comprehensive review (综合评审)
    RULES = "rules"  # no rule set in force for this rank


@dataclass(frozen=True)
class Requirement:
    """One requirement of one rank, with what was required and what the worker has."""

    kind: Kind
    status: Status
    label: str  # short English/translatable label, e.g. course title or "Theory exam"
    required: Decimal | str | None = None  # e.g. Decimal("60"), Decimal("40") hours, "2 years"
    actual: Decimal | str | None = None  # e.g. Decimal("78"), Decimal("24") hours
    detail: str = ""  # extra words, e.g. "one re-sit left", "retrain before the next attempt"
    evidence: tuple[str, ...] = ()  # e.g. ("result:12", "attendance:40")
    met_on: dt.date | None = None  # for time-based requirements: the date it is/will be met
    course_code: str | None = None  # for COURSE requirements
    resits_left: int | None = None  # for exam requirements


@dataclass(frozen=True)
class RankStep:
    """A rank above the one held, and every requirement for it."""

    rank_id: int
    rank_code: str
    rank_name: str
    rule_set_id: int | None
    rule_set_name: str | None
    requirements: tuple[Requirement, ...]

    @property
    def met(self) -> bool:
        return bool(self.requirements) and all(r.status == Status.MET for r in self.requirements)

    @property
    def progress(self) -> float:
        """Share of requirements met, 0.0–1.0."""
        if not self.requirements:
            return 0.0
        return sum(r.status == Status.MET for r in self.requirements) / len(self.requirements)


@dataclass(frozen=True)
class Explanation:
    """Where a worker stands in one trade on one date."""

    worker_id: int
    trade_id: int
    on: dt.date
    held_rank_id: int | None  # the highest rank awarded (record status awarded)
    held_rank_name: str | None
    steps: tuple[RankStep, ...] = field(default_factory=tuple)  # higher ranks, lowest first

    @property
    def next_step(self) -> RankStep | None:
        return self.steps[0] if self.steps else None
