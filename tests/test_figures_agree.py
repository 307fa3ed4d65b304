"""
Pages that never disagree (issue 11, "one reader per figure"): random mines, several seeds and sizes, on
whichever database the suite runs on. For every department and for the mine, the dashboard, the unit page,
the training ledger's summary sheet and the recertification forecast show the same head count, certificates
overdue and due within 90 days, rank distribution and pending awards; and the dashboard, the unit page,
the worker page and the clearance API show the same annual retraining hours against the requirement,
cleared share and passes.
"""

import datetime as dt
import io
import random
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from certifications import measures
from certifications.clearance.forecast import recertification_forecast
from certifications.clearance.tokens import api_token_create
from certifications.models import Certificate, RankRecord
from certifications.progress.dashboard import dashboard_get
from certifications.progress.figures import dashboard_figures_compute
from certifications.spreadsheets.ledger import LedgerWriter
from tests import factories as f
from training import access
from training.models import TrainingClass, Unit, Worker

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 9, 5)


def build_mine(seed: int, departments: int, workers: int) -> dict:
    """A random mine: departments with crews, workers of every status, certificates due anywhere, awards."""
    rng = random.Random(seed)
    mine = f.MineFactory()
    ladder = f.make_ladder()
    trade = f.TradeFactory()
    depts = [
        f.UnitFactory(code=f"D{d}", kind=Unit.Kind.PRODUCTION_TEAM, parent=mine, sort_order=d)
        for d in range(departments)
    ]
    units = list(depts)
    for dept in depts:
        units += [f.UnitFactory(code=f"{dept.code}C{c}", parent=dept) for c in range(rng.randint(0, 2))]

    def some_day():
        return None if rng.random() < 0.2 else ON + dt.timedelta(days=rng.randint(-200, 200))

    for _ in range(workers):
        worker = f.WorkerFactory(unit=rng.choice(units), status=rng.choice(Worker.Status.values))
        for _ in range(rng.randint(0, 2)):
            review, expiry = some_day(), some_day()
            if review is not None and expiry is not None and review > expiry:
                review, expiry = expiry, review
            f.CertificateFactory(
                worker=worker,
                status=rng.choice(Certificate.Status.values),
                next_review_due=review,
                valid_until=expiry,
                issued_on=dt.date(2023, 5, 6),
            )
        for rank in rng.sample(ladder, rng.randint(0, 2)):
            f.RankRecordFactory(
                worker=worker,
                trade=trade,
                rank=rank,
                status=rng.choice([RankRecord.Status.AWARDED, RankRecord.Status.PENDING]),
                awarded_on=dt.date(2020, 6, 1),
            )
    return {"mine": mine, "departments": depts}


def ledger_summary(today: dt.date) -> dict[str, dict[str, object]]:
    """Return the ledger's summary sheet as unit name → header → value."""
    buffer = io.BytesIO()
    with translation.override("en"):
        LedgerWriter(today=today).write(buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    headers = rows[1]
    return {row[0]: dict(zip(headers, row, strict=False)) for row in rows[2:] if row[0]}


def dashboard_figures(stats) -> dict:
    return {
        "workers": stats.workers,
        "overdue": stats.overdue,
        "due90": stats.due[90],
        "ranks": {name: n for name, n in stats.rank_counts.items() if n},
        "no_rank": stats.workers - stats.ranked,
    }


def ledger_figures(row: dict, rank_names: list[str]) -> dict:
    return {
        "workers": row["Active workers"],
        "overdue": row["Certificates overdue"],
        "due90": row["Certificates due in 90 days"],
        "ranks": {name: row[name] for name in rank_names if row.get(name)},
        "no_rank": row["No rank"],
    }


@settings(max_examples=6)
@given(seed=st.integers(0, 10**6), departments=st.integers(1, 3), workers=st.integers(0, 24))
def test_every_page_shows_the_same_figures_for_every_unit(hr_client, seed, departments, workers):
    with transaction.atomic():
        mine = build_mine(seed, departments, workers)
        dashboard = dashboard_get(on=ON)
        by_unit = {s.unit.pk: s for s in dashboard.units}
        ledger = ledger_summary(ON)
        rank_names = [r.name for r in f.make_ladder()]
        for dept in mine["departments"]:
            shown = dashboard_figures(by_unit[dept.pk])
            assert ledger_figures(ledger[dept.name], rank_names) == shown, dept.name
            with translation.override("en"):
                page = hr_client.get(reverse("certifications:unit-detail", args=[dept.code]))
            assert page.status_code == 200
            assert page.context["active_count"] == shown["workers"], dept.name
        total = dashboard_figures(by_unit[mine["mine"].pk])
        assert ledger_figures(ledger["Total"], rank_names) == total
        pending = RankRecord.objects.filter(status=RankRecord.Status.PENDING).count()
        assert by_unit[mine["mine"].pk].pending_awards == pending
        # The forecast counts special-operation certificates (every certificate here is one).
        assert recertification_forecast(on=ON).overdue_total == total["overdue"]
        transaction.set_rollback(True)


def test_a_worker_who_left_and_a_certificate_past_its_expiry_count_the_same_everywhere(hr_client):
    """The two disagreements the issue found, by hand: the ledger counted leavers and took review over expiry."""
    mine = f.MineFactory()
    crew = f.UnitFactory(code="D0", kind=Unit.Kind.PRODUCTION_TEAM, parent=mine)
    here = f.WorkerFactory(unit=crew, status=Worker.Status.ACTIVE)
    f.WorkerFactory(unit=crew, status=Worker.Status.LEFT)
    # Review in a year, but the certificate expired last week: it is overdue, not "due".
    f.CertificateFactory(
        worker=here, next_review_due=ON + dt.timedelta(days=365), valid_until=ON - dt.timedelta(days=7)
    )
    stats = {s.unit.pk: s for s in dashboard_get(on=ON).units}[crew.pk]
    row = ledger_summary(ON)[crew.name]
    assert (stats.workers, stats.overdue, stats.due[90]) == (1, 1, 0)
    assert (row["Active workers"], row["Certificates overdue"], row["Certificates due in 90 days"]) == (1, 1, 0)
    assert recertification_forecast(on=ON).overdue_total == 1
    assert hr_client.get(reverse("certifications:unit-detail", args=[crew.code])).context["active_count"] == 1


def build_training(seed: int) -> None:
    """Give every worker of a mine a primary trade, annual retraining and other classes, and exam results."""
    rng = random.Random(seed)
    trade = f.TradeFactory(name="综采维修电工")
    classes = [
        f.TrainingClassFactory(kind=kind, start=start, end=start + dt.timedelta(days=4))
        for kind, start in [
            (TrainingClass.Kind.ANNUAL, dt.date(2026, 3, 2)),
            (TrainingClass.Kind.ANNUAL, dt.date(2026, 6, 1)),
            (TrainingClass.Kind.ANNUAL, dt.date(2025, 12, 29)),  # ends in 2026: counts for 2026
            (TrainingClass.Kind.ANNUAL, dt.date(2025, 5, 5)),
            (TrainingClass.Kind.UPSKILL, dt.date(2026, 4, 6)),  # training, but not annual retraining
        ]
    ]
    theory = f.AssessmentFactory(kind="theory", held_on=dt.date(2026, 4, 1))
    practical = f.AssessmentFactory(kind="practical", held_on=dt.date(2026, 4, 8), pass_mark=Decimal("70"))
    for worker in Worker.objects.all():
        if rng.random() < 0.9:
            f.WorkerTradeFactory(worker=worker, trade=trade)
        for training_class in rng.sample(classes, rng.randint(0, 3)):
            f.AttendanceFactory(
                worker=worker,
                training_class=training_class,
                theory_hours=Decimal(rng.choice([0, 4, 8, 12])),
                practical_hours=Decimal(rng.choice([0, 4])),
            )
        for assessment in rng.sample([theory, practical], rng.randint(0, 2)):
            absent = rng.random() < 0.15
            f.ResultFactory(
                worker=worker,
                assessment=assessment,
                absent=absent,
                score=None if absent else Decimal(rng.choice([45, 60, 69, 70, 88])),
            )


def unit_rows(client, unit) -> list:
    with translation.override("en"):
        page = client.get(reverse("certifications:unit-detail", args=[unit.code]))
    assert page.status_code == 200
    return [row for row in page.context["page"].rows if row.worker.status != Worker.Status.LEFT]


@settings(max_examples=5)
@given(seed=st.integers(0, 10**6), departments=st.integers(1, 2), workers=st.integers(1, 14))
def test_hours_clearance_and_passes_agree_on_every_page_and_the_api(client, hr_user, seed, departments, workers):
    """
    Hours against the requirement, the cleared share and passes, for every department: the dashboard's counts
    equal the unit page's rows; each row equals the worker page; the API's verdict and its annual-hours deadline
    agree with the row; the dashboard's passes equal the results the worker page marks passed.
    """
    client.force_login(hr_user)
    with time_machine.travel(dt.datetime(ON.year, ON.month, ON.day, 4, tzinfo=dt.UTC)), transaction.atomic():
        mine = build_mine(seed, departments, workers)
        build_training(seed)
        _token, raw = api_token_create(user=hr_user, name="figures")
        figures = dashboard_figures_compute(on=ON)
        stats = {s.unit.pk: s for s in figures.page.units}
        for dept in mine["departments"]:
            rows = unit_rows(client, dept)
            assert stats[dept.pk].hours_met == sum(row.hours_met for row in rows), dept.name
            cleared = [row.clearance.cleared for row in rows if row.clearance is not None]
            assert figures.compliance[dept.pk].cleared == sum(cleared), dept.name
            assert figures.compliance[dept.pk].workers == len(cleared), dept.name
            passes = attempts = 0
            for row in rows:
                worker = row.worker
                page = client.get(reverse("certifications:worker-detail", args=[worker.employee_no])).context["page"]
                assert (page.hours_this_year, page.hours_required, page.hours_met) == (
                    row.hours,
                    row.hours_required,
                    row.hours_met,
                ), worker.employee_no
                this_year = [r for r in page.results if r.assessment.held_on.year == ON.year]
                attempts += len(this_year)
                passes += sum(r.passed for r in this_year)
                if row.clearance is None:
                    continue
                answer = client.get(
                    reverse("certifications:api-clearance"),
                    {"employee_no": worker.employee_no, "trade": "综采维修电工", "on": ON.isoformat()},
                    headers={"Authorization": f"Token {raw}"},
                ).json()
                assert answer["cleared"] == row.clearance.cleared, worker.employee_no
                short_this_year = [
                    d for d in answer["deadlines"] if d["kind"] == "annual_hours" and d["due_on"] == f"{ON.year}-12-31"
                ]
                assert bool(short_this_year) == (not row.hours_met), worker.employee_no
            assert (stats[dept.pk].passes, stats[dept.pk].attempts) == (passes, attempts), dept.name
        transaction.set_rollback(True)


def ledger_department_rows(year: int) -> dict[str, list[dict]]:
    """Return each department sheet of the ledger as rows of header → value."""
    buffer = io.BytesIO()
    writer = LedgerWriter(today=ON, year=year)
    writer.write(buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    found = {}
    for dept in writer.departments:
        rows = list(book[writer.unit_names[dept]].iter_rows(min_row=2, values_only=True))
        found[writer.unit_names[dept]] = [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]
    return found


@settings(max_examples=5)
@given(seed=st.integers(0, 10**6), departments=st.integers(1, 3), workers=st.integers(0, 16))
def test_the_ledger_sheets_hold_every_exam_the_dashboard_counts(seed, departments, workers):
    """Every worker whose results the dashboard's pass rate counts has them in the ledger's score columns."""
    rng = random.Random(seed)
    with transaction.atomic():
        mine = build_mine(seed, departments, workers)
        ladder, trade = f.make_ladder(), f.TradeFactory(code="EXAM")
        operation = f.SpecialOperationFactory(code="OP-X")
        subjects = [
            {"course": None, "trade": trade, "rank": ladder[1]},
            {"course": None, "special_operation": operation},
            {"course": f.CourseFactory(code="EXAM-C")},
        ]
        sittings = [
            f.AssessmentFactory(kind=kind, held_on=day, **subject)
            for subject in subjects
            for kind in ("theory", "practical")
            for day in (dt.date(2025, 11, 20), dt.date(2026, 3, 2), dt.date(2026, 4, 2))
        ]
        for worker in Worker.objects.all():
            for attempt, sitting in enumerate(rng.sample(sittings, rng.randint(0, 4)), 1):
                absent = rng.random() < 0.1
                f.ResultFactory(
                    worker=worker, assessment=sitting, attempt=attempt, absent=absent, score=None if absent else 70
                )
        counted = dashboard_get(on=ON)  # the dashboard's year is ON's: 2026
        by_unit = {s.unit.pk: s for s in counted.units}
        sheets = ledger_department_rows(2026)
        for dept in mine["departments"]:
            rows = sheets[dept.name]
            in_ledger = {r["工号"] for r in rows if r["考核结果"]}
            sat = set(
                measures.results_in_year(2026)
                .filter(worker__unit_id__in=access.descendant_unit_ids(dept.pk, unit_parents()))
                .values_list("worker__employee_no", flat=True)
            )
            assert in_ledger == sat, dept.name
            active = {w.employee_no for w in measures.active_workers().filter(employee_no__in=in_ledger)}
            # The dashboard counts the active ones' results; each of them is on a ledger row.
            assert (
                by_unit[dept.pk].attempts
                == measures.results_in_year(2026).filter(worker__employee_no__in=active).count()
            ), dept.name
        transaction.set_rollback(True)


def unit_parents() -> dict[int, int | None]:
    return dict(Unit.objects.values_list("pk", "parent_id"))
