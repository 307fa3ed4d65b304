"""
The one door for writes of certificates and their reviews (core/writes.py).
Clearance is computed from them when a page asks, so a write only refreshes
the dashboard's background figures; the roll-up does not read them.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from certifications.models import Certificate, CertificateReview
from core.writes import Door
from training.retention import record_restore, record_soft_delete

CERTIFICATES = Door(
    Certificate,
    service="certifications.clearance.services",
    soft_delete=record_soft_delete,
    restore=record_restore,
)
CERTIFICATE_REVIEWS = Door(
    CertificateReview,
    service="certifications.clearance.services",
    worker=lambda review: review.certificate.worker_id,
)


def certificate_save(certificate: Certificate, *, user: AbstractBaseUser | None, reason: str = "") -> Certificate:
    """Save a certificate as an admin form filled it (validated by the form)."""
    return CERTIFICATES.save(certificate, user=user, reason=reason, validate=False)


def certificate_review_save(
    review: CertificateReview, *, user: AbstractBaseUser | None, reason: str = ""
) -> CertificateReview:
    """Save a certificate's review (复审) as an admin form filled it."""
    return CERTIFICATE_REVIEWS.save(review, user=user, reason=reason, validate=False)
