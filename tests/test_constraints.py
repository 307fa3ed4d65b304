"""Every database constraint rejects a bad row, even one that skips full_clean(); full_clean() rejects it first."""

import datetime as dt
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image

from certifications import models as cert
from tests.factories import (
    AssessmentFactory,
    CertificateFactory,
    CourseFactory,
    ExamCandidateFactory,
    ExamSessionFactory,
    MineFactory,
    PackageFactory,
    PaperSectionFactory,
    PaperTemplateFactory,
    QuestionFactory,
    RankFactory,
    SpecialOperationFactory,
    TradeFactory,
    TrainingClassFactory,
    UnitFactory,
    WorkerFactory,
)
from training import models as tr

D = dt.date


@dataclass
class Case:
    """A valid row (`good`) and the change that breaks one constraint (`bad`)."""

    model: type
    good: Callable[[], dict]
    bad: dict | Callable[[dict], dict]
    # Unique constraints: the good row is saved first and the bad row collides with it.
    collides: bool = False
    extra: dict = field(default_factory=dict)

    def rows(self) -> tuple[dict, dict]:
        good = self.good()
        changes = self.bad(good) if callable(self.bad) else self.bad
        return good, {**good, **changes}


def worker_kwargs():
    return {
        "employee_no": "900001",
        "name": "张伟",
        "name_pinyin": "zhangwei",
        "unit": UnitFactory(),
        "category": tr.PersonnelCategory.OTHER,
        "hire_date": D(2015, 3, 1),
    }


def class_kwargs():
    return {
        "code": "K-1",
        "name": "综采设备维护培训班",
        "course": CourseFactory(),
        "kind": tr.TrainingClass.Kind.UPSKILL,
        "start": D(2026, 3, 2),
        "end": D(2026, 3, 13),
    }


def attendance_kwargs():
    return {
        "training_class": TrainingClassFactory(),
        "worker": WorkerFactory(),
        "theory_hours": Decimal("24"),
        "practical_hours": Decimal("16"),
    }


def assessment_kwargs():
    return {
        "code": "A-1",
        "name": "技能鉴定",
        "kind": cert.Assessment.Kind.THEORY,
        "course": CourseFactory(),
        "held_on": D(2026, 4, 1),
    }


def result_kwargs():
    return {
        "assessment": AssessmentFactory(),
        "worker": WorkerFactory(),
        "score": Decimal("75"),
        "absent": False,
        "attempt": 1,
        "full_marks": Decimal("100"),
    }


def rule_set_kwargs():
    return {"package": PackageFactory(), "name": "2018 标准", "effective_from": D(2018, 1, 1)}


def rank_record_kwargs():
    return {
        "worker": WorkerFactory(),
        "trade": TradeFactory(),
        "rank": RankFactory(),
        "status": cert.RankRecord.Status.AWARDED,
        "awarded_on": D(2020, 6, 1),
    }


def certificate_kwargs():
    return {
        "kind": cert.Certificate.Kind.SPECIAL_OPERATION,
        "number": "T610802199001011234",
        "worker": WorkerFactory(),
        "special_operation": SpecialOperationFactory(),
        "issuing_body": "陕西省应急管理厅",
        "issued_on": D(2023, 5, 6),
        "valid_until": D(2029, 5, 5),
    }


def mentorship_kwargs():
    return {
        "apprentice": WorkerFactory(),
        "mentor": WorkerFactory(),
        "start": D(2026, 1, 5),
        "planned_end": D(2026, 5, 5),
    }


def sitting_kwargs():
    return {"code": "KP20260905-1", "name": "中级工鉴定", "course": CourseFactory(), "theory_on": D(2026, 9, 5)}


def candidate_kwargs():
    return {"sitting": cert.Sitting.objects.create(**sitting_kwargs()), "worker": WorkerFactory()}


def statement_kwargs():
    now = dt.datetime(2026, 9, 5, 1, 0, tzinfo=dt.UTC)
    return {
        "statement_id": uuid.uuid4(),
        "received": {"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}},
        "stored": now,
        "timestamp": now,
        "on": D(2026, 9, 5),
        "actor_key": "mbox:mailto:a@example.cn",
        "verb_id": "http://adlnet.gov/expapi/verbs/completed",
        "status": "unmapped",
    }


def worker_trade_kwargs():
    return {"worker": WorkerFactory(), "trade": TradeFactory(), "is_primary": True, "started_on": D(2015, 3, 1)}


def png_file(name: str) -> SimpleUploadedFile:
    """A real one-pixel PNG (an ImageField checks the picture)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def exam_session_kwargs():
    opens = dt.datetime(2026, 9, 5, 8, tzinfo=dt.UTC)
    return {
        "name": "机考",
        "template": PaperTemplateFactory(),
        "assessment": AssessmentFactory(),
        "opens_at": opens,
        "closes_at": opens + dt.timedelta(hours=2),
    }


def attempt_kwargs():
    start = dt.datetime(2026, 9, 5, 8, 5, tzinfo=dt.UTC)
    return {
        "candidate": ExamCandidateFactory(),
        "number": 1,
        "started_at": start,
        "deadline": start + dt.timedelta(minutes=60),
        "full_marks": Decimal("100"),
    }


def scheme_kwargs():
    return {"name": "实操评分表", "trade": TradeFactory(), "rank": RankFactory(), "effective_from": D(2026, 1, 1)}


def item_kwargs():
    scheme = cert.ScoringScheme.objects.create(**scheme_kwargs())
    return {"scheme": scheme, "name": "验电放电", "points": Decimal("30"), "per_mistake": Decimal("10")}


def sheet_kwargs():
    from tests.practical_setup import practical_build

    p = practical_build(candidates=1)
    return {
        "uuid": "5f0c6a53-1b52-4f7e-9a55-0d0b5c1f2a11",
        "sitting": p.sitting,
        "assessment": p.sitting.practical,
        "worker": p.workers[0],
        "assessor": p.assessor,
        "scheme": p.scheme,
        "full_points": Decimal("100"),
        "total": Decimal("90"),
        "score": Decimal("90"),
        "passed": True,
        "content_hash": "0" * 64,
    }


def deduction_kwargs():
    sheet = cert.ScoringSheet.objects.create(**sheet_kwargs())
    return {"sheet": sheet, "item": sheet.scheme.items.first(), "points": Decimal("5"), "mistakes": 1}


def moderation_kwargs():
    first = cert.ScoringSheet.objects.create(**sheet_kwargs())
    second = cert.ScoringSheet.objects.create(
        **{**sheet_kwargs(), "uuid": "5f0c6a53-1b52-4f7e-9a55-0d0b5c1f2a12", "status": "moderation"}
    )
    return {"recorded": first, "second": second}


CASES: dict[str, Case] = {
    # Practical scoring sheets (certifications/models/practical.py).
    "scoring_scheme_has_subject": Case(cert.ScoringScheme, scheme_kwargs, {"trade": None}),
    "scoring_item_points_not_negative": Case(cert.ScoringItem, item_kwargs, {"per_mistake": Decimal("-1")}),
    "scoring_item_has_points": Case(cert.ScoringItem, item_kwargs, {"points": Decimal("0")}),
    "scoring_sheet_total_within_full": Case(cert.ScoringSheet, sheet_kwargs, {"total": Decimal("120")}),
    "scoring_sheet_critical_fails": Case(
        cert.ScoringSheet, sheet_kwargs, lambda good: {"critical_item": good["scheme"].items.get(name="未验电")}
    ),
    "score_deduction_once_per_item": Case(cert.ScoreDeduction, deduction_kwargs, {}, collides=True),
    "scoring_moderation_resolved_chooses": Case(cert.ScoringModeration, moderation_kwargs, {"status": "resolved"}),
    # training
    "unit_only_mine_is_root": Case(
        tr.Unit,
        lambda: {"code": "D-1", "name": "综采一队", "kind": tr.Unit.Kind.PRODUCTION_TEAM, "parent": MineFactory()},
        {"parent": None},
    ),
    "unit_not_own_parent": Case(
        tr.Unit,
        lambda: {"id": 9001, "code": "D-1", "name": "综采一队", "kind": "production_team", "parent": MineFactory()},
        {"parent": tr.Unit(id=9001)},
    ),
    "course_hours_not_negative": Case(
        tr.Course,
        lambda: {
            "code": "JD-001",
            "title": "电工基础",
            "theory_hours": Decimal("32"),
            "practical_hours": Decimal("16"),
        },
        {"practical_hours": Decimal("-1")},
    ),
    "package_one_per_trade_and_rank": Case(
        tr.TrainingPackage,
        lambda: {"code": "P-1", "name": "套餐", "trade": TradeFactory(), "rank": RankFactory()},
        {"code": "P-2"},
        collides=True,
    ),
    "package_course_once": Case(
        tr.PackageCourse,
        lambda: {"package": PackageFactory(), "course": CourseFactory()},
        {},
        collides=True,
    ),
    "package_course_hours_not_negative": Case(
        tr.PackageCourse,
        lambda: {"package": PackageFactory(), "course": CourseFactory(), "theory_hours": Decimal("8")},
        {"theory_hours": Decimal("-8")},
    ),
    "worker_underground_after_hire": Case(tr.Worker, worker_kwargs, {"underground_start": D(2015, 2, 28)}),
    "away_end_after_start": Case(
        tr.AwayPeriod,
        lambda: {"worker": WorkerFactory(), "start": D(2025, 3, 1), "end": D(2025, 9, 1)},
        {"end": D(2025, 2, 1)},
    ),
    "worker_trade_once": Case(tr.WorkerTrade, worker_trade_kwargs, {"is_primary": False}, collides=True),
    "worker_one_primary_trade": Case(
        tr.WorkerTrade, worker_trade_kwargs, lambda good: {"trade": TradeFactory()}, collides=True
    ),
    "worker_trade_end_after_start": Case(tr.WorkerTrade, worker_trade_kwargs, {"ended_on": D(2015, 1, 1)}),
    "class_end_after_start": Case(tr.TrainingClass, class_kwargs, {"end": D(2026, 3, 1)}),
    "class_capacity_positive": Case(tr.TrainingClass, class_kwargs, {"capacity": 0}),
    "attendance_once_per_class": Case(tr.Attendance, attendance_kwargs, {}, collides=True),
    "attendance_hours_not_negative": Case(tr.Attendance, attendance_kwargs, {"theory_hours": Decimal("-1")}),
    # certifications
    "assessment_full_marks_positive": Case(
        cert.Assessment, assessment_kwargs, {"full_marks": Decimal("0"), "pass_mark": Decimal("0")}
    ),
    "assessment_pass_mark_within_full": Case(cert.Assessment, assessment_kwargs, {"pass_mark": Decimal("101")}),
    "assessment_has_subject": Case(cert.Assessment, assessment_kwargs, {"course": None}),
    "result_one_per_attempt": Case(cert.AssessmentResult, result_kwargs, {"score": Decimal("80")}, collides=True),
    "result_score_within_full_marks": Case(cert.AssessmentResult, result_kwargs, {"score": Decimal("100.5")}),
    "result_attempt_positive": Case(cert.AssessmentResult, result_kwargs, {"attempt": 0}),
    "rule_set_one_per_date": Case(cert.RuleSet, rule_set_kwargs, {"name": "2018 标准（修订）"}, collides=True),
    "rule_set_pass_marks_in_range": Case(cert.RuleSet, rule_set_kwargs, {"practical_pass_mark": Decimal("120")}),
    "rule_set_composite_complete": Case(cert.RuleSet, rule_set_kwargs, {"theory_weight": Decimal("40")}),
    "rank_record_one_live_per_rank": Case(
        cert.RankRecord,
        rank_record_kwargs,
        {"status": cert.RankRecord.Status.PENDING, "awarded_on": None},
        collides=True,
    ),
    "rank_record_awarded_has_date": Case(cert.RankRecord, rank_record_kwargs, {"awarded_on": None}),
    "certificate_number_unique_per_kind": Case(
        cert.Certificate, certificate_kwargs, lambda good: {"worker": WorkerFactory()}, collides=True
    ),
    "certificate_valid_after_issue": Case(cert.Certificate, certificate_kwargs, {"valid_until": D(2023, 5, 5)}),
    "certificate_special_operation_named": Case(cert.Certificate, certificate_kwargs, {"special_operation": None}),
    "review_hours_not_negative": Case(
        cert.CertificateReview,
        lambda: {
            "certificate": CertificateFactory(),
            "reviewed_on": D(2026, 4, 1),
            "outcome": cert.CertificateReview.Outcome.PASSED,
            "training_hours": Decimal("8"),
        },
        {"training_hours": Decimal("-8")},
    ),
    "mentorship_not_self": Case(cert.Mentorship, mentorship_kwargs, lambda good: {"mentor": good["apprentice"]}),
    "mentorship_end_after_start": Case(cert.Mentorship, mentorship_kwargs, {"planned_end": D(2025, 12, 31)}),
    "mentorship_sign_off_after_start": Case(cert.Mentorship, mentorship_kwargs, {"signed_off_on": D(2025, 12, 31)}),
    "sitting_has_subject": Case(cert.Sitting, sitting_kwargs, {"course": None}),
    "sitting_has_a_date": Case(cert.Sitting, sitting_kwargs, {"theory_on": None}),
    "sitting_pass_marks_within_full": Case(cert.Sitting, sitting_kwargs, {"theory_pass_mark": Decimal("120")}),
    "sitting_candidate_once": Case(cert.SittingCandidate, candidate_kwargs, {}, collides=True),
    "rank_evaluation_once": Case(
        cert.RankEvaluation,
        lambda: {
            "worker": WorkerFactory(),
            "trade": TradeFactory(),
            "evaluated_on": D(2026, 6, 1),
            "started_on": D(2015, 3, 1),
            "rules_fingerprint": "0" * 32,
        },
        {"evaluated_on": D(2026, 6, 2)},
        collides=True,
    ),
    "reminder_once_per_bucket": Case(
        cert.ReminderLog,
        lambda: {
            "recipient": "hr@example.com",
            "item_key": "cert:12:review:2026-05-05",
            "bucket": "30",
            "due_on": D(2026, 5, 5),
            "sent_on": D(2026, 4, 10),
        },
        {"sent_on": D(2026, 4, 11)},
        collides=True,
    ),
    # online theory exams
    "question_difficulty_1_to_5": Case(cert.Question, lambda: {"kind": "single", "stem_key": "q"}, {"difficulty": 6}),
    "question_version_once": Case(
        cert.QuestionVersion,
        lambda: {"question": QuestionFactory(text={}), "number": 2, "stem": "题干", "answer": "A"},
        {"stem": "另一个题干"},
        collides=True,
    ),
    "question_image_one_per_slot": Case(
        cert.QuestionImage,
        lambda: {"version": QuestionFactory().versions.get(), "slot": "A", "image": png_file("a.png")},
        lambda good: {"image": png_file("b.png")},
        collides=True,
    ),
    "section_quota_says_what": Case(
        cert.SectionQuota,
        lambda: {"section": PaperSectionFactory(), "difficulty": 2, "count": 1},
        {"difficulty": None},
    ),
    "fixed_question_once": Case(
        cert.FixedQuestion,
        lambda: {"template": PaperTemplateFactory(), "question": QuestionFactory(), "order": 1, "marks": Decimal("2")},
        {"order": 2},
        collides=True,
    ),
    "exam_session_closes_after_opening": Case(
        cert.ExamSession, exam_session_kwargs, lambda good: {"closes_at": good["opens_at"]}
    ),
    "exam_candidate_once": Case(
        cert.ExamCandidate, lambda: {"session": ExamSessionFactory(), "worker": WorkerFactory()}, {}, collides=True
    ),
    "attempt_once_per_number": Case(cert.Attempt, attempt_kwargs, {}, collides=True),
    "attempt_deadline_after_start": Case(cert.Attempt, attempt_kwargs, lambda good: {"deadline": good["started_at"]}),
    "attempt_question_place_once": Case(
        cert.AttemptQuestion,
        lambda: {
            "attempt": cert.Attempt.objects.create(**attempt_kwargs()),
            "question_version": QuestionFactory().versions.get(),
            "order": 1,
            "marks": Decimal("2"),
        },
        lambda good: {"question_version": QuestionFactory().versions.get()},
        collides=True,
    ),
    # Simulators (xAPI).
    "simulator_actor_account_or_mbox": Case(
        cert.SimulatorActor,
        lambda: {"mbox": "mailto:a@example.cn", "actor_key": "mbox:mailto:a@example.cn", "worker": WorkerFactory()},
        {"home_page": "https://vr.example.cn"},
    ),
    "simulator_activity_maps_something": Case(
        cert.SimulatorActivity,
        lambda: {"activity_iri": "https://vr.example.cn/a", "course": CourseFactory(delivery="simulation")},
        {"course": None},
    ),
    "simulator_statement_scaled_in_range": Case(
        cert.SimulatorStatement, statement_kwargs, {"score_scaled": Decimal("1.5")}
    ),
    "simulator_statement_duration_not_negative": Case(
        cert.SimulatorStatement, statement_kwargs, {"duration_seconds": Decimal("-1")}
    ),
    # Field-level uniqueness HR relies on.
    "worker_employee_no_unique": Case(tr.Worker, worker_kwargs, {"name": "李娜", "name_pinyin": "lina"}, collides=True),
    "course_code_unique": Case(
        tr.Course, lambda: {"code": "JD-001", "title": "电工基础"}, {"title": "电工基础（新）"}, collides=True
    ),
}


def test_every_database_constraint_has_a_case():
    models = [m for app in ("training", "certifications") for m in apps.get_app_config(app).get_models()]
    names = {constraint.name for model in models for constraint in model._meta.constraints}
    assert names - CASES.keys() == set()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_database_rejects_a_bad_row_saved_without_full_clean(name):
    case = CASES[name]
    good, bad = case.rows()
    with transaction.atomic():
        # The good row is fine: the failure below is down to the change alone.
        case.model(**good).save()
        if not case.collides:
            transaction.set_rollback(True)
    with pytest.raises(IntegrityError), transaction.atomic():
        case.model(**bad).save()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_full_clean_rejects_the_same_bad_row(name):
    case = CASES[name]
    good, bad = case.rows()
    if case.collides:
        case.model.objects.create(**good)
    else:
        case.model(**good).full_clean()
    with pytest.raises(ValidationError):
        case.model(**bad).full_clean()


@pytest.mark.django_db
def test_a_revoked_rank_record_makes_room_for_a_new_one():
    good = rank_record_kwargs()
    cert.RankRecord.objects.create(**{**good, "status": cert.RankRecord.Status.REVOKED})
    cert.RankRecord.objects.create(**good)
    assert cert.RankRecord.objects.filter(worker=good["worker"]).count() == 2


@pytest.mark.django_db
def test_an_absent_result_without_a_score_is_accepted_but_one_with_a_score_is_not():
    good = result_kwargs()
    cert.AssessmentResult.objects.create(**{**good, "score": None, "absent": True})
    with pytest.raises(IntegrityError), transaction.atomic():
        cert.AssessmentResult.objects.create(**{**good, "attempt": 2, "score": Decimal("50"), "absent": True})
