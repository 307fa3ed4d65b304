"""An over-long login name or password is refused by the form, on both login pages, and no attempt is recorded."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["login", "admin:login"])
@pytest.mark.parametrize(
    ("username", "password"),
    [("長" * 256, "0"), ("a" * 151, "secret"), ("hr", "p" * 5000)],
    ids=["name-over-axes-column", "name-over-django-limit", "huge-password"],
)
def test_an_over_long_login_is_a_form_error_not_a_server_error(client, url, username, password):
    # On PostgreSQL, django-axes recording a 256-character name in its 255-character column used to answer 500.
    response = client.post(reverse(url), {"username": username, "password": password})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not AccessAttempt.objects.filter(username=username).exists()
