"""
The roll-up in the HR admin: rule sets inline on packages, the evaluation on a
worker's page, "evaluate selected workers", and approving or rejecting pending
awards. training/admin.py and certifications/admin.py plug these in.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.models import RankRecord, RuleSet
from certifications.ranks import inputs as selectors
from certifications.ranks import rules, services
from training.admin_mixins import InputGuardMixin

SYMBOL = {rules.Status.MET: "✓", rules.Status.UNMET: "✗", rules.Status.PENDING: "◐"}


class RuleSetInline(InputGuardMixin, admin.StackedInline):
    model = RuleSet
    extra = 0
    fieldsets = (
        (None, {"fields": (("name", "effective_from"),)}),
        (gettext_lazy("Training"), {"fields": (("require_package", "min_electives"),)}),
        (
            gettext_lazy("Exams"),
            {
                "fields": (
                    ("require_theory", "theory_pass_mark"),
                    ("require_practical", "practical_pass_mark"),
                    ("resit_limit", "exam_valid_months"),
                    ("theory_weight", "practical_weight", "composite_pass_mark"),
                )
            },
        ),
        (
            gettext_lazy("Time and review"),
            {"fields": (("years_at_previous_rank", "years_in_trade"), ("require_review", "allow_direct_entry"))},
        ),
    )


def _value(value) -> str:
    if value is None:
        return "—"
    return str(value)


def evaluation_html(worker, evidence_words=None) -> str:
    """
    Render the roll-up explanation of every trade the worker holds, for the worker's admin page.
    `evidence_words(keys)` says what the records behind the evidence keys are ({key: text}), all at once;
    without it the evidence is not listed (it is never shown as ids).
    """
    if worker is None or worker.pk is None:
        return "—"
    blocks = []
    trade_names = dict(worker.worker_trades.values_list("trade_id", "trade__name"))
    explanations = selectors.worker_explanations_get(worker=worker)
    keys = {
        e for explanation in explanations for step in explanation.steps for r in step.requirements for e in r.evidence
    }
    words = evidence_words(sorted(keys)) if evidence_words is not None and keys else {}
    for explanation in explanations:
        rows = []
        for step in explanation.steps:
            rows.append(
                format_html(
                    '<tr><th colspan="5">{} <small>({})</small></th></tr>',
                    step.rank_name,
                    step.rule_set_name or _("no rule set in force"),
                )
            )
            rows.extend(
                format_html(
                    "<tr><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td><small>{}</small></td></tr>",
                    SYMBOL[r.status],
                    r.label,
                    _value(r.actual),
                    _value(r.required),
                    r.met_on.isoformat() if r.met_on else "",
                    "; ".join(filter(None, [r.detail, *(words[e] for e in r.evidence if e in words)])),
                )
                for r in step.requirements
            )
        blocks.append(
            format_html(
                "<p><strong>{}</strong>: {} {}</p><table>"
                "<tr><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
                trade_names.get(explanation.trade_id, explanation.trade_id),
                _("holds"),
                explanation.held_rank_name or _("no rank"),
                _("requirement"),
                _("actual / required"),
                _("met on"),
                _("details and evidence"),
                format_html_join("", "{}", ((row,) for row in rows)),
            )
        )
    return format_html_join("", "{}", ((block,) for block in blocks)) if blocks else _("No trades.")


@admin.action(description=gettext_lazy("Evaluate selected workers"), permissions=["change"])
def evaluate_selected_workers(modeladmin, request, queryset):
    report = services.ranks_recompute(worker_ids=list(queryset.values_list("pk", flat=True)))
    if not report.changes:
        modeladmin.message_user(request, _("Evaluated %(n)s workers: nothing changed.") % {"n": report.workers})
        return
    modeladmin.message_user(
        request,
        _("Evaluated %(n)s workers: %(changes)s")
        % {"n": report.workers, "changes": "; ".join(map(str, report.changes))},
        messages.SUCCESS,
    )


@admin.action(description=gettext_lazy("Approve selected pending awards"), permissions=["change"])
def approve_awards(modeladmin, request, queryset):
    approved = 0
    for record in queryset.filter(status=RankRecord.Status.PENDING):
        services.rank_approve(record=record, user=request.user)
        approved += 1
    modeladmin.message_user(request, _("Approved %(n)s awards.") % {"n": approved})


@admin.action(description=gettext_lazy("Reject selected pending awards…"), permissions=["change"])
def reject_awards(modeladmin, request, queryset):
    pending = queryset.filter(status=RankRecord.Status.PENDING).select_related("worker", "trade", "rank")
    reason = (request.POST.get("reject_reason") or "").strip()
    if request.POST.get("post") == "yes" and reason:
        rejected = 0
        for record in pending:
            try:
                services.rank_reject(record=record, user=request.user, reason=reason)
                rejected += 1
            except ValidationError as error:
                modeladmin.message_user(request, "; ".join(error.messages), messages.ERROR)
        modeladmin.message_user(request, _("Rejected %(n)s awards.") % {"n": rejected})
        return None
    # Ask for the reason on an intermediate page, like Django's delete confirmation.
    return TemplateResponse(
        request,
        "admin/certifications/rankrecord/reject_confirmation.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Reject pending awards"),
            "queryset": pending,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "missing_reason": request.POST.get("post") == "yes",
        },
    )
