"""
Reads for appraisal sittings (考核批次): the rule set whose pass marks a sitting
takes, the workers each roster adder offers (a unit, a class's attendance, the
workers ready for the rank), and the roster as the results sheet prints it.
Each loads in a fixed number of queries, whatever the size of the roster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from certifications.models import AssessmentResult, RankRecord, RuleSet, Sitting, SittingCandidate
from certifications.ranks import rules
from certifications.ranks.inputs import rollup_inputs_load
from training.access import unit_subtree_ids
from training.models import Attendance, TrainingClass, Unit, Worker, WorkerTrade

# The requirements a sitting itself answers: what a candidate who is "ready" lacks, and nothing else.
EXAM_KINDS = frozenset({rules.Kind.THEORY, rules.Kind.PRACTICAL, rules.Kind.COMPOSITE})


def sitting_day(sitting: Sitting) -> dt.date:
    """Return the day a sitting is judged on: its last exam day, or today for a sitting without dates yet."""
    return sitting.exam_date or timezone.localdate()


def sitting_rule_set(sitting: Sitting) -> RuleSet | None:
    """Return the rule set in force on the sitting's day for its trade × rank (None for other sittings)."""
    if not (sitting.trade_id and sitting.rank_id):
        return None
    # The same choice as rules.rule_set_in_force: the latest effective date on or before the day, then the latest id.
    return (
        RuleSet.objects.filter(
            package__trade_id=sitting.trade_id,
            package__rank_id=sitting.rank_id,
            effective_from__lte=sitting_day(sitting),
        )
        .order_by("-effective_from", "-id")
        .first()
    )


def _active(workers: QuerySet[Worker]) -> QuerySet[Worker]:
    return workers.filter(deleted_at__isnull=True).exclude(status=Worker.Status.LEFT)


def _off_roster(sitting: Sitting, worker_ids: Iterable[int]) -> list[int]:
    on_roster = set(SittingCandidate.objects.filter(sitting=sitting).values_list("worker_id", flat=True))
    return sorted(set(worker_ids) - on_roster)


def unit_candidate_ids(*, sitting: Sitting, unit: Unit) -> list[int]:
    """
    Return the active workers of a unit and the units below it who are not on the
    roster yet; for a trade × rank sitting only those who hold the trade.
    """
    workers = _active(Worker.objects.filter(unit_id__in=unit_subtree_ids(unit)))
    if sitting.trade_id:
        workers = workers.filter(worker_trades__trade_id=sitting.trade_id)
    return _off_roster(sitting, workers.values_list("id", flat=True))


def class_candidate_ids(*, sitting: Sitting, training_class: TrainingClass) -> list[int]:
    """Return the active workers who attended a class and are not on the roster yet."""
    attended = Attendance.objects.filter(training_class=training_class).values_list("worker_id", flat=True)
    return _off_roster(sitting, _active(Worker.objects.filter(id__in=attended)).values_list("id", flat=True))


def exam_is_what_is_missing(step: rules.RankStep) -> bool:
    """Return True when every requirement of the step but the exams is met, and an exam is not."""
    exams = [r for r in step.requirements if r.kind in EXAM_KINDS]
    others = [r for r in step.requirements if r.kind not in EXAM_KINDS]
    return (
        bool(exams)
        and all(r.status == rules.Status.MET for r in others)
        and any(r.status != rules.Status.MET for r in exams)
    )


def ready_candidate_ids(*, sitting: Sitting) -> list[int]:
    """
    Return the active workers of the sitting's trade, not on the roster yet, for
    whom the roll-up says the exam is what is missing for the sitting's rank on
    its day (rules.evaluate, as the worker page explains it). Empty for a sitting
    that is not for a trade × rank.
    """
    if not (sitting.trade_id and sitting.rank_id):
        return []
    day = sitting_day(sitting)
    holders = WorkerTrade.objects.filter(trade_id=sitting.trade_id).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=day)
    )
    worker_ids = _off_roster(
        sitting, _active(Worker.objects.filter(id__in=holders.values("worker_id"))).values_list("id", flat=True)
    )
    if not worker_ids:
        return []
    ready = []
    for (worker_id, trade_id), inputs in rollup_inputs_load(worker_ids=worker_ids, on=day).items():
        if trade_id != sitting.trade_id:
            continue
        explanation = rules.evaluate(inputs, day, detailed=False, through_rank=sitting.rank_id)
        step = next((s for s in explanation.steps if s.rank_id == sitting.rank_id), None)
        if step is not None and exam_is_what_is_missing(step):
            ready.append(worker_id)
    return sorted(ready)


def workers_listed(worker_ids: Iterable[int]) -> list[Worker]:
    """Return the workers with their units, ordered as a roster is: by unit, then employee number."""
    return list(
        Worker.objects.filter(id__in=list(worker_ids))
        .select_related("unit")
        .order_by("unit__sort_order", "unit__code", "employee_no")
    )


# --- the roster as the results sheet prints it --------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    """One candidate as the results sheet prints them, with what is already recorded."""

    employee_no: str
    name: str
    unit: str
    trade: str
    rank: str
    theory: object  # a Decimal, "absent" or None
    practical: object
    resit: bool


ABSENT = "absent"


def roster_lines(*, sitting: Sitting, unit_ids: set[int] | None = None) -> list[RosterLine]:
    """
    Return the roster (of the given units only, when given) with each candidate's
    trade and rank, the latest score already recorded at the sitting's theory and
    practical assessments, and whether this sitting is a re-sit for them.
    Five queries, whatever the size of the roster.
    """
    candidates = SittingCandidate.objects.filter(sitting=sitting).select_related("worker__unit")
    if unit_ids is not None:
        candidates = candidates.filter(worker__unit_id__in=unit_ids)
    candidates = list(candidates.order_by("worker__unit__sort_order", "worker__unit__code", "worker__employee_no"))
    worker_ids = [c.worker_id for c in candidates]

    recorded: dict[tuple[int, int], object] = {}
    assessment_ids = [pk for pk in (sitting.theory_id, sitting.practical_id) if pk]
    if assessment_ids and worker_ids:
        for assessment_id, worker_id, score, absent in (
            AssessmentResult.objects.filter(assessment_id__in=assessment_ids, worker_id__in=worker_ids)
            .order_by("attempt")
            .values_list("assessment_id", "worker_id", "score", "absent")
        ):
            recorded[(assessment_id, worker_id)] = ABSENT if absent else score

    # A re-sit: the candidate already sat an exam of the same subject before this sitting's first day.
    subject = _subject_q(sitting, prefix="assessment__")
    first_day = min(d for d in (sitting.theory_on, sitting.practical_on) if d is not None) if sitting.dated else None
    resits: set[int] = set()
    if worker_ids and first_day is not None and subject is not None:
        resits = set(
            AssessmentResult.objects.filter(subject, worker_id__in=worker_ids, assessment__held_on__lt=first_day)
            .exclude(assessment_id__in=assessment_ids)
            .values_list("worker_id", flat=True)
            .distinct()
        )

    trades: dict[int, tuple[int, str]] = {}
    held: dict[tuple[int, int], tuple[int, str]] = {}
    if not sitting.trade_id and worker_ids:
        # Not a trade appraisal: print each candidate's primary trade and the rank they hold in it.
        for worker_id, trade_id, trade_name in WorkerTrade.objects.filter(
            worker_id__in=worker_ids, is_primary=True
        ).values_list("worker_id", "trade_id", "trade__name"):
            trades[worker_id] = (trade_id, trade_name)
        for worker_id, trade_id, order, rank_name in RankRecord.objects.filter(
            worker_id__in=worker_ids, status=RankRecord.Status.AWARDED
        ).values_list("worker_id", "trade_id", "rank__order", "rank__name"):
            if (worker_id, trade_id) not in held or held[(worker_id, trade_id)][0] < order:
                held[(worker_id, trade_id)] = (order, rank_name)

    lines = []
    for candidate in candidates:
        worker = candidate.worker
        if sitting.trade_id:
            trade, rank = sitting.trade.name, sitting.rank.name if sitting.rank_id else ""
        else:
            trade_id, trade = trades.get(worker.pk, (None, ""))
            rank = held.get((worker.pk, trade_id), (0, ""))[1]
        lines.append(
            RosterLine(
                employee_no=worker.employee_no,
                name=worker.name,
                unit=worker.unit.name,
                trade=trade,
                rank=rank,
                theory=recorded.get((sitting.theory_id, worker.pk)),
                practical=recorded.get((sitting.practical_id, worker.pk)),
                resit=worker.pk in resits,
            )
        )
    return lines


def _subject_q(sitting: Sitting, *, prefix: str = "") -> Q | None:
    if sitting.trade_id and sitting.rank_id:
        return Q(**{f"{prefix}trade_id": sitting.trade_id, f"{prefix}rank_id": sitting.rank_id})
    if sitting.special_operation_id:
        return Q(**{f"{prefix}special_operation_id": sitting.special_operation_id})
    if sitting.course_id:
        return Q(**{f"{prefix}course_id": sitting.course_id})
    return None


def unit_sittings(*, unit_ids: set[int], limit: int = 10) -> list[Sitting]:
    """Return the latest sittings with a candidate in these units (the unit page's links), one query."""
    return list(
        Sitting.objects.filter(candidates__worker__unit_id__in=unit_ids)
        .distinct()
        .order_by("-created_at", "-id")[:limit]
    )
