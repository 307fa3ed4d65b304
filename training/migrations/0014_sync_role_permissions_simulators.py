from importlib import import_module

from django.db import migrations

# HR keeps the simulators' credentials and mappings and reads their statements (training/roles.py).
role_groups = import_module("training.migrations.0002_role_groups")


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0013_sync_role_permissions_exams"),
        ("certifications", "0009_simulators"),
    ]

    operations = [migrations.RunPython(role_groups.create_groups, migrations.RunPython.noop)]
