"""What the progress pages (worker, unit, dashboard) share: the year, percentages, certificates due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from certifications.models import Certificate
from certifications.ranks import rules

ZERO = Decimal("0")


def year_bounds(on: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the calendar year of `on`."""
    return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)


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
