"""
Interoperability: the `tincan` library (Rustici's xAPI client for Python) plays the simulator against the live
server. It sends 200 statements — some twice, some later voided, some for an activity and a trainee HR has not
mapped yet — retrieves and voids them; the stored state, the workers' hours and practical results are exactly
what the mappings say, and once HR maps the rest they apply.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from tincan import (
    Activity,
    Agent,
    AgentAccount,
    RemoteLRS,
    Result,
    Score,
    Statement,
    StatementRef,
    Verb,
)

from certifications.models import AssessmentResult, SimulatorActivity, SimulatorActor, SimulatorStatement
from certifications.simulators.services import credential_create, statements_apply
from tests import factories as f
from training.models import Attendance, Course

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
HOME = "https://vr.example-mine.cn"
SHEARER = f"{HOME}/activities/shearer/start-up"  # a course and a practical assessment
BELT = f"{HOME}/activities/belt/inspection"  # a course only
HOIST = f"{HOME}/activities/hoist/emergency-stop"  # not mapped until the end
COMPLETED = Verb(id="http://adlnet.gov/expapi/verbs/completed")
VOIDED = Verb(id="http://adlnet.gov/expapi/verbs/voided")
NUMBERS = ["E101", "E102", "E103", "E104", "E105"]
MAILBOX = "mailto:zhao.liu@example-mine.cn"  # E105 on the hoist simulator, which sends mailboxes


def sent(i: int) -> dict:
    """The i-th statement as the simulator means it: who, what, when, how long, what score."""
    if i % 10 == 9:
        who, activity = ("mbox", MAILBOX), HOIST if i % 20 == 9 else SHEARER
    else:
        who = ("account", NUMBERS[i % 5])
        activity = {8: HOIST, 6: BELT, 7: BELT}.get(i % 10, SHEARER)
    return {
        "id": str(uuid.UUID(int=0x5100_0000_0000_4000_8000_0000_0000_0000 + i)),
        "who": who,
        "activity": activity,
        "when": dt.datetime(2026, 9, 5 + i // 100, 8, 0, tzinfo=SHANGHAI) + dt.timedelta(minutes=3 * (i % 100)),
        "seconds": 300 + 37 * (i % 11),
        "scaled": Decimal(50 + (i * 7) % 50) / 100,
    }


def as_tincan(s: dict) -> Statement:
    kind, value = s["who"]
    actor = Agent(mbox=value) if kind == "mbox" else Agent(account=AgentAccount(home_page=HOME, name=value))
    return Statement(
        id=s["id"],
        actor=actor,
        verb=COMPLETED,
        object=Activity(id=s["activity"]),
        result=Result(
            score=Score(scaled=float(s["scaled"])),
            success=s["scaled"] >= Decimal("0.6"),
            completion=True,
            duration=dt.timedelta(seconds=s["seconds"]),
        ),
        timestamp=s["when"],
    )


def expected(statements: list[dict], *, workers: dict, mapped: set[str], mailbox_worker=None):
    """What the mappings make of the statements that stand, worked out here, not by the code under test."""
    seconds = defaultdict(int)
    latest: dict[str, dict] = {}
    for s in statements:
        kind, value = s["who"]
        worker = mailbox_worker if kind == "mbox" else workers[value]
        if worker is None or s["activity"] not in mapped:
            continue
        seconds[(worker.employee_no, s["when"].date())] += s["seconds"]  # one simulation course
        if s["activity"] == SHEARER and (
            worker.employee_no not in latest or s["when"] > latest[worker.employee_no]["when"]
        ):
            latest[worker.employee_no] = s
    hours = {
        key: (Decimal(total) / Decimal(45 * 60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        for key, total in seconds.items()
    }
    scores = {
        number: (s["scaled"] * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) for number, s in latest.items()
    }
    return hours, scores


def stored_hours() -> dict:
    return {
        (a.worker.employee_no, a.training_class.start): a.practical_hours
        for a in Attendance.objects.select_related("worker", "training_class")
    }


def stored_scores() -> dict:
    return {r.worker.employee_no: r.score for r in AssessmentResult.objects.select_related("worker")}


def test_tincan_as_the_simulator_sends_retrieves_and_voids_and_the_mapping_decides_everything(live_server):
    workers = {number: f.WorkerFactory(employee_no=number) for number in NUMBERS}
    course = f.CourseFactory(code="VR01", title="综采VR实训", delivery=Course.Delivery.SIMULATION)
    assessment = f.AssessmentFactory(code="PX1", kind="practical", course=course, full_marks=Decimal("100"))
    SimulatorActivity.objects.create(activity_iri=SHEARER, course=course, assessment=assessment)
    SimulatorActivity.objects.create(activity_iri=BELT, course=course)
    _credential, secret = credential_create(name="综采VR实训系统", key="vr-tincan")
    lrs = RemoteLRS(endpoint=f"{live_server.url}/xapi/", username="vr-tincan", password=secret)

    assert lrs.about().content.version == ["1.0.3"]

    statements = [sent(i) for i in range(200)]
    for start in range(0, 200, 50):
        response = lrs.save_statements([as_tincan(s) for s in statements[start : start + 50]])
        assert response.success, response.data
        assert [str(st.id) for st in response.content] == [s["id"] for s in statements[start : start + 50]]
    # A simulator that lost its connection sends again: one by one (PUT), and a batch (POST).
    for s in statements[:20]:
        assert lrs.save_statement(as_tincan(s)).success
    assert lrs.save_statements([as_tincan(s) for s in statements[100:110]]).success
    changed = as_tincan(statements[0])
    changed.result.score = Score(scaled=0.01)
    refused = lrs.save_statement(changed)
    assert not refused.success and refused.response.status == 409

    # The trainer voids 15 runs (a headset that slipped, a trainee swapped mid-run).
    voided_ids = [statements[i]["id"] for i in range(3, 200, 13)]
    for statement_id in voided_ids:
        voiding = Statement(
            actor=Agent(mbox="mailto:trainer@example-mine.cn"), verb=VOIDED, object=StatementRef(id=statement_id)
        )
        assert lrs.save_statement(voiding).success
    assert len(voided_ids) == 16

    fetched = lrs.retrieve_statement(statements[1]["id"])
    assert fetched.success
    assert str(fetched.content.id) == statements[1]["id"]
    assert fetched.content.object.id == statements[1]["activity"]
    assert fetched.content.result.duration == dt.timedelta(seconds=statements[1]["seconds"])
    assert not lrs.retrieve_statement(voided_ids[0]).success
    assert lrs.retrieve_voided_statement(voided_ids[0]).success
    assert not lrs.retrieve_voided_statement(statements[1]["id"]).success

    standing = [s for s in statements if s["id"] not in set(voided_ids)]
    by_status = defaultdict(int)
    for row in SimulatorStatement.objects.values_list("status", flat=True):
        by_status[row] += 1
    unmapped = [s for s in standing if s["who"][0] == "mbox" or s["activity"] == HOIST]
    assert dict(by_status) == {
        "applied": len(standing) - len(unmapped),
        "unmapped": len(unmapped),
        "voided": 16,
        "voiding": 16,
    }
    hours, scores = expected(statements=standing, workers=workers, mapped={SHEARER, BELT})
    assert stored_hours() == hours
    assert stored_scores() == scores
    assert set(AssessmentResult.objects.values_list("attempt", flat=True)) == {1}

    # HR maps the hoist simulator's activity and its mailbox, and applies (the admin action's service).
    SimulatorActivity.objects.create(activity_iri=HOIST, course=course)
    actor = SimulatorActor(mbox=MAILBOX, worker=workers["E105"])
    actor.full_clean()
    actor.save()
    report = statements_apply()
    assert (report.applied, report.still_unmapped) == (len(unmapped), 0)
    hours, scores = expected(
        statements=standing, workers=workers, mapped={SHEARER, BELT, HOIST}, mailbox_worker=workers["E105"]
    )
    assert stored_hours() == hours
    assert stored_scores() == scores
    assert statements_apply().applied == 0
    assert stored_hours() == hours
