"""
A synthetic mining group for benchmarks: `scale_load(workers=N)` builds units,
trades, packages, rule sets and N workers with about ten attendance rows and
twenty assessment results each, at realistic pass rates, with bulk inserts.

The rows are plain synthetic data: no audit history is written for them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from certifications import models as cert
from core.bulk import rows_insert
from core.text import pinyin_initials, pinyin_key
from training import models as tr

RANKS = [
    ("L5", "初级工", 10, 5, False),
    ("L4", "中级工", 20, 4, False),
    ("L3", "高级工", 30, 3, True),
    ("L2", "技师", 40, 2, True),
    ("L1", "高级技师", 50, 1, True),
]
TRADES = [
    "综采维修电工",
    "矿井维修电工",
    "矿井维修钳工",
    "井下电钳工",
    "主提升机操作工",
    "带式输送机司机",
    "矿井泵工",
    "采煤机司机",
    "液压支架工",
    "综掘机司机",
    "瓦斯检查工",
    "安全检查工",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静强磊军洋勇艳杰娟涛明超秀霞平刚桂英华飞鹏辉斌波宁浩亮建国志"
# 2018-style and newer time-at-level prerequisites (docs/domain.md §2).
OLD = {
    "L5": {"years_in_trade": Decimal("1"), "allow_direct_entry": True},
    "L4": {"years_at_previous_rank": Decimal("4"), "years_in_trade": Decimal("6")},
    "L3": {"years_at_previous_rank": Decimal("5")},
    "L2": {"years_at_previous_rank": Decimal("4"), "require_review": True},
    "L1": {"years_at_previous_rank": Decimal("4"), "require_review": True},
}
NEW = {
    "L4": {"years_at_previous_rank": Decimal("3"), "years_in_trade": Decimal("5")},
    "L3": {"years_at_previous_rank": Decimal("4"), "years_in_trade": Decimal("10")},
    "L2": {"years_at_previous_rank": Decimal("5"), "require_review": True},
}
BATCH = 5000
COLUMNAR_CHUNK = 50_000
HUNDRED = Decimal("100")


@dataclass
class ScaleSummary:
    workers: int
    worker_trades: int
    attendance: int
    results: int
    reviews: int
    rank_records: int
    units: int
    trades: int


def _rank_rows() -> dict[str, tr.Rank]:
    """Return the five national ranks by code, reusing whatever ladder is already there."""
    existing = {r.national_level: r for r in tr.Rank.objects.filter(national_level__isnull=False)}
    ranks = {}
    for code, name, order, level, high in RANKS:
        rank = existing.get(level)
        if rank is None:
            rank = tr.Rank.objects.create(code=code, name=name, order=order, national_level=level, high_skill=high)
        ranks[code] = rank
    return ranks


def _bulk(model, objs):
    model.objects.bulk_create(objs, batch_size=BATCH)
    return objs


def _rows(model, rows: list[dict]) -> None:
    # On PostgreSQL an executemany is one INSERT per row (about 15 minutes for 100,000 workers' ~3 million rows);
    # an INSERT … SELECT FROM unnest(arrays) per chunk is one statement per 50,000 rows.
    for start in range(0, len(rows), COLUMNAR_CHUNK):
        rows_insert(model, rows[start : start + COLUMNAR_CHUNK], columnar=True)


@transaction.atomic
def scale_load(*, workers: int, seed: int = 0, prefix: str = "S", today: dt.date | None = None) -> ScaleSummary:
    """Build a synthetic mining group of `workers` workers (codes start with `prefix`); return the counts."""
    rng = random.Random(seed)
    today = today or timezone.localdate()
    now = timezone.now()
    ranks = _rank_rows()
    ladder = [ranks[code] for code, *_ in RANKS]

    mine = tr.Unit.objects.create(code=f"{prefix}-GROUP", name=f"规模测试集团{prefix}", kind=tr.Unit.Kind.MINE)
    departments = _bulk(
        tr.Unit,
        [
            tr.Unit(
                code=f"{prefix}-D{d:02d}",
                name=f"{prefix}综采{d}队",
                kind=tr.Unit.Kind.PRODUCTION_TEAM,
                parent=mine,
                sort_order=d,
            )
            for d in range(1, 9)
        ],
    )
    crew_count = max(1, workers // 40)
    crews = _bulk(
        tr.Unit,
        [
            tr.Unit(
                code=f"{prefix}-C{c:04d}",
                name=f"{prefix}班组{c}",
                kind=tr.Unit.Kind.CREW,
                parent=departments[c % 8],
                sort_order=c,
            )
            for c in range(crew_count)
        ],
    )

    trades = _bulk(
        tr.Trade,
        [
            tr.Trade(
                code=f"{prefix}-T{t:02d}",
                name=f"{name}（{prefix}）",
                discipline=tr.Trade.Discipline.ELECTROMECHANICAL,
                category=tr.PersonnelCategory.OTHER,
            )
            for t, name in enumerate(TRADES)
        ],
    )
    # Per trade × rank: three mandatory courses and two electives.
    courses = {}
    course_objs = []
    for t in range(len(trades)):
        for rank in ladder:
            for i in range(5):
                course = tr.Course(
                    code=f"{prefix}-{t:02d}{rank.code}{i}",
                    title=f"{TRADES[t]}{rank.name}模块{i + 1}",
                    theory_hours=Decimal(rng.choice([8, 16, 24])),
                    practical_hours=Decimal(rng.choice([8, 16])),
                )
                courses[(t, rank.code, i)] = course
                course_objs.append(course)
    _bulk(tr.Course, course_objs)
    packages = {}
    for t, trade in enumerate(trades):
        for rank in ladder:
            packages[(t, rank.code)] = tr.TrainingPackage(
                code=f"{prefix}-{t:02d}-{rank.code}", trade=trade, rank=rank, name=f"{TRADES[t]} {rank.name} 培训套餐"
            )
    _bulk(tr.TrainingPackage, list(packages.values()))
    _bulk(
        tr.PackageCourse,
        [
            tr.PackageCourse(
                package=packages[(t, r)],
                course=course,
                theory_hours=course.theory_hours,
                practical_hours=course.practical_hours,
                mandatory=i < 3,
                sort_order=i,
            )
            for (t, r, i), course in courses.items()
        ],
    )
    rule_sets = []
    for (t, r), package in packages.items():
        electives = 1 if r in {"L3", "L2", "L1"} else 0
        rule_sets.append(
            cert.RuleSet(
                package=package, name="2018 标准", effective_from=dt.date(2018, 1, 1), min_electives=electives, **OLD[r]
            )
        )
        if r in NEW and t % 2 == 0:
            rule_sets.append(
                cert.RuleSet(
                    package=package,
                    name="2022 标准",
                    effective_from=dt.date(2022, 6, 1),
                    min_electives=electives,
                    **NEW[r],
                )
            )
    _bulk(cert.RuleSet, rule_sets)

    # Classes: six cohorts per course over the years; exam sittings: eight per trade × rank × kind.
    classes = {}
    class_objs = []
    for key, course in courses.items():
        for k in range(6):
            start = dt.date(today.year - 6 + k, 1 + (key[0] * 7 + key[2] * 3 + k) % 11, 5)
            cls = tr.TrainingClass(
                code=f"{course.code}-{k}",
                name=f"{course.title} 第{k + 1}期",
                course=course,
                kind=tr.TrainingClass.Kind.UPSKILL,
                start=start,
                end=start + dt.timedelta(days=9),
            )
            classes[(key, k)] = cls
            class_objs.append(cls)
    _bulk(tr.TrainingClass, class_objs)
    sittings = {}
    sitting_objs = []
    for t, trade in enumerate(trades):
        for rank in ladder:
            for kind in ("theory", "practical"):
                for k in range(8):
                    held_on = dt.date(today.year - 6 + k * 3 // 4, 2 + (k * 5) % 10, 20)
                    a = cert.Assessment(
                        code=f"{prefix}-A{t:02d}{rank.code}{kind[0]}{k}",
                        name=f"{TRADES[t]}{rank.name}鉴定",
                        kind=kind,
                        trade=trade,
                        rank=rank,
                        held_on=min(held_on, today),
                    )
                    sittings[(t, rank.code, kind, k)] = a
                    sitting_objs.append(a)
    _bulk(cert.Assessment, sitting_objs)

    # Workers and their history.
    names: dict[str, str] = {}
    worker_rows, plans = [], []
    for n in range(workers):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        if name not in names:
            names[name] = (pinyin_key(name), pinyin_initials(name))
        hire = dt.date(rng.randint(today.year - 22, today.year - 1), rng.randint(1, 12), rng.randint(1, 28))
        worker_rows.append(
            {
                "employee_no": f"{prefix}{n:07d}",
                "name": name,
                "name_pinyin": names[name][0],
                "name_initials": names[name][1],
                "unit_id": crews[n % len(crews)].pk,
                "category": tr.PersonnelCategory.OTHER,
                "hire_date": hire,
            }
        )
        plans.append(hire)
    _rows(tr.Worker, worker_rows)
    worker_ids = dict(tr.Worker._base_manager.filter(unit__parent__parent=mine).values_list("employee_no", "id"))

    worker_trades, records, attendance, results, reviews = [], [], [], [], []
    for row, hire in zip(worker_rows, plans, strict=True):
        worker = worker_ids[row["employee_no"]]
        trade_ix = [rng.randrange(len(trades))]
        if rng.random() < 0.15:
            trade_ix.append((trade_ix[0] + 1 + rng.randrange(len(trades) - 1)) % len(trades))
        for j, t in enumerate(trade_ix):
            worker_trades.append(
                {"worker_id": worker, "trade_id": trades[t].pk, "is_primary": j == 0, "started_on": hire}
            )
        t = trade_ix[0]
        years = (today - hire).days / 365.25
        held = min(int(years // 4), 3, rng.choice([0, 1, 1, 2, 2, 3]))  # 0 = none, 1 = L5, …
        awarded_on = hire
        for level in range(held):
            awarded_on = min(hire + dt.timedelta(days=int(365.25 * (1 + 4 * level))), today)
            records.append(
                {
                    "worker_id": worker,
                    "trade_id": trades[t].pk,
                    "rank_id": ladder[level].pk,
                    "status": "awarded",
                    "source": "import",
                    "awarded_on": awarded_on,
                    "created_at": now,
                }
            )
        target = ladder[held].code if held < len(ladder) else ladder[-1].code
        # About ten attendance rows: the target package's courses, a few in two cohorts.
        picks = [(i, rng.randrange(6)) for i in range(5)] + [(rng.randrange(5), rng.randrange(6)) for _ in range(5)]
        seen = set()
        for i, k in picks:
            cls = classes[((t, target, i), k)]
            if cls.pk in seen:
                continue
            seen.add(cls.pk)
            course = courses[(t, target, i)]
            full = rng.random() < 0.85
            attendance.append(
                {
                    "training_class_id": cls.pk,
                    "worker_id": worker,
                    "theory_hours": course.theory_hours if full else course.theory_hours / 2,
                    "practical_hours": course.practical_hours if full else Decimal(0),
                }
            )
        # About twenty results: the target rank's and the held ranks' exams, with re-sits.
        exam_ranks = [target] + [ladder[level].code for level in range(held)][-2:]
        per_kind = max(1, 10 // len(exam_ranks))
        for r in exam_ranks:
            for kind in ("theory", "practical"):
                ks = sorted(rng.sample(range(8), min(per_kind, 8)))
                for attempt, k in enumerate(ks, start=1):
                    absent = rng.random() < 0.05
                    score = (
                        None
                        if absent
                        else Decimal(max(0, min(100, round(rng.gauss(68, 13) * 2) / 2))).quantize(Decimal("0.1"))
                    )
                    results.append(
                        {
                            "assessment_id": sittings[(t, r, kind, k)].pk,
                            "worker_id": worker,
                            "score": score,
                            "absent": absent,
                            "attempt": attempt,
                            "full_marks": HUNDRED,
                            "recorded_at": now,
                        }
                    )
        if target in {"L2", "L1"} and rng.random() < 0.5:
            reviews.append(
                {
                    "worker_id": worker,
                    "trade_id": trades[t].pk,
                    "rank_id": ranks[target].pk,
                    "held_on": today - dt.timedelta(days=rng.randint(10, 700)),
                    "passed": rng.random() < 0.7,
                }
            )
    _rows(tr.WorkerTrade, worker_trades)
    _rows(cert.RankRecord, records)
    _rows(tr.Attendance, attendance)
    _rows(cert.AssessmentResult, results)
    _rows(cert.ComprehensiveReview, reviews)
    return ScaleSummary(
        workers=len(worker_rows),
        worker_trades=len(worker_trades),
        attendance=len(attendance),
        results=len(results),
        reviews=len(reviews),
        rank_records=len(records),
        units=1 + len(departments) + len(crews),
        trades=len(trades),
    )


def summary_dict(summary: ScaleSummary) -> dict[str, int]:
    return asdict(summary)
