"""Invariants of the roll-up rules, checked on generated workers (hypothesis)."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from certifications.ranks.rules import (
    AttendanceRow,
    AttendedCourse,
    AwardRow,
    PackageLine,
    RankInfo,
    ResultRow,
    ReviewRow,
    RuleSetInfo,
    WorkerTradeInputs,
    climb,
    earned_rank,
    evaluate,
    rank_reached,
)

LADDER = (
    RankInfo(1, "L5", "初级工", 10),
    RankInfo(2, "L4", "中级工", 20),
    RankInfo(3, "L3", "高级工", 30),
    RankInfo(4, "L2", "技师", 40),
)
ORDER = {r.id: r.order for r in LADDER}
LINES = {
    rank.id: (
        PackageLine(rank.id * 10 + 1, f"C{rank.id}1", "必修", D("8"), D("8"), True),
        PackageLine(rank.id * 10 + 2, f"C{rank.id}2", "选修", D("4"), D("0"), False),
    )
    for rank in LADDER
}
COURSES = [line.course_id for lines in LINES.values() for line in lines]
DAY0 = dt.date(2016, 1, 1)
ON = dt.date(2026, 6, 1)

dates = st.integers(min_value=0, max_value=(ON - DAY0).days + 60).map(lambda n: DAY0 + dt.timedelta(days=n))
scores = st.one_of(st.none(), st.sampled_from(["0", "45", "59.5", "60", "75", "80", "100"]).map(D))
optional_years = st.one_of(st.none(), st.sampled_from([D("0"), D("1"), D("3"), D("4"), D("5.5")]))


@st.composite
def rule_sets(draw, rank, version):
    weights = draw(st.booleans())
    return RuleSetInfo(
        id=rank.id * 10 + version,
        name=f"v{version}",
        rank_id=rank.id,
        effective_from=draw(st.sampled_from([dt.date(2016, 1, 1), dt.date(2018, 1, 1), dt.date(2022, 1, 1)])),
        require_package=draw(st.booleans()),
        min_electives=draw(st.integers(0, 1)),
        require_theory=draw(st.booleans()),
        theory_pass_mark=draw(st.sampled_from([D("60"), D("80")])),
        require_practical=draw(st.booleans()),
        resit_limit=draw(st.integers(0, 2)),
        exam_valid_months=draw(st.one_of(st.none(), st.just(12), st.just(36))),
        theory_weight=D("40") if weights else None,
        practical_weight=D("60") if weights else None,
        composite_pass_mark=D("65") if weights else None,
        years_at_previous_rank=draw(optional_years),
        years_in_trade=draw(optional_years),
        require_review=draw(st.booleans()),
        allow_direct_entry=draw(st.booleans()),
    )


@st.composite
def worker_inputs(draw):
    by_rank = {}
    for rank in LADDER:
        versions = draw(st.integers(0, 2))
        found = {}
        for v in range(versions):
            rule_set = draw(rule_sets(rank, v))
            found[rule_set.effective_from] = rule_set  # one version per date, as in the database
        by_rank[rank.id] = tuple(found.values())
    attendance = tuple(
        AttendanceRow(
            i + 1,
            draw(st.sampled_from(COURSES)),
            draw(dates),
            draw(st.sampled_from([D("0"), D("4"), D("8")])),
            draw(st.sampled_from([D("0"), D("8")])),
        )
        for i in range(draw(st.integers(0, 8)))
    )
    results = tuple(
        ResultRow(
            i + 1,
            draw(st.sampled_from([1, 2, 3, 4])),
            draw(st.sampled_from(["theory", "practical"])),
            draw(dates),
            draw(st.integers(1, 3)),
            draw(scores),
        )
        for i in range(draw(st.integers(0, 12)))
    )
    reviews = tuple(
        ReviewRow(i + 1, draw(st.sampled_from([3, 4])), draw(dates), draw(st.booleans()))
        for i in range(draw(st.integers(0, 2)))
    )
    awarded = tuple(
        AwardRow(rank_id, draw(dates), 100 + rank_id) for rank_id in draw(st.sets(st.sampled_from([1, 2]), max_size=2))
    )
    return WorkerTradeInputs(
        worker_id=1,
        trade_id=1,
        started_on=draw(dates),
        ladder=LADDER,
        rule_sets=by_rank,
        package_lines=LINES,
        awarded=awarded,
        attendance=attendance,
        results=results,
        reviews=reviews,
    )


def order_of(rank_id):
    return ORDER[rank_id] if rank_id is not None else 0


@given(worker_inputs(), st.randoms(use_true_random=False))
def test_evaluation_is_deterministic_and_ignores_the_order_rows_were_inserted(data, random):
    def shuffled(rows):
        rows = list(rows)
        random.shuffle(rows)
        return tuple(rows)

    reordered = replace(
        data,
        ladder=shuffled(data.ladder),
        awarded=shuffled(data.awarded),
        attendance=shuffled(data.attendance),
        results=shuffled(data.results),
        reviews=shuffled(data.reviews),
        rule_sets={k: shuffled(v) for k, v in reversed(list(data.rule_sets.items()))},
    )
    assert evaluate(data, ON) == evaluate(data, ON)
    assert evaluate(reordered, ON) == evaluate(data, ON)
    assert rank_reached(reordered, ON) == rank_reached(data, ON)


@given(
    worker_inputs(), st.sampled_from([1, 2, 3, 4]), st.sampled_from(["theory", "practical"]), dates, st.integers(1, 3)
)
def test_adding_a_passing_result_never_lowers_a_rank(data, rank_id, kind, held_on, attempt):
    passing = ResultRow(999, rank_id, kind, held_on, attempt, D("100"))
    more = replace(data, results=data.results + (passing,))
    assert order_of(rank_reached(more, ON)) >= order_of(rank_reached(data, ON))


@given(worker_inputs(), st.data())
def test_removing_evidence_never_raises_a_rank(data, draw):
    before = order_of(rank_reached(data, ON))
    evidence = (
        [("attendance", i) for i in range(len(data.attendance))]
        + [("results", i) for i, r in enumerate(data.results) if r.score is not None and r.score >= 80]
        # A failed review is not evidence for a rank: removing a later failed one lets an earlier pass count.
        + [("reviews", i) for i, r in enumerate(data.reviews) if r.passed]
    )
    if not evidence:
        return
    field, index = draw.draw(st.sampled_from(evidence))
    rows = getattr(data, field)
    fewer = replace(data, **{field: rows[:index] + rows[index + 1 :]})
    assert order_of(rank_reached(fewer, ON)) <= before


@given(worker_inputs())
def test_the_fast_path_decides_exactly_like_the_full_explanation(data):
    full = evaluate(data, ON)
    brief = evaluate(data, ON, detailed=False)
    assert [(s.rank_id, s.met) for s in brief.steps] == [(s.rank_id, s.met) for s in full.steps]
    for quick, slow in zip(brief.steps, full.steps, strict=True):
        if slow.met:
            assert [(r.kind, r.status, r.actual, r.evidence) for r in quick.requirements] == [
                (r.kind, r.status, r.actual, r.evidence) for r in slow.requirements
            ]


@given(worker_inputs())
def test_the_decision_path_picks_the_rank_the_full_explanation_finds_met_first(data):
    first_met = next((s.rank_id for s in evaluate(data, ON).steps if s.met), None)
    assert earned_rank(data, ON) == first_met
    assert earned_rank(data, ON) == next((s.rank_id for s in evaluate(data, ON, detailed=False).steps if s.met), None)


def summed(attendance, on):
    """Sum attendance per course, the way the loader does in SQL for evaluating on `on`."""
    by_course = {}
    for row in sorted(attendance, key=lambda r: -r.id):  # the database hands the rows over in any order
        if row.start > on:
            continue
        by_course.setdefault(row.course_id, []).append(row)
    return tuple(
        AttendedCourse(
            course_id,
            sum((r.theory_hours for r in rows), D(0)),
            sum((r.practical_hours for r in rows), D(0)),
            max(r.start for r in rows),
            ",".join(str(r.id) for r in rows),
            ",".join(r.start.isoformat() for r in rows),
        )
        for course_id, rows in by_course.items()
    )


@given(worker_inputs())
def test_attendance_summed_per_course_explains_exactly_like_the_rows_it_sums(data):
    aggregated = replace(data, attendance=summed(data.attendance, ON))
    assert evaluate(aggregated, ON) == evaluate(data, ON)
    assert evaluate(aggregated, ON, detailed=False) == evaluate(data, ON, detailed=False)
    assert earned_rank(aggregated, ON) == earned_rank(data, ON)
    assert [step for step, _explanation in climb(aggregated, ON)] == [step for step, _explanation in climb(data, ON)]
