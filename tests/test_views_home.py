import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.site_fixtures import build_mine


@pytest.fixture
def mine(db):
    return build_mine()


def test_the_login_page_is_part_of_the_site_with_a_language_switcher(client, db):
    html = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">' in html
    assert 'action="/i18n/setlang/"' in html
    assert "site.css" in html and "//cdn" not in html


def test_logging_in_lands_a_trainee_on_their_own_page(client, mine):
    response = client.post(reverse("login"), {"username": "trainee", "password": "kuangjiang"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("certifications:me")
    assert mine.trainee.name in response.content.decode()


def test_logging_in_lands_a_leader_on_their_unit(client, mine):
    response = client.post(reverse("login"), {"username": "leader", "password": "kuangjiang"}, follow=True)
    assert response.redirect_chain[-1][0] == mine.dept.get_absolute_url()


def test_a_user_without_a_record_is_told_to_ask_hr(client, db):
    client.force_login(UserFactory(username="plain"))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Ask the training department (HR)" in response.content.decode()


def test_logging_out_takes_a_post_and_returns_to_the_login_page(client, mine):
    client.force_login(mine.trainee.user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("certifications:me")).status_code == 302


def test_the_language_switcher_works_before_logging_in(client, db):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response.cookies["django_language"].value == "zh-hans"


def test_the_navigation_offers_each_role_its_own_pages(client, mine):
    client.force_login(mine.leader.user)
    html = client.get(reverse("certifications:me")).content.decode()
    assert 'href="/units/ZC1/"' in html and 'href="/me/"' in html and 'href="/dashboard/"' not in html


def test_staff_without_a_worker_record_land_in_the_admin(client, db):
    from training import roles

    client.force_login(UserFactory(username="officer", role=roles.OFFICER, is_staff=True))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
