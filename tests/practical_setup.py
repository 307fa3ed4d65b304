"""A practical sitting with a scoring scheme, examiners and candidates, for the scoring-sheet tests."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from certifications.models import ScoringItem, ScoringScheme, Sitting
from certifications.sittings.services import candidates_add, sitting_save
from tests import factories as f
from training.models import Rank, Trade

PRACTICAL_DAY = dt.date(2026, 9, 5)


@dataclass
class Practical:
    sitting: Sitting
    scheme: ScoringScheme
    items: list[ScoringItem]  # 停送电操作程序 40, 验电放电 30, 工具使用 30
    critical: list[ScoringItem]  # 带电作业, 未验电
    assessor: object
    second_assessor: object
    outsider: object
    workers: list


def practical_build(*, candidates: int = 2) -> Practical:
    trade = Trade.objects.filter(name="综采维修电工").first() or f.TradeFactory(name="综采维修电工")
    rank = Rank.objects.filter(name="中级工").first() or f.RankFactory(name="中级工")
    assessor = f.UserFactory(username="assessor-1", role="assessor", is_staff=True)
    second = f.UserFactory(username="assessor-2", role="assessor", is_staff=True)
    outsider = f.UserFactory(username="assessor-3", role="assessor", is_staff=True)
    sitting = sitting_save(
        Sitting(
            name="维修电工实操", trade=trade, rank=rank, practical_on=PRACTICAL_DAY, practical_pass_mark=Decimal("60")
        ),
        examiners=[assessor, second],
    )
    scheme = ScoringScheme.objects.create(
        name="综采维修电工 中级 实操评分表",
        trade=trade,
        rank=rank,
        effective_from=dt.date(2026, 1, 1),
        time_limit_minutes=30,
    )
    items = [
        ScoringItem.objects.create(
            scheme=scheme, order=1, name="停送电操作程序", points=Decimal("40"), per_mistake=Decimal("5")
        ),
        ScoringItem.objects.create(
            scheme=scheme, order=2, name="验电放电", points=Decimal("30"), per_mistake=Decimal("10")
        ),
        ScoringItem.objects.create(
            scheme=scheme,
            order=3,
            name="工具使用",
            points=Decimal("30"),
            per_mistake=Decimal("2"),
            per_minute_over=Decimal("1"),
        ),
    ]
    critical = [
        ScoringItem.objects.create(scheme=scheme, order=4, name="带电作业", critical=True),
        ScoringItem.objects.create(scheme=scheme, order=5, name="未验电", critical=True),
    ]
    workers = [f.WorkerFactory(name=f"李{'一二三四五六'[i] if i < 6 else i}") for i in range(candidates)]
    candidates_add(sitting=sitting, worker_ids=[w.pk for w in workers])
    return Practical(sitting, scheme, items, critical, assessor, second, outsider, workers)


def sheet_payload(p: Practical, worker, *, marks=(), critical=None, base_version=None, sheet_id=None, **extra) -> dict:
    """A sheet as the tablet sends it. `marks`: (item, mistakes, minutes over) triples."""
    return {
        "uuid": str(sheet_id or uuid.uuid4()),
        "sitting": p.sitting.pk,
        "worker": worker.employee_no,
        "base_version": base_version,
        "started_at": "2026-09-05T09:00:00+08:00",
        "stopped_at": "2026-09-05T09:32:00+08:00",
        "critical_item": critical.pk if critical else None,
        "marks": [{"item": item.pk, "mistakes": n, "minutes_over": m, "note": ""} for item, n, m in marks],
        "candidate_name": worker.name,
        **extra,
    }
