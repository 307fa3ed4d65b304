"""The clearance API for the dispatch system: token authentication, visibility, verdicts."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from certifications.clearance.tokens import api_token_create, token_hash
from certifications.models import ApiToken
from tests.compliance_builders import TODAY, cleared_electrician, electrician_trade
from tests.factories import UnitFactory, UserFactory, WorkerFactory

pytestmark = pytest.mark.django_db
URL = "/api/clearance/"


@pytest.fixture
def setup(hr_user):
    trade, op = electrician_trade()
    worker = cleared_electrician(trade, op, employee_no="E100")
    token, raw = api_token_create(user=hr_user, name="调度系统")
    return worker, trade, token, raw


def get(client, raw=None, scheme="Token", **params):
    headers = {"Authorization": f"{scheme} {raw}"} if raw is not None else {}
    return client.get(
        URL, {"employee_no": "E100", "trade": "综采维修电工", "on": TODAY.isoformat(), **params}, headers=headers
    )


def test_the_url_is_the_documented_one():
    assert reverse("certifications:api-clearance") == URL


def test_no_token_is_401_with_www_authenticate(client, setup):
    response = get(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "error" in response.json()


def test_a_wrong_token_is_401(client, setup):
    assert get(client, "not-a-token").status_code == 401
    assert get(client, setup[3] + "x").status_code == 401


def test_a_deactivated_token_is_401(client, setup):
    ApiToken.objects.filter(pk=setup[2].pk).update(active=False)
    assert get(client, setup[3]).status_code == 401


def test_an_hr_token_gets_the_verdict_reasons_and_lapse_date(client, setup):
    response = get(client, setup[3])
    assert response.status_code == 200
    body = response.json()
    assert body["cleared"] is True
    assert body["reasons"] == []
    assert body["lapses_on"] == "2026-05-05"
    assert body["trade"]["name"] == "综采维修电工"
    setup[2].refresh_from_db()
    assert setup[2].last_used_at is not None


def test_a_bearer_token_and_a_trade_alias_work_too(client, setup):
    assert get(client, setup[3], scheme="Bearer", trade="电钳工").json()["cleared"] is True


def test_a_past_date_answers_as_of_that_date(client, setup):
    body = get(client, setup[3], on="2026-05-06").json()
    assert body["cleared"] is False
    assert body["reasons"][0]["code"] == "review_missed"
    assert body["lapses_on"] is None


def test_unknown_worker_trade_and_bad_dates_get_clear_errors(client, setup):
    raw = setup[3]
    assert get(client, raw, employee_no="NOPE").status_code == 404
    assert get(client, raw, trade="厨师").status_code == 404
    assert get(client, raw, on="2026-13-01").status_code == 400
    assert client.get(URL, headers={"Authorization": f"Token {raw}"}).status_code == 400


def test_a_token_is_only_created_for_hr_or_users_with_the_api_permission(db):
    leader = UserFactory(username="someone")
    with pytest.raises(ValidationError):
        api_token_create(user=leader, name="x")


def test_a_leaders_token_sees_only_the_leaders_units(client, setup):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="leader-api", role="crew_leader")
    user.user_permissions.add(Permission.objects.get(codename="use_clearance_api"))
    WorkerFactory(unit=UnitFactory(code="OTHER"), user=user, is_team_leader=True)
    _token, raw = api_token_create(user=user, name="crew tablet")
    assert get(client, raw).status_code == 404  # E100 is in another unit: existence does not leak


def test_a_token_whose_user_lost_the_right_is_refused(client, setup):
    user = setup[2].user
    user.groups.clear()
    assert get(client, setup[3]).status_code == 403


def test_only_a_hash_of_the_token_is_stored(setup):
    token, raw = setup[2], setup[3]
    assert raw not in (token.key_hash, token.prefix)
    assert token.key_hash == token_hash(raw)


def test_the_api_ignores_sessions_and_needs_no_login(client, hr_user, setup):
    client.force_login(hr_user)
    assert get(client).status_code == 401


def test_a_query_takes_a_fixed_number_of_queries(client, setup, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        assert get(client, setup[3]).status_code == 200


def test_dates_in_the_answer_are_iso(client, setup):
    body = get(client, setup[3]).json()
    assert dt.date.fromisoformat(body["on"]) == TODAY
