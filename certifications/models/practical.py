"""
Practical scoring sheets (实操评分表): the scheme an assessor scores against,
versioned by effective date, its items and critical items (否决项), and the
sheets filled on the tablet with their per-item deductions. A sheet keeps the
scheme it was scored against; a new version of a scheme is a new scheme.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.ranges import between
from core.versions import version_field
from training.models import Rank, Trade, Worker

__all__ = ["ScoreDeduction", "ScoringItem", "ScoringModeration", "ScoringScheme", "ScoringSheet"]

# As certifications.models' SCORE and MARKS (not imported from there: the package imports this module).
SCORE = {"max_digits": 5, "decimal_places": 1}
MARKS = between(0, 1000)
POINTS = between(0, 1000)
MINUTES = between(0, 1440)
MISTAKES = between(0, 999)
# A drawn signature, as a PNG data URL: a finger's strokes on a small pad stay well under this.
SIGNATURE_MAX_CHARS = 200_000


class ScoringScheme(models.Model):
    """
    A scoring scheme (评分表) for one practical assessment, or for a trade × rank
    from a date on (the one in force on a sitting's practical date applies).
    """

    version = version_field()

    name = models.CharField(_("name"), max_length=200)
    assessment = models.ForeignKey(
        "certifications.Assessment",
        verbose_name=_("practical assessment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scoring_schemes",
        limit_choices_to={"kind": "practical"},
        help_text=_("Empty: the scheme of the trade and rank, for every sitting from its effective date."),
    )
    trade = models.ForeignKey(
        Trade, verbose_name=_("trade"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rank = models.ForeignKey(
        Rank, verbose_name=_("rank"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective_from = models.DateField(_("effective from"))
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("time limit (minutes)"), null=True, blank=True, validators=MINUTES
    )
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring scheme")
        verbose_name_plural = _("scoring schemes")
        default_permissions = ("add", "change", "delete", "view", "import")
        ordering = ["-effective_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assessment__isnull=False) | Q(trade__isnull=False, rank__isnull=False),
                name="scoring_scheme_has_subject",
                violation_error_message=_("Say what the scheme is for: a practical assessment, or a trade and rank."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.effective_from:%Y-%m-%d})"


class ScoringItem(models.Model):
    """
    One line of a scheme: 项目, 考核内容, 配分 and 评分标准 (so many points per
    mistake, per minute over the limit, never more than the item's points), or a
    critical item (否决项) that fails the candidate whatever the total.
    """

    version = version_field()

    scheme = models.ForeignKey(
        ScoringScheme, verbose_name=_("scoring scheme"), on_delete=models.CASCADE, related_name="items"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1, validators=between(0, 999))
    name = models.CharField(_("item"), max_length=100)
    content = models.CharField(_("what is assessed"), max_length=500, blank=True)
    points = models.DecimalField(_("points"), default=Decimal("0"), validators=POINTS, **SCORE)
    criteria = models.CharField(_("scoring criteria"), max_length=500, blank=True)
    per_mistake = models.DecimalField(_("points off per mistake"), default=Decimal("0"), validators=POINTS, **SCORE)
    per_minute_over = models.DecimalField(
        _("points off per minute over"), default=Decimal("0"), validators=POINTS, **SCORE
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("time limit (minutes)"), null=True, blank=True, validators=MINUTES
    )
    critical = models.BooleanField(
        _("critical item (否决项)"),
        default=False,
        help_text=_("A safety violation that fails the candidate whatever the total, e.g. 带电作业, 未验电."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring item")
        verbose_name_plural = _("scoring items")
        ordering = ["scheme", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gte=0) & Q(per_mistake__gte=0) & Q(per_minute_over__gte=0),
                name="scoring_item_points_not_negative",
                violation_error_message=_("Points cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(critical=True) | Q(points__gt=0),
                name="scoring_item_has_points",
                violation_error_message=_("An item that is not critical has points above 0."),
            ),
        ]

    def __str__(self):
        return self.name


class ScoringSheet(models.Model):
    """
    A scoring sheet filled on the assessor's tablet: one candidate, one sitting,
    one assessor. `uuid` is made by the tablet, so a repeated sync finds the
    sheet it already sent; `version` is the server's copy, for conflicts.
    """

    version = version_field()

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded as the result")
        MODERATION = "moderation", _("Second sheet: awaiting HR moderation")
        SET_ASIDE = "set_aside", _("Set aside by HR moderation")

    uuid = models.UUIDField(_("sheet id"), unique=True, editable=False)
    sitting = models.ForeignKey(
        "certifications.Sitting",
        verbose_name=_("appraisal sitting"),
        on_delete=models.PROTECT,
        related_name="scoring_sheets",
    )
    assessment = models.ForeignKey(
        "certifications.Assessment",
        verbose_name=_("practical assessment"),
        on_delete=models.PROTECT,
        related_name="scoring_sheets",
    )
    worker = models.ForeignKey(
        Worker, verbose_name=_("candidate"), on_delete=models.PROTECT, related_name="scoring_sheets"
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assessor"), on_delete=models.PROTECT, related_name="scoring_sheets"
    )
    scheme = models.ForeignKey(
        ScoringScheme, verbose_name=_("scoring scheme"), on_delete=models.PROTECT, related_name="sheets"
    )
    started_at = models.DateTimeField(_("timer started"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("timer stopped"), null=True, blank=True)
    critical_item = models.ForeignKey(
        ScoringItem,
        verbose_name=_("critical item failed"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    critical_note = models.CharField(_("critical item note"), max_length=500, blank=True)
    full_points = models.DecimalField(_("full points"), validators=POINTS, **SCORE)
    total = models.DecimalField(_("total"), validators=POINTS, **SCORE)
    score = models.DecimalField(
        _("score"),
        validators=MARKS,
        help_text=_("The total on the assessment's full marks; 0 after a critical item."),
        **SCORE,
    )
    passed = models.BooleanField(_("passed"))
    candidate_name = models.CharField(_("candidate's confirmation (name typed)"), max_length=100, blank=True)
    candidate_signature = models.TextField(
        validators=[MaxLengthValidator(SIGNATURE_MAX_CHARS)],
        verbose_name=_("candidate's signature"),
        blank=True,
        help_text=_("A drawn signature (data URL)."),
    )
    assessor_signature = models.TextField(
        validators=[MaxLengthValidator(SIGNATURE_MAX_CHARS)],
        verbose_name=_("assessor's signature"),
        blank=True,
        help_text=_("A drawn signature (data URL)."),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECORDED)
    result = models.ForeignKey(
        "certifications.AssessmentResult",
        verbose_name=_("result"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scoring_sheets",
    )
    # What the tablet sent, reduced to a fingerprint: the same content again is a repeat, not an edit.
    content_hash = models.CharField(_("content fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring sheet")
        verbose_name_plural = _("scoring sheets")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sitting", "worker"], name="scoring_sheet_sitting_worker")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(total__lte=F("full_points")),
                name="scoring_sheet_total_within_full",
                violation_error_message=_("The total lies between 0 and the scheme's full points."),
            ),
            models.CheckConstraint(
                condition=Q(critical_item__isnull=True) | Q(passed=False),
                name="scoring_sheet_critical_fails",
                violation_error_message=_("A sheet with a critical item failed cannot pass."),
            ),
        ]

    def __str__(self):
        return f"{self.sitting.code} · {self.worker.name} · {self.total}"


class ScoreDeduction(models.Model):
    """The points one item of a sheet lost: mistakes counted, minutes over, a note and an optional photo."""

    version = version_field()

    sheet = models.ForeignKey(
        ScoringSheet, verbose_name=_("scoring sheet"), on_delete=models.CASCADE, related_name="deductions"
    )
    item = models.ForeignKey(ScoringItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    mistakes = models.PositiveSmallIntegerField(_("mistakes"), default=0, validators=MISTAKES)
    minutes_over = models.PositiveSmallIntegerField(_("minutes over"), default=0, validators=MINUTES)
    points = models.DecimalField(_("points off"), validators=POINTS, **SCORE)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # The validator bounds the name in the history too (simple-history keeps a file as its name, in a text column).
    photo = models.FileField(
        _("photo"),
        upload_to="practical/photos/%Y/%m/",
        max_length=200,
        blank=True,
        validators=[MaxLengthValidator(200)],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deduction")
        verbose_name_plural = _("deductions")
        ordering = ["sheet", "item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "item"],
                name="score_deduction_once_per_item",
                violation_error_message=_("A sheet has one line per item."),
            ),
        ]

    def __str__(self):
        return f"{self.item.name}: −{self.points}"


class ScoringModeration(models.Model):
    """
    A second sheet for a candidate whose sitting already has a recorded one (two
    assessors): HR chooses which sheet's score stands; nothing is overwritten
    until then.
    """

    version = version_field()

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    recorded = models.ForeignKey(
        ScoringSheet, verbose_name=_("recorded sheet"), on_delete=models.PROTECT, related_name="moderations_recorded"
    )
    second = models.OneToOneField(
        ScoringSheet, verbose_name=_("second sheet"), on_delete=models.PROTECT, related_name="moderation"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    chosen = models.ForeignKey(
        ScoringSheet,
        verbose_name=_("sheet that stands"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("scoring moderation case")
        verbose_name_plural = _("scoring moderation cases")
        ordering = ["status", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(chosen__isnull=False),
                name="scoring_moderation_resolved_chooses",
                violation_error_message=_("A resolved case names the sheet that stands."),
            ),
        ]

    def __str__(self):
        return f"{self.second.sitting.code} · {self.second.worker.name}"
