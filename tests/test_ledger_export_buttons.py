"""The "Export training ledger" buttons on the unit page and the dashboard, and who may press them."""

import io
from types import SimpleNamespace

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.site_fixtures import build_mine
from training.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    return build_mine()


def export_form(content: bytes) -> str:
    html = content.decode()
    start = html.index(f'<form method="post" action="{reverse("certifications:ledger-export")}"')
    return html[start : html.index("</form>", start)]


def test_the_unit_page_offers_the_ledger_export_of_that_unit(client, mine):
    client.force_login(mine.leader.user)
    form = export_form(client.get(reverse("certifications:unit-detail", args=["ZC1"])).content)
    assert 'name="unit" value="ZC1"' in form
    assert 'name="year"' in form and "csrfmiddlewaretoken" in form


def test_the_dashboard_offers_hr_the_ledger_export_of_the_whole_mine(hr_client, mine):
    form = export_form(hr_client.get(reverse("certifications:dashboard")).content)
    assert 'name="unit"' not in form


def test_a_crew_leader_exports_their_unit_through_the_progress_page_to_the_download(client, mine):
    client.force_login(mine.leader.user)
    response = client.post(reverse("certifications:ledger-export"), {"unit": "ZC1", "year": "2026"})
    assert response.status_code == 302
    assert b"<progress" in client.get(response.url).content
    progress = client.get(response.url + "?format=json").json()
    assert progress["state"] == "done"
    book = load_workbook(io.BytesIO(b"".join(client.get(progress["download"]).streaming_content)))
    assert "综采一队" in book.sheetnames and "掘进二队" not in book.sheetnames


def test_a_crew_leader_is_refused_another_units_ledger(client, mine):
    client.force_login(mine.leader.user)
    assert client.post(reverse("certifications:ledger-export"), {"unit": "JJ2"}).status_code == 404


def test_a_trainee_is_refused_a_units_ledger_even_their_own_crews(client, mine):
    client.force_login(mine.trainee.user)
    assert client.post(reverse("certifications:ledger-export"), {"unit": "ZC1-1"}).status_code == 404
    assert client.post(reverse("certifications:ledger-export"), {"unit": "JJ2"}).status_code == 404


@pytest.mark.parametrize("year", ["-1", "0", "1899", "2201", "10000", str(10**20), "2026.5", "二〇二六"])
def test_a_year_outside_the_ledgers_range_is_refused_before_anything_is_queued(client, mine, monkeypatch, year):
    from certifications.spreadsheets import views

    queued = []
    monkeypatch.setattr(views, "ledger_export_task", SimpleNamespace(enqueue=lambda **kwargs: queued.append(kwargs)))
    client.force_login(mine.leader.user)
    response = client.post(reverse("certifications:ledger-export"), {"unit": "ZC1", "year": year}, follow=True)
    assert queued == []
    assert response.redirect_chain[0][0] == Unit.objects.get(code="ZC1").get_absolute_url()
    assert b"The year must be a whole year from 1900 to 2200" in response.content


@pytest.mark.parametrize("year, expected", [("", None), (None, None), ("1900", 1900), (" 2026 ", 2026), (2200, 2200)])
def test_a_year_inside_the_range_or_none_is_taken(year, expected):
    from certifications.spreadsheets.ledger import ledger_year_clean

    assert ledger_year_clean(year) == expected


@pytest.mark.parametrize("year", [0, -1, 10000, 10**20, 2026.0, True, "abc"])
def test_the_task_checks_the_year_again_however_it_was_queued(year):
    from django.core.exceptions import ValidationError

    from certifications.spreadsheets.ledger import LedgerWriter

    with pytest.raises(ValidationError):
        LedgerWriter(year=year)
