"""Every admin URL that takes an object id answers a malformed id with 400/403/404 or a redirect, never a 500."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, reverse

MALFORMED_IDS = ["abc", "1.5", "-1", "9" * 40, "%00", "1;DROP"]


def admin_object_urls():
    """Yield (model label, url name) for every admin URL pattern that takes an object_id."""
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.urls:
            patterns = pattern.url_patterns if isinstance(pattern, URLResolver) else [pattern]
            for item in patterns:
                if isinstance(item, URLPattern) and item.name and "object_id" in item.pattern.regex.groupindex:
                    yield model._meta.label, item.name


URLS = sorted(set(admin_object_urls()))


def test_the_walk_finds_the_history_change_and_delete_urls_of_every_model():
    names = {name.rsplit("_", 1)[-1] for _label, name in URLS}
    assert {"change", "delete", "history"} <= names
    assert len({label for label, _name in URLS}) == len(admin.site._registry)


@pytest.fixture
def superuser_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "name"), URLS, ids=[name for _label, name in URLS])
def test_a_malformed_id_in_any_admin_url_is_never_a_server_error(superuser_client, label, name):
    for bad in MALFORMED_IDS:
        url = reverse(f"admin:{name}", kwargs={"object_id": "X"}).replace("/X/", f"/{bad}/")
        response = superuser_client.get(url)
        assert response.status_code in (200, 302, 400, 403, 404), (url, response.status_code)
        assert b"Traceback" not in response.content
