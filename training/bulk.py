"""Fast inserts of plain rows, for the synthetic load and the roll-up's awards."""

import json

from django.db import connection

BATCH = 5000


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


def rows_insert(model, rows: list[dict], *, batch: int = BATCH) -> int:
    """
    Insert plain rows (attname → value) with one executemany per batch and
    return how many. bulk_create spends most of its time building model
    instances and SQL for each row, which tens of thousands of plain rows do not
    need. Columns not named get the field's default; nothing is validated, so
    callers pass rows that already satisfy the model's rules.
    """
    if not rows:
        return 0
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.name not in rows[0] and f.attname not in rows[0])]
    adapters = [_adapter(f) for f in fields]
    defaults = [f.get_default() if f.has_default() or f.null or f.blank else None for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    names = [f.attname for f in fields]
    columns_of = list(zip(names, adapters, defaults, strict=True))

    def values(row):
        return tuple(
            (row[name] if name in row else default) if adapt is None else adapt(row[name] if name in row else default)
            for name, adapt, default in columns_of
        )

    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, [values(row) for row in rows[start : start + batch]])
    return len(rows)
