"""
Bad input in the admin gets an answer, never a server error: a non-numeric or
out-of-range id in a related field gets the field's error, and a
date-hierarchy year, month or day no date can hold gets Django's answer to a
bad lookup. The admin site (core.admin_site) mixes InputGuardMixin into every
ModelAdmin and inline it registers.
"""

import datetime as dt
import functools

from django import forms
from django.conf import settings
from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import DateField, DateTimeField, IntegerField
from django.http import Http404
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext

from core import dates

# Bad input: an answer, never a server error ------------------------------------------------------------


def field_can_hold(field, value, using: str | None = None) -> bool:
    """Return True when `value` converts to `field`'s type and, for an integer, fits the database's column."""
    try:
        number = field.to_python(value)
    except ValidationError:
        return False
    if isinstance(field, IntegerField) and number is not None:  # AutoField and BigAutoField too
        connection = connections[using or router.db_for_read(field.model)]
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (low is None or number >= low) and (high is None or number <= high)
    return True


class SubmittedIdsCheckedMixin:
    """
    Render only the submitted ids the related field can hold. Django 5.2's
    AutocompleteSelect.optgroups filters `<to_field>__in` with the raw submitted
    values, so re-rendering a form after a validation error raised ValueError for
    "abc" (and OverflowError on SQLite for an id beyond 64 bits) instead of
    showing the field's "Select a valid choice" error.
    """

    def optgroups(self, name, value, attr=None):
        remote_opts = self.field.remote_field.model._meta
        to_field = remote_opts.get_field(getattr(self.field.remote_field, "field_name", remote_opts.pk.attname))
        empty = self.choices.field.empty_values  # Django's optgroups leaves these out itself
        value = [v for v in value if str(v) in empty or field_can_hold(to_field, v, self.db)]
        return super().optgroups(name, value, attr)


class CheckedAutocompleteSelect(SubmittedIdsCheckedMixin, widgets.AutocompleteSelect):
    pass


class CheckedAutocompleteSelectMultiple(SubmittedIdsCheckedMixin, widgets.AutocompleteSelectMultiple):
    pass


class CheckedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """
    Refuse an id the column cannot hold before Django 5.2 queries `pk__in` with
    it: SQLite's driver cannot bind an integer beyond 64 bits (OverflowError, a
    500, in every many-to-many field of the admin, auth's permission pickers too).
    """

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        field = self.queryset.model._meta.pk if key == "pk" else self.queryset.model._meta.get_field(key)
        for pk in value if isinstance(value, (list, tuple)) else ():
            if str(pk) not in self.empty_values and not field_can_hold(field, pk, self.queryset.db):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


def date_hierarchy_check(params: dict[str, list[str]], field_path: str) -> None:
    """
    Raise IncorrectLookupParameters for a date-hierarchy drill-down no date can
    hold. Django 5.2 turns `<field>__year/__month/__day` into datetimes catching
    ValueError only, and computes the range's end outside its try: a 40-digit
    year was an OverflowError, year 9999 a ValueError, both a 500 (Django
    ticket #37357, fixed after 5.2). Same arithmetic as ChangeList.get_filters.
    """
    year = params.get(f"{field_path}__year")
    if year is None:
        return
    month = params.get(f"{field_path}__month")
    day = params.get(f"{field_path}__day")
    try:
        if not dates.SUPPORTED_YEARS[0] <= int(year[-1]) <= dates.SUPPORTED_YEARS[1]:
            raise ValueError(dates.out_of_range_message(year[-1]))
        start = dt.datetime(
            int(year[-1]), int(month[-1] if month is not None else 1), int(day[-1] if day is not None else 1)
        )
        if day:
            end = start + dt.timedelta(days=1)
        elif month:
            end = (start + dt.timedelta(days=32)).replace(day=1)
        else:
            end = start.replace(year=start.year + 1)
        if settings.USE_TZ:
            # The database gets these in UTC: 1 January of year 1 in Asia/Shanghai is still year 0 there.
            for moment in (start, end):
                timezone.make_aware(moment).astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise IncorrectLookupParameters(exc) from exc


class DateHierarchyCheckedChangeList:
    def get_filters(self, request):
        if self.date_hierarchy:
            date_hierarchy_check(self.get_filters_params(), self.date_hierarchy)
        return super().get_filters(request)


@functools.cache
def date_hierarchy_checked(changelist_class: type[ChangeList]) -> type[ChangeList]:
    if issubclass(changelist_class, DateHierarchyCheckedChangeList):
        return changelist_class
    return type(f"Checked{changelist_class.__name__}", (DateHierarchyCheckedChangeList, changelist_class), {})


class InputGuardMixin:
    """
    For every ModelAdmin and inline (tests/test_admin.py walks the registry;
    training/admin.py re-registers Django's own admins with it): a non-numeric
    or out-of-range id in a related field gets the field's error, and a
    date-hierarchy year, month or day no date can hold gets Django's answer to
    a bad lookup (a redirect to ?e=1).
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Every date typed into the admin is read by the one parser, so it lies in the supported range.
        if isinstance(db_field, DateField) and not isinstance(db_field, DateTimeField):
            kwargs.setdefault("form_class", dates.DateField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", CheckedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changelist(self, request, **kwargs):
        return date_hierarchy_checked(super().get_changelist(request, **kwargs))

    def get_urls(self):
        # Every URL with an object id (change, delete, history, a history row, our own views) answers an id the
        # primary key cannot hold with a 404: Django's history view and django-simple-history's queried "abc"
        # and raised ValueError (a 500) on every model with history.
        return [self._id_checked(pattern) for pattern in super().get_urls()]

    def _id_checked(self, pattern):
        if not isinstance(pattern, URLPattern) or not {"object_id", "history_id"} & set(
            pattern.pattern.regex.groupindex
        ):
            return pattern
        view = pattern.callback

        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            for name, value in kwargs.items():
                field = self._id_field(name)
                if field is not None and not field_can_hold(field, value):
                    raise Http404(gettext("No record has the id %(id)s.") % {"id": value})
            return view(request, *args, **kwargs)

        return URLPattern(pattern.pattern, checked, pattern.default_args, pattern.name)

    def _id_field(self, name: str):
        if name == "object_id":
            return self.model._meta.pk
        history = getattr(self.model, "history", None)
        if name == "history_id" and history is not None and hasattr(history, "model"):
            return history.model._meta.pk
        return None
