"""Row locks that keep concurrent writers of one worker's records in line."""

from django.db import transaction

from training.models import Worker


def workers_lock(*, worker_ids=None, unit_ids=None, worker_range: tuple[int, int] | None = None) -> int:
    """
    Lock the workers in scope (ids, units, an id range with both ends) until
    the current transaction ends, and return how many.

    The roll-up takes this lock before it reads a worker's rank records, so two
    recomputes of the same worker (an assessor's save and a nightly run) queue
    up instead of both awarding the same rank. FOR NO KEY UPDATE does not block
    inserts that merely reference the worker (results, attendance), and locking
    in id order means two overlapping scopes cannot deadlock. SQLite ignores
    it: it serialises writers on its own.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("workers_lock() must run inside transaction.atomic().")
    queryset = Worker.objects.all()
    if worker_range is not None:
        queryset = queryset.filter(pk__gte=worker_range[0], pk__lte=worker_range[1])
    if worker_ids is not None:
        queryset = queryset.filter(pk__in=list(worker_ids))
    if unit_ids is not None:
        queryset = queryset.filter(unit_id__in=list(unit_ids))
    return sum(
        1
        for _pk in queryset.select_for_update(no_key=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=10000)
    )
