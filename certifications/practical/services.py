"""
Writes of the practical scoring sheets, the one door for them: a sheet synced
from the tablet (created, repeated, updated or refused as a conflict), the
result it becomes through the results' door, the moderation case a second
assessor's sheet opens, and HR's decision on it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import uuid as uuid_lib
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from certifications.models import (
    ScoreDeduction,
    ScoringModeration,
    ScoringScheme,
    ScoringSheet,
    Sitting,
    SittingCandidate,
)
from certifications.models.practical import SIGNATURE_MAX_CHARS
from certifications.practical import rules
from certifications.practical.selectors import sitting_scheme_get
from certifications.ranks.services import result_correct, result_record
from core.dates import DateError, parse_iso_timestamp
from core.history import with_reason
from core.versions import bump

# A photo of a mistake, after the tablet has shrunk it; a drawn signature. Larger is refused, naming the field.
PHOTO_MAX_BYTES = 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass
class MarkInput:
    item_id: int
    mistakes: int = 0
    minutes_over: int = 0
    note: str = ""
    photo: bytes | None = None
    photo_type: str = ""


@dataclass
class SheetInput:
    """A sheet as the tablet sent it, checked: who, what, the marks and the signatures."""

    uuid: uuid_lib.UUID
    sitting: Sitting
    candidate: SittingCandidate
    base_version: int | None
    started_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    critical_item_id: int | None = None
    critical_note: str = ""
    marks: list[MarkInput] = field(default_factory=list)
    candidate_name: str = ""
    candidate_signature: str = ""
    assessor_signature: str = ""
    confirmed_at: dt.datetime | None = None

    def fingerprint(self) -> str:
        """The content, reduced to a hash: the same sheet sent again has the same fingerprint."""
        content = {
            "worker": self.candidate.worker_id,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "critical": self.critical_item_id,
            "critical_note": self.critical_note,
            "marks": sorted(
                [
                    m.item_id,
                    m.mistakes,
                    m.minutes_over,
                    m.note,
                    hashlib.sha256(m.photo).hexdigest() if m.photo else "",
                ]
                for m in self.marks
            ),
            "candidate_name": self.candidate_name,
            "candidate_signature": hashlib.sha256(self.candidate_signature.encode()).hexdigest(),
            "assessor_signature": hashlib.sha256(self.assessor_signature.encode()).hexdigest(),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass
class SyncOutcome:
    status: str  # "created", "repeated", "updated", "conflict"
    sheet: ScoringSheet


# --- parsing what the tablet sent ---------------------------------------------------------------------------


def _text(payload: dict, name: str, limit: int) -> str:
    value = payload.get(name) or ""
    if not isinstance(value, str):
        raise ValidationError({name: _("Expected text.")})
    value = value.strip()
    if len(value) > limit:
        raise ValidationError({name: _("At most %(limit)s characters.") % {"limit": limit}})
    return value


def _moment(payload: dict, name: str) -> dt.datetime | None:
    value = payload.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError({name: _("Not a date and time.")})
    try:
        # The tablet sends ISO 8601 with its zone (Date.toISOString); core.dates reads it as the xAPI's are read.
        return parse_iso_timestamp(value)
    except DateError:  # another shape, or no such day or hour
        raise ValidationError({name: _("Not a date and time.")}) from None


def _whole(value, name: str, high: int) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > 8:
        raise ValidationError({name: _("Expected a whole number.")})
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({name: _("Expected a whole number.")}) from None
    if not 0 <= number <= high:
        raise ValidationError({name: _("Expected a whole number from 0 to %(high)s.") % {"high": high}})
    return number


def _signature(payload: dict, name: str) -> str:
    value = payload.get(name) or ""
    if not isinstance(value, str):
        raise ValidationError({name: _("Expected a drawn signature.")})
    if not value:
        return ""
    if len(value) > SIGNATURE_MAX_CHARS:
        raise ValidationError({name: _("The signature is too large.")})
    if not value.startswith("data:image/png;base64,"):
        raise ValidationError({name: _("Expected a drawn signature.")})
    try:
        base64.b64decode(value.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({name: _("Expected a drawn signature.")}) from None
    return value


def _photo(value, name: str) -> tuple[bytes | None, str]:
    if not value:
        return None, ""
    if not isinstance(value, str) or not value.startswith("data:") or ";base64," not in value:
        raise ValidationError({name: _("Expected a photo.")})
    head, data = value[5:].split(";base64,", 1)
    if head not in PHOTO_TYPES:
        raise ValidationError({name: _("A photo is a JPEG, PNG or WebP image.")})
    if len(data) > PHOTO_MAX_BYTES * 4 // 3 + 4:
        raise ValidationError(
            {name: _("The photo is larger than %(mb)s MB.") % {"mb": PHOTO_MAX_BYTES // 1024 // 1024}}
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({name: _("Expected a photo.")}) from None
    return raw, head


def _id(value) -> int | None:
    """A row id as sent, or None: a whole number a database column holds (not a bool, a float, or 10**30)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def sheet_input_parse(payload: object, *, user: AbstractBaseUser) -> SheetInput:
    """
    Check a sheet the tablet sent. Raise Http404 for a sitting this user does not examine or a candidate not
    on its roster (existence does not leak); ValidationError naming the field for anything else wrong.
    """
    if not isinstance(payload, dict):
        raise ValidationError(_("Expected a scoring sheet."))
    try:
        sheet_id = uuid_lib.UUID(str(payload.get("uuid", "")))
    except ValueError:
        raise ValidationError({"uuid": _("Expected the sheet's id (a UUID).")}) from None
    sitting_id = _id(payload.get("sitting"))
    if sitting_id is None:
        raise Http404("No such sitting.")
    sitting = (
        Sitting.objects.filter(pk=sitting_id, examiners=user, practical__isnull=False)
        .select_related("practical")
        .first()
    )
    if sitting is None:
        raise Http404("No such sitting.")
    candidate = (
        SittingCandidate.objects.filter(sitting=sitting, worker__employee_no=str(payload.get("worker", "")))
        .select_related("worker")
        .first()
    )
    if candidate is None:
        raise Http404("No such candidate.")
    base = payload.get("base_version")
    if base is not None and (isinstance(base, bool) or not isinstance(base, int) or not 0 <= base < 2**63):
        raise ValidationError({"base_version": _("Expected a whole number.")})
    marks_in = payload.get("marks") or []
    if not isinstance(marks_in, list) or len(marks_in) > 500:
        raise ValidationError({"marks": _("Expected a list of marks.")})
    marks = []
    for index, mark in enumerate(marks_in, 1):
        if not isinstance(mark, dict):
            raise ValidationError({"marks": _("Expected a list of marks.")})
        item_id = _id(mark.get("item"))
        if item_id is None:
            raise ValidationError({f"marks.{index}.item": _("Expected an item.")})
        photo, photo_type = _photo(mark.get("photo"), f"marks.{index}.photo")
        marks.append(
            MarkInput(
                item_id=item_id,
                mistakes=_whole(mark.get("mistakes"), f"marks.{index}.mistakes", 999),
                minutes_over=_whole(mark.get("minutes_over"), f"marks.{index}.minutes_over", 1440),
                note=_text(mark, "note", 500),
                photo=photo,
                photo_type=photo_type,
            )
        )
    critical = payload.get("critical_item")
    if critical in (None, ""):
        critical = None
    else:
        critical = _id(critical)
        if critical is None:
            raise ValidationError({"critical_item": _("Expected an item.")})
    return SheetInput(
        uuid=sheet_id,
        sitting=sitting,
        candidate=candidate,
        base_version=base,
        started_at=_moment(payload, "started_at"),
        stopped_at=_moment(payload, "stopped_at"),
        critical_item_id=critical,
        critical_note=_text(payload, "critical_note", 500),
        marks=marks,
        candidate_name=_text(payload, "candidate_name", 100),
        candidate_signature=_signature(payload, "candidate_signature"),
        assessor_signature=_signature(payload, "assessor_signature"),
        confirmed_at=_moment(payload, "confirmed_at"),
    )


# --- the outcome, and writing it ---------------------------------------------------------------------------------


def _outcome(scheme: ScoringScheme, data: SheetInput) -> rules.Outcome:
    items = list(scheme.items.all())
    known = {i.pk: i for i in items}
    seen = set()
    for index, mark in enumerate(data.marks, 1):
        if mark.item_id not in known or known[mark.item_id].critical:
            raise ValidationError({f"marks.{index}.item": _("This item is not on the sheet's scheme.")})
        if mark.item_id in seen:
            raise ValidationError({f"marks.{index}.item": _("An item is marked twice.")})
        seen.add(mark.item_id)
    if data.critical_item_id is not None and not (
        data.critical_item_id in known and known[data.critical_item_id].critical
    ):
        raise ValidationError({"critical_item": _("This is not a critical item of the sheet's scheme.")})
    if data.started_at and data.stopped_at and data.stopped_at < data.started_at:
        raise ValidationError({"stopped_at": _("The timer cannot stop before it starts.")})
    assessment = data.sitting.practical
    outcome = rules.sheet_outcome(
        [rules.Item(i.pk, i.points, i.per_mistake, i.per_minute_over, i.critical) for i in items],
        [rules.Mark(m.item_id, m.mistakes, m.minutes_over) for m in data.marks],
        critical_item_id=data.critical_item_id,
        pass_mark=assessment.pass_mark,
        full_marks=assessment.full_marks,
    )
    if outcome.full_points <= 0:
        raise ValidationError(_("The scheme has no items with points."))
    return outcome


def _fill(sheet: ScoringSheet, data: SheetInput, outcome: rules.Outcome, fingerprint: str) -> None:
    sheet.started_at, sheet.stopped_at = data.started_at, data.stopped_at
    sheet.critical_item_id = outcome.critical_item_id
    sheet.critical_note = data.critical_note
    sheet.full_points, sheet.total, sheet.score, sheet.passed = (
        outcome.full_points,
        outcome.total,
        outcome.score,
        outcome.passed,
    )
    sheet.candidate_name = data.candidate_name
    sheet.candidate_signature = data.candidate_signature
    sheet.assessor_signature = data.assessor_signature
    sheet.confirmed_at = data.confirmed_at
    sheet.content_hash = fingerprint
    sheet.updated_at = timezone.now()


def _deductions_write(sheet: ScoringSheet, data: SheetInput, outcome: rules.Outcome, *, user, reason: str) -> None:
    """Write the sheet's lines in bulk, with their history: a fixed number of queries whatever the items."""
    old = {d.item_id: d for d in sheet.deductions.all()} if sheet.pk else {}
    new, changed, keep = [], [], set()
    fields = ["mistakes", "minutes_over", "note", "points", "photo"]
    for mark in data.marks:
        deduction = old.get(mark.item_id) or ScoreDeduction(sheet=sheet, item_id=mark.item_id, version=1)
        before = [getattr(deduction, name) for name in fields]
        deduction.mistakes, deduction.minutes_over, deduction.note = mark.mistakes, mark.minutes_over, mark.note
        deduction.points = outcome.deductions.get(mark.item_id, rules.ZERO)
        # A photo sent replaces the line's photo; none sent keeps it (a tablet that took the server's copy of a
        # conflict has the line without its photo): evidence is never dropped by a sync.
        if mark.photo is not None:
            digest = hashlib.sha256(mark.photo).hexdigest()[:16]
            if not deduction.photo or digest not in deduction.photo.name:
                name = f"{sheet.uuid}-{mark.item_id}-{digest}.{PHOTO_TYPES[mark.photo_type]}"
                deduction.photo.save(name, ContentFile(mark.photo), save=False)
        deduction.full_clean(exclude=["sheet", "item"])
        keep.add(mark.item_id)
        if deduction.pk is None:
            new.append(deduction)
        elif [getattr(deduction, name) for name in fields] != before:
            changed.append(deduction)
    if new:
        bulk_create_with_history(new, ScoreDeduction, default_user=user, default_change_reason=reason)
    if changed:
        bulk_update_with_history(
            changed, ScoreDeduction, bump(changed, fields), default_user=user, default_change_reason=reason
        )
    for item_id, deduction in old.items():
        if item_id not in keep:
            with_reason(deduction, reason, user=user)
            deduction.delete()


def _result_words(sheet: ScoringSheet) -> tuple[str, str]:
    """The result's remarks and the history's reason for a sheet."""
    if sheet.critical_item_id:
        item = sheet.critical_item.name
        return (
            _("Critical item failed: %(item)s") % {"item": item},
            _("scoring sheet: critical item failed (%(item)s)") % {"item": item},
        )
    return "", _("scoring sheet")


def _record(sheet: ScoringSheet, *, user) -> None:
    remarks, reason = _result_words(sheet)
    sheet.result = result_record(
        assessment=sheet.assessment,
        worker=sheet.worker,
        score=sheet.score,
        recorded_by=user,
        remarks=remarks[:200],
        reason=reason,
    )


def _correct(sheet: ScoringSheet, *, user, reason: str) -> None:
    remarks, _reason = _result_words(sheet)
    result_correct(result=sheet.result, score=sheet.score, reason=reason, corrected_by=user, remarks=remarks[:200])


@transaction.atomic
def sheet_sync(*, data: SheetInput, user: AbstractBaseUser) -> SyncOutcome:
    """
    Store a sheet from the tablet. A new sheet becomes the candidate's practical result (through the results'
    door) or, when another sheet already stands for the candidate at this sitting, a moderation case for HR. The
    same content again changes nothing ("repeated"); new content from the server's current version updates the
    sheet and corrects its result; new content from an older version is a conflict, and nothing is written.
    """
    # Locked: two tablets sending the first sheet of one candidate at once queue here, so one records, one waits.
    SittingCandidate.objects.select_for_update().filter(pk=data.candidate.pk).first()
    fingerprint = data.fingerprint()
    sheet = ScoringSheet.objects.select_for_update().filter(uuid=data.uuid).first()
    if sheet is not None:
        if (
            sheet.assessor_id != user.pk
            or sheet.worker_id != data.candidate.worker_id
            or sheet.sitting_id != data.sitting.pk
        ):
            raise Http404("No such sheet.")
        if sheet.content_hash == fingerprint:
            return SyncOutcome("repeated", sheet)
        if data.base_version != sheet.version:
            return SyncOutcome("conflict", sheet)
        outcome = _outcome(sheet.scheme, data)
        _fill(sheet, data, outcome, fingerprint)
        with_reason(sheet, _("scoring sheet corrected on the tablet"), user=user)
        sheet.save()
        _deductions_write(sheet, data, outcome, user=user, reason=_("scoring sheet corrected on the tablet"))
        if sheet.status == ScoringSheet.Status.RECORDED and sheet.result_id:
            _correct(sheet, user=user, reason=_("scoring sheet corrected on the tablet"))
        return SyncOutcome("updated", sheet)

    scheme = sitting_scheme_get(data.sitting)
    if scheme is None:
        raise ValidationError(_("This sitting has no scoring scheme."))
    outcome = _outcome(scheme, data)
    sheet = ScoringSheet(
        uuid=data.uuid,
        sitting=data.sitting,
        assessment=data.sitting.practical,
        worker=data.candidate.worker,
        assessor=user,
        scheme=scheme,
    )
    _fill(sheet, data, outcome, fingerprint)
    standing = (
        ScoringSheet.objects.filter(
            sitting=data.sitting, worker=data.candidate.worker, status=ScoringSheet.Status.RECORDED
        )
        .order_by("created_at", "pk")
        .first()
    )
    if standing is not None:
        sheet.status = ScoringSheet.Status.MODERATION
    sheet.full_clean(exclude=["content_hash"])
    with_reason(sheet, _("scoring sheet"), user=user)
    sheet.save()
    _deductions_write(sheet, data, outcome, user=user, reason=_("scoring sheet"))
    if standing is not None:
        case = ScoringModeration(recorded=standing, second=sheet)
        with_reason(case, _("a second assessor's sheet"), user=user)
        case.save()
    else:
        _record(sheet, user=user)
        sheet.save(update_fields=["result", "version"])
    return SyncOutcome("created", sheet)


@transaction.atomic
def moderation_resolve(
    *, case: ScoringModeration, chosen: ScoringSheet, reason: str, user: AbstractBaseUser | None
) -> ScoringModeration:
    """
    Settle a moderation case: the chosen sheet's score stands. Choosing the second sheet corrects the result
    (through the results' door, with HR's reason); the other sheet is set aside, kept as evidence.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this sheet's score stands.")})
    case = ScoringModeration.objects.select_for_update().get(pk=case.pk)
    if case.status != ScoringModeration.Status.OPEN:
        raise ValidationError(_("This case is already resolved."))
    recorded, second = case.recorded, case.second
    if chosen.pk not in (recorded.pk, second.pk):
        raise ValidationError({"chosen": _("Choose one of the two sheets of this case.")})
    history = _("scoring sheet moderation: %(reason)s") % {"reason": reason}
    if chosen.pk == second.pk:
        second.result = recorded.result
        if second.result is None:
            _record(second, user=user)
        else:
            _correct(second, user=user, reason=history)
        second.status, recorded.status = ScoringSheet.Status.RECORDED, ScoringSheet.Status.SET_ASIDE
        recorded.result = None
    else:
        second.status = ScoringSheet.Status.SET_ASIDE
    for sheet in (recorded, second):
        with_reason(sheet, history, user=user)
        sheet.save(update_fields=["status", "result", "version"])
    case.status, case.chosen, case.reason = ScoringModeration.Status.RESOLVED, chosen, reason[:500]
    case.resolved_by, case.resolved_at = user, timezone.now()
    with_reason(case, history, user=user)
    case.save()
    return case


def sheet_json(sheet: ScoringSheet) -> dict:
    """The server's copy of a sheet, as the tablet shows it (a conflict shows it next to the tablet's)."""
    return {
        "uuid": str(sheet.uuid),
        "version": sheet.version,
        "status": sheet.status,
        "status_label": sheet.get_status_display(),
        "sitting": sheet.sitting_id,
        "worker": sheet.worker.employee_no,
        "scheme": sheet.scheme_id,
        "total": str(sheet.total),
        "full_points": str(sheet.full_points),
        "score": str(sheet.score),
        "passed": sheet.passed,
        "critical_item": sheet.critical_item_id,
        "critical_note": sheet.critical_note,
        "started_at": sheet.started_at.isoformat() if sheet.started_at else None,
        "stopped_at": sheet.stopped_at.isoformat() if sheet.stopped_at else None,
        "candidate_name": sheet.candidate_name,
        "updated_at": sheet.updated_at.isoformat(),
        "marks": [
            {
                "item": d.item_id,
                "mistakes": d.mistakes,
                "minutes_over": d.minutes_over,
                "note": d.note,
                "points": str(d.points),
                "has_photo": bool(d.photo),
            }
            for d in sheet.deductions.all()
        ],
    }
