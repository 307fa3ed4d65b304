"""
The attempt audit in the admin, for disputes: every attempt read-only, its paper
as the candidate saw it with the answers given, and its events in time order
(start, each save with its time and question, flags, refusals, submit,
time-out, with the IP address and browser). Nobody adds, edits or deletes an
attempt here: they are the candidate's and the server's (certifications/exams/services.py).
"""

from django.contrib import admin
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from certifications.exams.audit import attempts_visible, paper_as_shown
from certifications.models import Attempt, AttemptEvent, AttemptQuestion, passed_q
from training.admin import WORKER_SEARCH
from training.admin_mixins import InputGuardMixin, ReadOnlyAdminMixin


def _time(value) -> str:
    return date_format(localtime(value), "Y-m-d H:i:s") if value else "—"


class PassedFilter(admin.SimpleListFilter):
    """Attempts by the result they became: passed, failed, or none yet."""

    title = _("passed")
    parameter_name = "passed"

    def lookups(self, request, model_admin):
        return (("yes", _("Passed")), ("no", _("Failed")), ("none", _("No result yet")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(passed_q("result__"))
        if self.value() == "no":
            return queryset.filter(result__isnull=False).exclude(passed_q("result__"))
        if self.value() == "none":
            return queryset.filter(result__isnull=True)
        return queryset


class EndedFilter(admin.SimpleListFilter):
    """Attempts by how they ended, or still open."""

    title = _("ended")
    parameter_name = "ended"

    def lookups(self, request, model_admin):
        return (*Attempt.Ended.choices, ("open", _("Still in progress")))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(ended_at__isnull=True)
        if self.value() in Attempt.Ended.values:
            return queryset.filter(ended=self.value())
        return queryset


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdminMixin, InputGuardMixin, admin.ModelAdmin):
    """Exam attempts, read-only: the paper as shown, the answers given and the audit of every event."""

    list_display = ("session", "candidate_name", "employee_no", "number", "started_at", "ended_how", "score", "passed")
    list_select_related = ("candidate__session", "candidate__worker", "result__assessment", "result__worker")
    # Only the sessions this user may audit (an assessor: those they examine), not every session's name.
    list_filter = (("candidate__session", admin.RelatedOnlyFieldListFilter), EndedFilter, PassedFilter)
    search_fields = tuple(f"candidate__{field}" for field in WORKER_SEARCH)
    ordering = ("-started_at", "id")
    date_hierarchy = "started_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "session_link",
                    "candidate_name",
                    "employee_no",
                    "number",
                    "public_id",
                    "started_at",
                    "deadline",
                    "ended_at",
                    "ended",
                    "score",
                    "full_marks",
                    "result",
                )
            },
        ),
        (_("The paper as shown, with the answers given"), {"fields": ("paper",)}),
        (_("Audit"), {"fields": ("audit",)}),
    )
    readonly_fields = ("session_link", "candidate_name", "employee_no", "paper", "audit")

    def get_queryset(self, request):
        return attempts_visible(request.user).select_related(*self.list_select_related)

    def get_object(self, request, object_id, from_field=None):
        # The change page shows every question and event: load them with the attempt, two queries, whatever the count.
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj = (
                self.get_queryset(request)
                .prefetch_related(
                    Prefetch(
                        "questions",
                        queryset=AttemptQuestion.objects.select_related("question_version__question")
                        .prefetch_related("question_version__images")
                        .order_by("order"),
                    ),
                    Prefetch("events", queryset=AttemptEvent.objects.order_by("at", "id")),
                )
                .get(pk=obj.pk)
            )
        return obj

    @admin.display(description=_("online exam session"), ordering="candidate__session__name")
    def session(self, obj):
        return obj.candidate.session

    @admin.display(description=_("online exam session"))
    def session_link(self, obj):
        session = obj.candidate.session
        url = reverse("certifications:exam-session-report", args=[session.pk])
        return format_html('<a href="{}">{}</a>', url, session)

    @admin.display(description=_("candidate"), ordering="candidate__worker__name")
    def candidate_name(self, obj):
        return obj.candidate.worker.name

    @admin.display(description=_("employee number"), ordering="candidate__worker__employee_no")
    def employee_no(self, obj):
        return obj.candidate.worker.employee_no

    @admin.display(description=_("ended"), ordering="ended")
    def ended_how(self, obj):
        return obj.get_ended_display() if obj.ended else _("Still in progress")

    @admin.display(description=_("passed"), boolean=True)
    def passed(self, obj):
        return None if obj.result is None else obj.result.passed

    @admin.display(description=_("paper"))
    def paper(self, obj):
        rows = []
        for shown in paper_as_shown(obj):
            line = shown.line
            options = format_html_join(
                "",
                '<li class="{}">{}. {}{}</li>',
                (
                    (
                        "exam-option exam-option--chosen" if o.chosen else "exam-option",
                        o.label,
                        o.text,
                        format_html(" <strong>✓ {}</strong>", _("correct")) if o.correct else "",
                    )
                    for o in shown.options
                ),
            )
            rows.append(
                format_html(
                    "<tr><td>{}</td><td>{}<ul>{}</ul></td><td>{}</td><td>{}</td><td>{} / {}</td>"
                    "<td>{}</td><td>{}</td><td>{}</td></tr>",
                    line.order,
                    line.question_version.stem,
                    options,
                    shown.given or "—",
                    shown.correct,
                    "—" if line.awarded is None else line.awarded,
                    line.marks,
                    _time(line.answered_at),
                    line.answer_seq,
                    "⚑" if line.flagged else "",
                )
            )
        if not rows:
            return _("No question was drawn.")
        return format_html(
            '<div class="table-scroll"><table class="exam-audit"><thead><tr>'
            "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table></div>",
            _("question number"),
            _("question (version shown)"),
            _("answer given"),
            _("correct answer"),
            _("marks"),
            _("answered at"),
            _("save number"),
            _("flagged"),
            format_html_join("", "{}", ((row,) for row in rows)),
        )

    @admin.display(description=_("events in time order"))
    def audit(self, obj):
        events = list(obj.events.all())
        if not events:
            return _("No event recorded.")
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _time(e.at),
                    e.get_kind_display(),
                    e.order or "",
                    e.detail,
                    e.ip or "",
                    e.user_agent,
                )
                for e in events
            ),
        )
        return format_html(
            '<div class="table-scroll"><table class="exam-audit"><thead><tr>'
            "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table></div>",
            _("time"),
            _("event"),
            _("question"),
            _("detail"),
            _("IP address"),
            _("browser"),
            body,
        )
