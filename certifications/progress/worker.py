"""
The worker page: one worker's trades and ranks, hours this year, scores,
certificates, honours and timeline, in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.clearance import rules as clearance_rules
from certifications.clearance.facts import compliance_rules
from certifications.models import AssessmentResult, Honour, Mentorship, RankRecord
from certifications.practical.selectors import worker_sheets_get
from certifications.progress.charts import ScorePoint, percent_of, score_chart
from certifications.progress.common import (
    ZERO,
    CertificateDue,
    certificate_due,
    percent,
    step_percent,
)
from certifications.ranks import rules
from certifications.ranks.inputs import worker_explanations_get
from certifications.ranks.wording import number
from certifications.simulators.selectors import SimulatorSession, worker_simulator_evidence
from certifications.spreadsheets.ledger import mine_name
from training.models import Attendance, Worker, WorkerTrade


def worker_explanations(*, worker, on: dt.date) -> list[rules.Explanation]:
    """Return the roll-up explanations of one worker."""
    return list(worker_explanations_get(worker=worker, on=on))


# ---------------------------------------------------------------------------
# The worker page


@dataclass
class TradeProgress:
    """One trade a worker holds: the rank held, any award awaiting HR, and what the next rank needs."""

    worker_trade: WorkerTrade
    held: RankRecord | None = None
    pending: RankRecord | None = None
    explanation: rules.Explanation | None = None

    @property
    def next_step(self) -> rules.RankStep | None:
        return self.explanation.next_step if self.explanation else None

    @property
    def percent(self) -> int:
        return step_percent(self.next_step)

    @property
    def held_rank_name(self) -> str | None:
        if self.held is not None:
            return self.held.rank.name
        return self.explanation.held_rank_name if self.explanation else None


@dataclass(frozen=True)
class TimelineEntry:
    on: dt.date
    kind: str  # class, exam, rank, honour, certificate, review
    kind_label: str
    title: str
    detail: str = ""


@dataclass
class WorkerProgress:
    worker: Worker
    on: dt.date
    trades: list[TradeProgress]
    hours_theory: Decimal
    hours_practical: Decimal
    hours_required: Decimal
    results: list[AssessmentResult]
    chart: str
    certificates: list[CertificateDue]
    honours: list[Honour]
    timeline: list[TimelineEntry]
    # The worker file (一人一档) lists these in full: every class with its hours, and mentorships either way.
    attendances: list[Attendance] = field(default_factory=list)
    mentorships: list[Mentorship] = field(default_factory=list)
    mine_name: str = ""
    # Evidence from VR/AR simulators (xAPI): their practical hours, and each run in words.
    simulator_hours: Decimal = ZERO
    simulator_sessions: list[SimulatorSession] = field(default_factory=list)
    # Practical scoring sheets (实操评分表) from the assessors' tablets: evidence behind the practical results.
    scoring_sheets: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # room for other pages' additions (e.g. clearance)

    @property
    def hours_this_year(self) -> Decimal:
        return self.hours_theory + self.hours_practical

    @property
    def hours_percent(self) -> int:
        return min(100, percent(self.hours_this_year, self.hours_required) or 0) if self.hours_required else 100

    @property
    def hours_met(self) -> bool:
        return self.hours_this_year >= self.hours_required


def worker_progress_get(*, worker: Worker, on: dt.date | None = None, explanations=None) -> WorkerProgress:
    """Return everything the worker page shows, in a fixed number of queries."""
    on = on or timezone.localdate()
    if explanations is None:
        explanations = worker_explanations(worker=worker, on=on)
    by_trade = {e.trade_id: e for e in explanations}

    worker_trades = list(worker.worker_trades.select_related("trade").order_by("-is_primary", "trade__code"))
    records = list(
        worker.rank_records.filter(status__in=[RankRecord.Status.AWARDED, RankRecord.Status.PENDING])
        .select_related("rank", "trade")
        .order_by("trade_id", "-rank__order")
    )
    held, pending = {}, {}
    for record in records:
        target = held if record.status == RankRecord.Status.AWARDED else pending
        target.setdefault(record.trade_id, record)
    trades = [
        TradeProgress(
            worker_trade=wt,
            held=held.get(wt.trade_id),
            pending=pending.get(wt.trade_id),
            explanation=by_trade.get(wt.trade_id),
        )
        for wt in worker_trades
    ]

    attendances = list(worker.attendances.select_related("training_class__course").order_by("-training_class__start"))
    annual = [
        a
        for a in attendances
        if clearance_rules.counts_as_annual_retraining(a.training_class.kind, a.training_class.end, on.year)
    ]
    primary = next((wt.trade_id for wt in worker_trades if wt.is_primary and wt.ended_on is None), None)
    hours_required = clearance_rules.annual_hours_required(
        compliance_rules(), category=worker.category, trade_id=primary, on=on
    )

    results = list(worker.results.select_related("assessment").order_by("assessment__held_on", "attempt"))
    points = [
        ScorePoint(
            on=r.assessment.held_on,
            percent=percent_of(r.score, r.assessment.full_marks),
            kind=r.assessment.kind,
            label=r.assessment.name,
            passed=r.passed,
            pass_percent=percent_of(r.assessment.pass_mark, r.assessment.full_marks),
        )
        for r in results
        if not r.absent and r.score is not None
    ]
    chart = score_chart(
        points,
        title=_("Score history of %(name)s") % {"name": worker.name},
        description=_(
            "Scores as a percentage of full marks over time; theory as circles, practical as squares, "
            "hollow when failed. The table below lists the same scores."
        ),
    )

    certificates = [
        certificate_due(c, on)
        for c in worker.certificates.select_related("special_operation", "trade", "rank")
        .prefetch_related("reviews")
        .order_by("kind", "number")
    ]
    honours = list(worker.honours.order_by("-awarded_on"))
    mentorships = list(
        Mentorship.objects.filter(Q(apprentice=worker) | Q(mentor=worker))
        .select_related("apprentice", "mentor", "trade")
        .order_by("-start")
    )

    timeline = _timeline(attendances, results, records, honours, certificates)
    simulator_hours, simulator_sessions = worker_simulator_evidence(worker)
    return WorkerProgress(
        worker=worker,
        on=on,
        trades=trades,
        hours_theory=sum((a.theory_hours for a in annual), ZERO),
        hours_practical=sum((a.practical_hours for a in annual), ZERO),
        hours_required=hours_required,
        results=list(reversed(results)),
        chart=chart,
        certificates=certificates,
        honours=honours,
        timeline=timeline,
        attendances=attendances,
        mentorships=mentorships,
        mine_name=mine_name(),
        simulator_hours=simulator_hours,
        simulator_sessions=simulator_sessions,
        scoring_sheets=worker_sheets_get(worker=worker),
    )


def _timeline(attendances, results, records, honours, certificates) -> list[TimelineEntry]:
    entries = []
    for a in attendances:
        tc = a.training_class
        entries.append(
            TimelineEntry(
                tc.start,
                "class",
                _("Class"),
                tc.name,
                _("%(start)s – %(end)s, %(hours)s hours (theory %(theory)s, practical %(practical)s)")
                % {
                    "start": tc.start.isoformat(),
                    "end": tc.end.isoformat(),
                    "hours": number(a.total_hours),
                    "theory": number(a.theory_hours),
                    "practical": number(a.practical_hours),
                },
            )
        )
    for r in results:
        if r.absent:
            outcome = _("absent")
        else:
            outcome = _("%(score)s of %(full)s, %(verdict)s") % {
                "score": number(r.score),
                "full": number(r.assessment.full_marks),
                "verdict": _("passed") if r.passed else _("failed"),
            }
        if r.attempt > 1:
            outcome = _("%(outcome)s (re-sit %(n)s)") % {"outcome": outcome, "n": r.attempt - 1}
        entries.append(
            TimelineEntry(r.assessment.held_on, "exam", r.assessment.get_kind_display(), r.assessment.name, outcome)
        )
    for record in records:
        if record.status == RankRecord.Status.AWARDED and record.awarded_on:
            entries.append(
                TimelineEntry(
                    record.awarded_on,
                    "rank",
                    _("Rank"),
                    f"{record.trade.name} · {record.rank.name}",
                    record.certificate_no,
                )
            )
        elif record.status == RankRecord.Status.PENDING:
            entries.append(
                TimelineEntry(
                    timezone.localtime(record.created_at).date(),
                    "rank",
                    _("Rank"),
                    f"{record.trade.name} · {record.rank.name}",
                    _("awaiting HR approval"),
                )
            )
    for h in honours:
        entries.append(
            TimelineEntry(h.awarded_on, "honour", _("Honour"), h.title, f"{h.get_level_display()} · {h.awarding_body}")
        )
    for due in certificates:
        c = due.certificate
        entries.append(
            TimelineEntry(
                c.issued_on, "certificate", _("Certificate"), f"{c.get_kind_display()} {c.number}", c.issuing_body
            )
        )
        for review in c.reviews.all():
            entries.append(
                TimelineEntry(review.reviewed_on, "review", _("Review"), f"{c.number}", review.get_outcome_display())
            )
    entries.sort(key=lambda e: e.on, reverse=True)
    return entries
