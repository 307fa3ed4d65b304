"""
Compliance pages: the shift-roster check and the recertification forecast
download. HR sees every worker; a crew leader sees their units (access.py).
"""

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certifications.clearance import facts as compliance
from certifications.clearance.forecast import Forecast, recertification_forecast
from certifications.clearance.roster import forecast_xlsx, roster_check, roster_xlsx
from core.dates import DateField
from core.spreadsheets import SpreadsheetError, read_bytes
from core.workbooks import attachment_header, download_filename
from training import access
from training.models import Worker

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RosterForm(forms.Form):
    file = forms.FileField(
        label=_("Shift roster (xlsx, xls or csv)"),
        help_text=_("Columns: 工号 (employee number), 工种 (trade), 日期 (date)."),
    )
    on = DateField(label=_("Date for rows without one"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _require_hr_or_leader(user) -> None:
    if not (access.is_hr(user) or access.led_unit(user) is not None):
        raise PermissionDenied


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = attachment_header(filename)
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
                return _download(
                    roster_xlsx(rows), download_filename(_("Roster check"), timezone.localdate().isoformat())
                )
    summary = None
    if rows is not None:
        summary = {"total": len(rows), "cleared": sum(r.verdict == "cleared" for r in rows)}
        summary["blocked"] = summary["total"] - summary["cleared"]
    return render(
        request,
        "certifications/clearance/roster_check.html",
        {"form": form, "rows": rows, "error": error, "summary": summary, "today": timezone.localdate()},
    )


def forecast_download(request):
    """The recertification forecast for the units this user sees, as xlsx."""
    _require_hr_or_leader(request.user)
    unit_ids = access.visible_unit_ids(request.user)
    forecast = recertification_forecast(unit_ids=unit_ids)
    return _download(
        forecast_xlsx(forecast), download_filename(_("Recertification forecast"), f"{forecast.start:%Y-%m}")
    )


# ── pieces for the progress pages (worker, unit, dashboard) ──────────────


def worker_clearance_context(*, worker, on: dt.date) -> dict:
    """Return the worker page's clearance card context, in a fixed number of queries."""
    summary = compliance.worker_clearance_get(worker=worker, on=on)
    trades = []
    if summary is not None:
        trades = [
            {"trade_name": summary.trade_names.get(tid, ""), "verdict": verdict}
            for tid, verdict in sorted(summary.by_trade.items(), key=lambda kv: summary.trade_names.get(kv[0], ""))
        ]
    return {"clearance": summary, "clearance_trades": trades}


def attach_unit_clearance(rows, *, unit_ids, on: dt.date) -> None:
    """Give each unit-page row its worker's clearance (`row.clearance`), in a fixed number of queries."""
    # The shown rows only: one page of a large unit, never the whole subtree.
    shown = Worker.objects.filter(pk__in=[row.worker.pk for row in rows], unit_id__in=list(unit_ids))
    summaries = compliance.workers_clearance_get(workers=shown, on=on)
    for row in rows:
        row.clearance = summaries.get(row.worker.pk)


def dashboard_compliance_context(*, figures) -> dict:
    """Attach 持证上岗率 and the cleared share to each dashboard unit; add the forecast table and chart."""
    for s in figures.page.units:
        s.compliance = figures.compliance.get(s.unit.pk)
    return {"forecast": figures.forecast, "forecast_chart": forecast_chart(figures.forecast)}


CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 640, 220, 36, 28, 12
REVIEW_COLOUR, EXPIRY_COLOUR = "#0b5cad", "#b3261e"


def forecast_chart(forecast: Forecast) -> SafeString:
    """Return a server-rendered SVG bar chart: reviews and expiries due per month, stacked."""
    reviews, expiries = forecast.review_totals, forecast.expiry_totals
    totals = [r + e for r, e in zip(reviews, expiries, strict=True)]
    top = max(totals + [1])
    plot_h = CHART_H - PAD_B - PAD_T
    slot = (CHART_W - PAD_L) / max(len(totals), 1)
    bars, labels = [], []
    for i, (month, r, e) in enumerate(zip(forecast.months, reviews, expiries, strict=True)):
        x = PAD_L + i * slot + slot * 0.15
        width = slot * 0.7
        base = CHART_H - PAD_B
        for count, colour, kind in ((r, REVIEW_COLOUR, gettext("reviews")), (e, EXPIRY_COLOUR, gettext("expiries"))):
            if not count:
                continue
            height = plot_h * count / top
            base -= height
            bars.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} · {}: {}</title></rect>',
                    f"{x:.1f}",
                    f"{base:.1f}",
                    f"{width:.1f}",
                    f"{height:.1f}",
                    colour,
                    month.strftime("%Y-%m"),
                    kind,
                    count,
                )
            )
        if r + e:
            bars.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
                    f"{x + width / 2:.1f}",
                    f"{base - 3:.1f}",
                    r + e,
                )
            )
        labels.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
                f"{x + width / 2:.1f}",
                CHART_H - 10,
                month.strftime("%m"),
            )
        )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888"/><text x="4" y="{}" font-size="11">{}</text>',
        PAD_L,
        CHART_H - PAD_B,
        CHART_W,
        CHART_H - PAD_B,
        PAD_T + 10,
        top,
    )
    title = gettext("Certificate reviews and expiries due per month")
    description = gettext("%(reviews)s reviews and %(expiries)s expiries over the next %(months)s months.") % {
        "reviews": sum(reviews),
        "expiries": sum(expiries),
        "months": len(totals),
    }
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-labelledby="fc-title fc-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="fc-title">{}</title><desc id="fc-desc">{}</desc>{}{}{}</svg>',
        CHART_W,
        CHART_H,
        title,
        description,
        axis,
        mark_safe("".join(bars)),  # each piece built with format_html above
        format_html_join("", "{}", ((label,) for label in labels)),
    )
