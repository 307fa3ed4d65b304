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
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from certifications import measures
from certifications.models import AssessmentResult, Certificate, RankRecord
from core.dates import SUPPORTED_YEARS
from core.workbooks import Workbook
from training import access
from training.models import Attendance, PersonnelCategory, Rank, Trade, TrainingClass, Unit, Worker, WorkerTrade

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
        if unit is not None and unit.kind != Unit.Kind.MINE:
            tops = [unit.pk]
        else:
            top_parent = [unit.pk] if unit is not None else roots
            tops = [u[0] for u in units if u[1] in top_parent]
            tops += [r for r in top_parent if not any(u[1] == r for u in units)]
        self.departments = sorted(tops, key=lambda pk: order[pk])
        self.department_of = {}
        for dept in self.departments:
            for pk in access.descendant_unit_ids(dept, parent_of):
                self.department_of[pk] = dept
        if allowed is not None:
            # A trainee sees no unit, only their own record: keep the department it sits in.
            reach = allowed or set(self.workers().values_list("unit_id", flat=True))
            self.departments = [d for d in self.departments if access.descendant_unit_ids(d, parent_of) & reach]

    # --- scope ---------------------------------------------------------------------------------------

    def workers(self):
        queryset = access.visible_workers(self.user) if self.user is not None else Worker.objects.all()
        if self.unit is not None:
            queryset = queryset.filter(unit_id__in=access.descendant_unit_ids(self.unit.pk, self.parent_of))
        return queryset

    def attendance(self, department: int):
        queryset = Attendance.objects.filter(
            worker__in=self.workers(), worker__unit_id__in=access.descendant_unit_ids(department, self.parent_of)
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
        for department in self.departments:
            counts.update(self._department(workbook, department))
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
        """Start a sheet the way HR prints it: title row, frozen header, widths, landscape A4, repeated header rows."""
        sheet = workbook.create_sheet(title)
        styles = Styles(sheet)
        sheet.freeze_panes = "A3"
        for index, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = 9  # A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = "1:2"
        sheet.print_options.horizontalCentered = True
        last = get_column_letter(len(headers))
        sheet.merged_cells.add(f"A1:{last}1")
        sheet.row_dimensions[1].height = 28
        sheet.append([sheet.cell(heading, styles.title)])
        sheet.append([sheet.cell(header, styles.header) for header in headers])
        return sheet, styles, last

    def _heading(self, what: str) -> str:
        scope = self.unit.name if self.unit is not None else _("All units")
        year = str(self.year) if self.year else _("all years")
        return f"{scope} {what}（{year}）"

    # --- 汇总 summary ----------------------------------------------------------------------------------

    def _summary(self, workbook) -> int:
        rank_rows = list(Rank.objects.values_list("id", "name", "high_skill", "order").order_by("order"))
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
    LEDGER_WIDTHS = (6, 14, 12, 9, 11, 12, 8, 14, 9, 22, 12, 11, 11, 8, 8, 8, 8, 8, 9, 6, 22, 11, 11, 12, 16)

    def ledger_rows(self, department: int):
        """Return the department's rows as a values_list iterator: the streaming source of its sheet."""
        result = AssessmentResult.objects.filter(
            worker=OuterRef("worker_id"),
            assessment__course=OuterRef("training_class__course_id"),
            assessment__held_on__gte=OuterRef("training_class__start"),
        )
        theory = result.filter(assessment__kind="theory").order_by("-attempt")
        practical = result.filter(assessment__kind="practical").order_by("-attempt")
        primary = WorkerTrade.objects.filter(worker=OuterRef("worker_id"), is_primary=True)
        rank = RankRecord.objects.filter(
            worker=OuterRef("worker_id"), trade=OuterRef("primary_trade"), status=RankRecord.Status.AWARDED
        ).order_by("-rank__order")
        certificate = Certificate.objects.filter(
            worker=OuterRef("worker_id"),
            issued_on__gte=OuterRef("training_class__start"),
            status=Certificate.Status.ACTIVE,
        ).order_by("issued_on", "pk")
        return (
            self.attendance(department)
            .annotate(
                primary_trade=Subquery(primary.values("trade_id")[:1]),
                trade_name=Subquery(primary.values("trade__name")[:1]),
                rank_name=Subquery(rank.values("rank__name")[:1]),
                theory_score=Subquery(theory.values("score")[:1]),
                theory_attempt=Subquery(theory.values("attempt")[:1], output_field=IntegerField()),
                theory_pass=Subquery(theory.values("assessment__pass_mark")[:1]),
                practical_score=Subquery(practical.values("score")[:1]),
                practical_attempt=Subquery(practical.values("attempt")[:1], output_field=IntegerField()),
                practical_pass=Subquery(practical.values("assessment__pass_mark")[:1]),
                certificate_no=Subquery(certificate.values("number")[:1]),
                certificate_issued=Subquery(certificate.values("issued_on")[:1]),
                certificate_valid=Subquery(certificate.values("valid_until")[:1]),
                certificate_review=Subquery(certificate.values("next_review_due")[:1]),
            )
            .order_by(
                "worker__unit__sort_order",
                "worker__unit__code",
                "worker__name_pinyin",
                "worker__employee_no",
                "training_class__start",
                "pk",
            )
            .values_list(
                "worker__unit_id",
                "worker__name",
                "worker__employee_no",
                "worker__category",
                "worker__unit__kind",
                "trade_name",
                "rank_name",
                "training_class__name",
                "training_class__kind",
                "training_class__start",
                "training_class__end",
                "theory_hours",
                "practical_hours",
                "theory_score",
                "theory_attempt",
                "practical_score",
                "practical_attempt",
                "certificate_no",
                "certificate_issued",
                "certificate_valid",
                "certificate_review",
                "remarks",
                "theory_pass",
                "practical_pass",
            )
            .iterator(chunk_size=2000)
        )

    def _department(self, workbook, department: int) -> dict[str, int]:
        """Write the department's sheet; return {its title: its row count}."""
        sheet, styles, last = self._sheet(
            workbook,
            self.unit_names[department],
            self._heading(_("Training ledger") + " · " + self.unit_names[department]),
            list(self.LEDGER_HEADERS),
            list(self.LEDGER_WIDTHS),
        )
        category = dict(PersonnelCategory.choices)
        class_kind = dict(TrainingClass.Kind.choices)
        category = {k: str(v) for k, v in category.items()}
        class_kind = {k: str(v) for k, v in class_kind.items()}
        underground = str(_("Underground"))
        surface = str(_("Surface"))
        passed_text, failed_text, absent_text, yes = "合格", "不合格", "缺考", "是"
        today = self.today
        names = self.unit_names
        parent_of = self.parent_of
        red_text, red_date, hours_style = styles.red_text, styles.red_date, styles.hours
        cell = sheet.cell
        n = 0
        for row in self.ledger_rows(department):
            (
                unit_id,
                name,
                number,
                cat,
                unit_kind,
                trade,
                rank,
                training,
                kind,
                start,
                end,
                th,
                ph,
                ts,
                ta,
                ps,
                pa,
                cert_no,
                issued,
                valid,
                review,
                remarks,
                tp,
                pp,
            ) = row
            n += 1
            crew = names[unit_id] if unit_kind == Unit.Kind.CREW else ""
            owner = names.get(parent_of[unit_id], "") if unit_kind == Unit.Kind.CREW else names[unit_id]
            # A result row exists when the attempt is known; a missing score then means absent.
            theory_absent = ta is not None and ts is None
            practical_absent = pa is not None and ps is None
            if ta is None and pa is None:
                outcome = None
            elif theory_absent or practical_absent:
                outcome = cell(absent_text, red_text)
            elif (ta is None or ts >= tp) and (pa is None or ps >= pp):
                outcome = passed_text
            else:
                outcome = cell(failed_text, red_text)
            sheet.append(
                [
                    n,
                    owner,
                    crew,
                    name,
                    number,
                    category.get(cat, cat),
                    underground if trade is not None else surface,
                    trade,
                    rank,
                    training,
                    class_kind.get(kind, kind),
                    start,
                    end,
                    cell(th, hours_style),
                    cell(ph, hours_style),
                    cell(th + ph, hours_style),
                    absent_text if theory_absent else ts,
                    absent_text if practical_absent else ps,
                    outcome,
                    yes if (ta or 1) > 1 or (pa or 1) > 1 else None,
                    cert_no,
                    issued,
                    cell(valid, red_date) if valid is not None and valid < today else valid,
                    cell(review, red_date) if review is not None and review < today else review,
                    remarks or None,
                ]
            )
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
        trades = list(Trade.objects.filter(active=True).values_list("id", "name").order_by("code"))
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


def ledger_export(target, *, unit: Unit | None = None, year: int | None = None, user=None, progress=None) -> dict:
    """Write the training ledger workbook for what `user` may see (everyone when user is None: the command line)."""
    return LedgerWriter(unit=unit, year=year, user=user, progress=progress).write(target)
