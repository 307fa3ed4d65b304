"""HR's approval page: pending rank awards in words, evidence as links, approve or reject one or a selection."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certifications.models import RankRecord
from certifications.ranks.services import award_met_on, ranks_recompute
from tests import factories as f
from tests.rollup_setup import trade_setup, worker_in
from tests.site_fixtures import build_mine
from training import roles

pytestmark = pytest.mark.django_db

PAGE = "certifications:award-approvals"


def pending_award(setup, no: str, name: str, *, on=None) -> RankRecord:
    """A worker who holds 初级工, took the course's 16 hours and passed both 中级工 exams: a pending 中级工 award."""
    worker = worker_in(setup, f.WorkerFactory(employee_no=no, name=name))
    f.AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("82"))
    f.ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("76"))
    ranks_recompute(worker_ids=[worker.pk], on=on)
    return RankRecord.objects.get(worker=worker, status="pending")


@pytest.fixture
def setup(db):
    return trade_setup()


def test_the_page_words_each_requirement_as_the_worker_page_does_with_links_not_ids(hr_client, setup):
    record = pending_award(setup, "E001", "张三")
    page = hr_client.get(reverse(PAGE)).content.decode()
    assert "Theory exam 82 ≥ 60 ✓" in page and "Practical exam 76 ≥ 60 ✓" in page
    assert f"{setup.course.title} 16/16 hours ✓" in page
    assert "Holds 初级工" in page and "初级工 held since 2020-06-01" in page
    result = record.evidence["results"][0]
    assert f'href="{reverse("admin:certifications_assessmentresult_change", args=[result])}"' in page
    assert f'href="{reverse("admin:training_trainingclass_change", args=[setup.training_class.pk])}"' in page
    assert f'href="{record.worker.get_absolute_url()}"' in page
    # Never the evidence's ids or JSON.
    assert not re.search(r"(result|attendance|review|rank_record):\d", page)
    assert "fingerprint" not in page and "&quot;" not in page and "rule_set" not in page
    assert setup.practical.held_on.isoformat() in page  # held from: the day the last requirement was met


def test_the_requirements_read_in_chinese(hr_client, setup):
    pending_award(setup, "E001", "张三")
    hr_client.cookies["django_language"] = "zh-hans"
    page = hr_client.get(reverse(PAGE), headers={"accept-language": "zh-hans"}).content.decode()
    assert "理论考试 82 ≥ 60 ✓" in page and "待审批" in page


def test_an_award_is_dated_on_the_day_its_last_requirement_was_met_not_the_approval_day(hr_client, hr_user, setup):
    record = pending_award(setup, "E001", "张三")
    assert award_met_on(record) == setup.practical.held_on  # the later of the two exams, after the class
    hr_client.post(reverse(PAGE), {"approve": record.pk})
    record.refresh_from_db()
    assert (record.status, record.awarded_on, record.decided_by) == ("awarded", dt.date(2026, 4, 2), hr_user)
    assert record.decided_at is not None and timezone.localtime(record.decided_at).date() == timezone.localdate()


def test_when_time_at_rank_is_met_last_the_award_is_dated_then(hr_client, db):
    setup = trade_setup(years_at_previous_rank=Decimal("6"))  # 初级工 since 2020-06-01 → met on 2026-06-01
    record = pending_award(setup, "E001", "张三", on=dt.date(2026, 7, 1))
    hr_client.post(reverse(PAGE), {"approve": record.pk})
    record.refresh_from_db()
    assert record.awarded_on == dt.date(2026, 6, 1)


def test_a_class_finished_after_the_exams_dates_the_award_on_that_class(hr_client, setup):
    record_worker = worker_in(setup, f.WorkerFactory(employee_no="E001", name="张三"))
    f.ResultFactory(assessment=setup.theory, worker=record_worker, score=Decimal("82"))
    f.ResultFactory(assessment=setup.practical, worker=record_worker, score=Decimal("76"))
    late = f.TrainingClassFactory(course=setup.course, start=dt.date(2026, 5, 11), end=dt.date(2026, 5, 15))
    f.AttendanceFactory(training_class=late, worker=record_worker, theory_hours=8, practical_hours=8)
    ranks_recompute(worker_ids=[record_worker.pk], on=dt.date(2026, 6, 1))
    record = RankRecord.objects.get(worker=record_worker, status="pending")
    assert award_met_on(record) == dt.date(2026, 5, 11)


def test_hr_approves_one_award_and_the_history_records_who(hr_client, hr_user, setup):
    record = pending_award(setup, "E001", "张三")
    other = pending_award(setup, "E002", "李四")
    response = hr_client.post(reverse(PAGE), {"approve": record.pk}, follow=True)
    assert "Approved 1 award(s)" in response.content.decode()
    record.refresh_from_db()
    other.refresh_from_db()
    assert (record.status, other.status) == ("awarded", "pending")
    latest = record.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.status) == (hr_user, "Approved", "awarded")


def test_a_rejection_needs_a_reason(hr_client, setup):
    record = pending_award(setup, "E001", "张三")
    response = hr_client.post(reverse(PAGE), {"reject": record.pk, f"reason-{record.pk}": "  "}, follow=True)
    assert "Give a reason for the rejection." in response.content.decode()
    record.refresh_from_db()
    assert record.status == "pending"
    hr_client.post(reverse(PAGE), {"reject": record.pk, f"reason-{record.pk}": "材料不全"})
    record.refresh_from_db()
    assert (record.status, record.evidence["rejection_reason"]) == ("rejected", "材料不全")
    assert record.history.latest().history_change_reason == "Rejected: 材料不全"


def test_hr_approves_a_selection_at_once(hr_client, hr_user, setup):
    records = [pending_award(setup, f"E00{i}", f"工人{i}") for i in range(3)]
    selected = [records[0].pk, records[2].pk]
    response = hr_client.post(reverse(PAGE), {"bulk": "approve", "selected": selected}, follow=True)
    assert "Approved 2 award(s)" in response.content.decode()
    states = dict(RankRecord.objects.filter(pk__in=[r.pk for r in records]).values_list("pk", "status"))
    assert states == {records[0].pk: "awarded", records[1].pk: "pending", records[2].pk: "awarded"}
    for pk in selected:
        record = RankRecord.objects.get(pk=pk)
        assert (record.awarded_on, record.decided_by) == (setup.practical.held_on, hr_user)
        latest = record.history.latest()
        assert (latest.history_user, latest.history_change_reason, latest.status) == (hr_user, "Approved", "awarded")


def test_rejecting_a_selection_needs_one_reason_and_records_it_on_each(hr_client, setup):
    records = [pending_award(setup, f"E00{i}", f"工人{i}") for i in range(2)]
    ids = [r.pk for r in records]
    hr_client.post(reverse(PAGE), {"bulk": "reject", "selected": ids, "bulk_reason": ""})
    assert set(RankRecord.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"pending"}
    hr_client.post(reverse(PAGE), {"bulk": "reject", "selected": ids, "bulk_reason": "证书待核实"})
    for record in RankRecord.objects.filter(pk__in=ids):
        assert (record.status, record.evidence["rejection_reason"]) == ("rejected", "证书待核实")
        assert record.history.latest().history_change_reason == "Rejected: 证书待核实"


def test_a_selection_with_an_award_decided_meanwhile_decides_nothing(hr_client, hr_user, setup):
    first, second = (pending_award(setup, f"E00{i}", f"工人{i}") for i in range(2))
    hr_client.post(reverse(PAGE), {"approve": second.pk})
    response = hr_client.post(reverse(PAGE), {"bulk": "approve", "selected": [first.pk, second.pk]}, follow=True)
    assert "Nothing was decided" in response.content.decode()
    first.refresh_from_db()
    assert first.status == "pending"


def test_an_approved_award_is_not_proposed_again_and_the_next_rank_is_evaluated(hr_client, setup):
    record = pending_award(setup, "E001", "张三")
    hr_client.post(reverse(PAGE), {"bulk": "approve", "selected": [record.pk]})
    ranks_recompute(worker_ids=[record.worker_id])
    assert RankRecord.objects.filter(worker=record.worker, rank=setup.ranks[1]).count() == 1


@pytest.mark.parametrize("count", [2, 12])
def test_the_page_takes_the_same_queries_for_2_and_12_awards(hr_client, setup, count, django_assert_max_num_queries):
    for i in range(count):
        pending_award(setup, f"E{i:03d}", f"工人{i}")
    with django_assert_max_num_queries(20):
        response = hr_client.get(reverse(PAGE))
    assert len(response.context["awards"]) == count


@pytest.mark.parametrize("count", [2, 12])
def test_approving_a_selection_takes_the_same_statements_for_2_and_12_awards(
    hr_client, setup, count, django_assert_max_num_queries
):
    ids = [pending_award(setup, f"E{i:03d}", f"工人{i}").pk for i in range(count)]
    with django_assert_max_num_queries(16):
        hr_client.post(reverse(PAGE), {"bulk": "approve", "selected": ids})
    assert RankRecord.objects.filter(pk__in=ids, status="awarded").count() == count


def test_the_awards_an_import_proposed_are_shown_alone_and_stay_so_after_a_decision(hr_client, setup):
    older = [pending_award(setup, f"E00{i}", f"工人{i}") for i in range(3)]
    proposed = [pending_award(setup, "E101", "张三"), pending_award(setup, "E102", "李四")]
    url = f"{reverse(PAGE)}?award={proposed[0].pk}&award={proposed[1].pk}&award=x&award=" + "9" * 40
    response = hr_client.get(url)
    assert [a.record.pk for a in response.context["awards"]] == [r.pk for r in proposed]
    page = response.content.decode()
    assert "Only the awards the import just proposed are shown." in page
    assert f'href="{reverse(PAGE)}">Every pending award' in page
    assert older[0].worker.name not in page

    response = hr_client.post(url, {"approve": proposed[0].pk}, follow=True)
    assert [a.record.pk for a in response.context["awards"]] == [proposed[1].pk]
    # Without the filter, every pending award, and no note.
    response = hr_client.get(reverse(PAGE))
    assert len(response.context["awards"]) == 4 and "Only the awards" not in response.content.decode()


def test_the_dashboard_card_links_to_the_approval_page(hr_client, setup, today):
    pending_award(setup, "E001", "张三")
    page = hr_client.get(reverse("certifications:dashboard")).content.decode()
    assert f'href="{reverse(PAGE)}"' in page


def test_the_rank_records_admin_form_shows_the_same_words_read_only(hr_client, setup):
    record = pending_award(setup, "E001", "张三")
    page = hr_client.get(reverse("admin:certifications_rankrecord_change", args=[record.pk])).content.decode()
    assert "Theory exam 82 ≥ 60 ✓" in page and "初级工 held since 2020-06-01" in page
    assert "fingerprint" not in page and not re.search(r"(result|attendance):\d", page)
    assert 'name="evidence"' not in page


# --- who may open and use the page: the demo roles ----------------------------------------------------


@pytest.fixture
def people(db):
    mine = build_mine()
    return {
        "hr": f.UserFactory(username="hr", role=roles.HR),
        "officer": f.UserFactory(username="officer", role=roles.OFFICER, is_staff=True),
        "assessor": f.UserFactory(username="assessor", role=roles.ASSESSOR, is_staff=True),
        "leader": mine.leader.user,
        "trainee": mine.trainee.user,
        "anonymous": None,
    }


def client_as(people, role) -> Client:
    client = Client()
    if people[role] is not None:
        client.force_login(people[role])
    return client


@pytest.mark.parametrize(
    ("role", "expected"),
    [("hr", 200), ("officer", 404), ("assessor", 404), ("leader", 404), ("trainee", 404), ("anonymous", 302)],
)
def test_only_hr_opens_the_page(people, setup, role, expected):
    pending_award(setup, "E001", "张三")
    response = client_as(people, role).get(reverse(PAGE))
    assert response.status_code == expected
    if role == "anonymous":
        assert "/login/" in response["Location"]
    if expected != 200:
        assert "张三" not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "decided"),
    [
        ("hr", True),
        ("officer", False),
        ("assessor", False),
        ("leader", False),
        ("trainee", False),
        ("anonymous", False),
    ],
)
def test_only_hr_approves_or_rejects(people, setup, role, decided):
    first, second = (pending_award(setup, f"E00{i}", f"工人{i}") for i in range(2))
    client = client_as(people, role)
    client.post(reverse(PAGE), {"approve": first.pk})
    client.post(reverse(PAGE), {"bulk": "reject", "selected": [second.pk], "bulk_reason": "不符"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (("awarded", "rejected") if decided else ("pending", "pending"))
