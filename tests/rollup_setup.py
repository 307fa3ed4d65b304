"""A small trade with a two-rank ladder, packages and rule sets, for the roll-up tests."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from certifications.models import Assessment
from tests.factories import (
    AssessmentFactory,
    CourseFactory,
    PackageCourseFactory,
    PackageFactory,
    RankRecordFactory,
    RuleSetFactory,
    TradeFactory,
    TrainingClassFactory,
    WorkerTradeFactory,
    make_ladder,
)


@dataclass
class Trade:
    trade: object
    ranks: list
    package: object  # the 中级工 (L4) package
    rule_set: object
    course: object
    training_class: object
    theory: object  # L4 theory assessment
    practical: object


def trade_setup(*, years_at_previous_rank=None, code="T900") -> Trade:
    """Return a trade where 中级工 needs one course (8+8 h), theory and practical ≥ 60."""
    ranks = make_ladder()
    trade = TradeFactory(code=code, name=f"综采维修电工{code}")
    PackageFactory(trade=trade, rank=ranks[0])
    package = PackageFactory(trade=trade, rank=ranks[1])
    course = CourseFactory(code=f"{code}-C1", theory_hours=Decimal("8"), practical_hours=Decimal("8"))
    PackageCourseFactory(package=package, course=course, theory_hours=Decimal("8"), practical_hours=Decimal("8"))
    rule_set = RuleSetFactory(package=package, years_at_previous_rank=years_at_previous_rank)
    training_class = TrainingClassFactory(course=course, start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 6))
    theory = AssessmentFactory(
        kind=Assessment.Kind.THEORY, course=None, trade=trade, rank=ranks[1], held_on=dt.date(2026, 4, 1)
    )
    practical = AssessmentFactory(
        kind=Assessment.Kind.PRACTICAL, course=None, trade=trade, rank=ranks[1], held_on=dt.date(2026, 4, 2)
    )
    return Trade(trade, ranks, package, rule_set, course, training_class, theory, practical)


def worker_in(setup: Trade, worker=None, **kwargs):
    """Return a worker holding 初级工 in the trade since 2020."""
    worker_trade = WorkerTradeFactory(trade=setup.trade, **({"worker": worker} if worker else {}), **kwargs)
    RankRecordFactory(
        worker=worker_trade.worker, trade=setup.trade, rank=setup.ranks[0], awarded_on=dt.date(2020, 6, 1)
    )
    return worker_trade.worker
