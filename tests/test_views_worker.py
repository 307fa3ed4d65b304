import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certifications.clearance.rules import RuleVersion, annual_hours_required
from certifications.models import ComplianceRule, RankRecord
from certifications.progress import worker as progress
from certifications.ranks import rules
from certifications.ranks.wording import requirement_text
from tests.factories import (
    AssessmentFactory,
    AttendanceFactory,
    CertificateFactory,
    HonourFactory,
    MentorshipFactory,
    RankRecordFactory,
    ResultFactory,
    TradeFactory,
    TrainingClassFactory,
    WorkerTradeFactory,
    make_ladder,
)
from tests.site_fixtures import TODAY, build_mine, explanation
from training.models import TrainingClass


@pytest.fixture
def mine(db):
    return build_mine()


@pytest.fixture
def trade(mine):
    trade = TradeFactory(code="ZCWXDG", name="综采维修电工")
    WorkerTradeFactory(worker=mine.trainee, trade=trade, started_on=dt.date(2016, 3, 1))
    return trade


@pytest.fixture
def explained(monkeypatch, mine, trade):
    exp = explanation(mine.trainee, trade)
    monkeypatch.setattr(
        progress, "worker_explanations", lambda *, worker, on: [exp] if worker.pk == mine.trainee.pk else []
    )
    return exp


def req(kind, status, label, required=None, actual=None, **kw):
    return rules.Requirement(kind, status, label, required, actual, **kw)


class TestRequirementWords:
    def test_a_passed_exam_reads_score_at_or_above_the_pass_mark(self):
        text = requirement_text(req(rules.Kind.THEORY, rules.Status.MET, "Theory exam", Decimal("60"), Decimal("78.0")))
        assert text == "Theory exam 78 ≥ 60 ✓"

    def test_a_failed_exam_reads_below_the_pass_mark_with_the_resits_left(self):
        text = requirement_text(
            req(rules.Kind.PRACTICAL, rules.Status.UNMET, "Practical exam", Decimal("60"), Decimal("55"), resits_left=1)
        )
        assert text == "Practical exam 55 < 60 — one re-sit left ✗"

    def test_the_engines_own_detail_replaces_the_resit_wording(self):
        text = requirement_text(
            req(
                rules.Kind.PRACTICAL,
                rules.Status.UNMET,
                "Practical exam",
                Decimal("60"),
                Decimal("55"),
                resits_left=0,
                detail="re-sits used up: retrain",
            )
        )
        assert text == "Practical exam 55 < 60 — re-sits used up: retrain ✗"

    def test_an_exam_never_sat_offers_no_resit(self):
        text = requirement_text(
            req(rules.Kind.THEORY, rules.Status.UNMET, "Theory exam", Decimal("60"), None, resits_left=1)
        )
        assert text == "Theory exam not taken yet (pass mark 60) ✗"

    def test_a_missed_exam_counts_as_an_attempt_and_offers_the_resit(self):
        text = requirement_text(
            req(
                rules.Kind.THEORY,
                rules.Status.UNMET,
                "Theory exam",
                Decimal("60"),
                None,
                resits_left=1,
                evidence=("result:7",),
            )
        )
        assert text == "Theory exam not taken yet (pass mark 60) — one re-sit left ✗"

    def test_an_exam_not_yet_taken_says_so(self):
        text = requirement_text(req(rules.Kind.THEORY, rules.Status.UNMET, "Theory exam", Decimal("60"), None))
        assert text == "Theory exam not taken yet (pass mark 60) ✗"

    def test_a_course_reads_hours_done_of_hours_required(self):
        text = requirement_text(
            req(rules.Kind.COURSE, rules.Status.UNMET, "综采设备维护", Decimal("40"), Decimal("24"))
        )
        assert text == "综采设备维护 24/40 hours ✗"

    def test_time_at_level_names_the_date_it_is_met(self):
        met = requirement_text(req(rules.Kind.TIME, rules.Status.MET, "Time at level", met_on=dt.date(2027, 3, 1)))
        later = requirement_text(
            req(rules.Kind.TIME, rules.Status.PENDING, "Time at level", met_on=dt.date(2027, 3, 1))
        )
        assert met == "Time at level met on 2027-03-01 ✓"
        assert later == "Time at level will be met on 2027-03-01 ◐"


class TestAnnualHours:
    """The one annual-hours rule (clearance rules.annual_hours_required), as every page reads it."""

    def rule(self, **kw):
        return RuleVersion(id=None, name="r", **kw)

    def test_a_rule_for_the_category_beats_a_rule_for_everyone(self):
        found = annual_hours_required(
            (
                self.rule(effective_from=dt.date(2025, 1, 1), annual_hours=Decimal("20")),
                self.rule(effective_from=dt.date(2020, 1, 1), category="safety_manager", annual_hours=Decimal("16")),
            ),
            category="safety_manager",
            on=TODAY,
        )
        assert found == Decimal("16")

    def test_a_rule_not_yet_in_force_is_ignored_and_the_latest_wins(self):
        found = annual_hours_required(
            (
                self.rule(effective_from=dt.date(2018, 1, 1), annual_hours=Decimal("20")),
                self.rule(effective_from=dt.date(2024, 1, 1), annual_hours=Decimal("24")),
                self.rule(effective_from=dt.date(2027, 1, 1), annual_hours=Decimal("40")),
            ),
            category="other",
            on=TODAY,
        )
        assert found == Decimal("24")

    def test_a_rule_for_the_trade_beats_one_for_the_category(self):
        found = annual_hours_required(
            (
                self.rule(effective_from=dt.date(2018, 1, 1), category="other", annual_hours=Decimal("20")),
                self.rule(effective_from=dt.date(2018, 1, 1), trade_id=7, annual_hours=Decimal("30")),
            ),
            category="other",
            trade_id=7,
            on=TODAY,
        )
        assert found == Decimal("30")

    def test_without_any_rule_workers_need_twenty_hours_and_managers_sixteen(self):
        assert annual_hours_required((), category="other", on=TODAY) == Decimal("20")
        assert annual_hours_required((), category="principal", on=TODAY) == Decimal("16")
        assert annual_hours_required((), category="safety_manager", on=TODAY) == Decimal("16")


def test_a_trainee_sees_their_rank_and_every_requirement_for_the_next(client, mine, explained, today):
    client.force_login(mine.trainee.user)
    response = client.get(reverse("certifications:me"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "综采维修电工" in html
    assert "Next rank: 高级工" in html
    assert 'value="25"' in html  # one of four requirements met
    assert "Theory exam 78 ≥ 60 ✓" in html
    assert "Practical exam 55 &lt; 60 — one re-sit left ✗" in html
    assert "综采设备维护 24/40 hours ✗" in html
    assert "Time at level will be met on 2027-03-01" in html


def test_the_worker_page_shows_hours_this_year_against_the_requirement(client, mine, trade, today):
    ComplianceRule.objects.create(name="2018", effective_from=dt.date(2018, 1, 1), annual_hours=Decimal("20"))
    AttendanceFactory(
        worker=mine.trainee,
        training_class=TrainingClassFactory(start=dt.date(2026, 3, 2), kind=TrainingClass.Kind.ANNUAL),
        theory_hours=Decimal("8"),
        practical_hours=Decimal("4"),
    )
    AttendanceFactory(  # skill upgrading: not annual retraining
        worker=mine.trainee,
        training_class=TrainingClassFactory(
            start=dt.date(2026, 5, 2), end=dt.date(2026, 5, 9), kind=TrainingClass.Kind.UPSKILL
        ),
        theory_hours=Decimal("40"),
    )
    AttendanceFactory(
        worker=mine.trainee,
        training_class=TrainingClassFactory(start=dt.date(2025, 3, 2), end=dt.date(2025, 3, 5)),
        theory_hours=Decimal("30"),
        practical_hours=Decimal("0"),
    )
    client.force_login(mine.trainee.user)
    page = client.get(reverse("certifications:me")).context["page"]
    assert page.hours_this_year == Decimal("12")
    assert page.hours_required == Decimal("20")
    assert not page.hours_met
    assert page.hours_percent == 60


def test_the_worker_page_draws_the_score_history_and_escapes_names(client, mine, today):
    for i, score in enumerate(["55", "78"]):
        ResultFactory(
            worker=mine.trainee,
            score=Decimal(score),
            assessment=AssessmentFactory(name='<script>alert("x")</script>', held_on=dt.date(2026, 1 + i, 10)),
        )
    client.force_login(mine.trainee.user)
    html = client.get(reverse("certifications:me")).content.decode()
    assert "<svg" in html and 'role="img"' in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<circle") == 2


def test_the_worker_page_counts_days_to_review_and_builds_a_timeline(client, mine, trade, today):
    CertificateFactory(
        worker=mine.trainee, next_review_due=TODAY + dt.timedelta(days=45), valid_until=dt.date(2029, 5, 5)
    )
    HonourFactory(worker=mine.trainee, title="矿级技术能手", awarded_on=dt.date(2025, 9, 1))
    rank = make_ladder()[1]
    RankRecordFactory(worker=mine.trainee, trade=trade, rank=rank, awarded_on=dt.date(2022, 6, 1))
    AttendanceFactory(worker=mine.trainee)
    ResultFactory(worker=mine.trainee)
    client.force_login(mine.trainee.user)
    response = client.get(reverse("certifications:me"))
    html = response.content.decode()
    assert "in 45 days" in html
    assert "中级工" in html
    kinds = {entry.kind for entry in response.context["page"].timeline}
    assert kinds == {"class", "exam", "rank", "honour", "certificate"}


def test_a_pending_award_is_shown_as_awaiting_hr(client, mine, trade, today):
    RankRecordFactory(
        worker=mine.trainee, trade=trade, rank=make_ladder()[0], status=RankRecord.Status.PENDING, awarded_on=None
    )
    client.force_login(mine.trainee.user)
    assert "awaiting HR approval" in client.get(reverse("certifications:me")).content.decode()


def test_a_user_without_a_worker_gets_404_on_me(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("certifications:me")).status_code == 404


def _fill_history(worker, trade, n, *, ranks=True):
    ladder = make_ladder()
    for i in range(n):
        course_class = TrainingClassFactory(
            start=dt.date(2026, 1, 1) + dt.timedelta(days=i), end=dt.date(2026, 1, 1) + dt.timedelta(days=i)
        )
        AttendanceFactory(worker=worker, training_class=course_class)
        ResultFactory(
            worker=worker,
            assessment=AssessmentFactory(course=course_class.course, held_on=course_class.start),
            score=Decimal(50 + i % 50),
        )
        CertificateFactory(worker=worker)
        HonourFactory(worker=worker)
        MentorshipFactory(apprentice=worker, start=course_class.start, planned_end=course_class.start)
    if ranks:
        RankRecordFactory(worker=worker, trade=trade, rank=ladder[0])
        RankRecordFactory(worker=worker, trade=trade, rank=ladder[1])


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Session, user, access checks, navigation, the roll-up (ten), the page (eleven, with the printed file's mine name,
# mentorships and simulator evidence), the practical scoring sheets (two) and the clearance card
# (certifications.clearance.facts.load_facts: eleven): fixed, whatever the history.
WORKER_PAGE_MAX_QUERIES = 39


@pytest.mark.parametrize("rows", [3, 30])
def test_the_worker_page_makes_a_constant_number_of_queries(
    client, mine, trade, today, rows, django_assert_max_num_queries
):
    _fill_history(mine.trainee, trade, rows)
    client.force_login(mine.trainee.user)
    with django_assert_max_num_queries(WORKER_PAGE_MAX_QUERIES):
        response = client.get(reverse("certifications:me"))
    assert len(response.context["page"].results) == rows


def test_the_worker_page_query_count_does_not_grow_with_history(client, mine, trade, today):
    client.force_login(mine.trainee.user)
    _fill_history(mine.trainee, trade, 3)
    few = _count_queries(client, reverse("certifications:me"))
    _fill_history(mine.trainee, trade, 27, ranks=False)
    many = _count_queries(client, reverse("certifications:me"))
    assert few == many
