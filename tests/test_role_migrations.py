"""
The role groups of a database migrated before a change to training/roles.py:
the sync migrations that follow bring them to exactly what roles.py declares.

The migrations run in a scratch SQLite database in a child process: migrating
the shared test database backwards and forwards would fight the other tests'
rollbacks and flushes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from training import roles

ROOT = Path(__file__).resolve().parent.parent

# Granted by the sync migrations after 0004: the training department manages the clearance API's tokens (0005)
# and imports package courses (0006, which also creates that permission).
GRANTED_SINCE_0004 = [
    [roles.HR, "axes", "view_accessattempt"],
    [roles.HR, "axes", "delete_accessattempt"],
    [roles.HR, "axes", "view_accesslog"],
    [roles.HR, "axes", "view_accessfailurelog"],
    *([roles.HR, "certifications", f"{action}_apitoken"] for action in ("add", "change", "delete", "view")),
    [roles.HR, "training", "import_packagecourse"],
    *(
        [roles.HR, "certifications", f"{action}_{model}"]
        for model in ("sitting", "sittingcandidate")
        for action in ("add", "change", "delete", "view")
    ),
]
CREATED_SINCE_0004 = [["training", "import_packagecourse"]]

SCRIPT = """
import json, sys
import django
django.setup()
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

granted_since, created_since = json.loads(sys.argv[1])
call_command("migrate", "training", "0004_sync_role_permissions", verbosity=0)
# As 0004 left a database migrated before the change: without what roles.py has granted (or created) since.
for role, app_label, codename in granted_since:
    granted = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    Group.objects.get(name=role).permissions.remove(*granted)
for app_label, codename in created_since:
    Permission.objects.filter(content_type__app_label=app_label, codename=codename).delete()
def grants():
    return {
        g.name: sorted([p.content_type.app_label, p.codename] for p in g.permissions.all())
        for g in Group.objects.all()
    }
before = grants()
call_command("migrate", verbosity=0)
print(json.dumps({"before": before, "after": grants()}))
"""


def declared(role: str) -> set[tuple[str, str]]:
    return {
        (label.split(".")[0], f"{action}_{label.split('.')[1]}")
        for label, actions in roles.ROLE_PERMISSIONS[role].items()
        for action in actions
    }


def test_a_database_migrated_before_a_role_change_gets_it_from_the_sync_migrations(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps([GRANTED_SINCE_0004, CREATED_SINCE_0004])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    groups = json.loads(result.stdout.strip().splitlines()[-1])
    hr_before = {tuple(p) for p in groups["before"][roles.HR]}
    assert not {(a, c) for _role, a, c in GRANTED_SINCE_0004} & hr_before
    for role in roles.ROLE_PERMISSIONS:
        assert {tuple(p) for p in groups["after"][role]} == declared(role), role
