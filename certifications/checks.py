"""System checks for settings that would otherwise fall back silently to a default."""

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
}


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
