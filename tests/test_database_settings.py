"""Database connection settings that matter at scale."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_postgresql_connections_run_without_jit(on_postgres):
    # A whole-mine page query is costed high enough for PostgreSQL to JIT-compile it, which took longer than the query.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
