"""
The audit trail: who changed a record, when, what changed and why.

django-simple-history keeps one history row per save of every audited model
(`history = HistoricalRecords()`); HistoryRequestMiddleware fills in the user
for web requests. Services mark their writes with a reason through
`with_reason`; the admin asks for one when a recorded score changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.versions import VERSION


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    """One saved version of one of a worker's records, with what changed since the version before."""

    at: dt.datetime
    user: str
    kind: str  # "+", "~" or "-"
    model: str
    record: str
    reason: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)


SKIPPED = {
    "id",
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
    "history_relation",
    VERSION,  # the lock's counter (core/versions.py): moves on every save, not a change HR made
}


def _display(model_field, value) -> str:
    if value is None or value == "":
        return "—"
    choices = dict(model_field.flatchoices or ())
    if value in choices:
        return str(choices[value])
    return str(value)


def _history_sources(worker):
    """Return (model, filter) for every audited model that holds this worker's records."""
    from certifications.models import (
        AssessmentResult,
        Certificate,
        CertificateReview,
        ComprehensiveReview,
        Honour,
        Mentorship,
        RankRecord,
    )
    from training.models import Attendance, Worker

    certificate_ids = Certificate.all_objects.filter(worker=worker).values("id")
    return [
        (Worker, {"id": worker.pk}),
        (Attendance, {"worker_id": worker.pk}),
        (AssessmentResult, {"worker_id": worker.pk}),
        (ComprehensiveReview, {"worker_id": worker.pk}),
        (RankRecord, {"worker_id": worker.pk}),
        (Certificate, {"worker_id": worker.pk}),
        (CertificateReview, {"certificate_id__in": certificate_ids}),
        (Honour, {"worker_id": worker.pk}),
        (Mentorship, {"apprentice_id": worker.pk}),
    ]


def worker_history_get(*, worker, limit: int = 200) -> list[HistoryEntry]:
    """Return the latest changes to every audited record of one worker, newest first, in one query per model."""
    entries: list[HistoryEntry] = []
    for model, filters in _history_sources(worker):
        history_model = model.history.model
        fields = [f for f in history_model._meta.concrete_fields if f.name not in SKIPPED]
        rows = list(
            history_model.objects.filter(**filters)
            .select_related("history_user")
            .order_by("id", "history_date", "history_id")
        )
        previous: dict[int, object] = {}
        for row in rows:
            before = previous.get(row.id)
            changes = ()
            if before is not None:
                changes = tuple(
                    FieldChange(
                        str(f.verbose_name),
                        _display(f, getattr(before, f.attname)),
                        _display(f, getattr(row, f.attname)),
                    )
                    for f in fields
                    if getattr(before, f.attname) != getattr(row, f.attname)
                )
            previous[row.id] = row
            entries.append(
                HistoryEntry(
                    at=row.history_date,
                    user=row.history_user.get_username() if row.history_user else "",
                    kind=row.history_type,
                    model=str(model._meta.verbose_name),
                    record=f"#{row.id}",
                    reason=row.history_change_reason or "",
                    changes=changes,
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
