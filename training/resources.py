"""
django-import-export resources for the admin: human, translated headers and
natural keys (employee number, codes) instead of database ids, so an exported
file imports back unchanged.

Every resource here:
- looks foreign keys up from one preloaded query per related model and loads
  the existing rows in one query (PreloadedInstanceLoader), then writes in bulk,
  so an import makes a number of queries that does not grow with its rows;
- runs the model's own clean() and field validators (clean_model_instances),
  checks its constraints in Python and its unique rules against one load of
  the stored keys (core/constraints.py), so a broken rule is a row error with
  the admin form's message, never a database error; a key repeated in one file
  is an error naming the earlier row;
- escapes formula-like text on export (core.workbooks writes every export file)
  and undoes the escape on import.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import constraints
from core.dates import parse_date
from core.importexport import IntegerWidget, KuangjiangResource, choice, date, number, readonly, ref, text, yes_no
from core.text import normalise_text
from core.versions import bump
from training.models import (
    Attendance,
    Catalog,
    Course,
    PackageCourse,
    Rank,
    Trade,
    TrainingClass,
    TrainingPackage,
    Unit,
    Worker,
    WorkerTrade,
)

# --- resources --------------------------------------------------------------------------------------------


class UnitResource(KuangjiangResource):
    code = text("code", _("Code"))
    name = text("name", pgettext_lazy("thing", "Name"))
    kind = choice("kind", _("Kind"), Unit.Kind.choices)
    parent = ref("parent", _("Parent unit"), Unit)
    sort_order = number("sort_order", _("Sort order"), IntegerWidget())

    class Meta(KuangjiangResource.Meta):
        model = Unit
        fields = ("code", "name", "kind", "parent", "sort_order")
        import_id_fields = ("code",)
        use_bulk = False  # a parent may be a row of the same file: save in file order

    def get_queryset(self):
        return Unit.objects.select_related("parent")


class CodesText:
    """Text like "C001, C002" for a set of related codes, kept on the instance as `<name>_text`."""

    @staticmethod
    def split(value: str) -> list[str]:
        return [
            part.strip()
            for part in normalise_text(value).replace("，", ",").replace(";", ",").replace("；", ",").split(",")
            if part.strip()
        ]


class WorkerResource(KuangjiangResource):
    """The roster: one row per worker, trades as "T001:2015-03-01*, T002:2020-05-01" (* marks the primary trade)."""

    employee_no = text("employee_no", _("Employee number"))
    name = text("name", _("Name"))
    unit = ref("unit", _("Unit"), Unit)
    category = choice("category", _("Personnel category"), Worker._meta.get_field("category").choices)
    is_team_leader = yes_no("is_team_leader", _("Team leader"))
    hire_date = date("hire_date", _("Hire date"))
    underground_start = date("underground_start", _("Underground since"))
    appointed_on = date("appointed_on", _("Appointed on"))
    status = choice("status", _("Status"), Worker.Status.choices)
    trades = text("trades_text", _("Trades"))

    class Meta(KuangjiangResource.Meta):
        model = Worker
        fields = (
            "employee_no",
            "name",
            "unit",
            "category",
            "is_team_leader",
            "hire_date",
            "underground_start",
            "appointed_on",
            "status",
            "trades",
        )
        import_id_fields = ("employee_no",)

    extra_update_fields = ("name_pinyin", "name_initials")

    def get_queryset(self):
        return Worker.objects.select_related("unit").prefetch_related("worker_trades__trade").order_by("employee_no")

    def iter_queryset(self, queryset):
        for worker in super().iter_queryset(queryset):
            self._attach_trades(worker)
            yield worker

    @staticmethod
    def _attach_trades(worker):
        lines = sorted(worker.worker_trades.all(), key=lambda wt: (not wt.is_primary, wt.trade.code))
        worker.trades_text = ", ".join(
            f"{wt.trade.code}:{wt.started_on.isoformat()}"
            + (f"~{wt.ended_on.isoformat()}" if wt.ended_on else "")
            + ("*" if wt.is_primary else "")
            for wt in lines
        )

    def after_preload(self, instances):
        for worker in instances:
            self._attach_trades(worker)
        self._trades = {t.code.upper(): t for t in Trade.objects.all()}

    def init_instance(self, row=None):
        instance = super().init_instance(row)
        instance.trades_text = ""
        return instance

    def parse_trades(self, worker) -> list[WorkerTrade]:
        wanted = []
        for part in CodesText.split(getattr(worker, "trades_text", "") or ""):
            primary = part.endswith("*")
            part = part.rstrip("*").strip()
            trade_code, _sep, dates = part.partition(":")
            started, _sep, ended = dates.partition("~")
            trade = self._trades.get(trade_code.strip().upper())
            if trade is None:
                raise ValueError(_("trade “%(code)s” does not exist.") % {"code": trade_code})
            if any(w.trade_id == trade.pk for w in wanted):
                raise ValueError(_("trade “%(code)s” is listed twice.") % {"code": trade.code})
            line = WorkerTrade(
                worker=worker,
                trade=trade,
                is_primary=primary,
                started_on=parse_date(started) or worker.hire_date,
                ended_on=parse_date(ended),
            )
            # The trade lines are written after the workers: their constraints are checked here, with their messages.
            for error in constraints.violations(WorkerTrade, line):
                raise ValueError(f"{trade.code}: {' '.join(error.messages)}")
            wanted.append(line)
        if sum(1 for w in wanted if w.is_primary) > 1:
            raise ValueError(_("only one trade can be the primary one (marked *)."))
        return wanted

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            instance._wanted_trades = self.parse_trades(instance)
        except ValueError as exc:
            errors["trades_text"] = [str(exc)]
        super().validate_instance(instance, errors, validate_unique)

    def after_import(self, dataset, result, **kwargs):
        """Bring each imported worker's trades in line with the file, in bulk."""
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return
        workers = [
            row.instance for row in result.rows if row.instance is not None and row.import_type in ("new", "update")
        ]
        if not workers:
            return
        existing = {}
        for wt in WorkerTrade.objects.filter(worker__in=workers):
            existing[(wt.worker_id, wt.trade_id)] = wt
        keep, create, update = set(), [], []
        for worker in workers:
            for wanted in getattr(worker, "_wanted_trades", []):
                wanted.worker = worker
                key = (worker.pk, wanted.trade_id)
                keep.add(key)
                current = existing.get(key)
                if current is None:
                    create.append(wanted)
                elif (current.is_primary, current.started_on, current.ended_on) != (
                    wanted.is_primary,
                    wanted.started_on,
                    wanted.ended_on,
                ):
                    current.is_primary, current.started_on, current.ended_on = (
                        wanted.is_primary,
                        wanted.started_on,
                        wanted.ended_on,
                    )
                    update.append(current)
        stale = [wt.pk for key, wt in existing.items() if key not in keep]
        if stale:
            WorkerTrade.objects.filter(pk__in=stale).delete()
        if update:
            # Clear primaries first so the one-primary constraint never sees two at once.
            WorkerTrade.objects.filter(pk__in=[wt.pk for wt in update]).update(is_primary=False)
            WorkerTrade.objects.bulk_update(update, bump(update, ["is_primary", "started_on", "ended_on"]))
        if create:
            WorkerTrade.objects.bulk_create(create)


class CourseResource(KuangjiangResource):
    code = text("code", _("Course code"))
    title = text("title", _("Title"))
    theory_hours = number("theory_hours", _("Theory hours"))
    practical_hours = number("practical_hours", _("Practical hours"))
    delivery = choice("delivery", _("Delivery"), Course.Delivery.choices)
    description = text("description", _("Description"))
    active = yes_no("active", pgettext_lazy("enabled", "Active"))

    class Meta(KuangjiangResource.Meta):
        model = Course
        fields = ("code", "title", "theory_hours", "practical_hours", "delivery", "description", "active")
        import_id_fields = ("code",)


class CatalogResource(KuangjiangResource):
    code = text("code", _("Catalog code"))
    name = text("name", pgettext_lazy("thing", "Name"))
    effective_from = date("effective_from", _("Effective from"))
    courses = text("courses_text", _("Course codes"))

    class Meta(KuangjiangResource.Meta):
        model = Catalog
        fields = ("code", "name", "effective_from", "courses")
        import_id_fields = ("code",)

    def get_queryset(self):
        return Catalog.objects.prefetch_related("courses").order_by("code")

    @staticmethod
    def _attach(catalog):
        catalog.courses_text = ", ".join(sorted(c.code for c in catalog.courses.all()))

    def iter_queryset(self, queryset):
        for catalog in super().iter_queryset(queryset):
            self._attach(catalog)
            yield catalog

    def after_preload(self, instances):
        for catalog in instances:
            self._attach(catalog)
        self._courses = {c.code.upper(): c for c in Course.objects.all()}

    def init_instance(self, row=None):
        instance = super().init_instance(row)
        instance.courses_text = ""
        return instance

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        codes = CodesText.split(getattr(instance, "courses_text", ""))
        repeated = sorted({c for c in codes if [x.upper() for x in codes].count(c.upper()) > 1})
        if repeated:
            errors["courses_text"] = [_("course “%(code)s” is listed twice.") % {"code": ", ".join(repeated)}]
        missing = [c for c in codes if c.upper() not in self._courses]
        if missing:
            errors["courses_text"] = [_("course “%(code)s” does not exist.") % {"code": ", ".join(missing)}]
        instance._wanted_courses = [self._courses[c.upper()] for c in codes if c.upper() in self._courses]
        super().validate_instance(instance, errors, validate_unique)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return
        catalogs = [
            row.instance for row in result.rows if row.instance is not None and row.import_type in ("new", "update")
        ]
        if not catalogs:
            return
        through = Catalog.courses.through
        through.objects.filter(catalog__in=catalogs).delete()
        through.objects.bulk_create(
            [
                through(catalog_id=c.pk, course_id=course.pk)
                for c in catalogs
                for course in getattr(c, "_wanted_courses", [])
            ]
        )


class PackageResource(KuangjiangResource):
    code = text("code", _("Package code"))
    trade = ref("trade", _("Trade code"), Trade)
    rank = ref("rank", _("Rank code"), Rank)
    name = text("name", pgettext_lazy("thing", "Name"))
    catalog = ref("catalog", _("Catalog code"), Catalog)

    class Meta(KuangjiangResource.Meta):
        model = TrainingPackage
        fields = ("code", "trade", "rank", "name", "catalog")
        import_id_fields = ("code",)

    def get_queryset(self):
        return TrainingPackage.objects.select_related("trade", "rank", "catalog").order_by("code")


class PackageCourseResource(KuangjiangResource):
    package = ref("package", _("Package code"), TrainingPackage)
    course = ref("course", _("Course code"), Course)
    theory_hours = number("theory_hours", _("Theory hours required"))
    practical_hours = number("practical_hours", _("Practical hours required"))
    mandatory = yes_no("mandatory", _("Mandatory"))
    sort_order = number("sort_order", _("Sort order"), IntegerWidget())

    class Meta(KuangjiangResource.Meta):
        model = PackageCourse
        fields = ("package", "course", "theory_hours", "practical_hours", "mandatory", "sort_order")
        import_id_fields = ("package", "course")

    def get_queryset(self):
        return PackageCourse.objects.select_related("package", "course").order_by(
            "package__code", "sort_order", "course__code"
        )


class TrainingClassResource(KuangjiangResource):
    code = text("code", _("Class code"))
    name = text("name", pgettext_lazy("thing", "Name"))
    course = ref("course", _("Course code"), Course)
    kind = choice("kind", _("Training type"), TrainingClass.Kind.choices)
    start = date("start", _("Start date"))
    end = date("end", _("End date"))
    venue = text("venue", _("Venue"))
    instructors = text("instructors", _("Instructors"))
    capacity = number("capacity", _("Capacity"), IntegerWidget())
    organiser = ref("organiser", _("Organising unit"), Unit)

    class Meta(KuangjiangResource.Meta):
        model = TrainingClass
        fields = ("code", "name", "course", "kind", "start", "end", "venue", "instructors", "capacity", "organiser")
        import_id_fields = ("code",)

    def get_queryset(self):
        return TrainingClass.objects.select_related("course", "organiser").order_by("code")


class AttendanceResource(KuangjiangResource):
    training_class = ref("training_class", _("Class code"), TrainingClass)
    worker = ref("worker", _("Employee number"), Worker, "employee_no")
    worker_name = readonly(_("Name"), "worker_name")
    theory_hours = number("theory_hours", _("Theory hours attended"))
    practical_hours = number("practical_hours", _("Practical hours attended"))
    remarks = text("remarks", _("Remarks"))

    class Meta(KuangjiangResource.Meta):
        model = Attendance
        fields = ("training_class", "worker", "worker_name", "theory_hours", "practical_hours", "remarks")
        import_id_fields = ("training_class", "worker")

    def get_queryset(self):
        return Attendance.objects.select_related("training_class", "worker").order_by(
            "training_class__code", "worker__employee_no"
        )

    def dehydrate_worker_name(self, attendance):
        return attendance.worker.name
