"""
The attempt audit for HR (issue 16, item 6): who may see which sessions, the
figures of one session (score distribution, pass rate, roster members who did
not start, who is still in progress), and one attempt's paper as the candidate
saw it with the answers given. Reads only; each in a fixed number of queries.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from certifications.exams.sessions import shown_options
from certifications.models import Attempt, AttemptQuestion, ExamCandidate, ExamSession
from training.access import is_hr

# The score distribution's bands, as a share of the paper's full marks: 0–9 %, 10–19 %, … 90–100 %.
BANDS = 10


def sessions_visible(user):
    """Return the sessions this user may audit: HR all; an assessor those whose assessment or sitting they examine."""
    sessions = ExamSession.objects.all()
    if is_hr(user):
        return sessions
    if not user.is_authenticated or not user.is_staff:
        return sessions.none()
    examined = ExamSession.objects.filter(Q(assessment__examiners=user) | Q(sitting__examiners=user))
    return sessions.filter(pk__in=examined.values("pk"))


def attempts_visible(user):
    """Return the attempts this user may audit (those of sessions_visible)."""
    attempts = Attempt.objects.all()
    if is_hr(user):
        return attempts
    return attempts.filter(candidate__session__in=sessions_visible(user))


def session_for_user_or_404(user, pk: int) -> ExamSession:
    """Return the session if this user may audit it; otherwise 404, so its existence does not leak."""
    try:
        return sessions_visible(user).select_related("template", "assessment").get(pk=pk)
    except ExamSession.DoesNotExist:
        raise Http404("No such exam session.") from None


@dataclass(frozen=True)
class Band:
    low: int  # per cent of full marks, inclusive
    high: int  # per cent, exclusive (the last band includes 100)
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}%"


@dataclass(frozen=True)
class ExamRosterLine:
    candidate: ExamCandidate
    attempt: Attempt | None  # the latest attempt, if any
    attempts: int
    passed: bool | None  # None: no result (not ended, or not recorded)

    @property
    def state(self) -> str:
        if self.attempt is None:
            return "not_started"
        return "in_progress" if self.attempt.open else "ended"


@dataclass
class SessionReport:
    session: ExamSession
    lines: list[ExamRosterLine] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)

    @property
    def roster(self) -> int:
        return len(self.lines)

    def _where(self, state: str) -> list[ExamRosterLine]:
        return [line for line in self.lines if line.state == state]

    @property
    def not_started(self) -> list[ExamRosterLine]:
        return self._where("not_started")

    @property
    def in_progress(self) -> list[ExamRosterLine]:
        return self._where("in_progress")

    @property
    def ended(self) -> list[ExamRosterLine]:
        return self._where("ended")

    @property
    def passed(self) -> int:
        return sum(1 for line in self.ended if line.passed)

    @property
    def pass_rate(self) -> Decimal | None:
        """Passed as a share of the ended (latest) attempts, in per cent; None before anyone ended."""
        ended = len(self.ended)
        if not ended:
            return None
        return (Decimal(100) * self.passed / ended).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def timed_out(self) -> int:
        return sum(1 for line in self.ended if line.attempt.ended == Attempt.Ended.TIMED_OUT)

    @property
    def resits(self) -> int:
        return sum(line.attempts - 1 for line in self.lines if line.attempts > 1)

    @property
    def band_max(self) -> int:
        return max((band.count for band in self.bands), default=0)


def score_bands(scores: list[tuple[Decimal, Decimal]]) -> list[Band]:
    """Count (score, full marks) pairs in bands of BANDS per cent of full marks; a full score falls in the last."""
    width = 100 // BANDS
    counts = [0] * BANDS
    for score, full in scores:
        if not full:
            continue
        share = Decimal(100) * score / full
        counts[min(BANDS - 1, max(0, int(share // width)))] += 1
    return [Band(i * width, (i + 1) * width, n) for i, n in enumerate(counts)]


def session_report(session: ExamSession) -> SessionReport:
    """Return the session's figures and roster states from its candidates' latest attempts, in two queries."""
    candidates = list(
        ExamCandidate.objects.filter(session=session)
        .select_related("worker__unit")
        .prefetch_related(
            Prefetch(
                "attempts",
                queryset=Attempt.objects.select_related("result__assessment").order_by("number"),
            )
        )
        .order_by("worker__employee_no")
    )
    lines = []
    for candidate in candidates:
        attempts = list(candidate.attempts.all())
        latest = attempts[-1] if attempts else None
        result = latest.result if latest is not None else None
        passed = None if result is None or latest.open else result.passed
        lines.append(ExamRosterLine(candidate, latest, len(attempts), passed))
    report = SessionReport(session, lines)
    report.bands = score_bands(
        [(line.attempt.score, line.attempt.full_marks) for line in report.ended if line.attempt.score is not None]
    )
    return report


@dataclass(frozen=True)
class ShownOption:
    label: str  # A, B … as the candidate saw it
    key: str  # the bank's key
    text: str
    chosen: bool
    correct: bool


@dataclass(frozen=True)
class ShownQuestion:
    line: AttemptQuestion
    options: list[ShownOption]
    given: str  # the answer as the candidate saw it ("B、D", "对", the text written), "" when none
    correct: str  # the correct answer, in the same words


def _true_false(value: str) -> str:
    return {"T": _("True (对)"), "F": _("False (错)")}.get(value, value)


def paper_as_shown(attempt: Attempt) -> list[ShownQuestion]:
    """Return the attempt's questions as the candidate saw them (options in their order), with the answers given."""
    lines = (
        attempt.questions.all()
        if "questions" in getattr(attempt, "_prefetched_objects_cache", {})
        else attempt.questions.select_related("question_version__question")
        .prefetch_related("question_version__images")
        .order_by("order")
    )
    shown = []
    for line in lines:
        version = line.question_version
        kind = version.question.kind
        seen = shown_options(line)  # as the exam app showed them: the one place that maps keys to labels
        label_of = {o["key"]: o["label"] for o in seen}
        if kind == "true_false":
            given, correct = _true_false(line.answer), _true_false(version.answer)
        elif kind == "fill":
            given, correct = line.answer, version.answer.replace("|", " / ")
        else:
            given = "、".join(sorted(label_of.get(k, k) for k in line.answer))
            correct = "、".join(sorted(label_of.get(k, k) for k in version.answer))
        options = [
            ShownOption(o["label"], o["key"], o["text"], o["key"] in line.answer, o["key"] in version.answer)
            for o in seen
        ]
        shown.append(ShownQuestion(line, options, given, correct))
    return shown
