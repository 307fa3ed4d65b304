"""Filters and sorting for the unit page's worker table (django-filter)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certifications.models import RankRecord
from training.models import PersonnelCategory, Rank, Trade, Unit, Worker, WorkerTrade

SORTS = (
    ("name_pinyin", "name"),
    ("employee_no", "number"),
    ("unit__code", "unit"),
    ("top_rank_order", "rank"),
    ("hours_this_year", "hours"),
    ("certificates_due", "due"),
)


class UnitWorkerFilter(django_filters.FilterSet):
    """Narrow and sort the workers of a unit; the queryset comes annotated by progress.unit_workers_queryset."""

    q = django_filters.CharFilter(method="filter_search", label=_("Name or employee number"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.none(), label=_("Unit"), method="filter_unit")
    trade = django_filters.ModelChoiceFilter(queryset=Trade.objects.all(), label=_("Trade"), method="filter_trade")
    rank = django_filters.ModelChoiceFilter(queryset=Rank.objects.all(), label=_("Rank held"), method="filter_rank")
    category = django_filters.ChoiceFilter(choices=PersonnelCategory.choices, label=_("Personnel category"))
    status = django_filters.ChoiceFilter(choices=Worker.Status.choices, label=_("Status"))
    # Three plain choices, not django-filter's "unknown / yes / no".
    due = django_filters.ChoiceFilter(
        method="filter_due",
        label=_("Certificate due within 90 days"),
        choices=(("true", _("Due or overdue")), ("false", _("None due"))),
        empty_label=_("All workers"),
    )
    o = django_filters.OrderingFilter(fields=SORTS, label=_("Sort by"))

    class Meta:
        model = Worker
        fields = ["q", "unit", "trade", "rank", "category", "status", "due"]

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units in the subtree being viewed may be picked.
        self.filters["unit"].queryset = (
            Unit.objects.filter(pk__in=[u.pk for u in units]) if units else Unit.objects.none()
        )
        for filter_ in self.filters.values():
            filter_.extra.setdefault("required", False)
        if units:
            self._offer_top_units(units)

    def _offer_top_units(self, units):
        # A select of 2,500 crews takes longer to render than the rest of the page and is no use to pick from:
        # a large subtree offers its top levels (each unit's own page offers the units below it). Any unit of
        # the subtree is still accepted, so a link naming a crew keeps working.
        from certifications.progress.dashboard import DASHBOARD_UNIT_ROWS, levels_that_fit

        ids = {u.pk for u in units}
        parent_of = {u.pk: u.parent_id for u in units}

        def depth(unit):
            level, parent = 0, parent_of[unit.pk]
            while parent in ids and level <= len(ids):
                level, parent = level + 1, parent_of[parent]
            return level

        depths = [depth(u) for u in units]
        deepest = levels_that_fit(depths, DASHBOARD_UNIT_ROWS)
        if deepest is None:
            return
        chosen = str(self.data.get("unit", "")) if self.data else ""
        field = self.form.fields["unit"]
        offered = [u for u, d in zip(units, depths, strict=True) if d <= deepest or str(u.pk) == chosen]
        # Only the widget's list: the field still validates against the whole subtree.
        field.widget.choices = [("", field.empty_label), *((u.pk, field.label_from_instance(u)) for u in offered)]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(employee_no__icontains=value)
            | Q(name_pinyin__icontains=value.lower().replace(" ", ""))
            | Q(name_initials__icontains=value.lower().replace(" ", ""))
        )

    def filter_unit(self, queryset, name, value):
        from training.access import unit_subtree_ids

        return queryset.filter(unit_id__in=unit_subtree_ids(value)) if value else queryset

    def filter_trade(self, queryset, name, value):
        return queryset.filter(
            pk__in=WorkerTrade.objects.filter(trade=value, ended_on__isnull=True).values("worker_id")
        )

    def filter_rank(self, queryset, name, value):
        return queryset.filter(
            pk__in=RankRecord.objects.filter(rank=value, status=RankRecord.Status.AWARDED).values("worker_id")
        )

    def filter_due(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        return queryset.filter(certificates_due__gt=0) if value == "true" else queryset.filter(certificates_due=0)
