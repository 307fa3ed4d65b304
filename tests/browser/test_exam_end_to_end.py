"""
Issue 16 end to end, in a real Chromium: HR imports the mine's messy 60-question bank sheet (a merged title row,
full-width letters, answers written A、C) through the preview and the confirm, and checks a paper template drawn
from it (单选, 多选 and 判断 sections) against the bank; a trainee on a 390-px phone takes the exam drawn from the
imported questions, loses the network for a few answers, gets it back and submits; the score is on their worker
page and in the roll-up's explanation, and the pending award the online exam completed is on HR's page.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from certifications.exams.bank import normalise_stem
from certifications.models import AssessmentResult, Attempt, Question, RankRecord
from tests import factories as f
from tests.browser.conftest import shot
from tests.browser.test_online_exam import PHONE, log_in
from tests.exam_builders import exam_setup, messy_bank_sheet
from training import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 单选 10 × 4, 多选 5 × 6, 判断 10 × 3: 100 marks, drawn from the 60 imported questions (20 of each type).
SECTIONS = [(Question.Kind.SINGLE, 10, "4"), (Question.Kind.MULTIPLE, 5, "6"), (Question.Kind.TRUE_FALSE, 10, "3")]


def answer_correctly(page, expect):
    """Answer the question on screen with the bank's answer of the question its stem belongs to."""
    stem = page.locator("#exam-question .exam-stem").inner_text()
    question = Question.objects.prefetch_related("versions").get(stem_key=normalise_stem(stem))
    for key in question.current.answer:
        box = page.locator(f'#exam-question input[value="{key}"]')
        box.check()
        expect(box).to_be_checked()


def test_hr_imports_a_messy_bank_and_a_trainee_passes_the_exam_drawn_from_it_on_a_phone(browser, live_server, tmp_path):
    from playwright.sync_api import expect

    exam = exam_setup(questions=0, count=1)
    template = exam.template
    template.sections.all().delete()
    for order, (kind, count, marks) in enumerate(SECTIONS, start=1):
        f.PaperSectionFactory(template=template, order=order, kind=kind, count=count, marks_each=Decimal(marks))
    f.UserFactory(username="hr", role=roles.HR)
    url = live_server.url

    # HR: the bank from the mine's sheet, through the preview and the confirm.
    hr = browser.new_context(locale="en-US")
    hr_page = hr.new_page()
    hr_page.set_default_timeout(15_000)
    log_in(hr_page, url, "hr")
    sheet = tmp_path / "题库.xlsx"
    sheet.write_bytes(messy_bank_sheet(60, trade=exam.setup.trade.name, rank=exam.setup.ranks[1].name))
    hr_page.goto(f"{url}{reverse('admin:certifications_question_changelist')}")
    hr_page.locator(".object-tools").get_by_role("link", name="Import questions").click()
    hr_page.get_by_label("Question bank sheet").set_input_files(str(sheet))
    hr_page.get_by_role("button", name="Check the file").click()
    expect(hr_page.locator(".import-counts")).to_contain_text("60 new")
    hr_page.get_by_role("button", name="Confirm import").click()
    expect(hr_page.locator(".messagelist")).to_contain_text("Imported 60 question(s)")
    assert Question.objects.filter(trades=exam.setup.trade, ranks=exam.setup.ranks[1], active=True).count() == 60

    # The paper template, checked against the bank it now has: nothing missing.
    hr_page.goto(f"{url}{reverse('admin:certifications_papertemplate_change', args=[template.pk])}")
    check = hr_page.locator(".field-bank_check")
    expect(check.first).to_be_visible()
    assert "missing" not in check.first.inner_text().lower()
    shot(hr_page, "exam-end-to-end-template")

    # The trainee, on a phone.
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(url) else None)
    log_in(page, url, exam.user.username)
    page.goto(f"{url}{reverse('certifications:exam-list')}")
    page.get_by_role("link", name="Read the rules and start").click()
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_url(lambda u: "/exams/a/" in u)
    expect(page.locator("#exam-navigator .nav-item")).to_have_count(25)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for n in range(1, 26):
        if n == 6:
            context.set_offline(True)  # three answers while the network is down: kept on the phone
        if n == 9:
            expect(page.locator("#exam-navigator .nav-item.is-unsent")).to_have_count(3)
            context.set_offline(False)
        answer_correctly(page, expect)
        if n < 25:
            page.get_by_role("button", name="Next").click()
    expect(page.locator("#exam-navigator .nav-item.is-unsent")).to_have_count(0, timeout=20_000)
    page.get_by_role("button", name="Submit the paper").click()
    expect(page.locator("#exam-score")).to_have_text("100 / 100")
    shot(page, "exam-end-to-end-phone-result")

    attempt = Attempt.objects.get()
    assert {
        q.question_version.question.kind for q in attempt.questions.select_related("question_version__question")
    } == {
        "single",
        "multiple",
        "true_false",
    }
    assert AssessmentResult.objects.get(worker=exam.worker, assessment=exam.setup.theory).score == Decimal("100")
    page.goto(f"{url}{reverse('certifications:me')}")
    expect(page.locator("body")).to_contain_text("Theory exam 100 ≥ 60 ✓")
    assert external == []
    context.close()

    # HR: the award the online exam completed, waiting for approval.
    assert RankRecord.objects.filter(worker=exam.worker, rank=exam.setup.ranks[1], status="pending").exists()
    hr_page.goto(f"{url}{reverse('certifications:award-approvals')}")
    expect(hr_page.locator("body")).to_contain_text(exam.worker.name)
    hr.close()
