"""System checks for settings that would otherwise fall back silently to a default."""

import difflib

from django.conf import settings
from django.core import checks

from certifications.ranks.services import AWARD_MODES

# Positive whole numbers in settings.KUANGJIANG, with the least value each may take.
# Retention may be longer than the law asks (docs/domain.md §2), never shorter.
LIMITS = {
    "UPLOAD_MAX_BYTES": 1,
    "UPLOAD_MAX_UNCOMPRESSED_BYTES": 1,
    "SPREADSHEET_MAX_ROWS": 1,
    "RETENTION_YEARS": 3,
    "RETENTION_YEARS_SPECIAL_OPERATION": 6,
    # Simulator results (docs/simulators.md): a request's size, a batch's statements, a class hour's minutes.
    "XAPI_MAX_BYTES": 1,
    "XAPI_MAX_BATCH": 1,
    "CLASS_HOUR_MINUTES": 1,
}
# Every key the code reads; a misspelt one would be ignored and its default used without a word.
KNOWN_KEYS = ("RANK_AWARD_MODE", "TECHNICAL_ERROR_PAGES", *LIMITS)


@checks.register(checks.Tags.compatibility)
def check_kuangjiang_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Return an Error for each KUANGJIANG setting the code would ignore or misread."""
    config = getattr(settings, "KUANGJIANG", {})
    if not isinstance(config, dict):
        return [
            checks.Error(
                f"KUANGJIANG must be a dict, not {type(config).__name__}.",
                hint="See config/settings/base.py for its keys.",
                id="kuangjiang.E001",
            )
        ]
    errors = []
    for key in sorted(set(config) - set(KNOWN_KEYS), key=str):
        close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
        errors.append(
            checks.Error(
                f"KUANGJIANG[{key!r}] is not a setting Kuangjiang reads; the code would use its default instead.",
                hint=f"Did you mean {close[0]}?" if close else f"The settings are: {', '.join(KNOWN_KEYS)}.",
                id="kuangjiang.E004",
            )
        )
    mode = config.get("RANK_AWARD_MODE", "confirm")
    if mode not in AWARD_MODES:
        errors.append(
            checks.Error(
                f"KUANGJIANG['RANK_AWARD_MODE'] is {mode!r}; the roll-up would treat it as 'confirm'.",
                hint=f"Set RANK_AWARD_MODE to one of: {', '.join(AWARD_MODES)}.",
                id="kuangjiang.E002",
            )
        )
    for key, least in LIMITS.items():
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            errors.append(
                checks.Error(
                    f"KUANGJIANG[{key!r}] is {value!r}.",
                    hint=f"Set {key} to a whole number of at least {least}.",
                    id="kuangjiang.E003",
                )
            )
    return errors
