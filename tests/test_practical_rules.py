"""The one computation of a scoring sheet (certifications/practical/rules.py), as properties."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from certifications.practical.rules import Item, Mark, item_deduction, sheet_outcome

points = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("100"), places=1)
costs = st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=1)


@st.composite
def sheets(draw):
    n = draw(st.integers(1, 8))
    items = [Item(i, draw(points), draw(costs), draw(costs), critical=False) for i in range(1, n + 1)] + [
        Item(100 + i, Decimal("0"), critical=True) for i in range(draw(st.integers(0, 3)))
    ]
    marks = [
        Mark(item.id, draw(st.integers(0, 999)), draw(st.integers(0, 1440))) for item in items if draw(st.booleans())
    ]
    critical_ids = [i.id for i in items if i.critical]
    critical = draw(st.sampled_from([None, *critical_ids]))
    full_marks = draw(st.sampled_from([Decimal("100"), Decimal("50"), Decimal("150")]))
    pass_mark = draw(st.decimals(min_value=Decimal("0"), max_value=full_marks, places=1))
    return items, marks, critical, pass_mark, full_marks


@given(sheets())
def test_the_total_is_never_below_0_nor_above_full_points(sheet):
    items, marks, critical, pass_mark, full_marks = sheet
    outcome = sheet_outcome(items, marks, critical_item_id=critical, pass_mark=pass_mark, full_marks=full_marks)
    assert 0 <= outcome.total <= outcome.full_points
    assert 0 <= outcome.score <= full_marks


@given(sheets())
def test_an_items_deduction_is_capped_at_its_points(sheet):
    items, marks, critical, pass_mark, full_marks = sheet
    outcome = sheet_outcome(items, marks, critical_item_id=critical, pass_mark=pass_mark, full_marks=full_marks)
    for item in items:
        assert 0 <= outcome.deductions[item.id] <= item.points


@given(sheets())
def test_any_critical_item_fails_whatever_the_total(sheet):
    items, marks, critical, pass_mark, full_marks = sheet
    outcome = sheet_outcome(items, marks, critical_item_id=critical, pass_mark=pass_mark, full_marks=full_marks)
    if critical is not None:
        assert outcome.passed is False
        assert outcome.critical_item_id == critical
        assert outcome.score == 0
    else:
        assert outcome.passed == (outcome.score >= pass_mark)


@given(sheets())
def test_more_mistakes_never_raise_the_total(sheet):
    items, marks, critical, pass_mark, full_marks = sheet
    before = sheet_outcome(items, marks, critical_item_id=None, pass_mark=pass_mark, full_marks=full_marks)
    worse = [Mark(m.item_id, m.mistakes + 1, m.minutes_over) for m in marks]
    after = sheet_outcome(items, worse, critical_item_id=None, pass_mark=pass_mark, full_marks=full_marks)
    assert after.total <= before.total


def test_it_deducts_per_mistake_and_per_minute_over():
    item = Item(1, Decimal("30"), per_mistake=Decimal("2"), per_minute_over=Decimal("1"))
    assert item_deduction(item, Mark(1, mistakes=3, minutes_over=4)) == Decimal("10")
    assert item_deduction(item, Mark(1, mistakes=100)) == Decimal("30")
    assert item_deduction(item, None) == 0


def test_a_scheme_of_100_points_on_an_exam_of_100_marks_keeps_its_total():
    items = [Item(1, Decimal("60"), Decimal("5")), Item(2, Decimal("40"), Decimal("10"))]
    outcome = sheet_outcome(
        items, [Mark(1, 2), Mark(2, 1)], critical_item_id=None, pass_mark=Decimal("60"), full_marks=Decimal("100")
    )
    assert (outcome.total, outcome.score, outcome.passed) == (Decimal("80"), Decimal("80.0"), True)
