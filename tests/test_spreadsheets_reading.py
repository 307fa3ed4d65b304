"""The shared spreadsheet reading helpers and the one formula escape."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.dates import parse_date
from core.spreadsheets import (
    ABSENT,
    SpreadsheetError,
    escape_formula,
    find_table,
    parse_score,
    unescape_formula,
)
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes


@pytest.mark.parametrize(
    "value",
    [
        "2026-09-05",
        "2026/9/5",
        "2026.9.5",
        "2026年9月5日",
        "２０２６年９月５日",
        " 2026-9-5 ",
        "20260905",
        46270,
        46270.0,
        "46270",
        dt.datetime(2026, 9, 5, 0, 0),
        dt.date(2026, 9, 5),
    ],
)
def test_it_reads_every_date_form_the_mine_writes(value):
    assert parse_date(value) == dt.date(2026, 9, 5)


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", 12, "2026-02-30"])
def test_it_refuses_what_is_not_a_date(value):
    with pytest.raises(ValueError):
        parse_date(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("85", Decimal("85")),
        ("８５", Decimal("85")),
        (" 59.5 ", Decimal("59.5")),
        ("72分", Decimal("72")),
        (90, Decimal("90")),
        (88.5, Decimal("88.5")),
        ("缺考", ABSENT),
        ("缺", ABSENT),
        ("", None),
        (None, None),
    ],
)
def test_it_reads_scores_and_absence(value, expected):
    assert parse_score(value) == expected


def test_it_refuses_a_score_in_words():
    with pytest.raises(ValueError, match="not a score"):
        parse_score("八十")


@pytest.mark.parametrize("text", ["=1+1", "+86 123", "-5", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_would_run_as_a_formula_is_escaped(text):
    assert escape_formula(text) == "'" + text
    assert unescape_formula(escape_formula(text)) == text


def test_numbers_and_harmless_text_are_left_alone():
    assert escape_formula(-5) == -5 and escape_formula(Decimal("1.5")) == Decimal("1.5")
    assert escape_formula("张三") == "张三" and escape_formula(None) is None


@given(st.text())
def test_escaping_round_trips_any_text(text):
    assert unescape_formula(escape_formula(text)) == text or text.startswith("'")


def test_it_finds_a_two_row_header_under_a_merged_title():
    data = xlsx_bytes(
        [
            ["成绩表"],
            ["工号", "姓名", "成绩", None],
            [None, None, "理论", "实操"],
            ["E1", "张三", 80, 90],
            ["制表：李四"],
        ],
        merges=["A1:D1", "C2:D2", "A2:A3", "B2:B3"],
    )
    table = find_table(
        data,
        {"employee_no": ["工号"], "name": ["姓名"], "theory": ["理论"], "practical": ["实操"]},
        required=["employee_no"],
    )
    assert table.columns == {"employee_no": 0, "name": 1, "theory": 2, "practical": 3}
    assert list(table.rows) == [(4, ["E1", "张三", 80, 90])]


def test_it_stops_at_the_signature_line_and_skips_blank_rows():
    data = csv_bytes([["工号", "姓名"], ["E1", "甲"], ["", ""], ["E2", "乙"], ["考评员签字：", ""], ["E3", "丙"]])
    table = find_table(data, {"employee_no": ["工号"], "name": ["姓名"]})
    assert [n for n, _v in table.rows] == [2, 4]


def test_it_says_which_header_it_needs():
    with pytest.raises(SpreadsheetError, match="No header row"):
        find_table(csv_bytes([["a", "b"]]), {"employee_no": ["工号"], "name": ["姓名"]}, required=["employee_no"])
