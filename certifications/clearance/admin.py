"""
Admin pieces for compliance: list filters by effective due dates and
clearance (reviews replayed, not the dates as issued), and the API-token admin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from certifications.clearance import facts as compliance
from certifications.clearance.tokens import api_token_create, may_use_api
from certifications.models import ApiToken
from training.admin_mixins import InputGuardMixin

DUE_LOOKUPS = (
    ("overdue", _("Overdue")),
    ("30", _("Due in 30 days")),
    ("60", _("Due in 60 days")),
    ("90", _("Due in 90 days")),
)


class CertificateDueFilter(admin.SimpleListFilter):
    """Special-operation certificates by their effective next review or expiry (reviews replayed)."""

    title = _("review or expiry due")
    parameter_name = "falls_due"

    def lookups(self, request, model_admin):
        return (*DUE_LOOKUPS, ("invalid", _("Not valid (not cleared)")))

    def queryset(self, request, queryset):
        if self.value() not in {key for key, _label in self.lookups(request, None)}:
            return queryset
        return compliance.filter_by_ids(queryset, compliance.certificate_ids_due(self.value()))


class WorkerClearanceFilter(admin.SimpleListFilter):
    """Workers by clearance today: not cleared, or with something overdue or due soon."""

    title = _("clearance")
    parameter_name = "clearance"

    def lookups(self, request, model_admin):
        return (("not_cleared", _("Not cleared")), ("cleared", _("Cleared")), *DUE_LOOKUPS)

    def queryset(self, request, queryset):
        if self.value() not in {key for key, _label in self.lookups(request, None)}:
            return queryset
        return compliance.filter_by_ids(queryset, compliance.worker_ids_by_clearance(self.value()))


class ApiTokenCreateForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name", "user")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not may_use_api(user):
            raise ValidationError(
                _(
                    "Only the training department, or users with the “Can query the clearance API” permission, "
                    "can hold an API token."
                )
            )
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(InputGuardMixin, admin.ModelAdmin):
    """Tokens for the clearance API. The token is shown once, on creation; only its hash is kept."""

    list_display = ("name", "prefix", "user", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "user", "active", "prefix", "created_at", "last_used_at")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
            kwargs["fields"] = ("name", "user")
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("name", "user") if obj is None else self.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            users = get_user_model().objects.filter(is_active=True).order_by("username")
            if not request.user.is_superuser:
                users = users.filter(is_superuser=False)  # a token acts as its user: no one mints more than they hold
            kwargs["queryset"] = users
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("name", "user", *self.readonly_fields) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = api_token_create(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        obj.pk = token.pk
        messages.warning(
            request,
            _("Token for “%(name)s”: %(token)s — copy it now; it is not stored and will not be shown again.")
            % {"name": token.name, "token": raw},
        )

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect("../")
