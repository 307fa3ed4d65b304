"""
The question bank as the sheets mines already keep it: 题型, 题干, 选项A … 选项F,
正确答案, 解析, 难度, 知识点, 适用工种, 适用等级.

parse → check every row (the bank's own rules, question_text_clean) and find
duplicates by normalised stem, of the bank and within the sheet → refuse the
whole file if any row is bad → create the new questions through the bank's
door in one transaction. Read as the results import reads (core.spreadsheets:
title rows, merged cells, full-width letters, GBK CSV, .xls), and a sheet that
Word or WPS saved as a web page (an HTML table). Exported back in the same
layout, every cell escaped against formulas (core.workbooks).
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.exams.bank import (
    Kind,
    normalise_stem,
    question_text_clean,
    questions_create_many,
    stored_text,
)
from certifications.models import Question
from certifications.models.exams import OPTION_KEYS
from core.importexport import row_errors
from core.spreadsheets import SpreadsheetError, cell_text, decode_text, find_table, read_bytes, unescape_formula
from core.workbooks import Workbook
from training.models import Rank
from training.selectors import trade_names_get

# (key, the header we write, other names we accept). The headers are the mines' own, in Chinese.
COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("kind", "题型", ("题目类型", "试题类型", "类型", "题类", "question type", "type")),
    ("stem", "题干", ("题目", "试题", "题目内容", "试题内容", "问题", "stem", "question")),
    *(
        (f"option_{key}", f"选项{key}", (key, f"{key}选项", f"选项{key.lower()}", f"option {key}", f"option{key}"))
        for key in OPTION_KEYS
    ),
    ("answer", "正确答案", ("答案", "标准答案", "参考答案", "正确选项", "answer", "correct answer")),
    ("explanation", "解析", ("答案解析", "试题解析", "解释", "explanation")),
    ("difficulty", "难度", ("难度系数", "难易程度", "难易度", "difficulty")),
    ("knowledge_point", "知识点", ("考点", "知识点名称", "knowledge point")),
    ("trades", "适用工种", ("工种", "适用岗位", "trades", "trade")),
    ("ranks", "适用等级", ("等级", "技能等级", "适用级别", "ranks", "rank", "level")),
]
ALIASES = {key: (header, *names) for key, header, names in COLUMNS}
HEADERS = {key: header for key, header, _names in COLUMNS}
# What each field is called on the sheet, for the row errors.
FIELD_COLUMNS = {"stem": "题干", "options": "选项", "answer": "正确答案", "explanation": "解析", "images": "图片"}

KIND_WORDS = (
    (Kind.MULTIPLE, ("多选", "多项", "multiple", "不定项")),
    (Kind.SINGLE, ("单选", "单项", "single", "选择")),
    (Kind.TRUE_FALSE, ("判断", "是非", "对错", "true", "tf")),
    (Kind.FILL, ("填空", "fill")),
)
KIND_WRITTEN = {Kind.SINGLE: "单选", Kind.MULTIPLE: "多选", Kind.TRUE_FALSE: "判断", Kind.FILL: "填空"}
DIFFICULTY_WORDS = {
    "易": 1,
    "容易": 1,
    "简单": 1,
    "较易": 2,
    "中": 3,
    "中等": 3,
    "一般": 3,
    "较难": 4,
    "难": 5,
    "困难": 5,
}
NAME_SEPARATORS = re.compile(r"[、,，;；/\n]+")
EXAMPLE_MARKERS = ("示例", "例：", "例:", "e.g.", "example")
TRUE_FALSE_ANSWERS = {"对", "错", "√", "×", "✓", "✗", "正确", "错误", "t", "f", "是", "否"}


class BankImportError(Exception):
    """The file was refused as a whole; `errors` lists every bad row in words."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class BankRow:
    number: int  # the row number as the sheet shows it
    stem: str
    kind: str = ""
    state: str = "new"  # new | duplicate (of the bank) | repeat (of a row above) | error
    errors: list[str] = field(default_factory=list)
    same_as: int | None = None  # the existing question's id, or the row number repeated
    values: dict = field(default_factory=dict)  # question_create's keyword arguments

    @property
    def answer_shown(self) -> str:
        """The canonical answer as the sheet writes it (对/错 for true or false)."""
        answer = self.values.get("answer", "")
        return _answer_written(self.kind, answer) if answer else ""

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label if self.kind in Kind.values else ""


@dataclass
class BankImport:
    rows: list[BankRow] = field(default_factory=list)
    created: list[int] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("new", "duplicate", "repeat", "error"), 0)
        for row in self.rows:
            counts[row.state] += 1
        return counts

    @property
    def errors(self) -> list[str]:
        return row_errors(self.rows)

    @property
    def to_create(self) -> list[BankRow]:
        return [row for row in self.rows if row.state == "new"]


# --- a Word-exported sheet (an HTML table) ------------------------------------------------------------------


class _TableReader(html.parser.HTMLParser):
    """The rows of the first table with data, rowspan and colspan filled as merged cells are."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)
        self._pending: dict[int, tuple[int, str]] = {}  # column → (rows still to fill, value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._span = (_span(attrs.get("colspan")), _span(attrs.get("rowspan")))
        elif tag in ("br", "p", "div") and self._cell is not None and self._cell:
            self._cell.append("\n")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._fill_pending()
            text = "".join(self._cell).replace("\xa0", " ")
            value = " ".join(part.strip() for part in text.split("\n")).strip()
            columns, rows = self._span
            for _i in range(columns):
                if rows > 1:
                    self._pending[len(self._row)] = (rows - 1, value)
                self._row.append(value)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._fill_pending(end=True)
            self.rows.append(self._row)
            self._row = None

    def _fill_pending(self, end: bool = False):
        # A cell spanning rows from above takes its place in this row before the next cell of this row.
        while self._pending and (len(self._row) in self._pending or (end and max(self._pending) >= len(self._row))):
            index = len(self._row)
            if index not in self._pending:
                self._row.append("")
                continue
            left, value = self._pending.pop(index)
            if left > 1:
                self._pending[index] = (left - 1, value)
            self._row.append(value)


def _span(value) -> int:
    try:
        return max(1, min(int(value), 50))
    except (TypeError, ValueError):
        return 1


def is_html(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")) and b"<table" in data.lower()


def _tsv_field(value: str) -> str:
    value = value.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return '"' + value.replace('"', '""') + '"' if '"' in value else value


def html_table_rows(data: bytes) -> bytes:
    """
    Return a Word- or WPS-exported sheet (an HTML table) as tab-separated text the sheet readers take (quoted
    as a CSV reader expects: it is read back here, never offered as a download).
    """
    reader = _TableReader()
    reader.feed(decode_text(data))
    lines = ["\t".join(_tsv_field(value) for value in [*row, "", ""]) for row in reader.rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- reading ------------------------------------------------------------------------------------------------


def _kind(text: str, answer: str, has_options: bool) -> str:
    word = text.casefold().replace(" ", "")
    for kind, words in KIND_WORDS:
        if any(w in word for w in words):
            return kind
    if word in {str(label).casefold() for label in Kind.labels} or word in Kind.values:
        return next(k for k in Kind.values if word in (k, str(Kind(k).label).casefold()))
    if word:
        raise ValueError(_("“%(value)s” is not a question type: write 单选, 多选, 判断 or 填空.") % {"value": text})
    # No type given: told by the answer.
    answer = answer.strip().casefold()
    if answer in TRUE_FALSE_ANSWERS and not has_options:
        return Kind.TRUE_FALSE
    if not has_options:
        return Kind.FILL
    letters = [ch for ch in answer.upper() if ch in OPTION_KEYS]
    return Kind.MULTIPLE if len(letters) > 1 else Kind.SINGLE


def _true_false_as_options(options: list[str], answer: str) -> tuple[list[str], str]:
    """
    Some banks write 判断 as a choice between 选项A 对 and 选项B 错, answered A or B: read it as the answer it
    names. Options that are not 对/错 stay, and the question is refused for having them.
    """
    if not all(text.strip().casefold() in TRUE_FALSE_ANSWERS for text in options):
        return options, answer
    letter = answer.strip().upper()
    if len(letter) == 1 and letter in OPTION_KEYS[: len(options)]:
        answer = options[OPTION_KEYS.index(letter)]
    return [], answer


def _difficulty(value) -> int:
    text = cell_text(value)
    if not text:
        return 3
    if text in DIFFICULTY_WORDS:
        return DIFFICULTY_WORDS[text]
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not number.is_integer() or not 1 <= number <= 5:
        raise ValueError(
            _("“%(value)s” is not a difficulty: write 1 (easiest) to 5 (hardest), or 易/中/难.") % {"value": text}
        )
    return int(number)


def _names(value) -> list[str]:
    return [part.strip() for part in NAME_SEPARATORS.split(cell_text(value)) if part.strip()]


class _Ranks:
    def __init__(self):
        self.by_key = {}
        for rank in Rank.objects.all():
            for key in (rank.code, rank.name):
                self.by_key.setdefault(cell_text(key).casefold(), rank)

    def get(self, text: str):
        return self.by_key.get(text.casefold())


def _text(value) -> str:
    return unescape_formula(stored_text(value))


def bank_parse(source) -> BankImport:
    """Read a question sheet and check every row; write nothing."""
    data = read_bytes(source)
    if is_html(data):
        data = html_table_rows(data)
    table = find_table(data, ALIASES, required=("stem", "answer"))
    columns = table.columns

    def get(values, key):
        index = columns.get(key)
        if index is None or index >= len(values):
            return None
        return values[index]

    raw = []
    for number, values in table.rows:
        stem = _text(get(values, "stem"))
        if not stem and not cell_text(get(values, "answer")):
            continue  # decoration, or a merged cell filled down
        if stem.lower().startswith(EXAMPLE_MARKERS):
            continue
        raw.append((number, stem, values))
    if not raw:
        raise SpreadsheetError(
            _(
                "The sheet has headers but no questions below them, so nothing was imported. "
                "Fill in one row per question."
            )
        )
    trades, ranks = trade_names_get(), _Ranks()
    keys = {normalise_stem(stem) for _n, stem, _v in raw}
    existing = dict(Question.objects.filter(stem_key__in=keys).values_list("stem_key", "id"))
    seen: dict[str, int] = {}
    outcome = BankImport()
    for number, stem, values in raw:
        row = BankRow(number, stem)
        outcome.rows.append(row)
        options = [_text(get(values, f"option_{key}")) for key in OPTION_KEYS]
        while options and not options[-1]:
            options.pop()
        answer = cell_text(get(values, "answer"))
        try:
            row.kind = _kind(cell_text(get(values, "kind")), answer, any(options))
        except ValueError as error:
            row.errors.append(f"{HEADERS['kind']}: {error}")
            row.kind = ""
        if row.kind == Kind.TRUE_FALSE and options:
            options, answer = _true_false_as_options(options, answer)
        if any(options) and not all(options):
            gaps = "、".join(HEADERS[f"option_{OPTION_KEYS[i]}"] for i, text in enumerate(options) if not text)
            row.errors.append(_("%(columns)s: empty, but a later option is filled in.") % {"columns": gaps})
        try:
            difficulty = _difficulty(get(values, "difficulty"))
        except ValueError as error:
            row.errors.append(f"{HEADERS['difficulty']}: {error}")
            difficulty = 3
        knowledge_point = _text(get(values, "knowledge_point"))
        if len(knowledge_point) > 100:
            row.errors.append(
                _("%(column)s: %(length)s characters; at most %(limit)s fit.")
                % {"column": HEADERS["knowledge_point"], "length": len(knowledge_point), "limit": 100}
            )
        found_trades, found_ranks = [], []
        for name in _names(get(values, "trades")):
            trade = trades.get(name)
            if trade is None:
                row.errors.append(
                    _("%(column)s: no trade is called “%(name)s”.") % {"column": HEADERS["trades"], "name": name}
                )
            else:
                found_trades.append(trade)
        for name in _names(get(values, "ranks")):
            rank = ranks.get(name)
            if rank is None:
                row.errors.append(
                    _("%(column)s: no rank is called “%(name)s”.") % {"column": HEADERS["ranks"], "name": name}
                )
            else:
                found_ranks.append(rank)
        if row.kind:
            try:
                text = question_text_clean(row.kind, stem, options, answer, _text(get(values, "explanation")))
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    row.errors.extend(f"{FIELD_COLUMNS.get(name, name)}: {message}" for message in messages)
            else:
                row.values = {
                    "kind": row.kind,
                    **text,
                    "difficulty": difficulty,
                    "knowledge_point": knowledge_point,
                    "trades": found_trades,
                    "ranks": found_ranks,
                }
        key = normalise_stem(stem)
        if row.errors:
            row.state = "error"
        elif key in existing:
            row.state, row.same_as = "duplicate", existing[key]
        elif key in seen:
            row.state, row.same_as = "repeat", seen[key]
        seen.setdefault(key, number)
    return outcome


def bank_import(source, *, user=None, filename: str = "") -> BankImport:
    """
    Import a question sheet: every new question or none. Duplicates (of the bank, or of a row above) are left
    out. Raise BankImportError listing every bad row; SpreadsheetError for a file that cannot be read.
    """
    outcome = bank_parse(source)
    if any(row.errors for row in outcome.rows):
        raise BankImportError(outcome.errors)
    _bank_write(outcome, user=user, filename=filename)
    return outcome


@transaction.atomic
def _bank_write(outcome: BankImport, *, user=None, filename: str = "") -> None:
    reason = f"import {filename}".strip()
    rows = outcome.to_create
    try:
        created = questions_create_many([row.values for row in rows], user=user, reason=reason)
    except ValidationError as error:  # checked already; only a concurrent change gets here
        raise BankImportError(error.messages) from None
    outcome.created = [question.pk for question in created]


# --- writing ------------------------------------------------------------------------------------------------


def sheet_headers() -> list[str]:
    return [header for _key, header, _names in COLUMNS]


def _answer_written(kind: str, answer: str) -> str:
    if kind == Kind.TRUE_FALSE:
        return "对" if answer == "T" else "错"
    return answer


def bank_rows(questions) -> list[list]:
    """Return the sheet rows of these questions (prefetch versions, trades and ranks: no query per row)."""
    rows = []
    for question in questions:
        current = question.current
        if current is None:
            continue
        options = {o["key"]: o["text"] for o in current.options}
        rows.append(
            [
                KIND_WRITTEN.get(question.kind, question.kind),
                current.stem,
                *(options.get(key, "") for key in OPTION_KEYS),
                _answer_written(question.kind, current.answer),
                current.explanation,
                question.difficulty,
                question.knowledge_point,
                "、".join(t.name for t in question.trades.all()),
                "、".join(r.name for r in question.ranks.all()),
            ]
        )
    return rows


def bank_export(queryset) -> bytes:
    """Return the questions as the bank sheet (.xlsx), in the import's layout."""
    questions = queryset.prefetch_related("versions", "trades", "ranks").order_by("kind", "knowledge_point", "id")
    return _sheet(_("Question bank"), bank_rows(questions))


EXAMPLES = [
    [
        "单选",
        "示例：井下供电应做到“三无”，下列哪项不属于“三无”？",
        "无鸡爪子",
        "无羊尾巴",
        "无明接头",
        "无漏电",
        "",
        "",
        "D",
        "“三无”指无鸡爪子、无羊尾巴、无明接头。",
        2,
        "供电安全",
        "综采维修电工、井下电钳工",
        "中级工",
    ],
    [
        "多选",
        "示例：瓦斯爆炸必须同时具备的条件有哪些？",
        "瓦斯浓度在爆炸界限内",
        "足够的氧气",
        "引火源",
        "煤尘",
        "",
        "",
        "A、B、C",
        "",
        3,
        "一通三防",
        "瓦斯检查工",
        "中级工、高级工",
    ],
    ["判断", "示例：井下可以使用灯泡取暖。", "", "", "", "", "", "", "错", "", 1, "安全规程", "", ""],
]


def bank_template() -> bytes:
    """Return the empty bank sheet with three example rows (marked 示例, never imported)."""
    return _sheet(
        _("Question bank"),
        EXAMPLES,
        note=_(
            "One question per row. 题型: 单选, 多选, 判断 or 填空. 正确答案: B, ACD or A、C、D; 对/错 (√/×) for 判断; "
            "accepted answers separated by | for 填空. 难度 1–5. Trades and ranks by name, several separated by 、. "
            "Rows whose stem starts with 示例 are examples and never imported."
        ),
    )


def _sheet(title, rows, note: str = "") -> bytes:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.create_sheet(title)
    bold = sheet.style(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"))
    widths = [8, 48, *([18] * len(OPTION_KEYS)), 10, 30, 6, 14, 20, 14]
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    sheet.append([sheet.cell(header, bold) for header in sheet_headers()])
    for row in rows:
        sheet.append(row)
    if note:
        sheet.append([])
        sheet.append([note])
    return book.to_bytes()


IMPORT_HELP = gettext_lazy(
    "One row per question: 题型, 题干, 选项A … 选项F, 正确答案, 解析, 难度, 知识点, 适用工种, 适用等级. Title rows, "
    "merged cells, full-width letters, answers written A、C、D, ａｃｄ, 对/错 or √/×, GBK CSV, .xls and a sheet "
    "saved by Word as a web page are understood. Nothing is written unless every row is right; questions already "
    "in the bank (the same stem, ignoring spaces, width and punctuation) are left out."
)
