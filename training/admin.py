"""The HR admin for the mine, its people and their training."""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_guard import CheckedAutocompleteSelect
from core.importexport import LedgerExportAdminMixin, SpreadsheetAdminMixin
from training.access import descendant_unit_ids
from training.admin_mixins import (
    DoorAdminMixin,
    DoorInlinesMixin,
    InputGuardMixin,
    ReasonForChangeAdminMixin,
    ReasonForChangeInlineMixin,
    SoftDeleteAdminMixin,
    SoftDeleteInlineMixin,
)
from training.models import (
    Attendance,
    AwayPeriod,
    Catalog,
    Course,
    PackageCourse,
    Rank,
    SpecialOperation,
    Trade,
    TrainingClass,
    Unit,
    WorkerTrade,
)
from training.resources import (
    AttendanceResource,
    CatalogResource,
    CourseResource,
    PackageCourseResource,
    PackageResource,
    TrainingClassResource,
    UnitResource,
    WorkerResource,
)

# Every admin that lists a worker's records finds them by number, name, full pinyin or initials (xnm: 徐宁敏).
WORKER_SEARCH = ("worker__employee_no", "worker__name", "worker__name_pinyin", "worker__name_initials")


# Shared building blocks (certifications/admin.py uses them too) ---------------------------------


class UnitTreeFilter(admin.SimpleListFilter):
    """Filter by a unit and every unit below it, so picking a department includes its crews."""

    title = _("unit")
    parameter_name = "unit"
    field_path = "unit"

    def lookups(self, request, model_admin):
        units = list(Unit.objects.values_list("id", "parent_id", "name").order_by("sort_order", "code"))
        children: dict[int | None, list[tuple[int, str]]] = {}
        for unit_id, parent_id, name in units:
            children.setdefault(parent_id, []).append((unit_id, name))
        choices, stack = [], [(unit_id, name, 0) for unit_id, name in reversed(children.get(None, []))]
        while stack:
            unit_id, name, depth = stack.pop()
            choices.append((str(unit_id), "\u2003" * depth + name))
            stack.extend((child_id, child, depth + 1) for child_id, child in reversed(children.get(unit_id, [])))
        return choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            root = int(self.value())
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc
        if root.bit_length() > 63:  # SQLite cannot even bind it: an OverflowError, not "no such unit"
            raise IncorrectLookupParameters(self.value())
        unit_ids = descendant_unit_ids(root, dict(Unit.objects.values_list("id", "parent_id")))
        return queryset.filter(**{f"{self.field_path}__in": unit_ids})


class WorkerUnitFilter(UnitTreeFilter):
    field_path = "worker__unit"


class RowAutocompleteSelect(CheckedAutocompleteSelect):
    """An autocomplete that labels a saved row's choice from the row itself, not with one query per row."""

    known: dict[str, str] = {}

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not selected or any(v not in self.known for v in selected):
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for v in selected:
            options.append(self.create_option(name, v, self.known[v], True, len(options)))
        return [(None, options, 0)]


class RowLabelledForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, RowAutocompleteSelect):
                related = getattr(self.instance, name)  # cached: the inline's queryset selects it
                widget.known = {} if related is None else {str(related.pk): str(related)}


class EditableInline(InputGuardMixin, admin.TabularInline):
    """
    A tabular inline that costs a fixed number of queries whatever the row count: autocompletes
    label saved rows from the row, and `list_select_related` covers what each row's __str__ reads.
    """

    form = RowLabelledForm
    extra = 0
    list_select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.autocomplete_fields, *self.list_select_related)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.autocomplete_fields:
            kwargs["widget"] = RowAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RecordInline(InputGuardMixin, admin.TabularInline):
    """A read-only list of related records; each row links to its own page, where it is edited."""

    extra = 0
    can_delete = False
    show_change_link = True
    list_select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The organisation, trades and ranks ---------------------------------------------------------------


@admin.register(Unit)
class UnitAdmin(InputGuardMixin, LedgerExportAdminMixin, admin.ModelAdmin):
    resource_classes = [UnitResource]
    list_display = ("name", "code", "kind", "parent", "worker_count", "sort_order")
    list_select_related = ("parent",)
    list_filter = ("kind", UnitTreeFilter)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    ordering = ("sort_order", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(worker_count=Count("workers"))

    @admin.display(description=_("workers"), ordering="worker_count")
    def worker_count(self, obj):
        return obj.worker_count


@admin.register(SpecialOperation)
class SpecialOperationAdmin(InputGuardMixin, admin.ModelAdmin):
    list_display = ("code", "name", "short_name")
    search_fields = ("code", "name", "short_name")


@admin.register(Rank)
class RankAdmin(InputGuardMixin, admin.ModelAdmin):
    list_display = ("name", "code", "order", "national_level", "high_skill")
    list_filter = ("high_skill",)
    search_fields = ("code", "name")


@admin.register(Trade)
class TradeAdmin(InputGuardMixin, admin.ModelAdmin):
    list_display = ("name", "code", "discipline", "category", "underground", "operations", "active")
    list_filter = ("discipline", "category", "underground", "active", "special_operations")
    search_fields = ("code", "name", "aliases")
    filter_horizontal = ("special_operations",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("special_operations")

    @admin.display(description=_("special operations required"))
    def operations(self, obj):
        return ", ".join(op.name for op in obj.special_operations.all())


# Courses, catalogs and packages -------------------------------------------------------------------


@admin.register(Course)
class CourseAdmin(InputGuardMixin, SpreadsheetAdminMixin, admin.ModelAdmin):
    resource_classes = [CourseResource]
    list_display = ("code", "title", "theory_hours", "practical_hours", "total_hours", "delivery", "active")
    list_filter = ("delivery", "active", "catalogs")
    search_fields = ("code", "title")

    @admin.display(description=_("total hours"))
    def total_hours(self, obj):
        return obj.total_hours


@admin.register(Catalog)
class CatalogAdmin(InputGuardMixin, SpreadsheetAdminMixin, admin.ModelAdmin):
    resource_classes = [CatalogResource]
    list_display = ("name", "code", "effective_from", "course_count")
    date_hierarchy = "effective_from"
    search_fields = ("code", "name")
    autocomplete_fields = ("courses",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(course_count=Count("courses"))

    @admin.display(description=_("courses"), ordering="course_count")
    def course_count(self, obj):
        return obj.course_count


class PackageCourseInline(EditableInline):
    model = PackageCourse
    fields = ("sort_order", "course", "theory_hours", "practical_hours", "mandatory")
    autocomplete_fields = ("course",)
    list_select_related = ("package__trade", "package__rank")


class TrainingPackageAdmin(InputGuardMixin, SpreadsheetAdminMixin, admin.ModelAdmin):
    """A package and its courses. certifications/admin.py registers it with the rank rule sets inline."""

    resource_classes = [PackageResource]
    list_display = ("code", "name", "trade", "rank", "catalog", "course_count", "theory_hours", "practical_hours")
    list_select_related = ("trade", "rank", "catalog")
    list_filter = ("trade", "rank", "catalog", "trade__discipline")
    search_fields = ("code", "name", "trade__name", "lines__course__code")
    autocomplete_fields = ("trade", "rank", "catalog")
    inlines = (PackageCourseInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                course_count=Count("lines"),
                theory_hours=Sum("lines__theory_hours"),
                practical_hours=Sum("lines__practical_hours"),
            )
        )

    @admin.display(description=_("courses"), ordering="course_count")
    def course_count(self, obj):
        return obj.course_count

    @admin.display(description=_("theory hours"), ordering="theory_hours")
    def theory_hours(self, obj):
        return obj.theory_hours

    @admin.display(description=_("practical hours"), ordering="practical_hours")
    def practical_hours(self, obj):
        return obj.practical_hours


@admin.register(PackageCourse)
class PackageCourseAdmin(InputGuardMixin, SpreadsheetAdminMixin, admin.ModelAdmin):
    resource_classes = [PackageCourseResource]
    list_display = ("package", "course", "theory_hours", "practical_hours", "mandatory", "sort_order")
    list_select_related = ("package__trade", "package__rank", "course")
    list_filter = ("package__trade", "package__rank", "mandatory")
    search_fields = ("package__code", "package__name", "course__code", "course__title")
    autocomplete_fields = ("package", "course")


# Workers --------------------------------------------------------------------------------------------


class WorkerTradeInline(EditableInline):
    model = WorkerTrade
    fields = ("trade", "is_primary", "started_on", "ended_on")
    autocomplete_fields = ("trade",)
    list_select_related = ("worker",)


class AwayPeriodInline(EditableInline):
    model = AwayPeriod
    fields = ("start", "end", "reason")
    list_select_related = ("worker",)


class WorkerAdmin(InputGuardMixin, LedgerExportAdminMixin, SoftDeleteAdminMixin, SimpleHistoryAdmin):
    """
    A worker, their trades and time away. certifications/admin.py registers it
    with their ranks, certificates and results and the roll-up's evaluation.
    """

    resource_classes = [WorkerResource]
    # What fits a 1280-px screen in Chinese between the admin's two sidebars; category and team leader are filters.
    list_display = ("employee_no", "name", "unit", "primary_trade", "hire_date", "status")
    list_display_links = ("employee_no", "name")
    list_select_related = ("unit",)
    list_filter = (
        UnitTreeFilter,
        "category",
        "status",
        "is_team_leader",
        ("worker_trades__trade", admin.RelatedFieldListFilter),
        ("rank_records__rank", admin.RelatedFieldListFilter),
        "hire_date",
    )
    date_hierarchy = "hire_date"
    search_fields = ("employee_no", "name", "name_pinyin", "name_initials")
    autocomplete_fields = ("unit",)
    readonly_fields = ("name_pinyin", "name_initials")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "employee_no",
                    "name",
                    "name_pinyin",
                    "name_initials",
                    "unit",
                    "category",
                    "is_team_leader",
                    "status",
                )
            },
        ),
        (_("Dates"), {"fields": ("hire_date", "underground_start", "appointed_on")}),
        (_("Login"), {"fields": ("user",)}),
    )
    inlines = (WorkerTradeInline, AwayPeriodInline)
    ordering = ("employee_no",)

    def get_queryset(self, request):
        primary = WorkerTrade.objects.filter(worker=OuterRef("pk"), is_primary=True)
        return super().get_queryset(request).annotate(primary_trade_name=Subquery(primary.values("trade__name")[:1]))

    def get_inlines(self, request, obj):
        # A worker being added has no records yet; the read-only lists only make sense on a saved worker.
        if obj is None:
            return [inline for inline in self.inlines if not issubclass(inline, RecordInline)]
        return self.inlines

    @admin.display(description=_("primary trade"), ordering="primary_trade_name")
    def primary_trade(self, obj):
        return obj.primary_trade_name or "—"


@admin.register(WorkerTrade)
class WorkerTradeAdmin(InputGuardMixin, admin.ModelAdmin):
    list_display = ("worker", "employee_no", "unit", "trade", "is_primary", "started_on", "ended_on")
    list_select_related = ("worker__unit", "trade")
    list_filter = (WorkerUnitFilter, "trade", "is_primary", "started_on")
    search_fields = (*WORKER_SEARCH, "trade__name", "trade__code")
    autocomplete_fields = ("worker", "trade")
    date_hierarchy = "started_on"

    @admin.display(description=_("employee number"), ordering="worker__employee_no")
    def employee_no(self, obj):
        return obj.worker.employee_no

    @admin.display(description=_("unit"), ordering="worker__unit__name")
    def unit(self, obj):
        return obj.worker.unit.name


@admin.register(AwayPeriod)
class AwayPeriodAdmin(InputGuardMixin, admin.ModelAdmin):
    list_display = ("worker", "unit", "start", "end", "reason")
    list_select_related = ("worker__unit",)
    list_filter = (WorkerUnitFilter, "start")
    search_fields = (*WORKER_SEARCH, "reason")
    autocomplete_fields = ("worker",)
    date_hierarchy = "start"

    @admin.display(description=_("unit"), ordering="worker__unit__name")
    def unit(self, obj):
        return obj.worker.unit.name


# Classes and attendance -------------------------------------------------------------------------------


class AttendanceInline(SoftDeleteInlineMixin, ReasonForChangeInlineMixin, EditableInline):
    model = Attendance
    fields = ("worker", "theory_hours", "practical_hours", "remarks")
    autocomplete_fields = ("worker",)
    list_select_related = ("training_class",)


@admin.register(TrainingClass)
class TrainingClassAdmin(InputGuardMixin, DoorInlinesMixin, SpreadsheetAdminMixin, admin.ModelAdmin):
    resource_classes = [TrainingClassResource]
    # Kind and organiser are filters, course and venue on the form: the list fits a 1280-px screen in Chinese.
    list_display = ("code", "name", "start", "end", "enrolled", "capacity")
    list_select_related = ("course", "organiser")
    list_filter = ("kind", ("organiser", admin.RelatedOnlyFieldListFilter), "course__delivery", "start")
    date_hierarchy = "start"
    search_fields = ("code", "name", "course__code", "course__title", "venue", "instructors")
    autocomplete_fields = ("course", "organiser")
    inlines = (AttendanceInline,)
    evidence_parent_fields = ("course", "start")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(enrolled=Count("attendances"))

    @admin.display(description=_("enrolled"), ordering="enrolled")
    def enrolled(self, obj):
        return obj.enrolled


@admin.register(Attendance)
class AttendanceAdmin(
    InputGuardMixin,
    DoorAdminMixin,
    SpreadsheetAdminMixin,
    SoftDeleteAdminMixin,
    ReasonForChangeAdminMixin,
    SimpleHistoryAdmin,
):
    resource_classes = [AttendanceResource]
    # The worker reads "name (employee number)": no column of its own for the number, so the list fits 1280 px.
    list_display = (
        "worker",
        "unit",
        "training_class",
        "class_start",
        "theory_hours",
        "practical_hours",
        "remarks",
    )
    list_select_related = ("worker__unit", "training_class")
    list_filter = (WorkerUnitFilter, "training_class__kind", "training_class__start")
    date_hierarchy = "training_class__start"
    search_fields = (*WORKER_SEARCH, "training_class__code", "training_class__course__code", "training_class__name")
    autocomplete_fields = ("training_class", "worker")

    @admin.display(description=_("unit"), ordering="worker__unit__name")
    def unit(self, obj):
        return obj.worker.unit.name

    @admin.display(description=_("start date"), ordering="training_class__start")
    def class_start(self, obj):
        return obj.training_class.start
