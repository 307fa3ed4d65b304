"""
Issue 12's classes, fuzzed: every admin import with a control character at a random offset, a number out of
any range both databases hold, an over-long text or a date outside 1900–2200 in any of its columns; every page
and API parameter with the same. No 500, no traceback in the body, and every table exactly as before unless
the import was confirmed as valid. `make test` runs a few examples, `make fuzz` many more.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests import factories as f
from tests.test_fuzz_imports import admin_imports, row_counts, scaled

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]


@st.composite
def nasty_value(draw) -> str:
    kind = draw(st.sampled_from(["control", "number", "text", "date"]))
    if kind == "control":
        base = draw(st.text(alphabet="ABC工号0123456789", min_size=0, max_size=60))
        at = draw(st.integers(0, len(base)))
        return base[:at] + draw(st.sampled_from(CONTROL)) + base[at:]
    if kind == "number":
        return str(draw(st.sampled_from([70000, -1, 10**6, 2**31, 2**63, -(2**63) - 1, 1e308, 99.999999])))
    if kind == "text":
        return "长" * draw(st.integers(201, 6000))
    return draw(st.sampled_from(["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31", "2026-02-30"]))


def headers_of(label: str) -> list[str]:
    model_admin = next(a for m, a in admin.site._registry.items() if m._meta.label_lower == label)
    resource = model_admin.get_import_resource_classes(None)[0]()
    return [str(field.column_name) for field in resource.get_import_fields()]


@pytest.fixture
def superuser_client(client, db):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def mine(settings, tmp_path):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path
    course = f.CourseFactory(code="C100")
    f.AssessmentFactory(code="AT1", course=course, kind="theory", held_on=dt.date(2026, 9, 5))
    worker = f.WorkerFactory(employee_no="E001", name="张三")
    return worker


@pytest.mark.parametrize("label", admin_imports())
@scaled(0.25)
@given(column=st.integers(0, 40), value=nasty_value())
def test_every_admin_import_answers_a_bad_cell_with_a_page_and_writes_nothing(
    mine, superuser_client, label, column, value
):
    headers = headers_of(label)
    row = [""] * len(headers)
    row[column % len(headers)] = value
    data = "\ufeff" + ",".join(headers) + "\n" + ",".join('"' + v.replace('"', '""') + '"' for v in row) + "\n"
    app_label, model_name = label.split(".")
    before = row_counts()
    response = superuser_client.post(
        reverse(f"admin:{app_label}_{model_name}_import"),
        {"import_file": SimpleUploadedFile("upload.csv", data.encode("utf-8")), "format": "2", "resource": "0"},
    )
    assert response.status_code == 200
    assert b"Traceback" not in response.content
    assert row_counts() == before


PAGES = [
    ("certifications:dashboard", (), "on"),
    ("certifications:unit-detail", ("MINE",), "q"),
    ("certifications:unit-detail", ("MINE",), "status"),
    ("certifications:worker-detail", ("E001",), "on"),
    ("certifications:roster-check", (), "on"),
    ("admin:training_worker_changelist", (), "q"),
    ("admin:certifications_assessmentresult_changelist", (), "assessment__held_on__year"),
]


@scaled(0.5)
@given(page=st.sampled_from(PAGES), value=nasty_value())
def test_every_page_answers_a_bad_parameter_without_a_server_error(mine, superuser_client, page, value):
    name, args, parameter = page
    before = row_counts()
    response = superuser_client.get(reverse(name, args=args), {parameter: value})
    assert response.status_code in (200, 302, 400, 404)
    assert b"Traceback" not in response.content
    assert row_counts() == before


@scaled(0.5)
@given(value=nasty_value())
def test_the_api_answers_a_bad_date_with_a_json_error(mine, client, value):
    from certifications.clearance.tokens import api_token_create

    _token, raw = api_token_create(user=f.UserFactory(username="api", is_superuser=True, is_staff=True), name="t")
    response = client.get(
        reverse("certifications:api-clearance"),
        {"employee_no": "E001", "on": value},
        headers={"authorization": f"Bearer {raw}"},
    )
    assert response.status_code in (200, 400, 404)
    assert b"Traceback" not in response.content
