"""`manage.py backup` and `restore`: SQLite through the online backup API, PostgreSQL through pg_dump/pg_restore."""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import AttendanceFactory
from training.management.commands.backup import pg_env, sqlite_backup
from training.models import Worker

ROOT = Path(__file__).resolve().parent.parent


def test_a_sqlite_backup_is_a_consistent_single_file_copy(tmp_path):
    source = tmp_path / "live.sqlite3"
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE worker (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO worker (name) VALUES (?)", [(f"张{i}",) for i in range(500)])
    # Still open, with rows in the WAL not yet checkpointed.
    writer = sqlite3.connect(source)
    writer.execute("INSERT INTO worker (name) VALUES ('李四')")
    writer.commit()
    target = tmp_path / "backup" / "copy.sqlite3"
    sqlite_backup(str(source), target)
    writer.close()
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM worker").fetchone()[0] == 501
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "backup" / "copy.sqlite3-wal").exists()


def _manage(*args, db: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_backup_and_restore_round_trip_a_sqlite_database(tmp_path):
    db, backup = tmp_path / "kj.sqlite3", tmp_path / "kj-backup.sqlite3"
    _manage("migrate", "--no-input", "-v0", db=db)
    make_worker = (
        "from training.models import Unit, Worker; import datetime as dt; "
        "mine = Unit.objects.get_or_create(code='MINE', defaults={'name': '示范煤矿', 'kind': 'mine'})[0]; "
        "Worker.objects.create(employee_no='E_N_', name='张伟', unit=mine, category='other', "
        "hire_date=dt.date(2015, 3, 1))"
    )
    _manage("shell", "-c", make_worker.replace("_N_", "1"), db=db)
    assert "Backed up" in _manage("backup", str(backup), db=db)
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT employee_no FROM training_worker").fetchall() == [("E1",)]
    _manage("shell", "-c", make_worker.replace("_N_", "2"), db=db)
    _manage("restore", "--yes", str(backup), db=db)
    with sqlite3.connect(db) as restored:
        assert restored.execute("SELECT employee_no FROM training_worker").fetchall() == [("E1",)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_backup_restores_into_a_fresh_database(on_postgres, tmp_path):
    AttendanceFactory.create_batch(3)
    worker_count = Worker.objects.count()
    archive = tmp_path / "kj.dump"
    call_command("backup", str(archive))
    assert archive.stat().st_size > 0

    settings_dict = connection.settings_dict
    scratch = f"kj_restore_{uuid.uuid4().hex[:8]}"
    admin_dsn = {
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
        "user": settings_dict["USER"] or None,
        "password": settings_dict["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin_dsn) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        completed = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={scratch}", str(archive)],
            env=pg_env(settings_dict),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stderr
        with psycopg.connect(**{**admin_dsn, "dbname": scratch}) as restored:
            assert restored.execute("SELECT count(*) FROM training_worker").fetchone()[0] == worker_count
            assert restored.execute("SELECT count(*) FROM training_attendance").fetchone()[0] == 3
            assert restored.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0
    finally:
        with psycopg.connect(**admin_dsn) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
