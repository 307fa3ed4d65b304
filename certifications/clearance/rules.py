"""
Cleared for post: may this worker do this trade on this date, and if not, why
not? Pure functions over plain data — no queries — so they can be tested with
hypothesis and run for a whole mine. `certifications.clearance.facts` loads the
facts; this module decides.

Dates: every `due_on`, `valid_until` and `lapses_on` is the LAST day something
holds. A certificate valid until 2029-05-05 clears its holder on 2029-05-05 and
not on 2029-05-06; `Clearance.lapses_on` is the last day the worker stays
cleared unless something is done (the earliest expiry, review or hours
deadline).

"As of": the facts passed in must already be cut at the evaluation date (the
selector does that); the rules also ignore anything dated after `on`, so a
careless caller still gets an honest past answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from core.dates import add_months, last_day_after

ZERO = Decimal("0")

# Personnel categories (values of training.models.PersonnelCategory).
PRINCIPAL = "principal"
SAFETY_MANAGER = "safety_manager"
MANAGER_CATEGORIES = frozenset({PRINCIPAL, SAFETY_MANAGER})

# Training-class kinds (values of training.models.TrainingClass.Kind).
PRE_JOB = "pre_job"
ANNUAL = "annual"
TRANSFER = "transfer"
RETURN = "return"
REVIEW = "review"
# Class kinds whose hours count towards the annual retraining of a calendar year.
ANNUAL_KINDS = frozenset({ANNUAL})
# Class kinds that count as retraining before returning to a post or after changing trade.
RETRAINING_KINDS = frozenset({RETURN, TRANSFER})
# Initial training, mentoring and transfer training are gates for the first months in a post.
# After that the annual retraining takes over, and older hires' papers predate the system, so
# their records are not demanded (an open, unsigned mentorship still blocks at any age).
NEW_IN_POST_MONTHS = 12


# ── the rule numbers ──────────────────────────────────────────────────────


@dataclass(frozen=True)
class RuleVersion:
    """One compliance rule version (a ComplianceRule row, or the built-in defaults)."""

    id: int | None
    name: str
    effective_from: dt.date
    category: str = ""  # empty: every personnel category
    trade_id: int | None = None  # None: every trade
    initial_hours: Decimal = Decimal("72")
    annual_hours: Decimal = Decimal("20")
    special_initial_hours: Decimal = Decimal("90")
    certificate_valid_years: int = 6
    review_interval_years: int = 3
    extended_review_interval_years: int = 6
    review_window_days: int = 60
    review_training_hours: Decimal = Decimal("8")
    review_failures_allowed: int = 1
    mentoring_months: int = 4
    away_practical_months: int = 6
    away_retrain_months: int = 12
    manager_assessment_months: int = 6

    @property
    def specificity(self) -> int:
        return (2 if self.trade_id is not None else 0) + (1 if self.category else 0)

    def applies_to(self, *, category: str, trade_id: int | None) -> bool:
        return (not self.category or self.category == category) and (self.trade_id is None or self.trade_id == trade_id)


# Used only when no ComplianceRule is configured at all: docs/domain.md §2, in force
# from 2018-03-01 (煤矿安全培训规定). Managers get the 48/16 hour rule.
DEFAULT_RULES: tuple[RuleVersion, ...] = (
    RuleVersion(id=None, name="docs/domain.md §2", effective_from=dt.date(2018, 3, 1)),
    *(
        RuleVersion(
            id=None,
            name="docs/domain.md §2 (managers)",
            effective_from=dt.date(2018, 3, 1),
            category=category,
            initial_hours=Decimal("48"),
            annual_hours=Decimal("16"),
        )
        for category in sorted(MANAGER_CATEGORIES)
    ),
)


def rule_in_force(rules: tuple[RuleVersion, ...], *, category: str, trade_id: int | None, on: dt.date) -> RuleVersion:
    """
    Return the rule for this category and trade on a date: the most specific
    one (trade beats category beats general), and of those the latest in force.
    Before the earliest version, the earliest one applies.
    """
    candidates = [r for r in (rules or DEFAULT_RULES) if r.applies_to(category=category, trade_id=trade_id)]
    if not candidates:
        candidates = [r for r in DEFAULT_RULES if r.applies_to(category=category, trade_id=trade_id)]
    in_force = [r for r in candidates if r.effective_from <= on]
    if in_force:
        return max(in_force, key=lambda r: (r.specificity, r.effective_from))
    return min(candidates, key=lambda r: (r.effective_from, -r.specificity))


def annual_hours_required(
    rules: tuple[RuleVersion, ...], *, category: str, trade_id: int | None = None, on: dt.date
) -> Decimal:
    """
    The annual retraining hours in force on `on` for a personnel category and
    trade: the one annual-hours rule (docs/domain.md §2), read by the clearance
    check and by every page that shows hours against the requirement.
    """
    return rule_in_force(rules, category=category, trade_id=trade_id, on=on).annual_hours


def rules_start(rules: tuple[RuleVersion, ...]) -> dt.date:
    """Return the day the earliest rule took effect: records before it are assumed to live on paper."""
    return min(r.effective_from for r in (rules or DEFAULT_RULES))


# ── facts in ──────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ReviewFact:
    id: int
    reviewed_on: dt.date
    passed: bool
    training_hours: Decimal = ZERO


@dataclass(frozen=True)
class CertificateFact:
    id: int
    kind: str  # "special_operation" or "safety_management" (Certificate.Kind values)
    number: str
    issued_on: dt.date
    special_operation_id: int | None = None
    first_issued_on: dt.date | None = None
    valid_until: dt.date | None = None  # as issued
    next_review_due: dt.date | None = None  # as issued
    extended_review_approved: bool = False
    revoked: bool = False
    reviews: tuple[ReviewFact, ...] = ()


@dataclass(frozen=True)
class AttendanceFact:
    kind: str  # TrainingClass.Kind value
    start: dt.date
    end: dt.date
    hours: Decimal


@dataclass(frozen=True)
class PracticalPassFact:
    """A passed practical exam for a special operation."""

    special_operation_id: int
    held_on: dt.date


@dataclass(frozen=True)
class MentorshipFact:
    id: int
    mentor_name: str
    trade_id: int | None
    start: dt.date
    planned_end: dt.date
    signed_off_on: dt.date | None = None
    signed_off_by: str = ""


@dataclass(frozen=True)
class AwayFact:
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class WorkerTradeFact:
    """A WorkerTrade row: a trade the worker holds or held, from started_on to ended_on (both included)."""

    trade_id: int
    started_on: dt.date
    ended_on: dt.date | None = None


@dataclass(frozen=True)
class TradeFact:
    id: int
    name: str
    underground: bool
    special_operations: tuple[tuple[int, str], ...] = ()  # (id, name)


@dataclass(frozen=True)
class WorkerFacts:
    id: int
    employee_no: str
    category: str
    hire_date: dt.date
    underground_start: dt.date | None = None
    appointed_on: dt.date | None = None
    # Worker.status, only when judging today: a past date cannot know a status that has no history.
    status: str | None = None
    trades: tuple[WorkerTradeFact, ...] = ()
    certificates: tuple[CertificateFact, ...] = ()
    attendances: tuple[AttendanceFact, ...] = ()
    practical_passes: tuple[PracticalPassFact, ...] = ()
    mentorships: tuple[MentorshipFact, ...] = ()
    away_periods: tuple[AwayFact, ...] = ()


# ── verdicts out ──────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Reason:
    """One thing that blocks clearance, in words, with a stable code for machines."""

    code: str
    message: str
    since: dt.date | None = None  # the day the block began, when known


@dataclass(frozen=True)
class Deadline:
    """Something the worker must do by a date; overdue when `due_on` is before the evaluation date."""

    key: str  # stable across runs and trades, e.g. "cert:12:review:2026-05-05"
    kind: str  # review | expiry | review_training | annual_hours | initial_hours | mentoring | manager_assessment
    label: str
    due_on: dt.date
    blocking: bool = True  # False: a reminder only; missing it does not end the clearance


@dataclass(frozen=True)
class Clearance:
    cleared: bool
    reasons: tuple[Reason, ...]
    lapses_on: dt.date | None  # last day cleared unless something is done; None when not cleared or nothing lapses
    deadlines: tuple[Deadline, ...] = field(default=())


@dataclass(frozen=True)
class CertificateState:
    """Where one certificate stands on a date, after replaying its reviews."""

    certificate_id: int
    valid: bool
    valid_until: dt.date | None  # effective, after renewals by review
    review_due: dt.date | None  # the next review not yet passed
    window_opens: dt.date | None
    reason: Reason | None = None
    review_training_hours: Decimal = ZERO  # on record for the coming review
    review_training_needed: Decimal = ZERO


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


def review_interval(cert: CertificateFact, rule: RuleVersion, due: dt.date) -> int:
    """Return the years to the next review: the extended interval only once approved and ≥ 10 years held."""
    first = cert.first_issued_on or cert.issued_on
    if cert.extended_review_approved and last_day_after(first, years=10) <= due:
        return rule.extended_review_interval_years
    return rule.review_interval_years


def certificate_state(
    cert: CertificateFact,
    rule: RuleVersion,
    on: dt.date,
    attendances: tuple[AttendanceFact, ...] = (),
    *,
    check_review_training: bool = True,
) -> CertificateState:
    """
    Replay a certificate's reviews up to `on`. A passed review in the window
    before the due date moves the next due date on by the interval (and renews
    the validity when the due date is the expiry); a review missed, failed more
    often than allowed, or passed without the review training on record makes
    the certificate invalid.
    """
    valid_until = cert.valid_until or last_day_after(cert.issued_on, years=rule.certificate_valid_years)
    due = cert.next_review_due or last_day_after(cert.issued_on, years=rule.review_interval_years)
    due = min(due, valid_until)
    window = dt.timedelta(days=rule.review_window_days)
    cycle_start = cert.issued_on
    failures = 0

    def invalid(code: str, message: str, since: dt.date) -> CertificateState:
        return CertificateState(cert.id, False, valid_until, due, due - window, Reason(code, message, since))

    if cert.revoked:
        return invalid("certificate_revoked", _("Certificate %(no)s is revoked.") % {"no": cert.number}, cert.issued_on)

    for review in sorted((r for r in cert.reviews if r.reviewed_on <= on), key=lambda r: (r.reviewed_on, r.id)):
        if review.reviewed_on > due:
            break  # too late: the review was missed; see below
        if review.reviewed_on < due - window:
            continue  # before the window opened: it does not count for this cycle
        if not review.passed:
            failures += 1
            if failures > rule.review_failures_allowed:
                return invalid(
                    "review_failed",
                    _("Certificate %(no)s failed its review twice (last on %(date)s) and is invalid.")
                    % {"no": cert.number, "date": review.reviewed_on},
                    review.reviewed_on,
                )
            continue
        hours = max(review.training_hours, _review_hours(attendances, after=cycle_start, until=review.reviewed_on))
        if check_review_training and hours < rule.review_training_hours:
            return invalid(
                "review_training_missing",
                _(
                    "The review of certificate %(no)s on %(date)s does not count: "
                    "%(have)s of %(need)s review-training hours on record."
                )
                % {
                    "no": cert.number,
                    "date": review.reviewed_on,
                    "have": _hours(hours),
                    "need": _hours(rule.review_training_hours),
                },
                review.reviewed_on,
            )
        failures = 0
        cycle_start = review.reviewed_on
        if due >= valid_until:
            # A review at the end of the validity renews the certificate (延期换证).
            valid_until = last_day_after(valid_until + dt.timedelta(days=1), years=rule.certificate_valid_years)
        due = min(last_day_after(due + dt.timedelta(days=1), years=review_interval(cert, rule, due)), valid_until)

    if on > due:
        if due >= valid_until:
            return invalid(
                "certificate_expired",
                _("Certificate %(no)s expired on %(date)s.") % {"no": cert.number, "date": valid_until},
                valid_until + dt.timedelta(days=1),
            )
        return invalid(
            "review_missed",
            _("Certificate %(no)s missed its review due on %(date)s and is invalid.")
            % {"no": cert.number, "date": due},
            due + dt.timedelta(days=1),
        )
    hours = _review_hours(attendances, after=cycle_start, until=on)
    return CertificateState(
        cert.id,
        True,
        valid_until,
        due,
        due - window,
        review_training_hours=hours,
        review_training_needed=rule.review_training_hours,
    )


def _review_hours(attendances: tuple[AttendanceFact, ...], *, after: dt.date, until: dt.date) -> Decimal:
    return sum((a.hours for a in attendances if a.kind == REVIEW and after < a.end <= until), ZERO)


def _is_recent(start: dt.date, on: dt.date) -> bool:
    """Return True while `start` lies within the first NEW_IN_POST_MONTHS months before `on`."""
    return on <= last_day_after(start, months=NEW_IN_POST_MONTHS)


def _months_between_at_least(start: dt.date, end: dt.date, months: int) -> bool:
    """Return True when the period start…end (both days included) lasts at least `months` months."""
    return last_day_after(start, months=months) <= end


def evaluate(worker: WorkerFacts, trade: TradeFact, on: dt.date, rules: tuple[RuleVersion, ...] = ()) -> Clearance:
    """Decide whether `worker` is cleared to work `trade` alone on `on`, with every blocking reason."""
    rule = rule_in_force(rules, category=worker.category, trade_id=trade.id, on=on)
    first_rule_day = rules_start(rules)
    reasons: list[Reason] = []
    deadlines: list[Deadline] = []
    attendances = tuple(a for a in worker.attendances if a.end <= on)

    # Employment and the trade itself.
    if worker.hire_date > on:
        reasons.append(
            Reason("not_hired", _("Not yet hired on this date (hired %(date)s).") % {"date": worker.hire_date})
        )
    if worker.status == "left":
        reasons.append(Reason("left", _("Has left the mine.")))
    held = [t for t in worker.trades if t.trade_id == trade.id and t.started_on <= on]
    current = [t for t in held if t.ended_on is None or t.ended_on >= on]
    if not current:
        reasons.append(Reason("trade_not_held", _("Does not hold the trade %(trade)s.") % {"trade": trade.name}))
    else:
        held_trade = max(current, key=lambda t: t.started_on)
        earlier_trades = [t for t in worker.trades if t.trade_id != trade.id and t.started_on < held_trade.started_on]
        if earlier_trades and held_trade.started_on >= first_rule_day and _is_recent(held_trade.started_on, on):
            # Changed trade: retraining around the change counts (from a year before it on).
            since = add_months(held_trade.started_on, -rule.away_retrain_months, short_month="roll")
            if not any(a.kind in RETRAINING_KINDS and a.end >= since and a.hours > 0 for a in attendances):
                reasons.append(
                    Reason(
                        "transfer_training_missing",
                        _("Changed trade on %(date)s: job-transfer training is not on record.")
                        % {"date": held_trade.started_on},
                        held_trade.started_on,
                    )
                )

    # Away from post.
    away_now = [p for p in worker.away_periods if p.start <= on and (p.end is None or p.end >= on)]
    if away_now:
        start = min(p.start for p in away_now)
        reasons.append(Reason("away", _("Away from post since %(date)s.") % {"date": start}, start))
    elif worker.status == "away":
        reasons.append(Reason("away", _("Marked as away from post.")))
    for period in sorted((p for p in worker.away_periods if p.end is not None and p.end < on), key=lambda p: p.start):
        if trade.special_operations and _months_between_at_least(period.start, period.end, rule.away_practical_months):
            for op_id, op_name in trade.special_operations:
                if not any(
                    p.special_operation_id == op_id and period.start <= p.held_on <= on for p in worker.practical_passes
                ):
                    reasons.append(
                        Reason(
                            "practical_exam_required",
                            _("Away from %(start)s to %(end)s: must pass the %(op)s practical exam again.")
                            % {"start": period.start, "end": period.end, "op": op_name},
                            period.end + dt.timedelta(days=1),
                        )
                    )
        if _months_between_at_least(period.start, period.end, rule.away_retrain_months) and not any(
            a.kind in RETRAINING_KINDS and a.end >= period.start and a.hours > 0 for a in attendances
        ):
            reasons.append(
                Reason(
                    "return_training_missing",
                    _("Away from %(start)s to %(end)s: return-to-post retraining is not on record.")
                    % {"start": period.start, "end": period.end},
                    period.end + dt.timedelta(days=1),
                )
            )

    _check_hours(worker, trade, rules, rule, first_rule_day, attendances, on, reasons, deadlines)
    _check_certificates(worker, trade, rule, attendances, on, reasons, deadlines)
    _check_mentoring(worker, trade, rule, first_rule_day, on, reasons, deadlines)
    _check_manager(worker, rule, on, reasons, deadlines)

    cleared = not reasons
    upcoming = [d.due_on for d in deadlines if d.due_on >= on and d.blocking]
    return Clearance(
        cleared=cleared,
        reasons=tuple(reasons),
        lapses_on=min(upcoming) if cleared and upcoming else None,
        deadlines=tuple(sorted(deadlines, key=lambda d: (d.due_on, d.key))),
    )


def _check_hours(worker, trade, rules, rule, first_rule_day, attendances, on, reasons, deadlines) -> None:
    # Initial training, for hires the rules cover.
    if worker.hire_date >= first_rule_day and worker.hire_date <= on and _is_recent(worker.hire_date, on):
        initial_rule = rule_in_force(rules, category=worker.category, trade_id=trade.id, on=worker.hire_date)
        have = sum((a.hours for a in attendances if a.kind == PRE_JOB), ZERO)
        if have < initial_rule.initial_hours:
            reasons.append(
                Reason(
                    "initial_hours",
                    _("Initial training: %(have)s of %(need)s hours on record.")
                    % {"have": _hours(have), "need": _hours(initial_rule.initial_hours)},
                    worker.hire_date,
                )
            )
            deadlines.append(
                Deadline(f"w{worker.id}:initial", "initial_hours", _("Initial training hours"), worker.hire_date)
            )

    # Annual retraining: last calendar year must be complete; this year's is due on 31 December.
    last_year = on.year - 1
    year_start = dt.date(last_year, 1, 1)
    if (
        worker.hire_date < year_start
        and dt.date(last_year, 12, 31) >= first_rule_day
        and not _away_most_of(worker, last_year)
    ):
        need = annual_hours_required(rules, category=worker.category, trade_id=trade.id, on=dt.date(last_year, 12, 31))
        have = _annual_hours(attendances, last_year)
        if have < need:
            reasons.append(
                Reason(
                    "annual_hours",
                    _("Annual retraining %(year)s: %(have)s of %(need)s hours.")
                    % {"year": last_year, "have": _hours(have), "need": _hours(need)},
                    dt.date(on.year, 1, 1),
                )
            )
            deadlines.append(
                Deadline(
                    f"w{worker.id}:annual:{last_year}",
                    "annual_hours",
                    _("Annual retraining %(year)s") % {"year": last_year},
                    dt.date(last_year, 12, 31),
                )
            )
    if worker.hire_date.year < on.year:
        have = _annual_hours(attendances, on.year)
        need = annual_hours_required(rules, category=worker.category, trade_id=trade.id, on=on)
        if have < need:
            deadlines.append(
                Deadline(
                    f"w{worker.id}:annual:{on.year}",
                    "annual_hours",
                    _("Annual retraining %(year)s: %(have)s of %(need)s hours")
                    % {"year": on.year, "have": _hours(have), "need": _hours(need)},
                    dt.date(on.year, 12, 31),
                )
            )


def counts_as_annual_retraining(kind: str, end: dt.date, year: int) -> bool:
    """
    Whether a class's hours count toward a year's annual retraining: an
    annual-retraining class that ends in that year. measures.annual_hours_q
    is the same rule in SQL.
    """
    return kind in ANNUAL_KINDS and end.year == year


def _annual_hours(attendances, year: int) -> Decimal:
    return sum((a.hours for a in attendances if counts_as_annual_retraining(a.kind, a.end, year)), ZERO)


def _away_most_of(worker: WorkerFacts, year: int) -> bool:
    """Return True when the worker was away for more than half of a calendar year (no retraining was possible)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    days = 0
    for period in worker.away_periods:
        start, end = max(period.start, first), min(period.end or last, last)
        if end >= start:
            days += (end - start).days + 1
    return days * 2 > (last - first).days + 1


def _check_certificates(worker, trade, rule, attendances, on, reasons, deadlines) -> None:
    for op_id, op_name in trade.special_operations:
        certs = [
            c
            for c in worker.certificates
            if c.kind == "special_operation" and c.special_operation_id == op_id and c.issued_on <= on
        ]
        if not certs:
            reasons.append(Reason("certificate_missing", _("No %(op)s certificate.") % {"op": op_name}))
            continue
        states = [(certificate_state(c, rule, on, attendances), c) for c in certs]
        valid = [(s, c) for s, c in states if s.valid]
        if not valid:
            state, cert = max(states, key=lambda sc: (sc[1].issued_on, sc[1].id))
            reasons.append(state.reason)
            if state.reason.code == "review_missed":
                deadlines.append(_certificate_deadline(cert, op_name, "review", state.review_due))
            elif state.reason.code == "certificate_expired":
                deadlines.append(_certificate_deadline(cert, op_name, "expiry", state.valid_until))
            continue
        state, cert = max(valid, key=lambda sc: (sc[0].review_due, sc[0].valid_until, sc[1].id))
        if state.review_due >= state.valid_until:
            deadlines.append(_certificate_deadline(cert, op_name, "expiry", state.valid_until))
        else:
            deadlines.append(_certificate_deadline(cert, op_name, "review", state.review_due))
        if state.review_training_hours < state.review_training_needed:
            deadlines.append(
                Deadline(
                    f"cert:{cert.id}:review_training:{state.review_due}",
                    "review_training",
                    _("Review training for %(no)s: %(have)s of %(need)s hours")
                    % {
                        "no": cert.number,
                        "have": _hours(state.review_training_hours),
                        "need": _hours(state.review_training_needed),
                    },
                    state.review_due,
                    blocking=False,
                )
            )


def _certificate_deadline(cert, op_name: str, kind: str, due: dt.date) -> Deadline:
    """Return the review or expiry deadline of one certificate."""
    label = (
        _("Certificate %(no)s (%(op)s) review due") if kind == "review" else _("Certificate %(no)s (%(op)s) expires")
    )
    return Deadline(f"cert:{cert.id}:{kind}:{due}", kind, label % {"no": cert.number, "op": op_name}, due)


def _check_mentoring(worker, trade, rule, first_rule_day, on, reasons, deadlines) -> None:
    start = worker.underground_start
    if not trade.underground or start is None or start < first_rule_day or start > on:
        return
    pairs = [m for m in worker.mentorships if m.start <= on and (m.trade_id is None or m.trade_id == trade.id)]
    signed = [m for m in pairs if m.signed_off_on is not None and m.signed_off_on <= on]
    if signed:
        mentorship = max(signed, key=lambda m: m.signed_off_on)
        if not _months_between_at_least(
            mentorship.start, mentorship.signed_off_on - dt.timedelta(days=1), rule.mentoring_months
        ):
            reasons.append(
                Reason(
                    "mentoring_too_short",
                    _("Signed off on %(date)s, before the %(months)s-month mentoring period under %(mentor)s ended.")
                    % {
                        "date": mentorship.signed_off_on,
                        "months": rule.mentoring_months,
                        "mentor": mentorship.mentor_name,
                    },
                    mentorship.signed_off_on,
                )
            )
        return
    if not pairs:
        if _is_recent(start, on):
            reasons.append(
                Reason("mentor_missing", _("New underground worker without a mentor (师带徒) on record."), start)
            )
        return
    mentorship = max(pairs, key=lambda m: m.start)
    reasons.append(
        Reason(
            "mentoring_not_signed_off",
            _("Works under mentor %(mentor)s until signed off (planned end %(date)s).")
            % {"mentor": mentorship.mentor_name, "date": mentorship.planned_end},
            mentorship.start,
        )
    )
    deadlines.append(
        Deadline(
            f"mentorship:{mentorship.id}:signoff",
            "mentoring",
            _("Mentoring sign-off under %(mentor)s") % {"mentor": mentorship.mentor_name},
            mentorship.planned_end,
        )
    )


def _check_manager(worker, rule, on, reasons, deadlines) -> None:
    if worker.category not in MANAGER_CATEGORIES or worker.appointed_on is None or worker.appointed_on > on:
        return
    # The rule is "passed within 6 months of appointment": a pass on record is enough; a
    # pass's own validity is a reminder (renew it), not a block.
    passed = [c for c in worker.certificates if c.kind == "safety_management" and not c.revoked and c.issued_on <= on]
    deadline = last_day_after(worker.appointed_on, months=rule.manager_assessment_months)
    if passed:
        current = [c for c in passed if c.valid_until is not None and c.valid_until >= on]
        if current and len(current) == len([c for c in passed if c.valid_until is None or c.valid_until >= on]):
            best = max(current, key=lambda c: c.valid_until)
            deadlines.append(
                Deadline(
                    f"cert:{best.id}:expiry:{best.valid_until}",
                    "expiry",
                    _("Safety-management assessment %(no)s expires") % {"no": best.number},
                    best.valid_until,
                    blocking=False,
                )
            )
        return
    key = f"w{worker.id}:manager_assessment:{worker.appointed_on}"
    label = _("Safety-management assessment (appointed %(date)s)") % {"date": worker.appointed_on}
    deadlines.append(Deadline(key, "manager_assessment", label, deadline))
    if on > deadline:
        reasons.append(
            Reason(
                "manager_assessment_missing",
                _("Appointed %(date)s: the safety-management assessment was due by %(due)s and is not passed.")
                % {"date": worker.appointed_on, "due": deadline},
                deadline + dt.timedelta(days=1),
            )
        )
