"""
Question-bank sheets as mines send them, built in the test instead of committed binaries; and a bank, a paper
template and an online exam session on the roll-up's test trade (tests/rollup_setup.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from certifications.models import ExamCandidate, ExamSession, PaperTemplate, Question
from tests import factories as f
from tests.rollup_setup import Trade, trade_setup, worker_in
from tests.spreadsheet_builders import xlsx_bytes
from training import roles

HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "正确答案",
    "解析",
    "难度",
    "知识点",
    "适用工种",
    "适用等级",
]
KNOWLEDGE_POINTS = ("供电安全", "一通三防", "安全规程", "机电设备")


def messy_question_rows(n: int = 60, *, start: int = 1, trade: str = "", rank: str = "") -> list[list]:
    """
    n question rows in HEADER's layout, a third each 单选, 多选 and 判断: full-width letters (Ｂ), answers written
    A、C and ａｃｄ, 对/错 and √/×, difficulty written 中 or as a number. Stems are unique (numbered from start).
    """
    rows = []
    for i in range(start, start + n):
        kind = ("单选", "多选", "判断")[i % 3]
        point = KNOWLEDGE_POINTS[((i - start) // 3) % len(KNOWLEDGE_POINTS)]
        if kind == "单选":
            answer = ("Ｂ", "c", "A", "D")[i % 4]
            options = [f"第{i}题的选项{k}" for k in "ABCD"]
            stem = f"单选第{i}题：井下作业时，下列哪一项做法正确？"
        elif kind == "多选":
            answer = ("A、C", "ａｃｄ", "B，D", "ABC")[i % 4]
            options = [f"第{i}题的说法{k}" for k in "ABCD"]
            stem = f"多选第{i}题：下列关于矿井通风的说法，正确的有（　）。"
        else:
            answer = ("对", "错", "√", "×")[i % 4]
            options = ["", "", "", ""]
            stem = f"判断第{i}题：井下电气设备检修必须停电、验电、放电。"
        rows.append(
            [
                kind,
                stem,
                *options,
                answer,
                f"第{i}题的解析。",
                "中" if i % 5 == 0 else (i % 5),
                point,
                trade,
                rank,
            ]
        )
    return rows


def messy_bank_sheet(n: int = 60, *, start: int = 1, trade: str = "", rank: str = "") -> bytes:
    """
    An .xlsx as a mine keeps its bank: a merged title row, the header, n questions (messy_question_rows) whose
    knowledge point is written once and merged down over each run of three rows, and a sign-off line below.
    """
    title = ["2026年综采维修电工理论考试题库（第一版）", *[None] * (len(HEADER) - 1)]
    rows = [title, HEADER]
    merges = [f"A1:{chr(64 + len(HEADER))}1"]
    body = messy_question_rows(n, start=start, trade=trade, rank=rank)
    column = chr(64 + HEADER.index("知识点") + 1)
    for index, row in enumerate(body):
        sheet_row = len(rows) + 1
        if index % 3 == 0 and index + 2 < len(body) and len({body[index + k][9] for k in range(3)}) == 1:
            merges.append(f"{column}{sheet_row}:{column}{sheet_row + 2}")
        elif index % 3:
            row = [*row]
            if any(m.startswith(f"{column}{sheet_row - index % 3}:") for m in merges):
                row[9] = None  # under the merge: Excel keeps only the top-left value
        rows.append(row)
    rows.append([])
    rows.append(["制表人：张志强", None, "审核：李明"])
    return xlsx_bytes(rows, merges=merges, title="题库")


def bank(setup: Trade, n: int, *, kind=Question.Kind.SINGLE, difficulty=3, knowledge_point="供电安全", **kwargs):
    """Return n active questions serving the trade × rank of the setup (answer B for choices, T for true/false)."""
    questions = []
    for _ in range(n):
        question = f.QuestionFactory(kind=kind, difficulty=difficulty, knowledge_point=knowledge_point, **kwargs)
        question.trades.add(setup.trade)
        question.ranks.add(setup.ranks[1])
        questions.append(question)
    return questions


def template_for(setup: Trade, *, count=10, marks=Decimal("10"), **kwargs) -> PaperTemplate:
    template = f.PaperTemplateFactory(trade=setup.trade, rank=setup.ranks[1], **kwargs)
    f.PaperSectionFactory(template=template, kind=Question.Kind.SINGLE, count=count, marks_each=marks)
    return template


@dataclass
class Exam:
    setup: Trade
    template: PaperTemplate
    session: ExamSession
    candidate: ExamCandidate
    worker: object
    user: object


def exam_setup(*, questions=12, count=10, minutes=30, ready=True, **template_kwargs) -> Exam:
    """
    A trainee who holds 初级工 and (ready=True) attended the 中级工 course and passed the practical: the online
    theory exam is the last requirement of the 中级工 award.
    """
    setup = trade_setup()
    user = f.UserFactory(role=roles.TRAINEE)
    worker = worker_in(setup, f.WorkerFactory(user=user))
    if ready:
        f.AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
        f.ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("80"))
    bank(setup, questions)
    template = template_for(
        setup, count=count, marks=Decimal("100") / count, duration_minutes=minutes, **template_kwargs
    )
    now = timezone.now()
    session = f.ExamSessionFactory(
        template=template,
        assessment=setup.theory,
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=3),
    )
    candidate = f.ExamCandidateFactory(session=session, worker=worker)
    return Exam(setup, template, session, candidate, worker, user)
