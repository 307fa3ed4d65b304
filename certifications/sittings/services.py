"""
Writes of appraisal sittings (考核批次): the one door for a sitting and its
roster. Saving a sitting creates (or links and updates) its theory and
practical assessments, with the pass marks of the rule set in force unless HR
gave others; the roster adders put workers on the roster by hand, by unit, from
a class's attendance or from those the roll-up says are ready for the rank.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from certifications.models import HUNDRED, Assessment, AssessmentResult, Sitting, SittingCandidate
from certifications.ranks.services import RESULTS
from certifications.sittings.selectors import sitting_day, sitting_rule_set
from core.writes import Door

# A sitting is not evidence and not on a worker's file: its doors only keep every write to one service.
SITTINGS = Door(Sitting, "certifications.sittings.services", worker=lambda obj: None)
CANDIDATES = Door(SittingCandidate, "certifications.sittings.services", worker=lambda obj: None)

# Special-operation exams pass at 80 of 100 (order 30, docs/domain.md §2); other exams at 60.
SPECIAL_OPERATION_PASS_PERCENT = Decimal("80")
DEFAULT_PASS_PERCENT = Decimal("60")

KINDS = (Assessment.Kind.THEORY, Assessment.Kind.PRACTICAL)
# The assessment fields whose change can undo an award resting on its results (as AssessmentAdmin's).
EVIDENCE_FIELDS = ("kind", "held_on", "trade_id", "rank_id", "full_marks")


def sitting_pass_percents(sitting: Sitting) -> dict[str, Decimal]:
    """Return the pass mark in percent per kind: the rule set in force for a trade × rank, else the defaults."""
    rule_set = sitting_rule_set(sitting)
    if rule_set is not None:
        return {"theory": rule_set.theory_pass_mark, "practical": rule_set.practical_pass_mark}
    percent = SPECIAL_OPERATION_PASS_PERCENT if sitting.special_operation_id else DEFAULT_PASS_PERCENT
    return {"theory": percent, "practical": percent}


def _code_for(sitting: Sitting) -> str:
    day = sitting_day(sitting)
    prefix = f"KP{day:%Y%m%d}-"
    taken = set(Sitting.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _assessment_for(sitting: Sitting, kind: str) -> tuple[Assessment | None, dict]:
    """Return the sitting's assessment of one kind, as it should be now (unsaved), and its stored evidence values."""
    day = getattr(sitting, f"{kind}_on")
    assessment = getattr(sitting, kind)
    if day is None:
        return assessment, {}
    before = {}
    if assessment is None:
        suffix = "-T" if kind == Assessment.Kind.THEORY else "-P"
        assessment = Assessment(code=f"{sitting.code}{suffix}")
    else:
        before = {name: getattr(assessment, name) for name in EVIDENCE_FIELDS}
    label = Assessment.Kind(kind).label
    assessment.name = f"{sitting.name} · {label}"[:200]
    assessment.kind = kind
    assessment.course_id = sitting.course_id
    assessment.trade_id = sitting.trade_id
    assessment.rank_id = sitting.rank_id
    assessment.special_operation_id = sitting.special_operation_id
    assessment.held_on = day
    assessment.venue = sitting.venue
    assessment.full_marks = getattr(sitting, f"{kind}_full_marks")
    assessment.pass_mark = getattr(sitting, f"{kind}_pass_mark")
    return assessment, before


def _has_results(assessment: Assessment) -> bool:
    return AssessmentResult.all_objects.filter(assessment=assessment).exists()


@transaction.atomic
def sitting_save(
    sitting: Sitting,
    *,
    user: AbstractBaseUser | None = None,
    examiners: Iterable[AbstractBaseUser] | None = None,
    reason: str = "",
) -> Sitting:
    """
    Save a sitting and create, link or update its theory and practical
    assessments (one per date given); empty pass marks are taken from the rule
    set in force on the sitting's day, scaled to its full marks. Raise
    ValidationError for bad input, or when a date is removed from an exam that
    has results.
    """
    percents = None
    for kind in KINDS:
        if getattr(sitting, f"{kind}_pass_mark") is None:
            percents = percents or sitting_pass_percents(sitting)
            full = getattr(sitting, f"{kind}_full_marks") or HUNDRED
            setattr(sitting, f"{kind}_pass_mark", (percents[kind] * full / 100).quantize(Decimal("0.1")))
    if not sitting.code:
        sitting.code = _code_for(sitting)
    sitting.full_clean()

    announce: set[int] = set()
    unused: list[Assessment] = []
    for kind in KINDS:
        linked = getattr(sitting, kind)
        if getattr(sitting, f"{kind}_on") is None:
            if linked is not None:
                if _has_results(linked):
                    raise ValidationError(
                        {
                            f"{kind}_on": _("The %(kind)s exam %(code)s has results: it keeps its date.")
                            % {"kind": Assessment.Kind(kind).label, "code": linked.code}
                        }
                    )
                setattr(sitting, kind, None)
                unused.append(linked)
            continue
        if linked is not None and linked.kind != kind:
            raise ValidationError(
                {
                    kind: _("%(code)s is not a %(kind)s assessment.")
                    % {"code": linked.code, "kind": Assessment.Kind(kind).label}
                }
            )
        assessment, before = _assessment_for(sitting, kind)
        try:
            assessment.full_clean()
        except ValidationError as error:
            raise ValidationError(
                {
                    kind: _("The %(kind)s assessment: %(problem)s")
                    % {"kind": Assessment.Kind(kind).label, "problem": " ".join(error.messages)}
                }
            ) from None
        assessment.save()
        setattr(sitting, kind, assessment)
        if before and any(before[name] != getattr(assessment, name) for name in EVIDENCE_FIELDS):
            announce |= set(AssessmentResult.objects.filter(assessment=assessment).values_list("worker_id", flat=True))
    SITTINGS.save(sitting, user=user, reason=reason, validate=False)
    for assessment in unused:
        assessment.delete()  # an exam the sitting no longer holds, with no result
    if examiners is not None:
        sitting.examiners.set(examiners)
    sitting_examiners_sync(sitting)
    if announce:
        # The results stand on an assessment whose date or marks changed: re-evaluate their workers.
        RESULTS.announce(worker_ids=announce, user=user)
    return sitting


def sitting_examiners_sync(sitting: Sitting) -> None:
    """Give the sitting's assessments the sitting's examiners (who may then record their results)."""
    examiners = list(sitting.examiners.all())
    for assessment in (sitting.theory, sitting.practical):
        if assessment is not None:
            assessment.examiners.set(examiners)


@transaction.atomic
def sitting_delete(*, sitting: Sitting, user: AbstractBaseUser | None, reason: str = "") -> None:
    """Delete a sitting without results, its roster and its assessments; refuse one with results."""
    assessments = [a for a in (sitting.theory, sitting.practical) if a is not None]
    if any(_has_results(a) for a in assessments):
        raise ValidationError(_("Sitting %(code)s has results: it stays on record.") % {"code": sitting.code})
    CANDIDATES.delete_many(list(sitting.candidates.all()), user=user, reason=reason or _("Sitting deleted"))
    SITTINGS.delete(sitting, user=user, reason=reason or _("Sitting deleted"))
    for assessment in assessments:
        assessment.delete()


@transaction.atomic
def candidates_add(
    *,
    sitting: Sitting,
    worker_ids: Iterable[int],
    source: str = SittingCandidate.Source.MANUAL,
    user: AbstractBaseUser | None = None,
) -> int:
    """Put workers on the roster (those already on it are left as they are); return how many were added."""
    on_roster = set(SittingCandidate.objects.filter(sitting=sitting).values_list("worker_id", flat=True))
    new = [
        SittingCandidate(sitting=sitting, worker_id=worker_id, source=source)
        for worker_id in sorted(set(worker_ids) - on_roster)
    ]
    reason = SittingCandidate.Source(source).label
    CANDIDATES.save_many(new, user=user, reason=str(reason))
    return len(new)


def candidates_save(
    instances: list[SittingCandidate], *, user: AbstractBaseUser | None = None, reason: str = ""
) -> list[SittingCandidate]:
    """Save roster rows an admin inline filled in (validated by its form)."""
    return CANDIDATES.save_many(instances, user=user, reason=reason)
