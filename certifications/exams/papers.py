"""
Paper rules (组卷): what a template's rules ask of the bank, whether the bank
can satisfy them, and a paper drawn at random per candidate.

A section draws from the active questions of its type that serve the
template's trade × rank (the question lists both) or its course; a question
that lists no trade, rank or course serves no template. The mixes (quotas by
difficulty and/or knowledge point) are filled first, then the rest of the
section from any question of the type; no question appears twice on a paper.
Mixes may overlap (a difficulty-3 question on 供电安全 fits "difficulty 3" and
"供电安全"), so the check is a matching of questions to places, not a count per
mix: what it cannot place is what is missing.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from certifications.models import FixedQuestion, PaperTemplate, Question, QuestionVersion

__all__ = ["QuotaSpec", "SectionSpec", "Shortfall", "draw_paper", "sections_shortfalls", "template_shortfalls"]

Drawn = tuple[QuestionVersion, Decimal, list[str]]


@dataclass(frozen=True)
class Shortfall:
    """One thing the bank cannot give a template: where, what mix, how many needed, available and missing."""

    section: str
    mix: str
    needed: int
    available: int
    missing: int
    words: str

    def __str__(self) -> str:
        return self.words


@dataclass(frozen=True)
class QuotaSpec:
    """A mix as the rules state it (saved, or still in the admin's form)."""

    difficulty: int | None
    knowledge_point: str
    count: int


@dataclass(frozen=True)
class SectionSpec:
    """A section as the rules state it (saved, or still in the admin's form)."""

    order: int
    kind: str
    count: int
    marks_each: Decimal
    quotas: tuple[QuotaSpec, ...] = ()


def template_sections(template: PaperTemplate) -> list[SectionSpec]:
    """Return a saved template's sections with their mixes (2 queries)."""
    return [
        SectionSpec(
            s.order,
            s.kind,
            s.count,
            s.marks_each,
            tuple(QuotaSpec(q.difficulty, q.knowledge_point, q.count) for q in s.quotas.all()),
        )
        for s in template.sections.prefetch_related("quotas").order_by("order", "id")
    ]


@dataclass(frozen=True)
class _Row:
    id: int
    kind: str
    difficulty: int
    knowledge_point: str


@dataclass
class _Place:
    """A group of places on the paper: one mix of a section, or a section's rest (any question of the type)."""

    section_index: int
    section_label: str
    mix_label: str
    count: int
    difficulty: int | None = None
    knowledge_point: str = ""
    is_rest: bool = False
    chosen: list[int] = field(default_factory=list)

    def fits(self, row: _Row) -> bool:
        if self.difficulty is not None and row.difficulty != self.difficulty:
            return False
        return not (self.knowledge_point and row.knowledge_point != self.knowledge_point)


def serving_q(template: PaperTemplate) -> Q | None:
    """Return the filter of the questions that serve a template, or None when it names no trade, rank or course."""
    through_trade, through_rank, through_course = (
        Question.trades.through,
        Question.ranks.through,
        Question.courses.through,
    )
    parts = []
    if template.trade_id or template.rank_id:
        part = Q()
        if template.trade_id:
            part &= Q(id__in=through_trade.objects.filter(trade_id=template.trade_id).values("question_id"))
        if template.rank_id:
            part &= Q(id__in=through_rank.objects.filter(rank_id=template.rank_id).values("question_id"))
        parts.append(part)
    if template.course_id:
        parts.append(Q(id__in=through_course.objects.filter(course_id=template.course_id).values("question_id")))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def _pool(template: PaperTemplate, kinds: set[str]) -> dict[str, list[_Row]]:
    """Return the active questions serving the template, by type (one query)."""
    serving = serving_q(template)
    pool: dict[str, list[_Row]] = defaultdict(list)
    if serving is None or not kinds:
        return pool
    rows = (
        Question.objects.filter(serving, active=True, kind__in=kinds)
        .order_by("id")
        .values_list("id", "kind", "difficulty", "knowledge_point")
    )
    for row in rows:
        pool[row[1]].append(_Row(*row))
    return pool


def _kind_label(kind: str) -> str:
    return str(Question.Kind(kind).label)


def _mix_label(difficulty: int | None, knowledge_point: str) -> str:
    if difficulty is not None and knowledge_point:
        return _("difficulty %(d)s on “%(kp)s”") % {"d": difficulty, "kp": knowledge_point}
    if difficulty is not None:
        return _("difficulty %(d)s") % {"d": difficulty}
    return _("knowledge point “%(kp)s”") % {"kp": knowledge_point}


def _places(sections: list[SectionSpec]) -> tuple[dict[str, list[_Place]], list[Shortfall]]:
    """Return each type's places (mixes first, the most specific first, rests last) and the mixes that overflow."""
    by_kind: dict[str, list[_Place]] = defaultdict(list)
    problems: list[Shortfall] = []
    for index, section in enumerate(sections):
        label = _("section %(n)s (%(kind)s)") % {"n": section.order, "kind": _kind_label(section.kind)}
        quotas = list(section.quotas)
        asked = sum(q.count for q in quotas)
        if asked > section.count:
            words = _(
                "%(section)s: its mixes ask for %(asked)d questions but the section has %(count)d; %(over)d too many."
            ) % {"section": label, "asked": asked, "count": section.count, "over": asked - section.count}
            problems.append(Shortfall(label, _("mix"), asked, section.count, asked - section.count, words))
        for quota in quotas:
            by_kind[section.kind].append(
                _Place(
                    index,
                    label,
                    _mix_label(quota.difficulty, quota.knowledge_point),
                    quota.count,
                    difficulty=quota.difficulty,
                    knowledge_point=quota.knowledge_point,
                )
            )
        rest = max(section.count - asked, 0)
        if rest:
            by_kind[section.kind].append(_Place(index, label, _("any"), rest, is_rest=True))
    for places in by_kind.values():
        # Most specific first, so a broad mix does not take the questions only a narrow one can use.
        places.sort(key=lambda p: (p.is_rest, -((p.difficulty is not None) + bool(p.knowledge_point))))
    return by_kind, problems


def _match(places: list[_Place], rows: list[_Row], rng: random.Random) -> None:
    """
    Fill the places with distinct questions, as many as can be (bipartite matching with augmenting paths):
    a question a mix took may move to another mix it fits so that a narrower mix gets one.
    """
    order = rows[:]
    rng.shuffle(order)
    owner: dict[int, _Place] = {}
    mixes = [p for p in places if not p.is_rest]
    candidates = {id(p): [r for r in order if p.fits(r)] for p in mixes}

    def augment(place: _Place, seen: set[int]) -> bool:
        for row in candidates[id(place)]:
            if row.id in seen:
                continue
            seen.add(row.id)
            holder = owner.get(row.id)
            if holder is None or augment(holder, seen):
                if holder is not None:
                    holder.chosen.remove(row.id)
                owner[row.id] = place
                place.chosen.append(row.id)
                return True
        return False

    for place in mixes:
        # Free questions first (the usual case, no search), then a search that moves questions between mixes.
        free = [r for r in candidates[id(place)] if r.id not in owner]
        for row in free[: place.count]:
            owner[row.id] = place
            place.chosen.append(row.id)
        while len(place.chosen) < place.count and augment(place, set()):
            pass
    free = [r.id for r in order if r.id not in owner]
    for place in places:
        if place.is_rest:
            take, free = free[: place.count], free[place.count :]
            place.chosen.extend(take)


def _shortfalls_of(kind: str, places: list[_Place], rows: list[_Row]) -> list[Shortfall]:
    found = []
    for place in places:
        missing = place.count - len(place.chosen)
        if missing <= 0:
            continue
        available = len(rows) if place.is_rest else sum(1 for r in rows if place.fits(r))
        if place.is_rest:
            words = _(
                "%(section)s: %(count)d questions from any mix are needed; the bank has %(available)d active "
                "%(kind)s questions for this paper in all: %(missing)d missing."
            )
        else:
            words = _(
                "%(section)s: %(count)d questions of %(mix)s are needed; the bank has %(available)d "
                "(some may be needed elsewhere on the paper): %(missing)d missing."
            )
        words = words % {
            "section": place.section_label,
            "count": place.count,
            "mix": place.mix_label,
            "available": available,
            "kind": _kind_label(kind),
            "missing": missing,
        }
        found.append(Shortfall(place.section_label, place.mix_label, place.count, available, missing, words))
    return found


def _fixed_shortfalls(template: PaperTemplate) -> list[Shortfall]:
    fixed = list(template.fixed_questions.select_related("question").all())
    label = _("fixed paper")
    if not fixed:
        return [Shortfall(label, "", 1, 0, 1, _("The fixed paper has no questions: add them below."))]
    retired = [f for f in fixed if not f.question.active]
    if not retired:
        return []
    words = _("The fixed paper holds %(n)d retired question(s) (%(which)s): replace them or make them active.") % {
        "n": len(retired),
        "which": ", ".join(f"#{f.question_id}" for f in retired),
    }
    return [Shortfall(label, _("active"), len(fixed), len(fixed) - len(retired), len(retired), words)]


def _plan(
    template: PaperTemplate, sections: list[SectionSpec], rng: random.Random
) -> tuple[dict[str, list[_Place]], list[Shortfall]]:
    by_kind, problems = _places(sections)
    if not by_kind and not problems:
        label = _("paper")
        return by_kind, [Shortfall(label, "", 1, 0, 1, _("The template has no sections: add at least one."))]
    if serving_q(template) is None:
        problems.append(
            Shortfall(
                _("paper"),
                "",
                1,
                0,
                sum(p.count for places in by_kind.values() for p in places),
                _("The template names no trade and rank or course, so no question of the bank serves it."),
            )
        )
        return by_kind, problems
    pool = _pool(template, set(by_kind))
    for kind, places in by_kind.items():
        _match(places, pool.get(kind, []), rng)
        problems.extend(_shortfalls_of(kind, places, pool.get(kind, [])))
    return by_kind, problems


def template_shortfalls(template: PaperTemplate) -> list[Shortfall]:
    """Return what the bank cannot give the template's rules (empty when a paper can be drawn)."""
    if template.fixed:
        return _fixed_shortfalls(template)
    return _plan(template, template_sections(template), random.Random(0))[1]


def sections_shortfalls(template: PaperTemplate, sections: list[SectionSpec]) -> list[Shortfall]:
    """Return what the bank cannot give these sections on this template (the admin checks its form with it)."""
    return _plan(template, sections, random.Random(0))[1]


def _current_versions(question_ids: list[int]) -> dict[int, QuestionVersion]:
    versions: dict[int, QuestionVersion] = {}
    for version in (
        QuestionVersion.objects.filter(question_id__in=question_ids)
        .select_related("question")
        .order_by("question_id", "-number")
    ):
        versions.setdefault(version.question_id, version)
    return versions


def _option_order(version: QuestionVersion, shuffle: bool, rng: random.Random) -> list[str]:
    keys = version.option_keys
    if shuffle:
        rng.shuffle(keys)
    return keys


def draw_paper(template: PaperTemplate, rng: random.Random) -> list[Drawn]:
    """
    Return one candidate's paper: (the question's current version, marks, the option keys as shown), in the
    order shown; raise ValidationError listing the shortfalls when the bank cannot satisfy the template.
    """
    if template.fixed:
        problems = _fixed_shortfalls(template)
        if problems:
            raise ValidationError([str(p) for p in problems])
        fixed = list(FixedQuestion.objects.filter(template=template).order_by("order", "id"))
        versions = _current_versions([f.question_id for f in fixed])
        return [
            (versions[f.question_id], f.marks, _option_order(versions[f.question_id], template.shuffle_options, rng))
            for f in fixed
        ]
    sections = template_sections(template)
    by_kind, problems = _plan(template, sections, rng)
    if problems:
        raise ValidationError([str(p) for p in problems])
    chosen: dict[int, list[int]] = defaultdict(list)
    for places in by_kind.values():
        for place in places:
            chosen[place.section_index].extend(place.chosen)
    versions = _current_versions([qid for ids in chosen.values() for qid in ids])
    paper: list[Drawn] = []
    for index, section in enumerate(sections):
        ids = chosen[index]
        rng.shuffle(ids)  # the mixes are not to be seen in the order of the questions
        for qid in ids:
            version = versions[qid]
            paper.append((version, section.marks_each, _option_order(version, template.shuffle_options, rng)))
    return paper
