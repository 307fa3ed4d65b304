"""
The one admin site: its titles, and the input guard (core.admin_guard) on every
ModelAdmin and inline registered with it, ours and other apps' alike (Django's
users and groups, django-tasks' results), whatever order the apps load in.
"""

import functools

from django.contrib import admin

from core.admin_guard import InputGuardMixin
from core.login import AdminLoginForm
from core.versions import VersionedAdminMixin

# On every admin and inline, first in its bases: the input guard, and the version check (core.versions).
SITE_MIXINS = (InputGuardMixin, VersionedAdminMixin)


@functools.cache
def guarded(admin_class: type) -> type:
    """Return `admin_class` with SITE_MIXINS first in its bases, and its inlines guarded too."""
    attrs = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
    inlines = getattr(admin_class, "inlines", None)
    if inlines:
        attrs["inlines"] = [guarded(inline) for inline in inlines]
    missing = tuple(mixin for mixin in SITE_MIXINS if not issubclass(admin_class, mixin))
    if not missing:
        if not inlines or all(a is b for a, b in zip(attrs["inlines"], inlines)):
            return admin_class
        return type(admin_class.__name__, (admin_class,), attrs)
    return type(admin_class.__name__, (*missing, admin_class), attrs)


class KuangjiangAdminSite(admin.AdminSite):
    site_header = "Kuangjiang 矿匠"
    site_title = "Kuangjiang 矿匠"
    index_title = "Kuangjiang 矿匠"
    # One sidebar, not two: at a clerk's 1280 px the app list beside a changelist's filters left the table
    # 685 px and cut its columns off; the app list is on the index and one click away in the breadcrumbs.
    enable_nav_sidebar = False
    login_form = AdminLoginForm  # an over-long login name is refused, not a 500 on PostgreSQL (core/login.py)

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)
