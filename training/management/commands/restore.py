"""Restore the database from a backup FILE made by `manage.py backup` (stop the web server and the worker first)."""

import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from training.management.commands.backup import pg_env


class Command(BaseCommand):
    help = "Replace the database with the contents of a backup FILE (SQLite file or pg_dump custom archive)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, file: Path, yes: bool, **options):
        if not file.exists():
            raise CommandError(f"{file} does not exist.")
        target = connection.settings_dict["NAME"]
        if not yes and input(f"Replace every row of {target} with {file}? Type yes: ").strip() != "yes":
            raise CommandError("Restore cancelled.")
        connection.close()
        if connection.vendor == "sqlite":
            # The backup API writes into the live file (and its WAL) page by page, so nothing is left half-copied.
            with sqlite3.connect(file) as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            src.close()
            dst.close()
        elif connection.vendor == "postgresql":
            completed = subprocess.run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={target}",
                    str(file),
                ],
                env=pg_env(connection.settings_dict),
                capture_output=True,
                text=True,
            )
            if completed.returncode != 0:
                raise CommandError(f"pg_restore failed: {completed.stderr.strip()}")
        else:
            raise CommandError(f"No restore method for {connection.vendor}.")
        self.stdout.write(f"Restored {target} from {file}.")
