"""
Reads for the roll-up: load everything the rules need for many workers in a
fixed number of queries, however many workers there are.
"""

import datetime as dt
import hashlib
import marshal
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import connection
from django.db.models import Aggregate, CharField, Exists, FloatField, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from certifications.models import AssessmentResult, ComprehensiveReview, RankRecord, RuleSet
from certifications.ranks import rules
from core.dates import stored_date
from training.models import Attendance, PackageCourse, Rank, TrainingPackage, Worker, WorkerTrade

# Rows are streamed from the database in chunks of this size (one query each on PostgreSQL's
# server-side cursors and on SQLite's single cursor), so memory holds the plain rows, not model instances.
CHUNK = 5000


class _Cached(dict):
    """Convert raw column values once per distinct value: a mine has few distinct dates and scores."""

    def __init__(self, convert):
        super().__init__()
        self.convert = convert

    def __missing__(self, value):
        converted = self[value] = self.convert(value)
        return converted


def _to_date(value):
    return value if isinstance(value, dt.date) or value is None else stored_date(value)


def _to_decimal(value):
    if value is None or isinstance(value, Decimal):
        return value
    # Scores and hours carry one decimal place: the float's shortest repr is exact.
    return Decimal(repr(float(value))).quantize(Decimal("0.1"))


def _text(name: str):
    # A cast hides the column's declared type from sqlite3, whose registered converters
    # (date parsing, Decimal) would otherwise run once per value in C-unfriendly Python.
    return Cast(name, output_field=CharField())


def _number(name: str):
    return Cast(name, output_field=FloatField())


class _Joined(Aggregate):
    """The group's values as one comma-separated text (GROUP_CONCAT / STRING_AGG), in no particular order."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, function="STRING_AGG", template="%(function)s((%(expressions)s)::text, ',')"
        )


def _rows(queryset):
    """
    Yield the raw rows of a values_list() queryset. Django's per-value
    converters cost more than the query itself for a whole mine; the callers
    convert dates and decimals once per distinct value instead.
    """
    yield from _fetched(*queryset.query.sql_with_params())


def _fetched(sql: str, params) -> Iterator[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _rows_above_held(attempts, held):
    """
    Yield the rows of `attempts` (results whose last two columns are the trade
    id and the rank's order) whose rank is above the rank `held` gives for the
    worker × trade. One query: a join on the grouped awards, which both
    databases hash; a correlated NOT EXISTS was far slower without planner statistics.
    """
    qn = connection.ops.quote_name
    attempts_sql, attempts_params = attempts.query.sql_with_params()
    held_sql, held_params = held.query.sql_with_params()
    sql = (
        f"SELECT a.* FROM ({attempts_sql}) a LEFT JOIN ({held_sql}) h "
        f"ON h.{qn('worker_id')} = a.{qn('worker_id')} AND h.{qn('trade_id')} = a.{qn('assessment__trade_id')} "
        f"WHERE h.{qn('held')} IS NULL OR a.{qn('assessment__rank__order')} > h.{qn('held')}"
    )
    yield from _fetched(sql, (*attempts_params, *held_params))


def _worker_filter(worker_ids, unit_ids, prefix: str = "", worker_range: tuple[int, int] | None = None) -> Q:
    query = Q()
    if worker_range is not None:
        query &= Q(**{f"{prefix}worker_id__gte": worker_range[0], f"{prefix}worker_id__lte": worker_range[1]})
    if worker_ids is not None:
        query &= Q(**{f"{prefix}worker_id__in": list(worker_ids)})
    if unit_ids is not None:
        query &= Q(**{f"{prefix}worker__unit_id__in": list(unit_ids)})
    return query


def rollup_catalog_load() -> tuple[dict, dict, dict]:
    """
    Return (ladders, rule_sets, package_lines) keyed by trade id: the trade's
    ranks that have a package, every rule set version and the package lines,
    as shared plain data. Four queries.
    """
    ranks = {
        pk: rules.RankInfo(pk, code, name, order)
        for pk, code, name, order in Rank.objects.values_list("id", "code", "name", "order")
    }
    package_rank: dict[int, tuple[int, int]] = {}
    ladder_ids: dict[int, set[int]] = defaultdict(set)
    for pk, trade_id, rank_id in TrainingPackage.objects.values_list("id", "trade_id", "rank_id"):
        package_rank[pk] = (trade_id, rank_id)
        ladder_ids[trade_id].add(rank_id)
    ladders = {
        trade_id: tuple(sorted((ranks[r] for r in rank_ids), key=lambda r: r.order))
        for trade_id, rank_ids in ladder_ids.items()
    }

    rule_fields = ["id", "name", "package_id", *rules.RULE_SET_FIELDS]
    rule_sets: dict[int, dict[int, tuple]] = defaultdict(lambda: defaultdict(tuple))
    for row in RuleSet.objects.values_list(*rule_fields):
        values = dict(zip(rule_fields, row, strict=True))
        trade_id, rank_id = package_rank[values.pop("package_id")]
        rule_sets[trade_id][rank_id] += (rules.RuleSetInfo(rank_id=rank_id, **values),)

    lines: dict[int, dict[int, tuple]] = defaultdict(lambda: defaultdict(tuple))
    for package_id, course_id, code, title, theory, practical, mandatory in PackageCourse.objects.values_list(
        "package_id", "course_id", "course__code", "course__title", "theory_hours", "practical_hours", "mandatory"
    ).order_by("package_id", "sort_order", "course__code"):
        trade_id, rank_id = package_rank[package_id]
        lines[trade_id][rank_id] += (rules.PackageLine(course_id, code, title, theory, practical, mandatory),)

    return (
        ladders,
        {trade_id: dict(by_rank) for trade_id, by_rank in rule_sets.items()},
        {trade_id: dict(by_rank) for trade_id, by_rank in lines.items()},
    )


def rollup_inputs_load(
    *,
    worker_ids: Iterable[int] | None = None,
    unit_ids: Iterable[int] | None = None,
    on: dt.date | None = None,
    worker_range: tuple[int, int] | None = None,
    catalog: tuple[dict, dict, dict] | None = None,
    fingerprints: dict[tuple[int, int], str] | None = None,
) -> dict[tuple[int, int], rules.WorkerTradeInputs]:
    """
    Return the rules' inputs for every (worker id, trade id) a worker holds, for
    the given workers, units, worker id range (both ends included), or
    everyone, for evaluating on `on` (default today) or later: ten queries,
    whatever the number of workers; six when given the catalog
    (rollup_catalog_load), as the roll-up's chunks are.

    The inputs leave out what the rules would ignore on that date — attendance
    and results dated after it, and the results of ranks at or below the rank
    held — and carry each course's attendance summed (rules.AttendedCourse).

    Given a dict as `fingerprints`, it is filled with (worker id, trade id) →
    a digest of the evidence loaded for the pair, from the rows as the
    database sent them (cheaper than from the converted values).
    """
    on = on or timezone.localdate()
    ladders, rule_sets, lines = catalog or rollup_catalog_load()
    by_worker = _worker_filter(worker_ids, unit_ids, worker_range=worker_range)
    attendance_rows = Attendance.objects.filter(by_worker, training_class__start__lte=on)
    result_rows = AssessmentResult.objects.filter(
        by_worker, assessment__trade__isnull=False, assessment__rank__isnull=False, assessment__held_on__lte=on
    )

    dates, decimals = _Cached(_to_date), _Cached(_to_decimal)
    keep = fingerprints is not None
    raw_started: dict[tuple[int, int], str] = {}
    raw: dict[tuple[int, int], list] = defaultdict(list)
    raw_attendance: dict[int, list] = defaultdict(list)
    pairs: dict[tuple[int, int], object] = {}
    for worker_id, trade_id, started_on in _rows(
        WorkerTrade.objects.filter(by_worker, worker__deleted_at__isnull=True)
        .values_list("worker_id", "trade_id", _text("started_on"))
        .order_by("worker_id", "trade_id")
    ):
        pairs[(worker_id, trade_id)] = dates[started_on]
        if keep:
            raw_started[(worker_id, trade_id)] = started_on

    awarded: dict[tuple[int, int], tuple] = defaultdict(tuple)
    for record_id, worker_id, trade_id, rank_id, awarded_on in _rows(
        RankRecord.objects.filter(by_worker, status=RankRecord.Status.AWARDED)
        .values_list("id", "worker_id", "trade_id", "rank_id", _text("awarded_on"))
        .order_by()
    ):
        awarded[(worker_id, trade_id)] += (rules.AwardRow(rank_id, dates[awarded_on], record_id),)
        if keep:
            raw[(worker_id, trade_id)].append((0, record_id, rank_id, awarded_on))

    # Attendance is summed per worker × course in SQL: the rules need each course's hours, and the
    # class dates and ids only for the re-sit retraining check and an award's evidence (parsed then).
    attendance: dict[int, list] = defaultdict(list)
    new_attended = tuple.__new__
    for worker_id, course_id, theory, practical, last_start, ids, starts in _rows(
        attendance_rows.values("worker_id", "training_class__course_id")
        .annotate(
            theory=Cast(Sum("theory_hours"), FloatField()),
            practical=Cast(Sum("practical_hours"), FloatField()),
            last_start=Cast(Max("training_class__start"), CharField()),
            ids=_Joined("id"),
            starts=_Joined("training_class__start"),
        )
        .values_list("worker_id", "training_class__course_id", "theory", "practical", "last_start", "ids", "starts")
        .order_by()
    ):
        if keep:
            # The joined lists come in no particular order: sorted, so equal evidence gives an equal digest.
            raw_attendance[worker_id].append(
                (
                    course_id,
                    theory,
                    practical,
                    last_start,
                    ids if "," not in ids else sorted(ids.split(",")),
                    starts if "," not in starts else sorted(starts.split(",")),
                )
            )
        attendance[worker_id].append(
            new_attended(
                rules.AttendedCourse, (course_id, decimals[theory], decimals[practical], dates[last_start], ids, starts)
            )
        )

    # The rules look only at the ranks above the one held (the highest rank of the trade's ladder awarded
    # by `on`): the results of lower ranks, about 40 % of a mine's, are left out in SQL.
    held = (
        RankRecord.objects.filter(by_worker, status=RankRecord.Status.AWARDED, awarded_on__lte=on)
        .filter(Exists(TrainingPackage.objects.filter(trade=OuterRef("trade"), rank=OuterRef("rank"))))
        .values("worker_id", "trade_id")
        .annotate(held=Max("rank__order"))
        .values_list("worker_id", "trade_id", "held")
        .order_by()
    )
    attempts = result_rows.values_list(
        "id",
        "worker_id",
        "assessment__rank_id",
        "assessment__kind",
        _text("assessment__held_on"),
        "attempt",
        _number("score"),
        _number("full_marks"),
        "assessment__trade_id",
        "assessment__rank__order",
    ).order_by()
    results: dict[tuple[int, int], list] = defaultdict(list)
    # tuple.__new__ on the class: calling the NamedTuple's own constructor costs ~40 % more per row.
    new_result, result_row = tuple.__new__, rules.ResultRow
    for pk, worker_id, rank_id, kind, held_on, attempt, score, full_marks, trade_id, _order in _rows_above_held(
        attempts, held
    ):
        if keep:
            raw[(worker_id, trade_id)].append((1, pk, rank_id, kind, held_on, attempt, score, full_marks))
        results[(worker_id, trade_id)].append(
            new_result(result_row, (pk, rank_id, kind, dates[held_on], attempt, decimals[score], decimals[full_marks]))
        )

    reviews: dict[tuple[int, int], list] = defaultdict(list)
    for pk, worker_id, trade_id, rank_id, held_on, passed in _rows(
        ComprehensiveReview.objects.filter(by_worker)
        .values_list("id", "worker_id", "trade_id", "rank_id", _text("held_on"), "passed")
        .order_by()
    ):
        reviews[(worker_id, trade_id)].append(rules.ReviewRow(pk, rank_id, dates[held_on], bool(passed)))
        if keep:
            raw[(worker_id, trade_id)].append((2, pk, rank_id, held_on, bool(passed)))

    attendance_of = {worker_id: tuple(rows) for worker_id, rows in attendance.items()}
    if keep:
        for key in pairs:
            evidence = (raw_started[key], sorted(raw.get(key, ())), sorted(raw_attendance.get(key[0], ())))
            # marshal version 2 writes no back-references, so equal values give equal bytes.
            fingerprints[key] = hashlib.blake2b(marshal.dumps(evidence, 2), digest_size=16).hexdigest()
    inputs = {}
    empty: dict = {}
    for (worker_id, trade_id), started_on in pairs.items():
        key = (worker_id, trade_id)
        inputs[key] = rules.WorkerTradeInputs(
            worker_id=worker_id,
            trade_id=trade_id,
            started_on=started_on,
            ladder=ladders.get(trade_id, ()),
            rule_sets=rule_sets.get(trade_id, empty),
            package_lines=lines.get(trade_id, empty),
            awarded=awarded.get(key, ()),
            attendance=attendance_of.get(worker_id, ()),
            results=tuple(results.get(key, ())),
            reviews=tuple(reviews.get(key, ())),
        )
    return inputs


def rollup_later_evidence_load(
    *,
    on: dt.date,
    worker_ids: Iterable[int] | None = None,
    unit_ids: Iterable[int] | None = None,
    worker_range: tuple[int, int] | None = None,
) -> dict[int, dt.date]:
    """
    Return worker id → the first start of a class they attended, or sitting of
    a rank assessment they sat, dated after `on`: evidence rollup_inputs_load
    leaves out that counts from that date. Two queries.
    """
    by_worker = _worker_filter(worker_ids, unit_ids, worker_range=worker_range)
    first: dict[int, dt.date] = {}
    for worker_id, day in [
        *_rows(
            Attendance.objects.filter(by_worker, training_class__start__gt=on)
            .values("worker_id")
            .annotate(first=_text(Min("training_class__start")))
            .values_list("worker_id", "first")
            .order_by()
        ),
        *_rows(
            AssessmentResult.objects.filter(
                by_worker, assessment__trade__isnull=False, assessment__rank__isnull=False, assessment__held_on__gt=on
            )
            .values("worker_id")
            .annotate(first=_text(Min("assessment__held_on")))
            .values_list("worker_id", "first")
            .order_by()
        ),
    ]:
        day = stored_date(day)
        if worker_id not in first or day < first[worker_id]:
            first[worker_id] = day
    return first


def worker_explanations_get(*, worker: Worker, on: dt.date | None = None) -> list[rules.Explanation]:
    """Return one explanation per trade the worker holds (primary trade first), in a fixed number of queries."""
    on = on or timezone.localdate()
    inputs = rollup_inputs_load(worker_ids=[worker.pk], on=on)
    primary = dict(WorkerTrade.objects.filter(worker=worker).values_list("trade_id", "is_primary"))
    ordered = sorted(inputs.values(), key=lambda i: (not primary.get(i.trade_id, False), i.trade_id))
    return [rules.evaluate(item, on) for item in ordered]


def pending_awards() -> QuerySet[RankRecord]:
    """Return the awards waiting for HR, oldest first, with what the changelist shows."""
    return (
        RankRecord.objects.filter(status=RankRecord.Status.PENDING)
        .select_related("worker", "worker__unit", "trade", "rank", "rule_set")
        .order_by("created_at", "pk")
    )
