"""
The role groups of a database migrated before a change to training/roles.py:
the sync migrations that follow bring them to exactly what roles.py declares.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from training import roles

# Granted by the sync migrations after 0004: the training department manages the clearance API's tokens (0005)
# and imports package courses (0006, which also creates that permission).
GRANTED_SINCE_0004 = {
    *((roles.HR, "certifications", f"{action}_apitoken") for action in ("add", "change", "delete", "view")),
    (roles.HR, "training", "import_packagecourse"),
}
CREATED_SINCE_0004 = {("training", "import_packagecourse")}


def declared(role: str) -> set[tuple[str, str]]:
    return {
        (label.split(".")[0], f"{action}_{label.split('.')[1]}")
        for label, actions in roles.ROLE_PERMISSIONS[role].items()
        for action in actions
    }


def granted(role: str) -> set[tuple[str, str]]:
    return set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))


def migrate(*targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets) or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_migrated_before_a_role_change_gets_it_from_the_sync_migrations():
    migrate(("training", "0004_sync_role_permissions"))
    # As 0004 left a database migrated before the change: without what roles.py has granted since.
    for role, app_label, codename in GRANTED_SINCE_0004:
        Group.objects.get(name=role).permissions.remove(
            *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )
    for app_label, codename in CREATED_SINCE_0004:
        Permission.objects.filter(content_type__app_label=app_label, codename=codename).delete()
    assert not {(a, c) for _r, a, c in GRANTED_SINCE_0004} & granted(roles.HR)
    migrate()
    for role in roles.ROLE_PERMISSIONS:
        assert granted(role) == declared(role), role
