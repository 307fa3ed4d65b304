"""
Compliance pages: the shift-roster check and the recertification forecast
download. HR sees every worker; a crew leader sees their units (access.py).
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from training.spreadsheets import SpreadsheetError, read_bytes

from . import access, compliance
from .roster import forecast_xlsx, roster_check, roster_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RosterForm(forms.Form):
    file = forms.FileField(label=_("Shift roster (xlsx, xls or csv)"), help_text=_("Columns: 工号 (employee number), 工种 (trade), 日期 (date)."))
    on = forms.DateField(
        label=_("Date for rows without one"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _require_hr_or_leader(user) -> None:
    if not (access.is_hr(user) or access.led_unit(user) is not None):
        raise PermissionDenied


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def roster_check_view(request):
    """Upload a roster; show a verdict per row, or download it as xlsx."""
    _require_hr_or_leader(request.user)
    rows, error = None, None
    form = RosterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = roster_check(
                read_bytes(form.cleaned_data["file"]),
                workers=access.visible_workers(request.user),
                default_on=form.cleaned_data["on"] or timezone.localdate(),
            )
        except SpreadsheetError as exc:
            error = str(exc)
        else:
            if "download" in request.POST:
                return _download(roster_xlsx(rows), f"roster-check-{timezone.localdate():%Y%m%d}.xlsx")
    summary = None
    if rows is not None:
        summary = {"total": len(rows), "cleared": sum(r.verdict == "cleared" for r in rows)}
        summary["blocked"] = summary["total"] - summary["cleared"]
    return render(
        request,
        "certifications/compliance/roster_check.html",
        {"form": form, "rows": rows, "error": error, "summary": summary, "today": timezone.localdate()},
    )


def forecast_download(request):
    """The recertification forecast for the units this user sees, as xlsx."""
    _require_hr_or_leader(request.user)
    unit_ids = access.visible_unit_ids(request.user)
    forecast = compliance.recertification_forecast(unit_ids=unit_ids)
    return _download(forecast_xlsx(forecast), f"recertification-forecast-{forecast.start:%Y%m}.xlsx")
