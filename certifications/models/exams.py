"""
Online theory exams (机考, issue 16): the question bank and its versions, paper
templates (组卷 rules or a fixed paper), exam sessions with their roster, and
each candidate's attempt with the questions it showed, the answers as given and
an audit of every event. The score reaches the roll-up only as an
AssessmentResult written through the results door (certifications/ranks/services.py).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.ranges import between
from core.versions import version_field
from training.models import Course, Rank, Trade, Worker

__all__ = [
    "QUESTION_IMAGE_MAX_BYTES",
    "Attempt",
    "AttemptEvent",
    "AttemptQuestion",
    "ExamCandidate",
    "ExamSession",
    "FixedQuestion",
    "PaperSection",
    "PaperTemplate",
    "Question",
    "QuestionImage",
    "QuestionVersion",
    "SectionQuota",
]

MARKS_EACH = {"max_digits": 5, "decimal_places": 1}
QUESTION_IMAGE_MAX_BYTES = 512 * 1024
OPTION_KEYS = "ABCDEF"


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice (单选)")
    MULTIPLE = "multiple", _("Multiple choice (多选)")
    TRUE_FALSE = "true_false", _("True or false (判断)")
    FILL = "fill", _("Fill in the blank (填空)")


class Question(models.Model):
    """
    One question of the bank: what the paper rules draw on (type, difficulty,
    knowledge point, the trades × ranks and courses it serves, active). Its text
    and answer live in versions: the current one is the highest number.
    """

    Kind = QuestionKind

    version = version_field()

    kind = models.CharField(_("type"), max_length=10, choices=QuestionKind.choices)
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"), default=3, validators=between(1, 5), help_text=_("1 (easiest) to 5 (hardest).")
    )
    knowledge_point = models.CharField(_("knowledge point"), max_length=100, blank=True, db_index=True)
    trades = models.ManyToManyField(Trade, verbose_name=_("trades"), blank=True, related_name="questions")
    ranks = models.ManyToManyField(Rank, verbose_name=_("ranks"), blank=True, related_name="questions")
    courses = models.ManyToManyField(Course, verbose_name=_("courses"), blank=True, related_name="questions")
    active = models.BooleanField(_("active"), default=True, help_text=_("Retired questions are never drawn."))
    # The current version's stem, normalised (core.text-style: width, spaces, punctuation): duplicates are found by it.
    stem_key = models.CharField(_("normalised stem"), max_length=500, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("question bank")
        default_permissions = ("add", "change", "delete", "view", "import")
        ordering = ["kind", "knowledge_point", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5),
                name="question_difficulty_1_to_5",
                violation_error_message=_("Difficulty is from 1 to 5."),
            ),
        ]

    def __str__(self):
        current = self.current
        return f"#{self.pk} {current.stem[:40] if current else ''}"

    @property
    def current(self) -> "QuestionVersion | None":
        """The highest version (prefetch `versions` to read it without a query)."""
        versions = list(self.versions.all())
        return max(versions, key=lambda v: v.number) if versions else None


class QuestionVersion(models.Model):
    """
    The text and answer of a question as it was at one time. Editing a question
    that a paper has shown makes a new version; the sat paper keeps pointing at
    the version it showed.
    """

    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("version"), default=1, validators=between(1, 9999))
    stem = models.TextField(_("stem"), max_length=2000, validators=[MaxLengthValidator(2000)])
    # [{"key": "A", "text": "…"}, …] in the bank's order; empty for true/false and fill-in.
    options = models.JSONField(_("options"), default=list, blank=True)
    # Single: "B"; multiple: "ACD" (sorted keys); true/false: "T" or "F"; fill: the accepted answers, "|"-separated.
    answer = models.CharField(_("correct answer"), max_length=500)
    explanation = models.TextField(
        _("explanation (解析)"), max_length=2000, blank=True, validators=[MaxLengthValidator(2000)]
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("question version")
        verbose_name_plural = _("question versions")
        ordering = ["question", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "number"],
                name="question_version_once",
                violation_error_message=_("This question already has a version with this number."),
            ),
        ]

    def __str__(self):
        return f"#{self.question_id} v{self.number}"

    @property
    def option_keys(self) -> list[str]:
        return [o["key"] for o in self.options]


def question_image_size(file) -> None:
    if file.size > QUESTION_IMAGE_MAX_BYTES:
        raise ValidationError(
            _("The image is %(size)d KB; the limit is %(limit)d KB. Make it smaller and upload it again.")
            % {"size": file.size // 1024, "limit": QUESTION_IMAGE_MAX_BYTES // 1024}
        )


class QuestionImage(models.Model):
    """An image in a version's stem or one of its options, kept with the file storage, size-limited."""

    version = models.ForeignKey(
        QuestionVersion, verbose_name=_("question version"), on_delete=models.CASCADE, related_name="images"
    )
    # "" for the stem, or the option's key (A–F).
    slot = models.CharField(_("where"), max_length=1, blank=True, help_text=_("Empty for the stem, or A–F."))
    image = models.ImageField(
        _("image"),
        upload_to="questions/%Y/%m/",
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "gif", "webp"]), question_image_size],
    )

    class Meta:
        verbose_name = _("question image")
        verbose_name_plural = _("question images")
        ordering = ["version", "slot"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "slot"],
                name="question_image_one_per_slot",
                violation_error_message=_("This part of the question already has an image."),
            ),
        ]

    def __str__(self):
        return f"{self.version} {self.slot or _('stem')}"


class PaperTemplate(models.Model):
    """
    How a paper is made (组卷): sections by question type, each with its number of
    questions, marks each and an optional mix by difficulty and knowledge point,
    drawn at random per candidate from the active questions that serve the
    template's trade × rank (or course) — or a fixed paper, the same for all.
    """

    version = version_field()

    name = models.CharField(_("name"), max_length=200)
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rank = models.ForeignKey(
        Rank, verbose_name=_("rank"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=90, validators=between(1, 600))
    fixed = models.BooleanField(
        _("fixed paper"), default=False, help_text=_("Every candidate gets the questions listed below, in that order.")
    )
    shuffle_options = models.BooleanField(_("shuffle options"), default=True)
    partial_marks = models.BooleanField(
        _("partial marks for multiple choice"),
        default=False,
        help_text=_(
            "Unticked: all or nothing. Ticked: a share of the marks for each correct choice, none if any is wrong."
        ),
    )
    review_after_close = models.BooleanField(
        _("candidates may review after the session closes"),
        default=True,
        help_text=_("Their answers, the correct ones and the explanations."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("paper template")
        verbose_name_plural = _("paper templates")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PaperSection(models.Model):
    """One section of a drawn paper: a question type, how many, marks each."""

    template = models.ForeignKey(
        PaperTemplate, verbose_name=_("paper template"), on_delete=models.CASCADE, related_name="sections"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1, validators=between(1, 999))
    kind = models.CharField(_("type"), max_length=10, choices=QuestionKind.choices)
    count = models.PositiveSmallIntegerField(_("questions"), validators=between(1, 500))
    marks_each = models.DecimalField(_("marks each"), validators=between(Decimal("0.5"), 100), **MARKS_EACH)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["template", "order", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} × {self.count}"


class SectionQuota(models.Model):
    """
    Part of a section's questions that must come from one difficulty and/or one
    knowledge point; the rest of the section is drawn from any.
    """

    section = models.ForeignKey(
        PaperSection, verbose_name=_("section"), on_delete=models.CASCADE, related_name="quotas"
    )
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), null=True, blank=True, validators=between(1, 5))
    knowledge_point = models.CharField(_("knowledge point"), max_length=100, blank=True)
    count = models.PositiveSmallIntegerField(_("questions"), validators=between(1, 500))

    class Meta:
        verbose_name = _("mix")
        verbose_name_plural = _("mix by difficulty and knowledge point")
        ordering = ["section", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__isnull=False) | ~Q(knowledge_point=""),
                name="section_quota_says_what",
                violation_error_message=_("Give a difficulty, a knowledge point, or both."),
            ),
        ]

    def __str__(self):
        return f"{self.knowledge_point or '*'} / {self.difficulty or '*'} × {self.count}"


class FixedQuestion(models.Model):
    """A question on a fixed paper, in order, with its marks."""

    template = models.ForeignKey(
        PaperTemplate, verbose_name=_("paper template"), on_delete=models.CASCADE, related_name="fixed_questions"
    )
    question = models.ForeignKey(Question, verbose_name=_("question"), on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(_("order"), default=1, validators=between(1, 999))
    marks = models.DecimalField(_("marks"), validators=between(Decimal("0.5"), 100), **MARKS_EACH)

    class Meta:
        verbose_name = _("fixed question")
        verbose_name_plural = _("fixed paper")
        ordering = ["template", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "question"],
                name="fixed_question_once",
                violation_error_message=_("This question is already on the paper."),
            ),
        ]

    def __str__(self):
        return f"{self.template} {self.order}"


class ExamSession(models.Model):
    """
    An online theory exam (机考场次): a paper template, the theory assessment it
    records results against (its own, or a sitting's), an opening window, a
    duration and a roster.
    """

    version = version_field()

    name = models.CharField(_("name"), max_length=200)
    template = models.ForeignKey(
        PaperTemplate, verbose_name=_("paper template"), on_delete=models.PROTECT, related_name="sessions"
    )
    assessment = models.ForeignKey(
        "certifications.Assessment",
        verbose_name=_("theory assessment"),
        on_delete=models.PROTECT,
        related_name="exam_sessions",
        help_text=_("The scores are recorded as this assessment's theory results."),
    )
    sitting = models.ForeignKey(
        "certifications.Sitting",
        verbose_name=_("appraisal sitting"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exam_sessions",
        help_text=_("Empty for an assessment of its own; chosen, its roster and theory assessment are used."),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        null=True,
        blank=True,
        validators=between(1, 600),
        help_text=_("Empty: the paper template's."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("online exam session")
        verbose_name_plural = _("online exam sessions")
        ordering = ["-opens_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="exam_session_closes_after_opening",
                violation_error_message=_("The session must close after it opens."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def minutes(self) -> int:
        return self.duration_minutes or self.template.duration_minutes


class ExamCandidate(models.Model):
    """A worker on a session's roster, with the attempts HR allows (1, more when a re-sit is granted)."""

    version = version_field()

    session = models.ForeignKey(
        ExamSession, verbose_name=_("online exam session"), on_delete=models.CASCADE, related_name="candidates"
    )
    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="exam_places")
    attempts_allowed = models.PositiveSmallIntegerField(
        _("attempts allowed"),
        default=1,
        validators=between(1, 21),
        help_text=_("Raised by one for each re-sit HR grants."),
    )
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exam candidate")
        verbose_name_plural = _("exam roster")
        ordering = ["session", "worker__employee_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "worker"],
                name="exam_candidate_once",
                violation_error_message=_("This worker is already on the roster of this session."),
            ),
        ]

    def __str__(self):
        return f"{self.session} · {self.worker}"


class Attempt(models.Model):
    """
    One candidate's sitting of one session's paper: the questions drawn (each
    pinned to the version it showed), the deadline fixed at the start by the
    server, the answers as given, the score and the result it became.
    """

    class Ended(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted by the candidate")
        TIMED_OUT = "timed_out", _("Submitted automatically at time-out")

    # The attempt's address: not guessable, not sequential.
    public_id = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    candidate = models.ForeignKey(
        ExamCandidate, verbose_name=_("exam candidate"), on_delete=models.PROTECT, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField(_("attempt"), default=1, validators=between(1, 21))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended = models.CharField(_("ended"), max_length=10, choices=Ended.choices, blank=True)
    score = models.DecimalField(_("score"), null=True, blank=True, validators=between(0, 1000), **MARKS_EACH)
    full_marks = models.DecimalField(_("full marks"), validators=between(0, 1000), **MARKS_EACH)
    result = models.OneToOneField(
        "certifications.AssessmentResult",
        verbose_name=_("result"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="online_attempt",
    )

    class Meta:
        verbose_name = _("exam attempt")
        verbose_name_plural = _("exam attempts")
        ordering = ["-started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "number"],
                name="attempt_once_per_number",
                violation_error_message=_("This candidate already has this attempt."),
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=F("started_at")),
                name="attempt_deadline_after_start",
                violation_error_message=_("The deadline comes after the start."),
            ),
        ]

    def __str__(self):
        return f"{self.candidate} #{self.number}"

    @property
    def open(self) -> bool:
        return self.ended_at is None


class AttemptQuestion(models.Model):
    """A question as one attempt showed it: the version, its place, marks, the options' order, the answer given."""

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("exam attempt"), on_delete=models.CASCADE, related_name="questions"
    )
    question_version = models.ForeignKey(
        QuestionVersion, verbose_name=_("question version"), on_delete=models.PROTECT, related_name="shown"
    )
    order = models.PositiveSmallIntegerField(_("number"), validators=between(1, 999))
    marks = models.DecimalField(_("marks"), validators=between(0, 100), **MARKS_EACH)
    # The bank's option keys in the order this candidate saw them, e.g. ["C", "A", "D", "B"].
    option_order = models.JSONField(_("options as shown"), default=list, blank=True)
    # The answer in the bank's keys ("B", "AC", "T"/"F", or the text written); "" when not answered.
    answer = models.CharField(_("answer"), max_length=500, blank=True)
    # The client's counter for this question: a save older than the last one kept is ignored (offline replays).
    answer_seq = models.PositiveIntegerField(_("save number"), default=0, validators=between(0, 2_000_000_000))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    flagged = models.BooleanField(_("flagged for review"), default=False)
    awarded = models.DecimalField(_("marks awarded"), null=True, blank=True, validators=between(0, 100), **MARKS_EACH)

    class Meta:
        verbose_name = _("question on a paper")
        verbose_name_plural = _("questions on the paper")
        ordering = ["attempt", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "order"],
                name="attempt_question_place_once",
                violation_error_message=_("Two questions cannot share a number on one paper."),
            ),
        ]

    def __str__(self):
        return f"{self.attempt} Q{self.order}"


class AttemptEvent(models.Model):
    """The audit of an attempt, for disputes: start, every save with its time, flags, submit, time-out."""

    class Kind(models.TextChoices):
        START = "start", _("Started")
        RESUME = "resume", _("Opened again")
        SAVE = "save", _("Answer saved")
        FLAG = "flag", _("Flag changed")
        REFUSED = "refused", _("Save refused")
        SUBMIT = "submit", _("Submitted")
        TIMEOUT = "timeout", _("Submitted at time-out")

    attempt = models.ForeignKey(
        Attempt, verbose_name=_("exam attempt"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    order = models.PositiveSmallIntegerField(_("question"), null=True, blank=True, validators=between(1, 999))
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("attempt event")
        verbose_name_plural = _("attempt audit")
        ordering = ["attempt", "at", "id"]
        indexes = [models.Index(fields=["attempt", "at"], name="attempt_event_time")]

    def __str__(self):
        return f"{self.attempt} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M:%S}"
