"""
Background jobs: the training ledger export for large mines, with progress for
the page that started it; the HR dashboard's figures for a large mine.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone
from django_tasks import task

from certifications.spreadsheets.ledger import ledger_export, ledger_filename, mine_name
from training.models import Unit

PROGRESS_TTL = 24 * 3600
FILE_TTL = dt.timedelta(hours=24)


def export_storage():
    """
    Return the private storage for generated exports: never served, shared by
    every worker machine when configured.
    """
    if "private" in settings.STORAGES:
        return storages["private"]
    return FileSystemStorage(location=settings.PRIVATE_UPLOAD_ROOT)


def progress_key(result_id: str) -> str:
    return f"kuangjiang:ledger-export:{result_id}"


def progress_get(result_id: str) -> dict | None:
    return cache.get(progress_key(result_id))


def progress_set(result_id: str, **values) -> None:
    record = cache.get(progress_key(result_id)) or {}
    record.update(values)
    cache.set(progress_key(result_id), record, PROGRESS_TTL)


def export_path(result_id: str) -> str:
    return f"exports/ledger-{result_id}.xlsx"


def exports_clean_up(now=None) -> None:
    """Delete generated ledgers older than a day: they carry personal data."""
    storage = export_storage()
    now = now or timezone.now()
    try:
        _dirs, files = storage.listdir("exports")
    except FileNotFoundError:
        return
    for name in files:
        path = f"exports/{name}"
        try:
            if now - storage.get_modified_time(path) > FILE_TTL:
                storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue


@task(takes_context=True)
def ledger_export_task(context, *, user_id: int, unit_code: str | None = None, year: int | None = None) -> str:
    """Write the ledger for what this user may see into private storage, reporting progress in the cache."""
    result_id = context.task_result.id
    progress_set(result_id, user_id=user_id, state="running", done=0, total=0)
    user = get_user_model().objects.get(pk=user_id)
    unit = Unit.objects.get(code=unit_code) if unit_code else None
    storage = export_storage()
    path = export_path(result_id)
    try:
        import tempfile

        from django.core.files.base import File

        with tempfile.TemporaryFile() as buffer:
            ledger_export(
                buffer,
                unit=unit,
                year=year,
                user=user,
                progress=lambda done, total: progress_set(result_id, done=done, total=total),
            )
            buffer.seek(0)
            if storage.exists(path):
                storage.delete(path)
            saved = storage.save(path, File(buffer))
    except Exception:
        progress_set(result_id, state="failed")
        raise
    progress_set(
        result_id, state="done", path=saved, filename=ledger_filename(unit.name if unit else mine_name(), year)
    )
    return saved
