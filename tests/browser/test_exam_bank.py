"""
The question bank as HR builds it (issue 16), in a real Chromium: from the question bank's list, download
the template, import the mine's messy 60-question sheet (a merged title row, full-width letters, answers
written A、C and ａｃｄ, 单选/多选/判断 mixed) through the preview and the confirm, see the questions listed,
then export the bank as filtered and find it is the same layout with the same questions.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from certifications.models import Question
from tests.browser.conftest import shot
from tests.exam_builders import messy_bank_sheet
from tests.factories import RankFactory, TradeFactory, UserFactory
from training import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hr_imports_the_messy_bank_sheet_sees_the_questions_and_downloads_the_template_and_export(
    live_server, page, tmp_path
):
    from playwright.sync_api import expect  # here: without Playwright, the browser fixture skips (or fails under CI)

    UserFactory(username="hr", role=roles.HR)
    TradeFactory(code="ZCWXDG", name="综采维修电工")
    RankFactory(code="L4", name="中级工")
    url = live_server.url
    page.goto(f"{url}/login/")
    page.get_by_label("Login name").fill("hr")
    page.get_by_label("Password").fill("kuangjiang")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda u: "/login/" not in u)

    page.goto(f"{url}{reverse('admin:certifications_question_changelist')}")
    expect(page.locator("#changelist")).to_be_visible()

    # The template, from the list's buttons.
    with page.expect_download() as download_info:
        page.locator(".object-tools").get_by_role("link", name="Download the template").click()
    template = Path(download_info.value.path()).read_bytes()
    header = next(openpyxl.load_workbook(io.BytesIO(template)).active.iter_rows(values_only=True))
    assert list(header)[:3] == ["题型", "题干", "选项A"]

    # The import: upload, preview every row, confirm.
    sheet = tmp_path / "综采维修电工题库.xlsx"
    sheet.write_bytes(messy_bank_sheet(60, trade="综采维修电工", rank="中级工"))
    page.locator(".object-tools").get_by_role("link", name="Import questions").click()
    page.get_by_role("heading", name="Import questions").wait_for()
    page.get_by_label("Question bank sheet").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator(".import-counts")).to_contain_text("60 new")
    rows = page.locator("table.import-preview tbody tr")
    assert rows.count() == 60
    assert rows.first.locator("td").first.inner_text() == "3"  # the sheet's own row number, under the title row
    shot(page, "exam-bank-preview")
    assert not Question.objects.exists()
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_contain_text("Imported 60 question(s)")
    assert Question.objects.count() == 60

    # Listed, and filtered by knowledge point.
    expect(page.locator("#result_list tbody tr")).to_have_count(50)  # the first page of 60
    assert page.get_by_text("多选第1题：下列关于矿井通风的说法").count() == 1
    page.goto(f"{url}{reverse('admin:certifications_question_changelist')}?knowledge_point=供电安全")
    filtered = page.locator("#result_list tbody tr").count()
    assert filtered == Question.objects.filter(knowledge_point="供电安全").count() > 0
    shot(page, "exam-bank-list")

    # The export as filtered: the same layout, the same questions.
    with page.expect_download() as download_info:
        page.locator(".object-tools").get_by_role("link", name="Export (as filtered)").click()
    exported = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).active
    rows = list(exported.iter_rows(values_only=True))
    assert list(rows[0]) == list(header)
    assert len(rows) - 1 == filtered
    trades, ranks = header.index("适用工种"), header.index("适用等级")
    assert {r[trades] for r in rows[1:]} == {"综采维修电工"} and {r[ranks] for r in rows[1:]} == {"中级工"}
