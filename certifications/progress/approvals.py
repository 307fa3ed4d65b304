"""
The approval page: the rank awards waiting for HR, each requirement in the
words of the worker page, its evidence as links to the records it rests on.
A fixed number of queries, however many awards are pending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.urls import reverse
from django.utils.translation import gettext as _

from certifications.models import AssessmentResult, ComprehensiveReview, RankRecord
from certifications.ranks import rules
from certifications.ranks.inputs import pending_awards
from certifications.ranks.services import award_met_on
from certifications.ranks.wording import number, requirement_text
from core.dates import stored_date
from training.models import Attendance


@dataclass(frozen=True)
class EvidenceLink:
    """One record an award rests on, in words; `url` is None when the user may not open it."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class RequirementWords:
    text: str
    links: tuple[EvidenceLink, ...] = ()


@dataclass
class PendingAward:
    record: RankRecord
    held_from: dt.date | None  # the date the award will carry: when its last requirement was met
    requirements: list[RequirementWords] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """Every requirement on one line, e.g. "Theory exam 82 ≥ 60 ✓ · Practical exam 76 ≥ 60 ✓"."""
        return " · ".join(r.text for r in self.requirements)


def _decimal(value):
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value  # a word ("passed", a rank name): shown as it is


def requirement_from_snapshot(item: dict) -> rules.Requirement:
    """Return the engine's requirement as the award froze it (RankRecord.evidence["requirements"])."""
    met_on = item.get("met_on")
    kind = rules.Kind(item.get("kind", rules.Kind.RULES))
    label = item.get("label", "")
    if kind == rules.Kind.LADDER and item.get("required"):
        # Frozen already formatted in the language of the moment it was proposed: say it again in today's.
        label = _("Holds %(rank)s") % {"rank": item["required"]}
    return rules.Requirement(
        kind=kind,
        status=rules.Status(item.get("status", rules.Status.MET)),
        label=label,
        required=_decimal(item.get("required")),
        actual=_decimal(item.get("actual")),
        detail=item.get("detail", ""),
        evidence=tuple(item.get("evidence", ())),
        met_on=stored_date(met_on) if met_on else None,
        course_code=item.get("course_code"),
    )


def _keys(records: list[RankRecord]) -> list[str]:
    """The evidence keys ("result:12", "attendance:7", …) every requirement of these awards rests on."""
    return [
        evidence
        for record in records
        for item in (record.evidence or {}).get("requirements", ())
        for evidence in item.get("evidence", ())
    ]


def _ids(keys, kind: str) -> set[int]:
    ids = set()
    for evidence in keys:
        prefix, _sep, pk = evidence.partition(":")
        if prefix == kind and pk.isdigit():
            ids.add(int(pk))
    return ids


def evidence_links(keys, *, user) -> _Evidence:
    """The records behind these evidence keys as words, linked where the user may open them: one query per kind."""
    return _Evidence(list(keys), user)


class _Evidence:
    """The records evidence keys name, loaded in one query per kind, as links (never ids)."""

    def __init__(self, keys: list[str], user):
        def may_view(app_model: str) -> bool:
            app, model = app_model.split(".")
            return user is not None and (user.has_perm(f"{app}.view_{model}") or user.has_perm(f"{app}.change_{model}"))

        self.links: dict[str, EvidenceLink] = {}
        results_url = may_view("certifications.assessmentresult")
        for result in AssessmentResult.all_objects.filter(pk__in=_ids(keys, "result")).select_related("assessment"):
            text = _("%(name)s on %(date)s: %(score)s") % {
                "name": result.assessment.name,
                "date": result.assessment.held_on.isoformat(),
                "score": _("absent") if result.absent else number(result.score),
            }
            if result.attempt > 1:
                text = _("%(outcome)s (re-sit %(n)s)") % {"outcome": text, "n": result.attempt - 1}
            url = reverse("admin:certifications_assessmentresult_change", args=[result.pk]) if results_url else None
            self.links[f"result:{result.pk}"] = EvidenceLink(text, url)
        classes_url = may_view("training.trainingclass")
        for attendance in Attendance.objects.filter(pk__in=_ids(keys, "attendance")).select_related("training_class"):
            tc = attendance.training_class
            text = _("%(class)s (%(start)s – %(end)s), %(hours)s hours") % {
                "class": tc.name,
                "start": tc.start.isoformat(),
                "end": tc.end.isoformat(),
                "hours": number(attendance.theory_hours + attendance.practical_hours),
            }
            url = reverse("admin:training_trainingclass_change", args=[tc.pk]) if classes_url else None
            self.links[f"attendance:{attendance.pk}"] = EvidenceLink(text, url)
        reviews_url = may_view("certifications.comprehensivereview")
        for review in ComprehensiveReview.objects.filter(pk__in=_ids(keys, "review")):
            text = _("Comprehensive review on %(date)s: %(outcome)s") % {
                "date": review.held_on.isoformat(),
                "outcome": _("passed") if review.passed else _("not passed"),
            }
            url = reverse("admin:certifications_comprehensivereview_change", args=[review.pk]) if reviews_url else None
            self.links[f"review:{review.pk}"] = EvidenceLink(text, url)
        records_url = may_view("certifications.rankrecord")
        for held in RankRecord.all_objects.filter(pk__in=_ids(keys, "rank_record")).select_related("rank"):
            text = _("%(rank)s held since %(date)s") % {
                "rank": held.rank.name,
                "date": held.awarded_on.isoformat() if held.awarded_on else "—",
            }
            url = reverse("admin:certifications_rankrecord_change", args=[held.pk]) if records_url else None
            self.links[f"rank_record:{held.pk}"] = EvidenceLink(text, url)

    def of(self, evidence: tuple[str, ...]) -> tuple[EvidenceLink, ...]:
        # A record deleted since the award was proposed is said so, never shown as an id.
        return tuple(self.links.get(e) or EvidenceLink(_("a record deleted since")) for e in evidence)


def award_words(records: list[RankRecord], *, user) -> list[PendingAward]:
    """Return each award with its requirements in words and its evidence as links (one query per evidence kind)."""
    evidence = _Evidence(_keys(records), user)
    awards = []
    for record in records:
        snapshot = record.evidence or {}
        requirements = [requirement_from_snapshot(item) for item in snapshot.get("requirements", ())]
        awards.append(
            PendingAward(
                record=record,
                held_from=award_met_on(record),
                requirements=[RequirementWords(requirement_text(r), evidence.of(r.evidence)) for r in requirements],
            )
        )
    return awards


def pending_awards_queryset(*, unit_ids: set[int] | None = None, record_ids: list[int] | None = None):
    """Return the awards waiting for HR (of these units' workers, or these awards only, if given), oldest first."""
    records = pending_awards()
    if unit_ids is not None:
        records = records.filter(worker__unit_id__in=unit_ids)
    if record_ids is not None:
        records = records.filter(pk__in=record_ids)
    return records
