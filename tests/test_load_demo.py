"""load_demo builds a plausible demo mine, and running it again changes nothing."""

import datetime as dt
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F, Q

from certifications import models as cert
from training import models as tr
from training import roles


def every_count() -> dict[str, int]:
    # Every table, history and many-to-many tables included: an update through save() would add history rows.
    counted = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in ("training", "certifications", "auth"):
            counted[model._meta.label] = model._base_manager.count()
    return counted


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the demo twice in one module-wide transaction, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        first_out = StringIO()
        call_command("load_demo", "--force", stdout=first_out)
        first = every_count()
        call_command("load_demo", "--force", stdout=StringIO())
        second = every_count()
        yield {"first": first, "second": second, "output": first_out.getvalue()}
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(demo, db):
    return demo


def test_a_second_run_changes_no_table(demo_db):
    changed = {
        label: (n, demo_db["second"][label]) for label, n in demo_db["first"].items() if demo_db["second"][label] != n
    }
    assert changed == {}


def test_it_prints_a_summary_with_the_logins(demo_db):
    assert "training.Worker" in demo_db["output"]
    assert "kuangjiang" in demo_db["output"]


def test_the_mine_has_departments_with_crews_and_one_team_leader_per_crew(demo_db):
    names = set(tr.Unit.objects.filter(kind__in=["production_team", "office"]).values_list("name", flat=True))
    assert {"综采一队", "掘进二队", "机电科", "通风科"} <= names
    crews = tr.Unit.objects.filter(kind="crew")
    assert crews.count() >= 12
    for crew in crews:
        assert crew.workers.filter(is_team_leader=True).count() == 1, crew


def test_it_has_enough_people_courses_and_trades(demo_db):
    assert tr.Worker.objects.count() >= 300
    assert tr.Course.objects.count() >= 40
    assert tr.Trade.objects.count() >= 10
    assert tr.SpecialOperation.objects.count() == 10
    assert not tr.Course.objects.filter(theory_hours=0, practical_hours=0).exists()
    assert tr.Worker.objects.values("employee_no").distinct().count() == tr.Worker.objects.count()
    assert not tr.Worker.objects.filter(name_pinyin="").exists()
    assert not tr.Worker.objects.filter(name_initials="").exists()


def test_every_trade_has_a_package_for_every_national_rank(demo_db):
    trades = tr.Trade.objects.count()
    for rank in tr.Rank.objects.filter(national_level__isnull=False):
        assert tr.TrainingPackage.objects.filter(rank=rank).count() == trades, rank
    assert not tr.TrainingPackage.objects.filter(lines__isnull=True).exists()
    assert cert.RuleSet.objects.filter(name="2018 标准").count() == tr.TrainingPackage.objects.count()
    assert cert.RuleSet.objects.filter(name="2022 标准", effective_from=dt.date(2022, 6, 1)).exists()


def test_trades_that_need_a_certificate_link_to_their_special_operation(demo_db):
    assert tr.Trade.objects.get(name="井下电钳工").special_operations.get().name == "煤矿井下电气作业"
    assert tr.Trade.objects.get(name="瓦斯检查工").special_operations.get().name == "煤矿瓦斯检查作业"
    assert "电钳工" in tr.Trade.objects.get(name="井下电钳工").alias_list()


def test_results_include_fails_resits_and_absences(demo_db):
    results = cert.AssessmentResult.objects
    assert results.filter(absent=True, score__isnull=True).exists()
    assert results.filter(attempt=2).exists()
    assert results.filter(absent=False, score__lt=F("assessment__pass_mark")).exists()
    assert results.filter(assessment__special_operation__isnull=False, assessment__pass_mark=80).exists()


def test_classes_of_every_kind_have_attendance_some_of_it_partial(demo_db):
    for kind in tr.TrainingClass.Kind.values:
        assert tr.TrainingClass.objects.filter(kind=kind).exists(), kind
    assert tr.Attendance.objects.filter(theory_hours__lt=F("training_class__course__theory_hours")).exists()


def test_some_certificates_fall_due_within_90_days(demo_db):
    today = dt.date.today()
    soon = today + dt.timedelta(days=90)
    due = cert.Certificate.objects.filter(kind="special_operation").filter(
        Q(next_review_due__range=(today, soon)) | Q(valid_until__range=(today, soon))
    )
    assert due.count() >= 10
    assert cert.CertificateReview.objects.exists()
    assert cert.Certificate.objects.filter(kind="skill_level").exists()


def test_ranks_honours_mentoring_and_compliance_rules_are_there(demo_db):
    assert cert.RankRecord.objects.filter(source="import", status="awarded", awarded_on__isnull=False).count() >= 100
    assert cert.Honour.objects.count() >= 5
    assert cert.Mentorship.objects.filter(signed_off_on__isnull=True).exists()
    assert cert.Mentorship.objects.filter(signed_off_on__isnull=False).exists()
    assert cert.ComplianceRule.objects.filter(category="", effective_from=dt.date(2018, 1, 1)).exists()
    assert cert.ComplianceRule.objects.get(category="safety_manager").initial_hours == 48


def test_the_demo_trainee_has_an_online_exam_open_whose_paper_the_bank_can_draw(demo_db):
    from certifications.exams.papers import template_shortfalls

    session = cert.ExamSession.objects.get(candidates__worker__user__username="trainee")
    now = dt.datetime.now(dt.UTC)
    assert session.opens_at <= now < session.closes_at
    assert session.assessment == session.sitting.theory
    assert template_shortfalls(session.template) == []
    assert sum(s.count * s.marks_each for s in session.template.sections.all()) == 100
    assert session.candidates.count() == 6


def test_the_demo_logins_have_their_roles(demo_db):
    expected = {
        "hr": roles.HR,
        "officer": roles.OFFICER,
        "assessor": roles.ASSESSOR,
        "leader": roles.LEADER,
        "trainee": roles.TRAINEE,
    }
    for username, group in expected.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert user.check_password("kuangjiang")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("kuangjiang")
    assert User.objects.get(username="hr").is_staff
    assert not User.objects.get(username="leader").is_staff
    assert User.objects.get(username="assessor").examined_assessments.exists()


def test_the_leader_leads_a_crew_of_the_first_longwall_team_and_the_trainee_works_in_it(demo_db):
    leader = tr.Worker.objects.select_related("unit__parent").get(user__username="leader")
    trainee = tr.Worker.objects.get(user__username="trainee")
    assert leader.is_team_leader and leader.unit.kind == "crew" and leader.unit.parent.name == "综采一队"
    assert trainee.unit_id == leader.unit_id and not trainee.is_team_leader
    assert trainee.attendances.exists() and trainee.results.exists() and trainee.certificates.exists()


@pytest.mark.django_db
def test_it_refuses_to_run_with_debug_off_unless_forced(settings, monkeypatch):
    calls = []
    monkeypatch.setattr("demo.management.commands.load_demo.demo_load", lambda **kw: calls.append(kw) or {})
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())
    assert calls == []
    call_command("load_demo", "--force", stdout=StringIO())
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    assert len(calls) == 2


def test_the_engine_derives_the_ranks_earned_since_the_system_started_and_leaves_a_few_for_hr(demo_db):
    engine = cert.RankRecord.objects.filter(source="engine")
    imported = cert.RankRecord.objects.filter(source="import")
    assert engine.filter(status="awarded").count() >= imported.count() / 2
    assert not imported.filter(awarded_on__gte=dt.date(2020, 1, 1)).exists()
    assert 5 <= engine.filter(status="pending").count() <= 15
    assert all(record.evidence["results"] for record in engine.filter(status="awarded"))
    trainee = tr.Worker.objects.get(user__username="trainee")
    assert trainee.rank_records.filter(source="engine", status="awarded").exists()
