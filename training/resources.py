"""
django-import-export resources for the admin: human, translated headers and
natural keys (employee number, codes) instead of database ids, so an exported
file imports back unchanged.

Every resource here:
- looks foreign keys up from one preloaded query per related model and loads
  the existing rows in one query (PreloadedInstanceLoader), then writes in bulk,
  so an import makes a number of queries that does not grow with its rows;
- runs the model's own clean() (clean_model_instances) — but not the per-row
  unique/constraint queries; the database enforces those inside the one
  transaction, which rolls back as a whole;
- escapes formula-like text on export (training.spreadsheets.escape_formula)
  and undoes the escape on import.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _, pgettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.instance_loaders import BaseInstanceLoader
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .models import Catalog, Course, Rank, Trade, TrainingClass, TrainingPackage, PackageCourse, Unit, Worker, WorkerTrade, Attendance
from .spreadsheets import SpreadsheetError, cell_text, escape_formula, find_header_generic, parse_date, read_bytes, unescape_formula
from .text import normalise_text

# --- widgets ------------------------------------------------------------------------------------------


class TextWidget(widgets.CharWidget):
    """Text: full-width folded, trimmed, formula escape undone."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        return unescape_formula(cell_text(value))


class DateWidget(widgets.Widget):
    """A date in any form the mine writes (2026-09-05, 2026/9/5, 2026年9月5日, an Excel date)."""

    def clean(self, value, row=None, **kwargs):
        return parse_date(value)

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if isinstance(value, dt.date) else ""


class DecimalWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not a number.") % {"value": text}) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text


class IntegerWidget(DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        number = super().clean(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValueError(_("“%(value)s” is not a whole number.") % {"value": value})
        return int(number)


class YesNoWidget(widgets.Widget):
    """A tick: written as the translated Yes/No, read from yes/no/是/否/1/0/true/false/√."""

    TRUE = {"1", "yes", "y", "true", "是", "√", "✓", "x"}
    FALSE = {"", "0", "no", "n", "false", "否", "×"}

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).lower()
        if text in self.TRUE or text == str(_("Yes")).lower():
            return True
        if text in self.FALSE or text == str(_("No")).lower():
            return False
        raise ValueError(_("“%(value)s” is neither yes nor no.") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return str(_("Yes")) if value else str(_("No"))


class ChoiceWidget(widgets.Widget):
    """A choice written as its label (in the current language), read from the label in any language or the stored value."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        for key, label in self.choices:
            if text.lower() in {str(key).lower(), force_str(label).lower()}:
                return key
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    if text == force_str(label):
                        return key
        raise ValueError(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": text, "choices": ", ".join(force_str(label) for _key, label in self.choices)}
        )

    def render(self, value, obj=None, **kwargs):
        return force_str(dict(self.choices).get(value, value or ""))


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key by its natural key, looked up in a dict loaded once per import."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field, **kwargs)
        self._cache = None

    def lookup(self):
        if self._cache is None:
            self._cache = {str(getattr(obj, self.field)).upper(): obj for obj in self.model._default_manager.all()}
        return self._cache

    def clean(self, value, row=None, **kwargs):
        key = cell_text(value)
        if not key:
            return None
        try:
            return self.lookup()[unescape_formula(key).upper()]
        except KeyError:
            raise ValueError(
                _("%(model)s “%(key)s” does not exist.") % {"model": force_str(self.model._meta.verbose_name), "key": key}
            ) from None


# --- loading and saving ---------------------------------------------------------------------------------


class PreloadedInstanceLoader(BaseInstanceLoader):
    """Load every existing row the file could match in one query, keyed by all import id fields."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.id_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        self.instances = {}
        for instance in resource.get_queryset():
            self.instances[self.key_of_instance(instance)] = instance
        resource.after_preload(self.instances.values())

    def key_of_instance(self, instance):
        return tuple(_key(f.get_value(instance)) for f in self.id_fields)

    def get_instance(self, row):
        try:
            key = tuple(_key(f.clean(row)) for f in self.id_fields)
        except (ValueError, KeyError):
            return None
        return self.instances.get(key)


def _key(value):
    if isinstance(value, str):
        return value.upper()
    if hasattr(value, "pk"):
        return (type(value).__name__, value.pk)
    return value


class KuangjiangResource(resources.ModelResource):
    """The common behaviour of every import/export resource (see the module docstring)."""

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_bulk = True
        batch_size = None
        use_transactions = True
        instance_loader_class = PreloadedInstanceLoader
        store_instance = True

    def before_import(self, dataset, **kwargs):
        # Accept the headers in either language, whichever the exporting user had.
        by_name = {}
        for field in self.fields.values():
            for language in ("en", "zh-hans"):
                with translation.override(language):
                    by_name[normalise_text(force_str(field.column_name)).lower()] = force_str(field.column_name)
        dataset.headers = [by_name.get(normalise_text(h).lower(), h) for h in (dataset.headers or [])]
        self._import_user = kwargs.get("user")
        self._seen_keys = {}

    def after_preload(self, instances):
        """Hook: attach preloaded extras (e.g. a worker's trades) to the existing instances."""

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            # Unique fields and constraints would cost queries per row; the database checks them on write.
            # Foreign keys found by CodeWidget exist already; Django would check each again with a query.
            looked_up = [f.attribute for f in self.fields.values() if isinstance(f.widget, CodeWidget)]
            instance.full_clean(exclude=list(errors.keys()) + looked_up, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        key = tuple(_key(self.fields[name].get_value(instance)) for name in self.get_import_id_fields())
        if key in self._seen_keys and not errors:
            errors["__all__"] = [_("This row repeats row %(row)s.") % {"row": self._seen_keys[key]}]
        self._seen_keys.setdefault(key, len(self._seen_keys) + 1)
        if errors:
            raise ValidationError(errors)

    def _history(self):
        return hasattr(self._meta.model, "history")

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if not self.create_instances or not (using_transactions or not dry_run):
            return
        try:
            if self._history():
                bulk_create_with_history(self.create_instances, self._meta.model, default_user=self._user())
            else:
                self._meta.model.objects.bulk_create(self.create_instances)
        except Exception as exc:  # noqa: BLE001 — reported as the import's error, and rolled back
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if not self.update_instances or not (using_transactions or not dry_run):
            return
        names = [f.attribute for f in self.get_import_fields() if f.attribute and not f.attribute.endswith("_text")]
        names = [n for n in names if n in {f.name for f in self._meta.model._meta.concrete_fields} and n != "id"]
        names += [n for n in self.extra_update_fields if n not in names]
        try:
            if self._history():
                bulk_update_with_history(self.update_instances, self._meta.model, names, default_user=self._user())
            else:
                self._meta.model.objects.bulk_update(self.update_instances, names)
        except Exception as exc:  # noqa: BLE001
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.update_instances.clear()

    extra_update_fields: tuple[str, ...] = ()

    def _user(self):
        user = getattr(self, "_import_user", None)
        return user if getattr(user, "pk", None) else None


def text(attribute, column_name, **kwargs):
    return fields.Field(attribute=attribute, column_name=column_name, widget=TextWidget(), **kwargs)


def date(attribute, column_name):
    return fields.Field(attribute=attribute, column_name=column_name, widget=DateWidget())


def number(attribute, column_name, widget=None):
    return fields.Field(attribute=attribute, column_name=column_name, widget=widget or DecimalWidget())


def yes_no(attribute, column_name):
    return fields.Field(attribute=attribute, column_name=column_name, widget=YesNoWidget())


def choice(attribute, column_name, choices):
    return fields.Field(attribute=attribute, column_name=column_name, widget=ChoiceWidget(choices))


def ref(attribute, column_name, model, field="code"):
    return fields.Field(attribute=attribute, column_name=column_name, widget=CodeWidget(model, field))


def readonly(column_name, dehydrate):
    return fields.Field(column_name=column_name, readonly=True, dehydrate_method=dehydrate)


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
        return [part.strip() for part in normalise_text(value).replace("，", ",").replace(";", ",").replace("；", ",").split(",") if part.strip()]


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
            "employee_no", "name", "unit", "category", "is_team_leader", "hire_date", "underground_start",
            "appointed_on", "status", "trades",
        )
        import_id_fields = ("employee_no",)

    extra_update_fields = ("name_pinyin",)

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
            wanted.append(
                WorkerTrade(
                    worker=worker, trade=trade, is_primary=primary,
                    started_on=parse_date(started) or worker.hire_date, ended_on=parse_date(ended),
                )
            )
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
        workers = [row.instance for row in result.rows if row.instance is not None and row.import_type in ("new", "update")]
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
                elif (current.is_primary, current.started_on, current.ended_on) != (wanted.is_primary, wanted.started_on, wanted.ended_on):
                    current.is_primary, current.started_on, current.ended_on = wanted.is_primary, wanted.started_on, wanted.ended_on
                    update.append(current)
        stale = [wt.pk for key, wt in existing.items() if key not in keep]
        if stale:
            WorkerTrade.objects.filter(pk__in=stale).delete()
        if update:
            # Clear primaries first so the one-primary constraint never sees two at once.
            WorkerTrade.objects.filter(pk__in=[wt.pk for wt in update]).update(is_primary=False)
            WorkerTrade.objects.bulk_update(update, ["is_primary", "started_on", "ended_on"])
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
        missing = [c for c in codes if c.upper() not in self._courses]
        if missing:
            errors["courses_text"] = [_("course “%(code)s” does not exist.") % {"code": ", ".join(missing)}]
        instance._wanted_courses = [self._courses[c.upper()] for c in codes if c.upper() in self._courses]
        super().validate_instance(instance, errors, validate_unique)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return
        catalogs = [row.instance for row in result.rows if row.instance is not None and row.import_type in ("new", "update")]
        if not catalogs:
            return
        through = Catalog.courses.through
        through.objects.filter(catalog__in=catalogs).delete()
        through.objects.bulk_create(
            [through(catalog_id=c.pk, course_id=course.pk) for c in catalogs for course in getattr(c, "_wanted_courses", [])]
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
        return PackageCourse.objects.select_related("package", "course").order_by("package__code", "sort_order", "course__code")


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
        return Attendance.objects.select_related("training_class", "worker").order_by("training_class__code", "worker__employee_no")

    def dehydrate_worker_name(self, attendance):
        return attendance.worker.name


# --- formats for the admin: read messy files the same way the results import does ----------------------


class _MessyFormatMixin:
    """Read any .xlsx/.xls/.csv (any encoding), find the header below title rows, fill merged cells."""

    def create_dataset(self, in_stream, **kwargs):
        import tablib

        data = read_bytes(in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8"))
        try:
            headers, rows = find_header_generic(data)
        except SpreadsheetError as exc:
            raise ValueError(str(exc)) from None
        dataset = tablib.Dataset(headers=headers)
        width = len(headers)
        for _number, values in rows:
            values = [None if v == "" else v for v in list(values)[:width]]
            dataset.append(values + [None] * (width - len(values)))
        return dataset

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def can_import(self):
        return True


class XLSX(_MessyFormatMixin, base_formats.XLSX):
    pass


class XLS(_MessyFormatMixin, base_formats.XLS):
    def get_title(self):
        return "xls"

    def can_export(self):
        return False  # writing .xls needs the unmaintained xlwt


class CSV(_MessyFormatMixin, base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        # UTF-8 with a BOM, so Chinese Excel opens the export without garbling it.
        return "\ufeff" + dataset.export("csv")

    def is_binary(self):
        return True

    def get_title(self):
        return "csv"


IMPORT_FORMATS = [XLSX, XLS, CSV]
EXPORT_FORMATS = [base_formats.XLSX, CSV]


# --- admin glue -------------------------------------------------------------------------------------------

from django import forms as _forms  # noqa: E402
from django.contrib import messages as _messages  # noqa: E402
from django.contrib.admin.options import IncorrectLookupParameters  # noqa: E402
from django.http import HttpResponseRedirect  # noqa: E402
from django.urls import reverse  # noqa: E402
from import_export.admin import ImportExportMixin  # noqa: E402
from import_export.forms import ImportForm  # noqa: E402
from import_export.tmp_storages import CacheStorage  # noqa: E402

from .spreadsheets import upload_max_bytes  # noqa: E402


class PrivateCacheStorage(CacheStorage):
    """Keep an uploaded file between preview and confirm in the (never served) cache, for an hour at most."""

    CACHE_LIFETIME = 3600
    CACHE_PREFIX = "kuangjiang-import-"


class SizeLimitedImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > upload_max_bytes():
            raise _forms.ValidationError(
                _("The file is over the size limit of %(limit)s MB.") % {"limit": round(upload_max_bytes() / 1024 / 1024, 1)}
            )
        return upload


class SpreadsheetAdminMixin(ImportExportMixin):
    """
    Import/export buttons for a model admin: messy-file formats, private temporary
    storage, a size limit, and a confirm that is all or nothing.
    """

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    tmp_storage_class = PrivateCacheStorage
    import_form_class = SizeLimitedImportForm

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        # The confirm step must not silently skip rows that became invalid since the preview.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        # Our formats say what is wrong with the file (a SpreadsheetError, or the ValueError carrying its
        # text): show that, not "'ValueError' encountered while trying to read file".
        if isinstance(e, SpreadsheetError) or isinstance(e.__context__, SpreadsheetError):
            form.add_error("import_file", str(e))
            return
        super().add_data_read_fail_error_to_form(form, e)

    def export_action(self, request):
        # The export applies the changelist's filters; one the changelist refuses (a date-hierarchy year no date
        # can hold, a unit that is not a number) gets the changelist's answer, not a 500.
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1")

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            _messages.error(request, _("Nothing was imported: the file has errors. Import it again to see them row by row."))
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        # Any import can change a large mine's dashboard figures, which are computed in the background.
        transaction.on_commit(_dashboard_figures_invalidate)
        return super().process_result(result, request)


def _dashboard_figures_invalidate() -> None:
    importlib.import_module("certifications.figures").dashboard_figures_invalidate()


class LedgerExportAdminMixin(SpreadsheetAdminMixin):
    """Adds an "Export the training ledger" button to the changelist (Worker, Unit)."""

    import_export_change_list_template = "admin/spreadsheets/change_list_ledger.html"


class ResultsImportAdminMixin(SpreadsheetAdminMixin):
    """Adds an "Import exam results" button to the results changelist."""

    import_export_change_list_template = "admin/spreadsheets/change_list_results.html"
