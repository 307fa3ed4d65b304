"""Re-evaluate workers' ranks (those whose evidence, rules or dates changed, or everyone) and print what changed."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from certifications.ranks.services import CHUNK_WORKERS, ranks_recompute
from core.dates import argument_date, command_date
from training.access import unit_subtree_ids
from training.models import Unit


def text_bar(stream, width: int = 40):
    """Return a progress callback drawing `[#####.....] done/total` on one line of stream."""

    def draw(done: int, total: int) -> None:
        filled = width * done // total if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw


class Command(BaseCommand):
    help = "Re-evaluate workers' skill ranks with the roll-up rules and create the records they have earned."

    def add_arguments(self, parser):
        parser.add_argument("--unit", help="Only workers in this unit (code) and the units below it.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")
        parser.add_argument("--on", type=argument_date, help="Evaluation date (YYYY-MM-DD); today by default.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everyone",
            help="Evaluate every worker, not only those whose evidence, rules or dates changed since their last run.",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help=(
                "Processes evaluating chunks at once (default: the number of cores on PostgreSQL; 1 on SQLite, "
                "whose single write lock makes processes take turns)."
            ),
        )
        parser.add_argument(
            "--chunk-size", type=int, default=CHUNK_WORKERS, help="Workers per chunk (memory grows with it)."
        )

    def handle(
        self,
        *args,
        unit=None,
        dry_run=False,
        on=None,
        no_progress=False,
        everyone=False,
        jobs=None,
        chunk_size=CHUNK_WORKERS,
        **options,
    ):
        if jobs is None:
            jobs = (os.cpu_count() or 1) if connection.vendor != "sqlite" else 1
        if jobs < 1 or chunk_size < 1:
            raise CommandError(_("--jobs and --chunk-size must be at least 1."))
        on = command_date(on)
        unit_ids = None
        if unit:
            try:
                unit_ids = unit_subtree_ids(Unit.objects.get(code=unit))
            except Unit.DoesNotExist:
                raise CommandError(_("No unit with code %(code)s.") % {"code": unit}) from None
        progress = None if no_progress else text_bar(self.stderr._out if hasattr(self.stderr, "_out") else sys.stderr)

        def written(changes) -> None:
            for change in changes:
                self.stdout.write(str(change))

        report = ranks_recompute(
            unit_ids=unit_ids,
            on=on,
            dry_run=dry_run,
            progress=progress,
            only_changed=not everyone,
            jobs=jobs,
            chunk_size=chunk_size,
            changes=written,
        )
        summary = _(
            "%(pairs)s worker trades of %(workers)s workers evaluated; "
            "%(awarded)s awarded, %(pending)s pending HR approval (mode: %(mode)s)."
        ) % {
            "pairs": report.evaluated,
            "workers": report.workers,
            "awarded": report.awarded,
            "pending": report.pending,
            "mode": report.mode,
        }
        if dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
        scope = (
            _("Only the workers whose evidence, rules or dates changed were evaluated (--all: everyone).")
            if report.only_changed
            else _("Every worker was evaluated.")
        )
        self.stdout.write(
            _("%(scope)s %(chunks)s chunks in %(jobs)s processes.")
            % {"scope": scope, "chunks": report.chunks, "jobs": report.jobs}
        )
        if report.unmarked:
            self.stderr.write(
                _(
                    "%(count)s worker trades had evidence changed without a mark since their last evaluation: "
                    "a write bypassed its service."
                )
                % {"count": report.unmarked}
            )
