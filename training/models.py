"""
The mine, its people and their training: organisation units, trades, the rank
ladder, courses and catalogs, training packages, workers, classes and attendance.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from core.ranges import between
from core.text import pinyin_initials, pinyin_key
from core.versions import version_field
from training.softdelete import SoftDeletable
from training.tree import parent_refusal

# The ranges of numbers (issue 12): the same on SQLite and PostgreSQL, and what makes sense at a mine.
MAX_HOURS = 1000
MAX_SORT_ORDER = 1_000_000
MAX_CAPACITY = 5000
HOURS = {"max_digits": 6, "decimal_places": 1, "default": Decimal("0"), "validators": between(0, MAX_HOURS)}


class PersonnelCategory(models.TextChoices):
    PRINCIPAL = "principal", _("Principal in charge")
    SAFETY_MANAGER = "safety_manager", _("Safety manager")
    SPECIAL_OPERATION = "special_operation", _("Special-operation staff")
    OTHER = "other", _("Other staff")


class UnitManager(models.Manager):
    def parents_above(self, unit_id: int) -> dict[int, int | None]:
        """Return {id: parent id} for a unit and every unit above it, in one query that stops at a cycle."""
        qn = connection.ops.quote_name
        table, pk, parent = qn(self.model._meta.db_table), qn("id"), qn("parent_id")
        # UNION (not UNION ALL) drops a row already reached, so a cycle ends the walk instead of looping.
        sql = (
            f"WITH RECURSIVE up(id, parent_id) AS (SELECT {pk}, {parent} FROM {table} WHERE {pk} = %s "
            f"UNION SELECT u.{pk}, u.{parent} FROM {table} u INNER JOIN up ON u.{pk} = up.parent_id) "
            "SELECT id, parent_id FROM up"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [unit_id])
            return dict(cursor.fetchall())


class Unit(models.Model):
    """A node of the organisation tree: mine → department → crew."""

    version = version_field()

    class Kind(models.TextChoices):
        MINE = "mine", _("Mine")
        PRODUCTION_TEAM = "production_team", _("Production team")
        OFFICE = "office", _("Office")
        CREW = "crew", _("Crew")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0, validators=between(0, MAX_SORT_ORDER))

    objects = UnitManager()

    class Meta:
        verbose_name = _("organisation unit")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("organisation units")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="mine") | Q(parent__isnull=False),
                name="unit_only_mine_is_root",
                violation_error_message=_("Only a mine can be a unit without a parent unit."),
            ),
            # The database's own guard against the shortest cycle; clean() refuses the longer ones.
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")),
                name="unit_not_own_parent",
                violation_error_message=_("A unit cannot sit below itself."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("certifications:unit-detail", args=[self.code])

    def natural_key(self):
        return (self.code,)

    def clean(self):
        # Read the parents above from the database, not through self.parent: an import holds units loaded
        # before its earlier rows moved them, and a tree broken by hand must not make this loop.
        if self.parent_id is None:
            return
        refusal = parent_refusal(self.pk, self.parent_id, Unit.objects.parents_above(self.parent_id))
        if refusal == "cycle":
            raise ValidationError({"parent": _("A unit cannot sit below itself.")})
        if refusal == "broken":
            raise ValidationError(
                {"parent": _("The parent unit does not lead up to a mine: the units above it repeat or are missing.")}
            )


class SpecialOperation(models.Model):
    """A kind of special operation (特种作业) that needs a provincial certificate."""

    version = version_field()

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("common name"), max_length=50, blank=True, help_text=_("e.g. 井下电钳工"))

    class Meta:
        verbose_name = _("special operation")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("special operations")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class Rank(models.Model):
    """A step of the skill-level ladder (职业技能等级); the ladder is data, ordered by `order`."""

    version = version_field()

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(
        _("order"),
        unique=True,
        validators=between(0, 1000),
        help_text=_("Position on the ladder; higher is more senior."),
    )
    national_level = models.PositiveSmallIntegerField(
        _("national level"),
        null=True,
        blank=True,
        validators=between(1, 5),
        help_text=_("5 = 五级/初级工 … 1 = 一级/高级技师; empty for ranks outside the five national levels."),
    )
    high_skill = models.BooleanField(
        _("high-skill talent"),
        default=False,
        help_text=_("Counts towards the share of high-skill talent (三级 and above)."),
    )

    class Meta:
        verbose_name = _("rank")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("ranks")
        ordering = ["order"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class Trade(models.Model):
    """A job role (工种) a worker can hold, each at its own rank."""

    version = version_field()

    class Discipline(models.TextChoices):
        ELECTROMECHANICAL = "electromechanical", _("Electromechanical")
        PRODUCTION = "production", _("Production")
        SAFETY = "safety", _("Safety")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    aliases = models.CharField(
        _("other names"),
        max_length=255,
        blank=True,
        help_text=_("Comma-separated names used in old spreadsheets, e.g. 电钳工."),
    )
    discipline = models.CharField(_("discipline"), max_length=20, choices=Discipline.choices)
    category = models.CharField(_("personnel category"), max_length=20, choices=PersonnelCategory.choices)
    underground = models.BooleanField(_("underground"), default=True)
    special_operations = models.ManyToManyField(
        SpecialOperation, verbose_name=_("special operations required"), blank=True, related_name="trades"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("trade")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("trades")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)

    def alias_list(self) -> list[str]:
        return [alias.strip() for alias in self.aliases.replace("，", ",").split(",") if alias.strip()]


class Course(models.Model):
    """A training module with its theory and practical class hours (学时)."""

    version = version_field()

    class Delivery(models.TextChoices):
        CLASSROOM = "classroom", _("Classroom")
        PRACTICAL_BASE = "practical_base", _("Practical training base")
        SIMULATION = "simulation", _("VR/AR simulation")
        MENTORING = "mentoring", _("Mentoring on the job")
        ELEARNING = "elearning", _("E-learning")

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    theory_hours = models.DecimalField(_("theory hours"), **HOURS)
    practical_hours = models.DecimalField(_("practical hours"), **HOURS)
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices, default=Delivery.CLASSROOM)
    description = models.TextField(_("description"), blank=True, validators=[MaxLengthValidator(5000)])
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("course")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("courses")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(theory_hours__gte=0) & Q(practical_hours__gte=0),
                name="course_hours_not_negative",
                violation_error_message=_("Hours cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def natural_key(self):
        return (self.code,)

    @property
    def total_hours(self) -> Decimal:
        return self.theory_hours + self.practical_hours


class Catalog(models.Model):
    """A named, dated edition of the course offering, e.g. 2026 机电培训目录."""

    version = version_field()

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    effective_from = models.DateField(_("effective from"))
    courses = models.ManyToManyField(Course, verbose_name=_("courses"), blank=True, related_name="catalogs")

    class Meta:
        verbose_name = _("catalog")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("catalogs")
        ordering = ["-effective_from", "code"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class TrainingPackage(models.Model):
    """The courses one trade needs to reach one rank (培训套餐). Its rule sets say how it is assessed."""

    version = version_field()

    code = models.CharField(_("code"), max_length=64, unique=True)
    trade = models.ForeignKey(Trade, verbose_name=_("trade"), on_delete=models.PROTECT, related_name="packages")
    rank = models.ForeignKey(Rank, verbose_name=_("target rank"), on_delete=models.PROTECT, related_name="packages")
    name = models.CharField(_("name"), max_length=200)
    catalog = models.ForeignKey(
        Catalog, verbose_name=_("catalog"), null=True, blank=True, on_delete=models.SET_NULL, related_name="packages"
    )
    courses = models.ManyToManyField(
        Course, through="PackageCourse", verbose_name=_("courses"), related_name="packages"
    )

    class Meta:
        verbose_name = _("training package")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("training packages")
        ordering = ["trade__code", "rank__order"]
        constraints = [
            models.UniqueConstraint(fields=["trade", "rank"], name="package_one_per_trade_and_rank"),
        ]

    def __str__(self):
        return f"{self.trade} → {self.rank}"

    def natural_key(self):
        return (self.code,)


class PackageCourse(models.Model):
    """One course of a package with the hours the package requires of it."""

    version = version_field()

    package = models.ForeignKey(
        TrainingPackage, verbose_name=_("package"), on_delete=models.CASCADE, related_name="lines"
    )
    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="package_lines")
    theory_hours = models.DecimalField(_("theory hours required"), **HOURS)
    practical_hours = models.DecimalField(_("practical hours required"), **HOURS)
    mandatory = models.BooleanField(_("mandatory"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0, validators=between(0, MAX_SORT_ORDER))

    class Meta:
        verbose_name = _("package course")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("package courses")
        ordering = ["package", "sort_order", "course__code"]
        constraints = [
            models.UniqueConstraint(fields=["package", "course"], name="package_course_once"),
            models.CheckConstraint(
                condition=Q(theory_hours__gte=0) & Q(practical_hours__gte=0),
                name="package_course_hours_not_negative",
                violation_error_message=_("Hours cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.package}: {self.course}"


class Worker(SoftDeletable):
    """A member of the workforce (从业人员); the subject of one file per worker (一人一档)."""

    version = version_field()

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        AWAY = "away", _("Away from post")
        LEFT = "left", _("Left")

    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=200, blank=True, editable=False, db_index=True)
    name_initials = models.CharField(
        _("name initials"),
        max_length=200,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("The first letter of each character's pinyin (徐宁敏 → xnm), for search."),
    )
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="workers")
    category = models.CharField(_("personnel category"), max_length=20, choices=PersonnelCategory.choices)
    is_team_leader = models.BooleanField(_("team leader"), default=False)
    hire_date = models.DateField(_("hire date"))
    underground_start = models.DateField(_("underground since"), null=True, blank=True)
    appointed_on = models.DateField(
        _("appointed on"),
        null=True,
        blank=True,
        help_text=_("For principals and safety managers: date of appointment."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="worker",
    )
    trades = models.ManyToManyField(Trade, through="WorkerTrade", verbose_name=_("trades"), related_name="workers")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("worker")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("workers")
        ordering = ["name_pinyin", "employee_no"]
        indexes = [models.Index(fields=["unit", "status"], name="worker_unit_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(underground_start__isnull=True) | Q(underground_start__gte=F("hire_date")),
                name="worker_underground_after_hire",
                violation_error_message=_("A worker cannot start underground before the hire date."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.employee_no})"

    def natural_key(self):
        return (self.employee_no,)

    def get_absolute_url(self):
        return reverse("certifications:worker-detail", args=[self.employee_no])

    def clean(self):
        self.name_keys_fill()

    def save(self, *args, **kwargs):
        # The two search keys are derived from the name, never entered: filled on every save (and in clean(),
        # for the imports that validate and then write in bulk) so no code path can store a stale one.
        self.name_keys_fill()
        super().save(*args, **kwargs)

    def name_keys_fill(self) -> None:
        """Set the keys that let HR sort and search Chinese names by sound: full pinyin and initials."""
        self.name_pinyin = pinyin_key(self.name)
        self.name_initials = pinyin_initials(self.name)


class AwayPeriod(models.Model):
    """A period a worker was away from their post (离岗); open while `end` is empty."""

    version = version_field()

    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.CASCADE, related_name="away_periods")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("away period")
        verbose_name_plural = _("away periods")
        ordering = ["worker", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="away_end_after_start",
                violation_error_message=_("An away period cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.worker}: {self.start} – {self.end or '…'}"


class WorkerTrade(models.Model):
    """A trade a worker holds; exactly one of a worker's trades is the primary one."""

    version = version_field()

    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.CASCADE, related_name="worker_trades")
    trade = models.ForeignKey(Trade, verbose_name=_("trade"), on_delete=models.PROTECT, related_name="worker_trades")
    is_primary = models.BooleanField(_("primary"), default=False)
    started_on = models.DateField(_("in the trade since"))
    ended_on = models.DateField(_("left the trade on"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker trade")
        verbose_name_plural = _("worker trades")
        ordering = ["worker", "-is_primary", "trade__code"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "trade"], name="worker_trade_once"),
            models.UniqueConstraint(
                fields=["worker"],
                condition=Q(is_primary=True),
                name="worker_one_primary_trade",
                violation_error_message=_("A worker has only one primary trade."),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="worker_trade_end_after_start",
                violation_error_message=_("A trade cannot be left before it was taken up."),
            ),
        ]

    def __str__(self):
        return f"{self.worker.name} · {self.trade}"


class TrainingClass(models.Model):
    """A cohort (培训班) taking one course between two dates; one file per class (一期一档)."""

    version = version_field()

    class Kind(models.TextChoices):
        PRE_JOB = "pre_job", _("Pre-job")
        ANNUAL = "annual", _("Annual retraining")
        TRANSFER = "transfer", _("Job transfer")
        RETURN = "return", _("Return to post")
        SPECIAL_INITIAL = "special_initial", _("Special-operation initial")
        REVIEW = "review", _("Certificate review training")
        UPSKILL = "upskill", _("Skill upgrading")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="classes")
    kind = models.CharField(_("training type"), max_length=20, choices=Kind.choices)
    start = models.DateField(_("start date"))
    end = models.DateField(_("end date"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    instructors = models.CharField(_("instructors"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), default=40, validators=between(1, MAX_CAPACITY))
    organiser = models.ForeignKey(
        Unit,
        verbose_name=_("organising unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="classes",
    )

    class Meta:
        verbose_name = _("training class")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("training classes")
        ordering = ["-start", "code"]
        indexes = [models.Index(fields=["start"], name="class_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="class_end_after_start",
                violation_error_message=_("A class cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gt=0),
                name="class_capacity_positive",
                violation_error_message=_("A class needs a capacity of at least 1."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def natural_key(self):
        return (self.code,)


class Attendance(SoftDeletable):
    """The theory and practical hours one worker attended in one class."""

    version = version_field()

    training_class = models.ForeignKey(
        TrainingClass, verbose_name=_("training class"), on_delete=models.PROTECT, related_name="attendances"
    )
    worker = models.ForeignKey(Worker, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="attendances")
    theory_hours = models.DecimalField(_("theory hours attended"), **HOURS)
    practical_hours = models.DecimalField(_("practical hours attended"), **HOURS)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attendance")
        default_permissions = ("add", "change", "delete", "view", "import")
        verbose_name_plural = _("attendance")
        ordering = ["training_class", "worker__employee_no"]
        indexes = [models.Index(fields=["worker", "training_class"], name="attendance_worker_class")]
        constraints = [
            models.UniqueConstraint(
                fields=["training_class", "worker"],
                condition=Q(deleted_at__isnull=True),
                name="attendance_once_per_class",
                violation_error_message=_("This worker already has attendance in this class."),
            ),
            models.CheckConstraint(
                condition=Q(theory_hours__gte=0) & Q(practical_hours__gte=0),
                name="attendance_hours_not_negative",
                violation_error_message=_("Hours cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.worker.name} @ {self.training_class.code}"

    @property
    def total_hours(self) -> Decimal:
        return self.theory_hours + self.practical_hours
