"""Question-bank sheets as mines send them, built in the test instead of committed binaries."""

from __future__ import annotations

from tests.spreadsheet_builders import xlsx_bytes

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
