"""
The exam day as HR lives it (issue 13), walked in a real Chromium on the demo mine, in English and in Chinese:
create an appraisal sitting with separate theory and practical days in the admin, put the workers ready for
the rank on its roster, download its results sheet, fill it in (openpyxl) and re-save it with LibreOffice,
upload it, read the preview with the awards the roll-up will propose, confirm, and approve one award on the
approval page, its requirements in words and dated on the day its last requirement was met.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import warnings
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certifications.models import AssessmentResult, RankRecord, Sitting
from certifications.sittings import selectors
from tests.browser.conftest import shot
from training.models import Rank, Trade, Worker

pytestmark = [pytest.mark.browser, pytest.mark.libreoffice, pytest.mark.django_db(transaction=True)]

SOFFICE = shutil.which("soffice")

# What each page says, in each language: asserted as the reader sees it (so a missing translation fails).
TEXTS = {
    "en": {
        "switch": "English",
        "login": "Log in",
        "login_name": "Login name",
        "password": "Password",
        "sittings": "Appraisal sittings",
        "name": "Name",
        "theory_on": "Theory exam date",
        "practical_on": "Practical exam date",
        "save_continue": "Save and continue editing",
        "ready": "Ready for this rank",
        "added": "added to the roster.",
        "download": "Download (.xlsx)",
        "columns": ("Employee number", "Theory score", "Practical score"),
        "title": "Appraisal sitting ",
        "upload": "Upload it on Import exam results",
        "import": "Import exam results",
        "file": "Exam results sheet (.xlsx, .xls or .csv)",
        "check": "Check the file",
        "proposed": "Rank awards the roll-up will propose",
        "new": "new",
        "passed": "passed, pass mark",
        "confirm": "Confirm import",
        "proposed_message": "The roll-up proposed",
        "approve_link": "Approve or reject them",
        "approvals": "Pending rank awards",
        "every_award": "Every pending award",
        "theory": "Theory exam",
        "practical": "Practical exam",
        "approve": "Approve",
        "approved": "Approved 1 award(s):",
        "since": "since",
    },
    "zh-hans": {
        "switch": "中文",
        "login": "登录",
        "login_name": "用户名",
        "password": "密码",
        "sittings": "考核批次",
        "name": "名称",
        "theory_on": "理论考试日期",
        "practical_on": "实操考试日期",
        "save_continue": "保存并继续编辑",
        "ready": "具备该等级报考条件",
        "added": "加入考生名单。",
        "download": "下载（.xlsx）",
        "columns": ("工号", "理论成绩", "实操成绩"),
        "title": "考核批次 ",
        "upload": "在“导入考试成绩”页面上传",
        "import": "导入考试成绩",
        "file": "考试成绩表（.xlsx、.xls 或 .csv）",
        "check": "检查文件",
        "proposed": "导入后将核定的等级",
        "new": "新增",
        "passed": "合格，及格线",
        "confirm": "确认导入",
        "proposed_message": "系统核定了",
        "approve_link": "前往审批",
        "approvals": "待审批等级",
        "every_award": "全部待审批等级",
        "theory": "理论考试",
        "practical": "实操考试",
        "approve": "批准",
        "approved": "已批准 1 项等级认定：",
        "since": "认定于",
    },
}


@pytest.fixture
def demo():
    """
    The demo mine, committed for the live server, and the sitting to hold: the first trade × rank (综采维修电工
    中级工 when it qualifies) with a worker for whom, on the practical day, the exams are all that is missing and
    who never sat them, so that passing both completes the rank.
    """
    call_command("load_demo", "--force", stdout=StringIO())
    today = timezone.localdate()
    theory_on, practical_on = today - dt.timedelta(days=10), today - dt.timedelta(days=3)
    preferred = sorted(Trade.objects.all(), key=lambda t: t.code != "ZWDG")
    for trade in preferred:
        for rank in Rank.objects.order_by("order"):
            # An unsaved probe with no roster (pk 0 matches no candidate), judged as the sitting will be.
            probe = Sitting(pk=0, trade=trade, rank=rank, theory_on=theory_on, practical_on=practical_on)
            ready = selectors.ready_candidate_ids(sitting=probe)
            never_sat = set(ready) - set(
                AssessmentResult.objects.filter(
                    worker_id__in=ready, assessment__trade=trade, assessment__rank=rank
                ).values_list("worker_id", flat=True)
            )
            if never_sat:
                return {
                    "trade": trade,
                    "rank": rank,
                    "theory_on": theory_on,
                    "practical_on": practical_on,
                    "ready": Worker.objects.filter(pk__in=ready).order_by("employee_no"),
                    "worker": Worker.objects.filter(pk__in=never_sat).order_by("employee_no").first(),
                }
    pytest.fail("The demo mine has no worker ready for a rank but for its exams")


def field_label(text: str) -> re.Pattern:
    """Return a pattern for an admin field's label: the text and the suffix the admin adds (":" or "：")."""
    return re.compile(rf"^{re.escape(text)}\s*[:：]?$")


def labelled(page, text: str):
    return page.get_by_label(field_label(text))


def select2(page, field: str, text: str):
    """Choose `text` in an admin autocomplete (select2) field."""
    page.locator(f"#id_{field} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def re_save_with_libreoffice(source: Path) -> Path:
    """Return the sheet as LibreOffice saves it again (or the sheet itself, with a warning, without LibreOffice)."""
    if SOFFICE is None:
        message = "soffice is not installed: the sheet is uploaded as openpyxl wrote it, not re-saved by LibreOffice"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}. Under CI=true it must be: `make browser` installs LibreOffice as root.")
        warnings.warn(message, stacklevel=2)
        return source
    out = source.parent / "libreoffice"
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{source.parent / 'profile'}"]
        + ["--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    resaved = out / source.name
    assert resaved.read_bytes() != source.read_bytes()
    return resaved


def fill_in(sheet_bytes: bytes, columns, employee_nos: set[str], path: Path) -> dict[str, tuple[int, int]]:
    """Fill in passing theory and practical scores for every roster row, as a clerk would; return them."""
    book = openpyxl.load_workbook(io.BytesIO(sheet_bytes))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[2]]
    number, theory, practical = (headers.index(column) for column in columns)
    scores = {}
    for n, row in enumerate(sheet.iter_rows(min_row=3), start=0):
        employee_no = row[number].value
        if employee_no in employee_nos:
            scores[employee_no] = (84 + n % 10, 76 + n % 7)
            row[theory].value, row[practical].value = scores[employee_no]
    book.save(path)
    return scores


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_hr_holds_an_exam_day_from_sitting_to_approved_award(demo, language, live_server, page, tmp_path):
    from playwright.sync_api import expect  # here: without Playwright, the browser fixture skips (or fails under CI)

    say = TEXTS[language]
    url = live_server.url

    # Log in as hr, in the reader's language (the switch on the login page).
    page.goto(f"{url}/login/")
    page.get_by_role("button", name=say["switch"]).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_label(say["login_name"]).fill("hr")
    page.get_by_label(say["password"]).fill("kuangjiang")
    page.get_by_role("button", name=say["login"]).click()
    page.wait_for_url(lambda u: "/login/" not in u)

    # 1. The sitting: a trade × rank with its theory and practical on different days.
    page.goto(f"{url}{reverse('admin:index')}")
    sittings = page.locator("#content-main tr.model-sitting")
    assert sittings.locator("th").inner_text() == say["sittings"]
    sittings.locator("a.addlink").click()
    name = f"{demo['trade'].name}{demo['rank'].name}技能等级认定"
    labelled(page, say["name"]).fill(name)
    select2(page, "trade", demo["trade"].name)
    select2(page, "rank", demo["rank"].name)
    labelled(page, say["theory_on"]).fill(demo["theory_on"].isoformat())
    labelled(page, say["practical_on"]).fill(demo["practical_on"].isoformat())
    page.get_by_role("button", name=say["save_continue"]).click()
    page.wait_for_url("**/change/")
    sitting = Sitting.objects.get(name=name)
    assert sitting.theory.held_on == demo["theory_on"] and sitting.practical.held_on == demo["practical_on"]

    # 2. The roster: tick every worker the "ready for this rank" picker offers.
    picker = page.locator("#id_add_ready")
    assert page.get_by_text(field_label(say["ready"])).is_visible()
    offered = picker.get_by_role("checkbox")
    assert offered.count() == demo["ready"].count()
    for worker in demo["ready"]:
        picker.get_by_label(f"{worker.employee_no} {worker.name} · {worker.unit.name}").check()
    shot(page, f"exam-day-{language}-picker")
    page.get_by_role("button", name=say["save_continue"]).click()
    page.locator(".messagelist").get_by_text(say["added"]).wait_for()
    roster = set(sitting.candidates.values_list("worker__employee_no", flat=True))
    assert roster == {w.employee_no for w in demo["ready"]}

    # 3. Its results sheet, downloaded from the sitting's page.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=say["download"]).click()
    download = download_info.value
    assert download.suggested_filename.endswith(f"_{demo['theory_on'].isoformat()}.xlsx")
    sheet = Path(download.path()).read_bytes()
    title = openpyxl.load_workbook(io.BytesIO(sheet)).worksheets[0]["A1"].value
    assert title.startswith(f"{say['title']}{sitting.code} ") and demo["practical_on"].isoformat() in title

    # 4. Filled in and re-saved with LibreOffice, as the clerk's spreadsheet program would.
    filled = tmp_path / f"{sitting.code}.xlsx"
    scores = fill_in(sheet, say["columns"], roster, filled)
    assert set(scores) == roster
    upload = re_save_with_libreoffice(filled)

    # 5. Uploaded on the results import page (linked from the sitting's page): the preview says what will
    # happen, with the proposed awards.
    page.get_by_role("link", name=say["upload"]).click()
    page.get_by_role("heading", name=say["import"]).wait_for()
    page.get_by_label(say["file"]).set_input_files(str(upload))
    page.get_by_role("button", name=say["check"]).click()
    page.get_by_role("heading", name=say["proposed"]).wait_for()
    preview = page.locator("table.import-preview tbody tr")
    assert preview.count() == len(roster)
    worker = demo["worker"]
    row = preview.filter(has_text=worker.employee_no)
    assert say["new"] in row.inner_text() and say["passed"] in row.inner_text()
    proposed = page.locator("table.proposed-awards tbody tr").filter(has_text=worker.employee_no)
    assert proposed.inner_text().split("\t") == [
        worker.employee_no,
        worker.name,
        demo["trade"].name,
        demo["rank"].name,
        demo["practical_on"].isoformat(),
    ]
    shot(page, f"exam-day-{language}-preview")
    page.get_by_role("button", name=say["confirm"]).click()

    # 6. The message gives the awards proposed and the way to the approval page.
    message = page.locator(".messagelist")
    message.get_by_text(say["proposed_message"]).wait_for()
    assert worker.name in message.inner_text()
    assert AssessmentResult.objects.filter(assessment__in=[sitting.theory, sitting.practical]).count() == 2 * len(
        roster
    )
    message.get_by_role("link", name=say["approve_link"]).click()

    # 7. The approval page, showing the awards this import proposed (the demo has many more pending, older ones
    # first): the award's requirements in words, then approved.
    page.get_by_role("heading", name=say["approvals"], level=1).wait_for()
    record = RankRecord.objects.get(worker=worker, trade=demo["trade"], rank=demo["rank"])
    proposed_ids = set(
        RankRecord.objects.filter(status=RankRecord.Status.PENDING, worker__in=demo["ready"]).values_list(
            "pk", flat=True
        )
    )
    assert RankRecord.objects.filter(status=RankRecord.Status.PENDING).count() > len(proposed_ids)
    shown = {int(i.split("-")[1]) for i in page.locator("tr[id^=award-]").evaluate_all("rows => rows.map(r => r.id)")}
    assert record.pk in shown and shown <= proposed_ids
    assert page.get_by_role("link", name=say["every_award"]).is_visible()
    row = page.locator(f"#award-{record.pk}")
    theory, practical = scores[worker.employee_no]
    words = row.inner_text()
    assert f"{say['theory']} {theory} ≥" in words and f"{say['practical']} {practical} ≥" in words
    # The evidence is the results themselves, as links in words: never an id or the frozen JSON.
    assert row.get_by_role("link", name=re.compile(rf"{demo['theory_on'].isoformat()}\W+{theory}$")).count() == 1
    assert row.get_by_role("link", name=re.compile(rf"{demo['practical_on'].isoformat()}\W+{practical}$")).count() == 1
    assert not re.search(r"(result|attendance|review|rank_record):\d|[{}\[\]]", words)
    assert f"{demo['practical_on'].isoformat()}" in row.get_by_role("cell").nth(3).inner_text()
    shot(page, f"exam-day-{language}-approval")
    row.get_by_role("button", name=say["approve"], exact=True).click()
    page.locator(".messages, .messagelist").get_by_text(say["approved"]).wait_for()
    assert page.locator(f"#award-{record.pk}").count() == 0

    # 8. Recorded: the worker's page shows the rank held since the day its last requirement (the practical) was met.
    page.goto(f"{url}{worker.get_absolute_url()}")
    held = page.get_by_role("article", name=re.compile(f"^{demo['trade'].name}"))
    assert " ".join(held.locator(".rank-held").first.inner_text().split()) == (
        f"{demo['rank'].name} · {say['since']} {demo['practical_on'].isoformat()}"
    )
    record.refresh_from_db()
    assert record.status == RankRecord.Status.AWARDED
    assert record.awarded_on == demo["practical_on"]
    assert record.decided_by.username == "hr" and record.decided_at is not None
