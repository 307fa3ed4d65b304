"""Request hygiene shared by every page, export and API, and the Content-Security-Policy header."""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found, server_error

from core.text import CONTROL_CHARACTERS


class RejectControlCharactersMiddleware:
    """
    Refuse a request whose path or parameters (query string, form fields)
    contain a control character (core.text.CONTROL_CHARACTERS: C0 but tab,
    newline and carriage return; DEL), with a 400 and a message.

    PostgreSQL cannot store or even compare text containing NUL, so such a
    value would otherwise reach a query and end as a server error; SQLite
    accepts it, which is why only one of our two databases showed the bug.
    The others are invisible and never meant. Uploaded files are not form
    values: the spreadsheet reader checks every cell (core.spreadsheets).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_control_character(request):
            message = _("The request contains an invisible control character (such as NUL); remove it and try again.")
            if request.path.startswith("/api/"):
                # The dispatch system reads JSON, errors included.
                return JsonResponse({"error": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

    @staticmethod
    def _has_control_character(request) -> bool:
        if CONTROL_CHARACTERS.search(request.path):
            return True
        params = [request.GET]
        content_type = request.content_type or ""
        if request.method == "POST" and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.append(request.POST)
        return any(
            CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(value) for value in values)
            for query in params
            for key, values in query.lists()
        )


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """
    django-csp's policy (settings.CONTENT_SECURITY_POLICY) on every response, with one relaxation for the
    admin: there style-src also allows inline styles, because Django's own change list writes a <style>
    element (a list without actions) and django-import-export's and django-simple-history's templates carry
    style attributes. Scripts stay 'self' everywhere, the admin included; our own pages have no inline style.
    """

    ADMIN_PREFIX = "/admin/"
    ADMIN_STYLE_SRC = ("'self'", "'unsafe-inline'")

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and request.path_info.startswith(self.ADMIN_PREFIX):
            parts.update = {**(parts.update or {}), "style-src": list(self.ADMIN_STYLE_SRC)}
        return parts


# Django's technical (DEBUG) error pages carry this tag; ours never do.
TECHNICAL_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


class FriendlyErrorPagesMiddleware:
    """
    Under DEBUG (as `make run` serves the demo), Django answers a missing page
    or a crash with its technical page, in English, listing the URL patterns
    or a traceback. People using the demo get the site's own translated 404
    and 500 pages instead, as in production (403 already uses 403.html in both
    modes); the traceback still goes to the console log. Set
    KUANGJIANG_TECHNICAL_ERRORS=1 to keep Django's pages while developing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and not settings.KUANGJIANG.get("TECHNICAL_ERROR_PAGES", False)
            and response.status_code in (404, 500)
            and not getattr(response, "streaming", False)
            and response.get("Content-Type", "").startswith("text/html")
            and TECHNICAL_PAGE_MARK in response.content
        ):
            friendly = page_not_found(request, Http404()) if response.status_code == 404 else server_error(request)
            for header, value in response.items():
                if header.lower() not in {"content-type", "content-length"}:
                    friendly.headers.setdefault(header, value)
            return friendly
        return response
