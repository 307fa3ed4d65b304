"""
One reader per figure (docs/architecture.md, "Figures"). Each figure the
pages, the ledger and the API show per unit is counted here, once, as a
GROUP BY on the worker's unit; the callers roll units up their own trees.

- head count: workers on the books who have not left (`active_workers`);
- certificates due and overdue: an active certificate of an active worker is
  due on the earlier of its next review and its expiry — for special-operation
  certificates as the clearance engine replays them (`certificates_due_by_unit`);
  overdue when that day has passed, due within N days when it falls in the
  next N days (today included), never both;
- pass rate: results that passed (`passed_q`) over results sat or missed;
- rank distribution: each active worker once, at the highest rank awarded in
  any trade (`top_rank_by_unit`);
- pending awards: awards waiting for HR, per unit of their worker.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import Coalesce, Least

from certifications.clearance.facts import certificate_states
from certifications.models import AssessmentResult, Certificate, RankRecord, passed_q
from training.models import Worker

DUE_WINDOWS = (30, 60, 90)


def active_workers(workers: QuerySet | None = None) -> QuerySet:
    """Return the workers counted in figures: everyone on the books who has not left."""
    workers = Worker.objects.all() if workers is None else workers
    return workers.exclude(status=Worker.Status.LEFT)


def head_count_by_unit(workers: QuerySet) -> Counter:
    """Return unit id → active workers."""
    return Counter(
        dict(active_workers(workers).order_by().values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"))
    )


def certificate_due_on():
    """The day a certificate is next due as stored: the earlier of its review and its expiry (either may be empty)."""
    return Least(Coalesce("next_review_due", "valid_until"), Coalesce("valid_until", "next_review_due"))


@dataclass
class CertificatesDue:
    overdue: int = 0
    due: dict[int, int] = field(default_factory=lambda: dict.fromkeys(DUE_WINDOWS, 0))


def certificates_due_by_unit(
    *, workers: QuerySet, on: dt.date, windows: tuple[int, ...] = DUE_WINDOWS
) -> dict[int, CertificatesDue]:
    """
    Return unit id → active certificates of active workers that are overdue, and
    that are due within each window (overdue ones excluded). A special-operation
    certificate is judged by the clearance engine (its reviews replayed, missing
    dates from the statutory intervals: certifications/clearance/rules.py), the
    rule the forecast and clearance use; it is overdue when no longer valid. Any
    other certificate is due on its stored review or expiry, whichever is earlier.
    """
    states = certificate_states(on=on)
    found: dict[int, CertificatesDue] = {}
    rows = (
        Certificate.objects.filter(status=Certificate.Status.ACTIVE, worker__in=active_workers(workers))
        .annotate(due_on=certificate_due_on())
        .values_list("pk", "kind", "worker__unit_id", "due_on")
    )
    for pk, kind, unit_id, due_on in rows.iterator(chunk_size=5000):
        overdue = False
        if kind == Certificate.Kind.SPECIAL_OPERATION:
            state = states.get(pk)
            if state is None:
                continue  # issued after `on`: not in force yet
            overdue = not state.valid
            due_on = min(d for d in (state.review_due, state.valid_until) if d is not None)
        elif due_on is None:
            continue
        else:
            overdue = due_on < on
        counts = found.setdefault(unit_id, CertificatesDue(due=dict.fromkeys(windows, 0)))
        if overdue:
            counts.overdue += 1
            continue
        for window in windows:
            counts.due[window] += due_on <= on + dt.timedelta(days=window)
    return found


def pass_counts_by_unit(results: QuerySet) -> dict[tuple[int, str], tuple[int, int]]:
    """Return (unit id, assessment kind) → (results, passes) among `results` of active workers."""
    return {
        (unit_id, kind): (total, passes)
        for unit_id, kind, total, passes in results.filter(worker__in=active_workers())
        .order_by()
        .values("worker__unit_id", "assessment__kind")
        .annotate(total=Count("pk"), passes=Count("pk", filter=passed_q()))
        .values_list("worker__unit_id", "assessment__kind", "total", "passes")
    }


def results_in_year(year: int | None) -> QuerySet:
    """The results of sittings held in `year` (every year when None)."""
    results = AssessmentResult.objects.all()
    return results.filter(assessment__held_on__year=year) if year else results


def top_rank_by_unit(workers: QuerySet) -> Counter:
    """Return (unit id, rank order) → active workers whose highest awarded rank in any trade it is."""
    found: Counter = Counter()
    for unit_id, order in (
        RankRecord.objects.filter(status=RankRecord.Status.AWARDED, worker__in=active_workers(workers))
        .order_by()
        .values("worker_id", "worker__unit_id")
        .annotate(top=Max("rank__order"))
        .values_list("worker__unit_id", "top")
    ):
        found[(unit_id, order)] += 1
    return found


def pending_awards_by_unit(workers: QuerySet) -> Counter:
    """Return unit id → awards waiting for HR's decision."""
    return Counter(
        dict(
            RankRecord.objects.filter(status=RankRecord.Status.PENDING, worker__in=workers)
            .order_by()
            .values("worker__unit_id")
            .annotate(n=Count("pk"))
            .values_list("worker__unit_id", "n")
        )
    )
