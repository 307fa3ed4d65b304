"""
Soft delete for records under legal retention (docs/domain.md §2: 3 years, 6 for
special-operation staff).

`objects` returns live rows only, so the roll-up, clearance, progress pages and
exports never count a deleted record without thinking about it. `all_objects`
returns every row, for HR's "deleted" view in the admin and for restores.
Forward foreign keys (`result.worker`) go through Django's plain base manager,
so a live record whose worker was soft-deleted still resolves it. Reverse
relations (`worker.results`) follow `objects`: live rows only.

Soft-deleted rows keep their values. Field-level `unique=True` (e.g. the
employee number) is still checked against every row, so a restore always fits
back; unique constraints on the soft-deletable records carry
`deleted_at IS NULL` in their condition, so a record deleted by mistake can be
entered again.
"""

import contextvars

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

_include_deleted = contextvars.ContextVar("kuangjiang_include_deleted", default=False)


class SoftDeleteQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)

    def delete(self):
        # A bulk delete would skip the retention check: go through training.retention instead.
        from training.retention import assert_purgeable

        for instance in self:
            assert_purgeable(instance)
        return super().delete()

    delete.queryset_only = True


class LiveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Return live (not soft-deleted) rows."""

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if _include_deleted.get() else queryset.filter(deleted_at__isnull=True)


class AllRowsManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Return every row, soft-deleted or not."""


class SoftDeletable(models.Model):
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delete_reason = models.CharField(_("reason for deletion"), max_length=300, blank=True, editable=False)

    # Declared first, so it is the default manager.
    objects = LiveManager()
    all_objects = AllRowsManager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, *args, **kwargs):
        # Records under retention are never removed outright: see training.retention.record_soft_delete.
        from training.retention import assert_purgeable

        assert_purgeable(self)
        return super().delete(*args, **kwargs)

    def _perform_unique_checks(self, unique_checks):
        # Soft-deleted rows still hold their unique values (a restore must fit back).
        token = _include_deleted.set(True)
        try:
            return super()._perform_unique_checks(unique_checks)
        finally:
            _include_deleted.reset(token)
