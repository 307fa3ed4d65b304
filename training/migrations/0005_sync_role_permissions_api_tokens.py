from importlib import import_module

from django.db import migrations

# The training department manages the clearance API's tokens (training/roles.py): re-run the sync 0002 defined.
role_groups = import_module("training.migrations.0002_role_groups")


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0004_sync_role_permissions"),
        ("certifications", "0003_soft_delete"),
    ]

    operations = [migrations.RunPython(role_groups.create_groups, migrations.RunPython.noop)]
