"""
The question bank's admin (issue 16): a question's page edits its current
version's text (saved through the bank's door, which makes a new version when a
paper showed the current one), lists the versions read-only with their images,
and the changelist imports, exports (as filtered) and retires questions.
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from certifications.exams.bank import (
    KIND_FIXED_MESSAGE,
    question_create,
    question_images_clean,
    question_shown,
    question_text_clean,
    question_update,
    questions_set_active,
)
from certifications.exams.bank_sheet import (
    IMPORT_HELP,
    BankImportError,
    bank_export,
    bank_import,
    bank_parse,
    bank_template,
)
from certifications.models import Question, QuestionImage, QuestionVersion
from certifications.models.exams import OPTION_KEYS, QUESTION_IMAGE_MAX_BYTES
from core.spreadsheets import SpreadsheetError, read_bytes
from core.workbooks import download_filename
from training.admin_mixins import REASON_FIELD, InputGuardMixin, ReadOnlyAdminMixin, ReasonForChangeAdminMixin

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_TTL = 3600
OPTION_FIELDS = [f"option_{key.lower()}" for key in OPTION_KEYS]
# The door's field names → the form's.
ERROR_FIELDS = {
    "stem": "stem",
    "options": "option_a",
    "answer": "answer",
    "explanation": "explanation",
    "images": "image",
}


def analysis_link(session) -> str:
    """A link to the item analysis of one online exam session (for the session's admin page)."""
    url = reverse("certifications:exam-analysis") + f"?session={session.pk}"
    return format_html('<a href="{}">{}</a>', url, gettext("Item analysis of this session"))


def image_url(image: QuestionImage) -> str:
    return reverse("certifications:question-image", args=[image.pk])


def images_html(images) -> str:
    return format_html_join(
        " ",
        '<figure class="question-image"><img src="{}" alt="{}" loading="lazy"><figcaption>{}</figcaption></figure>',
        (
            (image_url(image), label, label)
            for image in images
            for label in [gettext("Stem") if not image.slot else gettext("Option %(key)s") % {"key": image.slot}]
        ),
    )


class QuestionForm(forms.ModelForm):
    """The question's own fields and its current version's text, checked by the bank's rules."""

    stem = forms.CharField(label=_("Stem"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    answer = forms.CharField(
        label=_("Correct answer"),
        max_length=500,
        help_text=_(
            "B, ACD or A、C、D; 对 or 错 (√/×) for true or false; accepted answers separated by | for fill-in."
        ),
    )
    option_a = forms.CharField(label=_("Option A"), max_length=500, required=False)
    option_b = forms.CharField(label=_("Option B"), max_length=500, required=False)
    option_c = forms.CharField(label=_("Option C"), max_length=500, required=False)
    option_d = forms.CharField(label=_("Option D"), max_length=500, required=False)
    option_e = forms.CharField(label=_("Option E"), max_length=500, required=False)
    option_f = forms.CharField(label=_("Option F"), max_length=500, required=False)
    explanation = forms.CharField(
        label=_("Explanation (解析)"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    image = forms.ImageField(
        label=_("Add an image"),
        required=False,
        help_text=_("PNG, JPEG, GIF or WebP, at most %(kb)s KB; it replaces the image already in that place.")
        % {"kb": QUESTION_IMAGE_MAX_BYTES // 1024},
    )
    image_slot = forms.ChoiceField(
        label=_("Image goes with"),
        required=False,
        choices=[("", _("the stem")), *((key, _("option %(key)s") % {"key": key}) for key in OPTION_KEYS)],
    )
    remove_images = forms.MultipleChoiceField(
        label=_("Remove images"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    class Meta:
        model = Question
        fields = ("kind", "difficulty", "knowledge_point", "trades", "ranks", "courses", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, name in zip(OPTION_KEYS, OPTION_FIELDS, strict=True):
            self.fields[name] = forms.CharField(
                label=_("option %(key)s") % {"key": key}, max_length=500, required=False
            )
        current = self.instance.current if self.instance.pk else None
        if current is not None:
            options = {o["key"]: o["text"] for o in current.options}
            self.initial.update(
                stem=current.stem,
                answer=_answer_shown(self.instance.kind, current.answer),
                explanation=current.explanation,
                **{name: options.get(key, "") for key, name in zip(OPTION_KEYS, OPTION_FIELDS, strict=True)},
            )
            slots = sorted(image.slot for image in current.images.all())
            self.fields["remove_images"].choices = [
                (slot, gettext("the stem") if not slot else gettext("option %(key)s") % {"key": slot}) for slot in slots
            ]
        if not self.fields["remove_images"].choices and "remove_images" in self.fields:
            self.fields["remove_images"].widget = forms.MultipleHiddenInput()

    def options(self) -> list[str]:
        texts = [self.cleaned_data.get(name, "") for name in OPTION_FIELDS]
        while texts and not texts[-1]:
            texts.pop()
        return texts

    def new_images(self) -> dict:
        image = self.cleaned_data.get("image")
        return {self.cleaned_data.get("image_slot") or "": image} if image else {}

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind and self.instance.pk and "kind" in self.changed_data and question_shown(self.instance):
            self.add_error("kind", KIND_FIXED_MESSAGE)
            return cleaned
        if not kind or self.has_error("stem") or self.has_error("answer"):
            return cleaned
        options = self.options()
        if any(not text for text in options):
            self.add_error(OPTION_FIELDS[options.index("")], gettext("Empty, but a later option is filled in."))
            return cleaned
        try:
            text = question_text_clean(kind, cleaned["stem"], options, cleaned["answer"], cleaned.get("explanation"))
            question_images_clean(self.new_images(), text["options"])
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                for problem in problems:
                    self.add_error(ERROR_FIELDS.get(name), problem)
        return cleaned


def _answer_shown(kind: str, answer: str) -> str:
    if kind == Question.Kind.TRUE_FALSE:
        return "对" if answer == "T" else "错"
    return answer


class QuestionVersionInline(admin.TabularInline):
    """Every version of the question as it was shown, read-only: the sat papers point at these."""

    model = QuestionVersion
    extra = 0
    can_delete = False
    fields = ("number", "stem", "options_text", "answer", "explanation", "images_shown", "times_shown", "created")
    readonly_fields = fields
    verbose_name_plural = _("versions (read-only: a paper keeps the version it showed)")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(times=Count("shown"))
            .select_related("created_by")
            .prefetch_related("images")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("options"))
    def options_text(self, obj):
        return format_html_join(format_html("<br>"), "{}. {}", ((o["key"], o["text"]) for o in obj.options)) or "—"

    @admin.display(description=_("images"))
    def images_shown(self, obj):
        return images_html(obj.images.all()) or "—"

    @admin.display(description=_("times shown"))
    def times_shown(self, obj):
        return obj.times

    @admin.display(description=_("created"))
    def created(self, obj):
        who = obj.created_by.get_username() if obj.created_by else ""
        return f"{obj.created_at:%Y-%m-%d %H:%M} {who}".strip()


class KnowledgePointFilter(admin.SimpleListFilter):
    title = _("knowledge point")
    parameter_name = "knowledge_point"

    def lookups(self, request, model_admin):
        points = Question.objects.exclude(knowledge_point="").order_by("knowledge_point")
        return [(p, p) for p in points.values_list("knowledge_point", flat=True).distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(knowledge_point=self.value()) if self.value() else queryset


def _confirmed(modeladmin, request, queryset, *, title: str, question: str, action: str):
    """Ask before an action changes questions (the bank's retire and reactivate); None once confirmed."""
    if request.POST.get("confirmed"):
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "queryset": queryset.prefetch_related("versions"),
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "certifications/exams/bank_confirm_action.html", context)


@admin.action(description=_("Retire the selected questions (never drawn again)"), permissions=["change"])
def retire_questions(modeladmin, request, queryset):
    asked = _confirmed(
        modeladmin,
        request,
        queryset,
        title=gettext("Retire questions"),
        question=gettext("Retire these questions? They stay on the papers that showed them but are never drawn again."),
        action="retire_questions",
    )
    if asked is not None:
        return asked
    changed = questions_set_active(queryset, active=False, user=request.user)
    messages.success(request, gettext("%(n)s question(s) retired.") % {"n": changed})
    return None


@admin.action(description=_("Reactivate the selected questions"), permissions=["change"])
def reactivate_questions(modeladmin, request, queryset):
    asked = _confirmed(
        modeladmin,
        request,
        queryset,
        title=gettext("Reactivate questions"),
        question=gettext("Reactivate these questions? Papers drawn from now on may show them."),
        action="reactivate_questions",
    )
    if asked is not None:
        return asked
    changed = questions_set_active(queryset, active=True, user=request.user)
    messages.success(request, gettext("%(n)s question(s) reactivated.") % {"n": changed})
    return None


class BankUploadForm(forms.Form):
    file = forms.FileField(label=_("Question bank sheet (.xlsx, .xls, .csv, or a sheet saved by Word as a web page)"))


def _upload_key(token: str) -> str:
    return f"kuangjiang:bank-upload:{token}"


class QuestionAdmin(InputGuardMixin, ReasonForChangeAdminMixin, SimpleHistoryAdmin):
    form = QuestionForm
    change_list_template = "certifications/exams/bank_change_list.html"
    list_display = ("id", "stem_text", "kind", "difficulty", "knowledge_point", "serves", "active")
    list_display_links = ("id", "stem_text")
    list_filter = ("kind", "difficulty", KnowledgePointFilter, "trades", "ranks", "active")
    search_fields = ("versions__stem", "knowledge_point")
    search_help_text = _("Searches the stems (every version) and knowledge points, in Chinese or English.")
    ordering = ("kind", "knowledge_point", "id")
    list_per_page = 50
    actions = (retire_questions, reactivate_questions)
    inlines = (QuestionVersionInline,)
    readonly_fields = ("current_images",)

    class Media:
        css = {"all": ("kuangjiang/exam_bank.css",)}

    def get_fieldsets(self, request, obj=None):
        image_fields = (
            ["image", "image_slot"] if obj is None else ["current_images", "image", "image_slot", "remove_images"]
        )
        fieldsets = [
            (None, {"fields": ["kind", "difficulty", "knowledge_point", "active"]}),
            (
                _("Text (the current version)"),
                {
                    "fields": ["stem", *OPTION_FIELDS, "answer", "explanation"],
                    "description": _(
                        "A question some paper has shown is not changed in place: saving makes a new version, "
                        "and the papers keep the version they showed."
                    ),
                },
            ),
            (_("Images"), {"fields": image_fields}),
            (_("Serves"), {"fields": ["trades", "ranks", "courses"]}),
        ]
        if obj is not None:
            # As ReasonForChangeAdminMixin adds it (that mixin's get_fieldsets comes after this one).
            fieldsets.append((_("Reason for change"), {"fields": [REASON_FIELD]}))
        return fieldsets

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions", "trades", "ranks")

    @admin.display(description=_("stem"))
    def stem_text(self, obj):
        current = obj.current
        if current is None:
            return "—"
        return current.stem if len(current.stem) <= 60 else current.stem[:58] + "…"

    @admin.display(description=_("trades × ranks"))
    def serves(self, obj):
        trades = "、".join(t.name for t in obj.trades.all())
        ranks = "、".join(r.name for r in obj.ranks.all())
        return " · ".join(part for part in (trades, ranks) if part) or "—"

    @admin.display(description=_("images now"))
    def current_images(self, obj):
        current = obj.current if obj and obj.pk else None
        if current is None:
            return "—"
        return images_html(current.images.all()) or "—"

    # Writes go through the bank's door ---------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        reason = (data.get(REASON_FIELD) or "").strip()
        values = {
            "kind": data["kind"],
            "stem": data["stem"],
            "options": form.options(),
            "answer": data["answer"],
            "explanation": data.get("explanation", ""),
            "difficulty": data["difficulty"],
            "knowledge_point": data.get("knowledge_point", ""),
            "active": data.get("active", False),
            "trades": list(data.get("trades") or []),
            "ranks": list(data.get("ranks") or []),
            "courses": list(data.get("courses") or []),
        }
        if change:
            question_update(
                obj,
                user=request.user,
                reason=reason,
                images=form.new_images(),
                remove_images=data.get("remove_images") or (),
                **values,
            )
        else:
            created = question_create(**values, images=form.new_images(), user=request.user, reason=reason)
            obj.pk, obj.version, obj.stem_key = created.pk, created.version, created.stem_key
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The door saved the trades, ranks and courses (no form.save_m2m); the versions inline is read-only and
        # saves nothing, but the change message reads what its formset did.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # The bank's sheets --------------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="certifications_question_import"),
            path("export/", wrap(self.export_view), name="certifications_question_export"),
            path("template/", wrap(self.template_view), name="certifications_question_template"),
            *super().get_urls(),
        ]

    def _may_import(self, request) -> bool:
        return request.user.has_perm("certifications.import_question")

    def import_view(self, request):
        """Upload a bank sheet, preview every row (new, duplicate, error), then import it on confirm."""
        if not self._may_import(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import questions"),
            "opts": self.model._meta,
            "help": IMPORT_HELP,
        }
        if request.method == "POST" and "cancel" in request.POST:
            cache.delete(_upload_key(request.POST.get("token", "")))
            messages.info(request, gettext("Import cancelled: nothing was written."))
            return redirect("admin:certifications_question_import")
        if request.method == "POST" and "token" in request.POST:
            return self._import_confirm(request)
        form = BankUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                data = read_bytes(upload)
                outcome = bank_parse(data)
            except SpreadsheetError as exc:
                form.add_error("file", str(exc))
            else:
                context["outcome"] = outcome
                context["has_errors"] = bool(outcome.counts["error"])
                if not context["has_errors"] and outcome.to_create:
                    token = secrets.token_urlsafe(24)
                    cache.set(
                        _upload_key(token), {"user_id": request.user.pk, "data": data, "name": upload.name}, UPLOAD_TTL
                    )
                    context["token"] = token
        context["form"] = form
        return TemplateResponse(request, "certifications/exams/bank_import.html", context)

    def _import_confirm(self, request):
        key = _upload_key(request.POST["token"])
        stored = cache.get(key)
        if not stored or stored["user_id"] != request.user.pk:
            messages.error(request, gettext("The upload has expired; upload the file again."))
            return redirect("admin:certifications_question_import")
        cache.delete(key)
        try:
            outcome = bank_import(stored["data"], user=request.user, filename=stored.get("name", ""))
        except (BankImportError, SpreadsheetError) as exc:
            messages.error(request, gettext("Nothing imported: %(reason)s") % {"reason": exc})
            return redirect("admin:certifications_question_import")
        counts = outcome.counts
        messages.success(
            request,
            gettext(
                "Imported %(new)s question(s); %(duplicate)s already in the bank and %(repeat)s repeated in the sheet "
                "were left out."
            )
            % {"new": len(outcome.created), "duplicate": counts["duplicate"], "repeat": counts["repeat"]},
        )
        return redirect("admin:certifications_question_changelist")

    def export_view(self, request):
        """Send the bank as filtered on the changelist, in the import's layout."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except admin.options.IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:certifications_question_changelist") + "?e=1")
        queryset = changelist.get_queryset(request)
        return _xlsx(bank_export(queryset), download_filename(gettext("question bank")))

    def template_view(self, request):
        """Send the empty bank sheet with example rows."""
        if not self._may_import(request):
            raise PermissionDenied
        return _xlsx(bank_template(), download_filename(gettext("question bank template")))


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


class ReadOnlyAdmin(ReadOnlyAdminMixin, InputGuardMixin, admin.ModelAdmin):
    """Versions and images are written only through the question's page (the bank's door): listed here to look up."""


class QuestionVersionAdmin(ReadOnlyAdmin):
    list_display = ("question", "number", "stem", "answer", "created_at", "times_shown")
    list_filter = ("question__kind", "question__active")
    search_fields = ("stem", "question__knowledge_point")
    ordering = ("question", "-number")
    fields = ("question", "number", "stem", "options", "answer", "explanation", "created_at", "created_by")
    list_select_related = ("question",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(times=Count("shown")).prefetch_related("question__versions")

    @admin.display(description=_("times shown"), ordering="times")
    def times_shown(self, obj):
        return obj.times


class QuestionImageAdmin(ReadOnlyAdmin):
    list_display = ("version", "slot", "thumbnail")
    list_filter = ("slot",)
    search_fields = ("version__stem",)
    ordering = ("version", "slot")
    fields = ("version", "slot", "thumbnail")
    readonly_fields = ("thumbnail",)
    list_select_related = ("version",)

    class Media:
        css = {"all": ("kuangjiang/exam_bank.css",)}

    @admin.display(description=_("image"))
    def thumbnail(self, obj):
        return images_html([obj])


admin.site.register(Question, QuestionAdmin)
admin.site.register(QuestionVersion, QuestionVersionAdmin)
admin.site.register(QuestionImage, QuestionImageAdmin)
