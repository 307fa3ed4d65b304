"""The HR admin for assessments, ranks, certificates, honours, mentoring and compliance rules."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from certifications.clearance.admin import (  # also registers the ApiToken admin
    CertificateDueFilter,
    WorkerClearanceFilter,
)
from certifications.exams import (
    admin_attempts,  # noqa: F401 — registers the attempt audit's admin
    admin_bank,  # noqa: F401  (registers the question bank's admin)
    admin_flow,  # noqa: F401  (registers the paper template and exam session admins)
)
from certifications.models import (
    Assessment,
    AssessmentResult,
    Certificate,
    CertificateReview,
    ComplianceRule,
    ComprehensiveReview,
    Honour,
    Mentorship,
    RankRecord,
    ReminderLog,
    RuleSet,
    Sitting,
    SittingCandidate,
    passed_q,
)
from certifications.practical import admin as _practical_admin  # noqa: F401  (registers the scoring admins)
from certifications.progress import approvals
from certifications.ranks.admin_rollup import (
    RuleSetInline,
    approve_awards,
    evaluate_selected_workers,
    evaluation_html,
    reject_awards,
)
from certifications.simulators import admin as simulators_admin  # noqa: F401  (registers the simulator admins)
from certifications.sittings import selectors as sitting_selectors
from certifications.sittings.services import (
    candidates_add,
    sitting_delete,
    sitting_examiners_sync,
    sitting_save,
)
from certifications.spreadsheets.resources import (
    AssessmentResultResource,
    CertificateResource,
    HonourResource,
    RankRecordResource,
)
from core.history import with_reason
from core.importexport import ResultsImportAdminMixin, SpreadsheetAdminMixin
from core.text import person_label
from training import admin as training_admin
from training.access import is_hr
from training.admin import WORKER_SEARCH, EditableInline, RecordInline, WorkerUnitFilter
from training.admin_mixins import (
    DoorAdminMixin,
    DoorDeleteAdminMixin,
    DoorInlinesMixin,
    InputGuardMixin,
    ReasonForChangeAdminMixin,
    ReasonForChangeInlineMixin,
    RetainedAdminMixin,
    SoftDeleteAdminMixin,
    SoftDeleteInlineMixin,
    ViewerMixin,
    viewer,
)
from training.models import TrainingClass, TrainingPackage, Unit, Worker


class WorkerColumnsMixin:
    """The employee number and unit columns HR expects next to a worker's name."""

    @admin.display(description=_("employee number"), ordering="worker__employee_no")
    def employee_no(self, obj):
        return obj.worker.employee_no

    @admin.display(description=_("unit"), ordering="worker__unit__name")
    def unit(self, obj):
        return obj.worker.unit.name


def examined_by(user, queryset, path: str):
    # HR sees every assessment; an assessor sees only the sittings they examine.
    if is_hr(user):
        return queryset
    return queryset.filter(**{path: user}).distinct()


# Assessments ---------------------------------------------------------------------------------------


class ResultInline(SoftDeleteInlineMixin, ReasonForChangeInlineMixin, EditableInline):
    model = AssessmentResult
    fields = ("worker", "attempt", "score", "absent", "remarks")
    autocomplete_fields = ("worker",)
    list_select_related = ("assessment",)


def subject_text(obj) -> str:
    """What an assessment or a sitting assesses: a special operation, a trade × rank, or a course."""
    if obj.special_operation_id:
        return obj.special_operation.name
    if obj.trade_id and obj.rank_id:
        return f"{obj.trade.name} · {obj.rank.name}"
    return obj.course.title if obj.course_id else "—"


def score_text(result):
    """A result as a list shows it: its score, or "absent"."""
    return _("Absent") if result.absent else result.score


class ExaminersMixin:
    """The examiner picker of assessments and sittings: active staff, listed by name with their login."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "examiners":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .select_related("worker")
                .order_by("first_name", "last_name", "username")
            )
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "examiners":
            field.label_from_instance = person_label  # "张志强（assessor）", not the bare login name
        return field


@admin.register(Assessment)
class AssessmentAdmin(ExaminersMixin, InputGuardMixin, DoorInlinesMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "subject", "held_on", "pass_mark", "full_marks", "sat", "passed")
    list_select_related = ("course", "trade", "rank", "special_operation")
    list_filter = ("kind", "trade", "rank", "special_operation", "held_on")
    date_hierarchy = "held_on"
    search_fields = ("code", "name", "course__code", "course__title", "trade__name", "special_operation__name")
    autocomplete_fields = ("course", "trade", "rank", "special_operation")
    filter_horizontal = ("examiners",)
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "held_on", "venue")}),
        (_("What it assesses"), {"fields": ("course", "trade", "rank", "special_operation")}),
        (_("Marking"), {"fields": ("full_marks", "pass_mark", "examiners")}),
    )
    inlines = (ResultInline,)
    evidence_parent_fields = ("kind", "held_on", "trade", "rank", "full_marks")

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                sat_count=Count("results", filter=Q(results__absent=False)),
                passed_count=Count("results", filter=passed_q("results__", pass_mark="pass_mark")),
            )
        )
        return examined_by(request.user, queryset, "examiners")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Its sheets already handed out carry the code: it ties their upload back to the sitting.
        return [*readonly, "code"] if obj is not None else readonly

    @admin.display(description=_("assesses"))
    def subject(self, obj):
        return subject_text(obj)

    @admin.display(description=_("sat"), ordering="sat_count")
    def sat(self, obj):
        return obj.sat_count

    @admin.display(description=_("passed"), ordering="passed_count")
    def passed(self, obj):
        return obj.passed_count


@admin.register(AssessmentResult)
class AssessmentResultAdmin(
    InputGuardMixin,
    DoorAdminMixin,
    ResultsImportAdminMixin,
    SoftDeleteAdminMixin,
    ReasonForChangeAdminMixin,
    WorkerColumnsMixin,
    SimpleHistoryAdmin,
):
    resource_classes = [AssessmentResultResource]
    # The worker's name carries the employee number; unit and kind are filters. The score stays in view at 1280 px.
    list_display = ("worker", "assessment", "held_on", "attempt", "score_shown", "passed")
    list_select_related = ("worker__unit", "assessment")
    list_filter = (
        "assessment__kind",
        "absent",
        "attempt",
        WorkerUnitFilter,
        "assessment__trade",
        "assessment__rank",
        "assessment__special_operation",
        "assessment__held_on",
    )
    date_hierarchy = "assessment__held_on"
    search_fields = (*WORKER_SEARCH, "assessment__code", "assessment__name", "assessment__course__code")
    autocomplete_fields = ("assessment", "worker")
    fields = (
        "assessment",
        "worker",
        "attempt",
        "score",
        "absent",
        "full_marks",
        "remarks",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = ("full_marks", "recorded_by", "recorded_at")

    def get_queryset(self, request):
        return examined_by(request.user, super().get_queryset(request), "assessment__examiners")

    def _examines(self, request, obj) -> bool:
        return obj is None or is_hr(request.user) or obj.assessment.examiners.filter(pk=request.user.pk).exists()

    # An assessor sees and corrects only the results of sittings they examine, never another examiner's.
    # get_queryset is not enough: simple_history's history pages fall back to the history rows.
    def has_view_permission(self, request, obj=None):
        return self._examines(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._examines(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._examines(request, obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the assessments this user examines can be chosen (and posted) for a new or moved result.
        if db_field.name == "assessment":
            kwargs["queryset"] = examined_by(request.user, Assessment.objects.all(), "examiners")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("kind"), ordering="assessment__kind")
    def kind(self, obj):
        return obj.assessment.get_kind_display()

    @admin.display(description=_("date"), ordering="assessment__held_on")
    def held_on(self, obj):
        return obj.assessment.held_on

    @admin.display(description=_("score"), ordering="score")
    def score_shown(self, obj):
        return score_text(obj)

    @admin.display(description=_("passed"), boolean=True)
    def passed(self, obj):
        return obj.passed


# Appraisal sittings --------------------------------------------------------------------------------


class CandidateInline(EditableInline):
    model = SittingCandidate
    fields = ("worker", "unit", "source", "remarks")
    readonly_fields = ("unit", "source")
    autocomplete_fields = ("worker",)
    list_select_related = ("worker__unit", "sitting")
    verbose_name = _("candidate")
    verbose_name_plural = _("roster")

    @admin.display(description=_("unit"))
    def unit(self, obj):
        return obj.worker.unit.name if obj.worker_id else "—"


class ReadyWorkerField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.employee_no} {obj.name} · {obj.unit.name}"


class SittingForm(forms.ModelForm):
    """A sitting, and the roster adders: a unit, a class's attendance, the workers ready for the rank."""

    ready_ids: tuple[int, ...] = ()

    add_unit = forms.ModelChoiceField(
        label=_("Add the workers of a unit"),
        queryset=Unit.objects.order_by("sort_order", "code"),
        required=False,
        help_text=_("With the units below it; for a trade appraisal, only the workers who hold the trade."),
    )
    add_class = forms.ModelChoiceField(
        label=_("Add those who attended a class"),
        queryset=TrainingClass.objects.none(),
        required=False,
    )
    add_all_ready = forms.BooleanField(
        label=_("Add every worker ready for this rank"),
        required=False,
        help_text=_("Those for whom, by the roll-up, the exam is all that is missing for the rank."),
    )
    add_ready = ReadyWorkerField(
        label=_("Ready for this rank"),
        queryset=Worker.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the workers to put on the roster."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        recent = timezone.localdate().replace(month=1, day=1)
        self.fields["add_class"].queryset = (
            TrainingClass.objects.filter(start__gte=recent.replace(year=recent.year - 2))
            .select_related("course")
            .order_by("-start", "code")
        )
        self.fields["add_ready"].queryset = Worker.objects.filter(pk__in=self.ready_ids).select_related("unit")


@admin.register(Sitting)
class SittingAdmin(ExaminersMixin, InputGuardMixin, DoorAdminMixin, DoorInlinesMixin, SimpleHistoryAdmin):
    form = SittingForm
    list_display = (
        "code",
        "name",
        "subject",
        "theory_on",
        "practical_on",
        "roster_size",
        "results_sheet",
    )
    list_select_related = ("course", "trade", "rank", "special_operation")
    list_filter = ("trade", "rank", "special_operation", "theory_on", "practical_on")
    search_fields = (
        "code",
        "name",
        "trade__name",
        "course__code",
        "course__title",
        "special_operation__name",
        "candidates__worker__employee_no",
        "candidates__worker__name",
        "candidates__worker__name_pinyin",
        "candidates__worker__name_initials",
    )
    ordering = ("-created_at", "-id")
    autocomplete_fields = ("course", "trade", "rank", "special_operation", "theory", "practical")
    filter_horizontal = ("examiners",)
    readonly_fields = ("results_sheet", "results_upload", "created_at")
    inlines = (CandidateInline,)
    actions = ("add_ready_workers",)
    fieldsets = (
        (None, {"fields": ("code", "name", "venue", "remarks")}),
        (_("What it assesses"), {"fields": ("trade", "rank", "course", "special_operation")}),
        (
            _("Exams"),
            {
                "fields": (
                    "theory_on",
                    "practical_on",
                    ("theory_full_marks", "theory_pass_mark"),
                    ("practical_full_marks", "practical_pass_mark"),
                    "examiners",
                )
            },
        ),
        (_("Assessments"), {"fields": ("theory", "practical", "results_sheet", "results_upload")}),
        (_("Add to the roster"), {"fields": ("add_unit", "add_class", "add_all_ready", "add_ready")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(roster_count=Count("candidates", distinct=True))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.trade_id and obj.rank_id:
            form.ready_ids = tuple(sitting_selectors.ready_candidate_ids(sitting=obj))
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None or not (obj.trade_id and obj.rank_id):
            # The picker lists the workers ready for a saved trade × rank sitting.
            fieldsets = [
                (title, {**options, "fields": [f for f in options["fields"] if f != "add_ready"]})
                for title, options in fieldsets
            ]
        return fieldsets

    def save_model(self, request, obj, form, change):
        try:
            sitting_save(obj, user=request.user)
        except ValidationError as error:
            # After the form was checked (a date removed from an exam with results): nothing is saved.
            raise _Refused(error) from None

    def save_formset(self, request, form, formset, change):
        # The roster's audit trail says how each hand-made line came about.
        for line in formset.forms:
            if line.has_changed() and not line.cleaned_data.get("DELETE"):
                adding = line.instance._state.adding
                with_reason(
                    line.instance, gettext("Added by hand") if adding else gettext("Changed on the sitting's page")
                )
        return super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        sitting = form.instance
        sitting_examiners_sync(sitting)  # the examiners the form just saved examine its assessments too
        added = 0
        data = form.cleaned_data
        if data.get("add_unit"):
            ids = sitting_selectors.unit_candidate_ids(sitting=sitting, unit=data["add_unit"])
            added += candidates_add(
                sitting=sitting, worker_ids=ids, source=SittingCandidate.Source.UNIT, user=request.user
            )
        if data.get("add_class"):
            ids = sitting_selectors.class_candidate_ids(sitting=sitting, training_class=data["add_class"])
            added += candidates_add(
                sitting=sitting, worker_ids=ids, source=SittingCandidate.Source.CLASS, user=request.user
            )
        ready = [w.pk for w in data.get("add_ready") or ()]
        if data.get("add_all_ready"):
            ready += sitting_selectors.ready_candidate_ids(sitting=sitting)
        if ready:
            added += candidates_add(
                sitting=sitting, worker_ids=ready, source=SittingCandidate.Source.READY, user=request.user
            )
        if added:
            self.message_user(
                request,
                ngettext("%(count)d worker added to the roster.", "%(count)d workers added to the roster.", added)
                % {"count": added},
                messages.SUCCESS,
            )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            self.message_user(request, " ".join(refused.error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        # A sitting with results stays on record; one without is deleted with its roster and assessments.
        if obj is not None and sitting_has_results(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        sitting_delete(sitting=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for sitting in queryset:
            try:
                sitting_delete(sitting=sitting, user=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)

    @admin.action(description=_("Add the workers ready for the rank to the roster"), permissions=["change"])
    def add_ready_workers(self, request, queryset):
        for sitting in queryset:
            ids = sitting_selectors.ready_candidate_ids(sitting=sitting)
            added = candidates_add(
                sitting=sitting, worker_ids=ids, source=SittingCandidate.Source.READY, user=request.user
            )
            self.message_user(
                request,
                gettext("%(sitting)s: %(count)d worker(s) added to the roster.") % {"sitting": sitting, "count": added},
                messages.SUCCESS,
            )

    @admin.display(description=_("assesses"))
    def subject(self, obj):
        return subject_text(obj)

    @admin.display(description=_("roster"), ordering="roster_count")
    def roster_size(self, obj):
        return getattr(obj, "roster_count", None)

    @admin.display(description=_("results sheet"))
    def results_sheet(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("certifications:sitting-sheet", args=[obj.pk]), gettext("Download (.xlsx)")
        )

    @admin.display(description=_("filled-in sheet"))
    def results_upload(self, obj):
        # Where the sheet goes back once the scores are in: the results import reads it whatever re-saved it.
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("certifications:results-import"), gettext("Upload it on Import exam results")
        )


@admin.register(SittingCandidate)
class SittingCandidateAdmin(
    InputGuardMixin, DoorAdminMixin, DoorDeleteAdminMixin, WorkerColumnsMixin, SimpleHistoryAdmin
):
    """Every roster line: which sittings a worker is down for. Usually edited on the sitting's page."""

    list_display = ("sitting", "worker", "employee_no", "unit", "source", "added_at")
    list_select_related = ("sitting", "worker__unit")
    list_filter = ("source", WorkerUnitFilter, "sitting__trade", "sitting__rank")
    search_fields = (*WORKER_SEARCH, "sitting__code", "sitting__name")
    ordering = ("-added_at", "-id")
    autocomplete_fields = ("sitting", "worker")
    fields = ("sitting", "worker", "source", "remarks")


class _Refused(Exception):
    def __init__(self, error: ValidationError):
        self.error = error
        super().__init__(error)


def sitting_has_results(sitting: Sitting) -> bool:
    ids = [pk for pk in (sitting.theory_id, sitting.practical_id) if pk]
    return bool(ids) and AssessmentResult.all_objects.filter(assessment_id__in=ids).exists()


@admin.register(ComprehensiveReview)
class ComprehensiveReviewAdmin(
    InputGuardMixin,
    DoorAdminMixin,
    RetainedAdminMixin,
    ReasonForChangeAdminMixin,
    WorkerColumnsMixin,
    SimpleHistoryAdmin,
):
    list_display = ("worker", "employee_no", "unit", "trade", "rank", "held_on", "passed", "panel")
    list_select_related = ("worker__unit", "trade", "rank")
    list_filter = ("passed", "trade", "rank", WorkerUnitFilter, "held_on")
    date_hierarchy = "held_on"
    search_fields = (*WORKER_SEARCH, "trade__name", "panel")
    autocomplete_fields = ("worker", "trade", "rank")


# Rules and ranks ---------------------------------------------------------------------------------------


@admin.register(RuleSet)
class RuleSetAdmin(InputGuardMixin, ReasonForChangeAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "package",
        "name",
        "effective_from",
        "theory_pass_mark",
        "practical_pass_mark",
        "years_at_previous_rank",
        "years_in_trade",
        "require_review",
        "exam_valid_months",
    )
    list_select_related = ("package__trade", "package__rank")
    list_filter = ("package__trade", "package__rank", "require_review", "name", "effective_from")
    date_hierarchy = "effective_from"
    search_fields = ("name", "package__code", "package__name", "package__trade__name")
    autocomplete_fields = ("package",)
    fieldsets = (
        (None, {"fields": ("package", "name", "effective_from")}),
        (_("Training"), {"fields": ("require_package", "min_electives")}),
        (
            _("Exams"),
            {
                "fields": (
                    ("require_theory", "theory_pass_mark"),
                    ("require_practical", "practical_pass_mark"),
                    "resit_limit",
                    "exam_valid_months",
                )
            },
        ),
        (_("Weighted composite score"), {"fields": ("theory_weight", "practical_weight", "composite_pass_mark")}),
        (
            _("Time and review"),
            {"fields": ("years_at_previous_rank", "years_in_trade", "require_review", "allow_direct_entry")},
        ),
    )


@admin.register(RankRecord)
class RankRecordAdmin(
    ViewerMixin,
    InputGuardMixin,
    DoorAdminMixin,
    SpreadsheetAdminMixin,
    SoftDeleteAdminMixin,
    ReasonForChangeAdminMixin,
    WorkerColumnsMixin,
    SimpleHistoryAdmin,
):
    resource_classes = [RankRecordResource]
    list_display = (
        "worker",
        "employee_no",
        "unit",
        "trade",
        "rank",
        "status",
        "source",
        "awarded_on",
        "certificate_no",
        "needs_review",
    )
    list_select_related = ("worker__unit", "trade", "rank")
    list_filter = ("status", "source", "needs_review", "trade", "rank", WorkerUnitFilter, "awarded_on")
    date_hierarchy = "awarded_on"
    search_fields = (*WORKER_SEARCH, "certificate_no", "trade__name")
    autocomplete_fields = ("worker", "trade", "rank", "rule_set")
    readonly_fields = ("evidence_shown", "decided_by", "decided_at", "created_at")
    # Pending awards: filter status "Pending approval", then approve or reject them.
    actions = (approve_awards, reject_awards)
    fieldsets = (
        (None, {"fields": ("worker", "trade", "rank", "status", "source", "awarded_on", "certificate_no", "rule_set")}),
        (
            pgettext_lazy("HR check of an award", "Review"),
            {"fields": ("needs_review", "review_reason", "decided_by", "decided_at", "created_at")},
        ),
        (_("Evidence"), {"fields": ("evidence_shown",)}),
    )

    @admin.display(description=_("evidence"))
    def evidence_shown(self, obj):
        """The award's requirements in the words of the worker and approval pages, its evidence as links."""
        if obj is None or obj.pk is None or not (obj.evidence or {}).get("requirements"):
            return "—"
        award = approvals.award_words([obj], user=viewer())[0]
        items = format_html_join(
            "",
            "<li>{}{}</li>",
            (
                (
                    requirement.text,
                    format_html(
                        " ({})",
                        format_html_join(
                            "; ",
                            "{}",
                            (
                                (format_html('<a href="{}">{}</a>', link.url, link.text) if link.url else link.text,)
                                for link in requirement.links
                            ),
                        ),
                    )
                    if requirement.links
                    else "",
                )
                for requirement in award.requirements
            ),
        )
        held = (
            format_html("<p>{} {}</p>", gettext("Held from (the day its last requirement was met):"), award.held_from)
            if award.held_from
            else ""
        )
        rejected = (obj.evidence or {}).get("rejection_reason")
        why = format_html("<p>{} {}</p>", gettext("Reason for rejection:"), rejected) if rejected else ""
        return format_html('<ul class="requirements">{}</ul>{}{}', items, held, why)


# Certificates, honours, mentoring -------------------------------------------------------------------------


class CertificateReviewInline(RetainedAdminMixin, ReasonForChangeInlineMixin, EditableInline):
    model = CertificateReview
    fields = ("reviewed_on", "outcome", "training_hours", "reviewer", "remarks")
    list_select_related = ("certificate",)


@admin.register(Certificate)
class CertificateAdmin(
    InputGuardMixin,
    DoorAdminMixin,
    DoorInlinesMixin,
    SpreadsheetAdminMixin,
    SoftDeleteAdminMixin,
    ReasonForChangeAdminMixin,
    WorkerColumnsMixin,
    SimpleHistoryAdmin,
):
    resource_classes = [CertificateResource]
    # Kind and unit are filters, the issue date is on the form: valid-until and next review stay in view at 1280 px.
    list_display = ("number", "worker", "covers", "valid_until", "next_review_due", "status")
    list_select_related = ("worker__unit", "special_operation", "trade", "rank")
    list_filter = (
        "kind",
        "status",
        CertificateDueFilter,
        "special_operation",
        "rank",
        WorkerUnitFilter,
        "extended_review_approved",
        "valid_until",
    )
    date_hierarchy = "issued_on"
    search_fields = ("number", *WORKER_SEARCH, "special_operation__name", "issuing_body")
    autocomplete_fields = ("worker", "special_operation", "trade", "rank")
    fieldsets = (
        (None, {"fields": ("kind", "number", "worker", "status")}),
        (_("What it certifies"), {"fields": ("special_operation", "trade", "rank")}),
        (
            _("Validity"),
            {
                "fields": (
                    "issuing_body",
                    "first_issued_on",
                    "issued_on",
                    "valid_until",
                    "next_review_due",
                    "extended_review_approved",
                    "remarks",
                )
            },
        ),
    )
    inlines = (CertificateReviewInline,)

    @admin.display(description=_("certifies"))
    def covers(self, obj):
        if obj.special_operation_id:
            return obj.special_operation.name
        parts = [str(part) for part in (obj.trade, obj.rank) if part is not None]
        return " · ".join(parts) or "—"


@admin.register(CertificateReview)
class CertificateReviewAdmin(
    InputGuardMixin, DoorAdminMixin, RetainedAdminMixin, ReasonForChangeAdminMixin, SimpleHistoryAdmin
):
    list_display = ("certificate", "worker", "reviewed_on", "outcome", "training_hours", "reviewer")
    list_select_related = ("certificate__worker",)
    list_filter = ("outcome", "reviewed_on")
    date_hierarchy = "reviewed_on"
    search_fields = (
        "certificate__number",
        "certificate__worker__employee_no",
        "certificate__worker__name",
        "certificate__worker__name_pinyin",
        "certificate__worker__name_initials",
    )
    autocomplete_fields = ("certificate",)

    @admin.display(description=_("worker"), ordering="certificate__worker__name_pinyin")
    def worker(self, obj):
        return obj.certificate.worker


@admin.register(Honour)
class HonourAdmin(InputGuardMixin, SpreadsheetAdminMixin, SoftDeleteAdminMixin, WorkerColumnsMixin, SimpleHistoryAdmin):
    resource_classes = [HonourResource]
    list_display = ("worker", "employee_no", "unit", "title", "level", "awarding_body", "document_no", "awarded_on")
    list_select_related = ("worker__unit",)
    list_filter = ("level", WorkerUnitFilter, "awarded_on")
    date_hierarchy = "awarded_on"
    search_fields = (*WORKER_SEARCH, "title", "awarding_body", "document_no")
    autocomplete_fields = ("worker",)


@admin.register(Mentorship)
class MentorshipAdmin(InputGuardMixin, RetainedAdminMixin, SimpleHistoryAdmin):
    list_display = ("apprentice", "mentor", "trade", "start", "planned_end", "signed_off", "signed_off_on")
    list_select_related = ("apprentice", "mentor", "trade")
    list_filter = ("trade", ("signed_off_on", admin.EmptyFieldListFilter), "start")
    date_hierarchy = "start"
    search_fields = (
        "apprentice__employee_no",
        "apprentice__name",
        "apprentice__name_pinyin",
        "apprentice__name_initials",
        "mentor__employee_no",
        "mentor__name",
        "mentor__name_pinyin",
        "mentor__name_initials",
    )
    autocomplete_fields = ("apprentice", "mentor", "trade")

    @admin.display(description=_("signed off"), boolean=True, ordering="signed_off_on")
    def signed_off(self, obj):
        return obj.signed_off_on is not None


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(InputGuardMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "effective_from",
        "category",
        "trade",
        "initial_hours",
        "annual_hours",
        "special_initial_hours",
        "certificate_valid_years",
        "review_interval_years",
    )
    list_select_related = ("trade",)
    list_filter = ("category", "trade", "effective_from")
    search_fields = ("name",)
    autocomplete_fields = ("trade",)
    fieldsets = (
        (None, {"fields": ("name", "effective_from", "category", "trade")}),
        (_("Training hours"), {"fields": ("initial_hours", "annual_hours", "special_initial_hours")}),
        (
            _("Special-operation certificates"),
            {
                "fields": (
                    "certificate_valid_years",
                    "review_interval_years",
                    "extended_review_interval_years",
                    "review_window_days",
                    "review_training_hours",
                    "review_failures_allowed",
                )
            },
        ),
        (
            _("Mentoring, absence and managers"),
            {
                "fields": (
                    "mentoring_months",
                    "away_practical_months",
                    "away_retrain_months",
                    "manager_assessment_months",
                )
            },
        ),
    )


@admin.register(ReminderLog)
class ReminderLogAdmin(InputGuardMixin, admin.ModelAdmin):
    """What send_reminders already sent; written by the command only."""

    list_display = ("sent_on", "recipient", "worker", "item_key", "bucket", "due_on")
    list_select_related = ("worker",)
    list_filter = ("bucket", "sent_on", "due_on")
    date_hierarchy = "sent_on"
    search_fields = ("recipient", "item_key", *WORKER_SEARCH)
    autocomplete_fields = ("worker",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# The people and packages of training/, with what this app records of them ------------------------------


class RankRecordInline(RecordInline):
    model = RankRecord
    fields = ("trade", "rank", "status", "source", "awarded_on", "certificate_no")
    readonly_fields = fields
    list_select_related = ("worker", "trade", "rank")
    verbose_name_plural = _("skill ranks")


class CertificateInline(RecordInline):
    model = Certificate
    fields = ("kind", "number", "special_operation", "rank", "issued_on", "valid_until", "next_review_due", "status")
    readonly_fields = fields
    list_select_related = ("special_operation", "rank")


class WorkerResultInline(RecordInline):
    model = AssessmentResult
    # One column for the outcome: the score, or "absent" — not a red ✗ on every row where absent is "no".
    fields = ("assessment", "attempt", "score_shown", "remarks")
    readonly_fields = fields
    list_select_related = ("worker", "assessment")

    @admin.display(description=_("score"))
    def score_shown(self, obj):
        return score_text(obj)


@admin.register(Worker)
class WorkerAdmin(ViewerMixin, training_admin.WorkerAdmin):
    list_display = (
        *training_admin.WorkerAdmin.list_display[:4],
        "top_rank",
        *training_admin.WorkerAdmin.list_display[4:],
    )
    list_filter = (
        *training_admin.WorkerAdmin.list_filter[:1],
        WorkerClearanceFilter,
        *training_admin.WorkerAdmin.list_filter[1:],
    )
    readonly_fields = (*training_admin.WorkerAdmin.readonly_fields, "evaluation")
    actions = (evaluate_selected_workers,)
    fieldsets = (*training_admin.WorkerAdmin.fieldsets, (_("Skill ranks: evaluation"), {"fields": ("evaluation",)}))
    inlines = (*training_admin.WorkerAdmin.inlines, RankRecordInline, CertificateInline, WorkerResultInline)

    def get_queryset(self, request):
        awarded = RankRecord.objects.filter(worker=OuterRef("pk"), status=RankRecord.Status.AWARDED)
        return (
            super()
            .get_queryset(request)
            .annotate(top_rank_name=Subquery(awarded.order_by("-rank__order").values("rank__name")[:1]))
        )

    @admin.display(description=_("evaluation"))
    def evaluation(self, obj):
        def words(keys):
            links = approvals.evidence_links(keys, user=viewer()).links
            return {key: link.text for key, link in links.items()}

        return evaluation_html(obj, evidence_words=words)

    @admin.display(description=_("highest rank"), ordering="top_rank_name")
    def top_rank(self, obj):
        return obj.top_rank_name or "—"


@admin.register(TrainingPackage)
class TrainingPackageAdmin(training_admin.TrainingPackageAdmin):
    inlines = (*training_admin.TrainingPackageAdmin.inlines, RuleSetInline)
