"""
One reader per figure (docs/architecture.md, "Figures"). Each figure the
pages, the ledger and the API show per unit is counted here, once, as a
GROUP BY on the worker's unit; the callers roll units up their own trees.

- head count: workers on the books who have not left (`active_workers`);
- certificates due and overdue: an active certificate of an active worker is
  due on the earlier of its next review and its expiry (`certificate_due_on`);
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

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Coalesce, Least

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
    """The day an active certificate is next due: the earlier of its review and its expiry (either may be empty)."""
    return Least(Coalesce("next_review_due", "valid_until"), Coalesce("valid_until", "next_review_due"))


@dataclass
class CertificatesDue:
    overdue: int = 0
    due: dict[int, int] = field(default_factory=lambda: dict.fromkeys(DUE_WINDOWS, 0))


def certificates_due_by_unit(
    *, workers: QuerySet, on: dt.date, windows: tuple[int, ...] = DUE_WINDOWS, kind: str | None = None
) -> dict[int, CertificatesDue]:
    """Return unit id → certificates overdue and due within each window, for active certificates of active workers."""
    certificates = Certificate.objects.filter(status=Certificate.Status.ACTIVE, worker__in=active_workers(workers))
    if kind is not None:
        certificates = certificates.filter(kind=kind)
    counts = {"overdue": Count("pk", filter=Q(due_on__lt=on))}
    for window in windows:
        counts[f"d{window}"] = Count("pk", filter=Q(due_on__gte=on, due_on__lte=on + dt.timedelta(days=window)))
    found: dict[int, CertificatesDue] = {}
    for row in (
        certificates.annotate(due_on=certificate_due_on())
        .filter(due_on__lte=on + dt.timedelta(days=max(windows, default=0)))
        .order_by()
        .values("worker__unit_id")
        .annotate(**counts)
    ):
        found[row["worker__unit_id"]] = CertificatesDue(
            overdue=row["overdue"], due={window: row[f"d{window}"] for window in windows}
        )
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
