"""
The HR admin of practical scoring: schemes with their items inline (and the
Excel import and template), the sheets from the tablets as read-only
evidence, and the moderation cases a second assessor's sheet opens, which HR
resolves by choosing the sheet whose score stands.
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from certifications.models import (
    Assessment,
    ScoreDeduction,
    ScoringItem,
    ScoringModeration,
    ScoringScheme,
    ScoringSheet,
)
from certifications.practical.schemes_import import SchemeImportError, scheme_import, scheme_parse, scheme_template
from certifications.practical.services import moderation_resolve
from core import dates
from core.spreadsheets import SpreadsheetError, read_bytes
from training.admin_mixins import InputGuardMixin, ReadOnlyAdminMixin
from training.models import Rank, Trade

UPLOAD_TTL = 3600
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ScoringItemInline(InputGuardMixin, admin.TabularInline):
    model = ScoringItem
    extra = 0
    fields = (
        "order",
        "name",
        "content",
        "points",
        "criteria",
        "per_mistake",
        "per_minute_over",
        "time_limit_minutes",
        "critical",
    )

    def _used(self, obj) -> bool:
        # A sheet keeps the scheme it was scored against: a used scheme's items are frozen (a new version is a
        # new scheme with a later effective date).
        if obj is None or obj.pk is None:
            return False
        if not hasattr(obj, "_kuangjiang_used"):  # asked for each permission of each row: once per page
            obj._kuangjiang_used = obj.sheets.exists()
        return obj._kuangjiang_used

    def has_add_permission(self, request, obj=None):
        return not self._used(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._used(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._used(obj) and super().has_delete_permission(request, obj)


class SchemeImportForm(forms.Form):
    file = forms.FileField(label=_("Scoring scheme sheet (.xlsx, .xls or .csv)"))
    name = forms.CharField(label=_("name"), max_length=200, required=False, help_text=_("Empty: the sheet's title."))
    assessment = forms.ModelChoiceField(
        label=_("practical assessment"),
        queryset=Assessment.objects.filter(kind=Assessment.Kind.PRACTICAL).order_by("-held_on", "code"),
        required=False,
    )
    trade = forms.ModelChoiceField(label=_("trade"), queryset=Trade.objects.order_by("code"), required=False)
    rank = forms.ModelChoiceField(label=_("rank"), queryset=Rank.objects.order_by("order"), required=False)
    effective_from = dates.DateField(label=_("effective from"))
    time_limit_minutes = forms.IntegerField(
        label=_("time limit (minutes)"), min_value=0, max_value=1440, required=False
    )

    def clean(self):
        data = super().clean()
        if not data.get("assessment") and not (data.get("trade") and data.get("rank")):
            raise ValidationError(_("Say what the scheme is for: a practical assessment, or a trade and rank."))
        return data


def _upload_key(token: str) -> str:
    return f"kuangjiang:scheme-upload:{token}"


@admin.register(ScoringScheme)
class ScoringSchemeAdmin(InputGuardMixin, SimpleHistoryAdmin):
    list_display = ("name", "assessment", "trade", "rank", "effective_from", "time_limit_minutes")
    list_filter = ("trade", "rank", "effective_from")
    list_select_related = ("assessment", "trade", "rank")
    search_fields = ("name", "assessment__code", "trade__name", "rank__name")
    ordering = ("-effective_from", "name")
    autocomplete_fields = ("assessment",)
    inlines = [ScoringItemInline]
    change_list_template = "admin/certifications/scoringscheme/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="certifications_scoringscheme_import"),
            path(
                "template.xlsx",
                self.admin_site.admin_view(self.template_view),
                name="certifications_scoringscheme_template",
            ),
            *super().get_urls(),
        ]

    def _may_import(self, request) -> bool:
        return request.user.has_perm("certifications.import_scoringscheme")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "may_import": self._may_import(request)})

    def template_view(self, request):
        """The empty scheme sheet, with example rows, that the import reads."""
        if not self._may_import(request):
            raise PermissionDenied
        response = HttpResponse(scheme_template(), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=gettext("scoring_scheme_template.xlsx")
        )
        return response

    def import_view(self, request):
        """Upload a scheme sheet, see every row (errors by row), then confirm: all rows or none."""
        if not self._may_import(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import a scoring scheme"),
            "opts": self.opts,
        }
        if request.method == "POST" and "token" in request.POST:
            stored = cache.get(_upload_key(request.POST["token"]))
            cache.delete(_upload_key(request.POST["token"]))
            if not stored or stored["user_id"] != request.user.pk:
                messages.error(request, gettext("The upload has expired; upload the file again."))
                return redirect("admin:certifications_scoringscheme_import")
            if "cancel" in request.POST:
                messages.info(request, gettext("Import cancelled: nothing was written."))
                return redirect("admin:certifications_scoringscheme_import")
            scheme = ScoringScheme(**stored["scheme"])
            try:
                scheme = scheme_import(
                    scheme_parse(stored["data"]), scheme=scheme, user=request.user, filename=stored["name"]
                )
            except (SchemeImportError, SpreadsheetError) as exc:
                messages.error(request, gettext("Nothing imported: %(reason)s") % {"reason": exc})
                return redirect("admin:certifications_scoringscheme_import")
            messages.success(
                request,
                gettext("Imported %(name)s with %(n)s items.") % {"name": scheme.name, "n": scheme.items.count()},
            )
            return redirect("admin:certifications_scoringscheme_change", scheme.pk)
        form = SchemeImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                data = read_bytes(form.cleaned_data["file"])
                parsed = scheme_parse(data)
            except SpreadsheetError as exc:
                form.add_error("file", str(exc))
            else:
                context["parsed"] = parsed
                if not parsed.errors:
                    token = secrets.token_urlsafe(24)
                    cd = form.cleaned_data
                    cache.set(
                        _upload_key(token),
                        {
                            "user_id": request.user.pk,
                            "data": data,
                            "name": cd["file"].name,
                            "scheme": {
                                "name": cd["name"],
                                "assessment_id": cd["assessment"].pk if cd["assessment"] else None,
                                "trade_id": cd["trade"].pk if cd["trade"] else None,
                                "rank_id": cd["rank"].pk if cd["rank"] else None,
                                "effective_from": cd["effective_from"],
                                "time_limit_minutes": cd["time_limit_minutes"],
                            },
                        },
                        UPLOAD_TTL,
                    )
                    context["token"] = token
        context["form"] = form
        return TemplateResponse(request, "admin/certifications/scoringscheme/import.html", context)


@admin.register(ScoringItem)
class ScoringItemAdmin(InputGuardMixin, SimpleHistoryAdmin):
    """Every item of every scheme, to find one; a scheme's items are edited on the scheme's page."""

    list_display = ("name", "scheme", "order", "points", "per_mistake", "per_minute_over", "critical")
    list_filter = ("critical", "scheme")
    list_select_related = ("scheme",)
    search_fields = ("name", "content", "scheme__name")
    ordering = ("scheme", "order")
    autocomplete_fields = ("scheme",)

    def _used(self, obj) -> bool:
        if obj is None:
            return False
        if not hasattr(obj, "_kuangjiang_used"):
            obj._kuangjiang_used = ScoringSheet.objects.filter(scheme_id=obj.scheme_id).exists()
        return obj._kuangjiang_used

    def has_change_permission(self, request, obj=None):
        return not self._used(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._used(obj) and super().has_delete_permission(request, obj)


class ScoreDeductionInline(InputGuardMixin, admin.TabularInline):
    model = ScoreDeduction
    extra = 0
    can_delete = False
    fields = ("item", "mistakes", "minutes_over", "points", "note", "photo_link")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def photo_link(self, obj):
        if not obj.photo:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("certifications:practical-photo", args=[obj.pk]), gettext("photo")
        )


@admin.register(ScoreDeduction)
class ScoreDeductionAdmin(ReadOnlyAdminMixin, InputGuardMixin, SimpleHistoryAdmin):
    list_display = ("item", "sheet", "mistakes", "minutes_over", "points", "note")
    list_filter = ("item__critical", "sheet__sitting")
    list_select_related = ("item", "sheet__worker", "sheet__sitting")
    search_fields = ("item__name", "note", "sheet__worker__name", "sheet__worker__employee_no")
    ordering = ("-sheet__created_at", "item__order")


@admin.register(ScoringSheet)
class ScoringSheetAdmin(ReadOnlyAdminMixin, InputGuardMixin, SimpleHistoryAdmin):
    list_display = (
        "worker",
        "employee_no",
        "sitting",
        "assessor",
        "total",
        "passed",
        "critical_item",
        "status",
        "created_at",
    )
    list_filter = ("status", "passed", ("critical_item", admin.EmptyFieldListFilter), "sitting", "assessor")
    list_select_related = ("worker", "sitting", "assessor", "critical_item")
    search_fields = ("worker__name", "worker__employee_no", "sitting__code", "sitting__name", "uuid")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    inlines = [ScoreDeductionInline]
    exclude = ("candidate_signature", "assessor_signature")
    readonly_fields = ("signatures",)

    @admin.display(description=_("employee number"), ordering="worker__employee_no")
    def employee_no(self, obj):
        return obj.worker.employee_no

    @admin.display(description=_("signatures"))
    def signatures(self, obj):
        parts = [
            (reverse("certifications:practical-signature", args=[obj.uuid, who]), label)
            for who, label, value in (
                ("candidate", gettext("candidate's signature"), obj.candidate_signature),
                ("assessor", gettext("assessor's signature"), obj.assessor_signature),
            )
            if value
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', parts) if parts else "—"


class ResolveForm(forms.Form):
    chosen = forms.ModelChoiceField(
        label=_("sheet that stands"), queryset=ScoringSheet.objects.none(), widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, case: ScoringModeration, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["chosen"]
        field.queryset = ScoringSheet.objects.filter(pk__in=[case.recorded_id, case.second_id]).select_related(
            "assessor", "critical_item"
        )
        field.label_from_instance = lambda s: (
            gettext("%(assessor)s: %(total)s of %(full)s, %(verdict)s")
            % {
                "assessor": s.assessor.get_full_name() or s.assessor.get_username(),
                "total": s.total,
                "full": s.full_points,
                "verdict": gettext("passed")
                if s.passed
                else (
                    gettext("failed on the critical item %(item)s") % {"item": s.critical_item.name}
                    if s.critical_item_id
                    else gettext("failed")
                ),
            }
        )


class OpenCaseFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ScoringModeration.Status.choices

    def queryset(self, request, queryset):
        if self.value() in ScoringModeration.Status.values:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(ScoringModeration)
class ScoringModerationAdmin(ReadOnlyAdminMixin, InputGuardMixin, SimpleHistoryAdmin):
    list_display = ("case", "sitting", "recorded_score", "second_score", "status", "created_at", "resolve_link")
    list_filter = (OpenCaseFilter, "recorded__sitting")
    list_select_related = (
        "second__worker",
        "second__sitting",
        "second__assessor",
        "recorded__assessor",
        "chosen__assessor",
    )
    search_fields = ("second__worker__name", "second__worker__employee_no", "second__sitting__code")
    ordering = ("status", "-created_at")

    def get_urls(self):
        return [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="certifications_scoringmoderation_resolve",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("candidate"), ordering="second__worker__employee_no")
    def case(self, obj):
        return f"{obj.second.worker.employee_no} {obj.second.worker.name}"

    @admin.display(description=_("appraisal sitting"))
    def sitting(self, obj):
        return obj.second.sitting.code

    def _score(self, sheet):
        who = sheet.assessor.get_full_name() or sheet.assessor.get_username()
        return f"{sheet.total} ({who})"

    @admin.display(description=_("recorded sheet"))
    def recorded_score(self, obj):
        return self._score(obj.recorded)

    @admin.display(description=_("second sheet"))
    def second_score(self, obj):
        return self._score(obj.second)

    @admin.display(description=_("resolve"))
    def resolve_link(self, obj):
        if obj.status != ScoringModeration.Status.OPEN:
            return obj.chosen and self._score(obj.chosen)
        url = reverse("admin:certifications_scoringmoderation_resolve", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Choose the sheet that stands"))

    def resolve_view(self, request, pk: int):
        """Choose which sheet's score stands, with a reason: the result is corrected through the results' door."""
        if not request.user.has_perm("certifications.change_scoringmoderation"):
            raise PermissionDenied
        case = get_object_or_404(
            ScoringModeration.objects.select_related("recorded", "second__worker", "second__sitting"), pk=pk
        )
        form = ResolveForm(request.POST or None, case=case)
        if request.method == "POST" and form.is_valid():
            try:
                moderation_resolve(
                    case=case, chosen=form.cleaned_data["chosen"], reason=form.cleaned_data["reason"], user=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, gettext("Resolved: the chosen sheet's score stands."))
                return redirect("admin:certifications_scoringmoderation_changelist")
        sheets = (
            ScoringSheet.objects.filter(Q(pk=case.recorded_id) | Q(pk=case.second_id))
            .select_related("assessor", "critical_item")
            .prefetch_related("deductions__item")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Resolve a moderation case"),
            "opts": self.opts,
            "case": case,
            "form": form,
            "sheets": sheets,
        }
        return TemplateResponse(request, "admin/certifications/scoringmoderation/resolve.html", context)
