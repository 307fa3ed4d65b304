"""
HR's pieces of the admin for simulators: credentials (the secret shown once), the mappings of actors and
activities, and the statements received, with the unmapped ones to map and apply.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from certifications.models import SimulatorActivity, SimulatorActor, SimulatorCredential, SimulatorStatement
from certifications.simulators.services import credential_create, statements_apply, statements_reapply
from training.access import is_hr
from training.admin import WORKER_SEARCH
from training.admin_mixins import ReadOnlyAdminMixin


class SimulatorCredentialCreateForm(forms.ModelForm):
    class Meta:
        model = SimulatorCredential
        fields = ("name", "key")


@admin.register(SimulatorCredential)
class SimulatorCredentialAdmin(SimpleHistoryAdmin):
    """A simulator's HTTP Basic credential. The secret is shown once, on creation; only its hash is kept."""

    list_display = ("name", "key", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    search_fields = ("name", "key")
    ordering = ("name", "key")
    fields = ("name", "key", "active", "created_at", "last_used_at")
    readonly_fields = ("key", "created_at", "last_used_at")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SimulatorCredentialCreateForm
            kwargs["fields"] = ("name", "key")
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("name", "key") if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        credential, secret = credential_create(name=form.cleaned_data["name"], key=form.cleaned_data["key"])
        obj.pk = credential.pk
        messages.warning(
            request,
            gettext(
                "Credential for “%(name)s”: key %(key)s, secret %(secret)s — copy the secret now; "
                "it is not stored and will not be shown again."
            )
            % {"name": credential.name, "key": credential.key, "secret": secret},
        )


@admin.register(SimulatorActor)
class SimulatorActorAdmin(SimpleHistoryAdmin):
    """Which worker a simulator account or mailbox is. Unneeded when the account name is the employee number."""

    list_display = ("actor_key", "worker")
    list_select_related = ("worker",)
    list_filter = ("worker__unit",)
    search_fields = ("actor_key", *WORKER_SEARCH)
    ordering = ("actor_key",)
    fields = ("home_page", "account_name", "mbox", "worker")
    autocomplete_fields = ("worker",)


@admin.register(SimulatorActivity)
class SimulatorActivityAdmin(SimpleHistoryAdmin):
    """What an activity of a simulator counts as: practical hours of a course, a practical assessment, or both."""

    list_display = ("activity_iri", "name", "course", "assessment")
    list_select_related = ("course", "assessment")
    list_filter = ("class_kind", "course__delivery")
    search_fields = ("activity_iri", "name", "course__code", "course__title", "assessment__code", "assessment__name")
    ordering = ("activity_iri",)
    fields = ("activity_iri", "name", "course", "class_kind", "assessment")
    autocomplete_fields = ("course", "assessment")


@admin.register(SimulatorStatement)
class SimulatorStatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every statement received, as received; filter "Unmapped" lists those waiting for a mapping."""

    list_display = (
        "stored",
        "timestamp",
        "actor_key",
        "verb_short",
        "activity_iri",
        "score_scaled",
        "duration_seconds",
        "status",
        "problem",
        "worker",
    )
    list_select_related = ("worker",)
    list_filter = ("status", "credential", "on")
    search_fields = ("=statement_id", "actor_key", "actor_name", "activity_iri", "verb_id")
    ordering = ("-stored", "-id")
    date_hierarchy = "stored"
    actions = ("apply_mappings", "reapply_mappings")
    readonly_fields = (
        "statement_id",
        "credential",
        "status",
        "problem",
        "worker",
        "activity",
        "training_class",
        "result",
        "applied_at",
        "voided_by",
        "stored",
        "timestamp",
        "actor_key",
        "verb_id",
        "activity_iri",
        "score_scaled",
        "success",
        "completion",
        "duration_seconds",
        "statement_shown",
    )
    fields = readonly_fields

    @admin.display(description=_("verb"), ordering="verb_id")
    def verb_short(self, obj):
        return obj.verb_id.rstrip("/").rsplit("/", 1)[-1]

    @admin.display(description=_("statement as received"))
    def statement_shown(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.received, indent=2, ensure_ascii=False))

    def has_apply_permission(self, request):
        return request.user.is_superuser or is_hr(request.user)

    @admin.action(description=_("Apply mappings to the selected unmapped statements"), permissions=["apply"])
    def apply_mappings(self, request, queryset):
        report = statements_apply(list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(applied)d statement applied; %(left)d still unmapped.",
                "%(applied)d statements applied; %(left)d still unmapped.",
                report.applied,
            )
            % {"applied": report.applied, "left": report.still_unmapped},
            messages.SUCCESS if report.applied else messages.WARNING,
        )

    @admin.action(
        description=_("Apply the current mappings again to the selected statements (after a mapping was corrected)"),
        permissions=["apply"],
    )
    def reapply_mappings(self, request, queryset):
        report = statements_reapply(list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(applied)d statement applied; %(left)d still unmapped.",
                "%(applied)d statements applied; %(left)d still unmapped.",
                report.applied,
            )
            % {"applied": report.applied, "left": report.still_unmapped},
            messages.SUCCESS if report.applied else messages.WARNING,
        )
