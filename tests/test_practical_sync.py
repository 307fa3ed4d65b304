"""The tablet's sync endpoint: a sheet becomes a result once, conflicts are refused, only examiners submit."""

import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from certifications.models import AssessmentResult, ScoringItem, ScoringModeration, ScoringSheet
from certifications.practical.services import sheet_input_parse, sheet_sync
from tests import factories as f
from tests.practical_setup import practical_build, sheet_payload

pytestmark = pytest.mark.django_db
SYNC = "certifications:practical-sync"


@pytest.fixture
def p():
    return practical_build()


def post(client, user, payload):
    client.force_login(user)
    return client.post(reverse(SYNC), json.dumps(payload), content_type="application/json")


def test_a_sheet_becomes_the_practical_result_once_however_often_it_is_synced(client, p):
    a, b, tools = p.items
    payload = sheet_payload(p, p.workers[0], marks=[(a, 2, 0), (tools, 1, 3)])
    first = post(client, p.assessor, payload)
    assert first.status_code == 201, first.json()
    again = post(client, p.assessor, payload)
    assert again.status_code == 200 and again.json()["status"] == "repeated"
    assert again.json()["sheet"] == first.json()["sheet"]
    assert ScoringSheet.objects.count() == 1
    result = AssessmentResult.objects.get()
    # 100 − 2×5 − (1×2 + 3×1) = 85
    assert (result.assessment, result.worker, result.score, result.recorded_by) == (
        p.sitting.practical,
        p.workers[0],
        85,
        p.assessor,
    )
    assert result.history.get().history_change_reason == "scoring sheet"
    assert first.json()["sheet"]["total"] == "85.0" and first.json()["sheet"]["passed"] is True


def test_a_critical_item_fails_the_candidate_with_the_reason_in_the_history(client, p):
    response = post(client, p.assessor, sheet_payload(p, p.workers[0], critical=p.critical[1]))
    assert response.status_code == 201
    sheet = response.json()["sheet"]
    assert (sheet["total"], sheet["passed"], sheet["critical_item"]) == ("100.0", False, p.critical[1].pk)
    result = AssessmentResult.objects.get()
    assert result.passed is False and result.score == 0
    assert "未验电" in result.remarks
    assert result.history.get().history_change_reason == "scoring sheet: critical item failed (未验电)"


def test_an_edit_from_the_current_version_corrects_the_result(client, p):
    payload = sheet_payload(p, p.workers[0])
    version = post(client, p.assessor, payload).json()["sheet"]["version"]
    edited = {**payload, "base_version": version, "marks": [{"item": p.items[0].pk, "mistakes": 4}]}
    response = post(client, p.assessor, edited)
    assert response.status_code == 200 and response.json()["status"] == "updated"
    result = AssessmentResult.objects.get()
    assert result.score == 80
    assert result.history.first().history_change_reason == "scoring sheet corrected on the tablet"


def test_an_edit_from_an_older_version_is_a_conflict_with_the_servers_copy_and_nothing_is_written(client, p):
    payload = sheet_payload(p, p.workers[0])
    version = post(client, p.assessor, payload).json()["sheet"]["version"]
    # Meanwhile the server's copy changed (another tablet of the same assessor).
    server = {**payload, "base_version": version, "marks": [{"item": p.items[0].pk, "mistakes": 1}]}
    assert post(client, p.assessor, server).status_code == 200
    stale = {**payload, "base_version": version, "marks": [{"item": p.items[1].pk, "mistakes": 3}]}
    response = post(client, p.assessor, stale)
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "conflict" and body["sheet"]["total"] == "95.0"
    assert AssessmentResult.objects.get().score == 95


def test_a_sitting_this_user_does_not_examine_is_refused(client, p):
    response = post(client, p.outsider, sheet_payload(p, p.workers[0]))
    assert response.status_code == 404
    trainee = f.UserFactory(username="trainee-x", role="trainee")
    assert post(client, trainee, sheet_payload(p, p.workers[0])).status_code == 404
    assert not ScoringSheet.objects.exists() and not AssessmentResult.objects.exists()


def test_a_worker_off_the_roster_is_404(client, p):
    stranger = f.WorkerFactory()
    assert post(client, p.assessor, sheet_payload(p, stranger)).status_code == 404


def test_another_assessors_or_another_workers_sheet_is_404(client, p):
    payload = sheet_payload(p, p.workers[0])
    assert post(client, p.assessor, payload).status_code == 201
    # The same sheet id sent by the second examiner, or for another candidate: not theirs.
    assert post(client, p.second_assessor, payload).status_code == 404
    other = {**payload, "worker": p.workers[1].employee_no}
    assert post(client, p.assessor, other).status_code == 404
    assert ScoringSheet.objects.count() == 1


def test_a_second_assessors_sheet_is_a_moderation_case_and_overwrites_nothing(client, p):
    assert post(client, p.assessor, sheet_payload(p, p.workers[0], marks=[(p.items[0], 1, 0)])).status_code == 201
    response = post(client, p.second_assessor, sheet_payload(p, p.workers[0], marks=[(p.items[0], 4, 0)]))
    assert response.status_code == 201
    assert response.json()["sheet"]["status"] == ScoringSheet.Status.MODERATION
    assert AssessmentResult.objects.get().score == 95
    case = ScoringModeration.objects.get()
    assert case.status == "open" and case.second.assessor == p.second_assessor


@pytest.mark.parametrize(
    "change, field",
    [
        ({"uuid": "not-a-uuid"}, "uuid"),
        ({"marks": [{"item": 0}]}, "marks.1.item"),
        ({"marks": [{"item": "ITEM", "mistakes": -1}]}, "marks.1.mistakes"),
        ({"critical_item": "ITEM"}, "critical_item"),
        ({"candidate_signature": "data:text/html;base64,PHA+"}, "candidate_signature"),
        ({"marks": [{"item": "ITEM", "photo": "data:image/gif;base64,R0lG"}]}, "marks.1.photo"),
        ({"stopped_at": "yesterday"}, "stopped_at"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(client, p, change, field):
    payload = sheet_payload(p, p.workers[0])
    change = json.loads(json.dumps(change).replace('"ITEM"', str(p.items[0].pk)))
    if change.get("critical_item") == p.items[0].pk:
        change["critical_item"] = p.items[0].pk  # not a critical item
    response = post(client, p.assessor, {**payload, **change})
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not ScoringSheet.objects.exists() and not AssessmentResult.objects.exists()


def test_a_photo_is_stored_with_its_deduction_and_served_to_hr_only(client, p, settings, tmp_path, hr_user):
    settings.MEDIA_ROOT = tmp_path
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kg"
        "AAAABJRU5ErkJggg=="
    )
    payload = sheet_payload(p, p.workers[0])
    payload["marks"] = [{"item": p.items[0].pk, "mistakes": 1, "photo": png, "note": "未挂牌"}]
    assert post(client, p.assessor, payload).status_code == 201
    deduction = ScoringSheet.objects.get().deductions.get()
    assert deduction.photo and deduction.note == "未挂牌"
    url = reverse("certifications:practical-photo", args=[deduction.pk])
    client.force_login(hr_user)
    assert client.get(url).status_code == 200
    trainee = f.UserFactory(username="trainee-y", role="trainee")
    client.force_login(trainee)
    assert client.get(url).status_code == 404


def test_a_photo_too_large_is_refused(client, p):
    payload = sheet_payload(p, p.workers[0])
    payload["marks"] = [{"item": p.items[0].pk, "photo": "data:image/jpeg;base64," + "A" * 1_500_000}]
    response = post(client, p.assessor, payload)
    assert response.status_code in (400, 413)
    assert not ScoringSheet.objects.exists()


def test_the_sync_endpoint_makes_the_same_number_of_queries_for_a_long_sheet(client, p):
    client.force_login(p.assessor)
    for i in range(20):
        ScoringItem.objects.create(scheme=p.scheme, order=20 + i, name=f"项目{i}", points=1, per_mistake=1)
    items = list(p.scheme.items.filter(critical=False))
    counts = {}
    for worker, marks in ((p.workers[0], items[:1]), (p.workers[1], items)):
        payload = sheet_payload(p, worker, marks=[(i, 1, 1) for i in marks])
        with CaptureQueriesContext(connection) as created:
            client.post(reverse(SYNC), json.dumps(payload), content_type="application/json")
        with CaptureQueriesContext(connection) as repeated:
            client.post(reverse(SYNC), json.dumps(payload), content_type="application/json")
        edited = {**payload, "base_version": ScoringSheet.objects.get(worker=worker).version}
        edited["marks"] = [{**m, "mistakes": 2} for m in payload["marks"]]
        with CaptureQueriesContext(connection) as updated:
            client.post(reverse(SYNC), json.dumps(edited), content_type="application/json")
        counts[len(marks)] = (len(created), len(repeated), len(updated))
    assert counts[1] == counts[len(items)], counts
    assert ScoringSheet.objects.get(worker=p.workers[1]).deductions.count() == len(items)
    # 30 + 10 + 25 of 120 points (each one-point item capped at its point): 65 / 120 × 100.
    assert AssessmentResult.objects.get(worker=p.workers[1]).score == Decimal("54.2")


def test_the_tablet_data_is_read_in_a_fixed_number_of_queries(client, p, django_assert_max_num_queries):
    client.force_login(p.assessor)
    url = reverse("certifications:practical-data")
    with django_assert_max_num_queries(12):
        data = client.get(url).json()
    assert [s["id"] for s in data["sittings"]] == [p.sitting.pk]
    assert len(data["sittings"][0]["candidates"]) == 2
    assert [i["name"] for i in data["schemes"][0]["items"]][:3] == ["停送电操作程序", "验电放电", "工具使用"]
    client.force_login(p.outsider)
    assert client.get(url).json()["sittings"] == []


def test_the_service_parses_and_syncs_without_a_request(p):
    data = sheet_input_parse(sheet_payload(p, p.workers[0], sheet_id=uuid.uuid4()), user=p.assessor)
    assert sheet_sync(data=data, user=p.assessor).status == "created"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"uuid": "x", "sitting": 1e400}',
        b'{"sitting": 99999999999999999999999999}',
        b'{"sitting": true}',
        b"[" * 5000,
    ],
)
def test_a_malformed_body_is_refused_without_a_server_error(client, p, body):
    client.force_login(p.assessor)
    response = client.post(reverse(SYNC), body, content_type="application/json")
    assert response.status_code in (400, 404)


def test_odd_values_in_a_sheet_are_refused_by_field(client, p):
    payload = sheet_payload(p, p.workers[0])
    for change in (
        {"sitting": p.sitting.pk, "started_at": "2026-13-45T25:00:00"},
        {"marks": [{"item": 10**30}]},
        {"marks": [{"item": p.items[0].pk, "mistakes": "9" * 50}]},
        {"base_version": 10**30},
        {"candidate_name": "张\u0000三"},
    ):
        response = post(client, p.assessor, {**payload, **change})
        assert response.status_code == 400, (change, response.content)
    assert not ScoringSheet.objects.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["uuid", "sitting", "worker", "base_version", "started_at", "critical_item", "marks", "candidate_signature"]


@given(field=st.sampled_from(FIELDS), value=json_values, mark_field=st.sampled_from(["item", "mistakes", "photo"]))
def test_any_json_in_any_field_is_answered_without_a_server_error(client, p, field, value, mark_field):
    client.force_login(p.assessor)
    payload = sheet_payload(p, p.workers[0], marks=[(p.items[0], 1, 0)])
    payload[field] = value
    if field == "marks" and not isinstance(value, list):
        # One mark with the odd value in one of its fields.
        payload["marks"] = [{"item": p.items[0].pk, mark_field: value}]
    response = client.post(reverse(SYNC), json.dumps(payload), content_type="application/json")
    assert response.status_code in (200, 201, 400, 404, 409), response.content


def test_an_edit_without_the_photo_keeps_the_photo(client, p, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    payload = sheet_payload(p, p.workers[0])
    payload["marks"] = [{"item": p.items[0].pk, "mistakes": 1, "photo": "data:image/png;base64,iVBORw0KGgo="}]
    version = post(client, p.assessor, payload).json()["sheet"]["version"]
    edited = {**payload, "base_version": version, "marks": [{"item": p.items[0].pk, "mistakes": 2}]}
    assert post(client, p.assessor, edited).json()["status"] == "updated"
    deduction = ScoringSheet.objects.get().deductions.get()
    assert deduction.mistakes == 2 and deduction.photo
