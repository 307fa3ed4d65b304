"""
The online theory exam on a phone (issue 16), in a real Chromium at 390 × 844: a trainee logs in, reads the
rules, starts, answers one question per screen, loses the network for a few answers (kept on the phone and shown
as not sent), gets it back (sent by themselves), flags one, submits; the score is on their worker page and in
the roll-up's explanation, and HR's pending awards show the 中级工 the online exam completed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from certifications.models import AssessmentResult, Attempt, AttemptEvent, RankRecord
from tests import factories as f
from tests.browser.conftest import shot
from tests.exam_builders import exam_setup
from training import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def log_in(page, url, username):
    page.goto(f"{url}/login/")
    page.get_by_label("Login name").fill(username)
    page.get_by_label("Password").fill("kuangjiang")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda u: "/login/" not in u)


def answer_b(page, expect):
    """Choose the option whose text is 选项B (the bank's key B, wherever the shuffle put it)."""
    option = page.locator("#exam-question label.exam-option", has_text="选项B")
    option.click()
    expect(option.locator("input")).to_be_checked()


def test_a_trainee_takes_the_exam_on_a_phone_through_a_network_cut(browser, live_server):
    from playwright.sync_api import expect

    exam = exam_setup(questions=12, count=10)
    f.UserFactory(username="hr", role=roles.HR)
    url = live_server.url
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(url) else None)
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, url, exam.user.username)
    page.goto(f"{url}{reverse('certifications:me')}")
    page.get_by_role("link", name="My exams").first.click()
    page.get_by_role("link", name="Read the rules and start").click()
    expect(page.get_by_text("30 minutes")).to_be_visible()
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_url(lambda u: "/exams/a/" in u)
    expect(page.locator("#exam-question .exam-stem")).to_be_visible()
    expect(page.locator("#exam-navigator .nav-item")).to_have_count(10)
    # No horizontal scrolling on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "online-exam-phone-question")

    for _ in range(3):
        answer_b(page, expect)
        page.get_by_role("button", name="Next").click()
    expect(page.locator("#exam-navigator .nav-item.is-answered")).to_have_count(3)
    expect(page.locator("#exam-navigator .nav-item.is-unsent")).to_have_count(0)

    # The network drops: three answers are kept on the phone and shown as not sent.
    context.set_offline(True)
    for _ in range(3):
        answer_b(page, expect)
        page.get_by_role("button", name="Next").click()
    expect(page.locator("#exam-navigator .nav-item.is-unsent")).to_have_count(3)
    expect(page.locator("#exam-net")).to_contain_text("No connection")
    shot(page, "online-exam-phone-offline")
    # A reload while offline is not possible; the answers wait in localStorage.
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kj-exam-')).length")
    assert kept == 1
    context.set_offline(False)
    expect(page.locator("#exam-navigator .nav-item.is-unsent")).to_have_count(0, timeout=20_000)

    # Flag one and finish; reload on the way: the countdown and the answers survive it.
    page.get_by_role("button", name="Flag for review").click()
    expect(page.locator("#exam-navigator .nav-item.is-flagged")).to_have_count(1)
    page.reload()
    expect(page.locator("#exam-navigator .nav-item.is-answered")).to_have_count(6)
    remaining = page.locator("#exam-remaining").inner_text()
    assert remaining.startswith(("29:", "30:")), remaining
    for n in range(7, 11):
        page.get_by_role("button", name=f"Question {n} of 10").click()
        answer_b(page, expect)
    expect(page.locator("#exam-navigator .nav-item.is-unsent")).to_have_count(0)
    page.get_by_role("button", name="Submit the paper").click()
    page.wait_for_url(lambda u: u.rstrip("/").endswith(str(Attempt.objects.get().public_id)))
    expect(page.locator("#exam-score")).to_have_text("100 / 100")
    shot(page, "online-exam-phone-result")

    attempt = Attempt.objects.get()
    assert attempt.score == Decimal("100") and attempt.ended == Attempt.Ended.SUBMITTED
    assert attempt.events.filter(kind=AttemptEvent.Kind.SAVE).count() >= 10
    result = AssessmentResult.objects.get(worker=exam.worker, assessment=exam.setup.theory)
    assert result.score == Decimal("100")

    # The worker page: the score and the roll-up's explanation.
    page.goto(f"{url}{reverse('certifications:me')}")
    expect(page.locator("body")).to_contain_text("Theory exam 100 ≥ 60 ✓")
    assert refused == [] and external == [], (refused, external)
    context.close()

    # HR: the pending award the online exam completed.
    assert RankRecord.objects.filter(worker=exam.worker, rank=exam.setup.ranks[1], status="pending").exists()
    hr = browser.new_context(locale="en-US")
    hr_page = hr.new_page()
    log_in(hr_page, url, "hr")
    hr_page.goto(f"{url}{reverse('certifications:award-approvals')}")
    expect(hr_page.locator("body")).to_contain_text(exam.worker.name)
    expect(hr_page.locator("body")).to_contain_text("Theory exam 100 ≥ 60 ✓")

    # The printable paper for an offline sitting of the same session: one paper and answer sheet per candidate.
    hr_page.goto(f"{url}{reverse('certifications:exam-print', args=[exam.session.pk])}")
    hr_page.emulate_media(media="print")
    expect(hr_page.locator("article.exam-paper")).to_have_count(1)
    expect(hr_page.locator(".exam-sheet")).to_contain_text(exam.worker.employee_no)
    expect(hr_page.locator(".site-header")).to_be_hidden()
    expect(hr_page.locator(".exam-paper__questions > li")).to_have_count(10)
    shot(hr_page, "online-exam-printable-paper")
    hr.close()
