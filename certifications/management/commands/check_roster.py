"""Check a shift roster: python manage.py check_roster FILE [--on YYYY-MM-DD] [--output result.xlsx]."""

from django.core.management.base import BaseCommand, CommandError

from certifications.clearance.roster import roster_check, roster_xlsx
from core.dates import argument_date, command_date
from core.spreadsheets import SpreadsheetError, read_bytes


class Command(BaseCommand):
    help = "Check every row of a shift roster (employee number, trade, date) and print a verdict with reasons."

    def add_arguments(self, parser):
        parser.add_argument("file", help="xlsx, xls or csv with columns 工号/employee number, 工种/trade, 日期/date")
        parser.add_argument("--on", type=argument_date, help="date for rows without one (default today)")
        parser.add_argument("--output", "-o", help="also write the verdicts to this xlsx file")

    def handle(self, *args, file, on=None, output=None, **options):
        on = command_date(on)
        try:
            rows = roster_check(read_bytes(file), default_on=on)
        except SpreadsheetError as exc:
            raise CommandError(str(exc)) from None
        for r in rows:
            name = r.worker.name if r.worker else r.name
            until = f" → {r.lapses_on:%Y-%m-%d}" if r.lapses_on else ""
            when = f"{r.on:%Y-%m-%d}" if r.on else "—"
            line = (
                f"{r.row:>5}  {r.employee_no or '—'}  {name or ''}  {r.trade_name or r.trade_text}  "
                f"{when}  {r.verdict_label}{until}"
            )
            style = self.style.SUCCESS if r.verdict == "cleared" else self.style.ERROR
            self.stdout.write(style(line))
            if r.reasons_text and r.verdict != "cleared":
                for reason in r.reasons_text.split("；"):
                    self.stdout.write(f"         - {reason}")
        cleared = sum(r.verdict == "cleared" for r in rows)
        self.stdout.write(f"{len(rows)} rows, {cleared} cleared, {len(rows) - cleared} not cleared or not checked.")
        if output:
            with open(output, "wb") as fh:
                fh.write(roster_xlsx(rows))
            self.stdout.write(f"Wrote {output}")
