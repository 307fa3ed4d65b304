"""
The assessor's tablet (a progressive web app under /practical/): the page, the
data it keeps offline, the sync endpoint, its service worker; and the photo
and signature of a sheet for those who may see the candidate.
"""

from __future__ import annotations

import base64
import hashlib
import json

from django.contrib.staticfiles import finders
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from certifications.models import ScoreDeduction, ScoringSheet
from certifications.practical import selectors, services
from training import access

# The files the service worker keeps so that the page opens with no network (the "app shell").
SHELL_STATIC = (
    "kuangjiang/site.css",
    "kuangjiang/print.css",
    "kuangjiang/site.js",
    "kuangjiang/practical.css",
    "kuangjiang/practical.js",
)


def tablet_strings() -> dict[str, str]:
    """The words practical.js shows, in the page's language (the script itself has none)."""
    return {
        "online": _("Online"),
        "offline": _("Offline: sheets are kept on this tablet and sent when the network is back."),
        "pending": _("%(n)s sheet(s) waiting to be sent"),
        "allSent": _("Every sheet on this tablet is sent."),
        "syncing": _("Sending…"),
        "synced": _("Sent: %(n)s sheet(s)."),
        "syncFailed": _("Could not reach the server; the sheets stay on this tablet."),
        "noData": _("This tablet has no sittings yet: open this page once with the network."),
        "pickSitting": _("Choose a sitting"),
        "pickCandidate": _("Choose a candidate"),
        "unknownCode": _("No candidate with this code in your sittings."),
        "noScheme": _("This sitting has no scoring scheme: ask HR to add one."),
        "mistake": _("Mistake"),
        "undo": _("Undo"),
        "mistakes": _("mistakes"),
        "minutesOver": _("Minutes over"),
        "note": _("Note"),
        "photo": _("Photo"),
        "photoKept": _("photo attached"),
        "points": _("%(n)s points"),
        "perMistake": _("−%(n)s per mistake"),
        "perMinute": _("−%(n)s per minute over"),
        "off": _("−%(n)s"),
        "total": _("Total %(total)s of %(full)s · score %(score)s of %(marks)s"),
        "totalShort": _("Total %(total)s of %(full)s"),
        "passed": _("Passed"),
        "failed": _("Failed"),
        "failedCritical": _("Failed: critical item %(item)s"),
        "timerStart": _("Start timer"),
        "timerStop": _("Stop timer"),
        "timeLimit": _("limit %(n)s min"),
        "saved": _("Sheet saved on this tablet."),
        "needConfirm": _("The candidate confirms (name typed or signed) before the sheet is saved."),
        "statePending": _("waiting to be sent"),
        "stateSynced": _("sent"),
        "stateConflict": _("conflict"),
        "edit": _("Edit"),
        "conflictTitle": _("Changed on the server meanwhile"),
        "conflictText": _(
            "The server's copy of this sheet changed since this tablet last had it. Nothing was overwritten: "
            "choose which copy stands."
        ),
        "serverCopy": _("Server's copy"),
        "tabletCopy": _("This tablet's copy"),
        "keepServer": _("Keep the server's copy"),
        "sendMine": _("Send this tablet's copy over it"),
        "refused": _("Refused by the server: %(reason)s"),
        "recorded": _("recorded as the result"),
        "moderation": _("second sheet: HR moderates"),
        "clear": _("Clear"),
        "none": _("none"),
    }


@require_GET
def tablet(request):
    """The scoring page: the sittings this user examines; everything else happens in practical.js."""
    sittings = list(selectors.examined_sittings(request.user))
    urls = {
        "data": reverse("certifications:practical-data"),
        "sync": reverse("certifications:practical-sync"),
        "worker": reverse("certifications:worker-detail", args=["EMPLOYEE_NO"]),
        "sw": reverse("certifications:practical-sw"),
        "scope": reverse("certifications:practical-tablet"),
    }
    preset = {"sitting": request.GET.get("sitting", ""), "worker": request.GET.get("worker", "")}
    # JSON in data- attributes (escaped by the template): the page carries no script element of its own.
    context = {
        "sittings": sittings,
        "urls_json": json.dumps(urls),
        "strings_json": json.dumps(tablet_strings(), ensure_ascii=False),
        "preset_json": json.dumps(preset),
        "user_key": request.user.pk,
    }
    return render(request, "certifications/practical/tablet.html", context)


@require_GET
@never_cache
def tablet_data(request):
    """The assessor's sittings, rosters, schemes and sent sheets, for the tablet to keep offline."""
    return JsonResponse(selectors.tablet_data_get(user=request.user))


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@require_POST
def tablet_sync(request):
    """
    Receive one sheet (JSON, with the tablet's id for it). 201 created, 200 repeated or updated, 409 with the
    server's copy when it changed since the tablet's version, 400 naming the field, 404 for a sitting this user
    does not examine or a sheet that is not theirs, 413 for a body too large.
    """
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, _("The sheet is too large to send: take smaller photos."))
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, _("Expected a scoring sheet (JSON)."))
    if "\\u0000" in json.dumps(payload):
        # A NUL character, which no text column holds (PostgreSQL refuses it): as core.middleware refuses it.
        return _error(400, _("Expected a scoring sheet (JSON)."))
    try:
        data = services.sheet_input_parse(payload, user=request.user)
        outcome = services.sheet_sync(data=data, user=request.user)
    except Http404:
        return _error(404, _("No such sitting, candidate or sheet among yours."))
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        return _error(
            400, " ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in fields.items()), fields=fields
        )
    sheet = selectors.sheets_queryset().get(pk=outcome.sheet.pk)
    body = {"status": outcome.status, "sheet": services.sheet_json(sheet)}
    if outcome.status == "conflict":
        body["error"] = _("This sheet was changed on the server since this tablet last had it.")
        return JsonResponse(body, status=409)
    return JsonResponse(body, status=201 if outcome.status == "created" else 200)


@require_GET
def service_worker(request):
    """The service worker, served under /practical/ so its scope covers the page; it names the shell's files."""
    shell = [reverse("certifications:practical-tablet"), *(static(name) for name in SHELL_STATIC)]
    response = render(
        request,
        "certifications/practical/sw.js",
        {
            "shell_json": json.dumps(shell),
            "data_url": json.dumps(reverse("certifications:practical-data")),
            "cache_name": json.dumps(f"kuangjiang-tablet-{_shell_fingerprint()}"),
        },
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    return response


def _shell_fingerprint() -> str:
    """A digest of the shell's files: a new version of the page's script or styles renews the tablet's cache."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        found = finders.find(name)
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:12]


def _visible_sheets(user):
    """Sheets of workers this user may see, and the sheets this user scored."""
    return ScoringSheet.objects.filter(Q(worker__in=access.visible_workers(user)) | Q(assessor=user))


@require_GET
def sheet_photo(request, pk: int):
    """The photo of one deduction, to those who may see the candidate or scored the sheet."""
    deduction = get_object_or_404(
        ScoreDeduction.objects.filter(sheet__in=_visible_sheets(request.user)).exclude(photo=""), pk=pk
    )
    return FileResponse(deduction.photo.open("rb"))


@require_GET
def sheet_signature(request, uuid, who: str):
    """A drawn signature as a PNG (the CSP allows no data: images)."""
    sheet = get_object_or_404(_visible_sheets(request.user), uuid=uuid)
    value = {"candidate": sheet.candidate_signature, "assessor": sheet.assessor_signature}.get(who) or ""
    if not value.startswith("data:image/png;base64,"):
        raise Http404("No signature.")
    return HttpResponse(base64.b64decode(value.split(",", 1)[1]), content_type="image/png")
