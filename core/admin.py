"""
Third-party admins made to read in both languages.

django-axes' access-attempt admin with an "Unlock" action for the training department: deleting a
login name's attempts from an address lifts its lockout at once (training/roles.py grants HR the delete).
"""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult


class UnlockingAccessAttemptAdmin(AccessAttemptAdmin):
    actions = ["unlock", *AccessAttemptAdmin.actions]

    @admin.action(description=_("Unlock the selected logins"), permissions=["delete"])
    def unlock(self, request, queryset):
        names = sorted({attempt.username or "?" for attempt in queryset})
        count, _by_model = queryset.delete()
        self.message_user(
            request,
            ngettext(
                "Unlocked %(names)s: %(count)d access attempt removed.",
                "Unlocked %(names)s: %(count)d access attempts removed.",
                count,
            )
            % {"names": ", ".join(names), "count": count},
            messages.SUCCESS,
        )


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, UnlockingAccessAttemptAdmin)


# Our background tasks, as HR knows them.
TASK_NAMES = {
    "ledger_export_task": _("Training ledger export"),
    "dashboard_figures_task": _("Dashboard figures refresh"),
}


class TranslatedTaskResultAdmin(DBTaskResultAdmin):
    """django-tasks' results (ledger exports, dashboard refreshes) with translated column names."""

    list_display = ("id", "translated_task_name", *DBTaskResultAdmin.list_display[2:])

    @admin.display(description=_("task"), ordering="task_path")
    def translated_task_name(self, obj):
        # By its path: loading the task (django-tasks' task_name) fails when the configured backend differs.
        name = obj.task_path.rsplit(".", 1)[-1]
        return TASK_NAMES.get(name, name)

    @admin.display(description=_("traceback"))
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description=_("run after"))
    def display_run_after(self, obj):
        return super().display_run_after(obj)


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TranslatedTaskResultAdmin)
