"""
Legal retention of training records (docs/domain.md §2: archives are kept at least
3 years, 6 for special-operation staff) and the soft delete that honours it.

Deleting a record in Kuangjiang marks it deleted (who, when, why) and hides it
from `objects`; HR still sees it in the admin and can restore it. A record is
removed from the database only once its retention period has ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import add_years
from core.history import with_reason
from core.ranges import field_problems
from core.versions import with_version

SPECIAL_OPERATION = "special_operation"


@dataclass(frozen=True)
class RetentionYears:
    general: int = 3
    special_operation: int = 6


class RetentionError(ValidationError):
    """Raised when something tries to remove a record that is still under legal retention."""


def retention_ends(
    *, dates: Iterable[dt.date | dt.datetime | None], special_operation: bool, years: RetentionYears
) -> dt.date | None:
    """Return the first day a record may be removed (its latest date plus the retention years); None without a date."""
    known = [value.date() if isinstance(value, dt.datetime) else value for value in dates if value is not None]
    if not known:
        return None
    # The same calendar day, clipped: a record dated 29 February may go on 28 February.
    return add_years(max(known), years.special_operation if special_operation else years.general)


def under_retention(*, ends: dt.date | None, on: dt.date) -> bool:
    """Return True while a record must be kept; a record without any date is kept for good."""
    return ends is None or on < ends


def retention_years() -> RetentionYears:
    """Return the retention periods configured in settings.KUANGJIANG (statutory minimums by default)."""
    config = settings.KUANGJIANG
    return RetentionYears(
        general=int(config.get("RETENTION_YEARS", 3)),
        special_operation=int(config.get("RETENTION_YEARS_SPECIAL_OPERATION", 6)),
    )


def _worker_is_special(worker) -> bool:
    return worker is not None and worker.category == SPECIAL_OPERATION


# For each soft-deletable model: the dates its retention counts from, and whether it concerns special operations.
FACTS: dict[str, Callable[[object], tuple[tuple, bool]]] = {
    "training.worker": lambda o: ((o.hire_date,), _worker_is_special(o)),
    "training.attendance": lambda o: ((o.training_class.end,), _worker_is_special(o.worker)),
    "certifications.assessmentresult": lambda o: (
        (o.assessment.held_on, o.recorded_at),
        _worker_is_special(o.worker) or o.assessment.special_operation_id is not None,
    ),
    "certifications.rankrecord": lambda o: ((o.awarded_on, o.created_at), _worker_is_special(o.worker)),
    "certifications.certificate": lambda o: (
        (o.issued_on, o.valid_until),
        _worker_is_special(o.worker) or o.kind == SPECIAL_OPERATION,
    ),
    "certifications.honour": lambda o: ((o.awarded_on,), _worker_is_special(o.worker)),
}


def record_retention_ends(instance) -> dt.date | None:
    """Return the first day this record may be removed from the database."""
    dates, special = FACTS[instance._meta.label_lower](instance)
    return retention_ends(dates=dates, special_operation=special, years=retention_years())


def assert_purgeable(instance, *, on: dt.date | None = None) -> None:
    """Raise RetentionError unless this record's retention period has ended."""
    on = on or timezone.localdate()
    ends = record_retention_ends(instance)
    if under_retention(ends=ends, on=on):
        raise RetentionError(
            _("%(record)s is under legal retention until %(date)s: it can only be marked deleted.")
            % {"record": instance, "date": ends.isoformat() if ends else _("further notice")},
            code="under_retention",
        )


def _reason_or_error(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")}, code="reason_required")
    return reason


@transaction.atomic
def record_soft_delete(*, instance, user, reason: str):
    """Mark a record deleted by `user` for `reason`; it disappears from live data and stays visible to HR."""
    reason = _reason_or_error(reason)
    # The reason is kept in delete_reason: refused when it does not fit, never cut (issue 12).
    problems = field_problems(type(instance), "delete_reason", reason)
    if problems:
        raise ValidationError({"reason": problems}, code="reason_too_long")
    if instance.deleted_at is not None:
        raise ValidationError(_("%(record)s is already deleted.") % {"record": instance}, code="already_deleted")
    instance.deleted_at = timezone.now()
    instance.deleted_by = user if getattr(user, "is_authenticated", False) else None
    instance.delete_reason = reason
    with_reason(instance, _("Deleted: %(reason)s") % {"reason": reason}, user=user)
    instance.save(update_fields=with_version(instance, ["deleted_at", "deleted_by", "delete_reason"]))
    return instance


@transaction.atomic
def record_restore(*, instance, user, reason: str):
    """Bring a soft-deleted record back into live data, unless a live duplicate took its place."""
    reason = _reason_or_error(reason)
    if instance.deleted_at is None:
        raise ValidationError(_("%(record)s is not deleted.") % {"record": instance}, code="not_deleted")
    instance.deleted_at = None
    instance.deleted_by = None
    instance.delete_reason = ""
    # Live-only unique constraints apply again once the row is live.
    instance.validate_constraints()
    with_reason(instance, _("Restored: %(reason)s") % {"reason": reason}, user=user)
    instance.save(update_fields=with_version(instance, ["deleted_at", "deleted_by", "delete_reason"]))
    return instance


@transaction.atomic
def record_purge(*, instance, user, reason: str) -> None:
    """Remove a soft-deleted record from the database once its retention period has ended."""
    reason = _reason_or_error(reason)
    if instance.deleted_at is None:
        raise ValidationError(
            _("Mark %(record)s deleted before purging it.") % {"record": instance}, code="not_deleted"
        )
    assert_purgeable(instance)
    with_reason(instance, _("Purged after retention: %(reason)s") % {"reason": reason}, user=user)
    instance.delete()
