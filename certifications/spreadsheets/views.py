"""
Admin pages for spreadsheets: the exam-results import (upload → preview →
confirm) and the background ledger export (start → progress → download).
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from certifications.models import Sitting
from certifications.spreadsheets.ledger import ledger_filename, ledger_year_clean
from certifications.spreadsheets.results import (
    ResultsAlreadyImported,
    ResultsImportError,
    results_import,
    results_parse,
    results_preview,
    results_template,
)
from certifications.spreadsheets.sitting_sheet import sitting_sheet_filename, sitting_sheet_xlsx
from certifications.spreadsheets.tasks import (
    export_storage,
    exports_clean_up,
    ledger_export_task,
    progress_get,
    progress_set,
)
from core.spreadsheets import SpreadsheetError, read_bytes
from training import access

UPLOAD_TTL = 3600
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


class ResultsUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Exam results sheet (.xlsx, .xls or .csv)"))


def _upload_key(token: str) -> str:
    return f"kuangjiang:results-upload:{token}"


@permission_required("certifications.import_assessmentresult", raise_exception=True)
def results_import_view(request):
    """Upload an exam-centre sheet, show the dry run row by row, then apply it on confirm."""
    context = {**admin.site.each_context(request), "title": _("Import exam results")}
    if request.method == "POST" and "cancel" in request.POST:
        cache.delete(_upload_key(request.POST.get("token", "")))
        messages.info(request, _("Import cancelled: nothing was written."))
        return redirect("certifications:results-import")
    if request.method == "POST" and "token" in request.POST:
        return _results_confirm(request, context)
    form = ResultsUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = read_bytes(form.cleaned_data["file"])
            outcome = results_parse(data, user=request.user)
        except SpreadsheetError as exc:
            form.add_error("file", str(exc))
        else:
            context["outcome"] = outcome
            context["has_errors"] = any(row.errors for row in outcome.rows)
            if not context["has_errors"] and (outcome.to_create or outcome.to_correct):
                # What the roll-up will propose, by the same engine, in a write that is rolled back.
                context["awards_known"] = (
                    results_preview(outcome, user=request.user, filename=form.cleaned_data["file"].name) is not None
                )
                # The upload carries personal data: kept in the (private) cache for an hour, for this user only.
                token = secrets.token_urlsafe(24)
                cache.set(
                    _upload_key(token),
                    {"user_id": request.user.pk, "data": data, "name": form.cleaned_data["file"].name},
                    UPLOAD_TTL,
                )
                context["token"] = token
    context["form"] = form
    return TemplateResponse(request, "certifications/spreadsheets/results_import.html", context)


@permission_required("certifications.import_assessmentresult", raise_exception=True)
def results_template_download(request):
    """Send the empty exam-centre sheet, with an example row, that the results import reads."""
    return _xlsx_response(results_template(), _("results_template.xlsx"))


def sitting_sheet_download(request, pk: int):
    """
    Send a sitting's results sheet: the whole roster to those who may see
    sittings (HR); with ?unit=, the candidates of that unit to whoever may see it.
    """
    sitting = get_object_or_404(Sitting.objects.select_related("trade", "rank", "course", "special_operation"), pk=pk)
    unit_ids = None
    if request.GET.get("unit"):
        unit = access.unit_for_user_or_404(request.user, request.GET["unit"])
        unit_ids = access.unit_subtree_ids(unit)
    elif not request.user.has_perm("certifications.view_sitting"):
        raise PermissionDenied
    return _xlsx_response(sitting_sheet_xlsx(sitting, unit_ids=unit_ids), sitting_sheet_filename(sitting))


def _results_confirm(request, context):
    key = _upload_key(request.POST["token"])
    stored = cache.get(key)
    if not stored or stored["user_id"] != request.user.pk:
        messages.error(request, _("The upload has expired; upload the file again."))
        return redirect("certifications:results-import")
    cache.delete(key)
    try:
        outcome = results_import(stored["data"], user=request.user, filename=stored.get("name", ""))
    except ResultsAlreadyImported as exc:
        # Another session confirmed the same sheet at the same moment: its results stand, show them.
        messages.warning(request, str(exc))
        return redirect("admin:certifications_assessmentresult_changelist")
    except (ResultsImportError, SpreadsheetError) as exc:
        messages.error(request, _("Nothing imported: %(reason)s") % {"reason": exc})
        return redirect("certifications:results-import")
    messages.success(request, _import_message(outcome))
    return redirect("admin:certifications_assessmentresult_changelist")


def _import_message(outcome) -> str:
    """Say what the confirmed import did: the counts, and the awards it proposed with a link to approve them."""
    counts = outcome.counts
    text = _(
        "Imported %(results)s new result(s) and corrected %(corrected)s for %(workers)s worker(s) "
        "(%(unchanged)s row(s) unchanged)."
    ) % {
        "results": len(outcome.to_create),
        "corrected": len(outcome.to_correct),
        "workers": len(outcome.worker_ids),
        "unchanged": counts["unchanged"],
    }
    if not outcome.awards:
        return format_html("{} {}", text, _("No rank award was proposed."))
    awards = format_html_join(
        "; ",
        "{} {} · {} → {} ({})",
        (
            (a.employee_no, a.worker_name, a.trade_name, a.rank_name, a.awarded_on.isoformat() if a.awarded_on else "")
            for a in outcome.awards
        ),
    )
    return format_html(
        '{} {} {} <a href="{}">{}</a>',
        text,
        ngettext(
            "The roll-up proposed %(n)s rank award:", "The roll-up proposed %(n)s rank awards:", len(outcome.awards)
        )
        % {"n": len(outcome.awards)},
        awards,
        award_approvals_url([a.record_id for a in outcome.awards if a.record_id]),
        _("Approve or reject them"),
    )


def award_approvals_url(record_ids: list[int]) -> str:
    """Return the approval page showing these pending awards only (every pending award when none is given)."""
    url = reverse("certifications:award-approvals")
    return f"{url}?{urlencode([('award', pk) for pk in record_ids])}" if record_ids else url


@require_POST
def ledger_export_start(request):
    """Start the ledger export in the background for what this user may see."""
    unit_code = request.POST.get("unit") or None
    if unit_code:
        access.unit_for_user_or_404(request.user, unit_code)
    elif not access.is_hr(request.user) and access.led_unit(request.user) is not None:
        unit_code = access.led_unit(request.user).code
    try:
        year = ledger_year_clean(request.POST.get("year"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if unit_code:
            return redirect(access.unit_for_user_or_404(request.user, unit_code))
        return redirect("home")
    exports_clean_up()
    result = ledger_export_task.enqueue(user_id=request.user.pk, unit_code=unit_code, year=year)
    # The worker may not have started yet: record the owner now so the progress page can be shown.
    if progress_get(result.id) is None:
        progress_set(result.id, user_id=request.user.pk, state="queued", done=0, total=0)
    progress_set(result.id, unit_code=unit_code or "")  # the way back from the progress page
    return redirect("certifications:ledger-export-progress", result_id=result.id)


def _owned(request, result_id: str) -> dict:
    record = progress_get(result_id)
    if record is None or record.get("user_id") != request.user.pk:
        raise Http404("No such export.")
    return record


def ledger_export_progress(request, result_id: str):
    """Show the export's progress (JSON for the page's poller), then the download link."""
    record = _owned(request, result_id)
    total = record.get("total") or 0
    payload = {
        "state": record.get("state"),
        "done": record.get("done", 0),
        "total": total,
        "download": reverse("certifications:ledger-export-download", args=[result_id])
        if record.get("state") == "done"
        else None,
    }
    if request.GET.get("format") == "json":
        return JsonResponse(payload)
    context = {
        **(admin.site.each_context(request) if request.user.is_staff else {}),
        "title": _("Training ledger export"),
        "progress": payload,
        "result_id": result_id,
        # Staff started it from the admin and go back there; a crew leader started it on the unit page,
        # has no admin, and goes back to the unit.
        "base_template": "admin/base_site.html" if request.user.is_staff else "base.html",
        **_ledger_way_back(request, record.get("unit_code") or ""),
    }
    return TemplateResponse(request, "certifications/spreadsheets/ledger_progress.html", context)


def _ledger_way_back(request, unit_code: str) -> dict:
    if unit_code:
        try:
            unit = access.unit_for_user_or_404(request.user, unit_code)
        except Http404:
            unit = None
        if unit is not None:
            return {"back_url": unit.get_absolute_url(), "back_label": _("Back to %(unit)s") % {"unit": unit.name}}
    if request.user.is_staff:
        return {"back_url": reverse("admin:index"), "back_label": _("Back to the administration")}
    return {"back_url": reverse("home"), "back_label": _("Back to the start page")}


def ledger_export_download(request, result_id: str):
    """Send the finished workbook, to the user who started it only."""
    record = _owned(request, result_id)
    if record.get("state") != "done":
        raise Http404("Not ready.")
    storage = export_storage()
    try:
        handle = storage.open(record["path"], "rb")
    except FileNotFoundError:
        raise Http404("The file has expired.") from None
    # FileResponse writes the name as RFC 5987 filename*=utf-8'' so Chinese survives every browser.
    return FileResponse(handle, as_attachment=True, filename=record.get("filename") or ledger_filename("", None))


def can_export_ledger(user) -> bool:
    return user.is_authenticated and (access.is_hr(user) or access.led_unit(user) is not None)


def ledger_start_allowed(view):
    def wrapped(request, *args, **kwargs):
        if not can_export_ledger(request.user) and not access.user_worker(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


ledger_export_start = ledger_start_allowed(ledger_export_start)
