"""
The training ledger (培训台账) as one xlsx workbook, streamed.

openpyxl's write-only mode writes each row to disk as it is appended and the
rows come from values_list() iterators, so memory stays flat however many
rows the mine has. Sheets: 汇总 (summary per department), one per department
(a row per worker × class in the ledger's usual columns, docs/domain.md §4),
特种作业证 (special-operation certificates) and 技能矩阵 (skills matrix).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from itertools import groupby

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, Max, OuterRef, Subquery, Sum, When
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from certifications import measures
from certifications.models import Assessment, Certificate, RankRecord
from core.dates import SUPPORTED_YEARS
from core.workbooks import Workbook, column_widths, download_filename, print_setup, text_width
from training import access
from training.models import Attendance, Course, PersonnelCategory, Rank, Trade, TrainingClass, Unit, Worker, WorkerTrade

DATE_FORMAT = "yyyy-mm-dd"
HOURS_FORMAT = "0.0"
PERCENT_FORMAT = "0.0%"
RED = "C00000"
DUE_DAYS = 90
PROGRESS_EVERY = 2000


def ledger_year_clean(value: object) -> int | None:
    """
    Return the ledger's year from what a form or a task was given: None (or an
    empty value) means every year; anything but a whole year inside
    SUPPORTED_YEARS (core.dates) is refused with a message that says what to enter.
    """
    if value is None or value == "":
        return None
    first, last = SUPPORTED_YEARS
    try:
        year = int(str(value).strip(), 10)
    except ValueError:
        year = None
    if year is None or not first <= year <= last or isinstance(value, bool | float):
        raise ValidationError(
            _("The year must be a whole year from %(first)s to %(last)s; leave it empty to export every year."),
            code="year",
            params={"first": first, "last": last},
        )
    return year


THIN = Side(style="thin", color="999999")


class Styles:
    """Template cells whose style arrays are copied onto new cells: far cheaper than setting fonts per cell."""

    def __init__(self, sheet):
        make = sheet.style
        self.title = make(font=Font(bold=True, size=14), alignment=Alignment(horizontal="center", vertical="center"))
        self.header = make(
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="D9E1F2"),
            border=Border(left=THIN, right=THIN, top=THIN, bottom=THIN),
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        )
        self.hours = make(number_format=HOURS_FORMAT)
        self.wrap = make(alignment=Alignment(wrap_text=True, vertical="top"))
        self.percent = make(number_format=PERCENT_FORMAT)
        self.red_text = make(font=Font(color=RED, bold=True))
        self.red_date = make(font=Font(color=RED, bold=True), number_format=DATE_FORMAT)
        self.red_hours = make(font=Font(color=RED, bold=True), number_format=HOURS_FORMAT)


class LedgerWriter:
    """Write one ledger workbook for the workers a user may see, optionally one unit's subtree and one year."""

    def __init__(
        self,
        *,
        unit: Unit | None = None,
        year: int | None = None,
        user=None,
        progress=None,
        today: dt.date | None = None,
    ):
        self.unit = unit
        self.year = ledger_year_clean(year)
        self.user = user
        self.progress = progress or (lambda done, total: None)
        self.today = today or timezone.localdate()
        self.done = 0
        self.total = 0
        units = list(Unit.objects.values_list("id", "parent_id", "name", "code", "kind", "sort_order"))
        self.unit_names = {u[0]: u[2] for u in units}
        self.unit_kind = {u[0]: u[4] for u in units}
        mines = sorted((u for u in units if u[1] is None), key=lambda u: (u[4] != Unit.Kind.MINE, u[5], u[3]))
        self.mine_name = mines[0][2] if mines else str(_("All units"))
        parent_of = {u[0]: u[1] for u in units}
        self.parent_of = parent_of
        allowed = access.visible_unit_ids(user) if user is not None else None
        if unit is not None:
            subtree = access.descendant_unit_ids(unit.pk, parent_of)
            if allowed is not None and unit.pk not in allowed:
                raise PermissionDenied(_("You may not export this unit."))
            allowed = subtree if allowed is None else allowed & subtree
        self.allowed_units = allowed
        self.own_worker_only = user is not None and allowed == set()
        # Departments: the children of the mine (or the chosen unit itself when it sits lower).
        order = {u[0]: (u[5], u[3]) for u in units}
        roots = [u[0] for u in units if u[1] is None]
        # Each department's units: its subtree, except the mine's, which is the mine's own staff (its managers).
        self.department_units: dict[int, set[int]] = {}
        if unit is not None and unit.kind != Unit.Kind.MINE:
            self.department_units[unit.pk] = access.descendant_unit_ids(unit.pk, parent_of)
        else:
            top_parent = [unit.pk] if unit is not None else roots
            for top in top_parent:
                if not any(u[1] == top for u in units):
                    self.department_units[top] = access.descendant_unit_ids(top, parent_of)
            staffed = set(
                self.workers().filter(unit_id__in=top_parent).order_by().values_list("unit_id", flat=True).distinct()
            )
            for top in staffed - set(self.department_units):
                self.department_units[top] = {top}
            for child in sorted((u[0] for u in units if u[1] in top_parent), key=lambda pk: order[pk]):
                self.department_units[child] = access.descendant_unit_ids(child, parent_of)
        self.departments = list(self.department_units)
        self.department_of = {pk: dept for dept, pks in self.department_units.items() for pk in pks}
        if allowed is not None:
            # A trainee sees no unit, only their own record: keep the department it sits in.
            reach = allowed or set(self.workers().values_list("unit_id", flat=True))
            self.departments = [d for d in self.departments if self.department_units[d] & reach]

    @cached_property
    def rank_rows(self) -> list[tuple]:
        return list(Rank.objects.values_list("id", "name", "high_skill", "order").order_by("order"))

    @cached_property
    def trade_rows(self) -> list[tuple]:
        return list(Trade.objects.values_list("id", "name", "active").order_by("code"))

    # --- scope ---------------------------------------------------------------------------------------

    def workers(self):
        queryset = access.visible_workers(self.user) if self.user is not None else Worker.objects.all()
        if self.unit is not None:
            queryset = queryset.filter(unit_id__in=access.descendant_unit_ids(self.unit.pk, self.parent_of))
        return queryset

    def attendance(self, department: int):
        queryset = Attendance.objects.filter(
            worker__in=self.workers(), worker__unit_id__in=self.department_units[department]
        )
        if self.year:
            queryset = queryset.filter(training_class__start__year=self.year)
        return queryset

    def certificates(self):
        return Certificate.objects.filter(kind=Certificate.Kind.SPECIAL_OPERATION, worker__in=self.workers())

    # --- the workbook ----------------------------------------------------------------------------------

    def write(self, target) -> dict:
        """Write the workbook to a path or binary file; return counts per sheet."""
        self.total = (
            sum(self.attendance(d).count() for d in self.departments)
            + self.certificates().count()
            + self.workers().count()
        ) or 1
        workbook = Workbook()
        counts = {"summary": self._summary(workbook)}
        widths = self._ledger_widths() if self.departments else []
        for department in self.departments:
            counts.update(self._department(workbook, department, widths))
        counts["certificates"] = self._certificates(workbook)
        counts["matrix"] = self._matrix(workbook)
        workbook.save(target)
        self.progress(self.total, self.total)
        return counts

    def _tick(self, n: int = 1):
        self.done += n
        if self.done % PROGRESS_EVERY < n:
            self.progress(min(self.done, self.total), self.total)

    def _sheet(self, workbook, title: str, heading: str, headers: list[str], widths: list[float]):
        """
        Start a sheet the way HR prints it: a title row naming the mine, unit and year, a frozen header,
        widths, landscape pages that fit the width at a readable size (core.workbooks.print_setup), the
        header rows repeated on every page, the title in the page header and page numbers in the footer.
        """
        sheet = workbook.create_sheet(title)
        styles = Styles(sheet)
        sheet.freeze_panes = "A3"
        for index, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        print_setup(
            sheet,
            widths=widths,
            title_rows="1:2",
            header=heading,
            footer=_("Page &P of &N"),
            title_columns="A:E" if len(widths) > 5 else None,
        )
        last = get_column_letter(len(headers))
        sheet.merged_cells.add(f"A1:{last}1")
        sheet.row_dimensions[1].height = 28
        sheet.append([sheet.cell(heading, styles.title)])
        sheet.append([sheet.cell(header, styles.header) for header in headers])
        return sheet, styles, last

    def _heading(self, what: str, department: int | None = None) -> str:
        """The mine, the unit (and the department of a department sheet), what the sheet is, and the year."""
        parts = [self.mine_name]
        for pk in (self.unit.pk if self.unit is not None else None, department):
            name = self.unit_names.get(pk)
            if name and name not in parts:
                parts.append(name)
        year = str(self.year) if self.year else _("all years")
        return f"{' '.join(parts)} {what}（{year}）"

    def filename(self) -> str:
        """The download's name: 培训台账, the unit (or the mine) and the year, e.g. 培训台账_综采一队_2026.xlsx."""
        return ledger_filename(self.unit.name if self.unit is not None else self.mine_name, self.year)

    # --- 汇总 summary ----------------------------------------------------------------------------------

    def _summary(self, workbook) -> int:
        rank_rows = self.rank_rows
        ranks = [(pk, name, high) for pk, name, high, _order in rank_rows]
        rank_of_order = {order: pk for pk, _name, _high, order in rank_rows}
        headers = [
            _("Unit"),
            _("Active workers"),
            _("Class hours (all training)"),
            _("Theory pass rate"),
            _("Practical pass rate"),
            *[name for _pk, name, _h in ranks],
            _("No rank"),
            _("High-skill share"),
            _("Certificates due in %(days)s days") % {"days": DUE_DAYS},
            _("Certificates overdue"),
        ]
        sheet, styles, last = self._sheet(
            workbook,
            str(_("Summary")),
            self._heading(_("Training ledger summary")),
            headers,
            [22, 9, 11, 11, 11, *[9] * len(ranks), 9, 11, 14, 12],
        )
        workers = self.workers()
        per_dept = defaultdict(lambda: defaultdict(float))
        # The figures the dashboard shows too, counted by the same functions (certifications/measures.py).
        for unit_id, n in measures.head_count_by_unit(workers).items():
            per_dept[self.department_of.get(unit_id)]["workers"] += n
        attendance = Attendance.objects.filter(worker__in=workers)
        if self.year:
            attendance = attendance.filter(training_class__start__year=self.year)
        for unit_id, hours in (
            attendance.values_list("worker__unit_id")
            .annotate(h=Sum(F("theory_hours") + F("practical_hours")))
            .order_by()
        ):
            per_dept[self.department_of.get(unit_id)]["hours"] += float(hours or 0)
        results = measures.results_in_year(self.year).filter(worker__in=workers)
        for (unit_id, kind), (total, ok) in measures.pass_counts_by_unit(results).items():
            dept = per_dept[self.department_of.get(unit_id)]
            dept[f"{kind}_total"] += total
            dept[f"{kind}_passed"] += ok
        # Each active worker counts once, at the highest rank awarded in any trade; the rest have no rank.
        ranked = Counter()
        for (unit_id, order), n in measures.top_rank_by_unit(workers).items():
            per_dept[self.department_of.get(unit_id)][f"rank_{rank_of_order[order]}"] += n
            ranked[self.department_of.get(unit_id)] += n
        for dept, data in per_dept.items():
            data["rank_None"] = data.get("workers", 0) - ranked[dept]
        for unit_id, counts in measures.certificates_due_by_unit(
            workers=workers, on=self.today, windows=(DUE_DAYS,)
        ).items():
            per_dept[self.department_of.get(unit_id)]["due"] += counts.due[DUE_DAYS]
            per_dept[self.department_of.get(unit_id)]["overdue"] += counts.overdue

        high_skill = {pk for pk, _n, high in ranks if high}
        total = defaultdict(float)
        rows = [(self.unit_names[d], per_dept.get(d, {})) for d in self.departments]
        for _name, data in rows:
            for key, value in data.items():
                total[key] += value
        rows.append((_("Total"), total))
        for name, data in rows:
            n = int(data.get("workers", 0))
            rank_counts = [int(data.get(f"rank_{pk}", 0)) for pk, _n, _h in ranks]
            high = sum(int(data.get(f"rank_{pk}", 0)) for pk in high_skill)
            cells = [
                name,
                n,
                sheet.cell(data.get("hours", 0.0), styles.hours),
                self._rate(sheet, styles, data, "theory"),
                self._rate(sheet, styles, data, "practical"),
                *rank_counts,
                int(data.get("rank_None", 0)),
                sheet.cell(high / n if n else 0.0, styles.percent),
                int(data.get("due", 0)),
                sheet.cell(int(data.get("overdue", 0)), styles.red_text) if data.get("overdue") else 0,
            ]
            sheet.append(cells)
        sheet.auto_filter.ref = f"A2:{last}{len(rows) + 2}"
        return len(rows)

    @staticmethod
    def _rate(sheet, styles, data, kind):
        total = data.get(f"{kind}_total", 0)
        if not total:
            return None
        return sheet.cell(data.get(f"{kind}_passed", 0) / total, styles.percent)

    # --- one sheet per department ----------------------------------------------------------------------

    LEDGER_HEADERS = (
        "序号",
        "单位",
        "班组",
        "姓名",
        "工号",
        "人员类别",
        "井下/地面",
        "工种",
        "技能等级",
        "培训项目",
        "培训类别",
        "开始日期",
        "结束日期",
        "理论学时",
        "实操学时",
        "合计学时",
        "理论成绩",
        "实操成绩",
        "考核结果",
        "补考",
        "证书编号",
        "发证日期",
        "有效期至",
        "下次复审日期",
        "备注",
    )
    # Columns by position: the ledger's usual order (docs/domain.md §4).
    DUE_COLUMNS = (22, 23)
    HOURS_COLUMNS = (13, 14, 15)
    OUTCOME_COLUMN = 18
    WRAP_COLUMNS = (3, 9, 24)  # 姓名, 培训项目 and 备注 may be longer than their column
    PASSED, FAILED, ABSENT, YES = "合格", "不合格", "缺考", "是"

    def _in_department(self, queryset, department: int, prefix: str = "worker__"):
        return queryset.filter(**{f"{prefix}unit_id__in": self.department_units[department]})

    def _department_workers(self, department: int):
        """The department's workers with their primary trade and its highest awarded rank, in the ledger's order."""
        primary = WorkerTrade.objects.filter(worker=OuterRef("pk"), is_primary=True)
        rank = RankRecord.objects.filter(
            worker=OuterRef("pk"), trade=OuterRef("primary_trade"), status=RankRecord.Status.AWARDED
        ).order_by("-rank__order")
        return (
            self._in_department(self.workers(), department, prefix="")
            .annotate(
                primary_trade=Subquery(primary.values("trade_id")[:1]),
                trade_name=Subquery(primary.values("trade__name")[:1]),
                rank_name=Subquery(rank.values("rank__name")[:1]),
            )
            .order_by(*WORKER_ORDER)
            .values_list("pk", "unit_id", "name", "employee_no", "category", "unit__kind", "trade_name", "rank_name")
            .iterator(chunk_size=2000)
        )

    def _department_attendance(self, department: int):
        """The department's attendance rows, sorted like its workers, with the certificate issued after each class."""
        certificate = Certificate.objects.filter(
            worker=OuterRef("worker_id"),
            issued_on__gte=OuterRef("training_class__start"),
            status=Certificate.Status.ACTIVE,
        ).order_by("issued_on", "pk")
        return (
            self.attendance(department)
            .annotate(
                certificate_no=Subquery(certificate.values("number")[:1]),
                certificate_issued=Subquery(certificate.values("issued_on")[:1]),
                certificate_valid=Subquery(certificate.values("valid_until")[:1]),
                certificate_review=Subquery(certificate.values("next_review_due")[:1]),
            )
            .order_by(*(f"worker__{key}" for key in WORKER_ORDER), "training_class__start", "pk")
            .values_list(
                "worker_id",
                "training_class__course_id",
                "training_class__name",
                "training_class__kind",
                "training_class__start",
                "training_class__end",
                "theory_hours",
                "practical_hours",
                "certificate_no",
                "certificate_issued",
                "certificate_valid",
                "certificate_review",
                "remarks",
                "training_class__course__delivery",
            )
            .iterator(chunk_size=2000)
        )

    def _department_results(self, department: int):
        """
        Every result of the department's workers in the ledger's year (the dashboard's
        measures.results_in_year): course exams, skill-level appraisals and
        special-operation exams, re-sits included, sorted like the workers.
        """
        return (
            self._in_department(measures.results_in_year(self.year).filter(worker__in=self.workers()), department)
            .order_by(*(f"worker__{key}" for key in WORKER_ORDER), "assessment__held_on", "attempt", "pk")
            .values_list(
                "worker_id",
                "assessment__kind",
                "score",
                "absent",
                "attempt",
                "assessment__pass_mark",
                "assessment__held_on",
                "assessment__course_id",
                "assessment__course__title",
                "assessment__trade__name",
                "assessment__rank__name",
                "assessment__special_operation__name",
            )
            .iterator(chunk_size=2000)
        )

    def ledger_rows(self, department: int):
        """
        Yield the department's sheet rows (the ledger's 25 columns, plain values):
        a row per class attended, carrying the exams of that course sat after it
        began, and a row per other exam subject sat in the year (a trade × rank
        appraisal, a special-operation exam, a course exam with no class here).
        The latest attempt of each kind is shown; an earlier one makes it a re-sit.
        Three streams sorted alike are merged by worker, so memory stays flat.
        """
        category = {k: str(v) for k, v in PersonnelCategory.choices}
        class_kind = {k: str(v) for k, v in TrainingClass.Kind.choices}
        underground, surface = str(_("Underground")), str(_("Surface"))
        exam_kind = {
            "course": str(_("Course exam")),
            "rank": str(_("Skill-level appraisal")),
            "operation": str(_("Special-operation exam")),
        }
        names, parent_of = self.unit_names, self.parent_of
        simulation = str(Course.Delivery.SIMULATION.label)
        attendance = _Stream(self._department_attendance(department))
        results = _Stream(self._department_results(department))
        n = 0
        for worker_id, unit_id, name, number, cat, unit_kind, trade, rank in self._department_workers(department):
            classes = attendance.take(worker_id)
            exams = results.take(worker_id)
            if not classes and not exams:
                continue
            # Each result goes to the last class of its course that began on or before the exam, else to its subject.
            by_class: dict[int, list] = defaultdict(list)
            by_subject: dict[tuple, list] = defaultdict(list)
            for result in exams:
                course_id, held_on = result[7], result[6]
                index = None
                if course_id is not None:
                    for i, row in enumerate(classes):
                        if row[1] == course_id and row[4] <= held_on:
                            index = i
                if index is not None:
                    by_class[index].append(result)
                else:
                    by_subject[(*_subject(result), held_on.year)].append(result)
            crew = names[unit_id] if unit_kind == Unit.Kind.CREW else ""
            owner = names.get(parent_of[unit_id], "") if unit_kind == Unit.Kind.CREW else names[unit_id]
            person = [owner, crew, name, number, category.get(cat, cat), underground if trade else surface, trade, rank]
            lines = []
            for i, (
                _w,
                _c,
                training,
                kind,
                start,
                end,
                th,
                ph,
                cert_no,
                issued,
                valid,
                review,
                remarks,
                delivery,
            ) in enumerate(classes):
                if delivery == Course.Delivery.SIMULATION:
                    # Hours from VR/AR simulators count as practical hours; the remarks say how they were had.
                    remarks = " · ".join(filter(None, [simulation, remarks]))
                lines.append(
                    (
                        start,
                        [training, class_kind.get(kind, kind), start, end, th, ph, (th or 0) + (ph or 0)],
                        by_class.get(i, ()),
                        [cert_no, issued, valid, review, remarks or None],
                    )
                )
            for (kind, label, _year), sat in by_subject.items():
                start, end = sat[0][6], sat[-1][6]
                lines.append((start, [label, exam_kind[kind], start, end, None, None, None], sat, [None] * 5))
            lines.sort(key=lambda line: line[0])
            for _start, training, sat, certificate in lines:
                n += 1
                yield [n, *person, *training, *self._scores(sat), *certificate]

    def _scores(self, sat) -> list:
        """Return 理论成绩, 实操成绩, 考核结果 and 补考 from a row's results, sorted by date and attempt."""
        latest, resit = {}, False
        for result in sat:
            kind = result[1]
            resit = resit or kind in latest or result[4] > 1
            latest[kind] = result
        if not latest:
            return [None, None, None, None]
        cells, passed, absent = [], True, False
        for kind in (Assessment.Kind.THEORY, Assessment.Kind.PRACTICAL):
            result = latest.get(kind)
            if result is None:
                cells.append(None)
                continue
            _w, _k, score, was_absent, _attempt, pass_mark, *_rest = result
            if was_absent or score is None:
                absent = True
                cells.append(self.ABSENT)
            else:
                passed = passed and score >= pass_mark
                cells.append(score)
        outcome = self.ABSENT if absent else self.PASSED if passed else self.FAILED
        return [*cells, outcome, self.YES if resit else None]

    def _ledger_widths(self) -> list[float]:
        """Column widths that fit the longest text each column can hold (East-Asian width: a Chinese character is 2)."""
        subtree = set(self.department_of)
        units = [self.unit_names[pk] for pk in subtree]
        trades = [name for _pk, name, _active in self.trade_rows]
        ranks = [name for _pk, name, _high, _order in self.rank_rows]
        longest = self.workers().aggregate(name=Max(Length("name")), number=Max(Length("employee_no")))
        classes = Attendance.objects.filter(worker__in=self.workers())
        if self.year:
            classes = classes.filter(training_class__start__year=self.year)
        longest |= classes.aggregate(training=Max(Length("training_class__name")), remarks=Max(Length("remarks")))
        longest |= self.certificates().aggregate(certificate=Max(Length("number")))

        def chars(key):
            # Names, classes and remarks are written in Chinese: each character is two widths.
            return WIDE * (longest.get(key) or 0)

        samples = [
            [],
            units,
            units,
            [chars("name")],
            ["0" * (longest.get("number") or 0)],
            [str(v) for _k, v in PersonnelCategory.choices],
            [str(_("Underground")), str(_("Surface"))],
            trades,
            ranks,
            [
                chars("training"),
                _subject_label("rank", max(trades, key=text_width, default=""), max(ranks, key=text_width, default="")),
            ],
            [*(str(v) for _k, v in TrainingClass.Kind.choices), str(_("Skill-level appraisal"))],
            ["2026-12-31"],
            ["2026-12-31"],
            ["000.0"],
            ["000.0"],
            ["000.0"],
            ["100.0", self.ABSENT],
            ["100.0", self.ABSENT],
            [self.FAILED],
            [self.YES],
            ["0" * (longest.get("certificate") or 0)],
            ["2026-12-31"],
            ["2026-12-31"],
            ["2026-12-31"],
            [chars("remarks")],
        ]
        return column_widths(self.LEDGER_HEADERS, samples, maximum=LONG_TEXT_WIDTH)

    def _department(self, workbook, department: int, widths: list[float]) -> dict[str, int]:
        """Write the department's sheet; return {its title: its row count}."""
        sheet, styles, last = self._sheet(
            workbook,
            self.unit_names[department],
            self._heading(_("Training ledger"), department),
            list(self.LEDGER_HEADERS),
            widths,
        )
        today = self.today
        red_text, red_date, hours_style = styles.red_text, styles.red_date, styles.hours
        cell = sheet.cell
        passed = self.PASSED
        wrap, wrap_at = styles.wrap, [(i, widths[i] - 2) for i in self.WRAP_COLUMNS]
        n = 0
        for row in self.ledger_rows(department):
            n += 1
            for i, room in wrap_at:
                if row[i].__class__ is str and text_width(row[i]) > room:
                    row[i] = cell(row[i], wrap)
            for i in self.HOURS_COLUMNS:
                if row[i] is not None:
                    row[i] = cell(row[i], hours_style)
            for i in self.DUE_COLUMNS:
                if row[i] is not None and row[i] < today:
                    row[i] = cell(row[i], red_date)
            outcome = row[self.OUTCOME_COLUMN]
            if outcome is not None and outcome != passed:
                row[self.OUTCOME_COLUMN] = cell(outcome, red_text)
            sheet.append(row)
            self._tick()
        sheet.auto_filter.ref = f"A2:{last}{n + 2}"
        return {sheet.title: n}

    # --- 特种作业证 certificates -------------------------------------------------------------------------

    CERTIFICATE_HEADERS = (
        "序号",
        "姓名",
        "工号",
        "单位",
        "作业类别",
        "证号",
        "初领日期",
        "发证日期",
        "有效期至",
        "复审日期",
        "发证机关",
        "状态",
    )

    def _certificates(self, workbook) -> int:
        sheet, styles, last = self._sheet(
            workbook,
            "特种作业证",
            self._heading(_("Special-operation certificates")),
            list(self.CERTIFICATE_HEADERS),
            [6, 9, 11, 14, 22, 22, 11, 11, 11, 11, 20, 8],
        )
        status = {k: str(v) for k, v in Certificate.Status.choices}
        today = self.today
        n = 0
        rows = (
            self.certificates()
            .order_by("worker__unit__sort_order", "worker__unit__code", "worker__employee_no", "valid_until")
            .values_list(
                "worker__name",
                "worker__employee_no",
                "worker__unit__name",
                "special_operation__name",
                "number",
                "first_issued_on",
                "issued_on",
                "valid_until",
                "next_review_due",
                "issuing_body",
                "status",
            )
            .iterator(chunk_size=2000)
        )
        for name, number, unit, operation, cert_no, first, issued, valid, review, body, state in rows:
            n += 1
            sheet.append(
                [
                    n,
                    name,
                    number,
                    unit,
                    operation,
                    cert_no,
                    first,
                    issued,
                    sheet.cell(valid, styles.red_date) if valid is not None and valid < today else valid,
                    sheet.cell(review, styles.red_date) if review is not None and review < today else review,
                    body,
                    sheet.cell(status[state], styles.red_text) if state != Certificate.Status.ACTIVE else status[state],
                ]
            )
            self._tick()
        sheet.auto_filter.ref = f"A2:{last}{n + 2}"
        return n

    # --- 技能矩阵 skills matrix -------------------------------------------------------------------------

    def _matrix(self, workbook) -> int:
        trades = [(pk, name) for pk, name, active in self.trade_rows if active]
        column = {pk: i for i, (pk, _n) in enumerate(trades)}
        headers = ["工号", "姓名", "单位", *[name for _pk, name in trades]]
        sheet, _styles, last = self._sheet(
            workbook, "技能矩阵", self._heading(_("Skills matrix")), headers, [11, 9, 14, *[10] * len(trades)]
        )
        workers = (
            self.workers()
            .order_by("pk")
            .values_list("pk", "employee_no", "name", "unit__name")
            .iterator(chunk_size=2000)
        )
        # Highest awarded rank per worker and trade, sorted like the workers so the two streams merge.
        records = (
            RankRecord.objects.filter(worker__in=self.workers(), status=RankRecord.Status.AWARDED)
            .order_by("worker_id", "trade_id", "-rank__order")
            .values_list("worker_id", "trade_id", "rank__name")
            .iterator(chunk_size=2000)
        )
        grouped = groupby(records, key=lambda r: r[0])
        pending = next(grouped, None)
        n = 0
        for pk, number, name, unit in workers:
            cells = [None] * len(trades)
            while pending is not None and pending[0] < pk:
                pending = next(grouped, None)
            if pending is not None and pending[0] == pk:
                for _w, trade_id, rank_name in pending[1]:
                    index = column.get(trade_id)
                    if index is not None and cells[index] is None:
                        cells[index] = rank_name
                pending = next(grouped, None)
            n += 1
            sheet.append([number, name, unit, *cells])
            self._tick()
        sheet.auto_filter.ref = f"A2:{last}{n + 2}"
        return n


WORKER_ORDER = ("unit__sort_order", "unit__code", "name_pinyin", "employee_no", "pk")
WIDE = "国"  # one East-Asian wide character
LONG_TEXT_WIDTH = 24  # longer text wraps inside its cell


class _Stream:
    """An iterator of rows sorted by worker, taken one worker at a time (each row's first value is the worker id)."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def take(self, worker_id: int) -> list:
        found = []
        while self._next is not None and self._next[0] == worker_id:
            found.append(self._next)
            self._next = next(self._rows, None)
        return found


def _subject_label(kind: str, *names: str) -> str:
    """The 培训项目 text of an exam row: what the exam was for."""
    if kind == "rank":
        return _("%(trade)s %(rank)s skill-level appraisal") % {"trade": names[0], "rank": names[1]}
    if kind == "operation":
        return _("%(operation)s exam") % {"operation": names[0]}
    return _("%(course)s exam") % {"course": names[0]}


def _subject(result) -> tuple[str, str]:
    """Return (kind, label) of what a result's exam was for: a trade × rank, a special operation or a course."""
    course, trade, rank, operation = result[8:12]
    if trade is not None and rank is not None:
        return "rank", _subject_label("rank", trade, rank)
    if operation is not None:
        return "operation", _subject_label("operation", operation)
    return "course", _subject_label("course", course or "")


def mine_name() -> str:
    """Return the mine's name: its top unit of kind mine (the first top unit when none is)."""
    tops = Unit.objects.filter(parent__isnull=True).order_by(
        Case(When(kind=Unit.Kind.MINE, then=0), default=1), "sort_order", "code"
    )
    return tops.values_list("name", flat=True).first() or str(_("All units"))


def ledger_filename(scope: str, year: int | None) -> str:
    """Return 培训台账_<unit>_<year>.xlsx (the year left out when the ledger holds every year)."""
    return download_filename("培训台账", scope, year)


def ledger_export(target, *, unit: Unit | None = None, year: int | None = None, user=None, progress=None) -> dict:
    """Write the training ledger workbook for what `user` may see (everyone when user is None: the command line)."""
    return LedgerWriter(unit=unit, year=year, user=user, progress=progress).write(target)
