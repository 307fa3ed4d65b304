"""
The xAPI 1.0.3 endpoints a simulator talks to: /xapi/about and /xapi/statements (POST, PUT, GET). The simulator's
HTTP Basic credential is the authentication; sessions and CSRF play no part.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from certifications.simulators import selectors
from certifications.simulators.services import Conflict, credential_authenticate, statements_store
from certifications.simulators.statements import VERSION, StatementError, statement_read
from core.failures import failure_count, failures_refusal

VERSION_HEADER = "X-Experience-API-Version"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _answer(response: HttpResponse) -> HttpResponse:
    response[VERSION_HEADER] = VERSION
    return response


def _error(status: int, message: str) -> HttpResponse:
    response = JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="kuangjiang xapi", charset="UTF-8"'
    return _answer(response)


def max_bytes() -> int:
    return int(settings.KUANGJIANG.get("XAPI_MAX_BYTES", 1024 * 1024))


def max_batch() -> int:
    return int(settings.KUANGJIANG.get("XAPI_MAX_BATCH", 1000))


@login_not_required
@never_cache
def about(request: HttpRequest) -> HttpResponse:
    """GET /xapi/about → the xAPI versions this store speaks."""
    if request.method not in ("GET", "HEAD"):
        return _error(405, _("Use GET."))
    return _answer(JsonResponse({"version": [VERSION], "extensions": {}}))


def _version_refusal(request: HttpRequest) -> HttpResponse | None:
    version = request.headers.get(VERSION_HEADER, "").strip()
    if not version:
        return _error(400, _("Send the X-Experience-API-Version header (1.0.3)."))
    parts = version.split(".")
    if parts[:2] != ["1", "0"] or len(parts) > 3 or (len(parts) == 3 and not parts[2].isdigit()):
        return _error(
            400, _("X-Experience-API-Version %(version)s is not supported; send 1.0.3.") % {"version": version[:20]}
        )
    return None


def _body(request: HttpRequest):
    """Return the request's JSON, or an HttpResponse refusing it (413 when too large, 400 when not JSON)."""
    limit = max_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return _error(413, _("The request is larger than %(limit)s bytes.") % {"limit": limit})
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _error(413, _("The request is larger than %(limit)s bytes.") % {"limit": limit})
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error(400, _("The body is not JSON (UTF-8)."))


def _statement_id(request: HttpRequest, name: str) -> uuid.UUID | None | HttpResponse:
    text = request.GET.get(name)
    if text is None:
        return None
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return _error(400, _("%(name)s must be a UUID.") % {"name": name})
    return parsed


def _too_many_failures(minutes: int) -> HttpResponse:
    return _error(
        429,
        ngettext(
            "Too many wrong simulator credentials from this address. Try again in %(minutes)d minute.",
            "Too many wrong simulator credentials from this address. Try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )


@csrf_exempt
@login_not_required
@never_cache
def statements(request: HttpRequest) -> HttpResponse:
    """POST, PUT and GET /xapi/statements, as xAPI 1.0.3 describes them."""
    if request.method not in ("GET", "HEAD", "POST", "PUT"):
        return _error(405, _("Use GET, PUT or POST."))
    refused = failures_refusal(request, _too_many_failures)
    if refused is not None:
        return refused
    credential = credential_authenticate(request.headers.get("Authorization", ""))
    if credential is None:
        if request.headers.get("Authorization"):
            failure_count(request)  # a wrong secret, not a first request without one
        return _error(401, _("Send the simulator's credential: HTTP Basic, its key and secret."))
    refused = _version_refusal(request)
    if refused is not None:
        return refused
    if request.method in ("GET", "HEAD"):
        return _get(request, credential)
    return _write(request, credential)


def _write(request: HttpRequest, credential) -> HttpResponse:
    param = _statement_id(request, "statementId")
    if isinstance(param, HttpResponse):
        return param
    if request.method == "PUT" and param is None:
        return _error(400, _("PUT needs the statementId parameter."))
    body = _body(request)
    if isinstance(body, HttpResponse):
        return body
    if request.method == "PUT" or isinstance(body, dict):
        items, single = [body], True
    elif isinstance(body, list):
        items, single = body, False
    else:
        return _error(400, _("Send a statement (a JSON object) or a batch (a JSON array of statements)."))
    if len(items) > max_batch():
        return _error(413, _("A batch holds at most %(limit)s statements.") % {"limit": max_batch()})
    mapped = []
    for i, item in enumerate(items):
        try:
            mapped.append(statement_read(item, statement_id=param if request.method == "PUT" else None))
        except StatementError as exc:
            where = "" if single else _("Statement %(n)s: ") % {"n": i + 1}
            return _error(400, f"{where}{exc}")
    try:
        stored = statements_store(mapped, credential=credential)
    except StatementError as exc:
        return _error(400, str(exc))
    except Conflict as exc:
        return _error(409, str(exc))
    if request.method == "PUT":
        return _answer(HttpResponse(status=204))
    return _answer(JsonResponse(stored.ids, safe=False))


def _get(request: HttpRequest, credential) -> HttpResponse:
    statement_id = _statement_id(request, "statementId")
    voided_id = _statement_id(request, "voidedStatementId")
    for value in (statement_id, voided_id):
        if isinstance(value, HttpResponse):
            return value
    if statement_id is not None and voided_id is not None:
        return _error(400, _("Give statementId or voidedStatementId, not both."))
    if statement_id is not None or voided_id is not None:
        statement = selectors.statement_get(
            credential=credential, statement_id=statement_id, voided_statement_id=voided_id
        )
        if statement is None:
            return _error(404, _("No such statement."))
        return _answer(JsonResponse(selectors.statement_json(statement), json_dumps_params={"ensure_ascii": False}))
    text = request.GET.get("limit", "")
    try:
        limit = int(text) if text else DEFAULT_LIMIT
    except ValueError:
        return _error(400, _("limit must be a whole number."))
    if limit < 0:
        return _error(400, _("limit must be a whole number."))
    limit = min(limit or MAX_LIMIT, MAX_LIMIT)
    rows = selectors.statements_list(credential=credential, limit=limit)
    return _answer(
        JsonResponse(
            {"statements": [selectors.statement_json(s) for s in rows], "more": ""},
            json_dumps_params={"ensure_ascii": False},
        )
    )
