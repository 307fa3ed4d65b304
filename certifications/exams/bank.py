"""
The question bank's rules (exams-bank owns this module; this is the minimal
`grade` the exam flow needs until the bank's full module is merged).
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from certifications.models import Question

ZERO = Decimal("0")


def normalise_stem(text: str) -> str:
    """Return text with full-width characters folded, case folded and spaces removed (for comparisons)."""
    return "".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def grade(kind: str, canonical_answer: str, given: str, marks: Decimal, partial: bool) -> Decimal:
    """
    Return the marks an answer earns: all or nothing, except multiple choice with partial marks (marks × correct
    chosen / correct total, none if any wrong choice) and fill-in (any of the "|"-separated accepted answers).
    """
    marks = Decimal(marks)
    given = (given or "").strip()
    if not given:
        return ZERO
    if kind == Question.Kind.FILL:
        accepted = {normalise_stem(a) for a in canonical_answer.split("|") if a.strip()}
        return marks if normalise_stem(given) in accepted else ZERO
    if kind == Question.Kind.MULTIPLE:
        correct, chosen = set(canonical_answer), set(given.upper())
        if chosen == correct:
            return marks
        if not partial or chosen - correct:
            return ZERO
        return (marks * len(chosen) / len(correct)).quantize(Decimal("0.1"))
    return marks if given.upper() == canonical_answer.upper() else ZERO
