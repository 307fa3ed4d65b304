"""core.dates' arithmetic: one copy, two rules for a day the target month lacks (clip and roll)."""

import calendar
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.dates import add_months, add_years, last_day_after

D = dt.date
days = st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31))
rules = st.sampled_from(["clip", "roll"])


def test_a_leap_day_is_clipped_or_rolled():
    assert add_years(D(2024, 2, 29), 1) == D(2025, 2, 28)
    assert add_years(D(2024, 2, 29), 1, short_month="roll") == D(2025, 3, 1)
    assert add_years(D(2024, 2, 29), 4) == add_years(D(2024, 2, 29), 4, short_month="roll") == D(2028, 2, 29)
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 1, 31), 1, short_month="roll") == D(2026, 3, 1)


def test_fractional_years_count_whole_months_rounded_half_up():
    assert add_years(D(2020, 2, 29), Decimal("1.5")) == D(2021, 8, 29)
    assert add_years(D(2020, 1, 15), Decimal("0.05")) == D(2020, 2, 15)  # 0.6 months → 1
    assert add_years(D(2020, 1, 15), Decimal("0.04")) == D(2020, 1, 15)  # 0.48 months → 0
    assert add_years(D(2020, 1, 15), Decimal("-0.5")) == D(2019, 7, 15)


def test_the_period_rule_is_the_one_the_certificate_docs_state():
    assert last_day_after(D(2024, 2, 29), years=3) == D(2027, 2, 28)
    assert last_day_after(D(2023, 5, 6), years=6) == D(2029, 5, 5)


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="short_month"):
        add_months(D(2026, 1, 1), 1, short_month="round")


@given(day=days, months=st.integers(-600, 600), rule=rules)
def test_the_month_moves_by_exactly_the_months_asked(day, months, rule):
    moved = add_months(day, months, short_month=rule)
    target = day.year * 12 + day.month - 1 + months
    if moved.day == day.day or rule == "clip":
        assert moved.year * 12 + moved.month - 1 == target
    else:  # rolled into the month after
        assert moved.day == 1 and moved.year * 12 + moved.month - 1 == target + 1


@given(day=days, months=st.integers(-600, 600), rule=rules)
def test_a_day_the_target_month_has_is_kept_and_only_a_missing_one_changes(day, months, rule):
    moved = add_months(day, months, short_month=rule)
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    if day.day <= last:
        assert moved == D(year, month + 1, day.day)
    elif rule == "clip":
        assert moved == D(year, month + 1, last)
    else:
        assert moved == D(year, month + 1, last) + dt.timedelta(days=1)


@given(day=days, months=st.integers(0, 600))
def test_adding_months_never_goes_backwards_and_the_two_rules_differ_by_at_most_a_few_days(day, months):
    clipped, rolled = add_months(day, months), add_months(day, months, short_month="roll")
    assert clipped >= day and rolled >= day
    assert 0 <= (rolled - clipped).days <= 3


@given(day=days, years=st.integers(-100, 100), rule=rules)
def test_years_are_twelve_months_and_a_whole_decimal_is_the_same_as_an_int(day, years, rule):
    assert add_years(day, years, short_month=rule) == add_months(day, 12 * years, short_month=rule)
    assert add_years(day, Decimal(years), short_month=rule) == add_years(day, years, short_month=rule)


@given(day=days, years=st.integers(1, 50))
def test_a_round_trip_comes_back_except_from_a_clipped_day(day, years):
    there = add_years(day, years)
    back = add_years(there, -years)
    assert back == day or (there.day < day.day and day.month == 2)


@given(day=days, years=st.integers(0, 12), months=st.integers(0, 24))
def test_a_period_ends_the_day_before_the_next_one_starts(day, years, months):
    if years == months == 0:
        return
    end = last_day_after(day, years=years, months=months)
    assert end >= day
    assert end + dt.timedelta(days=1) == add_months(day, 12 * years + months, short_month="roll")
    # Periods laid end to end cover every day once: the next period starts the day after.
    assert last_day_after(end + dt.timedelta(days=1), years=years, months=months) > end
