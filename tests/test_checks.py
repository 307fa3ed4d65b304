import pytest
from django.conf import settings
from django.test import override_settings

from certifications.checks import check_kuangjiang_settings


def kuangjiang(**values) -> dict:
    return {**settings.KUANGJIANG, **values}


def errors_for(**values) -> list[tuple[str, str]]:
    with override_settings(KUANGJIANG=kuangjiang(**values)):
        return [(error.id, error.msg) for error in check_kuangjiang_settings()]


def test_the_shipped_settings_pass():
    assert check_kuangjiang_settings() == []


@pytest.mark.parametrize("mode", ["auto", "confirm"])
def test_it_accepts_each_award_mode_the_rollup_knows(mode):
    assert errors_for(RANK_AWARD_MODE=mode) == []


def test_it_refuses_an_award_mode_the_rollup_would_read_as_confirm():
    with override_settings(KUANGJIANG=kuangjiang(RANK_AWARD_MODE="automatic")):
        [error] = check_kuangjiang_settings()
    assert error.id == "kuangjiang.E002"
    assert "'automatic'" in error.msg
    assert "auto, confirm" in error.hint


@pytest.mark.parametrize("key", ["UPLOAD_MAX_BYTES", "UPLOAD_MAX_UNCOMPRESSED_BYTES", "SPREADSHEET_MAX_ROWS"])
@pytest.mark.parametrize("value", [0, -1, "20000", 2.5, True, None])
def test_it_refuses_a_limit_that_is_not_a_positive_whole_number(key, value):
    assert errors_for(**{key: value}) == [("kuangjiang.E003", f"KUANGJIANG[{key!r}] is {value!r}.")]


def test_it_refuses_retention_shorter_than_the_law_asks():
    found = errors_for(RETENTION_YEARS=2, RETENTION_YEARS_SPECIAL_OPERATION=5)
    assert [error_id for error_id, _msg in found] == ["kuangjiang.E003", "kuangjiang.E003"]


def test_it_accepts_retention_longer_than_the_law_asks():
    assert errors_for(RETENTION_YEARS=10, RETENTION_YEARS_SPECIAL_OPERATION=30) == []


def test_a_missing_key_falls_back_to_its_default_without_error():
    with override_settings(KUANGJIANG={}):
        assert check_kuangjiang_settings() == []


def test_it_refuses_kuangjiang_that_is_not_a_dict():
    with override_settings(KUANGJIANG=[("RANK_AWARD_MODE", "auto")]):
        assert [error.id for error in check_kuangjiang_settings()] == ["kuangjiang.E001"]


def test_manage_py_check_reports_a_bad_mode():
    from django.core.checks import run_checks

    with override_settings(KUANGJIANG=kuangjiang(RANK_AWARD_MODE="")):
        assert "kuangjiang.E002" in [message.id for message in run_checks()]


def test_it_refuses_a_misspelt_key_whose_value_would_be_ignored():
    [error] = [e for e in _errors_with(RANK_AWARDS_MODE="auto") if e.id == "kuangjiang.E004"]
    assert "'RANK_AWARDS_MODE'" in error.msg
    assert error.hint == "Did you mean RANK_AWARD_MODE?"


def test_an_unknown_key_far_from_any_setting_lists_them_all():
    [error] = _errors_with(COLOUR="blue")
    assert error.id == "kuangjiang.E004"
    assert "RETENTION_YEARS_SPECIAL_OPERATION" in error.hint


def test_every_kuangjiang_key_the_code_reads_is_checked():
    import re
    from pathlib import Path

    from certifications.checks import KNOWN_KEYS

    root = Path(__file__).resolve().parent.parent
    read = set()
    for package in ("config", "core", "training", "certifications", "demo"):
        for path in (root / package).rglob("*.py"):
            if path.name != "checks.py":
                text = path.read_text(encoding="utf-8")
                read |= set(re.findall(r"""(?:KUANGJIANG|config)(?:\.get\(|\[)\s*["']([A-Z_]+)["']""", text))
    assert "RANK_AWARD_MODE" in read and "RETENTION_YEARS" in read  # the search finds what the code reads
    assert read <= set(KNOWN_KEYS), read - set(KNOWN_KEYS)


def _errors_with(**values):
    with override_settings(KUANGJIANG=kuangjiang(**values)):
        return check_kuangjiang_settings()
