"""Filters and sorting for the unit page's worker table (django-filter)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from training.models import PersonnelCategory, Rank, Trade, Unit, Worker, WorkerTrade

from .models import RankRecord

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
    due = django_filters.BooleanFilter(method="filter_due", label=_("Certificate due within 90 days"))
    o = django_filters.OrderingFilter(fields=SORTS, label=_("Sort by"))

    class Meta:
        model = Worker
        fields = ["q", "unit", "trade", "rank", "category", "status", "due"]

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units in the subtree being viewed may be picked.
        self.filters["unit"].queryset = Unit.objects.filter(pk__in=[u.pk for u in units]) if units else Unit.objects.none()
        for name, filter_ in self.filters.items():
            filter_.extra.setdefault("required", False)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(employee_no__icontains=value) | Q(name_pinyin__icontains=value.lower().replace(" ", ""))
        )

    def filter_unit(self, queryset, name, value):
        from certifications.access import unit_subtree_ids

        return queryset.filter(unit_id__in=unit_subtree_ids(value)) if value else queryset

    def filter_trade(self, queryset, name, value):
        return queryset.filter(pk__in=WorkerTrade.objects.filter(trade=value, ended_on__isnull=True).values("worker_id"))

    def filter_rank(self, queryset, name, value):
        return queryset.filter(
            pk__in=RankRecord.objects.filter(rank=value, status=RankRecord.Status.AWARDED).values("worker_id")
        )

    def filter_due(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(certificates_due__gt=0) if value else queryset.filter(certificates_due=0)
