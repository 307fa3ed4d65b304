from importlib import import_module

from django.db import migrations

# The same sync 0002 ran, again: groups end up with exactly the permissions training/roles.py declares
# (officers read packages, may import classes and attendance; HR reads the reminder log, whose
# permissions did not exist yet when 0002 ran).
role_groups = import_module("training.migrations.0002_role_groups")


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0003_soft_delete"),
        ("certifications", "0003_soft_delete"),
    ]

    operations = [migrations.RunPython(role_groups.create_groups, migrations.RunPython.noop)]
