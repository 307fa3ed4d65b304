import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _no_wrong_api_tokens_counted():
    """Each test starts with no wrong API tokens counted against any address (the clearance API's rate limit)."""
    from django.conf import settings
    from django.core.cache import caches

    caches[settings.API_TOKEN_FAILURE_CACHE].clear()


def role_groups_restore() -> None:
    """Give the role groups training/roles.py declares, with their permissions, as the migrations do."""
    from django.contrib.auth.models import Group, Permission

    from training.roles import ROLE_PERMISSIONS

    permissions = list(Permission.objects.select_related("content_type"))
    for role, table in ROLE_PERMISSIONS.items():
        wanted = {
            (model.split(".")[0], f"{action}_{model.split('.')[1]}")
            for model, actions in table.items()
            for action in actions
        }
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(p for p in permissions if (p.content_type.app_label, p.codename) in wanted)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """
    After a transactional test's flush (which runs in its teardown and empties every table), put the role
    groups back at once, so that whatever this worker runs next — a module-scoped fixture included — finds them.
    """
    result = yield
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    if names & {"transactional_db", "live_server"} or (marker is not None and marker.kwargs.get("transaction")):
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            if connection.settings_dict.get("NAME") and _tables_exist(connection):
                role_groups_restore()
    return result


def _tables_exist(connection) -> bool:
    return "auth_group" in connection.introspection.table_names()


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware); the next test starts in English."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def on_postgres(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    return True


@pytest.fixture
def hr_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="hr-user", role="training_department")


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


@pytest.fixture
def today(monkeypatch):
    """Freeze timezone.localdate() at tests.site_fixtures.TODAY."""
    from tests.site_fixtures import TODAY

    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return TODAY
