"""
Issue 12's classes, fuzzed: every admin import with a control character at a random offset, a number out of
any range both databases hold, an over-long text or a date outside 1900–2200 in any of its columns; every page
and API parameter with the same. No 500, no traceback in the body, and every table exactly as before unless
the import was confirmed as valid. `make test` runs a few examples, `make fuzz` many more.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from certifications.models import SimulatorStatement
from certifications.simulators.services import credential_create
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
    ("admin:certifications_simulatorstatement_changelist", (), "q"),
    ("admin:certifications_simulatorstatement_changelist", (), "status__exact"),
    ("admin:certifications_simulatoractor_changelist", (), "q"),
    ("admin:certifications_simulatoractivity_changelist", (), "q"),
    ("certifications:xapi-about", (), "x"),
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


# The xAPI endpoints (docs/simulators.md): a nasty value in any field of a statement a simulator sends, or in a
# query parameter, is a 4xx with a reason, never a 500; nothing is stored unless the statement was valid.
XAPI_STATEMENT = {
    "id": "3f1c2a5e-8b7d-4c6e-9a01-2b3c4d5e6f70",
    "actor": {"objectType": "Agent", "name": "张三", "account": {"homePage": "https://vr.example.cn", "name": "E001"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"zh-CN": "完成"}},
    "object": {"objectType": "Activity", "id": "https://vr.example.cn/activities/shearer"},
    "result": {"score": {"scaled": 0.86, "raw": 86, "min": 0, "max": 100}, "success": True, "duration": "PT12M30S"},
    "context": {"registration": "e168d6a3-46b2-4233-82e7-66b73a179727", "extensions": {"https://vr.example.cn/x": 1}},
    "timestamp": "2026-09-05T09:12:30+08:00",
}
XAPI_PATHS = [
    ("id",),
    ("actor", "name"),
    ("actor", "account", "homePage"),
    ("actor", "account", "name"),
    ("verb", "id"),
    ("verb", "display", "zh-CN"),
    ("object", "id"),
    ("object", "objectType"),
    ("result", "score", "scaled"),
    ("result", "score", "raw"),
    ("result", "duration"),
    ("result", "success"),
    ("context", "registration"),
    ("timestamp",),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture
def simulator(mine, client):
    _credential, secret = credential_create(name="VR", key="vr-fuzz")
    return {
        "authorization": "Basic " + base64.b64encode(f"vr-fuzz:{secret}".encode()).decode(),
        "x-experience-api-version": "1.0.3",
    }


@scaled(0.5)
@given(path=st.sampled_from(XAPI_PATHS), value=nasty_value() | json_values, method=st.sampled_from(["post", "put"]))
def test_the_xapi_endpoint_answers_a_nasty_statement_without_a_server_error(client, simulator, path, value, method):
    body = copy.deepcopy(XAPI_STATEMENT)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    before = SimulatorStatement.objects.count()
    url = reverse("certifications:xapi-statements")
    if method == "put":
        url += f"?statementId={XAPI_STATEMENT['id']}"
    response = getattr(client, method)(url, json.dumps(body), content_type="application/json", headers=simulator)
    assert response.status_code in (200, 204, 400, 409, 413), response.content
    assert b"Traceback" not in response.content
    if response.status_code >= 400:
        assert SimulatorStatement.objects.count() == before


@scaled(0.5)
@given(parameter=st.sampled_from(["statementId", "voidedStatementId", "limit"]), value=nasty_value())
def test_the_xapi_endpoint_answers_a_nasty_parameter_without_a_server_error(client, simulator, parameter, value):
    response = client.get(reverse("certifications:xapi-statements"), {parameter: value}, headers=simulator)
    assert response.status_code in (200, 400, 404)
    assert b"Traceback" not in response.content
