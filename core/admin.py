"""
django-axes' access-attempt admin with an "Unlock" action for the training department: deleting a
login name's attempts from an address lifts its lockout at once (training/roles.py grants HR the delete).
"""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


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
