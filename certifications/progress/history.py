"""
The audit trail: who changed a record, when, what changed and why.

django-simple-history keeps one history row per save of every audited model
(`history = HistoricalRecords()`); HistoryRequestMiddleware fills in the user
for web requests. Services mark their writes with a reason through
`with_reason`; the admin asks for one when a recorded score changes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext

from core.text import person_label
from core.versions import VERSION


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    """
    One saved version of one of a worker's records, with what changed since the version before; or several
    records created (or removed) together in one go — an import, a class's attendance — as one entry.
    """

    at: dt.datetime
    user: str
    kind: str  # "+", "~" or "-"
    model: str
    record: str
    reason: str
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)
    records: tuple[str, ...] = ()  # every record of a grouped entry; `record` is the first

    @property
    def count(self) -> int:
        return len(self.records) or 1


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
# Entries this close together, by the same person, for the same kind of record, with the same reason, were one act.
GROUP_WITHIN = dt.timedelta(minutes=1)
SHOWN_IN_GROUP = 5


def _history_sources(worker):
    """Return (model, filter, the field naming a record) for every audited model holding this worker's records."""
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
        (Worker, {"id": worker.pk}, "name"),
        (Attendance, {"worker_id": worker.pk}, "training_class"),
        (AssessmentResult, {"worker_id": worker.pk}, "assessment"),
        (ComprehensiveReview, {"worker_id": worker.pk}, "rank"),
        (RankRecord, {"worker_id": worker.pk}, "rank"),
        (Certificate, {"worker_id": worker.pk}, "number"),
        (CertificateReview, {"certificate_id__in": certificate_ids}, "certificate"),
        (Honour, {"worker_id": worker.pk}, "title"),
        (Mentorship, {"apprentice_id": worker.pk}, "mentor"),
    ]


class _Labels:
    """Foreign keys shown by what they point to: every id collected first, then one query per model pointed to."""

    def __init__(self):
        self.wanted: dict[type, set] = defaultdict(set)
        self.found: dict[type, dict] = {}

    def want(self, model_field, value) -> None:
        if model_field.is_relation and value is not None:
            self.wanted[model_field.related_model].add(value)

    def load(self) -> None:
        user_model = get_user_model()
        for model, ids in self.wanted.items():
            if model is user_model:
                self.found[model] = {
                    u.pk: person_label(u) for u in model._default_manager.filter(pk__in=ids).select_related("worker")
                }
            else:
                manager = getattr(model, "all_objects", model._default_manager)  # soft-deleted records keep a name
                self.found[model] = {obj.pk: str(obj) for obj in manager.filter(pk__in=ids)}

    def display(self, model_field, value) -> str:
        if value is None or value == "":
            return "—"
        if model_field.is_relation:
            return self.found.get(model_field.related_model, {}).get(value, f"({gettext('removed')})")
        choices = dict(model_field.flatchoices or ())
        if value in choices:
            return str(choices[value])
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if isinstance(value, dict | list):
            return gettext("(details)")
        return str(value)


def worker_history_get(*, worker, limit: int = 200) -> list[HistoryEntry]:
    """
    Return the latest changes to every audited record of one worker, newest first: one query per audited model
    and one per kind of record the changes point to, however long the history.
    """
    labels = _Labels()
    loaded = []
    for model, filters, name_field in _history_sources(worker):
        history_model = model.history.model
        fields = [f for f in history_model._meta.concrete_fields if f.name not in SKIPPED]
        name_of = model._meta.get_field(name_field)
        rows = list(
            history_model.objects.filter(**filters)
            .select_related("history_user__worker")
            .order_by("id", "history_date", "history_id")
        )
        previous: dict[int, object] = {}
        for row in rows:
            before = previous.get(row.id)
            changed = []
            if before is not None:
                for f in fields:
                    old, new = getattr(before, f.attname), getattr(row, f.attname)
                    if old != new:
                        changed.append((f, old, new))
                        labels.want(f, old)
                        labels.want(f, new)
            previous[row.id] = row
            name_value = getattr(row, name_of.attname)
            labels.want(name_of, name_value)
            loaded.append((model, row, name_of, name_value, changed))
    labels.load()

    entries = [
        HistoryEntry(
            at=row.history_date,
            user=person_label(row.history_user) if row.history_user else "",
            kind=row.history_type,
            model=str(model._meta.verbose_name),
            record=labels.display(name_of, name_value),
            reason=row.history_change_reason or "",
            changes=tuple(
                FieldChange(str(f.verbose_name), labels.display(f, old), labels.display(f, new))
                for f, old, new in changed
            ),
        )
        for model, row, name_of, name_value, changed in loaded
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return _grouped(entries)[:limit]


def _grouped(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Fold records created or removed together (same person, kind of record and reason, in a minute) into one."""
    grouped: list[HistoryEntry] = []
    for entry in entries:
        last = grouped[-1] if grouped else None
        if (
            last is not None
            and entry.kind in ("+", "-")
            and (last.kind, last.model, last.user, last.reason) == (entry.kind, entry.model, entry.user, entry.reason)
            and last.at - entry.at <= GROUP_WITHIN
        ):
            grouped[-1] = replace(last, records=(last.records or (last.record,)) + (entry.record,))
        else:
            grouped.append(entry)
    return grouped
