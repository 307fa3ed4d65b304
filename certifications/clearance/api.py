"""
The read-only clearance API for the dispatch system.

A small Django view rather than Django REST framework: one GET endpoint does
not justify a framework, and the token model lets HR see which system used
which token and when. Send `Authorization: Token <token>` (or `Bearer`).

An address that sends settings.API_TOKEN_FAILURE_LIMIT wrong tokens within one window of
settings.API_TOKEN_FAILURE_WINDOW seconds gets 429, whatever token it sends, until that window ends.
"""

import datetime as dt

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from certifications.clearance import facts as compliance
from certifications.clearance.tokens import api_token_authenticate, may_use_api
from core.dates import DateError, parse_date
from core.failures import failure_count, failures_refusal
from training.access import visible_workers
from training.selectors import trade_names_get

AUTH_SCHEMES = ("token", "bearer")


def _error(status: int, message: str, **extra) -> JsonResponse:
    response = JsonResponse({"error": message, **extra}, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = 'Token realm="kuangjiang"'
    return response


def _too_many_failures(minutes: int) -> JsonResponse:
    return _error(
        429,
        ngettext(
            "Too many wrong API tokens from this address. Try again in %(minutes)d minute.",
            "Too many wrong API tokens from this address. Try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )


def _raw_token(request) -> str:
    scheme, _sep, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() in AUTH_SCHEMES else ""


def clearance_json(verdict, *, worker, trade, on: dt.date) -> dict:
    """Return a clearance as the JSON the API and the roster download share."""
    return {
        "employee_no": worker.employee_no,
        "name": worker.name,
        "trade": {"code": trade.code, "name": trade.name},
        "on": on.isoformat(),
        "cleared": verdict.cleared,
        "reasons": [
            {"code": r.code, "message": r.message, "since": r.since.isoformat() if r.since else None}
            for r in verdict.reasons
        ],
        "lapses_on": verdict.lapses_on.isoformat() if verdict.lapses_on else None,
        "deadlines": [
            {
                "kind": d.kind,
                "label": d.label,
                "due_on": d.due_on.isoformat(),
                "overdue": d.due_on < on,
                "blocking": d.blocking,
            }
            for d in verdict.deadlines
        ],
    }


@login_not_required  # the token is the authentication; sessions and CSRF play no part
@never_cache
@require_GET
def clearance(request):
    """GET /api/clearance/?employee_no=…&trade=…[&on=YYYY-MM-DD] → verdict, reasons and lapse date."""
    refused = failures_refusal(request, _too_many_failures)
    if refused is not None:
        return refused
    token = api_token_authenticate(_raw_token(request))
    if token is None:
        failure_count(request)
        return _error(401, _("Send a valid API token: Authorization: Token <token>."))
    user = token.user
    if not may_use_api(user):
        return _error(403, _("This token's user may no longer use the clearance API."))

    employee_no = request.GET.get("employee_no", "").strip()
    trade_text = request.GET.get("trade", "").strip()
    if not employee_no or not trade_text:
        return _error(400, _("Give employee_no and trade."))
    on_text = request.GET.get("on", "").strip()
    try:
        on = parse_date(on_text) or timezone.localdate()
    except DateError as exc:
        return _error(400, exc.message, on=on_text)

    worker = visible_workers(user).filter(employee_no=employee_no).first()
    if worker is None:
        return _error(404, _("Unknown employee number."), employee_no=employee_no)
    trade = trade_names_get().get(trade_text)
    if trade is None:
        return _error(404, _("Unknown trade."), trade=trade_text)
    verdict = compliance.cleared(worker=worker, trade=trade, on=on)
    return JsonResponse(
        clearance_json(verdict, worker=worker, trade=trade, on=on), json_dumps_params={"ensure_ascii": False}
    )
