"""
Every date rule of the project, each under one name.

Kuangjiang handles dates from 1900 to 2200 and no others (SUPPORTED_YEARS):
a hire date, a sitting, a certificate's lapse and every "what if today were…"
lie well inside it, and date arithmetic (a year back, ten years on) stays
inside what Python and the databases can hold. Every view, form, command,
importer and API reads a date with parse_date, so a date outside the range is
refused the same way everywhere, with a message naming the range, instead of
ending as `year 0 is out of range` in some computation far from the input.

Date arithmetic is here too, in one copy. A day the target month lacks
(31 January + 1 month, 29 February + 1 year) is met two ways, and each caller
says which it means:

- "clip" (the default): the same calendar day N months or years later, clipped
  to the month's last day — time at rank (docs/ranks.md: 1 year after
  2020-02-29 is 2021-02-28), legal retention, the demo's career steps.
- "roll": the first day after a period that starts on the given day — the
  certificate's validity and review, the months in a post (docs/clearance.md:
  a 3-year period from 2024-02-29 runs to 2027-02-28, so the day after is
  2027-03-01). last_day_after gives the period's last day.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Literal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.text import normalise_text

SUPPORTED_YEARS = (1900, 2200)
FIRST_DATE = dt.date(SUPPORTED_YEARS[0], 1, 1)
LAST_DATE = dt.date(SUPPORTED_YEARS[1], 12, 31)

# Excel's serial dates for 1982..2064: a number in this range in a date column is a date.
EXCEL_SERIAL_RANGE = (30000, 60000)

ONE_DAY = dt.timedelta(days=1)

# What a day missing in the target month becomes; see the module docstring.
ShortMonth = Literal["clip", "roll"]
SHORT_MONTH_RULES = ("clip", "roll")

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class DateError(ValueError):
    """A value that is not a date Kuangjiang handles; str() is the message for the person who wrote it."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


def out_of_range_message(value) -> str:
    return _("“%(value)s” is outside the dates Kuangjiang handles: write a date from %(first)s to %(last)s.") % {
        "value": value,
        "first": FIRST_DATE.isoformat(),
        "last": LAST_DATE.isoformat(),
    }


def date_in_range(value: dt.date, *, shown=None) -> dt.date:
    """Return value if it lies within SUPPORTED_YEARS; else raise DateError naming the range."""
    if not FIRST_DATE <= value <= LAST_DATE:
        raise DateError(out_of_range_message(shown if shown is not None else value.isoformat()), code="range")
    return value


def parse_date(value) -> dt.date | None:
    """
    Return the date in value, or None for an empty value; raise DateError for
    anything else or a date outside SUPPORTED_YEARS. Reads a date or datetime,
    an Excel serial, or text such as 2026-09-05, 2026/9/5, 2026.9.5, 20260905,
    2026年9月5日 (a time after it is ignored).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return date_in_range(value.date())
    if isinstance(value, dt.date):
        return date_in_range(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if EXCEL_SERIAL_RANGE[0] <= float(value) <= EXCEL_SERIAL_RANGE[1]:
            from openpyxl.utils.datetime import from_excel

            return from_excel(float(value)).date()
        raise DateError(_("“%(value)s” is not a date.") % {"value": value})
    text = normalise_text(value)
    if not text:
        return None
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if match is None and re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_date(float(text))
    if match is None:
        raise DateError(_("“%(value)s” is not a date; write it as 2026-09-05.") % {"value": text})
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not SUPPORTED_YEARS[0] <= year <= SUPPORTED_YEARS[1]:
        raise DateError(out_of_range_message(text), code="range")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(_("“%(value)s” is not a real date.") % {"value": text}) from None


_ISO_TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE
)


def parse_iso_timestamp(text: str) -> dt.datetime:
    """
    Return the aware datetime an ISO 8601 timestamp (2026-09-05T08:30:00+08:00, …Z) names, UTC when it names no
    zone, as machines send them (xAPI statements). Raise DateError: code "format" for another shape, "range" for a
    time outside SUPPORTED_YEARS or one that does not exist.
    """
    if not _ISO_TIMESTAMP_RE.match(text):
        raise DateError(_("“%(value)s” is not an ISO 8601 timestamp.") % {"value": text[:64]}, code="format")
    shown = text.upper().replace("Z", "+00:00")
    if re.search(r"[+-]\d{2}$", shown):
        shown += ":00"
    try:
        value = dt.datetime.fromisoformat(shown)
    except ValueError:
        raise DateError(_("“%(value)s” is not a real time.") % {"value": text[:64]}, code="range") from None
    date_in_range(value.date(), shown=text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def stored_date(text: str) -> dt.date:
    """
    Return the date of an ISO text the database itself produced (a date column
    cast to text for speed). Not for input: what a person wrote goes through parse_date.
    """
    return dt.date.fromisoformat(text)


def validate_supported_date(value) -> None:
    """A validator for a date form or model field: refuse a date outside SUPPORTED_YEARS."""
    if isinstance(value, dt.date):
        try:
            date_in_range(value.date() if isinstance(value, dt.datetime) else value)
        except DateError as exc:
            raise ValidationError(exc.message, code=exc.code) from None


class DateField(forms.DateField):
    """A form's date: read with parse_date, so every format the mine writes and only supported years pass."""

    default_validators = [validate_supported_date]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_date(value)
        except DateError as exc:
            raise ValidationError(exc.message, code=exc.code) from None


def argument_date(value: str) -> dt.date:
    """An argparse `type=` for a command's date option: the same parser and message as everywhere else."""
    try:
        parsed = parse_date(value)
    except DateError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    if parsed is None:
        raise argparse.ArgumentTypeError(_("Give a date such as 2026-09-05."))
    return parsed


def command_date(value) -> dt.date | None:
    """
    Return a command's date option, however it arrived: parsed by argument_date
    from the command line, or a text or date handed to call_command (which
    skips `type=`). Raise CommandError with the parser's message.
    """
    from django.core.management.base import CommandError

    try:
        return parse_date(value)
    except DateError as exc:
        raise CommandError(exc.message) from None


# ── date arithmetic ──────────────────────────────────────────────────────


@lru_cache(maxsize=65536)  # the rank engine asks the same few thousand questions for 100,000 workers
def add_months(day: dt.date, months: int, *, short_month: ShortMonth = "clip") -> dt.date:
    """
    Return the same day of the month `months` later (earlier when negative). A
    day the target month lacks is clipped to its last day, or with
    short_month="roll" becomes the 1st of the month after.
    """
    if short_month not in SHORT_MONTH_RULES:
        raise ValueError(f"short_month must be one of {SHORT_MONTH_RULES}, not {short_month!r}")
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    last = calendar.monthrange(year, month)[1]
    if day.day <= last:
        return dt.date(year, month, day.day)
    if short_month == "roll":
        return dt.date(year, month, last) + ONE_DAY
    return dt.date(year, month, last)


@lru_cache(maxsize=65536)
def add_years(day: dt.date, years: int | Decimal, *, short_month: ShortMonth = "clip") -> dt.date:
    """
    Return the same day `years` later (earlier when negative); fractional years
    are counted in whole months, rounded half up (1.5 years is 18 months).
    """
    if isinstance(years, int):
        months = 12 * years
    else:
        months = int((Decimal(years) * 12).to_integral_value(rounding=ROUND_HALF_UP))
    return add_months(day, months, short_month=short_month)


def last_day_after(start: dt.date, *, years: int = 0, months: int = 0) -> dt.date:
    """Return the last day of a period of `years` and `months` whose first day is `start`."""
    return add_months(start, 12 * years + months, short_month="roll") - ONE_DAY
