"""Import an exam centre's results sheet: `manage.py import_results FILE [--dry-run]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certifications.spreadsheets.results import (
    ResultsAlreadyImported,
    ResultsImportError,
    results_import,
    results_preview,
    results_template,
)
from core.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = "Import theory and practical scores from an exam centre's sheet (.xlsx, .xls or .csv); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the sheet to import, or with --template the file to write")
        parser.add_argument("--dry-run", action="store_true", help="check the sheet and report, write nothing")
        parser.add_argument("--template", action="store_true", help="write an empty sheet with the expected columns")

    def handle(self, *args, file, dry_run, template, **options):
        if template:
            Path(file).write_bytes(results_template())
            self.stdout.write(f"Wrote an empty results sheet to {file}")
            return
        try:
            outcome = results_import(file, dry_run=dry_run, filename=Path(file).name)
        except (SpreadsheetError, ResultsAlreadyImported) as exc:
            raise CommandError(str(exc)) from None
        except ResultsImportError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(
                f"Nothing imported: {len(exc.errors)} problem(s) in the sheet; "
                "fix them and import the whole file again."
            ) from None
        if dry_run:
            results_preview(outcome, filename=Path(file).name)
        verb = "Would import" if dry_run else "Imported"
        fix = "correct" if dry_run else "corrected"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(outcome.to_create)} result(s) and {fix} {len(outcome.to_correct)} for "
                f"{len(outcome.worker_ids)} worker(s); {outcome.unchanged} already recorded."
            )
        )
        for award in outcome.awards:
            held = award.awarded_on.isoformat() if award.awarded_on else "—"
            self.stdout.write(f"Rank award proposed: {award} from {held}")
