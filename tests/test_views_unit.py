import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certifications.models import Assessment, RankRecord
from tests.factories import (
    AssessmentFactory,
    AttendanceFactory,
    CertificateFactory,
    CourseFactory,
    PackageCourseFactory,
    PackageFactory,
    RankRecordFactory,
    ResultFactory,
    TradeFactory,
    TrainingClassFactory,
    WorkerFactory,
    WorkerTradeFactory,
    make_ladder,
)
from tests.site_fixtures import TODAY, build_mine
from training.models import TrainingClass, Worker, WorkerTrade


@pytest.fixture
def mine(db, today):
    return build_mine()


@pytest.fixture
def package(mine):
    """A trade × rank package with two courses and both exams, held by the dept's workers."""
    ladder = make_ladder()
    trade = TradeFactory(code="ZCWXDG", name="综采维修电工")
    package = PackageFactory(trade=trade, rank=ladder[2])
    c1 = PackageCourseFactory(
        package=package,
        course=CourseFactory(code="C1", title="综采设备维护"),
        theory_hours=Decimal("24"),
        practical_hours=Decimal("16"),
    ).course
    c2 = PackageCourseFactory(
        package=package,
        course=CourseFactory(code="C2", title="电气安全"),
        theory_hours=Decimal("8"),
        practical_hours=Decimal("0"),
    ).course
    for worker in (mine.trainee, mine.classmate, mine.leader):
        WorkerTradeFactory(worker=worker, trade=trade)
        RankRecordFactory(worker=worker, trade=trade, rank=ladder[1])
    return package, trade, c1, c2


def leader_client(client, mine):
    client.force_login(mine.leader.user)
    return client


def test_a_leader_sees_every_worker_of_their_subtree_with_rank_hours_and_due_certificates(client, mine, package):
    CertificateFactory(
        worker=mine.classmate, next_review_due=TODAY + dt.timedelta(days=20), valid_until=dt.date(2029, 1, 1)
    )
    AttendanceFactory(
        worker=mine.trainee,
        training_class=TrainingClassFactory(start=dt.date(2026, 2, 1), kind=TrainingClass.Kind.ANNUAL),
        theory_hours=Decimal("12"),
        practical_hours=Decimal("10"),
    )
    response = leader_client(client, mine).get(reverse("certifications:unit-detail", args=["ZC1"]))
    assert response.status_code == 200
    rows = {row.worker.employee_no: row for row in response.context["page"].rows}
    assert set(rows) == {"100001", "100002", "100003"}  # the outsider is in another department
    assert rows["100001"].hours == Decimal("22") and rows["100001"].hours_met
    assert [t.rank_name for t in rows["100001"].trades] == ["中级工"]
    assert len(rows["100002"].certificates_due) == 1 and rows["100002"].certificates_due[0].due_days == 20
    assert "孙外" not in response.content.decode()


def test_the_unit_table_filters_by_name_and_by_due_certificates(client, mine, package):
    CertificateFactory(worker=mine.classmate, next_review_due=TODAY + dt.timedelta(days=20))
    client = leader_client(client, mine)
    url = reverse("certifications:unit-detail", args=["ZC1"])
    by_name = client.get(url, {"q": "王强"}).context["page"].rows
    assert [r.worker.name for r in by_name] == ["王强"]
    due = client.get(url, {"due": "true"}).context["page"].rows
    assert [r.worker.name for r in due] == ["李明"]


def test_the_unit_table_finds_a_worker_by_pinyin_initials(client, mine, package):
    client = leader_client(client, mine)
    url = reverse("certifications:unit-detail", args=["ZC1"])
    assert [r.worker.name for r in client.get(url, {"q": "wq"}).context["page"].rows] == ["王强"]
    assert [r.worker.name for r in client.get(url, {"q": "L M"}).context["page"].rows] == ["李明"]


def test_the_unit_table_sorts_by_hours_both_ways(client, mine, package):
    AttendanceFactory(
        worker=mine.classmate,
        training_class=TrainingClassFactory(start=dt.date(2026, 2, 1), kind=TrainingClass.Kind.ANNUAL),
    )
    client = leader_client(client, mine)
    url = reverse("certifications:unit-detail", args=["ZC1"])
    up = [r.worker.name for r in client.get(url, {"o": "hours"}).context["page"].rows]
    down = [r.worker.name for r in client.get(url, {"o": "-hours"}).context["page"].rows]
    assert down[0] == "李明" and up[-1] == "李明"
    html = client.get(url, {"o": "-hours"}).content.decode()
    assert 'aria-sort="descending"' in html


def test_the_skills_matrix_marks_each_cell_done_in_progress_missing_or_failed(client, mine, package):
    pkg, trade, c1, c2 = package
    # trainee: c1 done, c2 half; theory passed, practical failed
    AttendanceFactory(
        worker=mine.trainee,
        training_class=TrainingClassFactory(course=c1),
        theory_hours=Decimal("24"),
        practical_hours=Decimal("16"),
    )
    AttendanceFactory(
        worker=mine.trainee,
        training_class=TrainingClassFactory(course=c2),
        theory_hours=Decimal("4"),
        practical_hours=Decimal("0"),
    )
    theory = AssessmentFactory(course=None, trade=trade, rank=pkg.rank, kind=Assessment.Kind.THEORY)
    practical = AssessmentFactory(course=None, trade=trade, rank=pkg.rank, kind=Assessment.Kind.PRACTICAL)
    ResultFactory(worker=mine.trainee, assessment=theory, score=Decimal("78"))
    ResultFactory(worker=mine.trainee, assessment=practical, score=Decimal("55"))
    response = leader_client(client, mine).get(reverse("certifications:unit-detail", args=["ZC1"]))
    matrix = response.context["page"].matrix
    assert matrix.package == pkg
    assert [c.label for c in matrix.columns] == ["综采设备维护", "电气安全", "Theory exam", "Practical exam"]
    states = {worker.name: [cell.state for cell in cells] for worker, cells in matrix.rows}
    assert states["王强"] == ["done", "in_progress", "done", "failed"]
    assert states["李明"] == ["missing", "missing", "missing", "missing"]
    html = response.content.decode()
    # Readable without colour and by a screen reader: a symbol, a word, row and column headers.
    assert '<th scope="row"><a href="/workers/100001/">王强</a></th>' in html
    assert "✓</span> done" in html and "✗</span> failed" in html and "◐</span> in progress" in html


def test_a_worker_who_holds_the_target_rank_or_a_higher_one_is_shown_as_held_not_missing(client, mine, package):
    pkg, trade, c1, c2 = package
    ladder = make_ladder()
    RankRecordFactory(worker=mine.classmate, trade=trade, rank=ladder[3])  # above the package's rank
    RankRecordFactory(worker=mine.leader, trade=trade, rank=pkg.rank)  # the package's rank itself
    # A revoked award of the rank is no longer held.
    RankRecordFactory(worker=mine.trainee, trade=trade, rank=ladder[3], status=RankRecord.Status.REVOKED)
    response = leader_client(client, mine).get(reverse("certifications:unit-detail", args=["ZC1"]))
    states = {worker.name: {cell.state for cell in cells} for worker, cells in response.context["page"].matrix.rows}
    assert states[mine.classmate.name] == {"held"} and states[mine.leader.name] == {"held"}
    assert states[mine.trainee.name] == {"missing"}
    assert "●</span> held" in response.content.decode()


def test_a_worker_who_holds_the_rank_in_another_trade_still_needs_the_package(client, mine, package):
    pkg, trade, c1, c2 = package
    RankRecordFactory(worker=mine.classmate, trade=TradeFactory(code="OTHER"), rank=make_ladder()[4])
    matrix = leader_client(client, mine).get(reverse("certifications:unit-detail", args=["ZC1"])).context["page"].matrix
    states = {worker.name: {cell.state for cell in cells} for worker, cells in matrix.rows}
    assert states[mine.classmate.name] == {"missing"}


def test_a_worker_who_has_left_is_not_in_the_matrix_unless_the_status_filter_asks(client, mine, package):
    Worker.objects.filter(pk=mine.classmate.pk).update(status=Worker.Status.LEFT)
    client = leader_client(client, mine)
    url = reverse("certifications:unit-detail", args=["ZC1"])
    response = client.get(url)
    assert mine.classmate.name not in {worker.name for worker, _cells in response.context["page"].matrix.rows}
    assert response.context["page"].matrix.departed_hidden == 1
    assert "1 worker on this page who has left is not shown" in response.content.decode()
    left = client.get(url, {"status": Worker.Status.LEFT}).context["page"].matrix
    assert [worker.name for worker, _cells in left.rows] == [mine.classmate.name] and left.departed_hidden == 0


def test_the_matrix_legend_explains_every_symbol_in_both_languages(client, mine, package):
    from django.utils.html import escape

    from certifications.progress.unit import MATRIX_SYMBOLS, matrix_state_help

    client = leader_client(client, mine)
    html = client.get(reverse("certifications:unit-detail", args=["ZC1"])).content.decode()
    for state, text in matrix_state_help().items():
        assert f"{MATRIX_SYMBOLS[state]}</span>" in html and escape(text) in html
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("certifications:unit-detail", args=["ZC1"])).content.decode()
    assert "●</span> 已取得" in html and "已取得此等级或更高等级" in html


def test_a_failed_course_exam_marks_the_course_failed(client, mine, package):
    pkg, trade, c1, c2 = package
    AttendanceFactory(worker=mine.trainee, training_class=TrainingClassFactory(course=c1))
    ResultFactory(worker=mine.trainee, assessment=AssessmentFactory(course=c1), score=Decimal("40"))
    matrix = leader_client(client, mine).get(reverse("certifications:unit-detail", args=["ZC1"])).context["page"].matrix
    states = {worker.name: cells[0].state for worker, cells in matrix.rows}
    assert states["王强"] == "failed"


def _add_workers(unit, trade, n, start):
    ladder = make_ladder()
    for i in range(n):
        worker = WorkerFactory(employee_no=f"9{start + i:05d}", unit=unit)
        WorkerTradeFactory(worker=worker, trade=trade)
        RankRecordFactory(worker=worker, trade=trade, rank=ladder[i % 2])
        AttendanceFactory(worker=worker)
        CertificateFactory(worker=worker, next_review_due=TODAY + dt.timedelta(days=10 + i))
        ResultFactory(worker=worker)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


# Session, user, access checks, navigation, filter choices, the page count, the roll-up (ten) and the page's
# own reads, plus the clearance column (certifications.clearance.facts.load_facts: eleven); a leader's crew takes 42.
# With more than one page, one more query counts the candidates for the skills matrix's default package.
# 44: the active head count the dashboard and the ledger show too (certifications/measures.py), one COUNT;
# 45: the appraisal sittings with candidates in the unit (their results sheets), one query.
UNIT_PAGE_MAX_QUERIES = 45


@pytest.mark.parametrize("extra", [5, 50])
def test_the_unit_page_makes_a_bounded_number_of_queries(client, mine, package, extra, django_assert_max_num_queries):
    _add_workers(mine.crew, package[1], extra, 0)
    client = leader_client(client, mine)
    with django_assert_max_num_queries(UNIT_PAGE_MAX_QUERIES):
        response = client.get(reverse("certifications:unit-detail", args=["ZC1"]), {"o": "-hours"})
    assert len(response.context["page"].rows) == 3 + extra


def test_the_unit_page_query_count_does_not_grow_with_its_workers(client, mine, package):
    client = leader_client(client, mine)
    url = reverse("certifications:unit-detail", args=["ZC1"])
    _add_workers(mine.crew, package[1], 5, 0)
    few, _ = _count(client, url)
    _add_workers(mine.crew, package[1], 45, 100)
    many, response = _count(client, url)
    assert few == many
    assert len(response.context["page"].matrix.rows) == 53


def test_a_unit_of_five_hundred_workers_renders(client, mine, package, hr_client):
    pkg, trade, c1, c2 = package
    workers = Worker.objects.bulk_create(
        WorkerFactory.build(employee_no=f"5{i:05d}", unit=mine.other_crew, user=None) for i in range(500)
    )
    WorkerTrade.objects.bulk_create(
        WorkerTrade(worker=w, trade=trade, is_primary=True, started_on=dt.date(2015, 3, 1)) for w in workers
    )
    url = reverse("certifications:unit-detail", args=["JJ2-1"])
    count, response = _count(hr_client, url)
    assert count <= UNIT_PAGE_MAX_QUERIES
    # 501 workers: six pages of a hundred, the last with one.
    assert len(response.context["page"].rows) == 100
    assert response.context["paginated"].paginator.count == 501
    assert (
        response.content.decode().count('<th scope="row"') >= 199
    )  # the table and the matrix (one worker has no trade)
    last_count, last = _count(hr_client, url + "?page=6")
    assert last_count == count
    assert len(last.context["page"].rows) == 1


def _crew_of(mine, trade, n):
    workers = Worker.objects.bulk_create(
        WorkerFactory.build(employee_no=f"7{i:05d}", name=f"工人{i:03d}", unit=mine.other_crew, user=None)
        for i in range(n)
    )
    WorkerTrade.objects.bulk_create(
        WorkerTrade(worker=w, trade=trade, is_primary=True, started_on=dt.date(2015, 3, 1)) for w in workers
    )
    return workers


def test_page_links_keep_the_filters_the_sort_and_the_package(hr_client, mine, package):
    pkg, trade, _c1, _c2 = package
    _crew_of(mine, trade, 230)
    url = reverse("certifications:unit-detail", args=["JJ2-1"])
    response = hr_client.get(url, {"q": "工人", "o": "-number", "package": pkg.pk, "page": 2})
    html = response.content.decode()
    assert response.context["paginated"].number == 2
    assert 'href="?q=%E5%B7%A5%E4%BA%BA&amp;o=-number&amp;package=' in html
    assert f"package={pkg.pk}&amp;page=3" in html and f"package={pkg.pk}&amp;page=1" in html
    # Sorting again starts at the first page; choosing another package keeps the page.
    assert all("page=" not in link["url"] for link in response.context["sort_links"].values())
    assert response.context["matrix_params"]["page"] == "2"
    # The second page, sorted by number descending, holds workers 130 to 31.
    rows = response.context["page"].rows
    assert [r.worker.employee_no for r in rows[:2]] == ["700129", "700128"]
    assert len(response.context["page"].matrix.rows) == 100


def test_a_page_of_a_large_unit_takes_as_many_queries_as_the_first(
    hr_client, mine, package, django_assert_max_num_queries
):
    _pkg, trade, _c1, _c2 = package
    url = reverse("certifications:unit-detail", args=["JJ2-1"])
    _crew_of(mine, trade, 20)
    one_page, _ = _count(hr_client, url)
    more = Worker.objects.bulk_create(
        WorkerFactory.build(employee_no=f"8{i:05d}", unit=mine.other_crew, user=None) for i in range(280)
    )
    assert len(more) == 280
    first, _ = _count(hr_client, url)
    third, response = _count(hr_client, url + "?o=hours&page=3")
    assert one_page <= first == third <= UNIT_PAGE_MAX_QUERIES
    assert response.context["paginated"].paginator.num_pages > 3
    assert len(response.context["page"].rows) == 100


def test_every_page_of_a_unit_shows_the_same_default_package(hr_client, mine, package):
    pkg, trade, _c1, _c2 = package
    _crew_of(mine, trade, 150)
    url = reverse("certifications:unit-detail", args=["JJ2-1"])
    shown = {hr_client.get(url, {"page": n}).context["page"].matrix.package.pk for n in (1, 2)}
    assert shown == {pkg.pk}


def test_an_out_of_range_page_shows_the_last_one(hr_client, mine, package):
    _pkg, trade, _c1, _c2 = package
    _crew_of(mine, trade, 120)
    response = hr_client.get(reverse("certifications:unit-detail", args=["JJ2-1"]), {"page": 99})
    assert response.status_code == 200
    assert response.context["paginated"].number == 2


@pytest.fixture
def clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_a_large_units_package_list_and_default_package_come_from_the_cache_on_the_next_visit(
    hr_client, mine, package, monkeypatch, clear_cache
):
    pkg, trade, _c1, _c2 = package
    _crew_of(mine, trade, 150)
    monkeypatch.setattr("certifications.progress.unit.MATRIX_CACHE_FROM_WORKERS", 100)
    url = reverse("certifications:unit-detail", args=["JJ2-1"])
    first, response = _count(hr_client, url)
    second, again = _count(hr_client, url + "?page=2")
    # The package list and the default package's grouped count are not read again.
    assert second == first - 2
    assert again.context["page"].matrix.package.pk == response.context["page"].matrix.package.pk == pkg.pk
    assert [p.pk for p in again.context["page"].matrix.packages] == [
        p.pk for p in response.context["page"].matrix.packages
    ]
    # The package list belongs to the units; other filters are other candidates, counted afresh.
    filtered, _ = _count(hr_client, url + "?q=%E5%B7%A5%E4%BA%BA")
    assert filtered == first - 1


def test_a_unit_below_the_cache_threshold_reads_its_packages_on_every_visit(hr_client, mine, package, clear_cache):
    _pkg, trade, _c1, _c2 = package
    _crew_of(mine, trade, 150)
    url = reverse("certifications:unit-detail", args=["JJ2-1"])
    first, _ = _count(hr_client, url)
    second, _ = _count(hr_client, url + "?page=2")
    assert second == first


def test_a_large_subtree_offers_its_top_units_in_the_filter_and_still_accepts_any_of_them(
    hr_client, mine, package, monkeypatch
):
    monkeypatch.setattr("certifications.progress.dashboard.DASHBOARD_UNIT_ROWS", 3)
    url = reverse("certifications:unit-detail", args=[mine.mine.code])
    offered = [label for _pk, label in hr_client.get(url).context["filter"].form.fields["unit"].widget.choices][1:]
    assert offered == [str(u) for u in (mine.mine, mine.dept, mine.other_dept)]
    response = hr_client.get(url, {"unit": mine.crew.pk})
    assert {r.worker.pk for r in response.context["page"].rows} == {mine.trainee.pk, mine.classmate.pk}
    assert str(mine.crew) in [label for _pk, label in response.context["filter"].form.fields["unit"].widget.choices]
    assert f'<option value="{mine.crew.pk}" selected>' in response.content.decode()
    assert f'<option value="{mine.other_crew.pk}">{mine.other_crew}</option>' not in response.content.decode()
