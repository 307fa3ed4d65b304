"""
The exam flow's pieces of the admin (issue 16): paper templates with their sections, mixes and fixed paper,
checked against the bank before they are saved; online exam sessions with their roster, re-sits, and links to
the printable paper, the item analysis and the attempts' audit. certifications/admin.py imports this module.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from certifications.exams import services
from certifications.exams.papers import QuotaSpec, SectionSpec, sections_shortfalls, template_shortfalls
from certifications.exams.views import analysis_url
from certifications.models import (
    Assessment,
    ExamCandidate,
    ExamSession,
    FixedQuestion,
    PaperSection,
    PaperTemplate,
    SittingCandidate,
)
from core.history import with_reason
from training.access import unit_subtree_ids
from training.admin import WORKER_SEARCH, EditableInline
from training.admin_mixins import InputGuardMixin
from training.models import Unit, Worker

MIX_ITEM = re.compile(r"^(?P<what>.*?)\s*[×xX*]\s*(?P<count>\d+)$")
DIFFICULTY = re.compile(r"^(?:[dD]|难度)?([1-5])$")


def mix_parse(text: str) -> list[QuotaSpec]:
    """
    Read a section's mix, one item per line or ";": "难度3 × 2" (difficulty), "通风 × 3" (knowledge point),
    "难度4 通风 × 1" (both). Raise ValidationError naming the item that cannot be read.
    """
    quotas = []
    for item in re.split(r"[;；\n]+", text or ""):
        item = item.strip()
        if not item:
            continue
        match = MIX_ITEM.match(item)
        if not match or int(match["count"]) < 1:
            raise ValidationError(
                gettext("“%(item)s”: write a mix as “难度3 × 2”, “通风 × 3” or “难度4 通风 × 1”.") % {"item": item}
            )
        difficulty, words = None, []
        for token in match["what"].replace("/", " ").split():
            found = DIFFICULTY.match(token)
            if found and difficulty is None:
                difficulty = int(found[1])
            else:
                words.append(token)
        point = " ".join(words)[:100]
        if difficulty is None and not point:
            raise ValidationError(
                gettext("“%(item)s”: give a difficulty, a knowledge point, or both.") % {"item": item}
            )
        quotas.append(QuotaSpec(difficulty, point, int(match["count"])))
    return quotas


def mix_format(quotas) -> str:
    parts = []
    for quota in quotas:
        what = " ".join(p for p in (f"难度{quota.difficulty}" if quota.difficulty else "", quota.knowledge_point) if p)
        parts.append(f"{what} × {quota.count}")
    return "; ".join(parts)


class PartOfTemplateInline(EditableInline):
    """Sections and the fixed paper are parts of the template: whoever may change the template edits them."""

    def _template_permission(self, request, action: str) -> bool:
        return request.user.has_perm(f"certifications.{action}_papertemplate")

    def has_view_permission(self, request, obj=None):
        return self._template_permission(request, "view") or self._template_permission(request, "change")

    def has_add_permission(self, request, obj=None):
        return self._template_permission(request, "change")

    def has_change_permission(self, request, obj=None):
        return self._template_permission(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._template_permission(request, "change")


class SectionForm(forms.ModelForm):
    mix = forms.CharField(
        label=_("mix by difficulty and knowledge point"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 30}),
        help_text=_("One per line: “难度3 × 2”, “通风 × 3”, “难度4 通风 × 1”. The rest of the section comes from any."),
    )

    class Meta:
        model = PaperSection
        fields = ("order", "kind", "count", "marks_each")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["mix"].initial = mix_format(self.instance.quotas.all())  # prefetched by the inline

    def clean_mix(self):
        return mix_parse(self.cleaned_data.get("mix", ""))


class SectionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        template = self.instance
        if template.fixed or any(self.errors):
            return
        specs = [
            SectionSpec(
                form.cleaned_data["order"],
                form.cleaned_data["kind"],
                form.cleaned_data["count"],
                form.cleaned_data["marks_each"],
                tuple(form.cleaned_data.get("mix") or ()),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        shortfalls = sections_shortfalls(template, specs)
        if shortfalls:
            raise ValidationError(
                [gettext("The bank cannot satisfy these rules; nothing was saved.")] + [str(s) for s in shortfalls]
            )


class SectionInline(PartOfTemplateInline):
    model = PaperSection
    form = SectionForm
    formset = SectionFormSet
    fields = ("order", "kind", "count", "marks_each", "mix")
    extra = 1
    verbose_name_plural = _("sections (drawn papers)")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("quotas")


class FixedFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not self.instance.fixed or any(self.errors):
            return
        rows = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not rows:
            raise ValidationError(gettext("The fixed paper has no questions: add them below."))
        retired = [row["question"] for row in rows if not row["question"].active]
        if retired:
            raise ValidationError(
                gettext("The fixed paper holds retired questions (%(which)s): replace them or make them active.")
                % {"which": ", ".join(f"#{q.pk}" for q in retired)}
            )


class FixedQuestionInline(PartOfTemplateInline):
    model = FixedQuestion
    formset = FixedFormSet
    fields = ("order", "question", "marks")
    raw_id_fields = ("question",)
    list_select_related = ("question",)


@admin.register(PaperTemplate)
class PaperTemplateAdmin(InputGuardMixin, SimpleHistoryAdmin):
    list_display = ("name", "trade", "rank", "course", "fixed", "duration_minutes", "session_count")
    list_select_related = ("trade", "rank", "course")
    list_filter = ("fixed", "trade", "rank", "shuffle_options", "partial_marks")
    search_fields = ("name", "trade__name", "rank__name", "course__code", "course__title")
    ordering = ("name",)
    readonly_fields = ("bank_check", "created_at")
    inlines = (SectionInline, FixedQuestionInline)
    fieldsets = (
        (None, {"fields": ("name", "duration_minutes")}),
        (_("Whom it serves"), {"fields": ("trade", "rank", "course")}),
        (_("How the paper is made"), {"fields": ("fixed", "shuffle_options", "partial_marks", "review_after_close")}),
        (_("Check against the bank"), {"fields": ("bank_check",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sessions_n=Count("sessions"))

    @admin.display(description=_("sessions"), ordering="sessions_n")
    def session_count(self, obj):
        return getattr(obj, "sessions_n", None)

    @admin.display(description=_("check against the bank"))
    def bank_check(self, obj):
        if obj is None or obj.pk is None:
            return gettext("Saved templates are checked against the bank here.")
        shortfalls = template_shortfalls(obj)
        if not shortfalls:
            return gettext("The bank can satisfy this template: every candidate can be given a paper.")
        return format_html(
            '<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((s,) for s in shortfalls))
        )

    def save_formset(self, request, form, formset, change):
        for line in formset.forms:
            if line.has_changed():
                with_reason(line.instance, gettext("Changed on the template's page"))
        super().save_formset(request, form, formset, change)
        if formset.model is PaperSection:
            for line in formset.forms:
                if line.instance.pk and line.cleaned_data and not line.cleaned_data.get("DELETE"):
                    services.section_mix_set(line.instance, line.cleaned_data.get("mix") or [])


class ExamSessionForm(forms.ModelForm):
    add_unit = forms.ModelChoiceField(
        label=_("Add the workers of a unit"),
        queryset=Unit.objects.order_by("sort_order", "code"),
        required=False,
        help_text=_("With the units below it; for a trade assessment, only the workers who hold the trade."),
    )
    add_sitting_roster = forms.BooleanField(
        label=_("Add the sitting's roster"), required=False, help_text=_("Everyone on the chosen sitting's roster.")
    )

    class Meta:
        model = ExamSession
        fields = ("name", "template", "sitting", "assessment", "opens_at", "closes_at", "duration_minutes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "assessment" in self.fields:
            self.fields["assessment"].required = False
            self.fields["assessment"].queryset = Assessment.objects.filter(kind=Assessment.Kind.THEORY)
            self.fields["assessment"].help_text = _("Left empty when a sitting is chosen: its theory assessment.")

    def clean(self):
        data = super().clean()
        sitting = data.get("sitting")
        if sitting is not None:
            if sitting.theory_id is None:
                self.add_error("sitting", gettext("This sitting has no theory exam: give it a theory date first."))
            else:
                data["assessment"] = sitting.theory
        elif not data.get("assessment"):
            self.add_error("assessment", gettext("Choose the theory assessment, or a sitting."))
        template = data.get("template")
        if template is not None:
            shortfalls = template_shortfalls(template)
            if shortfalls:
                self.add_error(
                    "template", [gettext("The bank cannot satisfy this template:")] + [str(s) for s in shortfalls]
                )
        if data.get("add_sitting_roster") and sitting is None:
            self.add_error("add_sitting_roster", gettext("Choose a sitting first."))
        return data

    def _post_clean(self):
        if self.cleaned_data.get("assessment") is not None:
            self.instance.assessment = self.cleaned_data["assessment"]
        super()._post_clean()


class ExamCandidateInline(EditableInline):
    model = ExamCandidate
    fields = ("worker", "unit", "attempts_allowed", "attempts_used", "last_score", "resit")
    readonly_fields = ("unit", "attempts_allowed", "attempts_used", "last_score", "resit")
    autocomplete_fields = ("worker",)
    list_select_related = ("worker__unit", "session")
    verbose_name_plural = _("exam roster")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("attempts")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if not request.user.has_perm("certifications.change_examcandidate"):
            fields.remove("resit")  # invigilators read the roster; only HR grants re-sits
        return fields

    @admin.display(description=_("unit"))
    def unit(self, obj):
        return obj.worker.unit.name if obj.worker_id else "—"

    @admin.display(description=_("attempts used"))
    def attempts_used(self, obj):
        return len(obj.attempts.all()) if obj.pk else "—"

    @admin.display(description=_("score"))
    def last_score(self, obj):
        ended = [a for a in obj.attempts.all() if not a.open] if obj.pk else []
        if not ended:
            return "—"
        last = max(ended, key=lambda a: a.number)
        return f"{last.score} / {last.full_marks}"

    @admin.display(description=_("re-sit"))
    def resit(self, obj):
        if not obj.pk or len(obj.attempts.all()) < obj.attempts_allowed:
            return "—"
        return format_html(
            '<button type="submit" class="button" name="_resit" value="{}">{}</button>',
            obj.pk,
            gettext("Grant a re-sit"),
        )


@admin.register(ExamSession)
class ExamSessionAdmin(InputGuardMixin, SimpleHistoryAdmin):
    form = ExamSessionForm
    list_display = ("name", "assessment", "sitting", "opens_at", "closes_at", "roster_size", "links")
    list_select_related = ("assessment", "sitting", "template")
    list_filter = ("opens_at", "template", "assessment__trade")
    search_fields = ("name", "assessment__code", "assessment__name", "sitting__code", "template__name")
    search_fields += tuple(f"candidates__worker__{f.removeprefix('worker__')}" for f in WORKER_SEARCH)
    ordering = ("-opens_at", "id")
    autocomplete_fields = ("assessment", "sitting")
    readonly_fields = ("pass_mark", "links", "created_at")
    inlines = (ExamCandidateInline,)
    fieldsets = (
        (None, {"fields": ("name", "template")}),
        (_("What it records"), {"fields": ("sitting", "assessment", "pass_mark")}),
        (_("When"), {"fields": ("opens_at", "closes_at", "duration_minutes")}),
        (_("Add to the roster"), {"fields": ("add_unit", "add_sitting_roster")}),
        (_("Papers, analysis and audit"), {"fields": ("links",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(roster_count=Count("candidates", distinct=True))

    @admin.display(description=_("roster"), ordering="roster_count")
    def roster_size(self, obj):
        return getattr(obj, "roster_count", None)

    @admin.display(description=_("pass mark"))
    def pass_mark(self, obj):
        if obj is None or not obj.assessment_id:
            return gettext("The assessment's (from the rule set in force), once one is chosen.")
        assessment = obj.assessment
        return gettext("%(mark)s of %(full)s (the assessment's, from the rule set in force)") % {
            "mark": assessment.pass_mark,
            "full": assessment.full_marks,
        }

    @admin.display(description=_("links"))
    def links(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        links = [(reverse("certifications:exam-print", args=[obj.pk]), gettext("Printable paper and answer sheet"))]
        analysis = analysis_url(obj)
        if analysis:
            links.append((analysis, gettext("Item analysis")))
        try:
            audit = reverse("admin:certifications_attempt_changelist") + f"?candidate__session__id__exact={obj.pk}"
            links.append((audit, gettext("Attempts and their audit")))
        except NoReverseMatch:
            pass
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def save_formset(self, request, form, formset, change):
        for line in formset.forms:
            if line.has_changed() and not line.cleaned_data.get("DELETE"):
                with_reason(line.instance, gettext("Added by hand"))
        return super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        session, data = form.instance, form.cleaned_data
        ids: set[int] = set()
        if data.get("add_unit"):
            workers = Worker.objects.filter(unit_id__in=unit_subtree_ids(data["add_unit"]), deleted_at__isnull=True)
            workers = workers.exclude(status=Worker.Status.LEFT)
            if session.assessment.trade_id:
                workers = workers.filter(worker_trades__trade_id=session.assessment.trade_id)
            ids |= set(workers.values_list("id", flat=True))
        if data.get("add_sitting_roster") and session.sitting_id:
            ids |= set(
                SittingCandidate.objects.filter(sitting_id=session.sitting_id).values_list("worker_id", flat=True)
            )
        if ids:
            added = services.candidates_add(
                session=session, worker_ids=ids, user=request.user, reason=gettext("Added to the roster")
            )
            self.message_user(
                request,
                ngettext("%(count)d worker added to the roster.", "%(count)d workers added to the roster.", added)
                % {"count": added},
                messages.SUCCESS,
            )

    def response_change(self, request, obj):
        if "_resit" in request.POST:
            candidate = ExamCandidate.objects.filter(session=obj, pk=request.POST["_resit"]).first()
            if candidate is not None:
                try:
                    services.resit_grant(candidate, request.user)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        gettext("Re-sit granted to %(worker)s.") % {"worker": candidate.worker.name},
                        messages.SUCCESS,
                    )
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
