"""What the progress pages (worker, unit, dashboard) share: the year, the hours rule, percentages, certificates due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, Q

from certifications.models import Certificate
from certifications.ranks import rules

ZERO = Decimal("0")
DEFAULT_ANNUAL_HOURS = Decimal("20")
HOURS_FIELD = DecimalField(max_digits=9, decimal_places=1)


def year_bounds(on: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the calendar year of `on`."""
    return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)


def annual_hours_required(compliance_rules, *, category: str, on: dt.date) -> Decimal:
    """
    Return the annual retraining hours in force on `on` for a personnel category.

    A rule narrowed to the category beats a rule for every category; among
    equals the latest effective date wins. Trade-specific rules are left to
    the clearance engine. 20 hours when no rule exists (docs/domain.md §2).
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


def percent(part, whole) -> int | None:
    """Return part/whole as a whole percentage, or None when there is no whole."""
    if not whole:
        return None
    return round(float(part) / float(whole) * 100)


def step_percent(step: rules.RankStep | None) -> int:
    return round(step.progress * 100) if step is not None else 0


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


def due_q(on: dt.date, days: int, prefix: str = "") -> Q:
    limit = on + dt.timedelta(days=days)
    return Q(**{f"{prefix}next_review_due__lte": limit}) | Q(**{f"{prefix}valid_until__lte": limit})
