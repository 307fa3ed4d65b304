from importlib import import_module

from django.db import migrations

# The training department sees django-axes' login attempts and unlocks locked-out logins (training/roles.py).
role_groups = import_module("training.migrations.0002_role_groups")


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0006_packagecourse_import_permission"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(role_groups.create_groups, migrations.RunPython.noop)]
