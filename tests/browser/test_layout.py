"""
Every main page and a representative set of admin screens, as each role that may see them, on a 390-px phone
and a clerk's 1280-px screen, in English and in Chinese: nothing scrolls sideways outside a marked scroller, no
table cell is squeezed below two characters, and the Chinese pages show no English left over. The worker file
prints as a file (Chromium's PDF): every section expanded, the signature block on the last page.
"""

import datetime as dt
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from certifications import models as cert
from certifications.sittings.services import candidates_add, sitting_save
from tests.browser.conftest import ARTIFACTS
from tests.factories import (
    AssessmentFactory,
    AttendanceFactory,
    CertificateFactory,
    CertificateReviewFactory,
    CourseFactory,
    HonourFactory,
    MentorshipFactory,
    PackageCourseFactory,
    PackageFactory,
    RankRecordFactory,
    ResultFactory,
    TradeFactory,
    TrainingClassFactory,
    UserFactory,
    WorkerTradeFactory,
    make_ladder,
)
from tests.site_fixtures import build_mine
from tests.test_translations import PO, po_entries
from training import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LANGUAGES = ("en", "zh-hans")
# English that a Chinese page must never show: third-party admin words, and raw values.
NEVER_IN_CHINESE = ("Select all", "Choose", "Task Results", "None", "Save and", "Filter", "Search", "Log out")

# The page's own measurements, in one round trip: sideways overflow outside the marked scrollers (.table-scroll,
# and the admin's own .results and inline scrollers), table cells narrower than two characters, chart labels too
# small to read, and the visible text.
MEASURE = """() => {
  const scrollers = ".table-scroll, #changelist .results, .inline-group .tabular";
  const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const width = innerWidth;
  const overflow = [];
  if (document.documentElement.scrollWidth > width) {
    for (const el of document.body.querySelectorAll("*")) {
      if (el.closest(scrollers) || !el.checkVisibility()) continue;
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && r.width > 0) overflow.push(describe(el) + " ends at " + Math.round(r.right));
      if (overflow.length > 6) break;
    }
    overflow.unshift("page is " + document.documentElement.scrollWidth + " px wide");
  }
  const canvas = document.createElement("canvas").getContext("2d");
  const narrow = [];
  for (const cell of document.querySelectorAll("td, th")) {
    if (cell.matches(".original")) continue;  // the admin's inline row title, drawn above its row
    // Text for screen readers only (.visually-hidden) takes no room.
    let text = cell.innerText;
    for (const hidden of cell.querySelectorAll(".visually-hidden")) text = text.replace(hidden.innerText, "");
    text = text.trim();
    if (!text || !cell.checkVisibility()) continue;
    const section = cell.closest("thead, tbody, table");
    if (section.getBoundingClientRect().width <= 2) continue;  // a visually hidden header row
    const style = getComputedStyle(cell);
    const size = parseFloat(style.fontSize);
    const inner = cell.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    canvas.font = style.font;
    const need = Math.min(2 * size, canvas.measureText(text).width) - 1;
    if (inner < need) narrow.push(text.slice(0, 20) + " (" + Math.round(inner) + " < " + Math.round(need) + " px)");
  }
  const tiny = [];
  for (const label of document.querySelectorAll(".chart svg text")) {
    const h = label.getBoundingClientRect().height;
    if (h > 0 && h < 9) tiny.push(label.textContent + " (" + h.toFixed(1) + " px)");
  }
  // At a clerk's screen the admin's lists and inline rows fit: no column falls off to the right.
  const clipped = [];
  if (width >= 1280) {
    for (const box of document.querySelectorAll("#changelist .results, .inline-group .tabular")) {
      if (box.scrollWidth > box.clientWidth + 1) {
        clipped.push(describe(box) + " " + box.scrollWidth + " > " + box.clientWidth);
      }
    }
  }
  return {overflow, narrow, tiny, clipped, text: document.body.innerText};
}"""


def english_left_over() -> re.Pattern:
    """Return a pattern for the listed words and for every English sentence of our catalogue (three words or more)."""
    phrases = set(NEVER_IN_CHINESE)
    for msgid, _msgstr, _fuzzy in po_entries(PO):
        if len(msgid.split()) >= 3 and msgid.isascii() and "%" not in msgid and "{" not in msgid and "\\" not in msgid:
            phrases.add(msgid)
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])")


@pytest.fixture
def mine(today):
    """A small mine with one of everything a worker file, a unit page, the dashboard and the admin show."""
    m = build_mine()
    UserFactory(username="hr", role=roles.HR)
    UserFactory(username="officer", role=roles.OFFICER, is_staff=True)
    UserFactory(username="assessor", role=roles.ASSESSOR, is_staff=True)
    ladder = make_ladder()
    trade = TradeFactory(code="ZCWXDG", name="综采维修电工")
    for worker in (m.trainee, m.classmate, m.leader):
        WorkerTradeFactory(worker=worker, trade=trade, started_on=dt.date(2016, 3, 1))
    RankRecordFactory(worker=m.trainee, trade=trade, rank=ladder[1], certificate_no="ZS2020-0001")
    RankRecordFactory(worker=m.classmate, trade=trade, rank=ladder[2], status=cert.RankRecord.Status.PENDING)
    package = PackageFactory(trade=trade, rank=ladder[2])
    course = CourseFactory(title="综采设备维护与故障处理")
    PackageCourseFactory(package=package, course=course)
    for n in range(5):
        PackageCourseFactory(package=package, course=CourseFactory(title=f"煤矿安全规程第{n + 1}部分"))
    training_class = TrainingClassFactory(course=course, name="2026年综采维修电工高级工培训班")
    for worker in (m.trainee, m.classmate):
        AttendanceFactory(training_class=training_class, worker=worker)
    AttendanceFactory(
        training_class=TrainingClassFactory(course=course, start=dt.date(2025, 9, 1), end=dt.date(2025, 9, 5)),
        worker=m.trainee,
    )
    theory = AssessmentFactory(course=course, trade=trade, rank=ladder[2], name="高级工理论考试")
    practical = AssessmentFactory(
        course=course, trade=trade, rank=ladder[2], name="高级工实操考试", kind=cert.Assessment.Kind.PRACTICAL
    )
    ResultFactory(assessment=theory, worker=m.trainee, score=Decimal("52"))
    ResultFactory(assessment=theory, worker=m.trainee, score=Decimal("78"), attempt=2)
    ResultFactory(assessment=practical, worker=m.trainee, score=Decimal("81"))
    ResultFactory(assessment=theory, worker=m.classmate, absent=True, score=None)
    certificate = CertificateFactory(worker=m.trainee, next_review_due=dt.date(2026, 7, 1))
    CertificateReviewFactory(certificate=certificate, reviewed_on=dt.date(2023, 5, 1))
    CertificateFactory(worker=m.classmate, special_operation=certificate.special_operation)
    trade.special_operations.add(certificate.special_operation)
    HonourFactory(worker=m.trainee)
    MentorshipFactory(apprentice=m.trainee, mentor=m.leader, trade=trade)
    sitting = sitting_save(
        cert.Sitting(name="综采维修电工高级工鉴定", trade=trade, rank=ladder[2], theory_on=dt.date(2026, 9, 5))
    )
    candidates_add(sitting=sitting, worker_ids=[m.trainee.pk, m.classmate.pk])
    m.training_class, m.result, m.certificate, m.sitting = training_class, theory.results.first(), certificate, sitting
    m.question = exam_bank_question(trade, ladder[2])
    return m


def exam_bank_question(trade, rank):
    """A bank question with an image in its stem and one version a paper showed (issue 16)."""
    from django.core.files.base import ContentFile

    from certifications.exams.bank import question_create
    from tests.test_exam_bank import PNG

    return question_create(
        kind=cert.Question.Kind.MULTIPLE,
        stem="综采工作面供电系统中，下列哪些做法符合“三无”要求？",
        options=["无鸡爪子", "无羊尾巴", "无明接头", "电缆悬挂整齐"],
        answer="ABC",
        explanation="“三无”指无鸡爪子、无羊尾巴、无明接头。",
        knowledge_point="供电安全",
        trades=[trade],
        ranks=[rank],
        images={"": ContentFile(PNG, "stem.png")},
    )


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "kuangjiang")
    page.click("button[type=submit]:not([name=language])")
    page.wait_for_load_state()


def site_pages(m) -> dict[str, list[str]]:
    worker, unit = m.trainee.get_absolute_url(), m.dept.get_absolute_url()
    return {
        "hr": [
            "/",
            worker,
            unit,
            "/dashboard/",
            "/awards/pending/",
            "/compliance/roster/",
            "/spreadsheets/results/import/",
        ],
        "leader": ["/", "/me/", worker, unit],
        "trainee": ["/", "/me/"],
    }


def admin_pages(m) -> list[str]:
    return [
        "/admin/training/worker/",
        f"/admin/training/worker/{m.trainee.pk}/change/",
        "/admin/certifications/assessmentresult/",
        f"/admin/certifications/assessmentresult/{m.result.pk}/change/",
        "/admin/certifications/certificate/",
        f"/admin/certifications/certificate/{m.certificate.pk}/change/",
        "/admin/training/trainingclass/",
        f"/admin/training/trainingclass/{m.training_class.pk}/change/",
        "/admin/certifications/sitting/",
        f"/admin/certifications/sitting/{m.sitting.pk}/change/",
        "/admin/certifications/question/",
        f"/admin/certifications/question/{m.question.pk}/change/",
        "/admin/certifications/question/import/",
        "/exams/analysis/",
    ]


def survey(browser, live_server, username, paths) -> list[str]:
    """Open every path in both languages at both sizes; return what is wrong, one line per finding."""
    english = english_left_over()
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    try:
        log_in(page, live_server, username)
        for language in LANGUAGES:
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            for size, viewport in VIEWPORTS.items():
                page.set_viewport_size(viewport)
                for path in paths:
                    response = page.goto(f"{live_server.url}{path}")
                    where = f"{username} {language} {size} {path}"
                    if response.status != 200:
                        problems.append(f"{where}: status {response.status}")
                        continue
                    found = page.evaluate(MEASURE)
                    problems += [f"{where}: overflow {', '.join(found['overflow'])}"] if found["overflow"] else []
                    problems += [f"{where}: narrow cell {cell}" for cell in found["narrow"]]
                    problems += [f"{where}: chart label {label}" for label in found["tiny"]]
                    problems += [f"{where}: columns cut off in {box}" for box in found["clipped"]]
                    if language == "zh-hans":
                        problems += [f"{where}: English {hit!r}" for hit in sorted(set(english.findall(found["text"])))]
    finally:
        context.close()
    return problems


@pytest.mark.parametrize("role", ["hr", "leader", "trainee"])
def test_every_page_of_a_role_fits_a_phone_and_a_desktop_in_both_languages(mine, live_server, browser, role):
    problems = survey(browser, live_server, role, site_pages(mine)[role])
    assert problems == [], "\n".join(problems)


def test_the_admin_fits_a_clerks_screen_and_a_phone_in_both_languages(mine, live_server, browser):
    problems = survey(browser, live_server, "hr", admin_pages(mine))
    assert problems == [], "\n".join(problems)


def test_on_a_phone_the_unit_list_is_cards_and_the_matrix_keeps_its_worker_column(mine, live_server, browser):
    context = browser.new_context(locale="en-US", viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "leader")
        page.goto(f"{live_server.url}{mine.dept.get_absolute_url()}")
        card = page.locator("table.workers tbody tr").filter(has_text="王强")
        labels = card.locator("th, td").evaluate_all(
            """cells => cells.map(c => [c.getBoundingClientRect().top, c.dataset.label || c.innerText.split("\\n")[0]])
                              .sort((a, b) => a[0] - b[0]).map(c => c[1])"""
        )
        assert labels[:4] == ["王强", "Cleared for post", "Certificates due (90 days)", "Retraining hours this year"]
        assert card.locator("td.col-due").evaluate("td => getComputedStyle(td, '::before').content") == (
            '"Certificates due (90 days)"'
        )
        # Every card is as wide as the screen allows, not a squeezed table row.
        assert card.bounding_box()["width"] > 300

        scroller = page.locator(".table-scroll--matrix")
        assert page.locator("#matrix-hint").is_visible()
        assert scroller.evaluate("s => s.scrollWidth > s.clientWidth")
        worker_cell = scroller.locator("tbody th[scope=row]").first
        before = worker_cell.bounding_box()["x"]
        scroller.evaluate("s => { s.scrollLeft = s.scrollWidth; }")
        assert worker_cell.bounding_box()["x"] == pytest.approx(before, abs=1)
        assert scroller.locator("thead th").last.bounding_box()["x"] < 390

        page.goto(f"{live_server.url}{mine.trainee.get_absolute_url()}")
        # What a miner most needs is on screen: the next review and the certificate's expiry.
        for label in ("Next review", "Valid until"):
            cell = page.locator(f"td[data-label='{label}']").first
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, label
            assert "2026-07-01" in page.locator("td[data-label='Next review']").first.inner_text()
    finally:
        context.close()


def pdf_text(path: Path) -> list[str]:
    """Return the text of each page of a PDF (pypdf when installed, else poppler's pdftotext)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
        return text.stdout.split("\f")[:-1]
    return [p.extract_text() for p in PdfReader(str(path)).pages]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_worker_file_prints_every_section_and_ends_with_the_signature_block(mine, live_server, browser, language):
    context = browser.new_context(locale="en-US")
    context.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    page = context.new_page()
    try:
        log_in(page, live_server, "hr")
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.goto(f"{live_server.url}{mine.trainee.get_absolute_url()}")
        assert page.locator("details:not([open])").count() >= 2  # folded on screen
        # Printed from the browser's menu, without the button, the folded sections print too (print.css, site.js).
        menu = page.pdf(format="A4", prefer_css_page_size=True)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"worker-file-menu-{language}.pdf").write_bytes(menu)
        assert "52/100" in "".join(pdf_text(ARTIFACTS / f"worker-file-menu-{language}.pdf")).replace(" ", "")
        page.locator("[data-print]").click()
        assert page.evaluate("window.__printed") == 1
        assert page.locator("details:not([open])").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        pdf = ARTIFACTS / f"worker-file-{language}.pdf"  # kept for a person to look at
        page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
    finally:
        context.close()

    pages = pdf_text(pdf)
    text = re.sub(r"\s+", " ", " ".join(pages))
    flat = re.sub(r"\s+", "", text)  # a long name may wrap inside its cell
    zh = language == "zh-hans"
    headings = ["一人一档", "煤矿", "综采一队检修班", "王强", "100001", "2026-06-01"] + (
        ["技能等级", "培训班", "成绩", "证书", "荣誉", "师带徒"]
        if zh
        else ["Trades and ranks", "Training classes", "Score history", "Certificates", "Honours", "Mentorship"]
    )
    missing = [h for h in headings if h not in text and h not in flat]
    assert missing == [], text
    # Every exam with its score and re-sit, every class with its hours, the review of the certificate.
    for expected in (
        "高级工理论考试",
        "52/100",
        "78/100",
        "81/100",
        "综采维修电工高级工培训",
        "综采设备维护与故障处理",
        "2023-05-01",
    ):
        assert expected in flat, expected
    assert ("补考" if zh else "re-sit") in text
    assert ("合计学时" if zh else "Total hours") in text
    # The signature and seal block closes the file, on its last page; every page is numbered.
    block = ["本人签字", "培训部门负责人", "日期" if zh else "Date"]
    assert [b for b in block if b not in pages[-1]] == [], pages[-1]
    assert len(pages) > 1
    assert all(re.search(rf"\b{n}\s*/\s*{len(pages)}\s*$", p) for n, p in enumerate(pages, start=1)), pages
    # Nothing of the screen's furniture is printed: no navigation, no change history.
    assert ("打印职工档案" if zh else "Print worker file") not in text
    assert ("变更记录" if zh else "Change history") not in text


def every_admin_page(username: str) -> list[str]:
    """Every admin changelist the user may view, and the change form of its first row when it has one."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from django.urls import reverse

    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(username=username)
    paths = []
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        if not model_admin.has_view_permission(request):
            continue
        opts = model._meta
        paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return paths


@pytest.mark.parametrize("role", ["hr", "officer", "assessor"])
def test_every_admin_screen_a_role_may_open_fits_a_clerks_screen_and_a_phone_in_both_languages(
    mine, live_server, browser, role
):
    paths = every_admin_page(role)
    assert len(paths) > (30 if role == "hr" else 3)
    problems = survey(browser, live_server, role, paths)
    assert problems == [], "\n".join(problems)
