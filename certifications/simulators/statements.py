"""
An xAPI 1.0.3 statement, checked as the specification asks and read into the fields Kuangjiang maps. Pure: no
queries. A statement that breaks a rule raises StatementError with the rule in words, which the endpoint sends
back with 400.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from certifications.models.simulators import ACTOR_KEY_LENGTH, IRI_LENGTH, MAX_DURATION_SECONDS, actor_key
from core.dates import DateError, parse_iso_timestamp

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERSION = "1.0.3"

STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version"}
# Set by the record store, not compared when a statement is sent again (xAPI 1.0.3, "Statement Comparison").
LRS_KEYS = ("id", "stored", "authority", "version")
AGENT_KEYS = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
SCORE_KEYS = {"scaled", "raw", "min", "max"}
CONTEXT_KEYS = {
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
}
CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}
ACTIVITY_KEYS = {"objectType", "id", "definition"}
DEFINITION_KEYS = {
    "name",
    "description",
    "type",
    "moreInfo",
    "extensions",
    "interactionType",
    "correctResponsesPattern",
    "choices",
    "scale",
    "source",
    "target",
    "steps",
}

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:(?P<Y>\d+(?:\.\d+)?)Y)?(?:(?P<M>\d+(?:\.\d+)?)M)?(?:(?P<W>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<D>\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = {"Y": 365 * 86400, "M": 30 * 86400, "W": 7 * 86400, "D": 86400, "h": 3600, "m": 60, "s": 1}
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
MAX_DURATION = Decimal(MAX_DURATION_SECONDS)


class StatementError(ValueError):
    """A statement that breaks a rule of xAPI 1.0.3; the message says which."""


@dataclass
class Mapped:
    """The fields Kuangjiang reads out of a valid statement."""

    statement_id: uuid.UUID
    received: dict
    timestamp: dt.datetime | None
    actor_key: str
    actor_name: str
    account_name: str
    verb_id: str
    activity_iri: str
    target_statement_id: uuid.UUID | None
    score_scaled: Decimal | None
    success: bool | None
    completion: bool | None
    duration_seconds: Decimal | None

    @property
    def voids(self) -> bool:
        return self.target_statement_id is not None

    @property
    def comparable(self) -> str:
        return comparable(self.received)


def comparable(received: dict) -> str:
    """Return the statement as text without what the record store sets, to compare two sendings of one id."""
    return json.dumps({k: v for k, v in received.items() if k not in LRS_KEYS}, sort_keys=True, ensure_ascii=False)


def _fail(message: str, **values) -> StatementError:
    return StatementError(message % values if values else message)


def _object(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(_("%(where)s must be a JSON object."), where=where)
    return value


def _known(value: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(value) - allowed)
    if extra:
        raise _fail(_("%(where)s has a property xAPI 1.0.3 does not define: %(name)s."), where=where, name=extra[0])


def _text(value, where: str, *, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise _fail(_("%(where)s must be a string."), where=where)
    if limit is not None and len(value) > limit:
        raise _fail(_("%(where)s is longer than %(limit)s characters."), where=where, limit=limit)
    return value


def _iri(value, where: str, *, limit: int = IRI_LENGTH) -> str:
    text = _text(value, where, limit=limit)
    if not _IRI.match(text):
        raise _fail(_("%(where)s must be an IRI (an absolute address such as http://…)."), where=where)
    return text


def _uuid(value, where: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise _fail(_("%(where)s must be a UUID string."), where=where)
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise _fail(_("%(where)s must be a UUID (e.g. 12345678-1234-5678-1234-567812345678)."), where=where) from None
    if str(parsed) != value.lower():
        raise _fail(_("%(where)s must be a UUID in its canonical form."), where=where)
    return parsed


def _number(value, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(_("%(where)s must be a number."), where=where)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(_("%(where)s must be a number."), where=where) from None
    if not number.is_finite():
        raise _fail(_("%(where)s must be a number."), where=where)
    return number


def _boolean(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(_("%(where)s must be true or false."), where=where)
    return value


def _language_map(value, where: str) -> None:
    for tag, text in _object(value, where).items():
        if not _LANGUAGE_TAG.match(tag):
            raise _fail(_("%(where)s: “%(tag)s” is not a language tag (e.g. zh-CN)."), where=where, tag=tag[:40])
        _text(text, where)


def _extensions(value, where: str) -> None:
    for key in _object(value, where):
        _iri(key, _("%(where)s key") % {"where": where})


def _strings_without_nul(value, where: str) -> None:
    # PostgreSQL's jsonb cannot hold U+0000, and no simulator means one: refused rather than half stored.
    if isinstance(value, str):
        if "\x00" in value:
            raise _fail(_("%(where)s contains the character U+0000."), where=where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings_without_nul(key, where)
            _strings_without_nul(item, where)
    elif isinstance(value, list):
        for item in value:
            _strings_without_nul(item, where)


def agent(value, where: str) -> tuple[str, str, str]:
    """Check an Agent; return its key (inverse functional identifier), its name and its account name."""
    value = _object(value, where)
    kind = value.get("objectType", "Agent")
    if kind == "Group":
        raise _fail(
            _("%(where)s is a Group; Kuangjiang records one trainee per statement: send an Agent."), where=where
        )
    if kind != "Agent":
        raise _fail(_("%(where)s objectType must be Agent."), where=where)
    _known(value, AGENT_KEYS, where)
    present = [key for key in IFI_KEYS if key in value]
    if len(present) != 1:
        raise _fail(
            _("%(where)s must have exactly one of mbox, mbox_sha1sum, openid or account (it has %(n)s)."),
            where=where,
            n=len(present),
        )
    name = _text(value["name"], f"{where}.name", limit=255) if "name" in value else ""
    ifi = present[0]
    account_name = ""
    if ifi == "mbox":
        mbox = _text(value["mbox"], f"{where}.mbox", limit=255)
        if not re.match(r"^mailto:[^@\s]+@[^@\s]+$", mbox, re.IGNORECASE):
            raise _fail(_("%(where)s.mbox must be mailto: and an e-mail address."), where=where)
        key = actor_key(mbox=mbox)
    elif ifi == "mbox_sha1sum":
        digest = _text(value["mbox_sha1sum"], f"{where}.mbox_sha1sum")
        if not _SHA1.match(digest):
            raise _fail(_("%(where)s.mbox_sha1sum must be 40 hexadecimal digits."), where=where)
        key = actor_key(mbox_sha1sum=digest)
    elif ifi == "openid":
        key = actor_key(openid=_iri(value["openid"], f"{where}.openid", limit=500))
    else:
        account = _object(value["account"], f"{where}.account")
        _known(account, {"homePage", "name"}, f"{where}.account")
        if "homePage" not in account or "name" not in account:
            raise _fail(_("%(where)s.account must have both homePage and name."), where=where)
        home_page = _iri(account["homePage"], f"{where}.account.homePage", limit=300)
        account_name = _text(account["name"], f"{where}.account.name", limit=255)
        if not account_name:
            raise _fail(_("%(where)s.account.name must not be empty."), where=where)
        key = actor_key(home_page=home_page, name=account_name)
    if len(key) > ACTOR_KEY_LENGTH:
        raise _fail(_("%(where)s is too long to identify."), where=where)
    return key, name, account_name


def _agent_or_group(value, where: str) -> None:
    value = _object(value, where)
    if value.get("objectType") == "Group":
        _known(value, {*AGENT_KEYS, "member"}, where)
        members = value.get("member", [])
        if not isinstance(members, list):
            raise _fail(_("%(where)s.member must be a list of agents."), where=where)
        for i, member in enumerate(members):
            agent(member, f"{where}.member[{i}]")
        return
    agent(value, where)


def duration_seconds(text: str) -> Decimal:
    """Return the seconds an ISO 8601 duration (PT12M30S) stands for; a year is 365 days, a month 30."""
    match = _DURATION.match(text)
    if match is None:
        raise _fail(_("result.duration must be an ISO 8601 duration, e.g. PT12M30S."))
    total = sum((Decimal(v) * _SECONDS[k] for k, v in match.groupdict().items() if v is not None), Decimal(0))
    if total > MAX_DURATION:
        raise _fail(_("result.duration is longer than ten years."))
    return total.quantize(Decimal("0.01"))


def timestamp(text, where: str) -> dt.datetime:
    """Return an ISO 8601 timestamp as an aware datetime (UTC when it names no zone)."""
    text = _text(text, where, limit=64)
    try:
        return parse_iso_timestamp(text)
    except DateError as exc:
        if exc.code == "format":
            raise _fail(
                _("%(where)s must be an ISO 8601 timestamp, e.g. 2026-09-05T08:30:00+08:00."), where=where
            ) from None
        raise _fail(_("%(where)s is not a real time between 1900 and 2200."), where=where) from None


def _result(value) -> tuple[Decimal | None, bool | None, bool | None, Decimal | None]:
    value = _object(value, "result")
    _known(value, RESULT_KEYS, "result")
    scaled = None
    if "score" in value:
        score = _object(value["score"], "result.score")
        _known(score, SCORE_KEYS, "result.score")
        numbers = {k: _number(score[k], f"result.score.{k}") for k in SCORE_KEYS if k in score}
        scaled = numbers.get("scaled")
        if scaled is not None and not Decimal(-1) <= scaled <= Decimal(1):
            raise _fail(_("result.score.scaled must lie between -1 and 1."))
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and not low < high:
            raise _fail(_("result.score.max must be greater than result.score.min."))
        if raw is not None and low is not None and raw < low:
            raise _fail(_("result.score.raw must not be below result.score.min."))
        if raw is not None and high is not None and raw > high:
            raise _fail(_("result.score.raw must not be above result.score.max."))
        if scaled is not None:
            scaled = scaled.quantize(Decimal("0.0000000001"))
    success = _boolean(value["success"], "result.success") if "success" in value else None
    completion = _boolean(value["completion"], "result.completion") if "completion" in value else None
    if "response" in value:
        _text(value["response"], "result.response")
    seconds = duration_seconds(_text(value["duration"], "result.duration", limit=64)) if "duration" in value else None
    if "extensions" in value:
        _extensions(value["extensions"], "result.extensions")
    return scaled, success, completion, seconds


def _activity(value, where: str) -> str:
    _known(value, ACTIVITY_KEYS, where)
    if "id" not in value:
        raise _fail(_("%(where)s.id is required: the activity's IRI."), where=where)
    iri = _iri(value["id"], f"{where}.id")
    if "definition" in value:
        definition = _object(value["definition"], f"{where}.definition")
        _known(definition, DEFINITION_KEYS, f"{where}.definition")
        for key in ("name", "description"):
            if key in definition:
                _language_map(definition[key], f"{where}.definition.{key}")
        for key in ("type", "moreInfo"):
            if key in definition:
                _iri(definition[key], f"{where}.definition.{key}")
        if "extensions" in definition:
            _extensions(definition["extensions"], f"{where}.definition.extensions")
    return iri


def _context(value) -> None:
    value = _object(value, "context")
    _known(value, CONTEXT_KEYS, "context")
    if "registration" in value:
        _uuid(value["registration"], "context.registration")
    if "instructor" in value:
        _agent_or_group(value["instructor"], "context.instructor")
    if "team" in value:
        team = _object(value["team"], "context.team")
        if team.get("objectType") != "Group":
            raise _fail(_("context.team must be a Group."))
        _agent_or_group(team, "context.team")
    for key in ("revision", "platform"):
        if key in value:
            _text(value[key], f"context.{key}")
    if "language" in value and not _LANGUAGE_TAG.match(_text(value["language"], "context.language")):
        raise _fail(_("context.language must be a language tag (e.g. zh-CN)."))
    if "statement" in value:
        ref = _object(value["statement"], "context.statement")
        if ref.get("objectType") != "StatementRef" or "id" not in ref:
            raise _fail(_("context.statement must be a StatementRef with an id."))
        _uuid(ref["id"], "context.statement.id")
    if "contextActivities" in value:
        activities = _object(value["contextActivities"], "context.contextActivities")
        _known(activities, CONTEXT_ACTIVITY_KEYS, "context.contextActivities")
        for key, items in activities.items():
            where = f"context.contextActivities.{key}"
            for i, item in enumerate(items if isinstance(items, list) else [items]):
                item = _object(item, f"{where}[{i}]")
                if item.get("objectType", "Activity") != "Activity":
                    raise _fail(_("%(where)s must hold activities."), where=where)
                _activity(item, f"{where}[{i}]")
    if "extensions" in value:
        _extensions(value["extensions"], "context.extensions")


def statement_read(value, *, statement_id: uuid.UUID | None = None) -> Mapped:
    """
    Check one statement as xAPI 1.0.3 asks and return its mapped fields; `statement_id` is the id a PUT names
    (the statement's own id, if any, must agree). A statement without an id is given one.
    """
    value = _object(value, _("A statement"))
    if "attachments" in value:
        raise _fail(_("Kuangjiang does not accept attachments."))
    _known(value, STATEMENT_KEYS, _("The statement"))
    _strings_without_nul(value, _("The statement"))
    for required in ("actor", "verb", "object"):
        if required not in value:
            raise _fail(_("The statement has no %(name)s."), name=required)
    if "id" in value:
        own = _uuid(value["id"], "id")
        if statement_id is not None and own != statement_id:
            raise _fail(_("The statement's id differs from the statementId parameter."))
        statement_id = own
    statement_id = statement_id or uuid.uuid4()
    if "version" in value:
        version = _text(value["version"], "version")
        if not re.match(r"^1\.0(\.\d+)?$", version):
            raise _fail(_("version must be 1.0.x."))
    for key in ("authority",):
        if key in value:
            _agent_or_group(value[key], key)
    key, name, account_name = agent(value["actor"], "actor")

    verb = _object(value["verb"], "verb")
    _known(verb, {"id", "display"}, "verb")
    if "id" not in verb:
        raise _fail(_("verb.id is required: the verb's IRI."))
    verb_id = _iri(verb["id"], "verb.id")
    if "display" in verb:
        _language_map(verb["display"], "verb.display")

    target = None
    activity_iri = ""
    obj = _object(value["object"], "object")
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        activity_iri = _activity(obj, "object")
    elif kind == "StatementRef":
        _known(obj, {"objectType", "id"}, "object")
        if "id" not in obj:
            raise _fail(_("object.id is required: the id of the statement referred to."))
        target = _uuid(obj["id"], "object.id")
    else:
        raise _fail(
            _("object must be an Activity (or a StatementRef, to void a statement); not %(kind)s."),
            kind=str(kind)[:40],
        )
    if verb_id == VOIDED and target is None:
        raise _fail(_("A voiding statement's object must be a StatementRef."))
    if verb_id != VOIDED:
        target = None  # a StatementRef that does not void is kept, not acted on

    scaled = success = completion = seconds = None
    if "result" in value:
        scaled, success, completion, seconds = _result(value["result"])
    if "context" in value:
        _context(value["context"])
    when = timestamp(value["timestamp"], "timestamp") if "timestamp" in value else None
    if "stored" in value:
        timestamp(value["stored"], "stored")

    received = {**value, "id": str(statement_id)}
    return Mapped(
        statement_id=statement_id,
        received=received,
        timestamp=when,
        actor_key=key,
        actor_name=name,
        account_name=account_name,
        verb_id=verb_id,
        activity_iri=activity_iri,
        target_statement_id=target,
        score_scaled=scaled,
        success=success,
        completion=completion,
        duration_seconds=seconds,
    )
