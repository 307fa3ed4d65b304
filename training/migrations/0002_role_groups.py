from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_groups(apps, schema_editor):
    from training.roles import ROLE_PERMISSIONS

    # Permissions are normally created after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, table in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = []
        for model_label, actions in table.items():
            app_label, model = model_label.split(".")
            codenames += [(app_label, f"{action}_{model}") for action in actions]
        perms = [
            perm
            for perm in Permission.objects.filter(content_type__app_label__in={a for a, _ in codenames}).select_related(
                "content_type"
            )
            if (perm.content_type.app_label, perm.codename) in set(codenames)
        ]
        group.permissions.set(perms)


def remove_groups(apps, schema_editor):
    from training.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
        ("certifications", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
