"""
Admin mixins for trust: bad input answered with a message instead of a server
error (every admin and inline mixes in InputGuardMixin), a required reason when
a recorded value changes, and soft delete (mark deleted, show HR the deleted
rows, restore) for records under legal retention. The model admins in
training/admin.py and certifications/admin.py mix these in.
"""

import contextvars

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_guard import InputGuardMixin  # noqa: F401 — certifications' admins take it from here
from core.history import with_reason
from core.writes import door_of
from training.retention import record_restore, record_soft_delete

REASON_FIELD = "change_reason"

# The recorded values whose change needs a reason, per model; None: any change does.
REASON_REQUIRED_FOR: dict[str, tuple[str, ...] | None] = {
    "certifications.assessmentresult": ("score", "absent", "attempt", "assessment", "worker"),
    "training.attendance": ("theory_hours", "practical_hours", "training_class", "worker"),
    "certifications.rankrecord": ("worker", "trade", "rank", "status", "awarded_on", "certificate_no"),
    "certifications.certificate": (
        "kind",
        "number",
        "worker",
        "special_operation",
        "trade",
        "rank",
        "issued_on",
        "valid_until",
        "next_review_due",
        "extended_review_approved",
        "status",
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

    def _reason_problem(self, request) -> str:
        reason = request.POST.get("delete_reason", "").strip()
        if not reason:
            return gettext("Give a reason for the deletion.")
        limit = self.model._meta.get_field("delete_reason").max_length  # refused when too long, never cut
        if len(reason) > limit:
            return gettext("The reason is %(length)s characters long; at most %(limit)s fit.") % {
                "length": len(reason),
                "limit": limit,
            }
        return ""

    def _delete_reason(self, request) -> str:
        problem = self._reason_problem(request)
        if problem:
            raise PermissionDenied(problem)
        return request.POST.get("delete_reason", "").strip()

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and request.POST.get("post") and self._reason_problem(request):
            self.message_user(request, self._reason_problem(request), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        self._soft_delete([obj], request=request, reason=self._delete_reason(request))

    def delete_queryset(self, request, queryset):
        reason = self._delete_reason(request)
        self._soft_delete(list(queryset.filter(deleted_at__isnull=True)), request=request, reason=reason)

    def _soft_delete(self, objs, *, request, reason: str) -> None:
        door = door_of(self.model)
        if door is not None:
            door.delete_many(objs, user=request.user, reason=reason)
            return
        for obj in objs:
            record_soft_delete(instance=obj, user=request.user, reason=reason)

    def _restore(self, obj, *, request, reason: str) -> None:
        door = door_of(self.model)
        if door is not None:
            door.restore_one(obj, user=request.user, reason=reason)
        else:
            record_restore(instance=obj, user=request.user, reason=reason)

    @admin.action(description=_("Restore selected deleted records"), permissions=["delete"])
    def restore_selected(self, request, queryset):
        queryset = queryset.filter(deleted_at__isnull=False)
        reason = request.POST.get("restore_reason", "").strip()
        if request.POST.get("apply") and reason:
            restored, refused = 0, []
            for obj in queryset:
                try:
                    self._restore(obj, request=request, reason=reason)
                    restored += 1
                except ValidationError as error:
                    refused.append(f"{obj}: {' '.join(error.messages)}")
            if restored:
                self.message_user(
                    request, gettext("Restored %(count)d records.") % {"count": restored}, messages.SUCCESS
                )
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
    """Records under retention without soft delete (reviews, mentorships): corrected with a reason, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


# One door per write (core/writes.py) ----------------------------------------------------------------


class DoorAdminMixin:
    """
    For the admins of models with a door (results, attendance, reviews, rank
    records, certificates): the form's save goes through the door, with the
    reason for change on the audit trail. Deletes and restores go through it
    too: those models are either soft-deleted (SoftDeleteAdminMixin asks the
    door) or never deleted (RetainedAdminMixin).
    """

    def save_model(self, request, obj, form, change):
        door_of(self.model).save(obj, user=request.user, reason=getattr(obj, "_change_reason", ""), validate=False)


class DoorInlinesMixin:
    """
    For admins whose inlines edit rows with a door (a sitting's results, a
    class's attendance, a certificate's reviews): each inline's new, changed
    and deleted rows go through the door, announced once per formset.
    Changing the parent's dates or subject (`evidence_parent_fields`)
    re-evaluates every worker on it.
    """

    evidence_parent_fields: tuple[str, ...] = ()

    def save_formset(self, request, form, formset, change):
        door = door_of(formset.model)
        if door is None:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            reason = (getattr(obj, "_change_reason", "") or "").strip() or gettext("Removed in the admin")
            door.delete(obj, user=request.user, reason=reason)
        door.save_many(instances, user=request.user)
        formset.save_m2m()
        if change and set(self.evidence_parent_fields) & set(form.changed_data):
            door.announce(worker_ids=formset.get_queryset().values_list("worker_id", flat=True), user=request.user)
        return None


class DoorDeleteAdminMixin:
    """
    For the admins of door models that are deleted outright (a sitting's
    roster): the delete and the bulk delete go through the door, with a reason.
    """

    def delete_model(self, request, obj):
        door_of(self.model).delete(obj, user=request.user, reason=gettext("Removed in the admin"))

    def delete_queryset(self, request, queryset):
        door_of(self.model).delete_many(list(queryset), user=request.user, reason=gettext("Removed in the admin"))


# The user whose change form is being rendered (ViewerMixin.change_view).
_viewer: contextvars.ContextVar = contextvars.ContextVar("kuangjiang_change_form_viewer", default=None)


def viewer():
    """The user whose change form is rendering (under ViewerMixin), or None."""
    return _viewer.get()


class ViewerMixin:
    """
    Keep the user of a change form at hand while it renders: evidence links depend on what they may open,
    and a read-only field's method is given no request.
    """

    def change_view(self, request, object_id, form_url="", extra_context=None):
        token = _viewer.set(request.user)
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            # A TemplateResponse renders after the view returns: render it here, while the viewer is known.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
        finally:
            _viewer.reset(token)


class ReadOnlyAdminMixin:
    """
    Records written by the app itself (an exam's attempts, a tablet's sheets, a simulator's statements, question
    versions made by the bank's door): listed and opened to read, never added, changed or deleted in the admin.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
