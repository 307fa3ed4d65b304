"""
No lost updates (docs/architecture.md, "Versions"): optimistic locking of every record HR edits.

Each such model has a `version` (django-concurrency's AutoIncVersionField): every
save bumps it, and an update whose instance carries an older version than the
row's updates nothing and raises RecordModifiedError instead. The admin's change
forms and editable inlines carry the version they were opened at (signed, in a
hidden input). When someone else saved the record meanwhile, the form is refused
with the fields that differ, theirs against yours, and nothing is written: no
row, no history entry. A save that loses the race after the form was checked is
rolled back whole and answered with the same kind of message, not a server error.

Bulk writes keep the counter honest: `bump` moves the version of rows a bulk
update rewrites, `core.bulk.rows_insert` gives new rows version 1, and
`save(update_fields=...)` lists `VERSION` to bump (the roll-up's flags, soft
delete). The admin site puts VersionedAdminMixin on every admin and inline
(core.admin_site); it does nothing for a model without a version.
"""

from __future__ import annotations

from collections.abc import Iterable

from concurrency.exceptions import RecordModifiedError
from concurrency.fields import AutoIncVersionField
from django import forms
from django.contrib import messages
from django.db import models
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

VERSION = "version"

__all__ = [
    "VERSION",
    "RecordModifiedError",
    "VersionedAdminMixin",
    "bump",
    "is_versioned",
    "version_field",
    "with_version",
]


def version_field() -> AutoIncVersionField:
    """The version column of a model HR edits."""
    return AutoIncVersionField(verbose_name=_("version"), help_text=_("Bumped by every save; a stale form is refused."))


def is_versioned(model: type[models.Model] | models.Model) -> bool:
    return any(isinstance(f, AutoIncVersionField) for f in model._meta.concrete_fields)


def bump(instances: Iterable[models.Model], names: list[str]) -> list[str]:
    """Move the version of rows a bulk update rewrites; return the field names to update, with VERSION."""
    instances = list(instances)
    if not instances or not is_versioned(instances[0]):
        return names
    for obj in instances:
        obj.version = (obj.version or 0) + 1
    return names if VERSION in names else [*names, VERSION]


def with_version(obj: models.Model, names: list[str]) -> list[str]:
    """`update_fields` for a save of `names` that bumps the version too (the save checks it either way)."""
    return [*names, VERSION] if is_versioned(obj) and VERSION not in names else names


# --- the admin ---------------------------------------------------------------------------------------------


def _shown(form: forms.BaseModelForm, name: str, value: object) -> str:
    if value is None or value == "":
        return "—"
    field = form.fields[name]
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    choices = getattr(field, "choices", None)
    if choices is not None and not isinstance(field, forms.ModelChoiceField):
        labels = {str(k): v for k, v in getattr(field, "flatchoices", None) or _flat(choices)}
        return str(labels.get(str(value), value))
    if isinstance(value, (list, tuple, set, models.QuerySet)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _flat(choices):
    for key, label in choices:
        if isinstance(label, (list, tuple)):
            yield from label
        else:
            yield key, label


def conflict_changes(form: forms.BaseModelForm) -> list[str]:
    """'field: theirs → yours' for each field where the record as now stored and the submitted form differ."""
    instance = form.instance
    changes = []
    for name in form.changed_data:
        if name == VERSION or name not in form.fields or not hasattr(form, "cleaned_data"):
            continue
        try:
            model_field = instance._meta.get_field(name)
        except Exception:  # noqa: BLE001 — a form-only field (the reason for change): not part of the record
            continue
        if model_field.many_to_many:
            theirs = list(getattr(instance, name).all()) if instance.pk else []
        else:
            theirs = getattr(instance, name, None)
        yours = form.cleaned_data.get(name)
        label = form.fields[name].label or model_field.verbose_name
        changes.append(
            gettext("%(field)s: theirs %(theirs)s, yours %(yours)s")
            % {"field": label, "theirs": _shown(form, name, theirs), "yours": _shown(form, name, yours)}
        )
    return changes


def conflict_message(form: forms.BaseModelForm) -> str:
    changes = conflict_changes(form)
    text = gettext(
        "Someone else saved this %(model)s while you had it open, so nothing of yours was saved. "
        "Reload the page to see their version, then make your change again."
    ) % {"model": form.instance._meta.verbose_name}
    if changes:
        text += " " + gettext("Changed meanwhile: %(changes)s.") % {"changes": "; ".join(changes)}
    return text


class VersionCheckedForm(forms.BaseModelForm):
    """Refuse a change form opened at an older version than the stored one (no query: the admin just loaded it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if VERSION in self.fields and (self.instance.pk is None or self.instance._state.adding):
            # A new row (an inline's extra row) has no version to check; left enabled, its empty input would
            # count as a change and an untouched extra row would be validated.
            self.fields[VERSION].disabled = True

    def clean(self):
        cleaned = super().clean()
        if (
            VERSION in self.fields
            and self.instance.pk is not None
            and not self.instance._state.adding
            and VERSION in cleaned
            and cleaned[VERSION] != self.instance.version
        ):
            self.add_error(None, conflict_message(self))
        return cleaned


def with_version_check(form_class: type[forms.BaseModelForm]) -> type[forms.BaseModelForm]:
    if issubclass(form_class, VersionCheckedForm):
        return form_class
    return type(form_class.__name__, (VersionCheckedForm, form_class), {"__module__": form_class.__module__})


class VersionedAdminMixin:
    """
    For every ModelAdmin and inline (core.admin_site adds it): the change
    form and editable inline rows carry the version, a stale one is refused with
    what changed meanwhile, and a save that loses the race is rolled back with a
    message.
    """

    def _versioned_form(self, request, obj) -> bool:
        return obj is not None and is_versioned(self.model) and self.has_change_permission(request, obj)

    # ModelAdmin ------------------------------------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != VERSION]
        if self._versioned_form(request, obj) and not getattr(self, "fieldsets", None):
            fields.append(VERSION)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if not self._versioned_form(request, obj) or not fieldsets:
            return fieldsets
        names = {n for _name, options in fieldsets for n in _flatten(options.get("fields", ()))}
        if VERSION not in names:
            title, options = fieldsets[0]
            fieldsets[0] = (title, {**options, "fields": [*options.get("fields", ()), VERSION]})
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and getattr(request, "_kj_history_revert", False) and is_versioned(obj):
            # simple-history's revert form edits an old copy: it is checked against the version stored now.
            obj.version = type(obj)._base_manager.filter(pk=obj.pk).values_list(VERSION, flat=True).first() or 0
        return with_version_check(super().get_form(request, obj, change=change, **kwargs))

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        request._kj_history_revert = True
        return self._conflict_answered(
            request, super().history_form_view, request, object_id, version_id, extra_context
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._conflict_answered(request, super().changeform_view, request, object_id, form_url, extra_context)

    def _conflict_answered(self, request, view, *args):
        try:
            return view(*args)
        except RecordModifiedError as exc:
            # The save lost a race after its form was checked; the view's transaction is rolled back whole.
            target = getattr(exc, "target", None)
            model = target._meta.verbose_name if target is not None else self.model._meta.verbose_name
            messages.error(
                request,
                gettext(
                    "Someone else saved this %(model)s while you were saving it, so nothing of yours was saved. "
                    "Reload the page to see their version, then make your change again."
                )
                % {"model": model},
            )
            return HttpResponseRedirect(request.get_full_path())

    # InlineModelAdmin ------------------------------------------------------------------------------------------

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_version_check(formset.form)
        return formset


def _flatten(fields):
    for name in fields:
        if isinstance(name, (list, tuple)):
            yield from name
        else:
            yield name
