"""Factories for test data: every test builds what it needs through these."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from certifications import models as cert
from core.text import pinyin_key
from training import models as tr


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "kuangjiang")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == "training_department":
                self.is_staff = True
        self.save()


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"U{n:03d}")
    name = factory.Sequence(lambda n: f"综采{n}队")
    kind = tr.Unit.Kind.CREW
    parent = factory.LazyFunction(lambda: MineFactory())


class MineFactory(UnitFactory):
    code = "MINE"
    name = "示范煤矿"
    kind = tr.Unit.Kind.MINE
    parent = None


class RankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Rank
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n}")
    name = factory.Sequence(lambda n: f"等级{n}")
    # Ranks order from 0 to 1000 (unique): wrap, so a long run of tests in one process never leaves the range.
    order = factory.Sequence(lambda n: 10 + n % 990)


LADDER = [("L5", "初级工", 5), ("L4", "中级工", 4), ("L3", "高级工", 3), ("L2", "技师", 2), ("L1", "高级技师", 1)]


def make_ladder() -> list[tr.Rank]:
    """Return the five national ranks, lowest first."""
    return [
        tr.Rank.objects.get_or_create(
            code=code,
            defaults={"name": name, "order": (6 - level) * 10, "national_level": level, "high_skill": level <= 3},
        )[0]
        for code, name, level in LADDER
    ]


class SpecialOperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.SpecialOperation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SO{n:02d}")
    name = factory.Sequence(lambda n: f"煤矿特种作业{n}")


class TradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Trade
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"综采维修电工{n}")
    discipline = tr.Trade.Discipline.ELECTROMECHANICAL
    category = tr.PersonnelCategory.OTHER
    underground = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Course
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n:04d}")
    title = factory.Sequence(lambda n: f"综采设备维护{n}")
    theory_hours = Decimal("24")
    practical_hours = Decimal("16")


class CatalogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Catalog

    code = factory.Sequence(lambda n: f"CAT{n}")
    name = factory.Sequence(lambda n: f"2026 机电培训目录 {n}")
    effective_from = dt.date(2026, 1, 1)


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.TrainingPackage

    trade = factory.SubFactory(TradeFactory)
    rank = factory.SubFactory(RankFactory)
    code = factory.LazyAttribute(lambda o: f"{o.trade.code}-{o.rank.code}")
    name = factory.LazyAttribute(lambda o: f"{o.trade.name} {o.rank.name} 培训套餐")


class PackageCourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.PackageCourse

    package = factory.SubFactory(PackageFactory)
    course = factory.SubFactory(CourseFactory)
    theory_hours = Decimal("24")
    practical_hours = Decimal("16")
    mandatory = True


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Worker
        django_get_or_create = ("employee_no",)

    employee_no = factory.Sequence(lambda n: f"E{n:06d}")
    name = factory.Sequence(lambda n: f"张{'伟芳娜敏静强磊军洋勇'[n % 10]}{n}")
    name_pinyin = factory.LazyAttribute(lambda o: pinyin_key(o.name))
    unit = factory.SubFactory(UnitFactory)
    category = tr.PersonnelCategory.OTHER
    hire_date = dt.date(2015, 3, 1)


class WorkerTradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.WorkerTrade

    worker = factory.SubFactory(WorkerFactory)
    trade = factory.SubFactory(TradeFactory)
    is_primary = True
    started_on = dt.date(2015, 3, 1)


class TrainingClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.TrainingClass

    code = factory.Sequence(lambda n: f"K{n:05d}")
    name = factory.LazyAttribute(lambda o: f"{o.course.title} 培训班")
    course = factory.SubFactory(CourseFactory)
    kind = tr.TrainingClass.Kind.UPSKILL
    start = dt.date(2026, 3, 2)
    end = dt.date(2026, 3, 13)


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tr.Attendance

    training_class = factory.SubFactory(TrainingClassFactory)
    worker = factory.SubFactory(WorkerFactory)
    theory_hours = Decimal("24")
    practical_hours = Decimal("16")


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.Assessment

    code = factory.Sequence(lambda n: f"A{n:05d}")
    name = factory.Sequence(lambda n: f"技能鉴定{n}")
    kind = cert.Assessment.Kind.THEORY
    course = factory.SubFactory(CourseFactory)
    held_on = dt.date(2026, 4, 1)


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.AssessmentResult

    assessment = factory.SubFactory(AssessmentFactory)
    worker = factory.SubFactory(WorkerFactory)
    score = Decimal("75")
    absent = False
    attempt = 1
    full_marks = factory.LazyAttribute(lambda o: o.assessment.full_marks)


class RuleSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.RuleSet

    package = factory.SubFactory(PackageFactory)
    name = "2018 标准"
    effective_from = dt.date(2018, 1, 1)


class RankRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.RankRecord

    worker = factory.SubFactory(WorkerFactory)
    trade = factory.SubFactory(TradeFactory)
    rank = factory.SubFactory(RankFactory)
    status = cert.RankRecord.Status.AWARDED
    source = cert.RankRecord.Source.MANUAL
    awarded_on = dt.date(2020, 6, 1)


class CertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.Certificate

    kind = cert.Certificate.Kind.SPECIAL_OPERATION
    number = factory.Sequence(lambda n: f"T{n:017d}")
    worker = factory.SubFactory(WorkerFactory)
    special_operation = factory.SubFactory(SpecialOperationFactory)
    issuing_body = "陕西省应急管理厅"
    issued_on = dt.date(2023, 5, 6)
    valid_until = dt.date(2029, 5, 5)
    next_review_due = dt.date(2026, 5, 5)


class CertificateReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.CertificateReview

    certificate = factory.SubFactory(CertificateFactory)
    reviewed_on = dt.date(2026, 4, 1)
    outcome = cert.CertificateReview.Outcome.PASSED
    training_hours = Decimal("8")


class HonourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.Honour

    worker = factory.SubFactory(WorkerFactory)
    title = "全国煤炭行业技术能手"
    level = cert.Honour.Level.INDUSTRY
    awarding_body = "中国煤炭工业协会"
    awarded_on = dt.date(2025, 9, 1)


class MentorshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.Mentorship

    apprentice = factory.SubFactory(WorkerFactory)
    mentor = factory.SubFactory(WorkerFactory)
    start = dt.date(2026, 1, 5)
    planned_end = dt.date(2026, 5, 5)


# --- online theory exams (issue 16) ----------------------------------------------------------------


class QuestionFactory(factory.django.DjangoModelFactory):
    """A single-choice question with one version (A–D, answer B); `versions__…` is not used: see the post hook."""

    class Meta:
        model = cert.Question
        skip_postgeneration_save = True

    kind = cert.Question.Kind.SINGLE
    difficulty = 3
    knowledge_point = "供电安全"
    stem_key = factory.Sequence(lambda n: f"question {n}")

    @factory.post_generation
    def text(self, create, extracted, **kwargs):
        """QuestionFactory(text={"stem": …, "options": […], "answer": …}) sets the first version's text."""
        if not create:
            return
        values = {
            "stem": f"第{self.pk}题：井下供电应做到哪一项？",
            "options": [{"key": k, "text": f"选项{k}"} for k in "ABCD"],
            "answer": "B",
            "explanation": "见《煤矿安全规程》。",
            **(extracted or {}),
        }
        if self.kind == cert.Question.Kind.TRUE_FALSE and not extracted:
            values.update(options=[], answer="T")
        cert.QuestionVersion.objects.create(question=self, number=1, **values)


class PaperTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.PaperTemplate

    name = factory.Sequence(lambda n: f"电工理论试卷{n}")
    duration_minutes = 60


class PaperSectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.PaperSection

    template = factory.SubFactory(PaperTemplateFactory)
    kind = cert.Question.Kind.SINGLE
    count = 5
    marks_each = Decimal("2")


class ExamSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.ExamSession

    name = factory.Sequence(lambda n: f"机考场次{n}")
    template = factory.SubFactory(PaperTemplateFactory)
    assessment = factory.SubFactory(AssessmentFactory)
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=3))


class ExamCandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cert.ExamCandidate

    session = factory.SubFactory(ExamSessionFactory)
    worker = factory.SubFactory(WorkerFactory)


def signed_version(obj) -> str:
    """The `version` a change form opened now carries for obj (core.versions): what a browser posts back."""
    from concurrency.forms import get_signer  # noqa: PLC0415

    obj.refresh_from_db(fields=["version"])
    return get_signer().sign(obj.version)
