"""
Assessments and their results, the rule sets that turn them into skill-rank
records, certificates with their reviews, honours, mentoring and the
compliance rules that decide whether a worker is cleared for post.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.ranges import between
from core.versions import version_field
from training.models import MAX_HOURS, PersonnelCategory, Rank, SpecialOperation, Trade, TrainingPackage, Worker
from training.softdelete import AllRowsManager, LiveManager, SoftDeletable, SoftDeleteQuerySet

from .exams import *  # noqa: F403 — one module per concern, its models exported by its __all__
from .practical import *  # noqa: F403 — one module per concern, its models exported by its __all__
from .simulators import *  # noqa: F403 — one module per concern, re-exported here (its __all__)

SCORE = {"max_digits": 5, "decimal_places": 1}
HUNDRED = Decimal("100")
# The ranges of numbers (issue 12): the same on SQLite and PostgreSQL, and what makes sense.
MAX_MARKS = 1000
MAX_ATTEMPT = 99
MARKS = between(0, MAX_MARKS)
FULL_MARKS = between(Decimal("0.1"), MAX_MARKS)
PERCENT = between(0, 100)
HOURS = between(0, MAX_HOURS)
YEARS = between(0, 60)
MONTHS = between(0, 120)


class Assessment(models.Model):
    """An exam sitting, theory or practical, for a course, a trade × rank or a special operation."""

    version = version_field()

    class Kind(models.TextChoices):
        THEORY = "theory", _("Theory")
        PRACTICAL = "practical", _("Practical")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    course = models.ForeignKey(
        "training.Course",
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    rank = models.ForeignKey(
        Rank, verbose_name=_("rank"), null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    special_operation = models.ForeignKey(
        SpecialOperation,
        verbose_name=_("special operation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    held_on = models.DateField(_("date"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    examiners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("examiners"), blank=True, related_name="examined_assessments"
    )
    full_marks = models.DecimalField(_("full marks"), default=HUNDRED, validators=FULL_MARKS, **SCORE)
    pass_mark = models.DecimalField(_("pass mark"), default=Decimal("60"), validators=MARKS, **SCORE)

    class Meta:
        verbose_name = _("assessment")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("assessments")
        ordering = ["-held_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(full_marks__gt=0),
                name="assessment_full_marks_positive",
                violation_error_message=_("Full marks must be above 0."),
            ),
            models.CheckConstraint(
                condition=Q(pass_mark__gte=0) & Q(pass_mark__lte=F("full_marks")),
                name="assessment_pass_mark_within_full",
                violation_error_message=_("The pass mark cannot be above full marks."),
            ),
            models.CheckConstraint(
                condition=Q(course__isnull=False)
                | Q(trade__isnull=False, rank__isnull=False)
                | Q(special_operation__isnull=False),
                name="assessment_has_subject",
                violation_error_message=_(
                    "Say what the assessment is for: a course, a trade and rank, or a special operation."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def natural_key(self):
        return (self.code,)

    def clean(self):
        # "Say what the assessment is for" is the constraint assessment_has_subject's message.
        if self.pass_mark is not None and self.full_marks is not None and self.pass_mark > self.full_marks:
            raise ValidationError({"pass_mark": _("The pass mark cannot be above full marks.")})


def passed_q(prefix: str = "", pass_mark: str | None = None) -> Q:
    """
    The one "passed", as SQL: present and at or above the sitting's pass mark
    (AssessmentResult.passed is the same rule in Python). `prefix` reaches the
    result from another model ("results__"); `pass_mark` names the pass mark's
    path when the query already stands on the assessment.
    """
    mark = pass_mark or f"{prefix}assessment__pass_mark"
    return Q(**{f"{prefix}absent": False, f"{prefix}score__isnull": False, f"{prefix}score__gte": F(mark)})


class ResultQuerySet(SoftDeleteQuerySet):
    def passed(self):
        """The results that passed (passed_q)."""
        return self.filter(passed_q())


class AssessmentResult(SoftDeletable):
    """One worker's score (or absence, 缺考) at one attempt of an assessment."""

    objects = LiveManager.from_queryset(ResultQuerySet)()
    all_objects = AllRowsManager.from_queryset(ResultQuerySet)()

    version = version_field()

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="results"
    )
    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="results")
    score = models.DecimalField(_("score"), null=True, blank=True, validators=MARKS, **SCORE)
    absent = models.BooleanField(_("absent"), default=False)
    attempt = models.PositiveSmallIntegerField(
        _("attempt"),
        default=1,
        validators=between(1, MAX_ATTEMPT),
        help_text=_("1 for the first sitting, 2 for the first re-sit."),
    )
    # Copied from the assessment so the database itself can bound the score.
    full_marks = models.DecimalField(_("full marks"), default=HUNDRED, editable=False, validators=FULL_MARKS, **SCORE)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assessment result")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("assessment results")
        ordering = ["-assessment__held_on", "worker__employee_no", "attempt"]
        indexes = [models.Index(fields=["worker", "assessment"], name="result_worker_assessment")]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "worker", "attempt"],
                condition=Q(deleted_at__isnull=True),
                name="result_one_per_attempt",
                violation_error_message=_("This worker already has a result for this attempt of this assessment."),
            ),
            models.CheckConstraint(
                condition=Q(absent=True, score__isnull=True)
                | Q(absent=False, score__isnull=False, score__gte=0, score__lte=F("full_marks")),
                name="result_score_within_full_marks",
                violation_error_message=_("A result has a score from 0 to full marks, or is absent with no score."),
            ),
            models.CheckConstraint(
                condition=Q(attempt__gte=1),
                name="result_attempt_positive",
                violation_error_message=_("The attempt is a whole number from 1."),
            ),
        ]

    def __str__(self):
        return f"{self.worker.name} · {self.assessment.code} #{self.attempt}"

    def clean(self):
        if self.assessment_id:
            self.full_marks = self.assessment.full_marks
        if self.absent:
            if self.score is not None:
                raise ValidationError({"score": _("An absent worker has no score; clear the score or untick absent.")})
        elif self.score is None:
            raise ValidationError({"score": _("Enter a score, or tick absent (缺考).")})
        elif not (0 <= self.score <= self.full_marks):
            raise ValidationError(
                {"score": _("Score %(score)s is outside 0–%(full)s.") % {"score": self.score, "full": self.full_marks}}
            )

    @property
    def passed(self) -> bool:
        return not self.absent and self.score is not None and self.score >= self.assessment.pass_mark


class Sitting(models.Model):
    """
    An exam event HR creates once (考核批次): what it assesses, the theory and
    practical dates (either may be absent), examiners, marks and a roster. Its
    theory and practical assessments underneath are what results are recorded
    against, so the rules and the history work as for any assessment.
    """

    version = version_field()

    code = models.CharField(
        _("code"),
        max_length=24,
        unique=True,
        blank=True,
        # The results sheet's title row carries the code between spaces and separators: it must not contain them.
        validators=[
            RegexValidator(
                r"^[^\s:：·,，;；()（）\[\]【】]+$",
                _("A code has no spaces and none of : ： · , ， ; ； ( ) （ ） [ ] 【 】."),
            )
        ],
        help_text=_("Printed on the results sheet; left empty, one is made from the date (e.g. KP20260905-1)."),
    )
    name = models.CharField(_("name"), max_length=200)
    course = models.ForeignKey(
        "training.Course",
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sittings",
    )
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="sittings"
    )
    rank = models.ForeignKey(
        Rank, verbose_name=_("rank"), null=True, blank=True, on_delete=models.PROTECT, related_name="sittings"
    )
    special_operation = models.ForeignKey(
        SpecialOperation,
        verbose_name=_("special operation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sittings",
    )
    theory_on = models.DateField(_("theory exam date"), null=True, blank=True)
    practical_on = models.DateField(_("practical exam date"), null=True, blank=True)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    examiners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("examiners"), blank=True, related_name="examined_sittings"
    )
    theory_full_marks = models.DecimalField(_("theory full marks"), default=HUNDRED, validators=FULL_MARKS, **SCORE)
    theory_pass_mark = models.DecimalField(
        _("theory pass mark"),
        null=True,
        blank=True,
        validators=MARKS,
        help_text=_("Empty: taken from the rule set in force on the exam date."),
        **SCORE,
    )
    practical_full_marks = models.DecimalField(
        _("practical full marks"), default=HUNDRED, validators=FULL_MARKS, **SCORE
    )
    practical_pass_mark = models.DecimalField(
        _("practical pass mark"),
        null=True,
        blank=True,
        validators=MARKS,
        help_text=_("Empty: taken from the rule set in force on the exam date."),
        **SCORE,
    )
    theory = models.OneToOneField(
        Assessment,
        verbose_name=_("theory assessment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="theory_sitting",
        help_text=_("Empty: created from the theory date. Choose one to link an assessment that already exists."),
    )
    practical = models.OneToOneField(
        Assessment,
        verbose_name=_("practical assessment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="practical_sitting",
        help_text=_("Empty: created from the practical date. Choose one to link an assessment that already exists."),
    )
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appraisal sitting")
        verbose_name_plural = _("appraisal sittings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=False)
                | Q(trade__isnull=False, rank__isnull=False)
                | Q(special_operation__isnull=False),
                name="sitting_has_subject",
                violation_error_message=_(
                    "Say what the sitting is for: a course, a trade and rank, or a special operation."
                ),
            ),
            models.CheckConstraint(
                condition=Q(theory_on__isnull=False) | Q(practical_on__isnull=False),
                name="sitting_has_a_date",
                violation_error_message=_("Give the theory date, the practical date, or both."),
            ),
            models.CheckConstraint(
                condition=(Q(theory_pass_mark__isnull=True) | Q(theory_pass_mark__lte=F("theory_full_marks")))
                & (Q(practical_pass_mark__isnull=True) | Q(practical_pass_mark__lte=F("practical_full_marks"))),
                name="sitting_pass_marks_within_full",
                violation_error_message=_("The pass mark cannot be above full marks."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}".strip()

    def natural_key(self):
        return (self.code,)

    @property
    def exam_date(self):
        """The last exam day of the sitting: the day a candidate can have both results."""
        return max(d for d in (self.theory_on, self.practical_on) if d is not None) if self.dated else None

    @property
    def dated(self) -> bool:
        return self.theory_on is not None or self.practical_on is not None

    def clean(self):
        errors = {}
        for kind in ("theory", "practical"):
            full, mark = getattr(self, f"{kind}_full_marks"), getattr(self, f"{kind}_pass_mark")
            if full is not None and mark is not None and mark > full:
                errors[f"{kind}_pass_mark"] = _("The pass mark cannot be above full marks.")
        if self.trade_id and not self.rank_id:
            errors["rank"] = _("Name the rank the trade is appraised at.")
        if errors:
            raise ValidationError(errors)


class SittingCandidate(models.Model):
    """One worker on the roster of a sitting, and how they came to be on it."""

    version = version_field()

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        UNIT = "unit", _("Added with the unit")
        CLASS = "class", _("Added from a class's attendance")
        READY = "ready", _("Ready for the rank")

    sitting = models.ForeignKey(
        Sitting, verbose_name=_("appraisal sitting"), on_delete=models.CASCADE, related_name="candidates"
    )
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="sitting_places"
    )
    source = models.CharField(_("added"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("roster")
        ordering = ["sitting", "worker__employee_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["sitting", "worker"],
                name="sitting_candidate_once",
                violation_error_message=_("This worker is already on the roster of this sitting."),
            ),
        ]

    def __str__(self):
        return f"{self.sitting.code} · {self.worker}"


class ComprehensiveReview(models.Model):
    """The outcome of a comprehensive review (综合评审) for 技师 and above, as HR records it."""

    version = version_field()

    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="comprehensive_reviews"
    )
    trade = models.ForeignKey(Trade, verbose_name=_("trade"), on_delete=models.PROTECT, related_name="+")
    rank = models.ForeignKey(Rank, verbose_name=_("rank"), on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("date"))
    passed = models.BooleanField(_("passed"))
    panel = models.CharField(_("panel"), max_length=200, blank=True)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("comprehensive review")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("comprehensive reviews")
        ordering = ["-held_on"]

    def __str__(self):
        return f"{self.worker.name} · {self.trade} {self.rank} · {self.held_on}"


class RuleSet(models.Model):
    """
    What earns one rank in one trade, from a date on. Versions coexist; the one
    in force on the evaluation date applies. Every part is optional.
    """

    version = version_field()

    package = models.ForeignKey(
        TrainingPackage, verbose_name=_("training package"), on_delete=models.PROTECT, related_name="rule_sets"
    )
    name = models.CharField(_("version"), max_length=100, help_text=_("e.g. 2018 标准 or 2022 新八级"))
    effective_from = models.DateField(_("effective from"))
    require_package = models.BooleanField(_("package completed"), default=True)
    min_electives = models.PositiveSmallIntegerField(_("electives required"), default=0, validators=between(0, 100))
    require_theory = models.BooleanField(_("theory exam required"), default=True)
    theory_pass_mark = models.DecimalField(_("theory pass mark"), default=Decimal("60"), validators=PERCENT, **SCORE)
    require_practical = models.BooleanField(_("practical exam required"), default=True)
    practical_pass_mark = models.DecimalField(
        _("practical pass mark"), default=Decimal("60"), validators=PERCENT, **SCORE
    )
    resit_limit = models.PositiveSmallIntegerField(
        _("re-sits allowed"),
        default=1,
        validators=between(0, 20),
        help_text=_("Once used up, the worker must retrain before a new attempt counts."),
    )
    exam_valid_months = models.PositiveSmallIntegerField(
        _("exam valid for (months)"),
        null=True,
        blank=True,
        validators=between(1, 600),
        help_text=_("Empty: a passed exam never lapses."),
    )
    theory_weight = models.DecimalField(
        _("theory weight %"),
        null=True,
        blank=True,
        max_digits=5,
        decimal_places=2,
        validators=PERCENT,
    )
    practical_weight = models.DecimalField(
        _("practical weight %"),
        null=True,
        blank=True,
        max_digits=5,
        decimal_places=2,
        validators=PERCENT,
    )
    composite_pass_mark = models.DecimalField(
        _("composite pass mark"), null=True, blank=True, validators=PERCENT, **SCORE
    )
    years_at_previous_rank = models.DecimalField(
        _("years at previous rank"),
        null=True,
        blank=True,
        max_digits=4,
        decimal_places=1,
        validators=YEARS,
    )
    years_in_trade = models.DecimalField(
        _("or years in the trade"),
        null=True,
        blank=True,
        max_digits=4,
        decimal_places=1,
        validators=YEARS,
        help_text=_("Either time requirement satisfies the rule when both are set."),
    )
    require_review = models.BooleanField(_("comprehensive review required"), default=False)
    allow_direct_entry = models.BooleanField(
        _("direct entry allowed"), default=False, help_text=_("Allow the rank without holding the rank below it.")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        ordering = ["package", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["package", "effective_from"], name="rule_set_one_per_date"),
            models.CheckConstraint(
                condition=Q(theory_pass_mark__gte=0)
                & Q(theory_pass_mark__lte=100)
                & Q(practical_pass_mark__gte=0)
                & Q(practical_pass_mark__lte=100),
                name="rule_set_pass_marks_in_range",
                violation_error_message=_("Pass marks lie between 0 and 100."),
            ),
            models.CheckConstraint(
                condition=Q(theory_weight__isnull=True, practical_weight__isnull=True, composite_pass_mark__isnull=True)
                | Q(theory_weight__isnull=False, practical_weight__isnull=False, composite_pass_mark__isnull=False),
                name="rule_set_composite_complete",
                violation_error_message=_("Give both weights and the composite pass mark, or none of them."),
            ),
        ]

    def __str__(self):
        return f"{self.package} · {self.name}"

    def clean(self):
        weights = (self.theory_weight, self.practical_weight, self.composite_pass_mark)
        # "Give both weights and the composite pass mark, or none" is the constraint rule_set_composite_complete's.
        if all(w is not None for w in weights) and self.theory_weight + self.practical_weight != 100:
            raise ValidationError(_("The theory and practical weights must add up to 100."))


class RankRecord(SoftDeletable):
    """A worker's rank in one trade, with the evidence and rule version it was awarded on."""

    version = version_field()

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        AWARDED = "awarded", _("Awarded")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    class Source(models.TextChoices):
        ENGINE = "engine", _("Roll-up engine")
        MANUAL = "manual", _("Entered by HR")
        IMPORT = "import", _("Imported")

    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="rank_records")
    trade = models.ForeignKey(Trade, verbose_name=_("trade"), on_delete=models.PROTECT, related_name="rank_records")
    rank = models.ForeignKey(Rank, verbose_name=_("rank"), on_delete=models.PROTECT, related_name="rank_records")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ENGINE)
    awarded_on = models.DateField(_("awarded on"), null=True, blank=True)
    certificate_no = models.CharField(_("certificate number"), max_length=40, blank=True)
    rule_set = models.ForeignKey(
        RuleSet,
        verbose_name=_("rule set"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rank_records",
    )
    # A frozen copy of the explanation the award rests on, so rule edits never rewrite history.
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    needs_review = models.BooleanField(_("needs HR review"), default=False)
    review_reason = models.CharField(_("why it needs review"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("skill-rank record")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("skill-rank records")
        ordering = ["worker__employee_no", "trade__code", "-rank__order"]
        indexes = [models.Index(fields=["status", "worker"], name="rank_record_status_worker")]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "trade", "rank"],
                condition=Q(status__in=["pending", "awarded"], deleted_at__isnull=True),
                name="rank_record_one_live_per_rank",
                violation_error_message=_(
                    "This worker already has a pending or awarded record for this trade and rank."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="awarded") | Q(awarded_on__isnull=False),
                name="rank_record_awarded_has_date",
                violation_error_message=_("An awarded rank needs the date it was awarded."),
            ),
        ]

    def __str__(self):
        return f"{self.worker.name} · {self.trade} · {self.rank} ({self.get_status_display()})"


class RankEvaluation(models.Model):
    """
    What the roll-up last evaluated for one worker × trade: the fingerprints of
    the evidence and of the trade's rule versions it saw, and when to look
    again. The engine alone writes it (ranks_recompute); a write of the
    worker's evidence marks it stale, so a nightly run evaluates only the
    workers whose evidence, rules or dates changed (docs/ranks.md).
    """

    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.CASCADE, related_name="+")
    trade = models.ForeignKey(Trade, verbose_name=_("trade"), on_delete=models.CASCADE, related_name="+")
    evaluated_on = models.DateField(_("evaluated on"))
    # The worker's start in the trade as evaluated: a changed or new worker trade is found by comparing it.
    started_on = models.DateField(_("in the trade since"))
    # The first date after evaluated_on on which time alone may change the outcome (time at level, a lapse,
    # a rule set coming into force, a class or exam dated later); empty when none.
    due_on = models.DateField(_("due on"), null=True, blank=True)
    stale = models.BooleanField(_("marked by a write"), default=False)
    rules_fingerprint = models.CharField(_("fingerprint of the rule versions"), max_length=32)
    evidence_fingerprint = models.CharField(_("fingerprint of the evidence"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("rank evaluation")
        verbose_name_plural = _("rank evaluations")
        constraints = [models.UniqueConstraint(fields=["worker", "trade"], name="rank_evaluation_once")]
        indexes = [
            models.Index(fields=["due_on"], name="rank_evaluation_due"),
            models.Index(fields=["worker"], condition=Q(stale=True), name="rank_evaluation_stale"),
        ]

    def __str__(self):
        return f"{self.worker_id} · {self.trade_id} ({self.evaluated_on})"


class Certificate(SoftDeletable):
    """A certificate a worker holds: special operation, skill level, safety-management assessment or honour."""

    version = version_field()

    class Kind(models.TextChoices):
        SPECIAL_OPERATION = "special_operation", _("Special-operation certificate")
        SKILL_LEVEL = "skill_level", _("Skill-level certificate")
        SAFETY_MANAGEMENT = "safety_management", _("Safety-management assessment")
        HONOUR = "honour", _("Honour certificate")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=40)
    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="certificates")
    special_operation = models.ForeignKey(
        SpecialOperation,
        verbose_name=_("special operation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    rank = models.ForeignKey(
        Rank, verbose_name=_("rank"), null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    issuing_body = models.CharField(_("issuing body"), max_length=200)
    first_issued_on = models.DateField(_("first issued on"), null=True, blank=True)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    extended_review_approved = models.BooleanField(
        _("6-year review approved"),
        default=False,
        help_text=_("≥ 10 years in the same trade with a clean record, and approved."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("certificate")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("certificates")
        ordering = ["valid_until", "number"]
        indexes = [
            models.Index(fields=["worker", "kind"], name="certificate_worker_kind"),
            models.Index(fields=["next_review_due"], name="certificate_review_due"),
            models.Index(fields=["valid_until"], name="certificate_valid_until"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "number"],
                condition=Q(deleted_at__isnull=True),
                name="certificate_number_unique_per_kind",
                violation_error_message=_("A certificate of this kind with this number already exists."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("issued_on")),
                name="certificate_valid_after_issue",
                violation_error_message=_("A certificate cannot expire before it is issued."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="special_operation") | Q(special_operation__isnull=False),
                name="certificate_special_operation_named",
                violation_error_message=_("Name the special operation this certificate is for."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def natural_key(self):
        return (self.kind, self.number)

    def clean(self):
        if self.kind == self.Kind.SPECIAL_OPERATION and not self.special_operation_id:
            raise ValidationError({"special_operation": _("Name the special operation this certificate is for.")})
        if self.valid_until and self.issued_on and self.valid_until < self.issued_on:
            raise ValidationError({"valid_until": _("A certificate cannot expire before it is issued.")})


class CertificateReview(models.Model):
    """A review (复审) of a certificate: a record of what happened, never an edit of its dates."""

    version = version_field()

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    certificate = models.ForeignKey(
        Certificate, verbose_name=_("certificate"), on_delete=models.PROTECT, related_name="reviews"
    )
    reviewed_on = models.DateField(_("reviewed on"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    training_hours = models.DecimalField(
        _("review training hours"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("0"),
        validators=HOURS,
    )
    reviewer = models.CharField(_("reviewing body"), max_length=200, blank=True)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("certificate review")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("certificate reviews")
        ordering = ["certificate", "-reviewed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(training_hours__gte=0),
                name="review_hours_not_negative",
                violation_error_message=_("Hours cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.certificate.number} · {self.reviewed_on} · {self.get_outcome_display()}"


class Honour(SoftDeletable):
    """An honour a worker earned, e.g. 全国煤炭行业技术能手."""

    version = version_field()

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        INDUSTRY = "industry", _("Industry")
        PROVINCE = "province", _("Province")
        GROUP = "group", _("Group")
        MINE = "mine", _("Mine")

    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="honours")
    title = models.CharField(_("title"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    awarding_body = models.CharField(_("awarding body"), max_length=200)
    document_no = models.CharField(_("document number"), max_length=100, blank=True)
    awarded_on = models.DateField(_("awarded on"))
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("honour")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("honours")
        ordering = ["-awarded_on"]

    def __str__(self):
        return f"{self.worker.name} · {self.title}"


class Mentorship(models.Model):
    """A mentor–apprentice pair (师带徒) and the sign-off that lets the apprentice work alone."""

    version = version_field()

    apprentice = models.ForeignKey(
        Worker, verbose_name=_("apprentice"), on_delete=models.PROTECT, related_name="mentorships"
    )
    mentor = models.ForeignKey(Worker, verbose_name=_("mentor"), on_delete=models.PROTECT, related_name="apprentices")
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateField(_("from"))
    planned_end = models.DateField(_("planned end"))
    signed_off_on = models.DateField(_("signed off on"), null=True, blank=True)
    signed_off_by = models.CharField(_("signed off by"), max_length=100, blank=True)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mentorship")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("mentorships")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(apprentice=F("mentor")),
                name="mentorship_not_self",
                violation_error_message=_("A worker cannot mentor themselves."),
            ),
            models.CheckConstraint(
                condition=Q(planned_end__gte=F("start")),
                name="mentorship_end_after_start",
                violation_error_message=_("A mentorship cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(signed_off_on__isnull=True) | Q(signed_off_on__gte=F("start")),
                name="mentorship_sign_off_after_start",
                violation_error_message=_("A mentorship cannot be signed off before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.mentor.name} → {self.apprentice.name}"


class ComplianceRule(models.Model):
    """
    Statutory numbers for clearance (docs/domain.md §2), versioned by effective date
    and optionally narrowed to a personnel category or a trade.
    """

    version = version_field()

    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("effective from"))
    category = models.CharField(
        _("personnel category"),
        max_length=20,
        choices=PersonnelCategory.choices,
        blank=True,
        help_text=_("Empty: every category."),
    )
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    initial_hours = models.DecimalField(
        _("initial training hours"), max_digits=6, decimal_places=1, default=Decimal("72"), validators=HOURS
    )
    annual_hours = models.DecimalField(
        _("annual retraining hours"), max_digits=6, decimal_places=1, default=Decimal("20"), validators=HOURS
    )
    special_initial_hours = models.DecimalField(
        _("special-operation initial hours"), max_digits=6, decimal_places=1, default=Decimal("90"), validators=HOURS
    )
    certificate_valid_years = models.PositiveSmallIntegerField(
        _("certificate valid (years)"), default=6, validators=between(1, 50)
    )
    review_interval_years = models.PositiveSmallIntegerField(
        _("review every (years)"), default=3, validators=between(1, 50)
    )
    extended_review_interval_years = models.PositiveSmallIntegerField(
        _("review every, when extended (years)"), default=6, validators=between(1, 50)
    )
    review_window_days = models.PositiveSmallIntegerField(
        _("review window (days before due)"), default=60, validators=between(0, 366)
    )
    review_training_hours = models.DecimalField(
        _("review training hours"), max_digits=6, decimal_places=1, default=Decimal("8"), validators=HOURS
    )
    review_failures_allowed = models.PositiveSmallIntegerField(
        _("failed reviews before invalid"), default=1, validators=between(0, 20)
    )
    mentoring_months = models.PositiveSmallIntegerField(_("mentoring period (months)"), default=4, validators=MONTHS)
    away_practical_months = models.PositiveSmallIntegerField(
        _("away from special operation: practical exam after (months)"), default=6, validators=MONTHS
    )
    away_retrain_months = models.PositiveSmallIntegerField(
        _("away from post: retraining after (months)"), default=12, validators=MONTHS
    )
    manager_assessment_months = models.PositiveSmallIntegerField(
        _("manager assessment within (months)"), default=6, validators=MONTHS
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")
        ordering = ["-effective_from", "name"]

    def __str__(self):
        return f"{self.name} ({self.effective_from})"


class ReminderLog(models.Model):
    """A reminder already sent: one row per recipient, item and due bucket, so a second run sends nothing new."""

    class Bucket(models.TextChoices):
        OVERDUE = "overdue", _("Overdue")
        DAYS_30 = "30", _("Due within 30 days")
        DAYS_60 = "60", _("Due within 60 days")
        DAYS_90 = "90", _("Due within 90 days")

    recipient = models.EmailField(_("recipient"))
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    item_key = models.CharField(
        _("item"), max_length=120, help_text=_("What fell due, e.g. cert:12:review:2026-05-05.")
    )
    bucket = models.CharField(_("due bucket"), max_length=10, choices=Bucket.choices)
    due_on = models.DateField(_("due on"))
    sent_on = models.DateField(_("sent on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        ordering = ["-sent_on", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "item_key", "bucket"], name="reminder_once_per_bucket"),
        ]

    def __str__(self):
        return f"{self.recipient} · {self.item_key} · {self.bucket}"


class ApiToken(models.Model):
    """
    A token the dispatch system sends to the clearance API. Only a SHA-256 hash
    is stored: the token itself is shown once, when it is created.
    """

    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses it, e.g. 调度系统."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("acts as user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(
        _("prefix"), max_length=8, editable=False, help_text=_("The first characters, to tell tokens apart.")
    )
    key_hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        permissions = [("use_clearance_api", _("Can query the clearance API"))]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
