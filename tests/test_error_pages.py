"""403, 404 and 500 are the site's own translated pages, with a way back, whether DEBUG is on or off."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory, WorkerFactory

pytestmark = pytest.mark.django_db

TECHNICAL = '<meta name="robots" content="NONE,NOARCHIVE">'
LANGUAGES = {"en": "This page does not exist", "zh-hans": "此页面不存在"}


@pytest.fixture
def trainee_client(client):
    worker = WorkerFactory(user=UserFactory(username="w1", role="trainee"))
    client.force_login(worker.user)
    return client


def get(client, url, language):
    client.cookies["django_language"] = language
    return client.get(url)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_missing_page_is_the_sites_404_with_the_users_way_back(hr_client, settings, debug, language):
    settings.DEBUG = debug
    response = get(hr_client, "/no/such/page/", language)
    assert response.status_code == 404
    html = response.content.decode()
    assert TECHNICAL not in html
    assert LANGUAGES[language] in html
    # HR's way back: the dashboard, the site's start page.
    assert f'href="{reverse("certifications:dashboard")}"' in html
    assert f'href="{reverse("home")}"' in html


@pytest.mark.parametrize("debug", [False, True])
def test_a_missing_worker_is_the_sites_404_too(hr_client, settings, debug):
    settings.DEBUG = debug
    response = get(hr_client, reverse("certifications:worker-detail", args=["999999"]), "zh-hans")
    assert response.status_code == 404
    assert "此页面不存在" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("language", "heading"), [("en", "You may not open this page"), ("zh-hans", "您无权打开此页面")]
)
def test_a_page_the_role_may_not_open_is_the_sites_translated_403(trainee_client, settings, debug, language, heading):
    settings.DEBUG = debug
    response = get(trainee_client, reverse("certifications:results-import"), language)
    assert response.status_code == 403
    html = response.content.decode()
    assert heading in html
    assert "403 Forbidden" not in html
    assert f'href="{reverse("certifications:me")}"' in html  # the trainee's own record


@override_settings(ROOT_URLCONF="tests.urls_errors")
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Something went wrong on our side"), ("zh-hans", "系统出错了")]
)
def test_a_crash_is_the_sites_translated_500_and_no_traceback(hr_client, settings, debug, language, heading):
    settings.DEBUG = debug
    hr_client.raise_request_exception = False
    response = get(hr_client, "/broken/", language)
    assert response.status_code == 500
    html = response.content.decode()
    assert heading in html
    assert TECHNICAL not in html and "Traceback" not in html and "a bug" not in html


@override_settings(ROOT_URLCONF="tests.urls_errors", KUANGJIANG={"TECHNICAL_ERROR_PAGES": True})
def test_a_developer_may_keep_djangos_technical_pages(hr_client, settings):
    settings.DEBUG = True
    hr_client.raise_request_exception = False
    assert TECHNICAL in hr_client.get("/no/such/page/").content.decode()
    assert TECHNICAL in hr_client.get("/broken/").content.decode()


def test_the_api_still_answers_json_for_an_unknown_worker(client, settings, hr_user):
    from certifications.clearance.tokens import api_token_create

    settings.DEBUG = True
    _token, raw = api_token_create(user=hr_user, name="t")
    response = client.get(
        reverse("certifications:api-clearance"),
        {"employee_no": "nobody", "trade": "x"},
        headers={"Authorization": f"Token {raw}"},
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_an_anonymous_visitor_of_a_missing_page_is_offered_the_login(client):
    response = get(client, "/no/such/page/", "en")
    assert response.status_code == 404
    assert f'href="{reverse("login")}"' in response.content.decode()
