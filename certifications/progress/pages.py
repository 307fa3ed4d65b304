"""
View-models for the progress pages: one worker's file, a unit's table and
skills matrix, and the HR dashboard. Each selector loads its page in a fixed
number of queries, however many workers, classes and results there are; the
arithmetic happens in Python over plain rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, DecimalField, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certifications.models import AssessmentResult, Certificate, ComplianceRule, Honour, RankRecord
from certifications.progress.charts import ScorePoint, percent_of, score_chart
from certifications.ranks import rules
from certifications.ranks.inputs import rollup_inputs_load, worker_explanations_get
from training.models import Attendance, Rank, TrainingPackage, Unit, Worker, WorkerTrade

ZERO = Decimal("0")
DEFAULT_ANNUAL_HOURS = Decimal("20")
DUE_WINDOWS = (30, 60, 90)
HOURS_FIELD = DecimalField(max_digits=9, decimal_places=1)

SYMBOLS = {rules.Status.MET: "✓", rules.Status.UNMET: "✗", rules.Status.PENDING: "◐"}


# ---------------------------------------------------------------------------
# Small pure helpers


def year_bounds(on: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the calendar year of `on`."""
    return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)


def annual_hours_required(compliance_rules, *, category: str, on: dt.date) -> Decimal:
    """
    Return the annual retraining hours in force on `on` for a personnel category.

    A rule narrowed to the category beats a rule for every category; among
    equals the latest effective date wins. Trade-specific rules are left to
    the clearance engine. 20 hours when no rule exists (DOMAIN.md §2).
    """
    best_key, best = None, None
    for rule in compliance_rules:
        if rule.effective_from > on or rule.trade_id is not None:
            continue
        if rule.category and rule.category != category:
            continue
        key = (bool(rule.category), rule.effective_from)
        if best_key is None or key > best_key:
            best_key, best = key, rule
    return best.annual_hours if best is not None else DEFAULT_ANNUAL_HOURS


def number(value) -> str:
    """Return a score or an hour count without a useless trailing '.0'."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def percent(part, whole) -> int | None:
    """Return part/whole as a whole percentage, or None when there is no whole."""
    if not whole:
        return None
    return round(float(part) / float(whole) * 100)


def _label(requirement: rules.Requirement) -> str:
    defaults = {
        rules.Kind.LADDER: _("Holds the rank below"),
        rules.Kind.COURSE: _("Course"),
        rules.Kind.ELECTIVES: _("Electives"),
        rules.Kind.THEORY: _("Theory exam"),
        rules.Kind.PRACTICAL: _("Practical exam"),
        rules.Kind.COMPOSITE: _("Composite score"),
        rules.Kind.TIME: _("Time at level"),
        rules.Kind.REVIEW: _("Comprehensive review"),
        rules.Kind.RULES: _("No rule set in force for this rank"),
    }
    # The engine gives English labels marked for translation (or a course title, which gettext leaves alone).
    return _(requirement.label) if requirement.label else defaults.get(requirement.kind, "")


def _resits(requirement: rules.Requirement) -> str:
    left = requirement.resits_left
    if left is None or requirement.status == rules.Status.MET:
        return ""
    if left <= 0:
        return _("no re-sits left — retrain first")
    return ngettext("one re-sit left", "%(count)d re-sits left", left) % {"count": left}


def requirement_text(requirement: rules.Requirement) -> str:
    """Say one requirement in plain words, e.g. "Theory 78 ≥ 60 ✓" or "实操 55 < 60 ✗ — one re-sit left"."""
    kind, status = requirement.kind, requirement.status
    label = _label(requirement)
    values = {"label": label, "actual": number(requirement.actual), "required": number(requirement.required)}
    if kind in (rules.Kind.THEORY, rules.Kind.PRACTICAL, rules.Kind.COMPOSITE):
        if requirement.actual in (None, ""):
            text = _("%(label)s not taken yet (pass mark %(required)s)") % values
        elif status == rules.Status.MET:
            text = _("%(label)s %(actual)s ≥ %(required)s") % values
        else:
            text = _("%(label)s %(actual)s < %(required)s") % values
    elif kind == rules.Kind.COURSE:
        text = _("%(label)s %(actual)s/%(required)s hours") % {**values, "actual": number(requirement.actual or ZERO)}
    elif kind == rules.Kind.ELECTIVES:
        text = _("%(label)s %(actual)s/%(required)s") % {**values, "actual": number(requirement.actual or 0)}
    elif kind == rules.Kind.TIME and requirement.met_on:
        values["date"] = requirement.met_on.isoformat()
        if status == rules.Status.MET:
            text = _("%(label)s met on %(date)s") % values
        else:
            text = _("%(label)s will be met on %(date)s") % values
    elif kind == rules.Kind.TIME and requirement.required not in (None, ""):
        text = _("%(label)s: %(actual)s of %(required)s") % values
    else:
        text = label
    # The engine's detail already says how many re-sits are left; only say it ourselves when it is silent.
    extras = [requirement.detail] if requirement.detail else [part for part in (_resits(requirement),) if part]
    if extras:
        text = f"{text} — {'; '.join(extras)}"
    return f"{text} {SYMBOLS.get(status, '')}".strip()


def step_percent(step: rules.RankStep | None) -> int:
    return round(step.progress * 100) if step is not None else 0


# ---------------------------------------------------------------------------
# Explanations from the roll-up engine


def worker_explanations(*, worker, on: dt.date) -> list[rules.Explanation]:
    """Return the roll-up explanations of one worker."""
    return list(worker_explanations_get(worker=worker, on=on))


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
# Certificates


@dataclass(frozen=True)
class CertificateDue:
    """A certificate with the next date something must happen to it (review or expiry)."""

    certificate: Certificate
    review_days: int | None
    expiry_days: int | None

    @property
    def due_days(self) -> int | None:
        days = [d for d in (self.review_days, self.expiry_days) if d is not None]
        return min(days) if days else None

    @property
    def due_date(self) -> dt.date | None:
        dates = [d for d in (self.certificate.next_review_due, self.certificate.valid_until) if d is not None]
        return min(dates) if dates else None

    @property
    def due_is_review(self) -> bool:
        cert = self.certificate
        return cert.next_review_due is not None and (
            cert.valid_until is None or cert.next_review_due <= cert.valid_until
        )

    @property
    def state(self) -> str:
        days = self.due_days
        if days is None:
            return "none"
        if days < 0:
            return "overdue"
        if days <= 90:
            return "soon"
        return "done"


def certificate_due(certificate: Certificate, on: dt.date) -> CertificateDue:
    review = certificate.next_review_due
    expiry = certificate.valid_until
    return CertificateDue(
        certificate=certificate,
        review_days=(review - on).days if review else None,
        expiry_days=(expiry - on).days if expiry else None,
    )


def _due_q(on: dt.date, days: int, prefix: str = "") -> Q:
    limit = on + dt.timedelta(days=days)
    return Q(**{f"{prefix}next_review_due__lte": limit}) | Q(**{f"{prefix}valid_until__lte": limit})


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
    first, last = year_bounds(on)
    this_year = [a for a in attendances if first <= a.training_class.start <= last]
    hours_theory = sum((a.theory_hours for a in this_year), ZERO)
    hours_practical = sum((a.practical_hours for a in this_year), ZERO)
    hours_required = annual_hours_required(
        ComplianceRule.objects.filter(effective_from__lte=on), category=worker.category, on=on
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

    timeline = _timeline(attendances, results, records, honours, certificates)
    return WorkerProgress(
        worker=worker,
        on=on,
        trades=trades,
        hours_theory=hours_theory,
        hours_practical=hours_practical,
        hours_required=hours_required,
        results=list(reversed(results)),
        chart=chart,
        certificates=certificates,
        honours=honours,
        timeline=timeline,
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


# ---------------------------------------------------------------------------
# The unit page


def unit_workers_queryset(*, unit_ids, on: dt.date):
    """Return the workers of these units, annotated with what the unit table sorts on."""
    first, last = year_bounds(on)
    hours = (
        Attendance.objects.filter(worker=OuterRef("pk"), training_class__start__range=(first, last))
        .values("worker")
        .annotate(total=Sum(F("theory_hours") + F("practical_hours"), output_field=HOURS_FIELD))
        .values("total")
    )
    top_rank = (
        RankRecord.objects.filter(worker=OuterRef("pk"), status=RankRecord.Status.AWARDED)
        .order_by("-rank__order")
        .values("rank__order")[:1]
    )
    due = (
        Certificate.objects.filter(_due_q(on, 90), worker=OuterRef("pk"), status=Certificate.Status.ACTIVE)
        .values("worker")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Worker.objects.filter(unit_id__in=unit_ids)
        .select_related("unit")
        .annotate(
            hours_this_year=Coalesce(Subquery(hours, output_field=HOURS_FIELD), Value(ZERO), output_field=HOURS_FIELD),
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
    state: str  # done, in_progress, missing, failed
    text: str = ""

    @property
    def symbol(self) -> str:
        return MATRIX_SYMBOLS[self.state]

    @property
    def state_label(self) -> str:
        return matrix_state_labels()[self.state]


MATRIX_SYMBOLS = {"done": "✓", "in_progress": "◐", "missing": "○", "failed": "✗"}


def matrix_state_labels() -> dict[str, str]:
    return {"done": _("done"), "in_progress": _("in progress"), "missing": _("missing"), "failed": _("failed")}


@dataclass
class SkillsMatrix:
    package: TrainingPackage | None
    packages: list[TrainingPackage]
    columns: list[MatrixColumn]
    rows: list[tuple[Worker, list[MatrixCell]]]


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
        _due_q(on, 90), status=Certificate.Status.ACTIVE, **in_units
    ).select_related("special_operation"):
        due_of[certificate.worker_id].append(certificate_due(certificate, on))

    compliance_rules = list(ComplianceRule.objects.filter(effective_from__lte=on))
    required_for = {}

    if explanations is None:
        explanations = workers_explanations(workers=workers, unit_ids=unit_ids, on=on)

    rows = []
    for worker in workers:
        if worker.category not in required_for:
            required_for[worker.category] = annual_hours_required(compliance_rules, category=worker.category, on=on)
        trades = trades_of.get(worker.pk, [])
        rows.append(
            UnitRow(
                worker=worker,
                trades=trades,
                hours=worker.hours_this_year,
                hours_required=required_for[worker.category],
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
) -> SkillsMatrix:
    """
    Return workers × the courses and exams of one package, each cell done / in progress / missing / failed.
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
    rows = []
    for worker in workers:
        if worker.pk not in trade_holders:
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
    return SkillsMatrix(package=package, packages=packages, columns=columns, rows=rows)


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
    """Pick the package most workers are working towards: the rank above the one they hold (by (trade, rank order) counts)."""  # noqa: E501
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


# ---------------------------------------------------------------------------
# The HR dashboard


@dataclass
class UnitStats:
    unit: Unit
    depth: int
    workers: int = 0
    trained: int = 0  # workers with any training hours this year
    hours_met: int = 0  # workers at or above their annual requirement
    hours_total: Decimal = ZERO
    attempts: int = 0
    passes: int = 0
    ranked: int = 0
    high_skill: int = 0
    ranks: Counter = field(default_factory=Counter)  # (rank order, rank name) → workers whose highest rank it is
    due: dict = field(default_factory=lambda: dict.fromkeys(DUE_WINDOWS, 0))
    pending_awards: int = 0
    extra: dict = field(default_factory=dict)  # room for other pages' columns (e.g. 持证上岗率)

    @property
    def rank_counts(self) -> dict[str, int]:
        return {name: n for (_order, name), n in self.ranks.items()}

    @property
    def rank_distribution(self) -> list[tuple[str, int]]:
        return [(name, n) for (_order, name), n in sorted(self.ranks.items())]

    @property
    def coverage(self):
        return percent(self.trained, self.workers)

    @property
    def hours_met_percent(self):
        return percent(self.hours_met, self.workers)

    @property
    def average_hours(self) -> Decimal:
        return (self.hours_total / self.workers).quantize(Decimal("0.1")) if self.workers else ZERO

    @property
    def pass_rate(self):
        return percent(self.passes, self.attempts)

    @property
    def high_skill_percent(self):
        return percent(self.high_skill, self.workers)


@dataclass
class Dashboard:
    on: dt.date
    units: list[UnitStats]
    rank_names: list[str]
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> UnitStats | None:
        return self.units[0] if self.units else None


def dashboard_get(*, on: dt.date | None = None) -> Dashboard:
    """Return per-unit figures (each unit counts its whole subtree), in a fixed number of queries."""
    on = on or timezone.localdate()
    first, last = year_bounds(on)
    units = list(Unit.objects.order_by("sort_order", "code"))
    parent_of = {u.pk: u.parent_id for u in units}

    def chain(unit_id):
        seen = set()
        while unit_id is not None and unit_id not in seen:
            seen.add(unit_id)
            yield unit_id
            unit_id = parent_of.get(unit_id)

    stats = {u.pk: UnitStats(unit=u, depth=0) for u in units}
    for u in units:
        stats[u.pk].depth = sum(1 for _ in chain(u.parent_id))

    # Every figure is aggregated per unit (and category or rank) in SQL; Python rolls units up their chain,
    # so the work here grows with the number of units, not of workers.
    active = Worker.objects.exclude(status=Worker.Status.LEFT)
    compliance_rules = list(ComplianceRule.objects.filter(effective_from__lte=on))
    by_unit_category = list(
        active.order_by().values("unit_id", "category").annotate(n=Count("pk")).values_list("unit_id", "category", "n")
    )
    required = {c: annual_hours_required(compliance_rules, category=c, on=on) for _u, c, _n in by_unit_category}
    for unit_id, category, n in by_unit_category:  # noqa: B007
        for uid in chain(unit_id):
            stats[uid].workers += n

    # The database sums each worker's hours (one GROUP BY); Python only compares each sum with its requirement.
    attending: Counter = Counter()
    for unit_id, category, worker_hours in (
        Attendance.objects.filter(training_class__start__range=(first, last), worker__in=active)
        .order_by()
        .values("worker_id", "worker__unit_id", "worker__category")
        .annotate(total=Sum(F("theory_hours") + F("practical_hours"), output_field=HOURS_FIELD))
        .values_list("worker__unit_id", "worker__category", "total")
    ):
        worker_hours = worker_hours or ZERO
        attending[(unit_id, category)] += 1
        met = worker_hours >= required[category]
        for uid in chain(unit_id):
            s = stats[uid]
            s.hours_total += worker_hours
            s.trained += worker_hours > 0
            s.hours_met += met
    # Workers whose requirement is zero meet it without attending anything.
    for unit_id, category, n in by_unit_category:
        if required[category] <= 0:
            for uid in chain(unit_id):
                stats[uid].hours_met += n - attending[(unit_id, category)]

    for unit_id, attempts, passes in (
        AssessmentResult.objects.filter(assessment__held_on__range=(first, last), worker__in=active)
        .values("worker__unit_id")
        .annotate(
            attempts=Count("pk"),
            passes=Count("pk", filter=Q(absent=False, score__gte=F("assessment__pass_mark"))),
        )
        .values_list("worker__unit_id", "attempts", "passes")
    ):
        for uid in chain(unit_id):
            stats[uid].attempts += attempts
            stats[uid].passes += passes

    ranks = {order: (name, high) for order, name, high in Rank.objects.values_list("order", "name", "high_skill")}
    held_orders = set()
    by_unit_top: Counter = Counter()
    for unit_id, order in (
        RankRecord.objects.filter(status=RankRecord.Status.AWARDED, worker__in=active)
        .order_by()
        .values("worker_id", "worker__unit_id")
        .annotate(top=Max("rank__order"))
        .values_list("worker__unit_id", "top")
    ):
        by_unit_top[(unit_id, order)] += 1
    for (unit_id, order), n in by_unit_top.items():
        name, high = ranks[order]
        held_orders.add(order)
        for uid in chain(unit_id):
            stats[uid].ranked += n
            stats[uid].high_skill += n if high else 0
            stats[uid].ranks[(order, name)] += n
    rank_names = [ranks[order][0] for order in sorted(held_orders)]

    # A certificate counts in a window when its review or its expiry falls on or before the window's end.
    for unit_id, *due in (
        Certificate.objects.filter(_due_q(on, max(DUE_WINDOWS)), status=Certificate.Status.ACTIVE, worker__in=active)
        .values("worker__unit_id")
        .annotate(**{f"d{w}": Count("pk", filter=_due_q(on, w)) for w in DUE_WINDOWS})
        .values_list("worker__unit_id", *[f"d{w}" for w in DUE_WINDOWS])
    ):
        for window, n in zip(DUE_WINDOWS, due, strict=True):
            for uid in chain(unit_id):
                stats[uid].due[window] += n

    for unit_id, n in (
        RankRecord.objects.filter(status=RankRecord.Status.PENDING)
        .values("worker__unit_id")
        .annotate(n=Count("pk"))
        .values_list("worker__unit_id", "n")
    ):
        for uid in chain(unit_id):
            stats[uid].pending_awards += n

    ordered = _tree_order(units)
    return Dashboard(on=on, units=[stats[u.pk] for u in ordered], rank_names=rank_names)


# Rows in the dashboard's unit table: a mine of 2,500 crews lists its top levels, each unit's page the rest.
DASHBOARD_UNIT_ROWS = 300


def levels_that_fit(depths, limit: int) -> int | None:
    """
    Return the deepest level to list so that at most `limit` units are listed
    (never fewer than the top two levels), or None when every unit fits.
    """
    depths = list(depths)
    if len(depths) <= limit:
        return None
    per_depth = Counter(depths)
    deepest, rows = 0, 0
    for level in sorted(per_depth):
        if level > 1 and rows + per_depth[level] > limit:
            break
        deepest, rows = level, rows + per_depth[level]
    return None if deepest == max(per_depth) else deepest


def dashboard_rows(units: list[UnitStats], *, every: bool = False, limit: int | None = None):
    """Return (units to list, deepest level listed or None for all): the top levels that fit in `limit` rows."""
    deepest = (
        None if every else levels_that_fit((s.depth for s in units), DASHBOARD_UNIT_ROWS if limit is None else limit)
    )
    if deepest is None:
        return units, None
    return [s for s in units if s.depth <= deepest], deepest


def _tree_order(units: list[Unit]) -> list[Unit]:
    children: dict[int | None, list[Unit]] = defaultdict(list)
    ids = {u.pk for u in units}
    for u in units:
        children[u.parent_id if u.parent_id in ids else None].append(u)
    ordered, stack = [], list(reversed(children[None]))
    while stack:
        u = stack.pop()
        ordered.append(u)
        stack.extend(reversed(children.get(u.pk, [])))
    return ordered
