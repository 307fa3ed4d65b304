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
from tests.site_fixtures import TODAY, build_mine
from training.models import TrainingClass


@pytest.fixture
def mine(db, today):
    return build_mine()


def stats_by_code(response):
    return {s.unit.code: s for s in response.context["page"].units}


def test_the_dashboard_rolls_each_unit_up_over_its_subtree(hr_client, mine):
    ladder = make_ladder()
    trade = TradeFactory()
    this_year = TrainingClassFactory(start=dt.date(2026, 3, 1), kind=TrainingClass.Kind.ANNUAL)
    # Skill upgrading is training, but not the annual retraining the hours figures count.
    upskill = TrainingClassFactory(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 9), kind=TrainingClass.Kind.UPSKILL)
    AttendanceFactory(worker=mine.outsider, training_class=upskill, theory_hours=Decimal("40"))
    AttendanceFactory(
        worker=mine.trainee, training_class=this_year, theory_hours=Decimal("16"), practical_hours=Decimal("8")
    )
    AttendanceFactory(
        worker=mine.classmate, training_class=this_year, theory_hours=Decimal("4"), practical_hours=Decimal("0")
    )
    ResultFactory(worker=mine.trainee, score=Decimal("80"))
    ResultFactory(worker=mine.classmate, score=Decimal("40"))
    RankRecordFactory(worker=mine.trainee, trade=trade, rank=ladder[2])  # 高级工: high skill
    RankRecordFactory(worker=mine.classmate, trade=trade, rank=ladder[0])
    RankRecordFactory(
        worker=mine.leader, trade=trade, rank=ladder[3], status=RankRecord.Status.PENDING, awarded_on=None
    )
    CertificateFactory(
        worker=mine.trainee, next_review_due=TODAY + dt.timedelta(days=25), valid_until=dt.date(2030, 1, 1)
    )
    CertificateFactory(
        worker=mine.outsider, next_review_due=TODAY + dt.timedelta(days=75), valid_until=dt.date(2030, 1, 1)
    )

    response = hr_client.get(reverse("certifications:dashboard"))
    assert response.status_code == 200
    stats = stats_by_code(response)
    dept, mine_total = stats["ZC1"], stats["MINE"]
    assert dept.workers == 3 and mine_total.workers == 4
    assert dept.coverage == 67  # 2 of 3 retrained this year
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
    """Treat the test mine as large enough for the figures computed in the background."""
    from django.core.cache import cache

    monkeypatch.setattr("certifications.progress.figures.CACHE_FROM_WORKERS", 1)
    cache.clear()
    yield mine
    cache.clear()


AS_OF = "All figures as of"


def test_a_large_mine_shows_the_background_figures_and_says_as_of_when(hr_client, large_mine):
    url = reverse("certifications:dashboard")
    first = hr_client.get(url)  # the test settings run tasks at once: the first visit's task has computed them
    assert AS_OF in first.content.decode()
    computed_at = first.context["figures_as_of"]
    crew = large_mine.other_crew.code
    WorkerFactory(unit=large_mine.other_crew)
    again = hr_client.get(url)
    # Every figure, training and clearance alike, waits for the next computation.
    assert again.context["figures_as_of"] == computed_at
    assert stats_by_code(again)[crew].workers == stats_by_code(first)[crew].workers
    recompute = hr_client.post(url)
    assert recompute.status_code == 302
    refreshed = hr_client.get(url)
    assert refreshed.context["figures_as_of"] > computed_at
    assert stats_by_code(refreshed)[crew].workers == stats_by_code(first)[crew].workers + 1
    assert "The figures are being recomputed in the background" in refreshed.content.decode()


def test_a_small_mine_computes_figures_on_every_visit(hr_client, mine):
    url = reverse("certifications:dashboard")
    response = hr_client.get(url)
    assert response.context["figures_as_of"] is None
    assert AS_OF not in response.content.decode()
    assert "Recompute now" not in response.content.decode()
    WorkerFactory(unit=mine.other_crew)
    again = hr_client.get(url)
    assert (
        stats_by_code(again)[mine.other_crew.code].workers == stats_by_code(response)[mine.other_crew.code].workers + 1
    )


def test_the_cached_dashboard_reads_fewer_queries_than_the_first_visit(hr_client, large_mine):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert hr_client.get(reverse("certifications:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    first = count()
    assert count() < first


def test_a_cached_visit_reads_no_figures_from_the_workforce(hr_client, large_mine, django_assert_max_num_queries):
    url = reverse("certifications:dashboard")
    hr_client.get(url)
    for i in range(10):  # noqa: B007
        worker = WorkerFactory(unit=large_mine.other_crew)
        AttendanceFactory(worker=worker)
        ResultFactory(worker=worker)
    # Session, user, groups, the cached figures (and the ledger button's own lookups): nothing per worker or unit.
    with django_assert_max_num_queries(6):
        assert hr_client.get(url).status_code == 200


def test_a_large_mine_says_when_its_first_figures_are_not_ready_and_queues_one_computation(
    hr_client, large_mine, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    url = reverse("certifications:dashboard")
    first = hr_client.get(url)
    second = hr_client.get(url)
    for response in (first, second):
        assert response.status_code == 200
        assert response.context["page"] is None
        assert "are not ready yet" in response.content.decode()
    assert [r.task.name for r in default_task_backend.results] == ["dashboard_figures_task"]


def test_figures_from_an_earlier_day_are_recomputed(hr_client, large_mine, monkeypatch):
    url = reverse("certifications:dashboard")
    assert hr_client.get(url).context["page"].on == TODAY
    tomorrow = TODAY + dt.timedelta(days=1)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: tomorrow)
    assert hr_client.get(url).context["page"].on == tomorrow


def test_a_results_import_queues_fresh_figures(large_mine, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from certifications.progress import figures
    from certifications.spreadsheets.results import results_import
    from tests.factories import AssessmentFactory, CourseFactory
    from tests.spreadsheet_builders import csv_bytes

    before = figures.dashboard_figures_refresh(on=TODAY)
    course = CourseFactory(code="C100")
    AssessmentFactory(code="AT1", course=course, kind="theory", held_on=TODAY)
    sheet = csv_bytes(
        [["课程", "工号", "姓名", "理论成绩", "考试日期"], ["C100", "100001", "王强", "85", TODAY.isoformat()]]
    )
    with django_capture_on_commit_callbacks(execute=True):
        results_import(sheet)
    after = cache.get(figures.CACHE_KEY)
    assert after.computed_at > before.computed_at
    assert after.page.total.attempts == before.page.total.attempts + 1


def test_the_refresh_command_computes_and_keeps_the_figures(large_mine, capsys):
    from django.core.cache import cache
    from django.core.management import call_command

    from certifications.progress import figures

    call_command("refresh_dashboard")
    assert "Dashboard figures for 4 workers computed" in capsys.readouterr().out
    assert cache.get(figures.CACHE_KEY).workers == 4


def test_a_mine_with_many_units_lists_its_top_levels_and_every_unit_on_request(hr_client, mine, monkeypatch):
    monkeypatch.setattr("certifications.progress.dashboard.DASHBOARD_UNIT_ROWS", 3)
    url = reverse("certifications:dashboard")
    response = hr_client.get(url)
    assert [s.unit.code for s in response.context["unit_rows"]] == ["MINE", "ZC1", "JJ2"]
    html = response.content.decode()
    assert "Showing the top 2 levels (3 of 5 units)" in html
    assert 'href="/units/ZC1-1/"' not in html
    every = hr_client.get(url, {"units": "all"})
    assert [s.unit.code for s in every.context["unit_rows"]] == ["MINE", "ZC1", "ZC1-1", "JJ2", "JJ2-1"]
    assert "Showing the top" not in every.content.decode()


def test_workers_whose_requirement_is_zero_count_once_at_their_hours(hr_client, mine):
    from certifications.models import ComplianceRule
    from training.models import Worker

    ComplianceRule.objects.create(name="none", effective_from=dt.date(2020, 1, 1), annual_hours=Decimal("0"))
    AttendanceFactory(worker=mine.trainee, training_class=TrainingClassFactory(start=dt.date(2026, 2, 1)))
    total = stats_by_code(hr_client.get(reverse("certifications:dashboard")))
    root = next(s for s in total.values() if s.depth == 0)
    assert root.hours_met == root.workers == Worker.objects.exclude(status=Worker.Status.LEFT).count()


def test_levels_that_fit_keep_the_top_two_levels_and_stop_before_the_limit():
    from certifications.progress.dashboard import levels_that_fit

    assert levels_that_fit([0, 1, 1, 2, 2], 5) is None  # everything fits
    assert levels_that_fit([0, 1, 1, 2, 2], 3) == 1
    assert levels_that_fit([0] + [1] * 10 + [2] * 100, 5) == 1  # the top two levels even past the limit
    assert levels_that_fit([0, 1, 2, 2, 3, 3, 3, 3], 5) == 2
