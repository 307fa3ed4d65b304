"""
The exam-centre results import: one row per worker with a theory and a
practical score, as the exam centre sends them, or the results sheet of an
appraisal sitting (certifications/spreadsheets/sitting_sheet.py) filled in.

parse → validate every row (collecting every error with its row number) →
refuse the whole file if any row is bad → bulk-create in one transaction →
re-run the roll-up once per affected worker after commit. The number of
queries does not depend on the number of rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.models import MAX_ATTEMPT, Assessment, AssessmentResult, RankRecord, RuleSet, Sitting
from certifications.ranks.services import (
    RankChange,
    award_met_on,
    ranks_recompute,
    results_correct_many,
    results_create_many,
)
from core.dates import parse_date
from core.importexport import row_errors
from core.ranges import field_problems
from core.spreadsheets import (
    ABSENT,
    EMPLOYEE_NUMBER_HEADERS,
    SpreadsheetError,
    cell_text,
    find_table,
    parse_score,
    read_bytes,
)
from training.models import Course, Rank, SpecialOperation, Worker
from training.selectors import trade_names_get

# The columns of the exam-centre sheet: (key, header we write, other names we accept).
COLUMNS: list[tuple[str, object, tuple[str, ...]]] = [
    (
        "employee_no",
        gettext_lazy("Employee number"),
        EMPLOYEE_NUMBER_HEADERS,
    ),
    ("name", gettext_lazy("Name"), ("姓名", "name")),
    (
        "assessment",
        gettext_lazy("Assessment"),
        ("考核编码", "考试编码", "考核代码", "考核编号", "考试编号", "assessment", "assessment code"),
    ),
    ("course", gettext_lazy("Course"), ("课程", "课程编码", "课程代码", "培训项目", "course", "course code")),
    ("trade", gettext_lazy("Trade"), ("工种", "鉴定工种", "trade")),
    ("rank", gettext_lazy("Rank"), ("等级", "技能等级", "鉴定等级", "申报等级", "rank", "level")),
    ("special_operation", gettext_lazy("Special operation"), ("作业类别", "操作项目", "special operation")),
    (
        "theory",
        gettext_lazy("Theory score"),
        ("理论成绩", "理论", "理论考试", "理论考试成绩", "应知", "应知成绩", "theory score", "theory"),
    ),
    (
        "practical",
        gettext_lazy("Practical score"),
        (
            "实操成绩",
            "实操",
            "实际操作",
            "实操考试",
            "实操考试成绩",
            "技能成绩",
            "技能操作",
            "应会",
            "应会成绩",
            "practical score",
            "practical",
        ),
    ),
    ("held_on", gettext_lazy("Date"), ("考试日期", "考核日期", "鉴定日期", "日期", "date", "exam date")),
    ("examiner", gettext_lazy("Examiner"), ("考评员", "考官", "主考", "监考人", "examiner")),
    ("attempt", gettext_lazy("Attempt"), ("次数", "考试次数", "第几次", "attempt")),
    ("remarks", gettext_lazy("Remarks"), ("备注", "说明", "remarks", "notes")),
    (
        "sitting",
        gettext_lazy("Appraisal sitting"),
        ("考核批次", "批次", "考核批次编号", "批次编号", "appraisal sitting", "sitting"),
    ),
    ("absent", gettext_lazy("Absent"), ("缺考", "是否缺考", "absent")),
    # Read and left as it is: the attempt is numbered from the results already recorded.
    ("resit", gettext_lazy("Re-sit"), ("补考", "是否补考", "re-sit", "resit")),
]
TEMPLATE_COLUMNS = (
    "employee_no",
    "name",
    "assessment",
    "theory",
    "practical",
    "held_on",
    "sitting",
    "examiner",
    "remarks",
)
# A 缺考 cell: ticked, or left empty (or written 否).
YES_WORDS = {"是", "√", "✓", "✔", "y", "yes", "1", "x", "缺考", "缺", "true", "absent"}
NO_WORDS = {"否", "n", "no", "0", "false", "-", "—"}
# The template's example row starts its employee number with one of these: it is never imported.
EXAMPLE_MARKERS = ("示例", "例：", "例:", "e.g.", "example")
_TITLE_TOKENS = re.compile(r"[\s:：·,，;；()（）\[\]【】]+")
ALIASES = {key: (str(header),) + names for key, header, names in COLUMNS}
HEADERS = {key: header for key, header, _names in COLUMNS}


class ResultsImportError(Exception):
    """The file was refused as a whole; `errors` lists every bad row in words."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


class ResultsAlreadyImported(ResultsImportError):
    """Another import wrote these results between this one's check and its write; this one wrote nothing."""

    def __init__(self, message: str):
        super().__init__([message])


@dataclass
class RowOutcome:
    number: int
    employee_no: str
    name: str
    state: str = "new"  # new | unchanged | changed | error
    # Each result is a plain dict of AssessmentResult attnames, plus for the preview: "assessment", "change"
    # (new | unchanged | changed), "previous" (the result on record: id, score, absent), "pass_mark" and
    # "passed". 10,000 rows do not need 10,000 model instances to be checked and written.
    results: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class ResultsImport:
    rows: list[RowOutcome] = field(default_factory=list)
    to_create: list[dict] = field(default_factory=list)
    to_correct: list[dict] = field(default_factory=list)  # another score for an attempt on record
    unchanged: int = 0
    recorded_at: dt.datetime | None = None
    # The rank awards the roll-up will propose once these results are in (results_preview), or has proposed
    # (after results_import): RankChange items.
    awards: list = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Return how many rows are new, unchanged, changed and in error."""
        counts = dict.fromkeys(("new", "unchanged", "changed", "error"), 0)
        for row in self.rows:
            counts[row.state] += 1
        return counts

    # Roster rows of a sitting's sheet with no score and no 缺考 yet: left out, by row number.
    blank_rows: list[int] = field(default_factory=list)
    sitting: Sitting | None = None  # the sitting the title row names

    @property
    def errors(self) -> list[str]:
        return row_errors(self.rows)

    @property
    def worker_ids(self) -> list[int]:
        return sorted({result["worker_id"] for result in self.to_create + self.to_correct})


class _Lookups:
    """Everything the rows refer to, loaded in a fixed number of queries."""

    def __init__(self, employee_nos: set[str]):
        # Building a 10,000-item IN clause costs more than reading every worker's three columns.
        if len(employee_nos) <= 1000:
            workers = Worker.objects.filter(employee_no__in=employee_nos)
        else:
            workers = Worker.objects.all()
        self.workers = {no: (pk, name) for pk, no, name in workers.values_list("id", "employee_no", "name")}
        self.assessments = list(Assessment.objects.all())
        self.by_code = {a.code.upper(): a for a in self.assessments}
        self.by_id = {a.pk: a for a in self.assessments}
        # The sittings: a row may name one, and an assessment's sibling of the other kind is in its sitting.
        self.sittings: dict[str, Sitting] = {}
        self.sitting_of: dict[int, Sitting] = {}
        for sitting in Sitting.objects.all():
            self.sittings[sitting.code.upper()] = sitting
            for pk in (sitting.theory_id, sitting.practical_id):
                if pk is not None:
                    self.sitting_of[pk] = sitting
        self.by_subject: dict[tuple, list[Assessment]] = defaultdict(list)
        for a in self.assessments:
            for subject in _subjects(a):
                self.by_subject[(subject, a.kind)].append(a)
        self.courses = _index(Course.objects.values_list("id", "code", "title"))
        self.ranks = _index(Rank.objects.values_list("id", "code", "name"))
        self.special_operations = _index(SpecialOperation.objects.values_list("id", "code", "name", "short_name"))
        self.trades = trade_names_get()
        self.examiners = {}
        for pk, username, first, last in get_user_model().objects.values_list(
            "id", "username", "first_name", "last_name"
        ):
            for key in (username, f"{last}{first}", f"{first} {last}".strip()):
                if key:
                    self.examiners.setdefault(key.upper(), pk)

    def recorded_attempts(
        self, assessment_ids: set[int], worker_ids: set[int]
    ) -> dict[tuple[int, int], dict[int, tuple[int, object, bool]]]:
        """Return (assessment, worker) → attempt → (id, score, absent) of the live results the file touches."""
        if not assessment_ids or not worker_ids:
            return {}
        recorded: dict[tuple[int, int], dict[int, tuple[int, object, bool]]] = defaultdict(dict)
        rows = AssessmentResult.objects.filter(assessment_id__in=assessment_ids)
        if len(worker_ids) <= 1000:
            rows = rows.filter(worker_id__in=worker_ids)
        for pk, assessment_id, worker_id, attempt, score, absent in rows.order_by().values_list(
            "id", "assessment_id", "worker_id", "attempt", "score", "absent"
        ):
            if worker_id in worker_ids:
                recorded[(assessment_id, worker_id)][attempt] = (pk, score, absent)
        return recorded


def _index(rows) -> dict[str, int]:
    index = {}
    for pk, *names in rows:
        for name in names:
            if name:
                index.setdefault(str(name).strip().upper(), pk)
    return index


def _subjects(assessment: Assessment) -> list[tuple]:
    subjects = []
    if assessment.course_id:
        subjects.append(("course", assessment.course_id, assessment.held_on))
    if assessment.trade_id and assessment.rank_id:
        subjects.append(("trade", assessment.trade_id, assessment.rank_id, assessment.held_on))
    if assessment.special_operation_id:
        subjects.append(("special_operation", assessment.special_operation_id, assessment.held_on))
    return subjects


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def _title_sitting(above: list[list]) -> Sitting | None:
    """Return the sitting whose code the title rows name (a sitting's results sheet), or None."""
    tokens = set()
    for values in above:
        for value in values:
            tokens |= {token.upper() for token in _TITLE_TOKENS.split(cell_text(value)) if token}
    if not tokens:
        return None
    found = list(Sitting.objects.annotate(upper_code=Upper("code")).filter(upper_code__in=tokens)[:2])
    return found[0] if len(found) == 1 else None


def _is_example(employee_no: str) -> bool:
    return employee_no.lower().startswith(EXAMPLE_MARKERS)


def results_parse(source, *, user=None) -> ResultsImport:
    """Read an exam-centre sheet (or a sitting's results sheet) and validate every row; write nothing."""
    data = read_bytes(source)
    table = find_table(data, ALIASES, required=("employee_no",))
    columns = table.columns
    if "theory" not in columns and "practical" not in columns:
        raise SpreadsheetError(_("The sheet has no theory or practical score column."))
    sheet_sitting = _title_sitting(table.above)
    named = {"assessment", "course", "special_operation", "sitting"} & columns.keys()
    if not (named or {"trade", "rank"} <= columns.keys() or sheet_sitting is not None):
        raise SpreadsheetError(
            _(
                "The sheet does not say which assessment: add an assessment column, "
                "or a course (or trade and rank) and a date."
            )
        )

    def get(values, key):
        index = columns.get(key)
        if index is None or index >= len(values):
            return None
        return values[index]

    raw = []
    for number, values in table.rows:
        # A row that names nobody and scores nothing is decoration (or filled from a merged cell).
        if not any(cell_text(get(values, key)) for key in ("employee_no", "name", "theory", "practical")):
            continue
        if _is_example(cell_text(get(values, "employee_no"))):
            continue
        raw.append((number, values))
    if not raw:
        raise SpreadsheetError(
            _(
                "The sheet has headers but no results below them, so nothing was imported. "
                "Fill in one row per worker and upload it again."
            )
        )
    lookups = _Lookups({cell_text(get(values, "employee_no")) for _n, values in raw})

    outcome = ResultsImport(sitting=sheet_sitting)
    now = outcome.recorded_at = timezone.now()
    recorded_by_id = user.pk if getattr(user, "pk", None) else None
    kinds = (("theory", _("theory")), ("practical", _("practical")))
    seen: dict[tuple[int, int, int | None], int] = {}
    pending: list[tuple[RowOutcome, dict, int | None]] = []
    for number, values in raw:
        employee_no = cell_text(get(values, "employee_no"))
        name = cell_text(get(values, "name"))
        row = RowOutcome(number, employee_no, name)
        outcome.rows.append(row)
        worker = lookups.workers.get(employee_no)
        if not employee_no:
            row.errors.append(_("the employee number is missing."))
        elif worker is None:
            row.errors.append(_("employee number %(no)s does not exist.") % {"no": employee_no})
        elif name and not _same_name(name, worker[1]):
            row.errors.append(
                _("the name %(name)s does not match employee number %(no)s (%(actual)s).")
                % {"name": name, "no": employee_no, "actual": worker[1]}
            )
        try:
            held_on = parse_date(get(values, "held_on"))
        except ValueError as exc:
            row.errors.append(str(exc))
            held_on = None
        attempt = None
        attempt_text = cell_text(get(values, "attempt"))
        if attempt_text:
            try:
                whole = Decimal(attempt_text)
                if not whole.is_finite() or whole != whole.to_integral_value():
                    raise ValueError
                attempt = int(whole)
                if attempt < 1 or field_problems(AssessmentResult, "attempt", attempt):
                    raise ValueError
            except (ArithmeticError, ValueError):
                attempt = None
                row.errors.append(
                    _("the attempt “%(value)s” is not a whole number from 1 to %(max)s.")
                    % {"value": attempt_text, "max": MAX_ATTEMPT}
                )
        remarks = cell_text(get(values, "remarks"))
        examiner = cell_text(get(values, "examiner"))
        examiner_id = lookups.examiners.get(examiner.upper()) if examiner else None
        if examiner and examiner_id is None:
            remarks = (remarks + " " if remarks else "") + _("Examiner: %(name)s") % {"name": examiner}
        # Long text is refused with its length, never cut (issue 12).
        limit = AssessmentResult._meta.get_field("remarks").max_length
        if len(remarks) > limit:
            # An examiner who is not a user is noted in the remarks, and counts towards their length.
            row.errors.append(
                _("the remarks are %(length)s characters long; at most %(limit)s fit.")
                % {"length": len(remarks), "limit": limit}
            )
        sitting, problem = _row_sitting(lookups, get, values, sheet_sitting)
        if problem:
            row.errors.append(problem)
        marked_absent = False
        mark = cell_text(get(values, "absent"))
        if mark.lower() in YES_WORDS:
            marked_absent = True
        elif mark and mark.lower() not in NO_WORDS:
            row.errors.append(
                _("the %(column)s cell “%(value)s” is not %(yes)s or empty.")
                % {"column": _("Absent"), "value": mark, "yes": _("Yes")}
            )
        scores = []
        for kind, label in kinds:
            try:
                score = parse_score(get(values, kind))
            except ValueError as exc:
                row.errors.append(_("%(kind)s score: %(reason)s") % {"kind": label, "reason": exc})
                continue
            if score is not None:
                scores.append((kind, label, score))
        if marked_absent:
            # 缺考 ticked: absent from each exam of the row's sitting whose score cell is empty.
            scored = {kind for kind, _label, _score in scores}
            for kind, label in kinds:
                if kind not in scored and _row_assessment(lookups, get, values, kind, held_on, sitting)[0]:
                    scores.append((kind, label, ABSENT))
            if not scores and not row.errors:
                row.errors.append(_("the worker is marked absent, but the row does not say from which exam."))
        if not scores and not row.errors and sitting is not None:
            # A candidate on the sitting's sheet whose results are not in yet.
            outcome.rows.pop()
            outcome.blank_rows.append(number)
            continue
        if not scores and not row.errors:
            row.errors.append(_("there is no theory or practical score."))
        for kind, label, score in scores:
            assessment, problem = _row_assessment(lookups, get, values, kind, held_on, sitting)
            if assessment is None:
                row.errors.append(problem)
                continue
            absent = score is ABSENT
            if not absent:
                if score < 0 or score > assessment.full_marks:
                    row.errors.append(
                        _("the %(kind)s score %(score)s is outside 0–%(full)s.")
                        % {"kind": label, "score": score, "full": _number(assessment.full_marks)}
                    )
                    continue
                if score != score.quantize(Decimal("0.1")):
                    row.errors.append(
                        _("the %(kind)s score %(score)s has more than one decimal place.")
                        % {"kind": label, "score": score}
                    )
                    continue
            if worker is None:
                continue
            key = (assessment.pk, worker[0], attempt)
            if key in seen:
                row.errors.append(
                    _("%(no)s already has a %(kind)s result for %(code)s in row %(other)s.")
                    % {"no": employee_no, "kind": label, "code": assessment.code, "other": seen[key]}
                )
                continue
            seen[key] = number
            # Everything AssessmentResult.clean() and the table's constraints check was checked above.
            result = {
                "assessment": assessment,
                "assessment_id": assessment.pk,
                "worker_id": worker[0],
                "score": None if absent else score,
                "absent": absent,
                "attempt": attempt or 0,
                "full_marks": assessment.full_marks,
                "remarks": remarks,
                "recorded_by_id": recorded_by_id,
                "recorded_at": now,
                "examiner_id": examiner_id,
            }
            pending.append((row, result, attempt))

    _outcomes_settle(
        outcome,
        pending,
        lookups.recorded_attempts(
            {r["assessment_id"] for _row, r, _a in pending}, {r["worker_id"] for _row, r, _a in pending}
        ),
    )
    return outcome


def _outcomes_settle(outcome: ResultsImport, pending: list, recorded: dict) -> None:
    """
    Decide what each valid score does to the results already recorded, and each row's state:
    new (a first attempt, or a re-sit after a failed or absent one), unchanged (the same score again),
    changed (another score for an attempt on record: a correction) or error.

    A row without an attempt number compares with the latest attempt on record: a different score after a
    failed or absent attempt is the re-sit; after a passed one (nobody re-sits a passed exam) it corrects it.
    """
    marks = _pass_marks({r["assessment_id"]: r["assessment"] for _row, r, _a in pending})
    numbered: dict[tuple[int, int, int], int] = {}
    for row, result, attempt in pending:
        assessment = result["assessment"]
        mark = marks[assessment.pk]
        result["pass_mark"] = mark
        result["passed"] = _passes(result["score"], result["absent"], mark)
        attempts = recorded.get((result["assessment_id"], result["worker_id"]), {})
        if attempt is None and attempts:
            last = max(attempts)
            pk, score, absent = attempts[last]
            # The same score again, or another one for a passed attempt (a correction): that attempt; else the re-sit.
            attempt = last if _same(score, absent, result) or _passes(score, absent, mark) else last + 1
        elif attempt is None:
            attempt = 1
        if attempt > MAX_ATTEMPT:
            row.errors.append(
                _("%(no)s has used every attempt (%(max)s) at %(code)s.")
                % {"no": row.employee_no, "max": MAX_ATTEMPT, "code": assessment.code}
            )
            continue
        result["attempt"] = attempt
        on_record = attempts.get(attempt)
        if on_record is None:
            result["change"] = "new"
        else:
            pk, score, absent = on_record
            result["previous"] = {"id": pk, "score": score, "absent": absent}
            result["change"] = "unchanged" if _same(score, absent, result) else "changed"
        # The attempt each row ends up with: two rows giving one attempt (named, counted, or both) are refused.
        final = (result["assessment_id"], result["worker_id"], attempt)
        if final in numbered:
            row.errors.append(
                _("%(no)s already has attempt %(attempt)s of %(code)s in row %(other)s.")
                % {"no": row.employee_no, "attempt": attempt, "code": assessment.code, "other": numbered[final]}
            )
            continue
        numbered[final] = row.number
        row.results.append(result)

    for row in outcome.rows:
        if row.errors:
            row.state = "error"
            continue
        changes = {r["change"] for r in row.results}
        row.state = "changed" if "changed" in changes else "new" if "new" in changes else "unchanged"
        for result in row.results:
            if result["change"] == "new":
                outcome.to_create.append(result)
            elif result["change"] == "changed":
                outcome.to_correct.append(result)
            else:
                outcome.unchanged += 1


def _same(score, absent: bool, result: dict) -> bool:
    return bool(absent) == result["absent"] and (absent or score == result["score"])


def _passes(score, absent: bool, mark: Decimal) -> bool:
    return not absent and score is not None and score >= mark


def _pass_marks(assessments: dict[int, Assessment]) -> dict[int, Decimal]:
    """
    Return assessment id → the pass mark in force, in the assessment's points: for a trade × rank sitting the
    rule set in force on its date (whose marks are percentages), otherwise the assessment's own. One query.
    """
    ranked = {a.pk: a for a in assessments.values() if a.trade_id and a.rank_id}
    versions: dict[tuple[int, int], list] = defaultdict(list)
    if ranked:
        for trade_id, rank_id, effective_from, pk, theory, practical in RuleSet.objects.filter(
            package__trade_id__in={a.trade_id for a in ranked.values()},
            package__rank_id__in={a.rank_id for a in ranked.values()},
        ).values_list(
            "package__trade_id", "package__rank_id", "effective_from", "id", "theory_pass_mark", "practical_pass_mark"
        ):
            versions[(trade_id, rank_id)].append((effective_from, pk, theory, practical))
    marks = {}
    for pk, assessment in assessments.items():
        in_force = max(
            (v for v in versions.get((assessment.trade_id, assessment.rank_id), ()) if v[0] <= assessment.held_on),
            default=None,
        )
        if in_force is None:
            marks[pk] = assessment.pass_mark
            continue
        percent = in_force[2] if assessment.kind == Assessment.Kind.THEORY else in_force[3]
        marks[pk] = (percent * assessment.full_marks / 100).quantize(Decimal("0.1"))
    return marks


def _row_sitting(lookups: _Lookups, get, values, sheet_sitting: Sitting | None):
    """Return (the sitting a row is for, or None; a problem, or None): its 考核批次 cell, else the title's."""
    code = cell_text(get(values, "sitting"))
    if code:
        sitting = lookups.sittings.get(code.upper())
        if sitting is None:
            return None, _("appraisal sitting %(code)s does not exist.") % {"code": code}
        return sitting, None
    if sheet_sitting is not None and not cell_text(get(values, "assessment")):
        return lookups.sittings.get(sheet_sitting.code.upper(), sheet_sitting), None
    return None, None


def _row_assessment(lookups: _Lookups, get, values, kind: str, held_on: dt.date | None, sitting: Sitting | None):
    """Return (assessment, None) or (None, reason) for one kind of score on one row, through its sitting if any."""
    if sitting is None:
        return _find_assessment(lookups, get, values, kind, held_on)
    assessment = lookups.by_id.get(getattr(sitting, f"{kind}_id"))
    if assessment is None:
        return None, _("appraisal sitting %(code)s has no %(kind)s exam.") % {
            "code": sitting.code,
            "kind": Assessment.Kind(kind).label,
        }
    return assessment, None


def _find_assessment(lookups: _Lookups, get, values, kind: str, held_on: dt.date | None):
    """Return (assessment, None) or (None, reason) for one kind of score on one row."""
    code = cell_text(get(values, "assessment"))
    if code:
        named = lookups.by_code.get(code.upper())
        if named is None:
            return None, _("assessment %(code)s does not exist.") % {"code": code}
        if held_on and named.held_on != held_on:
            return None, _("assessment %(code)s was held on %(held)s, not %(date)s.") % {
                "code": code,
                "held": named.held_on.isoformat(),
                "date": held_on.isoformat(),
            }
        if named.kind == kind:
            return named, None
        # The assessment belongs to an appraisal sitting: its partner is the sitting's exam of the other kind.
        sitting = lookups.sitting_of.get(named.pk)
        sibling = lookups.by_id.get(getattr(sitting, f"{kind}_id")) if sitting is not None else None
        if sibling is not None:
            return sibling, None
        # The sheet names one sitting; its partner of the other kind has the same subject and date.
        for subject in _subjects(named):
            partners = lookups.by_subject.get((subject, kind), [])
            if len(partners) == 1:
                return partners[0], None
        return None, _(
            "there is no %(kind)s assessment to go with %(code)s: give the %(kind)s score its own row with its "
            "assessment code, or put both assessments in one appraisal sitting."
        ) % {
            "kind": Assessment.Kind(kind).label,
            "code": code,
        }
    if held_on is None:
        return None, _("give the assessment code, or the date of the exam.")
    subject = None
    description = ""
    course = cell_text(get(values, "course"))
    trade = cell_text(get(values, "trade"))
    rank = cell_text(get(values, "rank"))
    operation = cell_text(get(values, "special_operation"))
    if course:
        course_id = lookups.courses.get(course.upper())
        if course_id is None:
            return None, _("course %(course)s does not exist.") % {"course": course}
        subject, description = ("course", course_id, held_on), course
    elif trade and rank:
        found, rank_id = lookups.trades.get(trade), lookups.ranks.get(rank.upper())
        trade_id = found.pk if found else None
        if trade_id is None:
            return None, _("trade %(trade)s does not exist.") % {"trade": trade}
        if rank_id is None:
            return None, _("rank %(rank)s does not exist.") % {"rank": rank}
        subject, description = ("trade", trade_id, rank_id, held_on), f"{trade} {rank}"
    elif operation:
        operation_id = lookups.special_operations.get(operation.upper())
        if operation_id is None:
            return None, _("special operation %(name)s does not exist.") % {"name": operation}
        subject, description = ("special_operation", operation_id, held_on), operation
    else:
        return None, _("the row does not say which assessment (assessment code, course, or trade and rank).")
    found = lookups.by_subject.get((subject, kind), [])
    if len(found) == 1:
        return found[0], None
    if not found:
        # The date is the other exam's, held on its own day: its sitting holds this kind's.
        other = "practical" if kind == "theory" else "theory"
        partners = lookups.by_subject.get((subject, other), [])
        sitting = lookups.sitting_of.get(partners[0].pk) if len(partners) == 1 else None
        sibling = lookups.by_id.get(getattr(sitting, f"{kind}_id")) if sitting is not None else None
        if sibling is not None:
            return sibling, None
        return None, _("there is no %(kind)s assessment for %(subject)s on %(date)s.") % {
            "kind": Assessment.Kind(kind).label,
            "subject": description,
            "date": held_on.isoformat(),
        }
    return None, _("several %(kind)s assessments match %(subject)s on %(date)s; give the assessment code.") % {
        "kind": Assessment.Kind(kind).label,
        "subject": description,
        "date": held_on.isoformat(),
    }


def results_import(source, *, user=None, dry_run: bool = False, filename: str = "") -> ResultsImport:
    """
    Import an exam-centre sheet: all rows or none. New results are added, changed ones corrected (through the
    results' door), and `awards` lists the rank awards the roll-up proposed for the workers concerned.
    Raise ResultsImportError listing every bad row; SpreadsheetError for a file that cannot be read.
    """
    outcome = results_parse(source, user=user)
    if any(row.errors for row in outcome.rows):
        raise ResultsImportError(outcome.errors)
    if dry_run or not (outcome.to_create or outcome.to_correct):
        return outcome
    _results_write(outcome, user=user, filename=filename)
    if transaction.get_connection().in_atomic_block:
        # Inside the caller's transaction the roll-up runs when that commits: say what it will propose.
        outcome.awards = ranks_recompute(worker_ids=outcome.worker_ids, dry_run=True).changes
    else:
        outcome.awards = _awards_proposed(outcome)
    return outcome


class _DryRun(Exception):
    """Raised to roll back the preview's write."""


def results_preview(outcome: ResultsImport, *, user=None, filename: str = "") -> list | None:
    """
    Return the rank awards (services.RankChange) the roll-up will propose once these results are in, found by
    the same engine: the results are written and the workers re-evaluated inside a transaction that is then
    rolled back, so nothing stays and nothing runs after commit. None when the write is refused (another
    import wrote the same results meanwhile). A fixed number of queries for new rows, two per corrected one.
    """
    if any(row.errors for row in outcome.rows) or not (outcome.to_create or outcome.to_correct):
        outcome.awards = []
        return outcome.awards
    try:
        with transaction.atomic():
            _results_apply(outcome, user=user, filename=filename)
            report = ranks_recompute(worker_ids=outcome.worker_ids, dry_run=True)
            outcome.awards = report.changes
            raise _DryRun
    except _DryRun:
        return outcome.awards
    except IntegrityError:
        outcome.awards = []
        return None


def _awards_proposed(outcome: ResultsImport) -> list:
    """Return the engine's live awards of the import's workers created since it started (the roll-up ran on commit)."""
    records = (
        RankRecord.objects.filter(
            worker_id__in=outcome.worker_ids,
            source=RankRecord.Source.ENGINE,
            status__in=(RankRecord.Status.PENDING, RankRecord.Status.AWARDED),
            created_at__gte=outcome.recorded_at,
        )
        .select_related("worker", "trade", "rank")
        .order_by("worker__employee_no", "trade__code", "rank__order")
    )
    return [
        RankChange(
            r.worker_id,
            r.worker.employee_no,
            r.worker.name,
            r.trade.name,
            r.rank.name,
            r.status,
            trade_id=r.trade_id,
            rank_id=r.rank_id,
            awarded_on=r.awarded_on or award_met_on(r),
            record_id=r.pk,
        )
        for r in records
    ]


def _results_apply(outcome: ResultsImport, *, user=None, filename: str = "") -> None:
    """Write the new results and the corrections, through the results' door (a savepoint is the caller's)."""
    reason = f"import {filename}".strip()
    if outcome.to_create:
        results_create_many(outcome.to_create, user=user, reason=reason, recorded_at=outcome.recorded_at)
    if outcome.to_correct:
        # Locked: a concurrent correction of the same results waits, then finds them changed and is refused.
        stored = AssessmentResult.objects.select_for_update().in_bulk([r["previous"]["id"] for r in outcome.to_correct])
        corrections = []
        for row in outcome.to_correct:
            result = stored.get(row["previous"]["id"])
            previous = row["previous"]
            if result is None:
                # Deleted since the file was checked: the import is refused whole.
                raise ResultsImportError(
                    [_("A result this file corrects was deleted meanwhile; upload the file again.")]
                )
            if (result.score, result.absent) != (previous["score"], previous["absent"]):
                raise ResultsImportError(
                    [_("A result this file corrects was changed meanwhile; upload the file again.")]
                )
            corrections.append((result, row["score"], row["absent"]))
        results_correct_many(corrections, reason=reason, corrected_by=user)


@transaction.atomic
def _results_write(outcome: ResultsImport, *, user=None, filename: str = "") -> None:
    # Through the results' door: history naming the user and the file, one re-evaluation after commit.
    try:
        # A savepoint: when another import of the same sheet commits first, the unique constraint refuses this
        # write and the transaction must still be usable to find out who that was.
        with transaction.atomic():
            _results_apply(outcome, user=user, filename=filename)
    except IntegrityError:
        message = _already_imported_message(outcome.to_create)
        if message is None:
            raise
        raise ResultsAlreadyImported(message) from None
    examiners = {(r["assessment_id"], r["examiner_id"]) for r in outcome.to_create}
    links = [Assessment.examiners.through(assessment_id=a, user_id=u) for a, u in examiners if u is not None]
    if links:
        Assessment.examiners.through.objects.bulk_create(links, ignore_conflicts=True)


def _already_imported_message(rows: list[dict]) -> str | None:
    """Say who recorded the live results that now hold these rows' attempts; None if none does."""
    keys = {(row["assessment_id"], row["worker_id"], row["attempt"]) for row in rows}
    clashing = [
        found
        for found in AssessmentResult.objects.filter(
            assessment_id__in={a for a, _w, _n in keys}, worker_id__in={w for _a, w, _n in keys}
        )
        .select_related("recorded_by")
        .order_by("-recorded_at")
        if (found.assessment_id, found.worker_id, found.attempt) in keys
    ]
    if not clashing:
        return None
    latest = clashing[0]
    who = latest.recorded_by
    name = (who.get_full_name() or who.get_username()) if who is not None else _("an import from the command line")
    return _("These results were imported a moment ago by %(who)s at %(when)s; nothing more was written.") % {
        "who": name,
        "when": formats.date_format(timezone.localtime(latest.recorded_at), "DATETIME_FORMAT"),
    }


def results_template() -> bytes:
    """Return an exam-centre sheet (.xlsx) with the columns the importer reads and one example row (never imported)."""
    from openpyxl.styles import Font

    from core.workbooks import Workbook

    workbook = Workbook()
    sheet = workbook.create_sheet(_("Results"))
    for index, width in enumerate((16, 10, 16, 12, 12, 12, 16, 12, 40), 1):
        sheet.column_dimensions[chr(64 + index)].width = width
    sheet.freeze_panes = "A2"
    bold = sheet.style(font=Font(bold=True))
    grey = sheet.style(font=Font(italic=True, color="808080"))
    sheet.append([sheet.cell(str(HEADERS[key]), bold) for key in TEMPLATE_COLUMNS])
    example = {
        "employee_no": f"{EXAMPLE_MARKERS[0]} E00123",
        "name": "张三",
        "sitting": "KP20260905-1",
        "assessment": "",
        "theory": 82,
        "practical": 76,
        "held_on": "",
        "examiner": "",
        "remarks": _(
            "Example, never imported: one row per worker with both scores; name the appraisal sitting, "
            "or the assessment code (and date) of one exam."
        ),
    }
    sheet.append([sheet.cell(example[key], grey) for key in TEMPLATE_COLUMNS])
    return workbook.to_bytes()
