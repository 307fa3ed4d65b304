"""
Item analysis for HR (issue 16): how each question did on the papers that showed it, to retire bad ones,
and how a session went.

Per question (all its versions together, and each version): times shown, facility (the share of candidates
shown it who answered it fully correctly), discrimination (facility among the upper 27 % of candidates by
total score minus facility among the lower 27 %), and how often each option was chosen. Per session: the
score distribution in bands of a tenth of full marks, the pass rate and the candidates on the roster who
did not start.

Only ended attempts count (an open paper's answers are not final). Candidates are ranked by their share of
full marks, so attempts at papers of different totals compare. The rules are pure functions over plain
rows (`items_analyse`, `upper_lower`, `score_bands`); `analysis_get` loads the rows in a fixed number of
queries, whatever the number of attempts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from certifications.exams.audit import Band, session_report
from certifications.exams.bank import grade
from certifications.models import (
    Attempt,
    AttemptQuestion,
    ExamSession,
    Question,
    QuestionVersion,
)

GROUP_SHARE = 0.27
# A question is worth a look when it tells good candidates from weak ones poorly, or nearly everyone (or nearly
# no one) gets it right. Common rules of thumb (Ebel): discrimination below 0.2 is poor.
LOW_DISCRIMINATION = 0.2
TOO_EASY, TOO_HARD = 0.95, 0.2
ONE = Decimal(1)


@dataclass(frozen=True)
class Sat:
    """One ended attempt: its share of full marks and whether it passed."""

    attempt_id: int
    share: Decimal
    passed: bool = False
    candidate_id: int | None = None


@dataclass(frozen=True)
class Shown:
    """One question as one attempt showed it, with the answer given (bank keys)."""

    attempt_id: int
    version_id: int
    answer: str


@dataclass(frozen=True)
class VersionFacts:
    version_id: int
    question_id: int
    number: int
    kind: str
    correct: str  # the canonical answer
    option_keys: tuple[str, ...] = ()
    stem: str = ""


@dataclass
class Choice:
    key: str
    count: int
    correct: bool


@dataclass
class ItemFigures:
    number: int | None  # the version; None for all versions together
    shown: int = 0
    answered: int = 0
    correct: int = 0
    upper_shown: int = 0
    upper_correct: int = 0
    lower_shown: int = 0
    lower_correct: int = 0
    choices: list[Choice] = field(default_factory=list)

    @property
    def facility(self) -> float | None:
        return self.correct / self.shown if self.shown else None

    @property
    def upper_facility(self) -> float | None:
        return self.upper_correct / self.upper_shown if self.upper_shown else None

    @property
    def lower_facility(self) -> float | None:
        return self.lower_correct / self.lower_shown if self.lower_shown else None

    @property
    def discrimination(self) -> float | None:
        upper, lower = self.upper_facility, self.lower_facility
        return None if upper is None or lower is None else upper - lower

    @property
    def distractors(self) -> list[Choice]:
        """The wrong options, with how often each was chosen."""
        return [c for c in self.choices if not c.correct]

    @property
    def flags(self) -> list[str]:
        found = []
        if self.discrimination is not None and self.discrimination < LOW_DISCRIMINATION:
            found.append(_("tells strong from weak candidates poorly"))
        if self.facility is not None and self.shown >= 10:
            if self.facility > TOO_EASY:
                found.append(_("nearly everyone answers it correctly"))
            elif self.facility < TOO_HARD:
                found.append(_("few answer it correctly"))
        return found


@dataclass
class QuestionFigures:
    question_id: int
    kind: str
    stem: str
    knowledge_point: str
    active: bool
    overall: ItemFigures
    versions: list[ItemFigures]

    @property
    def kind_label(self) -> str:
        return Question.Kind(self.kind).label if self.kind in Question.Kind.values else self.kind


@dataclass
class SessionFigures:
    session: ExamSession
    roster: int
    started: int
    ended: int
    passed: int
    bands: list[Band]
    not_started: list[tuple[str, str]]  # (employee number, name)

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.ended if self.ended else None

    @property
    def widest_band(self) -> int:
        return max((band.count for band in self.bands), default=0)


@dataclass
class Analysis:
    questions: list[QuestionFigures]
    session: SessionFigures | None = None
    attempts: int = 0


# --- the rules --------------------------------------------------------------------------------------------


def upper_lower(sat: Iterable[Sat], share: float = GROUP_SHARE) -> tuple[set[int], set[int]]:
    """
    Return the attempt ids of the upper and the lower groups: the best and the worst `share` of the attempts by
    share of full marks (at least one each; empty when fewer than two attempts). Ties are broken by attempt id,
    so the groups are the same on every run.
    """
    ranked = sorted(sat, key=lambda s: (s.share, s.attempt_id))
    if len(ranked) < 2:
        return set(), set()
    size = max(1, min(len(ranked) // 2, math.floor(len(ranked) * share + 0.5)))
    return {s.attempt_id for s in ranked[-size:]}, {s.attempt_id for s in ranked[:size]}


def _fully_correct(facts: VersionFacts, answer: str) -> bool:
    return grade(facts.kind, facts.correct, answer, ONE, False) == ONE


def _choice_keys(facts: VersionFacts) -> tuple[str, ...]:
    if facts.kind == Question.Kind.TRUE_FALSE:
        return ("T", "F")
    return facts.option_keys


def _count(figures: ItemFigures, facts: VersionFacts, answer: str, upper: bool, lower: bool, chosen: Counter) -> None:
    figures.shown += 1
    right = _fully_correct(facts, answer)
    if answer:
        figures.answered += 1
    figures.correct += right
    if upper:
        figures.upper_shown += 1
        figures.upper_correct += right
    if lower:
        figures.lower_shown += 1
        figures.lower_correct += right
    if facts.kind != Question.Kind.FILL:
        for key in set(answer.upper()):
            chosen[key] += 1


def items_analyse(sat: Iterable[Sat], shown: Iterable[Shown], versions: dict[int, VersionFacts]) -> dict:
    """
    Return question id → (ItemFigures of all versions, {version id: ItemFigures}) over the shown questions of the
    ended attempts `sat`. One pass over the rows.
    """
    sat = list(sat)
    ended = {s.attempt_id for s in sat}
    upper, lower = upper_lower(sat)
    overall: dict[int, ItemFigures] = {}
    per_version: dict[int, dict[int, ItemFigures]] = defaultdict(dict)
    chosen_overall: dict[int, Counter] = defaultdict(Counter)
    chosen_version: dict[int, Counter] = defaultdict(Counter)
    for row in shown:
        facts = versions.get(row.version_id)
        if facts is None or row.attempt_id not in ended:
            continue
        qid = facts.question_id
        whole = overall.setdefault(qid, ItemFigures(None))
        one = per_version[qid].setdefault(row.version_id, ItemFigures(facts.number))
        is_upper, is_lower = row.attempt_id in upper, row.attempt_id in lower
        _count(whole, facts, row.answer or "", is_upper, is_lower, chosen_overall[qid])
        _count(one, facts, row.answer or "", is_upper, is_lower, chosen_version[row.version_id])
    result = {}
    for qid, whole in overall.items():
        keys: list[str] = []
        correct: set[str] = set()
        for vid, one in per_version[qid].items():
            facts = versions[vid]
            one.choices = [Choice(k, chosen_version[vid][k], k in facts.correct) for k in _choice_keys(facts)]
            keys += [k for k in _choice_keys(facts) if k not in keys]
            correct |= set(facts.correct) if facts.kind != Question.Kind.FILL else set()
        latest = versions[max(per_version[qid], key=lambda v: versions[v].number)]
        whole.choices = [Choice(k, chosen_overall[qid][k], k in latest.correct) for k in keys]
        result[qid] = (whole, dict(sorted(per_version[qid].items(), key=lambda item: versions[item[0]].number)))
    return result


# --- the selector -----------------------------------------------------------------------------------------


def _passed(score: Decimal, full: Decimal, assessment_full: Decimal, pass_mark: Decimal) -> bool:
    # The attempt's score is out of the paper's full marks; the pass mark is out of the assessment's.
    if not full:
        return False
    return score * assessment_full >= pass_mark * full


def analysis_get(*, session: ExamSession | None = None, question_ids: Iterable[int] | None = None) -> Analysis:
    """Return the item analysis over every ended attempt (of one session, when given): five queries at most."""
    attempts = Attempt.objects.filter(ended_at__isnull=False, score__isnull=False)
    if session is not None:
        attempts = attempts.filter(candidate__session=session)
    sat = [
        Sat(pk, (score / full) if full else Decimal(0), _passed(score, full, a_full, mark), candidate_id)
        for pk, score, full, a_full, mark, candidate_id in attempts.order_by().values_list(
            "id",
            "score",
            "full_marks",
            "candidate__session__assessment__full_marks",
            "candidate__session__assessment__pass_mark",
            "candidate_id",
        )
    ]
    rows = AttemptQuestion.objects.filter(attempt__ended_at__isnull=False, attempt__score__isnull=False)
    if session is not None:
        rows = rows.filter(attempt__candidate__session=session)
    if question_ids is not None:
        rows = rows.filter(question_version__question_id__in=list(question_ids))
    shown = [Shown(*values) for values in rows.order_by().values_list("attempt_id", "question_version_id", "answer")]
    version_ids = {row.version_id for row in shown}
    versions: dict[int, VersionFacts] = {}
    questions: dict[int, dict] = {}
    if version_ids:
        # Every version of the questions concerned: the current one's stem names the question.
        for vid, qid, number, kind, answer, options, stem, point, active in (
            QuestionVersion.objects.filter(question__versions__in=version_ids)
            .distinct()
            .order_by("question_id", "number")
            .values_list(
                "id",
                "question_id",
                "number",
                "question__kind",
                "answer",
                "options",
                "stem",
                "question__knowledge_point",
                "question__active",
            )
        ):
            versions[vid] = VersionFacts(vid, qid, number, kind, answer, tuple(o["key"] for o in options or ()), stem)
            questions[qid] = {"kind": kind, "stem": stem, "knowledge_point": point, "active": active}
    figures = items_analyse(sat, shown, versions)
    listed = [
        QuestionFigures(
            qid,
            questions[qid]["kind"],
            questions[qid]["stem"],
            questions[qid]["knowledge_point"],
            questions[qid]["active"],
            whole,
            list(by_version.values()),
        )
        for qid, (whole, by_version) in figures.items()
    ]
    # The questions most worth a look first: flagged, then the least discriminating.
    listed.sort(
        key=lambda q: (
            not q.overall.flags,
            q.overall.discrimination if q.overall.discrimination is not None else 9,
            q.question_id,
        )
    )
    return Analysis(listed, _session_figures(session) if session is not None else None, len(sat))


def _session_figures(session: ExamSession) -> SessionFigures:
    """The session's figures as its report counts them (audit.session_report: one home for them)."""
    report = session_report(session)
    return SessionFigures(
        session=session,
        roster=report.roster,
        started=report.roster - len(report.not_started),
        ended=len(report.ended),
        passed=report.passed,
        bands=report.bands,
        not_started=[(line.candidate.worker.employee_no, line.candidate.worker.name) for line in report.not_started],
    )
