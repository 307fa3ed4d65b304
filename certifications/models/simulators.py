"""
Simulator results through xAPI 1.0.3: the credentials a VR/AR simulator sends, the statements it sent (as received,
with the fields Kuangjiang maps), and HR's mappings of simulator actors to workers and of activities to courses
and practical assessments.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.ranges import between
from core.versions import version_field
from training.models import Course, TrainingClass, Worker

__all__ = ["SimulatorActivity", "SimulatorActor", "SimulatorCredential", "SimulatorStatement"]

IRI_LENGTH = 1000
# A duration beyond ten years is a simulator's bug: refused on arrival rather than stored as hours.
MAX_DURATION_SECONDS = 10 * 365 * 86400
ACTOR_KEY_LENGTH = 600


class SimulatorCredential(models.Model):
    """
    The HTTP Basic credentials one simulator sends: its key is the user name, its secret the password. Only a
    SHA-256 hash of the secret is stored: the secret is shown once, when HR creates the credential.
    """

    version = version_field()
    name = models.CharField(_("name"), max_length=100, help_text=_("Which simulator uses it, e.g. 综采VR实训系统."))
    key = models.CharField(
        _("key"),
        max_length=40,
        unique=True,
        help_text=_("The user name the simulator sends (letters, digits, - and _)."),
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", _("Use letters, digits, - and _ only in a key."))],
    )
    secret_hash = models.CharField(_("hash"), max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to revoke: the simulator gets 401."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["secret_hash", "last_used_at"])

    class Meta:
        verbose_name = _("simulator credential")
        verbose_name_plural = _("simulator credentials")
        ordering = ["name", "key"]

    def __str__(self):
        return f"{self.name} ({self.key})"


class SimulatorActor(models.Model):
    """HR's mapping of one simulator account (homePage + name) or mailbox to a worker."""

    version = version_field()
    home_page = models.CharField(_("account home page"), max_length=IRI_LENGTH, blank=True)
    account_name = models.CharField(_("account name"), max_length=255, blank=True)
    mbox = models.CharField(
        _("mailbox"), max_length=255, blank=True, help_text=_("mailto:… as the simulator sends it.")
    )
    actor_key = models.CharField(_("actor"), max_length=ACTOR_KEY_LENGTH, unique=True, editable=False)
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="simulator_actors"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("simulator actor mapping")
        verbose_name_plural = _("simulator actor mappings")
        ordering = ["actor_key"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(mbox="") & ~Q(home_page="") & ~Q(account_name=""))
                | (~Q(mbox="") & Q(home_page="") & Q(account_name="")),
                name="simulator_actor_account_or_mbox",
                violation_error_message=_("Give either an account (home page and name) or a mailbox, not both."),
            ),
        ]

    def __str__(self):
        return f"{self.actor_key} → {self.worker}"

    def clean(self):
        self.home_page, self.account_name, self.mbox = (
            self.home_page.strip(),
            self.account_name.strip(),
            self.mbox.strip(),
        )
        if self.mbox:
            if self.home_page or self.account_name:
                raise ValidationError(_("Give either an account (home page and name) or a mailbox, not both."))
            if not self.mbox.lower().startswith("mailto:"):
                raise ValidationError({"mbox": _("A mailbox starts with mailto:.")})
        elif not (self.home_page and self.account_name):
            raise ValidationError(_("Give an account's home page and name, or a mailbox."))
        self.actor_key = actor_key(home_page=self.home_page, name=self.account_name, mbox=self.mbox)
        if SimulatorActor.objects.filter(actor_key=self.actor_key).exclude(pk=self.pk).exists():
            raise ValidationError(_("This actor is already mapped to a worker."))


def actor_key(*, home_page: str = "", name: str = "", mbox: str = "", mbox_sha1sum: str = "", openid: str = "") -> str:
    """Return the one text that identifies an xAPI agent: its inverse functional identifier."""
    if home_page or name:
        return f"account:{home_page}|{name}"
    if mbox:
        return f"mbox:{mbox.lower()}"
    if mbox_sha1sum:
        return f"mbox_sha1sum:{mbox_sha1sum.lower()}"
    return f"openid:{openid}"


class SimulatorActivity(models.Model):
    """
    HR's mapping of one xAPI activity (by its IRI) to a course — the time spent counts as practical hours of a
    "VR/AR simulation" class that day — and/or a practical assessment, whose result the scaled score becomes.
    """

    version = version_field()
    activity_iri = models.CharField(_("activity IRI"), max_length=IRI_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True, help_text=_("What the simulator calls it."))
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="simulator_activities",
        help_text=_("Time in the simulator counts as practical hours of this course (delivered as VR/AR simulation)."),
    )
    class_kind = models.CharField(
        _("training type"),
        max_length=20,
        choices=TrainingClass.Kind.choices,
        default=TrainingClass.Kind.UPSKILL,
        help_text=_("The type of the day's simulation class."),
    )
    assessment = models.ForeignKey(
        "certifications.Assessment",
        verbose_name=_("practical assessment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="simulator_activities",
        help_text=_("The scaled score × full marks becomes the worker's practical result of this assessment."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("simulator activity mapping")
        verbose_name_plural = _("simulator activity mappings")
        ordering = ["activity_iri"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=False) | Q(assessment__isnull=False),
                name="simulator_activity_maps_something",
                violation_error_message=_("Map the activity to a course, a practical assessment or both."),
            ),
        ]

    def __str__(self):
        return self.name or self.activity_iri

    def clean(self):
        self.activity_iri = self.activity_iri.strip()
        errors = {}
        if self.course_id and self.course.delivery != Course.Delivery.SIMULATION:
            errors["course"] = _("Choose a course delivered as VR/AR simulation (the course's delivery).")
        if self.assessment_id and self.assessment.kind != "practical":  # Assessment.Kind.PRACTICAL
            errors["assessment"] = _("Choose a practical assessment.")
        if errors:
            raise ValidationError(errors)


class SimulatorStatement(models.Model):
    """One xAPI statement a simulator sent, kept as received, with the fields Kuangjiang maps."""

    class Status(models.TextChoices):
        UNMAPPED = "unmapped", _("Unmapped")
        APPLIED = "applied", _("Applied")
        VOIDED = "voided", _("Voided")
        VOIDING = "voiding", _("Voids another")
        OTHER = "other", _("Not about an activity")

    statement_id = models.UUIDField(_("statement id"), unique=True)
    credential = models.ForeignKey(
        SimulatorCredential,
        verbose_name=_("sent with credential"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="statements",
    )
    received = models.JSONField(_("statement as received"))
    stored = models.DateTimeField(_("stored"), db_index=True)
    timestamp = models.DateTimeField(_("timestamp"))
    on = models.DateField(_("date"), help_text=_("The day of the timestamp, Asia/Shanghai."))
    actor_key = models.CharField(_("actor"), max_length=ACTOR_KEY_LENGTH, db_index=True)
    actor_name = models.CharField(_("actor's name"), max_length=255, blank=True)
    account_name = models.CharField(_("account name"), max_length=255, blank=True)
    verb_id = models.CharField(_("verb"), max_length=IRI_LENGTH)
    activity_iri = models.CharField(_("activity IRI"), max_length=IRI_LENGTH, blank=True, db_index=True)
    target_statement_id = models.UUIDField(_("voids statement"), null=True, blank=True, db_index=True)
    score_scaled = models.DecimalField(
        _("scaled score"), max_digits=12, decimal_places=10, null=True, blank=True, validators=between(-1, 1)
    )
    success = models.BooleanField(_("success"), null=True, blank=True)
    completion = models.BooleanField(_("completion"), null=True, blank=True)
    duration_seconds = models.DecimalField(
        _("duration (s)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=between(0, MAX_DURATION_SECONDS),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, db_index=True)
    problem = models.CharField(_("why not applied"), max_length=300, blank=True)
    voided_by = models.UUIDField(_("voided by"), null=True, blank=True)
    worker = models.ForeignKey(
        Worker,
        verbose_name=_("worker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="simulator_statements",
    )
    activity = models.ForeignKey(
        SimulatorActivity,
        verbose_name=_("activity mapping"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statements",
    )
    training_class = models.ForeignKey(
        TrainingClass,
        verbose_name=_("simulation class"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="simulator_statements",
    )
    result = models.ForeignKey(
        "certifications.AssessmentResult",
        verbose_name=_("practical result"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="simulator_statements",
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("simulator statement")
        verbose_name_plural = _("simulator statements")
        ordering = ["-stored", "-id"]
        indexes = [models.Index(fields=["worker", "on"], name="simstatement_worker_on")]
        constraints = [
            models.CheckConstraint(
                condition=Q(score_scaled__isnull=True) | (Q(score_scaled__gte=-1) & Q(score_scaled__lte=1)),
                name="simulator_statement_scaled_in_range",
                violation_error_message=_("A scaled score lies between -1 and 1."),
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__gte=0),
                name="simulator_statement_duration_not_negative",
                violation_error_message=_("A duration cannot be negative."),
            ),
        ]

    def __str__(self):
        return str(self.statement_id)
