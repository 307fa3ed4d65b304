import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_it_refuses_a_nul_character_in_a_query_string_with_a_400(hr_client):
    response = hr_client.get(reverse("certifications:dashboard"), {"unit": "ZC\x001"})
    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.django_db
def test_it_refuses_a_nul_character_in_a_posted_form_with_a_400(hr_client):
    response = hr_client.post(reverse("certifications:ledger-export"), {"unit": "\x00"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_it_lets_ordinary_requests_through(hr_client):
    assert hr_client.get(reverse("certifications:dashboard")).status_code == 200


@pytest.mark.django_db
def test_the_api_refuses_a_nul_character_in_json(client):
    response = client.get(reverse("certifications:api-clearance"), {"employee_no": "1\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
