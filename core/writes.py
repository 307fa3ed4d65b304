"""
One door per write (docs/architecture.md, "Writes").

The records the roll-up rests on (assessment results, attendance, comprehensive
reviews) and the records on a worker's file that the pages count (rank records,
certificates and their reviews) are written only through their concern's
door: training/services.py for attendance, certifications/ranks/services.py
for results, reviews and rank records, certifications/clearance/services.py
for certificates. Every route (the admin's forms and inlines, the generic
spreadsheet import, the results import, the demo loader) calls the door, and
the door does the same thing whatever the route:

- the write carries a reason on the audit trail (django-simple-history);
- for evidence, the awards resting on a corrected or deleted row are flagged
  for HR review and the workers are re-evaluated once, after commit
  (core.signals.evidence_changed; the roll-up listens);
- the dashboard's background figures are refreshed after commit (figures_stale).

Routes that write in bulk (imports) open the door around their own bulk write
and then call `Door.written` (or `Door.announce` with plain ids).
`strict_doors()` turns any save or delete of a door's model outside an open
door into an error: the write-door tests drive every route under it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models.signals import pre_delete, pre_save
from django.utils.translation import gettext as _

from core.history import with_reason
from core.signals import evidence_changed, figures_stale

_open: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("kuangjiang_open_doors", default=frozenset())
_strict: contextvars.ContextVar[bool] = contextvars.ContextVar("kuangjiang_strict_doors", default=False)

# label_lower → the door of that model.
DOORS: dict[str, Door] = {}


class WrittenOutsideDoor(RuntimeError):
    """A door's model was saved or deleted without its service (raised under strict_doors() only)."""


@contextmanager
def strict_doors() -> Iterator[None]:
    """Within this block, a save or delete of a door's model outside its door raises WrittenOutsideDoor."""
    token = _strict.set(True)
    try:
        yield
    finally:
        _strict.reset(token)


def door_of(model: type[models.Model] | models.Model) -> Door | None:
    """Return the door of a model (class or instance), or None if its writes need no door."""
    return DOORS.get(model._meta.label_lower)


def _guard(sender, instance, **kwargs) -> None:
    if _strict.get() and sender._meta.label_lower not in _open.get():
        raise WrittenOutsideDoor(
            f"{sender._meta.label} written outside its service ({DOORS[sender._meta.label_lower].service})"
        )


@dataclass(eq=False)
class Door:
    """
    The one way to write one model. `evidence` names the roll-up's evidence
    kind for rows a rank award can rest on ("results", "attendance",
    "reviews"), "" for records the roll-up only reads (rank records) and None
    for records it does not read at all (certificates). `watched` are the
    fields whose change can undo an award resting on the row.
    """

    model: type[models.Model]
    service: str
    evidence: str | None = None
    watched: frozenset[str] = frozenset()
    worker: Callable[[models.Model], int | None] = field(default=lambda obj: getattr(obj, "worker_id", None))
    # (instance=, user=, reason=) → None; a model without one is deleted outright.
    soft_delete: Callable[..., object] | None = None
    restore: Callable[..., object] | None = None

    def __post_init__(self) -> None:
        label = self.model._meta.label_lower
        DOORS[label] = self
        pre_save.connect(_guard, sender=self.model, dispatch_uid=f"door-save-{label}")
        pre_delete.connect(_guard, sender=self.model, dispatch_uid=f"door-delete-{label}")

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @contextmanager
    def opened(self) -> Iterator[None]:
        """Let the code inside write this model (the services and the bulk routes use it)."""
        token = _open.set(_open.get() | {self.label})
        try:
            yield
        finally:
            _open.reset(token)

    # --- what changed ------------------------------------------------------------------------------------------

    def _tracked(self) -> list[str]:
        names = set(self.watched)
        if any(f.attname == "worker_id" for f in self.model._meta.concrete_fields):
            names.add("worker")
        return sorted(names)

    def snapshot(self, instances: Iterable[models.Model]) -> dict[int, dict[str, object]]:
        """Return the watched values (by attname) of instances as they are now, keyed by pk; no query."""
        attnames = [self.model._meta.get_field(name).attname for name in self._tracked()]
        return {obj.pk: {a: getattr(obj, a) for a in attnames} for obj in instances if obj.pk is not None}

    def stored(self, pks: Iterable[int]) -> dict[int, dict[str, object]]:
        """Return the watched values as stored in the database, keyed by pk (one query)."""
        pks = [pk for pk in pks if pk is not None]
        if not pks:
            return {}
        attnames = [self.model._meta.get_field(name).attname for name in self._tracked()]
        rows = self.model._base_manager.filter(pk__in=pks).values("pk", *attnames)
        return {row.pop("pk"): row for row in rows}

    def _changes(self, obj: models.Model, before: dict[str, object]) -> list[str]:
        changes = []
        for name in sorted(self.watched):
            model_field = self.model._meta.get_field(name)
            old, new = before.get(model_field.attname), getattr(obj, model_field.attname)
            if old != new:
                changes.append(f"{model_field.verbose_name} {_shown(old)} → {_shown(new)}")
        return changes

    # --- writes ------------------------------------------------------------------------------------------------

    @transaction.atomic
    def save(self, instance: models.Model, *, user=None, reason: str = "", validate: bool = True) -> models.Model:
        """Save one row (new or changed) with a reason, then announce it."""
        before = self.stored([instance.pk]) if instance.pk is not None and not instance._state.adding else {}
        if validate:
            instance.full_clean()
        reason = reason or getattr(instance, "_change_reason", "") or ""
        with_reason(instance, reason, user=user)
        with self.opened():
            instance.save()
        self.written(saved=[instance], before=before, user=user, reason=reason)
        return instance

    @transaction.atomic
    def save_many(self, instances: Iterable[models.Model], *, user=None, reason: str = "") -> list[models.Model]:
        """Save several rows (an admin inline's), then announce them once."""
        instances = list(instances)
        before = self.stored(obj.pk for obj in instances if not obj._state.adding)
        with self.opened():
            for obj in instances:
                with_reason(obj, reason or getattr(obj, "_change_reason", "") or "", user=user)
                obj.save()
        self.written(saved=instances, before=before, user=user, reason=reason)
        return instances

    @transaction.atomic
    def delete(self, instance: models.Model, *, user=None, reason: str) -> None:
        """Delete one row (marked deleted where the record is under retention), then announce it."""
        self.delete_many([instance], user=user, reason=reason)

    @transaction.atomic
    def delete_many(self, instances: Iterable[models.Model], *, user=None, reason: str) -> None:
        instances = list(instances)
        with self.opened():
            for obj in instances:
                if self.soft_delete is not None:
                    self.soft_delete(instance=obj, user=user, reason=reason)
                else:
                    with_reason(obj, reason, user=user)
                    obj.delete()
        self.written(deleted=instances, user=user, reason=reason)

    @transaction.atomic
    def restore_one(self, instance: models.Model, *, user=None, reason: str) -> models.Model:
        """Bring a soft-deleted row back, then announce it (the roll-up counts it again)."""
        if self.restore is None:
            raise TypeError(f"{self.model._meta.label} has no soft delete")
        with self.opened():
            self.restore(instance=instance, user=user, reason=reason)
        self.written(saved=[instance], user=user, reason=reason)
        return instance

    # --- effects -----------------------------------------------------------------------------------------------

    def written(
        self,
        *,
        saved: Iterable[models.Model] = (),
        before: dict[int, dict[str, object]] | None = None,
        deleted: Iterable[models.Model] = (),
        user=None,
        reason: str = "",
    ) -> None:
        """
        Announce rows this door just wrote. `before` holds the watched values
        of changed rows as they were (from `stored` or `snapshot`); a row in
        `saved` that is not in it is new.
        """
        before = before or {}
        worker_ids: set[int] = set()
        corrected: list[tuple[int, str, int, str]] = []
        worker_attname = "worker_id"
        for obj in saved:
            if (worker_id := self.worker(obj)) is not None:
                worker_ids.add(worker_id)
            old = before.get(obj.pk)
            if old is None:
                continue
            # Awards rest on the row under the worker it belonged to; a row moved to another worker leaves both.
            old_worker = old.get(worker_attname, self.worker(obj))
            if old_worker is not None:
                worker_ids.add(old_worker)
            changes = self._changes(obj, old)
            if changes and self.evidence:
                text = _("%(model)s #%(id)s corrected (%(changes)s)") % {
                    "model": self.model._meta.verbose_name,
                    "id": obj.pk,
                    "changes": "; ".join(changes),
                }
                corrected.append((old_worker, self.evidence, obj.pk, _reasoned(text, reason or _why(obj))))
        for obj in deleted:
            if (worker_id := self.worker(obj)) is not None:
                worker_ids.add(worker_id)
                if self.evidence:
                    text = _("%(model)s #%(id)s deleted") % {"model": self.model._meta.verbose_name, "id": obj.pk}
                    corrected.append((worker_id, self.evidence, obj.pk, _reasoned(text, reason or _why(obj))))
        self.announce(worker_ids=worker_ids, corrected=corrected, user=user)

    def announce(self, *, worker_ids: Iterable[int], corrected=(), user=None) -> None:
        """Flag and re-evaluate (for what the roll-up reads) and refresh the figures, after commit."""
        worker_ids = set(worker_ids)
        if self.evidence is not None and worker_ids:
            evidence_changed.send(sender=self.model, worker_ids=worker_ids, corrected=list(corrected), user=user)
        if worker_ids:
            transaction.on_commit(lambda: figures_stale.send(sender=self.model))


def _shown(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def _why(obj: models.Model) -> str:
    return getattr(obj, "_change_reason", "") or ""


def _reasoned(text: str, reason: str) -> str:
    reason = (reason or "").strip()
    return f"{text}: {reason}" if reason else text
