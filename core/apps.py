from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure; no models. Holds the shared templates' tags and the admin site."""

    default = True
    name = "core"
    verbose_name = _("Core")


class KuangjiangAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "core.admin_site.KuangjiangAdminSite"


class TasksDatabaseConfig(TasksAppConfig):
    """django-tasks' database backend under a name HR can read in both languages (its own is not translatable)."""

    verbose_name = _("Background tasks")
