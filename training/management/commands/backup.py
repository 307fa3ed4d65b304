"""Back up the database to FILE: SQLite through its online backup API, PostgreSQL through pg_dump -Fc."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


def pg_env(settings_dict) -> dict[str, str]:
    """Return the libpq environment that points pg_dump/pg_restore at this database."""
    env = {**os.environ}
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    return env


def sqlite_backup(source: str, target: Path) -> int:
    """Copy a live SQLite database page by page (consistent while others write); return its page count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst, pages=1024)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise CommandError("The backup failed its integrity check.")
        # A single-file copy: no -wal/-shm files to carry along.
        dst.execute("PRAGMA journal_mode=DELETE")
    src.close()
    dst.close()
    partial.replace(target)
    return pages


class Command(BaseCommand):
    help = "Back up the database to FILE (SQLite: online backup API; PostgreSQL: pg_dump custom format)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        settings_dict = connection.settings_dict
        if connection.vendor == "sqlite":
            name = str(settings_dict["NAME"])
            if name == ":memory:" or "mode=memory" in name:
                raise CommandError("An in-memory database cannot be backed up.")
            pages = sqlite_backup(name, file)
            self.stdout.write(
                f"Backed up {name} to {file} ({pages} pages). "
                f"Restore: stop the server, then `manage.py restore {file}`."
            )
        elif connection.vendor == "postgresql":
            if shutil.which("pg_dump") is None:
                raise CommandError(
                    f"pg_dump is not installed. Run: pg_dump -Fc -f {file} {settings_dict['NAME']} "
                    "(with PGHOST/PGUSER set)."
                )
            completed = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={file}", str(settings_dict["NAME"])],
                env=pg_env(settings_dict),
                capture_output=True,
                text=True,
            )
            if completed.returncode != 0:
                raise CommandError(f"pg_dump failed: {completed.stderr.strip()}")
            self.stdout.write(
                f"Backed up {settings_dict['NAME']} to {file}. "
                f"Restore: pg_restore --clean --if-exists --no-owner -d <db> {file}"
            )
        else:
            raise CommandError(f"No backup method for {connection.vendor}.")
