"""The "Export training ledger" buttons on the unit page and the dashboard, and who may press them."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.site_fixtures import build_mine

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
