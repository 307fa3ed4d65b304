import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certifications.models import RankRecord
from tests.factories import (
    AttendanceFactory,
    CertificateFactory,
    RankRecordFactory,
    ResultFactory,
    TradeFactory,
    TrainingClassFactory,
    WorkerFactory,
    make_ladder,
)
from tests.site_fixtures import build_mine

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    return TODAY


@pytest.fixture
def mine(db, today):
    return build_mine()


def stats_by_code(response):
    return {s.unit.code: s for s in response.context["page"].units}


def test_the_dashboard_rolls_each_unit_up_over_its_subtree(hr_client, mine):
    ladder = make_ladder()
    trade = TradeFactory()
    this_year = TrainingClassFactory(start=dt.date(2026, 3, 1))
    AttendanceFactory(worker=mine.trainee, training_class=this_year, theory_hours=Decimal("16"), practical_hours=Decimal("8"))
    AttendanceFactory(worker=mine.classmate, training_class=this_year, theory_hours=Decimal("4"), practical_hours=Decimal("0"))
    ResultFactory(worker=mine.trainee, score=Decimal("80"))
    ResultFactory(worker=mine.classmate, score=Decimal("40"))
    RankRecordFactory(worker=mine.trainee, trade=trade, rank=ladder[2])  # 高级工: high skill
    RankRecordFactory(worker=mine.classmate, trade=trade, rank=ladder[0])
    RankRecordFactory(worker=mine.leader, trade=trade, rank=ladder[3], status=RankRecord.Status.PENDING, awarded_on=None)
    CertificateFactory(worker=mine.trainee, next_review_due=TODAY + dt.timedelta(days=25), valid_until=dt.date(2030, 1, 1))
    CertificateFactory(worker=mine.outsider, next_review_due=TODAY + dt.timedelta(days=75), valid_until=dt.date(2030, 1, 1))

    response = hr_client.get(reverse("certifications:dashboard"))
    assert response.status_code == 200
    stats = stats_by_code(response)
    dept, mine_total = stats["ZC1"], stats["MINE"]
    assert dept.workers == 3 and mine_total.workers == 4
    assert dept.coverage == 67  # 2 of 3 trained this year
    assert dept.hours_met == 1  # only the trainee reached 20 hours
    assert dept.average_hours == Decimal("9.3")
    assert (dept.passes, dept.attempts, dept.pass_rate) == (1, 2, 50)
    assert dept.high_skill_percent == 33
    assert dept.rank_counts == {"高级工": 1, "初级工": 1}
    assert dept.due == {30: 1, 60: 1, 90: 1}
    assert mine_total.due == {30: 1, 60: 1, 90: 2}
    assert dept.pending_awards == 1
    assert [s.unit.code for s in response.context["page"].units] == ["MINE", "ZC1", "ZC1-1", "JJ2", "JJ2-1"]
    html = response.content.decode()
    assert 'href="/units/ZC1/"' in html


def test_the_dashboard_query_count_does_not_grow_with_the_workforce(hr_client, mine):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert hr_client.get(reverse("certifications:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    ladder = make_ladder()
    trade = TradeFactory()
    for i in range(20):
        worker = WorkerFactory(unit=mine.other_crew)
        AttendanceFactory(worker=worker)
        ResultFactory(worker=worker)
        RankRecordFactory(worker=worker, trade=trade, rank=ladder[i % 5])
        CertificateFactory(worker=worker, next_review_due=TODAY + dt.timedelta(days=i * 5))
    assert count() == few


def test_the_dashboard_is_for_hr_only(client, mine):
    client.force_login(mine.leader.user)
    assert client.get(reverse("certifications:dashboard")).status_code == 404


@pytest.fixture
def large_mine(mine, monkeypatch):
    """Treat the test mine as large enough for the day's cached clearance figures."""
    from django.core.cache import cache

    monkeypatch.setattr("certifications.views_compliance.DASHBOARD_CACHE_FROM_WORKERS", 1)
    cache.clear()
    yield mine
    cache.clear()


def test_a_large_mine_keeps_the_days_clearance_figures_and_says_as_of_when(hr_client, large_mine):
    url = reverse("certifications:dashboard")
    first = hr_client.get(url)
    assert "Clearance figures and the forecast as of" in first.content.decode()
    computed_at = first.context["clearance_as_of"]
    WorkerFactory(unit=large_mine.other_crew)
    again = hr_client.get(url)
    assert again.context["clearance_as_of"] == computed_at
    # The training figures are live; the clearance figures wait for the next day or a recompute.
    assert stats_by_code(again)[large_mine.other_crew.code].workers == stats_by_code(first)[large_mine.other_crew.code].workers + 1
    refreshed = hr_client.get(url, {"refresh": "1"})
    assert refreshed.context["clearance_as_of"] > computed_at


def test_a_small_mine_computes_clearance_figures_on_every_visit(hr_client, mine):
    response = hr_client.get(reverse("certifications:dashboard"))
    assert response.context["clearance_as_of"] is None
    assert "Clearance figures and the forecast as of" not in response.content.decode()


def test_the_cached_dashboard_reads_fewer_queries_than_the_first_visit(hr_client, large_mine):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert hr_client.get(reverse("certifications:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    first = count()
    assert count() < first


def test_workers_whose_requirement_is_zero_count_once_at_their_hours(hr_client, mine):
    from certifications.models import ComplianceRule
    from training.models import Worker

    ComplianceRule.objects.create(name="none", effective_from=dt.date(2020, 1, 1), annual_hours=Decimal("0"))
    AttendanceFactory(worker=mine.trainee, training_class=TrainingClassFactory(start=dt.date(2026, 2, 1)))
    total = stats_by_code(hr_client.get(reverse("certifications:dashboard")))
    root = next(s for s in total.values() if s.depth == 0)
    assert root.hours_met == root.workers == Worker.objects.exclude(status=Worker.Status.LEFT).count()
