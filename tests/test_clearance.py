"""The pure clearance rules: plain data in, a verdict with reasons out. No database."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from certifications.clearance import rules as c
from core.dates import add_months, last_day_after

D = dt.date
ELECTRICAL = (7, "煤矿井下电气作业")
TRADE = c.TradeFact(id=1, name="综采维修电工", underground=True, special_operations=(ELECTRICAL,))
SURFACE = c.TradeFact(id=2, name="化验工", underground=False)
RULES = (c.RuleVersion(id=1, name="2018", effective_from=D(2018, 3, 1)),)


def annual(year, hours="20", kind=c.ANNUAL):
    return c.AttendanceFact(kind, D(year, 3, 1), D(year, 3, 5), Decimal(hours))


def cert(**kw):
    defaults = {
        "id": 11,
        "kind": "special_operation",
        "number": "T001",
        "issued_on": D(2023, 5, 6),
        "special_operation_id": 7,
        "valid_until": D(2029, 5, 5),
        "next_review_due": D(2026, 5, 5),
    }
    return c.CertificateFact(**{**defaults, **kw})


def review(on, passed=True, hours="8", pk=1):
    return c.ReviewFact(pk, on, passed, Decimal(hours))


def worker(**kw):
    defaults = {
        "id": 1,
        "employee_no": "E1",
        "category": "special_operation",
        "hire_date": D(2015, 3, 1),
        "trades": (c.WorkerTradeFact(1, D(2015, 3, 1)), c.WorkerTradeFact(2, D(2015, 3, 1))),
        "certificates": (cert(),),
        "attendances": tuple(annual(y) for y in range(2015, 2031)),
    }
    return c.WorkerFacts(**{**defaults, **kw})


def codes(verdict):
    return [r.code for r in verdict.reasons]


# ── dates ─────────────────────────────────────────────────────────────────


def test_three_years_from_a_leap_day_end_on_the_28th_of_february():
    assert last_day_after(D(2024, 2, 29), years=3) == D(2027, 2, 28)
    assert last_day_after(D(2024, 2, 29), years=4) == D(2028, 2, 28)
    assert last_day_after(D(2023, 5, 6), years=6) == D(2029, 5, 5)


def test_months_roll_over_the_end_of_the_year_and_short_months():
    assert add_months(D(2025, 10, 31), 4, short_month="roll") == D(2026, 3, 3) - dt.timedelta(days=2)
    assert add_months(D(2026, 1, 31), 1, short_month="roll") == D(2026, 3, 1)


# ── certificates and reviews ──────────────────────────────────────────────


def test_a_worker_with_a_valid_certificate_and_hours_is_cleared_until_the_review_due_date():
    verdict = c.evaluate(worker(), TRADE, D(2026, 1, 10), RULES)
    assert verdict.cleared, verdict.reasons
    assert verdict.lapses_on == D(2026, 5, 5)


def test_a_review_due_today_still_clears_and_one_missed_yesterday_does_not():
    assert c.evaluate(worker(), TRADE, D(2026, 5, 5), RULES).cleared
    verdict = c.evaluate(worker(), TRADE, D(2026, 5, 6), RULES)
    assert not verdict.cleared
    assert codes(verdict) == ["review_missed"]
    assert verdict.reasons[0].since == D(2026, 5, 6)
    assert "2026-05-05" in verdict.reasons[0].message


def test_a_review_due_tomorrow_clears_today_and_lapses_tomorrow():
    verdict = c.evaluate(worker(), TRADE, D(2026, 5, 4), RULES)
    assert verdict.cleared
    assert verdict.lapses_on == D(2026, 5, 5)


def test_a_certificate_expiring_today_clears_today_and_not_tomorrow():
    expiring = cert(valid_until=D(2026, 5, 5), next_review_due=None)
    w = worker(certificates=(expiring,))
    assert c.evaluate(w, TRADE, D(2026, 5, 5), RULES).cleared
    verdict = c.evaluate(w, TRADE, D(2026, 5, 6), RULES)
    assert codes(verdict) == ["certificate_expired"]


def test_a_review_exactly_sixty_days_before_the_due_date_counts():
    w = worker(certificates=(cert(reviews=(review(D(2026, 5, 5) - dt.timedelta(days=60)),)),))
    verdict = c.evaluate(w, TRADE, D(2026, 6, 1), RULES)
    assert verdict.cleared, verdict.reasons
    assert verdict.lapses_on == D(2029, 5, 5)


def test_a_review_sixty_one_days_before_the_due_date_is_before_the_window_and_does_not_count():
    w = worker(certificates=(cert(reviews=(review(D(2026, 5, 5) - dt.timedelta(days=61)),)),))
    assert codes(c.evaluate(w, TRADE, D(2026, 6, 1), RULES)) == ["review_missed"]


def test_a_review_after_the_due_date_does_not_revive_the_certificate():
    w = worker(certificates=(cert(reviews=(review(D(2026, 5, 20)),)),))
    assert codes(c.evaluate(w, TRADE, D(2026, 6, 1), RULES)) == ["review_missed"]


def test_one_failed_review_followed_by_a_pass_keeps_the_certificate():
    history = (review(D(2026, 4, 1), passed=False, pk=1), review(D(2026, 4, 20), pk=2))
    w = worker(certificates=(cert(reviews=history),))
    assert c.evaluate(w, TRADE, D(2026, 6, 1), RULES).cleared


def test_a_certificate_that_fails_its_review_twice_is_invalid_from_the_second_failure():
    history = (review(D(2026, 4, 1), passed=False, pk=1), review(D(2026, 4, 20), passed=False, pk=2))
    w = worker(certificates=(cert(reviews=history),))
    assert c.evaluate(w, TRADE, D(2026, 4, 19), RULES).cleared
    verdict = c.evaluate(w, TRADE, D(2026, 4, 20), RULES)
    assert codes(verdict) == ["review_failed"]


def test_a_passed_review_without_eight_hours_of_review_training_does_not_count():
    w = worker(certificates=(cert(reviews=(review(D(2026, 4, 1), hours="4"),)),))
    verdict = c.evaluate(w, TRADE, D(2026, 4, 2), RULES)
    assert codes(verdict) == ["review_training_missing"]
    assert "4 of 8" in verdict.reasons[0].message


def test_review_training_hours_are_summed_across_partial_review_classes():
    classes = (
        c.AttendanceFact(c.REVIEW, D(2026, 3, 2), D(2026, 3, 2), Decimal("3")),
        c.AttendanceFact(c.REVIEW, D(2026, 3, 9), D(2026, 3, 9), Decimal("5")),
    )
    w = worker(
        certificates=(cert(reviews=(review(D(2026, 4, 1), hours="0"),)),),
        attendances=worker().attendances + classes,
    )
    assert c.evaluate(w, TRADE, D(2026, 6, 1), RULES).cleared


def test_a_review_at_the_end_of_the_validity_renews_the_certificate_for_six_years():
    history = (review(D(2026, 4, 1), pk=1), review(D(2029, 4, 1), pk=2))
    w = worker(certificates=(cert(reviews=history),))
    verdict = c.evaluate(w, TRADE, D(2029, 6, 1), RULES)
    assert verdict.cleared, verdict.reasons
    assert verdict.lapses_on == D(2032, 5, 5)


def test_the_extended_six_year_review_applies_only_after_ten_years_and_approval():
    old = cert(first_issued_on=D(2010, 5, 6), extended_review_approved=True, reviews=(review(D(2026, 4, 1)),))
    young = replace(old, first_issued_on=D(2020, 5, 6))
    assert c.evaluate(worker(certificates=(old,)), TRADE, D(2026, 6, 1), RULES).deadlines[0].due_on == D(2029, 5, 5)
    state_old = c.certificate_state(old, RULES[0], D(2026, 6, 1))
    state_young = c.certificate_state(young, RULES[0], D(2026, 6, 1))
    assert state_old.review_due == D(2029, 5, 5)  # capped by the expiry, which a review then renews
    assert state_young.review_due == D(2029, 5, 5)
    long_valid = replace(old, valid_until=D(2035, 5, 5))
    assert c.certificate_state(long_valid, RULES[0], D(2026, 6, 1)).review_due == D(2032, 5, 5)
    assert c.certificate_state(
        replace(long_valid, first_issued_on=D(2020, 5, 6)), RULES[0], D(2026, 6, 1)
    ).review_due == D(2029, 5, 5)


def test_a_leap_day_certificate_is_due_for_review_on_the_28th_of_february():
    leap = cert(issued_on=D(2024, 2, 29), valid_until=None, next_review_due=None)
    state = c.certificate_state(leap, RULES[0], D(2025, 1, 1))
    assert state.review_due == D(2027, 2, 28)
    assert state.valid_until == D(2030, 2, 28)
    w = worker(certificates=(leap,))
    assert c.evaluate(w, TRADE, D(2027, 2, 28), RULES).cleared
    assert not c.evaluate(w, TRADE, D(2027, 3, 1), RULES).cleared


def test_a_worker_without_the_certificate_the_trade_needs_is_not_cleared():
    verdict = c.evaluate(worker(certificates=()), TRADE, D(2026, 1, 10), RULES)
    assert codes(verdict) == ["certificate_missing"]
    assert "煤矿井下电气作业" in verdict.reasons[0].message


def test_a_revoked_certificate_does_not_clear():
    assert codes(c.evaluate(worker(certificates=(cert(revoked=True),)), TRADE, D(2026, 1, 10), RULES)) == [
        "certificate_revoked"
    ]


def test_a_trade_without_special_operations_needs_no_certificate():
    assert c.evaluate(worker(certificates=()), SURFACE, D(2026, 1, 10), RULES).cleared


def test_a_newer_certificate_replaces_an_expired_one():
    old = cert(id=1, number="OLD", issued_on=D(2014, 1, 1), valid_until=D(2020, 1, 1), next_review_due=D(2020, 1, 1))
    assert c.evaluate(worker(certificates=(old, cert(id=2))), TRADE, D(2026, 1, 10), RULES).cleared


def test_certificates_and_reviews_dated_after_the_evaluation_date_are_ignored():
    w = worker(
        certificates=(cert(issued_on=D(2026, 2, 1), valid_until=D(2032, 1, 31), next_review_due=D(2029, 1, 31)),)
    )
    assert codes(c.evaluate(w, TRADE, D(2026, 1, 10), RULES)) == ["certificate_missing"]


# ── hours ─────────────────────────────────────────────────────────────────


def test_last_years_annual_hours_are_summed_across_partial_classes():
    partial = (annual(2025, "8"), annual(2025, "12.5"))
    w = worker(attendances=tuple(a for a in worker().attendances if a.end.year != 2025) + partial)
    assert c.evaluate(w, SURFACE, D(2026, 1, 10), RULES).cleared


def test_short_annual_hours_last_year_block_clearance_from_the_first_of_january():
    w = worker(attendances=tuple(a for a in worker().attendances if a.end.year != 2025) + (annual(2025, "19.5"),))
    assert c.evaluate(w, SURFACE, D(2025, 12, 31), RULES).cleared
    verdict = c.evaluate(w, SURFACE, D(2026, 1, 1), RULES)
    assert codes(verdict) == ["annual_hours"]
    assert "19.5 of 20" in verdict.reasons[0].message


def test_this_years_missing_hours_are_a_deadline_on_the_31st_of_december_not_a_block():
    w = worker(attendances=tuple(a for a in worker().attendances if a.end.year != 2026))
    verdict = c.evaluate(w, SURFACE, D(2026, 6, 1), RULES)
    assert verdict.cleared
    assert verdict.lapses_on == D(2026, 12, 31)
    assert verdict.deadlines[0].kind == "annual_hours"


def test_hours_of_other_class_kinds_do_not_count_as_annual_retraining():
    w = worker(attendances=(annual(2025, "40", kind="upskill"),))
    assert "annual_hours" in codes(c.evaluate(w, SURFACE, D(2026, 1, 10), RULES))


def test_managers_follow_their_own_rule():
    rules = RULES + (
        c.RuleVersion(
            id=2, name="managers", effective_from=D(2018, 3, 1), category="safety_manager", annual_hours=Decimal("16")
        ),
    )
    w = worker(category="safety_manager", attendances=(annual(2025, "16"),))
    assert c.evaluate(w, SURFACE, D(2026, 1, 10), rules).cleared
    assert "annual_hours" in codes(c.evaluate(replace(w, category="other"), SURFACE, D(2026, 1, 10), rules))


def test_a_rule_version_applies_from_its_effective_date_and_each_year_uses_the_rule_of_its_own_end():
    rules = RULES + (c.RuleVersion(id=3, name="2026", effective_from=D(2026, 1, 1), annual_hours=Decimal("24")),)
    w = worker(attendances=(annual(2025, "20"), annual(2026, "20")))
    # 2025 is judged by the rule in force on 2025-12-31 (20 hours), so 20 hours clear in 2026.
    assert c.evaluate(w, SURFACE, D(2026, 6, 1), rules).cleared
    # 2026 is judged by the 24-hour rule in 2027.
    verdict = c.evaluate(w, SURFACE, D(2027, 1, 1), rules)
    assert codes(verdict) == ["annual_hours"]
    assert "20 of 24" in verdict.reasons[0].message


def test_the_most_specific_rule_wins_and_an_earlier_date_falls_back_to_the_earliest_version():
    general = c.RuleVersion(id=1, name="g", effective_from=D(2020, 1, 1))
    by_trade = c.RuleVersion(id=2, name="t", effective_from=D(2019, 1, 1), trade_id=1, annual_hours=Decimal("30"))
    rules = (general, by_trade)
    assert c.rule_in_force(rules, category="other", trade_id=1, on=D(2021, 1, 1)) is by_trade
    assert c.rule_in_force(rules, category="other", trade_id=2, on=D(2021, 1, 1)) is general
    assert c.rule_in_force(rules, category="other", trade_id=2, on=D(2010, 1, 1)) is general
    assert c.rule_in_force((), category="safety_manager", trade_id=2, on=D(2021, 1, 1)).annual_hours == Decimal("16")


def test_a_new_hire_needs_the_initial_training_hours_before_starting():
    w = worker(hire_date=D(2025, 9, 1), trades=(c.WorkerTradeFact(2, D(2025, 9, 1)),), attendances=())
    verdict = c.evaluate(w, SURFACE, D(2025, 10, 1), RULES)
    assert codes(verdict) == ["initial_hours"]
    pre_job = (
        c.AttendanceFact(c.PRE_JOB, D(2025, 8, 1), D(2025, 8, 10), Decimal("40")),
        c.AttendanceFact(c.PRE_JOB, D(2025, 8, 11), D(2025, 8, 20), Decimal("32")),
    )
    assert c.evaluate(replace(w, attendances=pre_job), SURFACE, D(2025, 10, 1), RULES).cleared


def test_initial_training_records_are_demanded_only_in_the_first_year_after_hiring():
    w = worker(hire_date=D(2024, 9, 1), trades=(c.WorkerTradeFact(2, D(2024, 9, 1)),), attendances=(annual(2025),))
    assert codes(c.evaluate(w, SURFACE, D(2025, 8, 31), RULES)) == ["initial_hours"]
    assert c.evaluate(w, SURFACE, D(2025, 9, 1), RULES).cleared


def test_workers_hired_before_the_first_rule_took_effect_are_not_asked_for_initial_training_records():
    w = worker(hire_date=D(2010, 1, 1), attendances=(annual(2025),))
    assert c.evaluate(w, SURFACE, D(2026, 1, 10), RULES).cleared


# ── trade, away, mentoring, managers ─────────────────────────────────────


def test_a_worker_who_does_not_hold_the_trade_is_not_cleared_for_it():
    w = worker(trades=(c.WorkerTradeFact(2, D(2015, 3, 1)),))
    assert codes(c.evaluate(w, TRADE, D(2026, 1, 10), RULES)) == ["trade_not_held"]
    ended = worker(trades=(c.WorkerTradeFact(1, D(2015, 3, 1), D(2025, 12, 31)),))
    assert codes(c.evaluate(ended, TRADE, D(2026, 1, 10), RULES)) == ["trade_not_held"]


def test_a_worker_who_changed_trade_needs_transfer_training():
    w = worker(trades=(c.WorkerTradeFact(2, D(2015, 3, 1), D(2024, 12, 31)), c.WorkerTradeFact(1, D(2025, 1, 1))))
    assert codes(c.evaluate(w, TRADE, D(2025, 6, 10), RULES)) == ["transfer_training_missing"]
    transfer = c.AttendanceFact(c.TRANSFER, D(2024, 12, 1), D(2024, 12, 20), Decimal("24"))
    assert c.evaluate(replace(w, attendances=w.attendances + (transfer,)), TRADE, D(2025, 6, 10), RULES).cleared


def test_after_a_year_in_the_new_trade_transfer_training_records_are_no_longer_demanded():
    w = worker(trades=(c.WorkerTradeFact(2, D(2015, 3, 1), D(2024, 12, 31)), c.WorkerTradeFact(1, D(2025, 1, 1))))
    assert c.evaluate(w, TRADE, D(2025, 12, 31), RULES).reasons
    assert c.evaluate(w, TRADE, D(2026, 1, 1), RULES).cleared


def test_a_worker_away_today_is_not_cleared():
    w = worker(away_periods=(c.AwayFact(D(2025, 12, 1), None),))
    verdict = c.evaluate(w, SURFACE, D(2026, 1, 10), RULES)
    assert codes(verdict) == ["away"]
    assert verdict.reasons[0].since == D(2025, 12, 1)


def test_six_months_away_from_a_special_operation_requires_the_practical_exam_again():
    away = c.AwayFact(D(2025, 3, 1), D(2025, 8, 31))  # exactly six months
    w = worker(away_periods=(away,))
    assert codes(c.evaluate(w, TRADE, D(2025, 9, 10), RULES)) == ["practical_exam_required"]
    assert c.evaluate(w, SURFACE, D(2025, 9, 10), RULES).cleared
    passed = replace(w, practical_passes=(c.PracticalPassFact(7, D(2025, 9, 5)),))
    assert c.evaluate(passed, TRADE, D(2025, 9, 10), RULES).cleared
    shorter = worker(away_periods=(c.AwayFact(D(2025, 3, 1), D(2025, 8, 30)),))
    assert c.evaluate(shorter, TRADE, D(2025, 9, 10), RULES).cleared


def test_a_year_away_requires_return_to_post_retraining():
    w = worker(away_periods=(c.AwayFact(D(2024, 1, 1), D(2024, 12, 31)),))
    verdict = c.evaluate(w, SURFACE, D(2025, 2, 1), RULES)
    assert codes(verdict) == ["return_training_missing"]
    back = c.AttendanceFact(c.RETURN, D(2025, 1, 5), D(2025, 1, 10), Decimal("20"))
    assert c.evaluate(replace(w, attendances=w.attendances + (back,)), SURFACE, D(2025, 2, 1), RULES).cleared


def test_a_worker_away_most_of_last_year_is_not_blocked_for_last_years_hours():
    w = worker(attendances=(), away_periods=(c.AwayFact(D(2025, 1, 1), D(2025, 9, 30)),))
    back = c.AttendanceFact(c.RETURN, D(2025, 10, 5), D(2025, 10, 10), Decimal("20"))
    verdict = c.evaluate(replace(w, attendances=(back,)), SURFACE, D(2026, 1, 10), RULES)
    assert verdict.cleared, verdict.reasons


def new_underground(**kw):
    pre_job = (c.AttendanceFact(c.PRE_JOB, D(2025, 12, 1), D(2025, 12, 20), Decimal("72")),)
    return worker(
        hire_date=D(2025, 12, 1),
        underground_start=D(2026, 1, 5),
        trades=(c.WorkerTradeFact(2, D(2026, 1, 5)),),
        attendances=pre_job,
        **kw,
    )


UNDERGROUND = replace(SURFACE, underground=True)


def test_a_new_underground_worker_without_a_mentor_is_not_cleared():
    assert codes(c.evaluate(new_underground(), UNDERGROUND, D(2026, 2, 1), RULES)) == ["mentor_missing"]


def test_an_apprentice_works_under_the_mentor_until_signed_off():
    pair = c.MentorshipFact(5, "李师傅", None, D(2026, 1, 5), D(2026, 5, 4))
    verdict = c.evaluate(new_underground(mentorships=(pair,)), UNDERGROUND, D(2026, 3, 1), RULES)
    assert codes(verdict) == ["mentoring_not_signed_off"]
    assert "李师傅" in verdict.reasons[0].message
    signed = replace(pair, signed_off_on=D(2026, 5, 5), signed_off_by="王队长")
    assert c.evaluate(new_underground(mentorships=(signed,)), UNDERGROUND, D(2026, 5, 5), RULES).cleared
    # As of the day before the sign-off, the apprentice was not yet cleared.
    assert not c.evaluate(new_underground(mentorships=(signed,)), UNDERGROUND, D(2026, 5, 4), RULES).cleared


def test_a_sign_off_before_the_mentoring_period_ends_does_not_clear():
    early = c.MentorshipFact(5, "李师傅", None, D(2026, 1, 5), D(2026, 5, 4), D(2026, 5, 4), "王队长")
    assert codes(c.evaluate(new_underground(mentorships=(early,)), UNDERGROUND, D(2026, 6, 1), RULES)) == [
        "mentoring_too_short"
    ]


def test_a_mentorship_for_another_trade_does_not_count():
    other = c.MentorshipFact(5, "李师傅", 99, D(2026, 1, 5), D(2026, 5, 4), D(2026, 5, 5))
    assert codes(c.evaluate(new_underground(mentorships=(other,)), UNDERGROUND, D(2026, 6, 1), RULES)) == [
        "mentor_missing"
    ]


def manager(**kw):
    return worker(category="safety_manager", appointed_on=D(2026, 1, 1), **kw)


def test_a_new_manager_has_six_months_to_pass_the_safety_management_assessment():
    verdict = c.evaluate(manager(), SURFACE, D(2026, 6, 30), RULES)
    assert verdict.cleared
    assert verdict.lapses_on == D(2026, 6, 30)
    assert codes(c.evaluate(manager(), SURFACE, D(2026, 7, 1), RULES)) == ["manager_assessment_missing"]
    passed = cert(
        id=30, kind="safety_management", special_operation_id=None, issued_on=D(2026, 5, 1), valid_until=D(2029, 4, 30)
    )
    verdict = c.evaluate(manager(certificates=(passed,)), SURFACE, D(2026, 7, 1), RULES)
    assert verdict.cleared
    assert verdict.lapses_on is None  # the assessment's expiry is a reminder, not a lapse
    assert any(d.kind == "expiry" and d.due_on == D(2029, 4, 30) and not d.blocking for d in verdict.deadlines)
    # Passed within six months is what the rule asks; an expired pass is a reminder, not a block.
    assert c.evaluate(manager(certificates=(passed,)), SURFACE, D(2030, 1, 10), RULES).cleared


def test_an_unsigned_mentorship_blocks_however_long_ago_it_started():
    pair = c.MentorshipFact(5, "李师傅", None, D(2026, 1, 5), D(2026, 5, 4))
    assert "mentoring_not_signed_off" in codes(
        c.evaluate(new_underground(mentorships=(pair,)), UNDERGROUND, D(2027, 6, 1), RULES)
    )
    assert "mentor_missing" not in codes(c.evaluate(new_underground(), UNDERGROUND, D(2027, 6, 1), RULES))


def test_every_blocking_reason_is_listed_not_just_the_first():
    w = worker(certificates=(), attendances=(), away_periods=(c.AwayFact(D(2026, 1, 1), None),))
    assert set(codes(c.evaluate(w, TRADE, D(2026, 1, 10), RULES))) == {"certificate_missing", "annual_hours", "away"}


# ── properties ────────────────────────────────────────────────────────────

dates = st.dates(min_value=D(2019, 1, 1), max_value=D(2035, 12, 31))


@given(on=dates, issued=st.dates(min_value=D(2018, 1, 1), max_value=D(2030, 12, 31)))
def test_a_cleared_verdict_has_no_reasons_and_lapses_on_or_after_the_date(on, issued):
    w = worker(certificates=(cert(issued_on=issued, valid_until=None, next_review_due=None),))
    verdict = c.evaluate(w, TRADE, on, RULES)
    assert verdict.cleared == (not verdict.reasons)
    if verdict.cleared:
        assert verdict.lapses_on is None or verdict.lapses_on >= on
    else:
        assert verdict.lapses_on is None


@given(on=dates, later=st.integers(min_value=1, max_value=400))
def test_records_dated_after_the_evaluation_date_never_change_the_verdict(on, later):
    base = worker()
    future = on + dt.timedelta(days=later)
    extra = replace(
        base,
        certificates=base.certificates
        + (cert(id=99, number="NEW", issued_on=future, valid_until=None, next_review_due=None),),
        attendances=base.attendances + (c.AttendanceFact(c.REVIEW, future, future, Decimal("8")),),
    )
    assert c.evaluate(base, TRADE, on, RULES).cleared == c.evaluate(extra, TRADE, on, RULES).cleared


@given(day=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)), years=st.integers(1, 12))
def test_a_period_of_whole_years_ends_the_day_before_its_anniversary(day, years):
    end = last_day_after(day, years=years)
    assert end.year in (day.year + years, day.year + years - 1)
    assert (end + dt.timedelta(days=1)).month in (day.month, 3)
