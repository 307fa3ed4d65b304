"""
The roll-up rules: which rank a worker holds in a trade, and exactly what is
missing for each higher rank. Pure functions over plain data — no queries —
so they can be tested with hypothesis and run for 100,000 workers.

INTERFACE CONTRACT (shared by the engine, the progress pages, exports):
`evaluate(inputs: WorkerTradeInputs, on: date) -> Explanation`.
The dataclasses below are the shape every consumer relies on; extend them with
new optional fields rather than changing existing ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from django.utils.translation import get_language, gettext

from core.dates import add_months, add_years, stored_date


class Status(StrEnum):
    MET = "met"
    UNMET = "unmet"
    PENDING = "pending"  # will be met by itself with time (time at level), or awaits an HR decision


class Kind(StrEnum):
    LADDER = "ladder"  # holds the rank below
    COURSE = "course"  # one mandatory course's hours
    ELECTIVES = "electives"  # at least N electives completed
    THEORY = "theory"  # theory exam
    PRACTICAL = "practical"  # practical exam
    COMPOSITE = "composite"  # weighted composite score
    TIME = "time"  # years at previous rank / in trade
    REVIEW = "review"  # comprehensive review (综合评审)
    RULES = "rules"  # no rule set in force for this rank


@dataclass(frozen=True)
class Requirement:
    """One requirement of one rank, with what was required and what the worker has."""

    kind: Kind
    status: Status
    label: str  # short English/translatable label, e.g. course title or "Theory exam"
    required: Decimal | str | None = None  # e.g. Decimal("60"), Decimal("40") hours, "2 years"
    actual: Decimal | str | None = None  # e.g. Decimal("78"), Decimal("24") hours
    detail: str = ""  # extra words, e.g. "one re-sit left", "retrain before the next attempt"
    evidence: tuple[str, ...] = ()  # e.g. ("result:12", "attendance:40")
    met_on: dt.date | None = None  # the date it was met (time-based: also the date it will be met)
    course_code: str | None = None  # for COURSE requirements
    resits_left: int | None = None  # for exam requirements


@dataclass(frozen=True)
class RankStep:
    """A rank above the one held, and every requirement for it."""

    rank_id: int
    rank_code: str
    rank_name: str
    rule_set_id: int | None
    rule_set_name: str | None
    requirements: tuple[Requirement, ...]

    @property
    def met(self) -> bool:
        return bool(self.requirements) and all(r.status == Status.MET for r in self.requirements)

    @property
    def progress(self) -> float:
        """Share of requirements met, 0.0–1.0."""
        if not self.requirements:
            return 0.0
        return sum(r.status == Status.MET for r in self.requirements) / len(self.requirements)


@dataclass(frozen=True)
class Explanation:
    """Where a worker stands in one trade on one date."""

    worker_id: int
    trade_id: int
    on: dt.date
    held_rank_id: int | None  # the highest rank awarded (record status awarded)
    held_rank_name: str | None
    steps: tuple[RankStep, ...] = field(default_factory=tuple)  # higher ranks, lowest first

    @property
    def next_step(self) -> RankStep | None:
        return self.steps[0] if self.steps else None


# ---------------------------------------------------------------------------
# Inputs: plain data the selectors load in a fixed number of queries.
# Rows shared by many workers (ladder, rule sets, package lines) are shared
# objects, so 100,000 workers do not copy them.
# ---------------------------------------------------------------------------


class RankInfo(NamedTuple):
    id: int
    code: str
    name: str
    order: int


@dataclass(frozen=True, slots=True)
class RuleSetInfo:
    """One version of the rules for one trade × rank (mirrors certifications.models.RuleSet)."""

    id: int
    name: str
    rank_id: int
    effective_from: dt.date
    require_package: bool = True
    min_electives: int = 0
    require_theory: bool = True
    theory_pass_mark: Decimal = Decimal("60")
    require_practical: bool = True
    practical_pass_mark: Decimal = Decimal("60")
    resit_limit: int = 1
    exam_valid_months: int | None = None
    theory_weight: Decimal | None = None
    practical_weight: Decimal | None = None
    composite_pass_mark: Decimal | None = None
    years_at_previous_rank: Decimal | None = None
    years_in_trade: Decimal | None = None
    require_review: bool = False
    allow_direct_entry: bool = False


RULE_SET_FIELDS = tuple(name for name in RuleSetInfo.__dataclass_fields__ if name not in {"id", "name", "rank_id"})


class PackageLine(NamedTuple):
    """One course of the package for a rank, with the hours it requires."""

    course_id: int
    course_code: str
    course_title: str
    theory_hours: Decimal
    practical_hours: Decimal
    mandatory: bool = True


class AttendanceRow(NamedTuple):
    id: int
    course_id: int
    start: dt.date
    theory_hours: Decimal
    practical_hours: Decimal


class AttendedCourse(NamedTuple):
    """
    A worker's attendance of one course, summed over its classes: what the
    loader builds (in SQL) for one evaluation date, instead of one
    AttendanceRow per class. It answers for any date on or after its latest
    class start; the rules treat it like the AttendanceRows it sums.
    """

    course_id: int
    theory_hours: Decimal
    practical_hours: Decimal
    last_start: dt.date
    id_list: str  # the attendance ids, comma-separated: parsed only for an award's evidence
    start_list: str  # the classes' start dates (ISO), comma-separated: parsed only for the re-sit retraining check

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(int(i) for i in self.id_list.split(","))

    @property
    def starts(self) -> tuple[dt.date, ...]:
        return _iso_dates(self.start_list)


@lru_cache(maxsize=65536)
def _iso_dates(text: str) -> tuple[dt.date, ...]:
    # A mine's classes start on a few hundred dates: most workers' lists repeat.
    return tuple(stored_date(d) for d in text.split(","))


class ResultRow(NamedTuple):
    """One attempt at a trade × rank assessment; score is None when absent (缺考)."""

    id: int
    rank_id: int
    kind: str  # "theory" or "practical"
    held_on: dt.date
    attempt: int
    score: Decimal | None
    full_marks: Decimal = Decimal("100")

    @property
    def percent(self) -> Decimal | None:
        if self.score is None:
            return None
        if self.full_marks == 100:
            return self.score
        return self.score * 100 / self.full_marks


class ReviewRow(NamedTuple):
    id: int
    rank_id: int
    held_on: dt.date
    passed: bool


class AwardRow(NamedTuple):
    """A rank record with status awarded: the worker holds this rank from awarded_on."""

    rank_id: int
    awarded_on: dt.date
    record_id: int | None = None


@dataclass(frozen=True)
class WorkerTradeInputs:
    """Everything the rules need about one worker in one trade."""

    worker_id: int
    trade_id: int
    started_on: dt.date
    ladder: tuple[RankInfo, ...]  # the trade's ranks (those with a package), lowest first
    rule_sets: dict[int, tuple[RuleSetInfo, ...]]  # rank id → every version
    package_lines: dict[int, tuple[PackageLine, ...]]  # rank id → lines
    awarded: tuple[AwardRow, ...] = ()
    attendance: tuple[AttendanceRow | AttendedCourse, ...] = ()  # the worker's attendance, any course
    results: tuple[ResultRow, ...] = ()  # results of this trade's rank assessments
    reviews: tuple[ReviewRow, ...] = ()  # comprehensive reviews in this trade

    def with_award(self, rank_id: int, on: dt.date) -> WorkerTradeInputs:
        """Return these inputs with one more awarded rank (used to climb several ranks in one pass)."""
        return replace(self, awarded=self.awarded + (AwardRow(rank_id, on),))


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def years_between(start: dt.date, end: dt.date) -> Decimal:
    """Return the whole months from start to end, in years to one decimal (never negative)."""
    if end <= start:
        return Decimal("0.0")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) > end:
        months -= 1
    return (Decimal(months) / 12).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    value = value.quantize(Decimal("0.1"), rounding=ROUND_DOWN) if value != value.to_integral_value() else value
    return f"{value.normalize():f}"


# Translations are looked up once per language and message: evaluate() runs for
# every worker of a mine, and gettext's per-call cost would dominate it.
_TEXTS: dict[tuple[str | None, str], str] = {}
_LANGUAGE = threading.local()


def _(message: str) -> str:
    key = (getattr(_LANGUAGE, "code", None), message)
    text = _TEXTS.get(key)
    if text is None:
        text = _TEXTS[key] = gettext(message)
    return text


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------


def rule_set_in_force(versions: tuple[RuleSetInfo, ...], on: dt.date) -> RuleSetInfo | None:
    """Return the version with the latest effective date on or before `on`."""
    best = None
    for version in versions:
        if version.effective_from <= on and (
            best is None or (version.effective_from, version.id) > (best.effective_from, best.id)
        ):
            best = version
    return best


def held_award(inputs: WorkerTradeInputs, on: dt.date, ranks: dict[int, RankInfo]) -> AwardRow | None:
    """Return the award of the highest rank held on `on`."""
    best = None
    for award in inputs.awarded:
        rank = ranks.get(award.rank_id)
        if rank is None or award.awarded_on > on:
            continue
        if best is None or (rank.order, award.awarded_on) > (ranks[best.rank_id].order, best.awarded_on):
            best = award
    return best


ZERO = Decimal(0)


def first_awards(inputs: WorkerTradeInputs, on: dt.date) -> dict[int, AwardRow]:
    """Return rank id → the first award of that rank by `on`: time at a rank counts from it."""
    first: dict[int, AwardRow] = {}
    for award in sorted(inputs.awarded, key=lambda a: (a.awarded_on, a.record_id or 0)):
        if award.awarded_on <= on and award.rank_id not in first:
            first[award.rank_id] = award
    return first


def _attended_hours(attendance, on: dt.date) -> dict[int, tuple[Decimal, Decimal, tuple]]:
    """Return course id → (theory hours, practical hours, the rows summed) for the classes started by `on`."""
    by_course: dict[int, tuple[Decimal, Decimal, tuple]] = {}
    for row in attendance:
        if type(row) is AttendedCourse:
            if row.last_start > on:
                raise ValueError(f"attendance summed up to {row.last_start} cannot be evaluated on {on}")
        elif row.start > on:
            continue
        found = by_course.get(row.course_id)
        if found is None:
            by_course[row.course_id] = (row.theory_hours, row.practical_hours, (row,))
        else:
            by_course[row.course_id] = (found[0] + row.theory_hours, found[1] + row.practical_hours, found[2] + (row,))
    return by_course


def _attendance_ids(rows) -> list[int]:
    ids = []
    for row in rows:
        if type(row) is AttendedCourse:
            ids.extend(row.ids)
        else:
            ids.append(row.id)
    return sorted(ids)


def _class_starts(attendance, course_ids: set[int], on: dt.date) -> list[dt.date]:
    """Return the start dates, by `on`, of the classes attended of the given courses, earliest first."""
    starts = []
    for row in attendance:
        if row.course_id not in course_ids:
            continue
        if type(row) is AttendedCourse:
            starts.extend(d for d in row.starts if d <= on)
        elif row.start <= on:
            starts.append(row.start)
    return sorted(starts)


def _row_start(row) -> dt.date:
    return row.last_start if type(row) is AttendedCourse else row.start


def _line_requirement(line: PackageLine, attended, kind: Kind, detailed: bool) -> tuple[Requirement, bool]:
    theory, practical, rows = attended.get(line.course_id, (ZERO, ZERO, ()))
    done = theory >= line.theory_hours and practical >= line.practical_hours
    counted = min(theory, line.theory_hours) + min(practical, line.practical_hours)
    detail = ""
    if detailed:
        detail = _("theory %(theory)s of %(theory_req)s h, practical %(practical)s of %(practical_req)s h") % {
            "theory": _fmt(theory),
            "theory_req": _fmt(line.theory_hours),
            "practical": _fmt(practical),
            "practical_req": _fmt(line.practical_hours),
        }
    requirement = Requirement(
        kind=kind,
        status=Status.MET if done else Status.UNMET,
        label=line.course_title,
        required=line.theory_hours + line.practical_hours,
        actual=counted,
        detail=detail,
        evidence=tuple(f"attendance:{i}" for i in _attendance_ids(rows)),
        # Hours count from a class's start (_attended_hours): the course is done as of the latest class counted.
        met_on=max(_row_start(row) for row in rows) if done and rows else None,
        course_code=line.course_code,
    )
    return requirement, done


def _package_requirements(rules: RuleSetInfo, lines, attended, detailed: bool) -> list[Requirement]:
    requirements = []
    for line in sorted(lines, key=lambda ln: (not ln.mandatory, ln.course_code)):
        if line.mandatory:
            requirements.append(_line_requirement(line, attended, Kind.COURSE, detailed)[0])
    if rules.min_electives:
        done = []
        for line in lines:
            if not line.mandatory:
                requirement, ok = _line_requirement(line, attended, Kind.ELECTIVES, False)
                if ok:
                    done.append(requirement)
        done.sort(key=lambda r: r.course_code)
        requirements.append(
            Requirement(
                kind=Kind.ELECTIVES,
                status=Status.MET if len(done) >= rules.min_electives else Status.UNMET,
                label=_("Electives completed"),
                required=Decimal(rules.min_electives),
                actual=Decimal(len(done)),
                detail=", ".join(r.course_code for r in done),
                evidence=tuple(e for r in done for e in r.evidence),
                met_on=_nth_date([r.met_on for r in done], rules.min_electives),
            )
        )
    return requirements


@dataclass(frozen=True, slots=True)
class _ExamStanding:
    latest: ResultRow | None  # the latest attempt that counts and has not lapsed
    resits_left: int
    detail: str
    evidence: tuple[str, ...]


_ATTEMPT_ORDER = itemgetter(3, 4, 0)  # ResultRow (held_on, attempt, id): the order attempts count in


def _exam_standing(
    results, kind: str, rules: RuleSetInfo, course_ids: set[int], attendance, on: dt.date, detailed: bool
):
    """
    Walk one kind of exam attempts in date order, applying the re-sit limit.

    Every failed or absent attempt uses one of resit_limit + 1 tries. Once all
    are used, later attempts count only after retraining: attending a class of
    one of the package's courses that starts after the last failed attempt.
    Retraining opens a fresh set of tries.
    """
    attempts = sorted([r for r in results if r.kind == kind and r.held_on <= on], key=_ATTEMPT_ORDER)
    pass_mark = rules.theory_pass_mark if kind == "theory" else rules.practical_pass_mark
    tries = rules.resit_limit + 1
    failures = 0
    last_failed_on: dt.date | None = None
    latest = None
    ignored: list[ResultRow] = []
    retraining = None
    for result in attempts:
        if failures >= tries:
            if retraining is None:
                retraining = _class_starts(attendance, course_ids, on)
            if any(last_failed_on < start <= result.held_on for start in retraining):
                failures = 0
            else:
                ignored.append(result)
                continue
        latest = result
        if result.score is None or (result.score if result.full_marks == 100 else result.percent) < pass_mark:
            failures += 1
            last_failed_on = result.held_on
    details = []
    if detailed and failures >= tries:
        if retraining is None:
            retraining = _class_starts(attendance, course_ids, on)
        if not any(start > last_failed_on for start in retraining):
            details.append(
                _(
                    "re-sits used up: retrain (attend a class of this package after %(date)s) "
                    "before the next attempt counts"
                )
                % {"date": last_failed_on.isoformat()}
            )
    if ignored and detailed:
        details.append(
            _("attempts without retraining do not count: %(ids)s") % {"ids": ", ".join(f"#{r.id}" for r in ignored)}
        )
    if latest is not None and rules.exam_valid_months is not None:
        lapses_on = add_months(latest.held_on, rules.exam_valid_months)
        if on > lapses_on:
            if detailed:
                details.append(
                    _("the result of %(held)s lapsed on %(date)s")
                    % {"held": latest.held_on.isoformat(), "date": lapses_on.isoformat()}
                )
            latest = None
    if detailed and latest is not None and latest.score is None:
        details.append(_("absent (counts as a failed attempt)"))
    resits_left = max(min(rules.resit_limit, tries - failures), 0)
    evidence = (f"result:{latest.id}",) if latest is not None else ()
    return _ExamStanding(latest, resits_left, "; ".join(details), evidence)


def _exam_requirement(kind: Kind, standing: _ExamStanding, pass_mark: Decimal, detailed: bool) -> Requirement:
    percent = standing.latest.percent if standing.latest is not None else None
    met = percent is not None and percent >= pass_mark
    detail = standing.detail
    if detailed and not met and standing.latest is not None and standing.resits_left:
        extra = _("%(n)s re-sit(s) left") % {"n": standing.resits_left}
        detail = f"{detail}; {extra}" if detail else extra
    return Requirement(
        kind=kind,
        status=Status.MET if met else Status.UNMET,
        label=_("Theory exam") if kind == Kind.THEORY else _("Practical exam"),
        required=pass_mark,
        actual=percent,
        detail=detail,
        evidence=standing.evidence,
        met_on=standing.latest.held_on if met else None,
        resits_left=standing.resits_left,
    )


def _composite_requirement(
    rules: RuleSetInfo, theory: _ExamStanding, practical: _ExamStanding, detailed: bool
) -> Requirement:
    t = theory.latest.percent if theory.latest is not None else None
    p = practical.latest.percent if practical.latest is not None else None
    composite = None
    if t is not None and p is not None:
        composite = (t * rules.theory_weight + p * rules.practical_weight) / 100
    met = composite is not None and composite >= rules.composite_pass_mark
    detail = ""
    if detailed:
        detail = _("weighted: theory counts %(tw)s %%, practical %(pw)s %%") % {
            "tw": _fmt(rules.theory_weight),
            "pw": _fmt(rules.practical_weight),
        }
    return Requirement(
        kind=Kind.COMPOSITE,
        status=Status.MET if met else Status.UNMET,
        label=_("Composite score"),
        required=rules.composite_pass_mark,
        actual=composite,
        detail=detail,
        evidence=theory.evidence + practical.evidence,
        met_on=max(theory.latest.held_on, practical.latest.held_on) if met else None,
    )


def _time_requirement(
    rules, inputs, previous: RankInfo | None, previous_award: AwardRow | None, on, detailed: bool
) -> Requirement:
    """Years at the previous rank, or in the trade; either satisfies when both are set."""
    options = []  # (met_on, required, actual, what)
    if rules.years_at_previous_rank is not None:
        if previous is not None and previous_award is not None:
            met_on = add_years(previous_award.awarded_on, rules.years_at_previous_rank)
            actual = years_between(previous_award.awarded_on, on)
        else:
            met_on, actual = None, None
        options.append((met_on, rules.years_at_previous_rank, actual, "rank"))
    if rules.years_in_trade is not None:
        met_on = add_years(inputs.started_on, rules.years_in_trade)
        options.append((met_on, rules.years_in_trade, years_between(inputs.started_on, on), "trade"))
    dated = [o for o in options if o[0] is not None]
    chosen = min(dated, key=lambda o: o[0]) if dated else options[0]
    met_on = chosen[0]
    if met_on is None:
        status = Status.UNMET
    elif met_on <= on:
        status = Status.MET
    else:
        status = Status.PENDING
    detail = ""
    if detailed:
        words = []
        for _met_on, years, _actual, what in options:
            if what == "rank":
                name = previous.name if previous is not None else _("the previous rank")
                words.append(_("%(years)s years at %(rank)s") % {"years": _fmt(years), "rank": name})
            else:
                words.append(_("%(years)s years in the trade") % {"years": _fmt(years)})
        detail = _(" or ").join(words)
        if met_on is None:
            detail = f"{detail}; " + _("counts from the award of the previous rank")
    evidence = ()
    if chosen[3] == "rank" and previous_award is not None and previous_award.record_id:
        evidence = (f"rank_record:{previous_award.record_id}",)
    return Requirement(
        kind=Kind.TIME,
        status=status,
        label=_("Time at level"),
        required=chosen[1],
        actual=chosen[2],
        detail=detail,
        evidence=evidence,
        met_on=met_on,
    )


def _review_requirement(reviews, rank_id: int, on: dt.date) -> Requirement:
    latest = None
    for review in reviews:
        if (
            review.rank_id == rank_id
            and review.held_on <= on
            and (latest is None or (review.held_on, review.id) > (latest.held_on, latest.id))
        ):
            latest = review
    if latest is None:
        status, actual, detail = Status.UNMET, None, _("no comprehensive review recorded")
    else:
        status = Status.MET if latest.passed else Status.UNMET
        actual = _("passed") if latest.passed else _("not passed")
        detail = latest.held_on.isoformat()
    return Requirement(
        kind=Kind.REVIEW,
        status=status,
        label=_("Comprehensive review"),
        required=_("passed"),
        actual=actual,
        detail=detail,
        evidence=(f"review:{latest.id}",) if latest is not None else (),
        met_on=latest.held_on if status == Status.MET else None,
    )


def evaluate(
    inputs: WorkerTradeInputs, on: dt.date, *, detailed: bool = True, through_rank: int | None = None
) -> Explanation:
    """
    Return where the worker stands in the trade on `on`, and every requirement of each higher rank.

    With detailed=False (the recompute's fast path) the wording of details is
    left out and a rank that cannot be reached because the rank below is not
    earned lists only that; every status is the same as with detailed=True.
    With through_rank, the steps end with that rank's (climb needs no more).
    """
    _LANGUAGE.code = get_language()
    ladder = sorted(inputs.ladder, key=lambda r: r.order)
    ranks = {r.id: r for r in ladder}
    held = held_award(inputs, on, ranks)
    held_rank = ranks[held.rank_id] if held is not None else None
    held_order = held_rank.order if held_rank is not None else None
    awards_by_rank = first_awards(inputs, on)
    attended = None

    steps: list[RankStep] = []
    previous: RankInfo | None = None
    previous_met = False
    for rank in ladder:
        if held_order is not None and rank.order <= held_order:
            previous, previous_met = rank, True
            continue
        rules = rule_set_in_force(inputs.rule_sets.get(rank.id, ()), on)
        if rules is None:
            requirements = (
                Requirement(
                    kind=Kind.RULES,
                    status=Status.UNMET,
                    label=_("Rules"),
                    detail=_("no rule set in force on %(date)s") % {"date": on.isoformat()} if detailed else "",
                ),
            )
            steps.append(RankStep(rank.id, rank.code, rank.name, None, None, requirements))
            previous, previous_met = rank, False
            continue
        requirements = []
        if previous is not None and not rules.allow_direct_entry:
            if held_order is not None and previous.order <= held_order:
                status, detail = Status.MET, ""
            elif previous_met:
                status, detail = Status.PENDING, _("awaits the award of %(rank)s") % {"rank": previous.name}
            else:
                status, detail = Status.UNMET, ""
            requirements.append(
                Requirement(
                    kind=Kind.LADDER,
                    status=status,
                    label=_("Holds %(rank)s") % {"rank": previous.name},
                    required=previous.name,
                    actual=held_rank.name if held_rank is not None else None,
                    detail=detail,
                    evidence=(f"rank_record:{held.record_id}",) if status == Status.MET and held.record_id else (),
                    met_on=held.awarded_on if status == Status.MET else None,
                )
            )
            if status == Status.UNMET and not detailed:
                steps.append(RankStep(rank.id, rank.code, rank.name, rules.id, rules.name, tuple(requirements)))
                previous, previous_met = rank, False
                continue
        lines = inputs.package_lines.get(rank.id, ())
        if rules.require_package:
            if attended is None:
                attended = _attended_hours(inputs.attendance, on)
            requirements.extend(_package_requirements(rules, lines, attended, detailed))
        course_ids = {line.course_id for line in lines}
        rank_results = [r for r in inputs.results if r.rank_id == rank.id]
        theory = _exam_standing(rank_results, "theory", rules, course_ids, inputs.attendance, on, detailed)
        practical = _exam_standing(rank_results, "practical", rules, course_ids, inputs.attendance, on, detailed)
        if rules.require_theory:
            requirements.append(_exam_requirement(Kind.THEORY, theory, rules.theory_pass_mark, detailed))
        if rules.require_practical:
            requirements.append(_exam_requirement(Kind.PRACTICAL, practical, rules.practical_pass_mark, detailed))
        if (
            rules.composite_pass_mark is not None
            and rules.theory_weight is not None
            and rules.practical_weight is not None
        ):
            requirements.append(_composite_requirement(rules, theory, practical, detailed))
        if rules.years_at_previous_rank is not None or rules.years_in_trade is not None:
            previous_award = awards_by_rank.get(previous.id) if previous is not None else None
            requirements.append(_time_requirement(rules, inputs, previous, previous_award, on, detailed))
        if rules.require_review:
            requirements.append(_review_requirement(inputs.reviews, rank.id, on))
        steps.append(RankStep(rank.id, rank.code, rank.name, rules.id, rules.name, tuple(requirements)))
        if rank.id == through_rank:
            break
        # A met step whose only open point is the award of the rank below keeps the chain going.
        previous_met = bool(requirements) and all(
            r.status == Status.MET or (r.kind == Kind.LADDER and r.status == Status.PENDING) for r in requirements
        )
        previous = rank

    return Explanation(
        worker_id=inputs.worker_id,
        trade_id=inputs.trade_id,
        on=on,
        held_rank_id=held_rank.id if held_rank else None,
        held_rank_name=held_rank.name if held_rank else None,
        steps=tuple(steps),
    )


def _exams_met(rules: RuleSetInfo, rank_results, course_ids, attendance, on: dt.date) -> bool:
    theory = practical = None
    if rules.require_theory or rules.composite_pass_mark is not None:
        theory = _exam_standing(rank_results, "theory", rules, course_ids, attendance, on, False).latest
        if rules.require_theory and (theory is None or theory.score is None or theory.percent < rules.theory_pass_mark):
            return False
    if rules.require_practical or rules.composite_pass_mark is not None:
        practical = _exam_standing(rank_results, "practical", rules, course_ids, attendance, on, False).latest
        if rules.require_practical and (
            practical is None or practical.score is None or practical.percent < rules.practical_pass_mark
        ):
            return False
    if rules.composite_pass_mark is not None and rules.theory_weight is not None and rules.practical_weight is not None:
        if theory is None or practical is None or theory.score is None or practical.score is None:
            return False
        composite = (theory.percent * rules.theory_weight + practical.percent * rules.practical_weight) / 100
        if composite < rules.composite_pass_mark:
            return False
    return True


def _package_met(rules: RuleSetInfo, lines, attended) -> bool:
    electives = 0
    for line in lines:
        theory, practical, _rows = attended.get(line.course_id, (ZERO, ZERO, ()))
        done = theory >= line.theory_hours and practical >= line.practical_hours
        if line.mandatory and not done:
            return False
        electives += done and not line.mandatory
    return electives >= rules.min_electives


def _time_met(rules: RuleSetInfo, inputs, previous_award: AwardRow | None, on: dt.date) -> bool:
    if rules.years_in_trade is not None and add_years(inputs.started_on, rules.years_in_trade) <= on:
        return True
    return (
        rules.years_at_previous_rank is not None
        and previous_award is not None
        and add_years(previous_award.awarded_on, rules.years_at_previous_rank) <= on
    )


def earned_rank(inputs: WorkerTradeInputs, on: dt.date) -> int | None:
    """
    Return the id of the lowest rank whose step is met on `on` (the rank
    climb() awards first), or None. Decides exactly like evaluate() but
    builds no explanation and stops checking a rank at its first unmet
    requirement: the recompute asks this of every worker, and evaluates in
    full only the few who earned something.
    """
    ladder = sorted(inputs.ladder, key=lambda r: r.order)
    ranks = {r.id: r for r in ladder}
    held = held_award(inputs, on, ranks)
    held_order = ranks[held.rank_id].order if held is not None else None
    awards_by_rank = None
    attended = None
    previous: RankInfo | None = None
    previous_met = False
    for rank in ladder:
        if held_order is not None and rank.order <= held_order:
            previous, previous_met = rank, True
            continue
        rules = rule_set_in_force(inputs.rule_sets.get(rank.id, ()), on)
        if rules is None:
            previous, previous_met = rank, False
            continue
        # The ladder requirement: met (the rank below is held), pending (earned, awaiting its award) or unmet.
        ladder_met = True
        has_requirements = False
        if previous is not None and not rules.allow_direct_entry:
            has_requirements = True
            if not (held_order is not None and previous.order <= held_order):
                if not previous_met:
                    previous, previous_met = rank, False
                    continue
                ladder_met = False  # pending: this rank can keep the chain going but is not met itself
        lines = inputs.package_lines.get(rank.id, ())
        met = True
        if rules.require_package:
            has_requirements = has_requirements or rules.min_electives > 0 or any(line.mandatory for line in lines)
            if attended is None:
                attended = _attended_hours(inputs.attendance, on)
            met = _package_met(rules, lines, attended)
        has_time = rules.years_at_previous_rank is not None or rules.years_in_trade is not None
        has_composite = (
            rules.composite_pass_mark is not None
            and rules.theory_weight is not None
            and rules.practical_weight is not None
        )
        has_requirements = (
            has_requirements
            or rules.require_theory
            or rules.require_practical
            or has_composite
            or has_time
            or rules.require_review
        )
        if met and has_time:
            if awards_by_rank is None:
                awards_by_rank = first_awards(inputs, on)
            previous_award = awards_by_rank.get(previous.id) if previous is not None else None
            met = _time_met(rules, inputs, previous_award, on)
        if met and rules.require_review:
            met = _review_requirement(inputs.reviews, rank.id, on).status == Status.MET
        if met and (rules.require_theory or rules.require_practical or has_composite):
            rank_results = [r for r in inputs.results if r.rank_id == rank.id]
            met = _exams_met(rules, rank_results, {line.course_id for line in lines}, inputs.attendance, on)
        met = met and has_requirements
        if met and ladder_met:
            return rank.id
        previous, previous_met = rank, met
    return None


def climb(
    inputs: WorkerTradeInputs, on: dt.date, *, max_steps: int | None = None, detailed: bool = False
) -> list[tuple[RankStep, Explanation]]:
    """
    Return the ranks earned on `on`, lowest first, each with the explanation
    it was earned on (its steps end with that rank): award the lowest met
    rank, then look again with that award in hand. earned_rank() decides
    first, so a worker who earned nothing costs no explanation.
    """
    earned = []
    while max_steps is None or len(earned) < max_steps:
        rank_id = earned_rank(inputs, on)
        if rank_id is None:
            break  # the cheap decision first: most workers earn nothing on a given day
        explanation = evaluate(inputs, on, detailed=detailed, through_rank=rank_id)
        # The lowest met step: usually the next rank, or a higher one a rule lets the worker enter directly.
        step = next((s for s in explanation.steps if s.met), None)
        if step is None:
            break
        earned.append((step, explanation))
        if max_steps is not None and len(earned) >= max_steps:
            break
        inputs = inputs.with_award(step.rank_id, on)
    return earned


def rank_reached(inputs: WorkerTradeInputs, on: dt.date) -> int | None:
    """Return the id of the highest rank held once every earned rank is awarded."""
    earned = climb(inputs, on)
    if earned:
        return earned[-1][0].rank_id
    return evaluate(inputs, on).held_rank_id


def _nth_date(dates, n: int) -> dt.date | None:
    """Return the date by which n of the dated things were done (None if fewer were)."""
    dated = sorted(d for d in dates if d is not None)
    return dated[n - 1] if n >= 1 and len(dated) >= n else None


def _latest(dates) -> dt.date | None:
    dated = [d for d in dates if d is not None]
    return max(dated) if dated else None


def step_met_on(step: RankStep) -> dt.date | None:
    """Return the date the last requirement of a met step was met: the date the rank is held from once awarded."""
    if not step.met:
        return None
    return _latest([r.met_on for r in step.requirements])


def _plain(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral_value() else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@lru_cache(maxsize=1024)
def _rule_set_snapshot(rules: RuleSetInfo) -> dict:
    return {"id": rules.id, "name": rules.name, **{name: _plain(getattr(rules, name)) for name in RULE_SET_FIELDS}}


def step_snapshot(step: RankStep, rules: RuleSetInfo | None, on: dt.date) -> dict:
    """Return a JSON-ready copy of a step: what the award rests on, frozen."""
    plain = _plain
    evidence = sorted({e for r in step.requirements for e in r.evidence})
    return {
        "on": on.isoformat(),
        # The date the award will carry (rank_approve): when its last requirement was met, not the approval day.
        "met_on": plain(step_met_on(step)),
        "rank": {"id": step.rank_id, "code": step.rank_code, "name": step.rank_name},
        "rule_set": _rule_set_snapshot(rules) if rules is not None else None,
        "requirements": [
            {
                "kind": str(r.kind),
                "status": str(r.status),
                "label": str(r.label),
                "required": plain(r.required),
                "actual": plain(r.actual),
                "detail": str(r.detail),
                "evidence": list(r.evidence),
                "met_on": plain(r.met_on),
                "course_code": r.course_code,
            }
            for r in step.requirements
        ],
        "evidence": evidence,
        "results": sorted(int(e.split(":")[1]) for e in evidence if e.startswith("result:")),
        "attendance": sorted(int(e.split(":")[1]) for e in evidence if e.startswith("attendance:")),
        "reviews": sorted(int(e.split(":")[1]) for e in evidence if e.startswith("review:")),
        "fingerprint": f"{step.rule_set_id}|" + ",".join(evidence),
    }


def step_fingerprint(step: RankStep) -> str:
    """Return a short key of the rule set and evidence a step rests on (a rejected award is not re-proposed on it)."""
    evidence = sorted({e for r in step.requirements for e in r.evidence})
    return f"{step.rule_set_id}|" + ",".join(evidence)


# ---------------------------------------------------------------------------
# Only what changed: fingerprints and the next date time alone can change an outcome
# ---------------------------------------------------------------------------


def _digest(value) -> str:
    # A stable digest across processes (hash() of str and dates is salted per process).
    return hashlib.blake2b(repr(value).encode(), digest_size=16).hexdigest()


def rules_fingerprint(trade_id: int, ladder: tuple, rule_sets: dict, package_lines: dict) -> str:
    """Return the fingerprint of one trade's ladder, rule set versions and package lines (the trade id included)."""
    return _digest(
        (
            trade_id,
            tuple(ladder),
            tuple(sorted((rank_id, tuple(sorted(v, key=lambda r: r.id))) for rank_id, v in rule_sets.items())),
            tuple(sorted(package_lines.items())),
        )
    )


def fingerprint_with_records(evidence: str, live: tuple, settled: tuple) -> str:
    """Return the fingerprint of a pair's evidence (inputs.rollup_inputs_load's digest) and its rank records."""
    return _digest((evidence, live, settled))


@dataclass(frozen=True, slots=True)
class TradeClock:
    """The dates and periods of one trade's rule sets that make outcomes change with time alone."""

    effective: tuple[dt.date, ...]  # every version's effective date, sorted
    years_in_trade: frozenset
    years_at_previous_rank: frozenset
    valid_months: frozenset


def trade_clock(rule_sets: dict[int, tuple[RuleSetInfo, ...]]) -> TradeClock:
    """Return the clock of a trade's rule sets (rank id → versions)."""
    versions = [v for by_rank in rule_sets.values() for v in by_rank]
    return TradeClock(
        effective=tuple(sorted({v.effective_from for v in versions})),
        years_in_trade=frozenset(v.years_in_trade for v in versions if v.years_in_trade is not None),
        years_at_previous_rank=frozenset(
            v.years_at_previous_rank for v in versions if v.years_at_previous_rank is not None
        ),
        valid_months=frozenset(v.exam_valid_months for v in versions if v.exam_valid_months is not None),
    )


ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=65536)
def _first_anniversary(day: dt.date, periods: frozenset, on: dt.date) -> dt.date | None:
    """Return the first date after `on` that is `day` plus one of the periods (years), or None."""
    first = None
    for years in periods:
        date = add_years(day, years)
        if date > on and (first is None or date < first):
            first = date
    return first


def next_change_on(
    inputs: WorkerTradeInputs, on: dt.date, clock: TradeClock, later: dt.date | None = None
) -> dt.date | None:
    """
    Return the first date after `on` on which evaluate() may decide otherwise
    with no new write, or None: a rule set coming into force, an award dated
    later, time in the trade or at a rank reached, an exam result lapsing, a
    review held later, or `later` (the first class or sitting of the worker
    dated after `on`, which the inputs leave out). Every use of the evaluation
    date in the rules and the loader is one of these.
    """
    found = [later] if later is not None else []
    for day in clock.effective:
        if day > on:
            found.append(day)
            break
    if clock.years_in_trade:
        found.append(_first_anniversary(inputs.started_on, clock.years_in_trade, on))
    for award in inputs.awarded:
        found.append(award.awarded_on if award.awarded_on > on else None)
        if clock.years_at_previous_rank:
            found.append(_first_anniversary(award.awarded_on, clock.years_at_previous_rank, on))
    for review in inputs.reviews:
        if review.held_on > on:
            found.append(review.held_on)
    for months in clock.valid_months:
        for result in inputs.results:
            lapse = add_months(result.held_on, months) + ONE_DAY
            if lapse > on:
                found.append(lapse)
    first = None
    for day in found:
        if day is not None and (first is None or day < first):
            first = day
    return first
