"""The page a locked-out login gets (django-axes calls lockout_response; settings.AXES_LOCKOUT_CALLABLE)."""

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 with our own page, in the site's look and the user's language: how long, and who can unlock."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    message = _("Too many failed logins for this login name from this computer.")
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        return JsonResponse({"error": message, "minutes": minutes}, status=429)
    context = {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT, "message": message}
    return render(request, "registration/lockout.html", context, status=429)
