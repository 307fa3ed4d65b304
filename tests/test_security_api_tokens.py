"""
API tokens resist guessing: compared in constant time, and an address that keeps sending
wrong tokens gets 429 (translated) until its window ends, even with the right token.
"""

import hmac

import pytest
from django.conf import settings

from certifications.clearance import tokens as compliance
from certifications.models import ApiToken
from tests.compliance_builders import TODAY, cleared_electrician, electrician_trade

pytestmark = pytest.mark.django_db
URL = "/api/clearance/"


@pytest.fixture
def raw(hr_user):
    trade, op = electrician_trade()
    cleared_electrician(trade, op, employee_no="E100")
    _token, raw = compliance.api_token_create(user=hr_user, name="调度系统")
    return raw


def get(client, token, ip="10.0.0.1", **headers):
    return client.get(
        URL,
        {"employee_no": "E100", "trade": "综采维修电工", "on": TODAY.isoformat()},
        headers={"Authorization": f"Token {token}", **headers},
        REMOTE_ADDR=ip,
    )


def test_wrong_tokens_are_401_until_the_limit_then_429_even_for_the_right_token(client, raw):
    for _ in range(settings.API_TOKEN_FAILURE_LIMIT):
        assert get(client, "guess-" + raw[6:]).status_code == 401
    refused = get(client, raw)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many wrong API tokens from this address" in refused.json()["error"]


def test_the_429_message_is_translated(client, raw):
    for _ in range(settings.API_TOKEN_FAILURE_LIMIT):
        get(client, "wrong")
    refused = get(client, raw, **{"Accept-Language": "zh-hans"})
    assert refused.status_code == 429
    assert "此地址发送的错误 API 令牌过多" in refused.json()["error"]


def test_another_address_is_not_limited(client, raw):
    for _ in range(settings.API_TOKEN_FAILURE_LIMIT):
        get(client, "wrong", ip="10.0.0.1")
    assert get(client, raw, ip="10.0.0.2").status_code == 200


def test_right_tokens_do_not_count_towards_the_limit(client, raw):
    for _ in range(settings.API_TOKEN_FAILURE_LIMIT + 2):
        assert get(client, raw).status_code == 200


def test_the_window_ends(client, raw, settings):
    settings.API_TOKEN_FAILURE_WINDOW = 60
    import time_machine

    with time_machine.travel("2026-06-01 08:00:05", tick=False):
        for _ in range(settings.API_TOKEN_FAILURE_LIMIT):
            get(client, "wrong")
        assert get(client, raw).status_code == 429
    with time_machine.travel("2026-06-01 08:01:01", tick=False):
        assert get(client, raw).status_code == 200


def test_a_token_differing_only_in_its_last_character_or_sent_as_its_stored_hash_is_refused(raw):
    last = "A" if raw[-1] != "A" else "B"
    assert compliance.api_token_authenticate(raw[:-1] + last) is None
    stored = ApiToken.objects.get()
    assert compliance.api_token_authenticate(stored.key_hash) is None
    assert compliance.api_token_authenticate(raw) == stored


def test_the_hash_comparison_is_the_constant_time_one(raw, monkeypatch):
    """A near miss (same prefix, so the database returns the token) is decided by hmac.compare_digest."""
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    stored = ApiToken.objects.get()
    assert compliance.api_token_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert calls and calls[-1][0] == stored.key_hash.encode()
    assert compliance.api_token_authenticate(raw) == stored
    assert real(*calls[-1])
