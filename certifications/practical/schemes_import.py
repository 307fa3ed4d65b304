"""
Import of a scoring scheme from the sheet mines use (项目, 考核内容, 配分,
评分标准, 否决项): parse → check every row, collecting each error with its row
number → refuse the whole file if any row is bad → write the scheme and its
items in one transaction. Title rows, merged 项目 cells, a 合计 row and a
否决项 row listing several violations are understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.models import ScoringItem, ScoringScheme
from core.history import with_reason
from core.spreadsheets import ABSENT, SpreadsheetError, cell_text, find_table, parse_score

# (key, header we write, other names we accept)
COLUMNS: list[tuple[str, object, tuple[str, ...]]] = [
    ("name", gettext_lazy("Item"), ("项目", "考核项目", "操作项目", "评分项目", "item")),
    (
        "content",
        gettext_lazy("What is assessed"),
        ("考核内容", "内容", "操作内容", "技术要求", "考核要点", "content", "what is assessed"),
    ),
    ("points", gettext_lazy("Points"), ("配分", "分值", "标准分", "分数", "points")),
    (
        "criteria",
        gettext_lazy("Scoring criteria"),
        ("评分标准", "扣分标准", "评分细则", "评分要求", "criteria", "scoring criteria"),
    ),
    ("critical", gettext_lazy("Critical item"), ("否决项", "否决", "是否否决项", "critical", "critical item")),
    (
        "per_mistake",
        gettext_lazy("Points off per mistake"),
        ("每处扣分", "每错扣分", "每项扣分", "per mistake", "points off per mistake"),
    ),
    (
        "per_minute_over",
        gettext_lazy("Points off per minute over"),
        ("每超时1分钟扣分", "超时每分钟扣分", "超时扣分", "per minute over", "points off per minute over"),
    ),
    (
        "time_limit",
        gettext_lazy("Time limit (minutes)"),
        ("时限", "时限分钟", "考核时间", "限时", "time limit", "time limit minutes"),
    ),
]
TEMPLATE_COLUMNS = ("name", "content", "points", "criteria", "critical")
ALIASES = {key: (str(header),) + names for key, header, names in COLUMNS}
HEADERS = {key: header for key, header, _names in COLUMNS}

YES_WORDS = {"是", "√", "✓", "✔", "y", "yes", "1", "x", "否决", "否决项", "true"}
NO_WORDS = {"否", "n", "no", "0", "false", "-", "—", "/", "无"}
TOTAL_WORDS = {"合计", "总分", "总计", "小计", "total"}
CRITICAL_NAMES = {"否决项", "否决", "否决条件", "critical items"}
LIST_SEPARATORS = re.compile(r"[、;；,，\n]+")
NUMBER = r"(\d+(?:\.\d+)?)"
PER_MINUTE = re.compile(r"超时[^扣]*?(?:每\s*)?" + NUMBER + r"?\s*分钟[^扣]*扣\s*" + NUMBER + r"\s*分")
PER_MISTAKE = re.compile(r"扣\s*" + NUMBER + r"\s*分")
MINUTES = re.compile(r"^\s*(\d+)\s*(?:分钟|min|minutes)?\s*$")


class SchemeImportError(Exception):
    """The file was refused as a whole; `errors` lists every bad row in words."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class ItemRow:
    number: int
    name: str
    content: str = ""
    points: Decimal = Decimal("0")
    criteria: str = ""
    per_mistake: Decimal = Decimal("0")
    per_minute_over: Decimal = Decimal("0")
    time_limit: int | None = None
    critical: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class SchemeParse:
    title: str
    rows: list[ItemRow]

    @property
    def errors(self) -> list[str]:
        return [e for row in self.rows for e in row.errors]

    @property
    def full_points(self) -> Decimal:
        return sum((r.points for r in self.rows if not r.critical), Decimal("0"))


def _is_yes(text: str) -> bool | None:
    folded = text.strip().lower()
    if not folded or folded in NO_WORDS:
        return False
    if folded in YES_WORDS:
        return True
    return None  # other text: the violation itself, named


def _points(value, row: ItemRow, label: str, errors: list[str]) -> Decimal | None:
    try:
        points = parse_score(value)
    except ValueError as exc:
        errors.append(_("Row %(row)s, %(column)s: %(problem)s") % {"row": row.number, "column": label, "problem": exc})
        return None
    if points is ABSENT:
        errors.append(_("Row %(row)s, %(column)s: write a number.") % {"row": row.number, "column": label})
        return None
    if points is not None and not (0 <= points <= 1000):
        errors.append(_("Row %(row)s, %(column)s: from 0 to 1000.") % {"row": row.number, "column": label})
        return None
    return points


def criteria_deductions(text: str) -> tuple[Decimal | None, Decimal | None]:
    """Read 评分标准 such as 每错一处扣5分, 每超时1分钟扣1分: (points per mistake, points per minute over)."""
    per_minute = None
    rest = text
    match = PER_MINUTE.search(text)
    if match:
        minutes = Decimal(match.group(1) or "1")
        per_minute = Decimal(match.group(2)) / minutes if minutes else None
        rest = text[: match.start()] + text[match.end() :]
    mistake = PER_MISTAKE.search(rest)
    return (Decimal(mistake.group(1)) if mistake else None), per_minute


def scheme_parse(data: bytes) -> SchemeParse:
    """Read a scheme sheet; every row's problems are in its `errors`. SpreadsheetError for an unreadable file."""
    table = find_table(data, ALIASES, required=("name", "points"))
    labels = {
        key: (table.headers[i] if i < len(table.headers) else str(HEADERS[key])) for key, i in table.columns.items()
    }
    title = next((cell_text(v) for row in table.above for v in row if cell_text(v)), "")
    rows: list[ItemRow] = []
    for number, values in table.rows:

        def get(key, values=values):
            index = table.columns.get(key)
            return values[index] if index is not None and index < len(values) else None

        name = cell_text(get("name"))
        row = ItemRow(number=number, name=name, content=cell_text(get("content")), criteria=cell_text(get("criteria")))
        errors: list[str] = []
        if name.lower() in TOTAL_WORDS or row.content.lower() in TOTAL_WORDS:
            continue
        marked = cell_text(get("critical"))
        if name in CRITICAL_NAMES or name.rstrip("：:") in CRITICAL_NAMES:
            # One row listing the violations: 否决项 | 带电作业、未验电 — one critical item each.
            for part in LIST_SEPARATORS.split(row.content or row.criteria or marked):
                if part.strip():
                    rows.append(ItemRow(number=number, name=part.strip()[:100], critical=True))
            continue
        yes = _is_yes(marked)
        if yes is None:
            # A violation named next to an item (验电放电 … | 未验电): the item, and a critical item of that name.
            rows.append(ItemRow(number=number, name=marked[:100], critical=True))
        if not name:
            errors.append(_("Row %(row)s: the item (项目) is empty.") % {"row": number})
        elif len(name) > 100:
            errors.append(_("Row %(row)s: the item (项目) is longer than 100 characters.") % {"row": number})
        for key, limit in (("content", 500), ("criteria", 500)):
            if len(getattr(row, key)) > limit:
                errors.append(
                    _("Row %(row)s, %(column)s: at most %(limit)s characters.")
                    % {"row": number, "column": labels.get(key, HEADERS[key]), "limit": limit}
                )
        points = _points(get("points"), row, labels.get("points", str(HEADERS["points"])), errors)
        row.critical = yes is True
        if row.critical:
            row.points = points or Decimal("0")
        else:
            if points is None and not errors:
                errors.append(_("Row %(row)s: the points (配分) are empty.") % {"row": number})
            elif points is not None and points <= 0:
                errors.append(_("Row %(row)s: the points (配分) must be above 0.") % {"row": number})
            row.points = points or Decimal("0")
            from_text = criteria_deductions(row.criteria)
            mistake = _points(get("per_mistake"), row, labels.get("per_mistake", ""), errors)
            minute = _points(get("per_minute_over"), row, labels.get("per_minute_over", ""), errors)
            row.per_mistake = mistake if mistake is not None else (from_text[0] or Decimal("0"))
            row.per_minute_over = minute if minute is not None else (from_text[1] or Decimal("0"))
            if not errors and row.per_mistake == 0 and row.per_minute_over == 0:
                errors.append(
                    _(
                        "Row %(row)s: the scoring criteria (评分标准) name no deduction; write e.g. 每错一处扣5分 "
                        "or 每超时1分钟扣1分."
                    )
                    % {"row": number}
                )
        limit_text = cell_text(get("time_limit"))
        if limit_text:
            match = MINUTES.match(limit_text)
            if match and int(match.group(1)) <= 1440:
                row.time_limit = int(match.group(1))
            else:
                errors.append(
                    _("Row %(row)s, %(column)s: write the minutes, e.g. 30.")
                    % {"row": number, "column": labels.get("time_limit", "")}
                )
        row.errors = errors
        rows.append(row)
    # A violation named twice (next to an item and again in the 否决项 row) is one critical item.
    seen: set[str] = set()
    rows = [r for r in rows if not r.critical or r.errors or not (r.name in seen or seen.add(r.name))]
    if not rows:
        raise SpreadsheetError(_("The sheet has no items below its header."))
    if not any(not r.critical for r in rows):
        rows[0].errors.append(_("The sheet has no item with points."))
    return SchemeParse(title=title[:200], rows=rows)


@transaction.atomic
def scheme_import(parsed: SchemeParse, *, scheme: ScoringScheme, user=None, filename: str = "") -> ScoringScheme:
    """Write a checked sheet as a new scheme with its items: all or nothing. SchemeImportError if any row is bad."""
    if parsed.errors:
        raise SchemeImportError(parsed.errors)
    if not scheme.name:
        scheme.name = parsed.title or filename or _("Scoring scheme")
    try:
        scheme.full_clean()
    except ValidationError as exc:
        raise SchemeImportError(exc.messages) from None
    with_reason(scheme, f"import {filename}".strip(), user=user)
    scheme.save()
    items = []
    for order, row in enumerate(parsed.rows, 1):
        item = ScoringItem(
            scheme=scheme,
            order=order,
            name=row.name,
            content=row.content,
            points=row.points,
            criteria=row.criteria,
            per_mistake=row.per_mistake,
            per_minute_over=row.per_minute_over,
            time_limit_minutes=row.time_limit,
            critical=row.critical,
        )
        try:
            item.full_clean(exclude=["scheme"])
        except ValidationError as exc:
            raise SchemeImportError(
                [_("Row %(row)s: %(problem)s") % {"row": row.number, "problem": " ".join(exc.messages)}]
            ) from None
        with_reason(item, f"import {filename}".strip(), user=user)
        item.save()
        items.append(item)
    return scheme


def scheme_template() -> bytes:
    """Return a scheme sheet (.xlsx) with the columns the importer reads and example rows."""
    from openpyxl.styles import Font

    from core.workbooks import Workbook

    workbook = Workbook()
    sheet = workbook.create_sheet(_("Scoring scheme"))
    for index, width in enumerate((18, 40, 8, 40, 14), 1):
        sheet.column_dimensions[chr(64 + index)].width = width
    bold = sheet.style(font=Font(bold=True))
    sheet.append([sheet.cell(_("Practical scoring scheme (实操评分表)"), bold)])
    sheet.append([sheet.cell(str(HEADERS[key]), bold) for key in TEMPLATE_COLUMNS])
    for row in (
        ("停送电操作程序", "按停电、验电、放电、挂牌顺序操作", 40, "每错一处扣5分", ""),
        ("验电放电", "使用同电压等级验电笔验电并放电", 30, "每错一处扣10分", "未验电"),
        ("工具使用", "正确选用和使用工具", 30, "每错一处扣2分；每超时1分钟扣1分", ""),
        ("否决项", "带电作业、未验电", "", "出现任一项，实操成绩为不合格", "是"),
    ):
        sheet.append(list(row))
    return workbook.to_bytes()
