"""Shared by the import meta-tests (issue 12): every admin resource, a row of its export, an import that must fail."""

from __future__ import annotations

import tablib
from django.contrib import admin
from django.utils.encoding import force_str

from tests.test_resources_roundtrip import snapshot


def admin_resources() -> list[type]:
    """Every resource an admin page imports with, found from the admin registry (so a new one is covered)."""
    found = []
    for model_admin in admin.site._registry.values():
        for resource in getattr(model_admin, "resource_classes", None) or ():
            if resource not in found:
                found.append(resource)
    return found


def column(resource, name: str) -> str:
    return force_str(resource.fields[name].column_name)


def exported_rows(resource_class) -> tuple[list[str], list[dict]]:
    """The resource's export as headers and one dict per row (column name → text)."""
    dataset = resource_class().export()
    return list(dataset.headers), [dict(zip(dataset.headers, row, strict=True)) for row in dataset]


def dataset_of(headers, rows) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append([row.get(h) for h in headers])
    return dataset


def import_refused(resource_class, headers, rows):
    """Import rows as the admin's confirm does; assert a row error (no raw exception), nothing written."""
    model = resource_class._meta.model
    before = snapshot(model)
    result = resource_class().import_data(
        dataset_of(headers, rows), dry_run=False, rollback_on_validation_errors=True, raise_errors=False
    )
    raw = [str(e.error) for _n, errors in result.row_errors() for e in errors] + [
        str(e.error) for e in result.base_errors
    ]
    assert not raw, f"{resource_class.__name__}: a raw error reached the page: {raw}"
    assert result.has_validation_errors(), f"{resource_class.__name__}: the row was accepted"
    assert snapshot(model) == before, f"{resource_class.__name__}: something was written"
    return result.invalid_rows


def messages_of(invalid_row) -> list[str]:
    return [message for messages in invalid_row.error_dict.values() for message in messages]
