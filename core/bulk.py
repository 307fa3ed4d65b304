"""Fast inserts of plain rows, for the synthetic load, the roll-up's awards and the results import."""

import gc
import json
from contextlib import contextmanager

from concurrency.fields import VersionField
from django.db import connection

BATCH = 5000


@contextmanager
def gc_paused():
    """
    Pause Python's cyclic garbage collector while bulk code builds a mine's
    worth of plain rows (tuples, dicts, strings: no reference cycles). Left on,
    it runs a full collection over the growing heap again and again: a quarter
    of the roll-up's time at 20,000 workers. Memory is still freed as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class JsonText(str):
    """A JSON value already serialised: written as it is (a row and its history row share one dump)."""


def _adapter(field):
    kind = field.get_internal_type()
    if kind == "DecimalField":
        return lambda v: None if v is None else str(v)
    if kind == "DateField":
        return lambda v: None if v is None else v.isoformat()
    if kind == "DateTimeField":
        adapted = {}  # the rows of one insert usually share a timestamp
        adapt = connection.ops.adapt_datetimefield_value

        def datetime_adapter(v):
            try:
                return adapted[v]
            except KeyError:
                found = adapted[v] = adapt(v)
                return found

        return datetime_adapter
    if kind == "JSONField":
        return lambda v: str(v) if isinstance(v, JsonText) else json.dumps(v, ensure_ascii=False)
    return None  # written as it is


def rows_insert(model, rows: list[dict], *, batch: int = BATCH, columnar: bool = False) -> int:
    """
    Insert plain rows (attname → value) with one executemany per batch and
    return how many. bulk_create spends most of its time building model
    instances and SQL for each row, which tens of thousands of plain rows do not
    need. Columns not named get the field's default; nothing is validated, so
    callers pass rows that already satisfy the model's rules. With columnar=True,
    PostgreSQL gets all rows in one INSERT … SELECT FROM unnest(arrays).
    """
    if not rows:
        return 0
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.name not in rows[0] and f.attname not in rows[0])
    ]
    adapters = [_adapter(f) for f in fields]
    # A version column (core.versions) starts at 1, as a save would set it.
    defaults = [
        1 if isinstance(f, VersionField) else f.get_default() if f.has_default() or f.null or f.blank else None
        for f in fields
    ]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    names = [f.attname for f in fields]
    columns_of = list(zip(names, adapters, defaults, strict=True))

    def values(row):
        return tuple(
            row.get(name, default) if adapt is None else adapt(row.get(name, default))
            for name, adapt, default in columns_of
        )

    with connection.cursor() as cursor:
        if columnar and connection.vendor == "postgresql":
            # One statement with an array per column: PostgreSQL runs an executemany as one INSERT per row.
            arrays = [list(column) for column in zip(*(values(row) for row in rows), strict=True)]
            casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({casts})", arrays)
            return len(rows)
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, [values(row) for row in rows[start : start + batch]])
    return len(rows)


def history_copy(model, *, after_id: int, marker: dict, user_id, reason: str, date) -> int:
    """
    Write one simple-history "created" row for each row of `model` with an id
    above `after_id` whose columns equal `marker`, in one INSERT … SELECT, and
    return how many. The rows are copied by the database, so a large import's
    history costs one statement instead of a model instance and an INSERT
    parameter set per row.
    """
    history = model.history.model
    own = {f.attname: f for f in model._meta.concrete_fields}
    copied = [f for f in history._meta.concrete_fields if f.attname in own]
    extra = ("history_date", "history_change_reason", "history_type", "history_user_id")
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in copied] + [quote(history._meta.get_field(name).column) for name in extra]
    select = [quote(own[f.attname].column) for f in copied] + ["%s"] * len(extra)
    where = [f"{quote(model._meta.pk.column)} > %s"]
    params = [connection.ops.adapt_datetimefield_value(date), reason, "+", user_id, after_id]
    for name, value in marker.items():
        if value is None:
            where.append(f"{quote(own[name].column)} IS NULL")
            continue
        where.append(f"{quote(own[name].column)} = %s")
        adapt = _adapter(own[name])
        params.append(adapt(value) if adapt else value)
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(select)} FROM {quote(model._meta.db_table)} WHERE {' AND '.join(where)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
