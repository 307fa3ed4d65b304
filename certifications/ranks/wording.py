"""
The requirement wording: what a rank requirement says in plain words
("Theory 78 ≥ 60 ✓", "实操 55 < 60 ✗ — one re-sit left").
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certifications.ranks import rules

ZERO = Decimal("0")

SYMBOLS = {rules.Status.MET: "✓", rules.Status.UNMET: "✗", rules.Status.PENDING: "◐"}


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
    if requirement.actual in (None, "") and not requirement.evidence:  # never sat: the first attempt is ahead
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
