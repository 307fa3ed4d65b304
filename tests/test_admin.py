"""The HR admin: every model is registered, and every page renders in a bounded number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certifications import models as cert
from certifications.simulators.services import credential_create
from certifications.sittings.services import candidates_add, sitting_save
from tests.factories import (
    AssessmentFactory,
    AttendanceFactory,
    CatalogFactory,
    CertificateFactory,
    CertificateReviewFactory,
    CourseFactory,
    HonourFactory,
    MentorshipFactory,
    PackageCourseFactory,
    PackageFactory,
    RankFactory,
    RankRecordFactory,
    ResultFactory,
    RuleSetFactory,
    TradeFactory,
    TrainingClassFactory,
    UserFactory,
    WorkerFactory,
    WorkerTradeFactory,
)
from training import models as tr
from training.admin_mixins import InputGuardMixin

# Whatever the number of rows, no admin page may need more than this.
MAX_QUERIES = 30

# ApiToken has its own create-once flow, owned by the clearance API; ReminderLog is written only by send_reminders;
# RankEvaluation is the roll-up's own bookkeeping (what it last evaluated), written only by ranks_recompute.
# QuestionVersion and QuestionImage are written through the question's page only (the bank's door): read-only lists.
# SimulatorStatement is written only by simulators, and read-only here (tests/test_simulators_xapi.py counts its list).
# Attempts, their questions and events are written by the exam door only; the attempt's admin page is their
# read-only audit (tests/test_exam_audit.py counts its queries).
NOT_EDITED_HERE = {
    "ApiToken",
    "ReminderLog",
    "RankEvaluation",
    "QuestionVersion",
    "QuestionImage",
    "SimulatorStatement",
    "Attempt",
    "AttemptQuestion",
    "AttemptEvent",
}
# Parts of a paper template, edited inline on its page only: no admin of their own.
INLINE_ONLY = {"PaperSection", "SectionQuota", "FixedQuestion"}
MODELS = [
    model
    for app in ("training", "certifications")
    for model in apps.get_app_config(app).get_models()
    if not model.__name__.startswith("Historical") and model.__name__ not in NOT_EDITED_HERE | INLINE_ONLY
]


def world(size: int) -> dict:
    """Create one of every model; the parents get `size` child rows each (attendance, results, lines…)."""
    worker = WorkerFactory()
    trade, rank, course = TradeFactory(), RankFactory(), CourseFactory()
    package = PackageFactory(trade=trade, rank=rank, catalog=CatalogFactory())
    package.catalog.courses.add(course)
    training_class = TrainingClassFactory(course=course, organiser=worker.unit)
    assessment = AssessmentFactory(course=course, trade=trade, rank=rank)
    certificate = CertificateFactory(worker=worker)
    trade.special_operations.add(certificate.special_operation)
    sitting = sitting_save(
        cert.Sitting(
            name="中级工鉴定", trade=trade, rank=rank, theory_on=dt.date(2026, 9, 5), practical_on=dt.date(2026, 9, 12)
        )
    )
    for i in range(size):
        other = WorkerFactory(unit=worker.unit)
        WorkerTradeFactory(worker=other, trade=trade)  # the sitting's page weighs who of them is ready
        candidates_add(sitting=sitting, worker_ids=[other.pk])
        AttendanceFactory(training_class=training_class, worker=other)
        ResultFactory(assessment=assessment, worker=other)
        PackageCourseFactory(package=package)
        CertificateReviewFactory(certificate=certificate, reviewed_on=dt.date(2020, 1, 1) + dt.timedelta(days=i))
        WorkerTradeFactory(worker=worker, trade=TradeFactory(), is_primary=i == 0)
        ResultFactory(worker=worker, assessment=AssessmentFactory(course=course))
        RankRecordFactory(worker=worker, trade=trade, rank=RankFactory())
        CertificateFactory(worker=worker, special_operation=certificate.special_operation)
        tr.AwayPeriod.objects.create(worker=worker, start=dt.date(2019, 1, 1) + dt.timedelta(days=10 * i))
    rows = {
        tr.Unit: worker.unit,
        tr.SpecialOperation: certificate.special_operation,
        tr.Rank: rank,
        tr.Trade: trade,
        tr.Course: course,
        tr.Catalog: package.catalog,
        tr.TrainingPackage: package,
        tr.PackageCourse: package.lines.first(),
        tr.Worker: worker,
        tr.WorkerTrade: worker.worker_trades.first(),
        tr.AwayPeriod: worker.away_periods.first(),
        tr.TrainingClass: training_class,
        tr.Attendance: training_class.attendances.first(),
        cert.Assessment: assessment,
        cert.AssessmentResult: assessment.results.first(),
        cert.ComprehensiveReview: cert.ComprehensiveReview.objects.create(
            worker=worker, trade=trade, rank=rank, held_on=dt.date(2025, 5, 1), passed=True
        ),
        cert.RuleSet: RuleSetFactory(package=package),
        cert.RankRecord: worker.rank_records.first(),
        cert.Certificate: certificate,
        cert.CertificateReview: certificate.reviews.first(),
        cert.Honour: HonourFactory(worker=worker),
        cert.Mentorship: MentorshipFactory(apprentice=WorkerFactory(unit=worker.unit), mentor=worker),
        cert.ComplianceRule: cert.ComplianceRule.objects.create(
            name="煤矿安全培训规定", effective_from=dt.date(2018, 1, 1)
        ),
        cert.Sitting: sitting,
        cert.SittingCandidate: sitting.candidates.first(),
        cert.Question: _bank_question(size),
        cert.SimulatorCredential: credential_create(name="综采VR", key=f"vr-{size}")[0],
        cert.SimulatorActor: cert.SimulatorActor.objects.create(
            home_page="https://vr.example.cn",
            account_name=f"A{size}",
            actor_key=f"account:https://vr.example.cn|A{size}",
            worker=worker,
        ),
        cert.SimulatorActivity: cert.SimulatorActivity.objects.create(
            activity_iri=f"https://vr.example.cn/activities/{size}",
            course=CourseFactory(delivery=tr.Course.Delivery.SIMULATION),
            assessment=AssessmentFactory(course=course, kind="practical"),
        ),
        **_practical_rows(size),
    }
    rows.update(exam_world(size, trade, rank, worker.unit))
    return rows


def _bank_question(size: int):
    """A bank question with `size` versions, each shown on a paper before the next edit (issue 16)."""
    from certifications.exams.bank import question_create, question_update
    from tests.factories import ExamCandidateFactory

    question = question_create(kind="single", stem="井下供电应做到哪一项？", options=["甲", "乙", "丙"], answer="A")
    candidate = ExamCandidateFactory()
    now = dt.datetime(2026, 9, 5, 9, tzinfo=dt.UTC)
    for i in range(size):
        attempt = cert.Attempt.objects.create(
            candidate=candidate, number=i + 1, started_at=now, deadline=now + dt.timedelta(hours=1), full_marks=100
        )
        cert.AttemptQuestion.objects.create(attempt=attempt, question_version=question.current, order=1, marks=2)
        question_update(question, stem=f"井下供电应做到哪一项？（第{i + 2}版）")
    return question


def exam_world(size: int, trade, rank, unit) -> dict:
    """A paper template with `size` sections (each with a mix) and a session with `size` candidates."""
    from tests.factories import ExamCandidateFactory, ExamSessionFactory, PaperSectionFactory, PaperTemplateFactory

    template = PaperTemplateFactory(trade=trade, rank=rank)
    session = ExamSessionFactory(template=template)
    for i in range(size):
        section = PaperSectionFactory(template=template, order=i + 1, count=2)
        section.quotas.create(difficulty=3, count=1)
        ExamCandidateFactory(session=session, worker=WorkerFactory(unit=unit))
    return {cert.PaperTemplate: template, cert.ExamSession: session, cert.ExamCandidate: session.candidates.first()}


def _practical_rows(size: int) -> dict:
    """A scheme with `size` more items, and two assessors' sheets with a deduction on each item."""
    from certifications.practical.services import sheet_input_parse, sheet_sync
    from tests.practical_setup import practical_build, sheet_payload

    p = practical_build()
    for i in range(size):
        cert.ScoringItem.objects.create(scheme=p.scheme, order=10 + i, name=f"项目{i}", points=1, per_mistake=1)
    items = list(p.scheme.items.filter(critical=False))
    for user in (p.assessor, p.second_assessor):
        payload = sheet_payload(p, p.workers[0], marks=[(item, 1, 0) for item in items])
        sheet_sync(data=sheet_input_parse(payload, user=user), user=user)
    sheet = cert.ScoringSheet.objects.filter(sitting=p.sitting).order_by("pk").first()
    return {
        cert.ScoringScheme: p.scheme,
        cert.ScoringItem: items[0],
        cert.ScoringSheet: sheet,
        cert.ScoreDeduction: sheet.deductions.first(),
        cert.ScoringModeration: cert.ScoringModeration.objects.get(second__sitting=p.sitting),
    }


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# Read-only evidence: no add page.
NO_ADD = {"ScoringSheet", "ScoreDeduction", "ScoringModeration"}


def pages(model, obj) -> dict[str, str]:
    found = {
        "changelist": admin_url(model, "changelist"),
        "add": admin_url(model, "add"),
        "change": admin_url(model, "change", obj.pk),
    }
    if model.__name__ in NO_ADD:
        del found["add"]
    return found


def count_queries(client, url: str, assert_max_queries) -> int:
    with assert_max_queries(MAX_QUERIES), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_every_model_is_registered_in_the_admin():
    every = [m for m in apps.get_models() if m._meta.app_label in ("training", "certifications")]
    missing = [m.__name__ for m in every if m not in admin.site._registry and not m.__name__.startswith("Historical")]
    # RankEvaluation: the roll-up's bookkeeping, no HR record (docs/ranks.md, "At a group's scale").
    # AttemptQuestion, AttemptEvent: shown on their attempt's audit page (certifications/exams/admin_attempts.py).
    shown_elsewhere = {"RankEvaluation", "AttemptQuestion", "AttemptEvent"} | INLINE_ONLY
    assert sorted(set(missing) - shown_elsewhere) in ([], ["ApiToken"]), missing


def test_every_admin_and_inline_answers_bad_input_with_a_message():
    """A new ModelAdmin or inline without InputGuardMixin fails here (tests/test_fuzz_forms.py shows what it guards)."""
    unguarded = [
        f"{model._meta.label}: {type(model_admin).__name__}"
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, InputGuardMixin)
    ]
    unguarded += [
        f"{model._meta.label}: {inline.__name__}"
        for model, model_admin in admin.site._registry.items()
        for inline in model_admin.inlines
        if not issubclass(inline, InputGuardMixin)
    ]
    assert unguarded == []


@pytest.mark.django_db
def test_every_admin_import_has_the_permission_django_import_export_checks():
    """Without it only superusers could import (the code is IMPORT_EXPORT_IMPORT_PERMISSION_CODE)."""
    missing = []
    for model, model_admin in admin.site._registry.items():
        if hasattr(model_admin, "import_action"):
            codename = get_permission_codename(settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE, model._meta)
            if not Permission.objects.filter(content_type__app_label=model._meta.app_label, codename=codename).exists():
                missing.append(f"{model._meta.app_label}.{codename}")
    assert missing == []


def test_the_admin_site_is_titled_kuangjiang():
    assert str(admin.site.site_header) == "Kuangjiang 矿匠"


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_its_pages_render_for_hr_and_superuser_in_queries_that_do_not_grow_with_rows(
    client, hr_user, superuser, model, django_assert_max_num_queries
):
    small = world(3)
    users = (hr_user, superuser)
    before = {}
    for user in users:
        client.force_login(user)
        for url in pages(model, small[model]).values():
            client.get(url)  # warm the per-process caches (content types, permissions)
        before[user.username] = {
            page: count_queries(client, url, django_assert_max_num_queries)
            for page, url in pages(model, small[model]).items()
        }
    big = world(30)
    for user in users:
        client.force_login(user)
        after = {
            page: count_queries(client, url, django_assert_max_num_queries)
            for page, url in pages(model, big[model]).items()
        }
        assert after == before[user.username], f"{user.username}: queries grew with the rows"


@pytest.mark.django_db
def test_hr_finds_a_worker_by_chinese_name_pinyin_or_employee_number(hr_client):
    zhang = WorkerFactory(name="张伟", employee_no="100001")
    li = WorkerFactory(name="李娜", employee_no="200002")
    url = admin_url(tr.Worker, "changelist")
    for term, found, missing in (
        ("张伟", zhang, li),
        ("zhang", zhang, li),
        ("zhang wei", zhang, li),
        ("200002", li, zhang),
        ("lina", li, zhang),
    ):
        listed = list(hr_client.get(url, {"q": term}).context["cl"].result_list)
        assert found in listed and missing not in listed, term


@pytest.mark.django_db
def test_hr_finds_results_and_attendance_by_worker_pinyin_and_course_code(hr_client):
    course = CourseFactory(code="JD-004")
    zhang = WorkerFactory(name="张伟")
    result = ResultFactory(worker=zhang, assessment=AssessmentFactory(course=course))
    other_result = ResultFactory(worker=WorkerFactory(name="李娜"))
    attendance = AttendanceFactory(worker=zhang, training_class=TrainingClassFactory(course=course))
    other_attendance = AttendanceFactory(worker=WorkerFactory(name="王强"))
    for model, found, missing in (
        (cert.AssessmentResult, result, other_result),
        (tr.Attendance, attendance, other_attendance),
    ):
        for term in ("zhangwei", "JD-004"):
            listed = list(hr_client.get(admin_url(model, "changelist"), {"q": term}).context["cl"].result_list)
            assert found in listed and missing not in listed, (model.__name__, term)


@pytest.mark.django_db
def test_a_department_filter_includes_the_crews_below_it(hr_client):
    crew = WorkerFactory().unit
    outsider = WorkerFactory()
    insider = WorkerFactory(unit=tr.Unit.objects.create(code="C-1", name="检修班", kind="crew", parent=crew))
    response = hr_client.get(admin_url(tr.Worker, "changelist"), {"unit": crew.pk})
    listed = list(response.context["cl"].result_list)
    assert insider in listed and outsider not in listed


@pytest.mark.django_db
def test_adding_a_worker_in_the_admin_fills_the_pinyin(hr_client):
    unit = WorkerFactory().unit
    data = {
        "employee_no": "300003",
        "name": "赵磊",
        "unit": unit.pk,
        "category": tr.PersonnelCategory.OTHER,
        "status": tr.Worker.Status.ACTIVE,
        "hire_date": "2020-03-01",
    }
    for prefix in ("worker_trades", "away_periods"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = hr_client.post(admin_url(tr.Worker, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert tr.Worker.objects.get(employee_no="300003").name_pinyin == "zhaolei"


@pytest.mark.django_db
def test_an_absent_result_reads_absent_in_the_list(hr_client):
    ResultFactory(score=None, absent=True)
    response = hr_client.get(admin_url(cert.AssessmentResult, "changelist"))
    assert "Absent" in response.content.decode()


@pytest.mark.django_db
def test_an_assessor_sees_only_the_assessments_they_examine(client):
    assessor = UserFactory(username="examiner", role="assessor", is_staff=True)
    mine, theirs = AssessmentFactory(), AssessmentFactory()
    mine.examiners.add(assessor)
    ResultFactory(assessment=mine, score=Decimal("80"))
    ResultFactory(assessment=theirs, score=Decimal("70"))
    client.force_login(assessor)
    listed = list(client.get(admin_url(cert.Assessment, "changelist")).context["cl"].result_list)
    results = list(client.get(admin_url(cert.AssessmentResult, "changelist")).context["cl"].result_list)
    assert listed == [mine]
    assert [r.assessment for r in results] == [mine]
