"""Write the training ledger workbook: `manage.py export_ledger FILE [--unit CODE] [--year YYYY]`."""

import sys

from django.core.management.base import BaseCommand, CommandError

from certifications.spreadsheets.ledger import ledger_export
from training.models import Unit


class Command(BaseCommand):
    help = (
        "Write the training ledger (培训台账) as one .xlsx workbook: "
        "summary, one sheet per department, certificates, skills matrix."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx file to write")
        parser.add_argument("--unit", help="only this unit (code) and the units below it")
        parser.add_argument("--year", type=int, help="only classes that started in this year")
        parser.add_argument("--no-progress", action="store_true", help="do not print a progress bar")

    def handle(self, *args, file, unit, year, no_progress, **options):
        chosen = None
        if unit:
            try:
                chosen = Unit.objects.get(code=unit)
            except Unit.DoesNotExist:
                raise CommandError(f"No unit with the code {unit}.") from None
        show = not no_progress and options.get("verbosity", 1) > 0
        counts = ledger_export(file, unit=chosen, year=year, progress=self._bar if show else None)
        if show:
            self.stderr.write("")
        rows = sum(v for k, v in counts.items() if k not in ("summary", "certificates", "matrix"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {file}: {rows} ledger row(s) in {len(counts) - 3} department sheet(s), "
                f"{counts['certificates']} certificate(s), {counts['matrix']} worker(s) in the skills matrix."
            )
        )

    def _bar(self, done: int, total: int) -> None:
        width = 40
        filled = int(width * done / total) if total else width
        stream = self.stderr._out if hasattr(self.stderr, "_out") else sys.stderr
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
        stream.flush()
