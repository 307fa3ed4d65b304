"""Simulator evidence where people read it: the worker page (in words) and the training ledger (实操学时)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from certifications.models import SimulatorActivity
from certifications.simulators.services import statements_store
from certifications.simulators.statements import statement_read
from certifications.spreadsheets.ledger import LedgerWriter
from tests import factories as f
from training.models import Course, Unit

pytestmark = pytest.mark.django_db

SHEARER = "https://vr.example-mine.cn/activities/shearer/start-up"


def run(*, duration: str, scaled: float | None, when: str, success: bool | None = None) -> dict:
    result = {"duration": duration, "completion": True}
    if scaled is not None:
        result["score"] = {"scaled": scaled}
    if success is not None:
        result["success"] = success
    return {
        "actor": {"account": {"homePage": "https://vr.example-mine.cn", "name": "E001"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": SHEARER},
        "result": result,
        "timestamp": when,
    }


@pytest.fixture
def mine():
    root = f.MineFactory()
    dept = f.UnitFactory(code="D1", name="综采一队", kind=Unit.Kind.PRODUCTION_TEAM, parent=root)
    worker = f.WorkerFactory(employee_no="E001", name="张三", unit=dept)
    course = f.CourseFactory(code="VR01", title="采煤机VR实训", delivery=Course.Delivery.SIMULATION)
    assessment = f.AssessmentFactory(
        code="PX1", name="采煤机实操考核", kind="practical", course=course, held_on=dt.date(2026, 9, 5)
    )
    SimulatorActivity.objects.create(activity_iri=SHEARER, name="采煤机开机", course=course, assessment=assessment)
    statements_store(
        [
            statement_read(run(duration="PT45M", scaled=0.72, when="2026-09-05T09:00:00+08:00", success=True)),
            statement_read(run(duration="PT1H30M", scaled=None, when="2026-09-05T14:00:00+08:00")),
        ],
        credential=None,
    )
    return worker


def test_the_worker_page_shows_simulator_hours_and_scores_in_words(mine, hr_client):
    page = hr_client.get(reverse("certifications:worker-detail", args=["E001"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Simulator evidence (VR/AR)" in text
    assert "3 practical hours from VR/AR simulators, in 2 recorded runs." in text
    assert "45 min in the simulator; scored 72 of 100 (采煤机实操考核); passed; completed" in text
    assert "90 min in the simulator; completed" in text
    assert "VR/AR simulation" in text  # the class's delivery, beside its name


def test_a_worker_without_simulator_runs_has_no_simulator_section(db, hr_client):
    f.WorkerFactory(employee_no="E009")
    page = hr_client.get(reverse("certifications:worker-detail", args=["E009"]))
    assert "Simulator evidence" not in page.content.decode()


def test_the_ledger_counts_simulator_hours_as_practical_hours_and_says_how_they_were_had(mine):
    buffer = io.BytesIO()
    LedgerWriter(today=dt.date(2026, 9, 30)).write(buffer)
    buffer.seek(0)
    sheet = load_workbook(buffer)["综采一队"]
    headers = [c.value for c in sheet[2]]
    rows = [dict(zip(headers, r)) for r in sheet.iter_rows(min_row=3, values_only=True) if r[4] == "E001"]
    assert len(rows) == 1
    row = rows[0]
    assert row["实操学时"] == 3 and row["理论学时"] == 0 and row["合计学时"] == 3
    assert row["实操成绩"] == 72
    assert row["备注"] == "VR/AR simulation · 135 min in the simulator"
    assert row["开始日期"] == dt.datetime(2026, 9, 5)
    assert Decimal("3") == Decimal(row["实操学时"])
