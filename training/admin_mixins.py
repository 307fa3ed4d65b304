"""
Admin mixins for trust: bad input answered with a message instead of a server
error (every admin and inline mixes in InputGuardMixin), a required reason when
a recorded value changes, and soft delete (mark deleted, show HR the deleted
rows, restore) for records under legal retention. The model admins in
training/admin.py and certifications/admin.py mix these in.
"""

import datetime as dt
import functools

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router
from django.db.models import IntegerField
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certifications.audit import with_reason

from .retention import record_restore, record_soft_delete

REASON_FIELD = "change_reason"


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
                raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk})
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
        start = dt.datetime(int(year[-1]), int(month[-1] if month is not None else 1), int(day[-1] if day is not None else 1))
        if day:
            end = start + dt.timedelta(days=1)
        elif month:
            end = (start + dt.timedelta(days=32)).replace(day=1)
        else:
            end = start.replace(year=start.year + 1)
        if settings.USE_TZ:
            # The database gets these in UTC: 1 January of year 1 in Asia/Shanghai is still year 0 there.
            for moment in (start, end):
                timezone.make_aware(moment).astimezone(dt.timezone.utc)
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

# The recorded values whose change needs a reason, per model; None: any change does.
REASON_REQUIRED_FOR: dict[str, tuple[str, ...] | None] = {
    "certifications.assessmentresult": ("score", "absent", "attempt", "assessment", "worker"),
    "training.attendance": ("theory_hours", "practical_hours", "training_class", "worker"),
    "certifications.rankrecord": ("worker", "trade", "rank", "status", "awarded_on", "certificate_no"),
    "certifications.certificate": (
        "kind", "number", "worker", "special_operation", "trade", "rank", "issued_on", "valid_until",
        "next_review_due", "extended_review_approved", "status",
    ),
    "certifications.certificatereview": ("certificate", "reviewed_on", "outcome", "training_hours"),
    "certifications.comprehensivereview": ("worker", "trade", "rank", "held_on", "passed"),
    "certifications.ruleset": None,
}


class ReasonForChangeMixin(forms.Form):
    """Ask why, and refuse without an answer, when an existing record's recorded values change."""

    change_reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"size": 40}),
        help_text=_("Required when a recorded value changes; kept in the record's history."),
    )

    def reason_required(self) -> bool:
        if self.instance.pk is None or self._state_adding():
            return False
        audited = REASON_REQUIRED_FOR.get(self.instance._meta.label_lower, ())
        changed = [name for name in self.changed_data if name != REASON_FIELD]
        if audited is None:
            return bool(changed)
        return any(name in audited for name in changed)

    def _state_adding(self) -> bool:
        return getattr(self.instance._state, "adding", False)

    def clean(self):
        cleaned = super().clean()
        reason = (cleaned.get(REASON_FIELD) or "").strip()
        if self.reason_required() and not reason and not cleaned.get("DELETE"):
            self.add_error(REASON_FIELD, gettext("Say why this recorded value changes."))
        if reason:
            with_reason(self.instance, reason)
        return cleaned


def with_reason_form(form_class):
    """Return `form_class` with the reason-for-change field and check."""
    if issubclass(form_class, ReasonForChangeMixin):
        return form_class
    return type(f"Reasoned{form_class.__name__}", (ReasonForChangeMixin, form_class), {})


class ReasonForChangeAdminMixin:
    """For ModelAdmins of audited models: a reason field on the change form, required when a recorded value changes."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault("form", with_reason_form(self.form))
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        names = {name for _, options in fieldsets for name in _flatten(options.get("fields", ()))}
        if REASON_FIELD not in names:
            fieldsets.append((_("Reason for change"), {"fields": [REASON_FIELD]}))
        return fieldsets

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name != REASON_FIELD]


class ReasonForChangeInlineMixin:
    """For inlines of audited models: a reason column, required on rows whose recorded values change."""

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("form", with_reason_form(self.form))
        return super().get_formset(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != REASON_FIELD]
        return [*fields, REASON_FIELD]


def _flatten(fields):
    for name in fields:
        if isinstance(name, (list, tuple)):
            yield from name
        else:
            yield name


class DeletedFilter(admin.SimpleListFilter):
    """Live rows by default; HR can list the deleted ones, or all."""

    title = _("deletion")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", _("Deleted")), ("all", _("Live and deleted"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Live"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)


class SoftDeleteAdminMixin:
    """
    Delete marks records deleted (with a reason) instead of removing them; the
    changelist shows live rows unless HR asks for the deleted ones, and the
    "restore" action brings them back.
    """

    delete_confirmation_template = "admin/soft_delete_confirmation.html"
    delete_selected_confirmation_template = "admin/soft_delete_selected_confirmation.html"
    DELETION_FIELDS = ("deleted_at", "deleted_by", "delete_reason")

    def get_queryset(self, request):
        # Every row, so HR can open a deleted record; the changelist filter shows live rows by default.
        queryset = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), DeletedFilter]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_delete_permission(request):
            actions["restore_selected"] = self.get_action("restore_selected")
        return actions

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.deleted_at is not None:
            readonly += [name for name in self.DELETION_FIELDS if name not in readonly]
        return readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.deleted_at is not None:
            fieldsets.insert(0, (_("Deleted"), {"fields": list(self.DELETION_FIELDS)}))
        return fieldsets

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name not in self.DELETION_FIELDS]

    def get_deleted_objects(self, objs, request):
        # A soft delete removes nothing else: no cascade, nothing protected.
        objs = list(objs)
        return [str(obj) for obj in objs], {self.model._meta.verbose_name_plural: len(objs)}, set(), []

    def _delete_reason(self, request) -> str:
        reason = request.POST.get("delete_reason", "").strip()
        if not reason:
            raise PermissionDenied(gettext("Give a reason for the deletion."))
        return reason

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and request.POST.get("post") and not request.POST.get("delete_reason", "").strip():
            self.message_user(request, gettext("Give a reason for the deletion."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        record_soft_delete(instance=obj, user=request.user, reason=self._delete_reason(request))

    def delete_queryset(self, request, queryset):
        reason = self._delete_reason(request)
        for obj in queryset.filter(deleted_at__isnull=True):
            record_soft_delete(instance=obj, user=request.user, reason=reason)

    @admin.action(description=_("Restore selected deleted records"), permissions=["delete"])
    def restore_selected(self, request, queryset):
        queryset = queryset.filter(deleted_at__isnull=False)
        reason = request.POST.get("restore_reason", "").strip()
        if request.POST.get("apply") and reason:
            restored, refused = 0, []
            for obj in queryset:
                try:
                    record_restore(instance=obj, user=request.user, reason=reason)
                    restored += 1
                except ValidationError as error:
                    refused.append(f"{obj}: {' '.join(error.messages)}")
            if restored:
                self.message_user(request, gettext("Restored %(count)d records.") % {"count": restored}, messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "title": gettext("Restore deleted records"),
            "missing_reason": bool(request.POST.get("apply")),
        }
        return TemplateResponse(request, "admin/soft_delete_restore.html", context)


class SoftDeleteInlineFormSet(BaseInlineFormSet):
    """Rows ticked for deletion in an inline are marked deleted, not removed."""

    def delete_existing(self, obj, commit=True):
        if commit:
            reason = (getattr(obj, "_change_reason", "") or "").strip() or gettext("Removed in the admin")
            record_soft_delete(instance=obj, user=self.request_user, reason=reason)


class SoftDeleteInlineMixin:
    formset = SoftDeleteInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request_user = request.user
        return formset


class RetainedAdminMixin:
    """Records under retention that have no soft delete (reviews, mentorships): corrected with a reason, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False
