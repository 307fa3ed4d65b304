"""Template helpers for the progress pages: the site navigation and the requirement wording."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from certifications.ranks.wording import requirement_text
from training import access

register = template.Library()


@register.simple_tag(takes_context=True)
def site_nav(context):
    """Return the navigation links this user may follow, marking the current one."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    user = request.user
    if not hasattr(request, "_kuangjiang_nav"):
        items = []
        if access.is_hr(user):
            items.append((reverse("certifications:dashboard"), _("Dashboard")))
        worker = context.get("viewer_worker") or access.user_worker(user)
        if worker is not None:
            if worker.is_team_leader and access.led_unit(user) is not None:
                items.append((worker.unit.get_absolute_url(), _("My unit")))
            items.append((reverse("certifications:me"), _("My record")))
            items.append((reverse("certifications:exam-list"), _("My exams")))
        if user.is_staff:
            items.append((reverse("admin:index"), _("Admin")))
        request._kuangjiang_nav = items
    path = request.path
    return [{"url": url, "label": label, "current": path == url} for url, label in request._kuangjiang_nav]


@register.filter
def requirement_words(requirement):
    """Render one roll-up requirement in plain words, e.g. "Theory 78 ≥ 60 ✓"."""
    return requirement_text(requirement)


@register.filter
def absolute(value):
    """Return the absolute value of a number (days overdue read as a positive count)."""
    try:
        return abs(value)
    except TypeError:
        return value
