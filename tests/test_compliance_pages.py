"""Clearance on the progress pages: worker card, unit column, dashboard rates and forecast."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests.compliance_builders import cleared_electrician, electrician_trade
from tests.factories import UnitFactory, UserFactory, WorkerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def on_the_test_day():
    # The builders' worker is cleared until the review due on 2026-05-05.
    with time_machine.travel(dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def crew():
    trade, op = electrician_trade()
    unit = UnitFactory(code="ZC9", name="综采九队")
    ok = cleared_electrician(trade, op, unit=unit, employee_no="E1")
    blocked = cleared_electrician(trade, op, unit=unit, employee_no="E2", certificate=False)
    return unit, ok, blocked


def test_the_worker_page_says_why_a_worker_is_not_cleared(hr_client, crew):
    body = hr_client.get(reverse("certifications:worker-detail", args=["E2"])).content.decode()
    assert "Cleared for post" in body
    assert "Not cleared" in body
    assert "No 煤矿井下电气作业 certificate." in body


def test_the_unit_page_has_a_clearance_column(hr_client, crew):
    body = hr_client.get(reverse("certifications:unit-detail", args=["ZC9"])).content.decode()
    assert body.count('state--met"><span class="symbol" aria-hidden="true">✓</span> Cleared') >= 1
    assert "No 煤矿井下电气作业 certificate." in body


def test_the_dashboard_shows_licensed_on_post_and_the_forecast_chart(hr_client, crew):
    response = hr_client.get(reverse("certifications:dashboard"))
    body = response.content.decode()
    assert "持证上岗率" in body
    assert '50% <span class="muted">(1/2)</span>' in body
    assert "<svg viewBox" in body and "Recertification forecast" in body
    forecast = response.context["forecast"]
    assert forecast.review_totals[2] == 1  # May 2026: E1's review


def test_the_forecast_chart_escapes_nothing_it_should_not(hr_client, crew):
    from certifications.clearance.forecast import recertification_forecast
    from certifications.clearance.views import forecast_chart

    svg = str(forecast_chart(recertification_forecast()))
    assert svg.startswith("<svg") and "&lt;" not in svg


def test_a_leader_sees_the_roster_check_button_on_their_unit(client, crew):
    unit = crew[0]
    user = UserFactory(username="leader9", role="crew_leader")
    WorkerFactory(unit=unit, user=user, is_team_leader=True)
    client.force_login(user)
    body = client.get(reverse("certifications:unit-detail", args=["ZC9"])).content.decode()
    assert reverse("certifications:roster-check") in body


# ── admin ─────────────────────────────────────────────────────────────────


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_the_worker_admin_filters_workers_not_cleared(admin_client, crew):
    response = admin_client.get("/admin/training/worker/", {"clearance": "not_cleared"})
    assert [w.employee_no for w in response.context["cl"].result_list] == ["E2"]
    due = admin_client.get("/admin/training/worker/", {"clearance": "60"})
    assert [w.employee_no for w in due.context["cl"].result_list] == ["E1"]  # review 2026-05-05 is 56 days away


def test_the_certificate_admin_filters_by_effective_due_dates(admin_client, crew):
    from tests.factories import CertificateReviewFactory

    certificate = crew[1].certificates.get()
    assert list(
        admin_client.get("/admin/certifications/certificate/", {"falls_due": "60"}).context["cl"].result_list
    ) == [certificate]
    CertificateReviewFactory(certificate=certificate, reviewed_on=dt.date(2026, 3, 9))
    assert (
        list(admin_client.get("/admin/certifications/certificate/", {"falls_due": "60"}).context["cl"].result_list)
        == []
    )
    assert (
        list(admin_client.get("/admin/certifications/certificate/", {"falls_due": "overdue"}).context["cl"].result_list)
        == []
    )


def test_creating_an_api_token_in_the_admin_shows_it_once(admin_client, hr_user):
    from certifications.models import ApiToken

    response = admin_client.post(
        "/admin/certifications/apitoken/add/", {"name": "调度系统", "user": hr_user.pk}, follow=True
    )
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert any(token.prefix in m for m in shown)
    raw = next(m for m in shown if token.prefix in m).split(": ", 1)[1].split(" ")[0]
    from certifications.clearance.tokens import token_hash

    assert token_hash(raw) == token.key_hash


def test_the_admin_refuses_a_token_for_a_user_without_the_right(admin_client):
    trainee = UserFactory(username="t2", role="trainee")
    response = admin_client.post("/admin/certifications/apitoken/add/", {"name": "x", "user": trainee.pk})
    assert response.status_code == 200 and response.context["adminform"].form.errors


def test_the_training_department_creates_an_api_token_sees_it_once_and_revokes_it(hr_client, hr_user):
    from certifications.clearance.tokens import api_token_authenticate
    from certifications.models import ApiToken

    response = hr_client.post(
        reverse("admin:certifications_apitoken_add"), {"name": "调度系统", "user": hr_user.pk}, follow=True
    )
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"] if token.prefix in str(m)]
    assert len(shown) == 1
    raw = shown[0].split(": ", 1)[1].split(" ")[0]
    assert api_token_authenticate(raw) == token
    change_url = reverse("admin:certifications_apitoken_change", args=[token.pk])
    for url in (reverse("admin:certifications_apitoken_changelist"), change_url):
        body = hr_client.get(url).content.decode()
        assert token.prefix in body and raw not in body  # shown once, on creation, never again
    hr_client.post(change_url, {})  # "active" unticked
    token.refresh_from_db()
    assert not token.active and api_token_authenticate(raw) is None


def test_the_training_department_cannot_make_a_token_that_acts_as_a_superuser(hr_client):
    from certifications.models import ApiToken
    from tests.factories import UserFactory

    root = UserFactory(username="root-user", is_superuser=True, is_staff=True)
    form = hr_client.get(reverse("admin:certifications_apitoken_add")).context["adminform"].form
    assert root not in form.fields["user"].queryset
    response = hr_client.post(reverse("admin:certifications_apitoken_add"), {"name": "越权", "user": root.pk})
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()
