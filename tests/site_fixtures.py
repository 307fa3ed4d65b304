"""Builders shared by the progress-page tests: a small mine, its people and their logins."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from certifications.ranks import rules
from tests.factories import MineFactory, UnitFactory, UserFactory, WorkerFactory
from training import roles
from training.models import Unit, Worker

TODAY = dt.date(2026, 6, 1)  # the date the progress-page tests run on (the `today` fixture in conftest.py)


@dataclass
class Mine:
    mine: Unit
    dept: Unit  # a production team
    crew: Unit  # a crew below dept
    other_dept: Unit
    other_crew: Unit
    trainee: Worker
    classmate: Worker  # in the trainee's crew
    leader: Worker  # leads dept (so also sees crew)
    outsider: Worker  # in other_crew


def build_mine() -> Mine:
    mine = MineFactory()
    dept = UnitFactory(code="ZC1", name="综采一队", kind=Unit.Kind.PRODUCTION_TEAM, parent=mine, sort_order=1)
    crew = UnitFactory(code="ZC1-1", name="综采一队检修班", kind=Unit.Kind.CREW, parent=dept)
    other_dept = UnitFactory(code="JJ2", name="掘进二队", kind=Unit.Kind.PRODUCTION_TEAM, parent=mine, sort_order=2)
    other_crew = UnitFactory(code="JJ2-1", name="掘进二队一班", kind=Unit.Kind.CREW, parent=other_dept)

    trainee = WorkerFactory(
        employee_no="100001", name="王强", unit=crew, user=UserFactory(username="trainee", role=roles.TRAINEE)
    )
    classmate = WorkerFactory(employee_no="100002", name="李明", unit=crew)
    leader = WorkerFactory(
        employee_no="100003",
        name="赵班长",
        unit=dept,
        is_team_leader=True,
        user=UserFactory(username="leader", role=roles.LEADER),
    )
    outsider = WorkerFactory(employee_no="200001", name="孙外", unit=other_crew)
    return Mine(mine, dept, crew, other_dept, other_crew, trainee, classmate, leader, outsider)


def explanation(worker, trade, *, held="中级工", next_rank="高级工", on=dt.date(2026, 6, 1)) -> rules.Explanation:
    """Return a hand-built roll-up explanation with one requirement of each common kind."""
    R = rules.Requirement
    return rules.Explanation(
        worker_id=worker.pk,
        trade_id=trade.pk,
        on=on,
        held_rank_id=None,
        held_rank_name=held,
        steps=(
            rules.RankStep(
                rank_id=999,
                rank_code="L3",
                rank_name=next_rank,
                rule_set_id=None,
                rule_set_name="2018 标准",
                requirements=(
                    R(rules.Kind.THEORY, rules.Status.MET, "Theory exam", Decimal("60"), Decimal("78")),
                    R(
                        rules.Kind.PRACTICAL,
                        rules.Status.UNMET,
                        "Practical exam",
                        Decimal("60"),
                        Decimal("55"),
                        resits_left=1,
                    ),
                    R(
                        rules.Kind.COURSE,
                        rules.Status.UNMET,
                        "综采设备维护",
                        Decimal("40"),
                        Decimal("24"),
                        course_code="C1",
                    ),
                    R(
                        rules.Kind.TIME,
                        rules.Status.PENDING,
                        "Time at level",
                        Decimal("4"),
                        Decimal("3.2"),
                        met_on=dt.date(2027, 3, 1),
                    ),
                ),
            ),
        ),
    )
