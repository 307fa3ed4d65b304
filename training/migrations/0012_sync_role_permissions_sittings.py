from importlib import import_module

from django.db import migrations

# HR creates appraisal sittings and their rosters (training/roles.py): the permissions, created and granted.
role_groups = import_module("training.migrations.0002_role_groups")


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0011_worker_name_initials"),
        ("certifications", "0006_sitting"),
    ]

    operations = [migrations.RunPython(role_groups.create_groups, migrations.RunPython.noop)]
