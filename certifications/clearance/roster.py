"""
The shift-roster check: for each row of an uploaded roster (employee number,
trade, date), is the worker cleared? Unknown workers, unknown trades and
unreadable rows get a row verdict of their own, never an exception.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.clearance import facts as compliance
from certifications.clearance.forecast import Forecast
from certifications.clearance.rules import Clearance
from core.dates import parse_date
from core.spreadsheets import EMPLOYEE_NUMBER_HEADERS, SpreadsheetError, cell_text, find_table
from core.workbooks import Workbook
from training.models import Worker
from training.selectors import trade_names_get

ALIASES = {
    "employee_no": EMPLOYEE_NUMBER_HEADERS,
    "trade": ("工种", "岗位工种", "作业工种", "trade", "job"),
    "date": ("日期", "作业日期", "班次日期", "上岗日期", "出勤日期", "date", "shift date", "on"),
    "name": ("姓名", "name"),
}


class Verdict:
    CLEARED = "cleared"
    NOT_CLEARED = "not_cleared"
    UNKNOWN_WORKER = "unknown_worker"
    UNKNOWN_TRADE = "unknown_trade"
    INVALID = "invalid"


VERDICT_LABELS = {
    Verdict.CLEARED: gettext_lazy("Cleared"),
    Verdict.NOT_CLEARED: gettext_lazy("Not cleared"),
    Verdict.UNKNOWN_WORKER: gettext_lazy("Unknown employee number"),
    Verdict.UNKNOWN_TRADE: gettext_lazy("Unknown trade"),
    Verdict.INVALID: gettext_lazy("Row not readable"),
}


@dataclass
class RosterRow:
    row: int
    employee_no: str
    name: str
    trade_text: str
    on: dt.date | None
    verdict: str = Verdict.INVALID
    message: str = ""
    worker: Worker | None = None
    trade_id: int | None = None
    trade_name: str = ""
    clearance: Clearance | None = None

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS[self.verdict])

    @property
    def reasons_text(self) -> str:
        if self.clearance is not None and self.clearance.reasons:
            return "；".join(r.message for r in self.clearance.reasons)
        return self.message

    @property
    def lapses_on(self) -> dt.date | None:
        return self.clearance.lapses_on if self.clearance else None


def roster_check(data: bytes, *, workers=None, default_on: dt.date | None = None) -> list[RosterRow]:
    """
    Check every row of a roster file. `workers` limits whom the caller may see
    (others read as unknown, so existence does not leak). Queries: a fixed number per distinct date.
    """
    default_on = default_on or timezone.localdate()
    table = find_table(data, ALIASES, required=("employee_no", "trade"))
    cols = table.columns
    rows: list[RosterRow] = []
    seen: dict[tuple[str, str, dt.date], int] = {}
    for number, values in table.rows:

        def cell(key, values=values):
            index = cols.get(key)
            return values[index] if index is not None and index < len(values) else None

        employee_no, trade_text, name = (
            cell_text(cell("employee_no")),
            cell_text(cell("trade")),
            cell_text(cell("name")),
        )
        row = RosterRow(number, employee_no, name, trade_text, None)
        rows.append(row)
        try:
            row.on = parse_date(cell("date")) if "date" in cols else default_on
        except ValueError as exc:
            row.message = str(exc)
            continue
        if row.on is None:
            row.on = default_on
        if not employee_no:
            row.message = _("No employee number.")
        elif not trade_text:
            row.message = _("No trade.")
        else:
            # The same worker, trade and date twice is a row error naming the earlier row, as in every import.
            earlier = seen.setdefault((employee_no.upper(), trade_text.upper(), row.on), number)
            if earlier != number:
                row.message = _("This row repeats row %(row)s.") % {"row": earlier}
    if not rows:
        raise SpreadsheetError(
            _(
                "The roster has headers but no workers below them, so there is nothing to check. "
                "Fill in one row per worker and trade and upload it again."
            )
        )

    wanted = {r.employee_no for r in rows if r.employee_no}
    queryset = (workers if workers is not None else Worker.objects.all()).filter(employee_no__in=wanted)
    by_no = {w.employee_no: w for w in queryset.select_related("unit")}
    trades = trade_names_get()
    pairs_by_date: dict[dt.date, set[tuple[int, int]]] = defaultdict(set)
    for row in rows:
        if row.message:
            continue
        row.worker = by_no.get(row.employee_no)
        trade = trades.get(row.trade_text)
        if row.worker is None:
            row.verdict, row.message = (
                Verdict.UNKNOWN_WORKER,
                _("No worker with employee number %(no)s.") % {"no": row.employee_no},
            )
        elif trade is None:
            row.verdict, row.message = (
                Verdict.UNKNOWN_TRADE,
                _("No trade called “%(trade)s”.") % {"trade": row.trade_text},
            )
        else:
            row.trade_name, row.trade_id = trade.name, trade.pk
            pairs_by_date[row.on].add((row.worker.pk, trade.pk))
    verdicts = {on: compliance.clearance_for_pairs(pairs, on=on) for on, pairs in pairs_by_date.items()}
    for row in rows:
        if row.trade_id is None:
            continue
        row.clearance = verdicts[row.on][(row.worker.pk, row.trade_id)]
        row.verdict = Verdict.CLEARED if row.clearance.cleared else Verdict.NOT_CLEARED
    return rows


def roster_xlsx(rows: list[RosterRow]) -> bytes:
    """Return the checked roster as an xlsx file, every text cell escaped against formulas."""
    book = Workbook()
    sheet = book.create_sheet(_("Roster check"))
    sheet.append(
        [
            _("Row"),
            _("Employee number"),
            _("Name"),
            _("Trade"),
            _("Date"),
            _("Verdict"),
            _("Reasons"),
            _("Cleared until"),
        ]
    )
    for r in rows:
        sheet.append(
            [
                r.row,
                r.employee_no,
                r.worker.name if r.worker else r.name,
                r.trade_name or r.trade_text,
                r.on,
                r.verdict_label,
                r.reasons_text,
                r.lapses_on,
            ]
        )
    return book.to_bytes()


def forecast_xlsx(forecast: Forecast) -> bytes:
    """Return the recertification forecast as an xlsx file (reviews and expiries per month)."""
    book = Workbook()
    sheet = book.create_sheet(_("Recertification forecast"))
    months = [m.strftime("%Y-%m") for m in forecast.months]
    sheet.append([_("Unit"), _("Trade"), _("Due"), *months, _("Total"), _("Overdue now")])
    for row in forecast.rows:
        for label, counts, overdue in ((_("Reviews"), row.reviews, row.overdue), (_("Expiries"), row.expiries, "")):
            sheet.append([row.unit_name, row.trade_name, label, *counts, sum(counts), overdue])
    sheet.append(
        [_("Total"), "", _("Reviews"), *forecast.review_totals, sum(forecast.review_totals), forecast.overdue_total]
    )
    sheet.append([_("Total"), "", _("Expiries"), *forecast.expiry_totals, sum(forecast.expiry_totals), ""])
    return book.to_bytes()
