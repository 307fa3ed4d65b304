"""The roll-up rules, one requirement type at a time and combined (pure: no database)."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest

from certifications.ranks.rules import (
    AttendanceRow,
    AttendedCourse,
    AwardRow,
    Kind,
    PackageLine,
    RankInfo,
    ResultRow,
    ReviewRow,
    RuleSetInfo,
    Status,
    WorkerTradeInputs,
    climb,
    evaluate,
    rank_reached,
    step_snapshot,
    years_between,
)
from core.dates import add_months, add_years

ON = dt.date(2026, 6, 1)
L5, L4, L3, L2 = (
    RankInfo(1, "L5", "初级工", 10),
    RankInfo(2, "L4", "中级工", 20),
    RankInfo(3, "L3", "高级工", 30),
    RankInfo(4, "L2", "技师", 40),
)
LINE_A = PackageLine(101, "C101", "综采设备维护", D("24"), D("16"), True)
LINE_B = PackageLine(102, "C102", "液压系统", D("8"), D("0"), True)
ELECTIVE_1 = PackageLine(201, "C201", "电气识图", D("8"), D("0"), False)
ELECTIVE_2 = PackageLine(202, "C202", "PLC 基础", D("8"), D("8"), False)


def rules(rank=L4, **overrides):
    base = {
        "id": rank.id * 10,
        "name": "2018 标准",
        "rank_id": rank.id,
        "effective_from": dt.date(2018, 1, 1),
        "require_package": False,
        "require_theory": False,
        "require_practical": False,
    }
    return RuleSetInfo(**{**base, **overrides})


# The worker already holds rank 1 (awarded 2020-01-01) unless a test says otherwise.
HOLDS_FIRST_RANK = (AwardRow(1, dt.date(2020, 1, 1), 900),)


def inputs(*rule_sets, awarded=HOLDS_FIRST_RANK, lines=None, **kw):
    by_rank = {}
    for rule_set in rule_sets:
        by_rank.setdefault(rule_set.rank_id, ())
        by_rank[rule_set.rank_id] += (rule_set,)
    return WorkerTradeInputs(
        worker_id=1,
        trade_id=7,
        started_on=kw.pop("started_on", dt.date(2015, 3, 1)),
        ladder=(L5, L4, L3, L2),
        rule_sets=by_rank,
        package_lines=lines if lines is not None else {L4.id: (LINE_A, LINE_B, ELECTIVE_1, ELECTIVE_2)},
        awarded=awarded,
        **kw,
    )


def result(id, kind="theory", score="75", held_on=dt.date(2026, 4, 1), attempt=1, rank=L4, full_marks="100"):
    return ResultRow(id, rank.id, kind, held_on, attempt, None if score is None else D(score), D(full_marks))


def attend(id, course=LINE_A, theory=None, practical=None, start=dt.date(2026, 3, 2)):
    return AttendanceRow(
        id,
        course.course_id,
        start,
        course.theory_hours if theory is None else D(theory),
        course.practical_hours if practical is None else D(practical),
    )


def requirement(explanation, kind, rank=L4):
    step = next(s for s in explanation.steps if s.rank_id == rank.id)
    found = [r for r in step.requirements if r.kind == kind]
    assert found, f"no {kind} requirement in {step.requirements}"
    return found[0]


# --- held rank and steps -----------------------------------------------------


def test_the_held_rank_is_the_highest_awarded_one_on_the_date():
    data = inputs(rules(), awarded=(AwardRow(1, dt.date(2019, 1, 1)), AwardRow(2, dt.date(2027, 1, 1))))
    explanation = evaluate(data, ON)
    assert explanation.held_rank_name == "初级工"
    assert [s.rank_code for s in explanation.steps] == ["L4", "L3", "L2"]


def test_a_worker_without_ranks_sees_every_rank_of_the_ladder():
    explanation = evaluate(inputs(rules(L5), awarded=()), ON)
    assert explanation.held_rank_id is None
    assert explanation.next_step.rank_code == "L5"


def test_a_rank_without_a_rule_set_in_force_says_so():
    step = evaluate(inputs(rules()), ON).steps[1]
    assert step.rank_code == "L3"
    assert [r.kind for r in step.requirements] == [Kind.RULES]
    assert not step.met


def test_a_rule_set_with_nothing_required_but_the_ladder_is_met():
    step = evaluate(inputs(rules()), ON).next_step
    assert step.met
    assert requirement(evaluate(inputs(rules()), ON), Kind.LADDER).evidence == ("rank_record:900",)


# --- package completion --------------------------------------------------------


def test_a_mandatory_course_needs_its_theory_and_practical_hours():
    data = inputs(rules(require_package=True), attendance=(attend(1, LINE_A, practical="8"), attend(2, LINE_B)))
    explanation = evaluate(data, ON)
    course = requirement(explanation, Kind.COURSE)
    assert course.course_code == "C101"
    assert course.status == Status.UNMET
    assert (course.required, course.actual) == (D("40"), D("32"))
    assert course.evidence == ("attendance:1",)


def test_hours_are_summed_over_classes():
    data = inputs(
        rules(require_package=True),
        attendance=(
            attend(1, LINE_A, theory="12", practical="16"),
            attend(2, LINE_A, theory="12", practical="0"),
            attend(3, LINE_B),
        ),
    )
    explanation = evaluate(data, ON)
    assert explanation.next_step.met
    assert requirement(explanation, Kind.COURSE).evidence == ("attendance:1", "attendance:2")


def test_a_class_that_has_not_started_does_not_count():
    data = inputs(
        rules(require_package=True), attendance=(attend(1, LINE_A, start=ON + dt.timedelta(days=1)), attend(2, LINE_B))
    )
    assert requirement(evaluate(data, ON), Kind.COURSE).status == Status.UNMET


def test_electives_need_at_least_n_completed():
    base = inputs(
        rules(require_package=True, min_electives=2),
        attendance=(attend(1, ELECTIVE_1), attend(2, ELECTIVE_2, practical="7")),
    )
    electives = requirement(evaluate(base, ON), Kind.ELECTIVES)
    assert (electives.status, electives.required, electives.actual) == (Status.UNMET, D(2), D(1))
    done = replace(base, attendance=base.attendance + (attend(3, ELECTIVE_2, theory="0", practical="1"),))
    assert requirement(evaluate(done, ON), Kind.ELECTIVES).status == Status.MET


def test_electives_do_not_appear_when_the_package_is_not_required():
    step = evaluate(inputs(rules(require_package=False, min_electives=0)), ON).next_step
    assert not [r for r in step.requirements if r.kind in {Kind.COURSE, Kind.ELECTIVES}]


# --- exams -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "status"), [("59.5", Status.UNMET), ("60", Status.MET), ("60.0", Status.MET), ("100", Status.MET)]
)
def test_the_theory_pass_mark_is_inclusive(score, status):
    data = inputs(rules(require_theory=True), results=(result(5, score=score),))
    theory = requirement(evaluate(data, ON), Kind.THEORY)
    assert theory.status == status
    assert theory.actual == D(score)
    assert theory.evidence == ("result:5",)


def test_scores_out_of_other_full_marks_are_compared_as_percentages():
    data = inputs(rules(require_practical=True), results=(result(5, "practical", score="89", full_marks="150"),))
    assert requirement(evaluate(data, ON), Kind.PRACTICAL).status == Status.UNMET
    data = inputs(rules(require_practical=True), results=(result(5, "practical", score="90", full_marks="150"),))
    assert requirement(evaluate(data, ON), Kind.PRACTICAL).status == Status.MET


def test_special_operation_pass_mark_of_80():
    data = inputs(rules(require_theory=True, theory_pass_mark=D("80")), results=(result(5, score="79.9"),))
    assert requirement(evaluate(data, ON), Kind.THEORY).status == Status.UNMET


def test_an_absent_worker_has_failed_that_attempt():
    data = inputs(rules(require_theory=True), results=(result(5, score=None),))
    theory = requirement(evaluate(data, ON), Kind.THEORY)
    assert theory.status == Status.UNMET
    assert theory.actual is None
    assert "absent" in theory.detail
    assert theory.resits_left == 1


def test_the_latest_counting_result_decides():
    data = inputs(
        rules(require_theory=True, resit_limit=3),
        results=(
            result(5, score="90", held_on=dt.date(2025, 1, 1)),
            result(6, score="40", held_on=dt.date(2026, 1, 1), attempt=2),
        ),
    )
    assert requirement(evaluate(data, ON), Kind.THEORY).status == Status.UNMET


def test_a_resit_within_the_limit_counts():
    data = inputs(
        rules(require_theory=True),
        results=(
            result(5, score="50", held_on=dt.date(2026, 1, 1)),
            result(6, score="70", held_on=dt.date(2026, 2, 1), attempt=2),
        ),
    )
    theory = requirement(evaluate(data, ON), Kind.THEORY)
    assert theory.status == Status.MET
    assert theory.evidence == ("result:6",)


def test_after_the_resit_limit_a_new_attempt_counts_only_after_retraining():
    fails = (
        result(5, score="50", held_on=dt.date(2026, 1, 1)),
        result(6, score=None, held_on=dt.date(2026, 2, 1), attempt=2),
    )
    third = result(7, score="85", held_on=dt.date(2026, 4, 1), attempt=3)
    untrained = inputs(
        rules(require_theory=True),
        results=fails + (third,),
        attendance=(attend(1, LINE_A, start=dt.date(2026, 1, 15)),),
    )
    theory = requirement(evaluate(untrained, ON), Kind.THEORY)
    assert theory.status == Status.UNMET
    assert "retrain" in theory.detail and "2026-02-01" in theory.detail
    assert "#7" in theory.detail
    assert theory.resits_left == 0

    retrained = replace(untrained, attendance=untrained.attendance + (attend(2, LINE_B, start=dt.date(2026, 3, 1)),))
    theory = requirement(evaluate(retrained, ON), Kind.THEORY)
    assert theory.status == Status.MET
    assert theory.evidence == ("result:7",)


def test_retraining_on_the_day_of_the_failed_attempt_is_not_after_it():
    fails = (
        result(5, score="50", held_on=dt.date(2026, 1, 1)),
        result(6, score="50", held_on=dt.date(2026, 2, 1), attempt=2),
    )
    data = inputs(
        rules(require_theory=True),
        results=fails + (result(7, score="85", held_on=dt.date(2026, 4, 1), attempt=3),),
        attendance=(attend(1, LINE_A, start=dt.date(2026, 2, 1)),),
    )
    assert requirement(evaluate(data, ON), Kind.THEORY).status == Status.UNMET


def test_a_resit_limit_of_zero_means_retraining_after_the_first_failure():
    data = inputs(
        rules(require_theory=True, resit_limit=0),
        results=(
            result(5, score="50", held_on=dt.date(2026, 1, 1)),
            result(6, score="85", held_on=dt.date(2026, 2, 1), attempt=2),
        ),
    )
    assert requirement(evaluate(data, ON), Kind.THEORY).status == Status.UNMET


def test_a_passed_exam_lapses_after_its_validity():
    data = inputs(
        rules(require_theory=True, exam_valid_months=12), results=(result(5, score="90", held_on=dt.date(2025, 6, 1)),)
    )
    assert requirement(evaluate(data, dt.date(2026, 6, 1)), Kind.THEORY).status == Status.MET
    lapsed = requirement(evaluate(data, dt.date(2026, 6, 2)), Kind.THEORY)
    assert lapsed.status == Status.UNMET
    assert "lapsed on 2026-06-01" in lapsed.detail


def test_results_after_the_evaluation_date_are_ignored():
    data = inputs(rules(require_theory=True), results=(result(5, score="90", held_on=ON + dt.timedelta(days=1)),))
    assert requirement(evaluate(data, ON), Kind.THEORY).actual is None


def test_results_of_another_rank_do_not_count():
    data = inputs(rules(require_theory=True), results=(result(5, score="90", rank=L3),))
    assert requirement(evaluate(data, ON), Kind.THEORY).status == Status.UNMET


# --- composite -------------------------------------------------------------------------


def test_the_composite_weighs_theory_and_practical():
    rule_set = rules(theory_weight=D("40"), practical_weight=D("60"), composite_pass_mark=D("70"))
    data = inputs(rule_set, results=(result(5, score="55"), result(6, "practical", score="80")))
    composite = requirement(evaluate(data, ON), Kind.COMPOSITE)
    assert composite.actual == D("70")
    assert composite.status == Status.MET
    assert composite.evidence == ("result:5", "result:6")
    data = inputs(rule_set, results=(result(5, score="54.5"), result(6, "practical", score="80")))
    assert requirement(evaluate(data, ON), Kind.COMPOSITE).status == Status.UNMET


def test_a_composite_needs_both_scores():
    rule_set = rules(theory_weight=D("40"), practical_weight=D("60"), composite_pass_mark=D("60"))
    assert (
        requirement(evaluate(inputs(rule_set, results=(result(5, score="100"),)), ON), Kind.COMPOSITE).status
        == Status.UNMET
    )


# --- time at level ---------------------------------------------------------------------


def test_add_months_clips_leap_days():
    leap = dt.date(2020, 2, 29)
    assert add_years(leap, D("4")) == dt.date(2024, 2, 29)
    assert add_years(leap, D("1")) == dt.date(2021, 2, 28)
    assert add_years(leap, D("1.5")) == dt.date(2021, 8, 29)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert years_between(leap, dt.date(2021, 2, 27)) == D("0.9")
    assert years_between(leap, dt.date(2021, 2, 28)) == D("1.0")


def test_exactly_n_years_at_the_previous_rank_is_enough():
    data = inputs(rules(years_at_previous_rank=D("4")), awarded=(AwardRow(1, dt.date(2022, 6, 1), 900),))
    on_the_day = requirement(evaluate(data, dt.date(2026, 6, 1)), Kind.TIME)
    assert (on_the_day.status, on_the_day.met_on, on_the_day.actual) == (Status.MET, dt.date(2026, 6, 1), D("4.0"))
    day_before = requirement(evaluate(data, dt.date(2026, 5, 31)), Kind.TIME)
    assert (day_before.status, day_before.met_on, day_before.actual) == (Status.PENDING, dt.date(2026, 6, 1), D("3.9"))


def test_time_at_level_from_a_leap_day():
    data = inputs(rules(years_at_previous_rank=D("1")), awarded=(AwardRow(1, dt.date(2020, 2, 29)),))
    assert requirement(evaluate(data, dt.date(2021, 2, 27)), Kind.TIME).status == Status.PENDING
    assert requirement(evaluate(data, dt.date(2021, 2, 28)), Kind.TIME).status == Status.MET


def test_years_in_the_trade_alone():
    data = inputs(rules(L5, years_in_trade=D("1")), awarded=(), started_on=dt.date(2025, 6, 2))
    time = requirement(evaluate(data, ON), Kind.TIME, rank=L5)
    assert (time.status, time.met_on) == (Status.PENDING, dt.date(2026, 6, 2))


def test_either_time_requirement_satisfies_the_rule():
    # 2018-style 四级: 4 years after 五级, or 6 years in the trade.
    rule_set = rules(years_at_previous_rank=D("4"), years_in_trade=D("6"))
    data = inputs(rule_set, awarded=(AwardRow(1, dt.date(2024, 1, 1)),), started_on=dt.date(2020, 5, 1))
    time = requirement(evaluate(data, ON), Kind.TIME)
    assert (time.status, time.met_on, time.required) == (Status.MET, dt.date(2026, 5, 1), D("6"))
    assert "or" in time.detail
    late_starter = replace(data, started_on=dt.date(2023, 1, 1))
    time = requirement(evaluate(late_starter, ON), Kind.TIME)
    assert (time.status, time.met_on, time.required) == (Status.PENDING, dt.date(2028, 1, 1), D("4"))


def test_time_at_a_rank_not_held_cannot_be_dated():
    data = inputs(rules(L3, years_at_previous_rank=D("5"), allow_direct_entry=True))
    time = requirement(evaluate(data, ON), Kind.TIME, rank=L3)
    assert time.status == Status.UNMET
    assert time.met_on is None


# --- review, ladder ----------------------------------------------------------------


def test_the_comprehensive_review_needs_a_passed_outcome():
    data = inputs(rules(L2, require_review=True), awarded=(AwardRow(3, dt.date(2020, 1, 1)),))
    assert requirement(evaluate(data, ON), Kind.REVIEW, rank=L2).status == Status.UNMET
    failed = replace(data, reviews=(ReviewRow(8, L2.id, dt.date(2026, 1, 1), False),))
    assert requirement(evaluate(failed, ON), Kind.REVIEW, rank=L2).actual == "not passed"
    passed = replace(data, reviews=failed.reviews + (ReviewRow(9, L2.id, dt.date(2026, 3, 1), True),))
    review = requirement(evaluate(passed, ON), Kind.REVIEW, rank=L2)
    assert (review.status, review.evidence) == (Status.MET, ("review:9",))


def test_a_rank_needs_the_one_below_it():
    data = inputs(rules(L4), rules(L3))
    explanation = evaluate(data, ON)
    ladder = requirement(explanation, Kind.LADDER, rank=L3)
    assert ladder.status == Status.PENDING
    assert "中级工" in ladder.detail
    assert [step.rank_code for step, _ in climb(data, ON)] == ["L4", "L3"]


def test_the_ladder_is_unmet_when_the_rank_below_is_not_earned():
    data = inputs(rules(L4, require_theory=True), rules(L3))
    assert requirement(evaluate(data, ON), Kind.LADDER, rank=L3).status == Status.UNMET
    assert climb(data, ON) == []


def test_direct_entry_skips_the_ladder():
    data = inputs(
        rules(L4, require_theory=True),
        rules(L3, require_practical=True, allow_direct_entry=True),
        results=(result(5, "practical", rank=L3),),
    )
    step = evaluate(data, ON).steps[1]
    assert step.met
    assert rank_reached(data, ON) == L3.id


# --- versions -------------------------------------------------------------------------


def test_the_rule_set_in_force_on_the_date_applies():
    old = rules(years_at_previous_rank=D("4"), years_in_trade=D("6"), name="2018 标准")
    new = rules(
        id=21,
        years_at_previous_rank=D("3"),
        years_in_trade=D("5"),
        name="2022 新标准",
        effective_from=dt.date(2022, 1, 1),
    )
    data = inputs(old, new, awarded=(AwardRow(1, dt.date(2019, 6, 1)),), started_on=dt.date(2019, 1, 1))
    in_2021 = evaluate(data, dt.date(2021, 12, 31)).next_step
    assert (in_2021.rule_set_name, requirement(evaluate(data, dt.date(2021, 12, 31)), Kind.TIME).met_on) == (
        "2018 标准",
        dt.date(2023, 6, 1),
    )
    in_2022 = evaluate(data, dt.date(2022, 1, 1)).next_step
    assert (in_2022.rule_set_name, requirement(evaluate(data, dt.date(2022, 1, 1)), Kind.TIME).met_on) == (
        "2022 新标准",
        dt.date(2022, 6, 1),
    )
    assert evaluate(data, dt.date(2017, 12, 31)).next_step.requirements[0].kind == Kind.RULES


# --- combined ----------------------------------------------------------------------------


def test_every_requirement_together():
    rule_set = rules(
        require_package=True,
        min_electives=1,
        require_theory=True,
        require_practical=True,
        theory_weight=D("40"),
        practical_weight=D("60"),
        composite_pass_mark=D("65"),
        years_at_previous_rank=D("4"),
        years_in_trade=D("6"),
        exam_valid_months=12,
    )
    data = inputs(
        rule_set,
        attendance=(attend(1, LINE_A), attend(2, LINE_B), attend(3, ELECTIVE_1)),
        results=(result(5, score="62"), result(6, "practical", score="70")),
    )
    step = evaluate(data, ON).next_step
    assert [r.kind for r in step.requirements] == [
        Kind.LADDER,
        Kind.COURSE,
        Kind.COURSE,
        Kind.ELECTIVES,
        Kind.THEORY,
        Kind.PRACTICAL,
        Kind.COMPOSITE,
        Kind.TIME,
    ]
    assert step.met
    assert step.progress == 1.0
    weak = replace(data, results=(result(5, score="62"), result(6, "practical", score="66")))
    step = evaluate(weak, ON).next_step
    assert [r.kind for r in step.requirements if r.status != Status.MET] == [Kind.COMPOSITE]


def test_the_snapshot_is_plain_json_with_the_rule_values():
    rule_set = rules(require_theory=True, years_in_trade=D("6"))
    data = inputs(rule_set, results=(result(5, score="62"),))
    step = evaluate(data, ON).next_step
    snapshot = step_snapshot(step, rule_set, ON)
    import json

    json.dumps(snapshot)
    assert snapshot["rule_set"]["theory_pass_mark"] == "60"
    assert snapshot["rule_set"]["years_in_trade"] == "6"
    assert snapshot["results"] == [5]
    assert snapshot["requirements"][1]["actual"] == "62"


def test_attendance_summed_for_a_date_refuses_an_earlier_evaluation():
    course = AttendedCourse(LINE_A.course_id, D("24"), D("16"), dt.date(2026, 3, 2), "9,7", "2026-03-02,2026-01-05")
    data = inputs(rules(require_package=True), attendance=(course,))
    assert requirement(evaluate(data, dt.date(2026, 6, 1)), Kind.COURSE).evidence == ("attendance:7", "attendance:9")
    with pytest.raises(ValueError, match="cannot be evaluated"):
        evaluate(data, dt.date(2026, 3, 1))
