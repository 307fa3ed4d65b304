"""
The unit page: a row per worker of a unit's subtree and the skills matrix of
one training package, in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications import measures
from certifications.clearance import rules as clearance_rules
from certifications.clearance.facts import compliance_rules
from certifications.models import AssessmentResult, Certificate, RankRecord
from certifications.progress.common import (
    ZERO,
    CertificateDue,
    certificate_due,
    percent,
    step_percent,
)
from certifications.ranks import rules
from certifications.ranks.inputs import rollup_inputs_load
from certifications.ranks.wording import number
from training.models import Attendance, TrainingPackage, Unit, Worker, WorkerTrade


def workers_explanations(*, workers, unit_ids=None, on: dt.date) -> dict[int, list[rules.Explanation]]:
    """Return the roll-up explanations of the shown workers by worker id, in a fixed number of queries."""
    del unit_ids  # the shown workers are already inside the units; loading by worker keeps it to one page's rows
    if not workers:
        return {}
    found: dict[int, list[rules.Explanation]] = defaultdict(list)
    for (worker_id, _trade_id), inputs in rollup_inputs_load(worker_ids=[w.pk for w in workers], on=on).items():
        found[worker_id].append(rules.evaluate(inputs, on))
    return found


# ---------------------------------------------------------------------------
# The unit page


def unit_workers_queryset(*, unit_ids, on: dt.date):
    """Return the workers of these units, annotated with what the unit table sorts on."""
    top_rank = (
        RankRecord.objects.filter(worker=OuterRef("pk"), status=RankRecord.Status.AWARDED)
        .order_by("-rank__order")
        .values("rank__order")[:1]
    )
    due = (
        Certificate.objects.filter(measures.due_q(on, 90), worker=OuterRef("pk"), status=Certificate.Status.ACTIVE)
        .values("worker")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Worker.objects.filter(unit_id__in=unit_ids)
        .select_related("unit")
        .annotate(
            hours_this_year=measures.annual_hours_subquery(on.year),
            top_rank_order=Subquery(top_rank),
            certificates_due=Coalesce(Subquery(due), Value(0)),
        )
    )


@dataclass
class HeldTrade:
    trade_id: int
    trade_name: str
    is_primary: bool
    rank_name: str | None
    rank_order: int | None


@dataclass
class UnitRow:
    worker: Worker
    trades: list[HeldTrade]
    hours: Decimal
    hours_required: Decimal
    certificates_due: list[CertificateDue]
    explanation: rules.Explanation | None = None
    extra: dict = field(default_factory=dict)  # room for other pages' columns (e.g. clearance)

    @property
    def next_step(self):
        return self.explanation.next_step if self.explanation else None

    @property
    def next_percent(self) -> int:
        return step_percent(self.next_step)

    @property
    def next_trade_name(self) -> str:
        if self.explanation is None:
            return ""
        return next((t.trade_name for t in self.trades if t.trade_id == self.explanation.trade_id), "")

    @property
    def hours_met(self) -> bool:
        return self.hours >= self.hours_required

    @property
    def hours_percent(self) -> int:
        return min(100, percent(self.hours, self.hours_required) or 0) if self.hours_required else 100


@dataclass(frozen=True)
class MatrixColumn:
    key: str
    label: str
    kind: str  # course or exam
    theory_hours: Decimal = ZERO
    practical_hours: Decimal = ZERO
    mandatory: bool = True

    @property
    def required_hours(self) -> Decimal:
        return self.theory_hours + self.practical_hours


@dataclass(frozen=True)
class MatrixCell:
    state: str  # done, in_progress, missing, failed, held
    text: str = ""

    @property
    def symbol(self) -> str:
        return MATRIX_SYMBOLS[self.state]

    @property
    def state_label(self) -> str:
        return matrix_state_labels()[self.state]


MATRIX_SYMBOLS = {"held": "●", "done": "✓", "in_progress": "◐", "missing": "○", "failed": "✗"}


def matrix_state_labels() -> dict[str, str]:
    return {
        "held": _("held"),
        "done": _("done"),
        "in_progress": _("in progress"),
        "missing": _("missing"),
        "failed": _("failed"),
    }


def matrix_state_help() -> dict[str, str]:
    """What each symbol of the matrix means, for its legend."""
    return {
        "held": _("already holds this rank or a higher one in this trade: nothing of this package is needed"),
        "done": _("the course's hours are complete, or the exam is passed"),
        "in_progress": _("some of the course's hours are attended"),
        "missing": _("not started: no hours attended, no exam sat"),
        "failed": _("sat and not passed (or missed); a re-sit is needed"),
    }


@dataclass
class SkillsMatrix:
    package: TrainingPackage | None
    packages: list[TrainingPackage]
    columns: list[MatrixColumn]
    rows: list[tuple[Worker, list[MatrixCell]]]
    departed_hidden: int = 0


@dataclass
class UnitProgress:
    unit: Unit
    on: dt.date
    rows: list[UnitRow]
    matrix: SkillsMatrix
    worker_count: int
    extra: dict = field(default_factory=dict)

    @property
    def hours_met_count(self) -> int:
        return sum(row.hours_met for row in self.rows)

    @property
    def due_count(self) -> int:
        return sum(bool(row.certificates_due) for row in self.rows)


def unit_progress_get(
    *,
    unit: Unit,
    unit_ids,
    workers,
    on: dt.date | None = None,
    package_id: int | None = None,
    explanations=None,
    candidates=None,
    candidate_count: int = 0,
    include_departed: bool = False,
) -> UnitProgress:
    """
    Return the unit page: a row per worker (one page of the caller's filtered,
    ordered queryset) and the skills matrix of one training package. Rows are
    loaded for the shown workers only; `candidates` (every worker the filters
    match, on all pages; default: the shown ones; `candidate_count` of them)
    picks the matrix's default package. The query count does not depend on
    the number of workers.
    """
    on = on or timezone.localdate()
    workers = list(workers)
    # Only the shown workers' rows: a page of a 100,000-worker mine reads a page's worth.
    in_units = {"worker_id__in": [w.pk for w in workers]}

    held_rows = RankRecord.objects.filter(status=RankRecord.Status.AWARDED, **in_units).values_list(
        "worker_id", "trade_id", "rank__name", "rank__order"
    )
    best: dict[tuple[int, int], tuple[str, int]] = {}
    for worker_id, trade_id, rank_name, rank_order in held_rows:
        key = (worker_id, trade_id)
        if key not in best or rank_order > best[key][1]:
            best[key] = (rank_name, rank_order)

    trades_of: dict[int, list[HeldTrade]] = defaultdict(list)
    for worker_id, trade_id, trade_name, is_primary in (
        WorkerTrade.objects.filter(ended_on__isnull=True, **in_units)
        .order_by("-is_primary", "trade__code")
        .values_list("worker_id", "trade_id", "trade__name", "is_primary")
    ):
        rank_name, rank_order = best.get((worker_id, trade_id), (None, None))
        trades_of[worker_id].append(HeldTrade(trade_id, trade_name, is_primary, rank_name, rank_order))

    due_of: dict[int, list[CertificateDue]] = defaultdict(list)
    for certificate in Certificate.objects.filter(
        measures.due_q(on, 90), status=Certificate.Status.ACTIVE, **in_units
    ).select_related("special_operation"):
        due_of[certificate.worker_id].append(certificate_due(certificate, on))

    all_rules = compliance_rules()

    if explanations is None:
        explanations = workers_explanations(workers=workers, unit_ids=unit_ids, on=on)

    rows = []
    for worker in workers:
        trades = trades_of.get(worker.pk, [])
        rows.append(
            UnitRow(
                worker=worker,
                trades=trades,
                hours=worker.hours_this_year,
                hours_required=clearance_rules.annual_hours_required(
                    all_rules,
                    category=worker.category,
                    trade_id=next((t.trade_id for t in trades if t.is_primary), None),
                    on=on,
                ),
                certificates_due=sorted(
                    due_of.get(worker.pk, []), key=lambda d: d.due_days if d.due_days is not None else 10**6
                ),
                explanation=_headline_explanation(explanations.get(worker.pk, []), trades),
            )
        )

    matrix = skills_matrix_get(
        unit_ids=unit_ids,
        workers=workers,
        trades_of=trades_of,
        package_id=package_id,
        candidates=candidates,
        candidate_count=candidate_count,
        on=on,
        include_departed=include_departed,
    )
    return UnitProgress(unit=unit, on=on, rows=rows, matrix=matrix, worker_count=len(workers))


def _headline_explanation(explanations, trades: list[HeldTrade]):
    """Pick the explanation to show in a one-line row: the primary trade's, else the closest to the next rank."""
    with_steps = [e for e in explanations if e.next_step is not None]
    if not with_steps:
        return explanations[0] if explanations else None
    primary = next((t.trade_id for t in trades if t.is_primary), None)
    for e in with_steps:
        if e.trade_id == primary:
            return e
    return max(with_steps, key=lambda e: e.next_step.progress)


# From this many candidate workers, the matrix's package list and default package are kept in the cache for
# an hour: both read every worker trade of the units (100,000 at the top of a large mine), the page only its own.
MATRIX_CACHE_FROM_WORKERS = 2000
MATRIX_CACHE_SECONDS = 3600


def _cached_when(large: bool, parts: tuple, compute):
    """Return compute(), kept in the cache under `parts` for MATRIX_CACHE_SECONDS when `large`."""
    if not large:
        return compute()
    key = "kuangjiang:unit-matrix:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, MATRIX_CACHE_SECONDS)
    return found


def skills_matrix_get(
    *,
    unit_ids,
    workers,
    trades_of,
    package_id=None,
    candidates=None,
    candidate_count: int = 0,
    on: dt.date | None = None,
    include_departed: bool = False,
) -> SkillsMatrix:
    """
    Return workers × the courses and exams of one package, each cell done / in progress / missing / failed,
    or every cell held when the worker already holds the package's rank or a higher one in its trade.
    Workers who have left are not listed (counted in departed_hidden) unless `include_departed`.
    The packages offered are those of the trades held anywhere in the units; the default is the one most
    of `candidates` (every worker the filters match; default: `workers`) are working towards. With
    `candidate_count` at or above MATRIX_CACHE_FROM_WORKERS both come from the cache when they can.
    """
    large = candidates is not None and candidate_count >= MATRIX_CACHE_FROM_WORKERS
    on = on or timezone.localdate()
    unit_list = sorted(unit_ids)

    def offered():
        held_trade_ids = WorkerTrade.objects.filter(ended_on__isnull=True, worker__unit_id__in=unit_list).values(
            "trade_id"
        )
        return list(
            TrainingPackage.objects.filter(trade_id__in=held_trade_ids)
            .select_related("trade", "rank")
            .order_by("trade__code", "rank__order")
        )

    packages = _cached_when(large, ("packages", unit_list, on), offered)
    package = next((p for p in packages if p.pk == package_id), None)
    if package is None:
        if candidates is None:
            held = [(t.trade_id, t.rank_order) for w in workers for t in trades_of.get(w.pk, [])]
            package = _default_package(packages, Counter(held))
        else:
            counts = _cached_when(large, ("held", str(candidates.query), on), lambda: _held_rank_counts(candidates))
            package = _default_package(packages, counts)
    if package is None:
        return SkillsMatrix(package=None, packages=packages, columns=[], rows=[])

    lines = list(package.lines.select_related("course").order_by("sort_order", "course__code"))
    columns = [
        MatrixColumn(
            key=f"course:{line.course_id}",
            label=line.course.title,
            kind="course",
            theory_hours=line.theory_hours,
            practical_hours=line.practical_hours,
            mandatory=line.mandatory,
        )
        for line in lines
    ]
    columns += [
        MatrixColumn(key="exam:theory", label=_("Theory exam"), kind="exam"),
        MatrixColumn(key="exam:practical", label=_("Practical exam"), kind="exam"),
    ]
    course_ids = [line.course_id for line in lines]
    in_units = {"worker_id__in": [w.pk for w in workers]}

    attended: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for worker_id, course_id, theory, practical in (
        Attendance.objects.filter(training_class__course_id__in=course_ids, **in_units)
        .values("worker_id", "training_class__course_id")
        .annotate(theory=Sum("theory_hours"), practical=Sum("practical_hours"))
        .values_list("worker_id", "training_class__course_id", "theory", "practical")
    ):
        attended[(worker_id, course_id)] = (theory or ZERO, practical or ZERO)

    # Attempts per (worker, column): did any pass, was any made.
    passed: set[tuple[int, str]] = set()
    tried: set[tuple[int, str]] = set()
    for worker_id, course_id, kind, score, absent, pass_mark in AssessmentResult.objects.filter(
        Q(assessment__course_id__in=course_ids)
        | Q(assessment__trade_id=package.trade_id, assessment__rank_id=package.rank_id),
        **in_units,
    ).values_list("worker_id", "assessment__course_id", "assessment__kind", "score", "absent", "assessment__pass_mark"):
        key = (worker_id, f"course:{course_id}" if course_id in course_ids else f"exam:{kind}")
        tried.add(key)
        if not absent and score is not None and score >= pass_mark:
            passed.add(key)

    trade_holders = {
        worker_id for worker_id, trades in trades_of.items() if any(t.trade_id == package.trade_id for t in trades)
    }
    # An awarded rank at or above the target in the package's trade (trades_of carries the highest one held).
    holders_of_rank = {
        worker_id
        for worker_id, trades in trades_of.items()
        if any(t.trade_id == package.trade_id and (t.rank_order or -1) >= package.rank.order for t in trades)
    }
    rows = []
    departed_hidden = 0
    for worker in workers:
        if worker.pk not in trade_holders:
            continue
        if worker.status == Worker.Status.LEFT and not include_departed:
            departed_hidden += 1
            continue
        if worker.pk in holders_of_rank:
            rows.append((worker, [MatrixCell("held") for _column in columns]))
            continue
        cells = []
        for column in columns:
            key = (worker.pk, column.key)
            if column.kind == "exam":
                state = "done" if key in passed else "failed" if key in tried else "missing"
                cells.append(MatrixCell(state))
                continue
            course_id = int(column.key.split(":")[1])
            theory, practical = attended.get((worker.pk, course_id), (ZERO, ZERO))
            hours_done = theory >= column.theory_hours and practical >= column.practical_hours
            if key in tried and key not in passed:
                state = "failed"
            elif hours_done and (theory + practical) > 0 or (hours_done and column.required_hours == 0):
                state = "done"
            elif theory + practical > 0:
                state = "in_progress"
            else:
                state = "missing"
            cells.append(MatrixCell(state, f"{number(theory + practical)}/{number(column.required_hours)}"))
        rows.append((worker, cells))
    return SkillsMatrix(package=package, packages=packages, columns=columns, rows=rows, departed_hidden=departed_hidden)


def _held_rank_counts(workers) -> Counter:
    """Count these workers' current trades by (trade id, order of the highest rank held in it), in SQL: one query."""
    top_rank = (
        RankRecord.objects.filter(
            worker_id=OuterRef("worker_id"), trade_id=OuterRef("trade_id"), status=RankRecord.Status.AWARDED
        )
        .order_by("-rank__order")
        .values("rank__order")[:1]
    )
    rows = (
        WorkerTrade.objects.filter(ended_on__isnull=True, worker__in=workers.values("pk"))
        .annotate(top=Subquery(top_rank))
        .order_by()
        .values("trade_id", "top")
        .annotate(n=Count("pk"))
        .values_list("trade_id", "top", "n")
    )
    return Counter({(trade_id, top): n for trade_id, top, n in rows})


def _default_package(packages, held: Counter):
    """
    Pick the package most workers are working towards: the rank above the one
    they hold (by (trade, rank order) counts).
    """
    by_trade: dict[int, list[TrainingPackage]] = defaultdict(list)
    for p in packages:
        by_trade[p.trade_id].append(p)
    votes: Counter = Counter()
    for (trade_id, rank_order), n in held.items():
        target = next((p for p in by_trade.get(trade_id, []) if p.rank.order > (rank_order or -1)), None)
        if target is not None:
            votes[target.pk] += n
    if not votes:
        return packages[0] if packages else None
    # Ties go to the package listed first, so every page of the unit shows the same matrix.
    winner = max(packages, key=lambda p: votes.get(p.pk, 0))
    return winner
