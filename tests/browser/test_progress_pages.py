"""A trainee, a leader and a Chinese reader use the progress pages in a real Chromium."""

import datetime as dt

import pytest

from certifications.progress import worker as progress
from tests.browser.conftest import shot
from tests.factories import RankRecordFactory, TradeFactory, WorkerTradeFactory, make_ladder
from tests.site_fixtures import build_mine, explanation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Login name").fill(username)
    page.get_by_label("Password").fill("kuangjiang")
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def mine(monkeypatch):
    mine = build_mine()
    trade = TradeFactory(code="ZCWXDG", name="综采维修电工")
    WorkerTradeFactory(worker=mine.trainee, trade=trade, started_on=dt.date(2016, 3, 1))
    RankRecordFactory(worker=mine.trainee, trade=trade, rank=make_ladder()[1])
    hand_built = explanation(mine.trainee, trade)
    # The roll-up is tested on its own; here the page must show whatever it explains.
    monkeypatch.setattr(
        progress, "worker_explanations", lambda *, worker, on: [hand_built] if worker.pk == mine.trainee.pk else []
    )
    return mine


def test_a_trainee_sees_their_rank_and_progress_and_is_refused_another_workers_page(mine, live_server, page):
    log_in(page, live_server, "trainee")
    page.wait_for_url(f"{live_server.url}/me/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("王强")
    assert page.locator(".rank-held").first.inner_text().startswith("中级工")
    assert page.get_by_role("heading", name="Next rank: 高级工").is_visible()
    assert page.locator("progress[aria-label='Progress to 高级工']").get_attribute("value") == "25"
    assert page.get_by_text("Theory exam 78 ≥ 60 ✓").is_visible()
    shot(page, "trainee-own-page")

    response = page.goto(f"{live_server.url}{mine.classmate.get_absolute_url()}")
    assert response.status == 404
    assert mine.classmate.name not in page.content()


def test_a_leader_opens_the_skills_matrix_on_a_phone(mine, live_server, browser):
    from tests.factories import CourseFactory, PackageCourseFactory, PackageFactory

    pkg = PackageFactory(trade=mine.trainee.worker_trades.get().trade, rank=make_ladder()[2])
    PackageCourseFactory(package=pkg, course=CourseFactory(title="综采设备维护"))
    context = browser.new_context(
        locale="en-US", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        log_in(page, live_server, "leader")
        page.wait_for_url(f"{live_server.url}{mine.dept.get_absolute_url()}")
        matrix = page.get_by_role("table", name="综采维修电工 → 高级工: courses and exams")
        matrix.scroll_into_view_if_needed()
        assert matrix.get_by_role("rowheader", name="王强").is_visible()
        assert matrix.get_by_role("columnheader").nth(1).inner_text().startswith("综采设备维护")
        assert " ".join(matrix.locator("td").first.inner_text().split()) == "○ missing 0/40"
        shot(page, "leader-unit-375px")
        # The page itself never scrolls sideways at 375 px; wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_switching_to_chinese_shows_chinese(mine, live_server, page):
    page.goto(f"{live_server.url}/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    page.get_by_role("button", name="中文").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", level=1).inner_text() == "登录"
    assert page.get_by_role("button", name="中文").get_attribute("aria-pressed") == "true"
    shot(page, "login-zh-hans")


def test_the_print_button_prints_the_worker_file_under_the_content_security_policy(mine, live_server, page):
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")
    log_in(page, live_server, "trainee")
    page.wait_for_url(f"{live_server.url}/me/")
    page.get_by_role("button", name="Print worker file").click()
    assert page.evaluate("window.__printed") == 1


def test_an_inline_script_would_be_refused(mine, live_server, page):
    """The policy is really enforced by the browser: a script injected inline does not run."""
    log_in(page, live_server, "trainee")
    page.wait_for_url(f"{live_server.url}/me/")
    ran = page.evaluate(
        """() => new Promise(resolve => {
            document.addEventListener("securitypolicyviolation", () => resolve("refused"), {once: true});
            const script = document.createElement("script");
            script.textContent = "window.__inline = 1";
            document.body.appendChild(script);
            setTimeout(() => resolve(window.__inline ? "ran" : "refused"), 1000);
        })"""
    )
    assert ran == "refused"
    assert any("script-src" in text for text in page.csp_refused)
    page.csp_refused.clear()  # the one refusal this test caused on purpose
