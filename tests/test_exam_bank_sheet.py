"""Importing and exporting the question bank in the mines' sheet layout (certifications/exams/bank_sheet.py)."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from openpyxl import load_workbook

from certifications.exams.bank import question_create
from certifications.exams.bank_sheet import (
    BankImportError,
    bank_export,
    bank_import,
    bank_parse,
    bank_template,
    html_table_rows,
)
from certifications.models import Question
from core.spreadsheets import SpreadsheetError
from tests import factories as f
from tests.exam_builders import HEADER, messy_bank_sheet, messy_question_rows
from tests.spreadsheet_builders import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
Kind = Question.Kind


def test_the_messy_sheet_of_sixty_questions_is_read_whole(django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        outcome = bank_parse(messy_bank_sheet(60))
    assert outcome.counts == {"new": 60, "duplicate": 0, "repeat": 0, "error": 0}
    # Title row and header: the first question is on the sheet's row 3.
    assert outcome.rows[0].number == 3 and outcome.rows[-1].number == 62
    kinds = [row.kind for row in outcome.rows]
    assert kinds.count(Kind.SINGLE) == kinds.count(Kind.MULTIPLE) == kinds.count(Kind.TRUE_FALSE) == 20


def test_importing_it_creates_every_question_with_canonical_answers_and_merged_knowledge_points(hr_user):
    outcome = bank_import(messy_bank_sheet(60), user=hr_user, filename="题库.xlsx")
    assert len(outcome.created) == Question.objects.count() == 60
    answers = {}
    for question in Question.objects.prefetch_related("versions"):
        answers[question.current.stem.split("：")[0]] = (
            question.kind,
            question.current.answer,
            question.knowledge_point,
        )
    assert answers["单选第12题"] == (Kind.SINGLE, "B", "机电设备")  # written Ｂ
    assert answers["多选第1题"] == (Kind.MULTIPLE, "ACD", "供电安全")  # written ａｃｄ
    assert answers["多选第4题"] == (Kind.MULTIPLE, "AC", "一通三防")  # written A、C
    assert answers["多选第10题"] == (Kind.MULTIPLE, "BD", "机电设备")  # written B，D
    assert answers["判断第2题"] == (Kind.TRUE_FALSE, "T", "供电安全")  # written √, under a merged 知识点
    assert answers["判断第11题"] == (Kind.TRUE_FALSE, "F", "机电设备")  # written ×, under a merged 知识点
    assert answers["判断第5题"] == (Kind.TRUE_FALSE, "F", "一通三防")  # written 错, under a merged 知识点
    entry = Question.history.filter(history_type="+").first()
    assert entry.history_change_reason == "import 题库.xlsx" and entry.history_user == hr_user


def test_the_import_writes_in_a_number_of_queries_that_does_not_grow_with_the_rows(django_assert_max_num_queries):
    f.TradeFactory(name="综采维修电工")
    f.RankFactory(name="中级工")
    # Twelve on PostgreSQL whatever the rows; SQLite takes bulk inserts in batches of its parameter limit.
    with django_assert_max_num_queries(12 if connection.vendor == "postgresql" else 20):
        outcome = bank_import(messy_bank_sheet(300, trade="综采维修电工", rank="中级工"))
    assert len(outcome.created) == 300
    question = Question.objects.get(pk=outcome.created[-1])
    assert question.version == 1 and question.history.count() == 1
    assert [t.name for t in question.trades.all()] == ["综采维修电工"] and question.ranks.count() == 1


def test_a_second_import_finds_every_question_already_in_the_bank_and_writes_nothing():
    bank_import(messy_bank_sheet(12))
    outcome = bank_parse(messy_bank_sheet(12))
    assert outcome.counts["duplicate"] == 12
    assert bank_import(messy_bank_sheet(12)).created == []
    assert Question.objects.count() == 12


def test_a_stem_repeated_in_the_sheet_differing_only_in_width_and_punctuation_is_left_out():
    rows = messy_question_rows(2)
    again = [*rows[0]]
    again[1] = again[1].replace("：", ":").replace("，", ",") + "  "
    outcome = bank_parse(xlsx_bytes([HEADER, *rows, again]))
    assert [(r.number, r.state, r.same_as) for r in outcome.rows] == [
        (2, "new", None),
        (3, "new", None),
        (4, "repeat", 2),
    ]


def test_one_bad_row_refuses_the_whole_file_naming_the_row_and_the_column():
    rows = messy_question_rows(5)
    rows[0][6] = "E"  # 多选 with options A–D
    rows[3][8] = 9  # 难度
    rows[4][0] = "问答"
    with pytest.raises(BankImportError) as refused:
        bank_import(xlsx_bytes([["某矿题库"], HEADER, *rows]))
    text = "\n".join(refused.value.errors)
    assert "Row 3: 正确答案: The answer names option E" in text
    assert "Row 6: 难度:" in text
    assert "Row 7: 题型: “问答” is not a question type" in text
    assert not Question.objects.exists()


def test_trades_and_ranks_are_named_several_to_a_cell_and_an_unknown_one_is_an_error():
    electrician = f.TradeFactory(name="综采维修电工")
    fitter = f.TradeFactory(name="井下电钳工")
    middle = f.RankFactory(name="中级工")
    senior = f.RankFactory(name="高级工")
    rows = messy_question_rows(2)
    rows[0][10], rows[0][11] = "综采维修电工、井下电钳工", "中级工；高级工"
    rows[1][10] = "采煤机司机"
    outcome = bank_parse(xlsx_bytes([HEADER, *rows]))
    assert outcome.rows[0].values["trades"] == [electrician, fitter]
    assert outcome.rows[0].values["ranks"] == [middle, senior]
    assert outcome.rows[1].errors == ["适用工种: no trade is called “采煤机司机”."]


def test_a_gbk_csv_without_a_type_column_is_read_and_the_type_told_by_the_answer():
    rows = [
        ["题干", "选项A", "选项B", "选项C", "答案"],
        ["瓦斯浓度超过多少必须停止作业？", "0.5%", "1.0%", "1.5%", "B"],
        ["下列属于“一通三防”内容的有？", "通风", "防瓦斯", "防煤尘", "ＡＢＣ"],
        ["井下严禁吸烟。", "", "", "", "√"],
    ]
    outcome = bank_parse(csv_bytes(rows, encoding="gbk"))
    assert [(r.kind, r.values["answer"]) for r in outcome.rows] == [
        (Kind.SINGLE, "B"),
        (Kind.MULTIPLE, "ABC"),
        (Kind.TRUE_FALSE, "T"),
    ]


def test_a_true_or_false_question_written_as_a_choice_between_right_and_wrong_is_read_as_such():
    rows = [
        ["题型", "题干", "选项A", "选项B", "答案"],
        ["判断题", "井下可以使用灯泡取暖。", "正确", "错误", "B"],
        ["判断题", "入井必须携带自救器。", "对", "错", "A"],
    ]
    outcome = bank_parse(xlsx_bytes(rows))
    assert [(r.kind, r.values["answer"], r.values["options"]) for r in outcome.rows] == [
        (Kind.TRUE_FALSE, "F", []),
        (Kind.TRUE_FALSE, "T", []),
    ]


def test_fill_in_questions_keep_every_accepted_answer():
    rows = [["题型", "题干", "正确答案"], ["填空", "矿井瓦斯的主要成分是____。", "甲烷|CH4"]]
    outcome = bank_parse(xlsx_bytes(rows))
    assert (outcome.rows[0].kind, outcome.rows[0].values["answer"]) == (Kind.FILL, "甲烷|CH4")


WORD_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv=Content-Type content="text/html; charset=gb2312"></head><body>
<p class=MsoTitle>机电专业题库</p>
<table class=MsoTableGrid border=1>
<tr><td><p>题型</p></td><td><p>题干</p></td><td>选项A</td><td>选项B</td><td>正确答案</td><td>知识点</td></tr>
<tr><td rowspan=2><p>判断</p></td><td><p>井下供电实行“三无”。</p></td><td></td><td></td><td>对</td>
<td rowspan=2>供电&nbsp;安全</td></tr>
<tr><td>变压器中性点可以直接接地。</td><td></td><td></td><td>错</td></tr>
<tr><td>单选</td><td>井下照明电压不超过<br>多少伏？</td><td>127V</td><td>220V</td><td>Ａ</td><td>照明</td></tr>
</table></body></html>"""


def test_a_sheet_word_saved_as_a_web_page_is_read_with_its_merged_cells():
    outcome = bank_parse(WORD_HTML.encode("gb18030"))
    assert [(r.number, r.kind, r.values["answer"], r.values["knowledge_point"]) for r in outcome.rows] == [
        (2, Kind.TRUE_FALSE, "T", "供电 安全"),
        (3, Kind.TRUE_FALSE, "F", "供电 安全"),
        (4, Kind.SINGLE, "A", "照明"),
    ]
    assert outcome.rows[2].values["stem"] == "井下照明电压不超过 多少伏？"


def test_html_rows_fill_rowspans_and_colspans_in_place():
    html = b'<table><tr><td rowspan=2>a</td><td colspan=2>b</td></tr><tr><td>c</td><td>"d"</td></tr></table>'
    assert html_table_rows(html).decode().splitlines() == ["a\tb\tb\t\t", 'a\tc\t"""d"""\t\t']


def test_a_file_without_a_stem_column_is_refused_saying_what_it_needs():
    with pytest.raises(SpreadsheetError, match="No header row found"):
        bank_parse(xlsx_bytes([["姓名", "工号"], ["张三", "E1"]]))


def test_the_export_is_the_import_layout_and_reads_back_as_duplicates_with_formulas_escaped():
    trade = f.TradeFactory(name="综采维修电工")
    question_create(
        kind=Kind.SINGLE, stem="=1+1 等于几？", options=["2", "=cmd|' /C calc'!A0"], answer="A", trades=[trade]
    )
    question_create(kind=Kind.TRUE_FALSE, stem="井下严禁带电检修。", answer="对")
    data = bank_export(Question.objects.all())
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["题型", "题干", "选项A"]
    assert rows[1][1] == "'=1+1 等于几？" and rows[1][3] == "'=cmd|' /C calc'!A0"
    assert rows[1][-2] == "综采维修电工"
    assert rows[2][0] == "判断" and rows[2][8] == "对"
    outcome = bank_parse(data)
    assert outcome.counts["duplicate"] == 2
    assert outcome.rows[0].values["stem"] == "=1+1 等于几？"


def test_the_template_has_the_layout_and_examples_that_are_never_imported():
    data = bank_template()
    header = next(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert list(header)[:2] == ["题型", "题干"] and "适用等级" in header
    with pytest.raises(SpreadsheetError, match="no questions below them"):
        bank_parse(data)
