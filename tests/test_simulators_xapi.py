"""
Simulator results through xAPI 1.0.3 (docs/simulators.md): the endpoints as a simulator sees them, the spec's
reasons for a refusal, idempotent ids, voiding, and what HR's mappings make of the statements.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certifications.clearance.tokens import token_hash
from certifications.models import (
    AssessmentResult,
    SimulatorActivity,
    SimulatorActor,
    SimulatorCredential,
    SimulatorStatement,
)
from certifications.simulators.services import credential_create, practical_hours, statements_apply
from certifications.simulators.statements import VOIDED
from tests import factories as f
from training.models import Attendance, Course

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "xapi"
URL = "/xapi/statements"
SHEARER = "https://vr.example-mine.cn/activities/shearer/start-up"
BELT = "https://vr.example-mine.cn/activities/belt/inspection"
LOCKOUT = "https://vr.example-mine.cn/activities/power-cut/lockout"


def fixture(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@pytest.fixture
def credential(db):
    return credential_create(name="综采VR实训系统", key="vr-1")


@pytest.fixture
def sim(client, credential):
    """A client that talks like a simulator: Basic credential and the version header."""
    _credential, secret = credential
    headers = {"authorization": basic("vr-1", secret), "x-experience-api-version": "1.0.3"}

    class Sim:
        def post(self, body, **extra):
            return client.post(URL, json.dumps(body), content_type="application/json", headers={**headers, **extra})

        def put(self, statement_id, body, **extra):
            return client.put(
                f"{URL}?statementId={statement_id}",
                json.dumps(body),
                content_type="application/json",
                headers={**headers, **extra},
            )

        def get(self, params=None, **extra):
            return client.get(URL, params or {}, headers={**headers, **extra})

    return Sim()


@pytest.fixture
def mine():
    """A worker E001, a simulation course and a practical assessment, with the two VR activities mapped."""
    worker = f.WorkerFactory(employee_no="E001", name="张三")
    course = f.CourseFactory(code="VR01", title="采煤机VR实训", delivery=Course.Delivery.SIMULATION)
    assessment = f.AssessmentFactory(
        code="PX1", name="采煤机实操考核", kind="practical", course=course, full_marks=Decimal("100")
    )
    shearer = SimulatorActivity.objects.create(activity_iri=SHEARER, course=course, assessment=assessment)
    return {"worker": worker, "course": course, "assessment": assessment, "shearer": shearer}


def statement(*, sid=None, name="E001", iri=SHEARER, duration="PT45M", scaled=0.8, when="2026-09-05T09:00:00+08:00"):
    body = {
        "actor": {"objectType": "Agent", "account": {"homePage": "https://vr.example-mine.cn", "name": name}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"objectType": "Activity", "id": iri},
        "result": {"duration": duration, "completion": True},
        "timestamp": when,
    }
    if scaled is not None:
        body["result"]["score"] = {"scaled": scaled}
    if sid:
        body["id"] = str(sid)
    return body


def voiding(target, sid=None) -> dict:
    body = {
        "actor": {"mbox": "mailto:hr@example-mine.cn"},
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": str(target)},
    }
    if sid:
        body["id"] = str(sid)
    return body


# --- the resources -------------------------------------------------------------------------------------------


def test_about_says_it_speaks_1_0_3(client):
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert response.json()["version"] == ["1.0.3"]
    assert response["X-Experience-API-Version"] == "1.0.3"


@pytest.mark.parametrize(
    "name",
    [
        "spec_simple.json",
        "spec_completed_with_result.json",
        "spec_context_extensions.json",
        "vr_account_completed.json",
        "vr_mbox_batch.json",
        "vr_raw_score_cmi5.json",
    ],
)
def test_it_accepts_the_specs_examples_and_the_shapes_vr_exporters_send(sim, name):
    body = fixture(name)
    response = sim.post(body)
    assert response.status_code == 200, response.content
    ids = response.json()
    sent = body if isinstance(body, list) else [body]
    assert len(ids) == len(sent)
    for item, statement_id in zip(sent, ids, strict=True):
        if "id" in item:
            assert statement_id == item["id"]
        stored = SimulatorStatement.objects.get(statement_id=statement_id)
        assert stored.received == {**item, "id": statement_id}
        got = sim.get({"statementId": statement_id})
        assert got.status_code == 200
        assert got.json()["id"] == statement_id and got.json()["verb"] == item["verb"]


def test_it_maps_the_fields_of_a_vr_exporters_statement(sim):
    sim.post(fixture("vr_account_completed.json"))
    s = SimulatorStatement.objects.get()
    assert s.actor_key == "account:https://vr.example-mine.cn|E001"
    assert s.verb_id == "http://adlnet.gov/expapi/verbs/completed"
    assert s.activity_iri == SHEARER
    assert s.score_scaled == Decimal("0.86")
    assert (s.success, s.completion) == (True, True)
    assert s.duration_seconds == Decimal("750.00")
    assert s.timestamp == dt.datetime(2026, 9, 5, 1, 12, 30, tzinfo=dt.UTC)
    assert s.on == dt.date(2026, 9, 5)
    assert s.stored is not None
    assert s.status == SimulatorStatement.Status.UNMAPPED


def test_put_stores_under_the_given_id_and_a_repeat_is_accepted_while_other_content_is_a_conflict(sim):
    sid = uuid.uuid4()
    assert sim.put(sid, statement()).status_code == 204
    assert sim.put(sid, statement()).status_code == 204
    conflict = sim.put(sid, statement(scaled=0.1))
    assert conflict.status_code == 409
    assert str(sid) in conflict.json()["error"]
    assert SimulatorStatement.objects.get().score_scaled == Decimal("0.8")


def test_post_of_a_known_id_with_the_same_content_returns_its_id_and_with_other_content_409(sim):
    sid = uuid.uuid4()
    first = sim.post(statement(sid=sid))
    again = sim.post(statement(sid=sid))
    assert first.json() == again.json() == [str(sid)]
    other = uuid.uuid4()
    refused = sim.post([statement(sid=other), statement(sid=sid, scaled=0.2)])
    assert refused.status_code == 409
    assert SimulatorStatement.objects.count() == 1  # the batch's new statement was not kept either


def test_a_put_whose_body_names_another_id_is_refused(sim):
    response = sim.put(uuid.uuid4(), statement(sid=uuid.uuid4()))
    assert response.status_code == 400
    assert "statementId" in response.json()["error"]


def test_a_batch_with_one_bad_statement_stores_nothing_and_says_which(sim):
    bad = statement()
    bad["verb"]["id"] = "completed"
    response = sim.post([statement(), statement(), bad])
    assert response.status_code == 400
    assert response.json()["error"].startswith("Statement 3: verb.id must be an IRI")
    assert not SimulatorStatement.objects.exists()


def test_a_batch_that_holds_one_id_twice_is_refused(sim):
    sid = uuid.uuid4()
    response = sim.post([statement(sid=sid), statement(sid=sid)])
    assert response.status_code == 400
    assert "twice" in response.json()["error"]


def _set(path: str, value):
    def change(body):
        *parents, last = path.split(".")
        target = body
        for p in parents:
            target = target[p]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
        return body

    return change


BAD = [
    ("no actor", _set("actor", KeyError), "has no actor"),
    ("two identifiers", _set("actor.mbox", "mailto:a@b.cn"), "exactly one of mbox, mbox_sha1sum, openid or account"),
    ("no identifier", _set("actor", {"name": "张三"}), "exactly one of"),
    ("account without name", _set("actor.account", {"homePage": "https://vr.example-mine.cn"}), "homePage and name"),
    ("mbox not mailto", _set("actor", {"mbox": "zhang@example.cn"}), "mailto:"),
    ("a group", _set("actor", {"objectType": "Group", "member": []}), "send an Agent"),
    ("verb not an IRI", _set("verb.id", "completed"), "verb.id must be an IRI"),
    ("object not an IRI", _set("object.id", "shearer start-up"), "object.id must be an IRI"),
    ("object a sub-statement", _set("object.objectType", "SubStatement"), "object must be an Activity"),
    ("scaled above 1", _set("result.score", {"scaled": 1.5}), "scaled must lie between -1 and 1"),
    ("raw above max", _set("result.score", {"raw": 120, "min": 0, "max": 100}), "raw must not be above"),
    ("raw below min", _set("result.score", {"raw": -1, "min": 0, "max": 100}), "raw must not be below"),
    ("max not above min", _set("result.score", {"min": 10, "max": 10}), "max must be greater"),
    ("score a string", _set("result.score", {"scaled": "0.8"}), "scaled must be a number"),
    ("success a string", _set("result.success", "yes"), "result.success must be true or false"),
    ("completion a number", _set("result.completion", 1), "result.completion must be true or false"),
    ("duration in words", _set("result.duration", "12 minutes"), "ISO 8601 duration"),
    ("timestamp in words", _set("timestamp", "yesterday"), "ISO 8601 timestamp"),
    ("timestamp not real", _set("timestamp", "2026-02-30T10:00:00Z"), "not a real time"),
    ("id not a UUID", _set("id", "statement-1"), "id must be a UUID"),
    ("unknown property", _set("score", 86), "does not define: score"),
    ("unknown result property", _set("result.points", 86), "does not define: points"),
    ("voiding an activity", _set("verb.id", VOIDED), "voiding statement's object must be a StatementRef"),
    ("a NUL", _set("actor.account.name", "E\x00001"), "U+0000"),
    ("extension key not an IRI", _set("result.extensions", {"mistakes": 2}), "must be an IRI"),
    ("bad language tag", _set("verb.display", {"中文": "完成"}), "not a language tag"),
]


@pytest.mark.parametrize(("case", "change", "reason"), BAD, ids=[b[0] for b in BAD])
def test_a_malformed_statement_is_refused_with_the_specs_reason(sim, case, change, reason):
    response = sim.post(change(copy.deepcopy(statement())))
    assert response.status_code == 400, case
    assert reason in response.json()["error"], response.json()
    assert not SimulatorStatement.objects.exists()


@pytest.mark.parametrize("body", [b"{not json", b"42", b'"a statement"', "\ud800".encode("utf-8", "surrogatepass")])
def test_a_body_that_is_not_a_statement_is_400(client, credential, body):
    response = client.post(
        URL,
        body,
        content_type="application/json",
        headers={"authorization": basic("vr-1", credential[1]), "x-experience-api-version": "1.0.3"},
    )
    assert response.status_code == 400


# --- credentials and headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic", "Basic !!!", basic("vr-1", "wrong"), basic("nobody", "x"), "Bearer abc", basic("vr-1", "")],
)
def test_bad_credentials_get_401_with_www_authenticate(client, credential, authorization):
    response = client.post(
        URL,
        json.dumps(statement()),
        content_type="application/json",
        headers={"authorization": authorization, "x-experience-api-version": "1.0.3"},
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert not SimulatorStatement.objects.exists()


def test_wrong_credentials_are_limited_per_address_as_api_tokens_are_then_429_even_for_the_right_one(
    client, credential
):
    def post(authorization, ip="10.0.0.7"):
        return client.post(
            URL,
            json.dumps(statement()),
            content_type="application/json",
            headers={"authorization": authorization, "x-experience-api-version": "1.0.3"},
            REMOTE_ADDR=ip,
        )

    for _ in range(settings.API_TOKEN_FAILURE_LIMIT):
        assert post(basic("vr-1", "guess")).status_code == 401
    refused = post(basic("vr-1", credential[1]))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many wrong simulator credentials" in refused.json()["error"]
    assert post(basic("vr-1", credential[1]), ip="10.0.0.8").status_code == 200  # another address is not limited
    assert SimulatorStatement.objects.count() == 1


def test_a_revoked_credential_gets_401(sim, credential):
    credential[0].active = False
    credential[0].save()
    assert sim.post(statement()).status_code == 401
    assert sim.get().status_code == 401


def test_the_credential_keeps_only_a_hash_and_records_when_it_was_used(sim, credential):
    stored, secret = credential
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
    sim.post(statement())
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.parametrize(
    ("version", "status"),
    [
        (None, 400),
        ("0.95", 400),
        ("2.0.0", 400),
        ("1.1.0", 400),
        ("1.0", 200),
        ("1.0.0", 200),
        ("1.0.3", 200),
        ("1.0.x", 400),
    ],
)
def test_the_version_header_must_be_1_0_x(client, credential, version, status):
    headers = {"authorization": basic("vr-1", credential[1])}
    if version:
        headers["x-experience-api-version"] = version
    response = client.post(URL, json.dumps(statement()), content_type="application/json", headers=headers)
    assert response.status_code == status
    assert response["X-Experience-API-Version"] == "1.0.3"


def test_a_request_over_the_size_limit_is_413(sim, settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "XAPI_MAX_BYTES": 2000}
    response = sim.post([statement() for _ in range(20)])
    assert response.status_code == 413
    assert not SimulatorStatement.objects.exists()


def test_a_batch_over_the_statement_limit_is_413(sim, settings):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "XAPI_MAX_BATCH": 3}
    assert sim.post([statement() for _ in range(4)]).status_code == 413
    assert sim.post([statement() for _ in range(3)]).status_code == 200


def test_no_csrf_token_is_needed(credential):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        URL,
        json.dumps(statement()),
        content_type="application/json",
        headers={"authorization": basic("vr-1", credential[1]), "x-experience-api-version": "1.0.3"},
    )
    assert response.status_code == 200


def test_the_list_returns_the_latest_statements_up_to_the_limit(sim):
    sim.post([statement() for _ in range(5)])
    response = sim.get({"limit": "2"})
    assert response.status_code == 200
    assert len(response.json()["statements"]) == 2
    assert response.json()["more"] == ""
    assert sim.get({"limit": "x"}).status_code == 400
    assert sim.get({"statementId": "nope"}).status_code == 400
    assert sim.get({"statementId": str(uuid.uuid4())}).status_code == 404


# --- voiding --------------------------------------------------------------------------------------------------


def test_a_voided_statement_is_found_only_by_voided_statement_id_and_its_effect_is_undone(sim, mine):
    sid = uuid.uuid4()
    sim.post(statement(sid=sid))
    assert Attendance.objects.get().practical_hours == Decimal("1.0")
    assert AssessmentResult.objects.get().score == Decimal("80.0")

    assert sim.post(voiding(sid)).status_code == 200

    assert sim.get({"statementId": str(sid)}).status_code == 404
    voided = sim.get({"voidedStatementId": str(sid)})
    assert voided.status_code == 200 and voided.json()["id"] == str(sid)
    assert not Attendance.objects.exists()  # soft-deleted through training/services.py
    assert Attendance.all_objects.get().deleted_at is not None
    assert not AssessmentResult.objects.exists()
    result = AssessmentResult.all_objects.get()
    assert "voided" in result.history.latest().history_change_reason
    assert [s["id"] for s in sim.get().json()["statements"]] == [
        str(SimulatorStatement.objects.get(status="voiding").statement_id)
    ]


def test_a_statement_that_is_not_voided_cannot_be_had_by_voided_statement_id(sim):
    sid = uuid.uuid4()
    sim.post(statement(sid=sid))
    assert sim.get({"voidedStatementId": str(sid)}).status_code == 404


def test_a_voiding_statement_that_arrives_first_voids_its_target_on_arrival(sim, mine):
    sid = uuid.uuid4()
    sim.post(voiding(sid))
    sim.post(statement(sid=sid))
    assert SimulatorStatement.objects.get(statement_id=sid).status == "voided"
    assert not Attendance.objects.exists() and not AssessmentResult.objects.exists()


def test_a_voiding_statement_cannot_be_voided(sim):
    voider = uuid.uuid4()
    sim.post(voiding(uuid.uuid4(), sid=voider))
    response = sim.post(voiding(voider))
    assert response.status_code == 400
    assert "cannot void another voiding statement" in response.json()["error"]


# --- mapping --------------------------------------------------------------------------------------------------


def test_time_in_the_simulator_counts_as_practical_hours_of_the_days_simulation_class(sim, mine):
    sim.post([statement(duration="PT30M", scaled=None), statement(duration="PT1H", scaled=None)])
    sim.post(statement(duration="PT45M", scaled=None, when="2026-09-06T09:00:00+08:00"))
    rows = list(Attendance.objects.select_related("training_class__course").order_by("training_class__start"))
    assert [(a.training_class.start, a.practical_hours, a.theory_hours) for a in rows] == [
        (dt.date(2026, 9, 5), Decimal("2.0"), Decimal("0")),  # 90 minutes at 45 minutes a class hour
        (dt.date(2026, 9, 6), Decimal("1.0"), Decimal("0")),
    ]
    tc = rows[0].training_class
    assert tc.course.delivery == Course.Delivery.SIMULATION and tc.course == mine["course"]
    assert "VR/AR simulation" in tc.name
    assert rows[0].history.latest().history_change_reason == "simulator (xAPI)"


def test_the_scaled_score_times_full_marks_becomes_the_practical_result(sim, mine):
    sim.post(statement(scaled=0.86, when="2026-09-05T09:00:00+08:00"))
    result = AssessmentResult.objects.get()
    assert (result.worker, result.assessment, result.score) == (mine["worker"], mine["assessment"], Decimal("86.0"))
    assert result.history.latest().history_change_reason == "simulator (xAPI)"

    sim.post(statement(scaled=0.915, when="2026-09-05T10:00:00+08:00"))
    result = AssessmentResult.objects.get()  # the latest run's score, not a re-sit
    assert result.score == Decimal("91.5") and result.attempt == 1
    sim.post(statement(scaled=0.5, when="2026-09-05T08:00:00+08:00"))  # an earlier run, sent late
    assert AssessmentResult.objects.get().score == Decimal("91.5")


def test_a_negative_scaled_score_is_a_practical_result_of_zero(sim, mine):
    sim.post(statement(scaled=-0.4))
    assert AssessmentResult.objects.get().score == Decimal("0.0")


def test_an_activity_mapped_only_to_a_course_gives_hours_and_no_result(sim, mine):
    SimulatorActivity.objects.create(activity_iri=BELT, course=mine["course"])
    sim.post(statement(iri=BELT, scaled=0.9))
    assert Attendance.objects.get().practical_hours == Decimal("1.0")
    assert not AssessmentResult.objects.exists()


def test_a_mailbox_is_mapped_to_its_worker_by_hr(sim, mine):
    SimulatorActivity.objects.create(activity_iri=BELT, course=mine["course"])
    lisi = f.WorkerFactory(employee_no="E002", name="李四")
    actor = SimulatorActor(mbox="mailto:lisi@example-mine.cn", worker=lisi)
    actor.full_clean()
    actor.save()
    sim.post(fixture("vr_mbox_batch.json"))
    assert Attendance.objects.get().worker == lisi
    assert Attendance.objects.get().practical_hours == practical_hours(Decimal(20 * 60)) == Decimal("0.4")


def test_unmapped_statements_are_kept_and_applied_once_hr_maps_them(sim, mine, hr_client):
    sim.post(fixture("vr_mbox_batch.json"))  # an unknown mailbox, an unmapped activity
    sim.post(statement(name="E999"))  # no worker has this employee number
    unmapped = SimulatorStatement.objects.filter(status="unmapped")
    assert unmapped.count() == 4
    assert "no mapping for this activity" in unmapped.filter(activity_iri=BELT).first().problem
    page = hr_client.get(reverse("admin:certifications_simulatorstatement_changelist"), {"status__exact": "unmapped"})
    assert page.status_code == 200 and BELT in page.content.decode()

    lisi = f.WorkerFactory(employee_no="E002", name="李四")
    SimulatorActor.objects.create(
        mbox="mailto:lisi@example-mine.cn", actor_key="mbox:mailto:lisi@example-mine.cn", worker=lisi
    )
    SimulatorActivity.objects.create(activity_iri=BELT, course=mine["course"])
    response = hr_client.post(
        reverse("admin:certifications_simulatorstatement_changelist"),
        {"action": "apply_mappings", "_selected_action": list(unmapped.values_list("pk", flat=True))},
        follow=True,
    )
    assert "3 statements applied; 1 still unmapped" in response.content.decode()
    assert Attendance.objects.get(worker=lisi).practical_hours == Decimal("0.4")

    f.WorkerFactory(employee_no="E999")
    assert statements_apply().applied == 1
    assert statements_apply().applied == 0  # applying again does nothing more
    assert Attendance.objects.count() == 2 and AssessmentResult.objects.count() == 1
    assert Attendance.history.count() == 2 and AssessmentResult.history.count() == 1


def test_a_statement_sent_again_changes_nothing(sim, mine):
    body = statement(sid=uuid.uuid4())
    sim.post(body)
    sim.post(body)
    assert Attendance.objects.get().practical_hours == Decimal("1.0")
    assert AssessmentResult.history.count() == 1 and Attendance.history.count() == 1


@pytest.mark.parametrize("size", [5, 60])
def test_a_batch_post_takes_the_same_queries_whatever_its_size(sim, mine, size, django_assert_max_num_queries):
    sim.post(statement())  # the day's class exists; the credential's last use is recorded
    batch = [statement(duration="PT1M", scaled=0.5 + i / 1000) for i in range(size)]
    batch += [statement(name="E404", duration="PT1M") for _ in range(size)]  # unmapped: kept, no effect
    with django_assert_max_num_queries(60), CaptureQueriesContext(connection) as queries:
        response = sim.post(batch)
    assert response.status_code == 200
    assert len(response.json()) == 2 * size
    # SQLite binds at most 999 parameters a statement, so the one insert goes in chunks there; nothing else grows.
    inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "certifications_simulatorstatement"')
    ]
    assert len(inserts) <= 1 + 2 * size * 30 // 999
    QUERY_COUNTS[size] = len(queries) - len(inserts)
    if len(QUERY_COUNTS) == 2:
        assert QUERY_COUNTS[5] == QUERY_COUNTS[60], QUERY_COUNTS


QUERY_COUNTS: dict[int, int] = {}


# --- admin ----------------------------------------------------------------------------------------------------


def test_hr_creates_a_credential_and_sees_its_secret_once(hr_client, client):
    response = hr_client.post(
        reverse("admin:certifications_simulatorcredential_add"), {"name": "掘进机VR", "key": "vr-jj"}, follow=True
    )
    assert response.status_code == 200
    message = next(str(m) for m in response.context["messages"] if "copy the secret now" in str(m))
    secret = re.search(r"secret (\S+) —", message)[1]
    credential = SimulatorCredential.objects.get(key="vr-jj")
    assert credential.secret_hash == token_hash(secret)
    page = hr_client.get(reverse("admin:certifications_simulatorcredential_change", args=[credential.pk]))
    assert secret not in page.content.decode() and credential.secret_hash not in page.content.decode()
    answer = client.get(URL, headers={"authorization": basic("vr-jj", secret), "x-experience-api-version": "1.0.3"})
    assert answer.status_code == 200


def test_an_activity_mapping_needs_a_simulation_course_and_a_practical_assessment(db):
    course = f.CourseFactory(delivery=Course.Delivery.CLASSROOM)
    theory = f.AssessmentFactory(kind="theory")
    mapping = SimulatorActivity(activity_iri=SHEARER, course=course, assessment=theory)
    with pytest.raises(ValidationError) as error:
        mapping.full_clean()
    assert set(error.value.message_dict) == {"course", "assessment"}


def test_the_statement_list_and_page_take_the_same_queries_for_3_or_30_statements(sim, mine, hr_client):
    url = reverse("admin:certifications_simulatorstatement_changelist")
    counts = []
    for n in (3, 27):
        sim.post([statement(name=f"E{i:03d}") for i in range(n)])
        hr_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert hr_client.get(url, {"status__exact": "unmapped"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    one = SimulatorStatement.objects.filter(status="applied").first()
    page = hr_client.get(reverse("admin:certifications_simulatorstatement_change", args=[one.pk]))
    assert page.status_code == 200 and SHEARER in page.content.decode()
    assert hr_client.get(reverse("admin:certifications_simulatorstatement_add")).status_code == 403


def test_only_hr_may_apply_mappings(sim, mine, client):
    sim.post(statement(name="E404"))
    officer = f.UserFactory(username="officer", is_staff=True, role="training_officer")
    client.force_login(officer)
    response = client.post(
        reverse("admin:certifications_simulatorstatement_changelist"),
        {"action": "apply_mappings", "_selected_action": [SimulatorStatement.objects.get().pk]},
    )
    assert response.status_code == 403


def test_a_simulator_reads_back_only_what_it_sent(sim, client):
    sid = uuid.uuid4()
    sim.post(statement(sid=sid))
    _other, secret = credential_create(name="掘进机VR", key="vr-2")
    headers = {"authorization": basic("vr-2", secret), "x-experience-api-version": "1.0.3"}
    assert client.get(URL, {"statementId": str(sid)}, headers=headers).status_code == 404
    assert client.get(URL, headers=headers).json()["statements"] == []
    assert sim.get({"statementId": str(sid)}).status_code == 200


def test_a_corrected_mapping_applied_again_moves_the_hours_and_the_result(sim, mine, hr_client):
    lisi = f.WorkerFactory(employee_no="E002", name="李四")
    wrong = SimulatorActor(home_page="https://vr.example-mine.cn", account_name="E001", worker=lisi)
    wrong.full_clean()
    wrong.save()
    sim.post([statement(scaled=0.7), statement(scaled=0.9, when="2026-09-05T10:00:00+08:00")])
    assert Attendance.objects.get().worker == lisi
    assert AssessmentResult.objects.get().worker == lisi

    wrong.worker = mine["worker"]
    wrong.save()
    response = hr_client.post(
        reverse("admin:certifications_simulatorstatement_changelist"),
        {
            "action": "reapply_mappings",
            "_selected_action": list(SimulatorStatement.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert "2 statements applied; 0 still unmapped" in response.content.decode()
    assert [(a.worker, a.practical_hours) for a in Attendance.objects.all()] == [(mine["worker"], Decimal("2.0"))]
    assert [(r.worker, r.score) for r in AssessmentResult.objects.all()] == [(mine["worker"], Decimal("90.0"))]
    assert AssessmentResult.all_objects.get(worker=lisi).deleted_at is not None
    assert set(SimulatorStatement.objects.values_list("result__worker", flat=True)) == {mine["worker"].pk}


def test_hr_maps_a_mailbox_in_the_admin_and_is_told_when_a_mapping_is_both(hr_client, db):
    worker = f.WorkerFactory(employee_no="E002")
    url = reverse("admin:certifications_simulatoractor_add")
    both = hr_client.post(
        url,
        {
            "home_page": "https://vr.example-mine.cn",
            "account_name": "E002",
            "mbox": "mailto:li@example.cn",
            "worker": worker.pk,
        },
    )
    assert both.status_code == 200
    assert "not both" in both.content.decode()
    saved = hr_client.post(url, {"mbox": "mailto:Li@Example.cn", "worker": worker.pk})
    assert saved.status_code == 302
    assert SimulatorActor.objects.get().actor_key == "mbox:mailto:li@example.cn"
    again = hr_client.post(url, {"mbox": "mailto:li@example.cn", "worker": worker.pk})
    assert "already mapped" in again.content.decode()
