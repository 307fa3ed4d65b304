"""The scoring-scheme import: the mines' layout, errors by row, all or nothing, and the template."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from certifications.models import ScoringItem, ScoringScheme
from certifications.practical.schemes_import import (
    SchemeImportError,
    criteria_deductions,
    scheme_import,
    scheme_parse,
    scheme_template,
)
from tests import factories as f
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

GOOD = [
    ["综采维修电工（中级）实操考核评分表", None, None, None, None],
    ["项目", "考核内容", "配分", "评分标准", "否决项"],
    ["停送电操作", "停电顺序", 20, "每错一处扣5分", ""],
    ["停送电操作", "送电顺序", 20, "每错一处扣5分", ""],
    ["验电放电", "验电、放电", 30, "每漏一项扣10分", "未验电"],
    ["工具使用", "正确使用工具", "３０", "每错一处扣2分，每超时1分钟扣1分", ""],
    ["否决项", "带电作业、未验电", None, "出现任一项实操不合格", "是"],
    ["合计", None, 100, None, None],
    ["考评员签字：", None, None, None, None],
]


def scheme_for(trade, rank):
    return ScoringScheme(trade=trade, rank=rank, effective_from=dt.date(2026, 1, 1))


def test_a_mines_sheet_becomes_a_scheme_with_its_items_and_critical_items():
    trade, rank = f.TradeFactory(), f.RankFactory()
    data = xlsx_bytes(GOOD, merges=["A3:A4"])
    parsed = scheme_parse(data)
    assert parsed.errors == []
    scheme = scheme_import(parsed, scheme=scheme_for(trade, rank), filename="评分表.xlsx")
    assert scheme.name == "综采维修电工(中级)实操考核评分表"  # full-width folded
    items = list(scheme.items.order_by("order"))
    assert [(i.name, i.points, i.per_mistake, i.per_minute_over, i.critical) for i in items] == [
        ("停送电操作", Decimal("20"), Decimal("5"), Decimal("0"), False),
        ("停送电操作", Decimal("20"), Decimal("5"), Decimal("0"), False),
        ("未验电", Decimal("0"), Decimal("0"), Decimal("0"), True),
        ("验电放电", Decimal("30"), Decimal("10"), Decimal("0"), False),
        ("工具使用", Decimal("30"), Decimal("2"), Decimal("1"), False),
        ("带电作业", Decimal("0"), Decimal("0"), Decimal("0"), True),
    ]
    assert parsed.full_points == 100
    assert scheme.history.get().history_change_reason == "import 评分表.xlsx"


@pytest.mark.parametrize(
    "row, message",
    [
        (["工具使用", "x", "", "每错一处扣2分", ""], "Row 3: the points (配分) are empty."),
        (["工具使用", "x", "三十", "每错一处扣2分", ""], "Row 3, 配分:"),
        (["工具使用", "x", 30, "酌情扣分", ""], "Row 3: the scoring criteria (评分标准) name no deduction"),
        (["", "x", 30, "每错一处扣2分", ""], "Row 3: the item (项目) is empty."),
        (["工具使用", "x", -5, "每错一处扣2分", ""], "Row 3, 配分: from 0 to 1000."),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(row, message):
    trade, rank = f.TradeFactory(), f.RankFactory()
    data = xlsx_bytes([GOOD[0], GOOD[1], row, GOOD[2]])
    parsed = scheme_parse(data)
    assert any(e.startswith(message) for e in parsed.errors), parsed.errors
    with pytest.raises(SchemeImportError):
        scheme_import(parsed, scheme=scheme_for(trade, rank))
    assert not ScoringScheme.objects.exists() and not ScoringItem.objects.exists()


def test_a_csv_saved_by_chinese_excel_is_read():
    data = csv_bytes(GOOD[1:7], encoding="gbk")
    assert scheme_parse(data).errors == []


def test_the_criteria_say_the_deductions():
    assert criteria_deductions("每错一处扣5分") == (Decimal("5"), None)
    assert criteria_deductions("每超时1分钟扣1分") == (None, Decimal("1"))
    assert criteria_deductions("操作错误每处扣2分；超时每2分钟扣1分") == (Decimal("2"), Decimal("0.5"))


def test_the_template_imports_as_it_is():
    parsed = scheme_parse(scheme_template())
    assert parsed.errors == []
    assert [r.name for r in parsed.rows if r.critical] == ["未验电", "带电作业"]


def test_hr_imports_through_the_admin_preview_then_confirm(hr_client):
    trade, rank = f.TradeFactory(), f.RankFactory()
    url = reverse("admin:certifications_scoringscheme_import")
    upload = xlsx_bytes(GOOD)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = hr_client.post(
        url,
        {
            "file": SimpleUploadedFile("scheme.xlsx", upload),
            "trade": trade.pk,
            "rank": rank.pk,
            "effective_from": "2026-01-01",
            "time_limit_minutes": "30",
        },
    )
    assert response.status_code == 200
    assert not ScoringScheme.objects.exists()
    token = response.context["token"]
    confirmed = hr_client.post(url, {"token": token})
    assert confirmed.status_code == 302
    scheme = ScoringScheme.objects.get()
    assert (scheme.trade, scheme.rank, scheme.time_limit_minutes, scheme.items.count()) == (trade, rank, 30, 6)


def test_a_bad_file_in_the_admin_shows_the_rows_and_gives_no_confirm(hr_client):
    trade, rank = f.TradeFactory(), f.RankFactory()
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = xlsx_bytes([GOOD[1], ["工具使用", "x", "", "每错一处扣2分", ""]])
    response = hr_client.post(
        reverse("admin:certifications_scoringscheme_import"),
        {"file": SimpleUploadedFile("s.xlsx", bad), "trade": trade.pk, "rank": rank.pk, "effective_from": "2026-01-01"},
    )
    assert "token" not in response.context
    assert "Row 2: the points (配分) are empty." in response.content.decode()


def test_the_template_downloads(hr_client):
    response = hr_client.get(reverse("admin:certifications_scoringscheme_template"))
    assert response.status_code == 200 and response.content[:2] == b"PK"
