"""
The assessor's tablet (issue 17), in a real Chromium at 1024 px: the page and its data are loaded once, the
network goes away, two candidates are scored (one fails on a critical item), the network comes back and the
sheets are sent twice; exactly two results exist, the failed one says why on the worker page, and a sheet
changed on the server meanwhile is shown to the assessor as a conflict, not overwritten.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from certifications.models import AssessmentResult, ScoringSheet
from certifications.practical.services import sheet_input_parse, sheet_sync
from tests import factories as f
from tests.browser.conftest import shot
from tests.practical_setup import practical_build, sheet_payload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Login name").fill(username)
    page.get_by_label("Password").fill("kuangjiang")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def score(page, worker, *, mistakes=0, critical=None):
    page.select_option("#pick-candidate", worker.employee_no)
    page.click("#pick-start")
    first = page.locator("#items li").first
    for _ in range(mistakes):
        first.get_by_role("button", name="Mistake").click()
    if critical:
        page.get_by_label(critical).check()
    page.fill("#candidate-name", worker.name)
    page.click("#sheet-save")
    page.locator(f'#sheet-list [data-worker="{worker.employee_no}"]').wait_for()


def test_an_assessor_scores_offline_and_syncs_twice_without_duplicates_and_sees_a_conflict(
    browser, live_server, transactional_db
):
    p = practical_build()
    passing, failing = p.workers
    hr = f.UserFactory(username="hr-browser", role="training_department")
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    login(page, live_server, p.assessor.username)
    page.goto(f"{live_server.url}/practical/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the service worker, which keeps the page for offline use
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("() => document.querySelectorAll('#pick-candidate option').length === 3")

    context.set_offline(True)
    page.reload()  # the app shell from the service worker's cache, the roster from IndexedDB
    page.wait_for_function("() => document.querySelectorAll('#pick-candidate option').length === 3")
    assert "Offline" in page.locator("#net-state").inner_text()
    score(page, passing, mistakes=2)
    page.wait_for_function("() => document.getElementById('verdict') !== null")
    score(page, failing, critical="未验电")
    assert page.locator("#sync-state").get_attribute("data-waiting") == "2"
    shot(page, "scoring-offline-1024")
    assert not AssessmentResult.objects.exists()

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.getElementById('sync-state').dataset.waiting === '0'")
    page.click("#sync-now")  # the second sync: nothing new
    page.wait_for_function("() => document.querySelectorAll('.sheet-row--synced').length === 2")
    assert AssessmentResult.objects.count() == 2 and ScoringSheet.objects.count() == 2
    assert AssessmentResult.objects.get(worker=passing).score == 90
    failed = AssessmentResult.objects.get(worker=failing)
    assert failed.passed is False and "未验电" in failed.remarks

    hr_client = Client()
    hr_client.force_login(hr)
    worker_page = hr_client.get(failing.get_absolute_url()).content.decode()
    assert "Failed on a critical item (否决项): 未验电" in worker_page

    # Meanwhile the sheet of the passing candidate is changed on the server (the assessor's other tablet).
    sheet = ScoringSheet.objects.get(worker=passing)
    server_edit = sheet_payload(p, passing, marks=[(p.items[0], 3, 0)], sheet_id=sheet.uuid, base_version=sheet.version)
    sheet_sync(data=sheet_input_parse(server_edit, user=p.assessor), user=p.assessor)
    assert AssessmentResult.objects.get(worker=passing).score == 85

    # This tablet edits its older copy and sends it: a conflict, shown with both copies; nothing overwritten.
    page.locator(f'#sheet-list [data-worker="{passing.employee_no}"]').get_by_role("button", name="Edit").click()
    page.locator("#items li").first.get_by_role("button", name="Undo").click()
    page.click("#sheet-save")
    conflict = page.locator(f'#sheet-list [data-worker="{passing.employee_no}"] .conflict')
    conflict.wait_for()
    assert "Changed on the server meanwhile" in conflict.inner_text()
    assert "Total 85 of 100" in conflict.locator('[data-copy="server"]').inner_text()
    assert "Total 95 of 100" in conflict.locator('[data-copy="tablet"]').inner_text()
    assert AssessmentResult.objects.get(worker=passing).score == 85
    assert AssessmentResult.objects.count() == 2
    shot(page, "scoring-conflict-1024")

    # The assessor keeps the server's copy: the tablet takes it, nothing is sent.
    conflict.get_by_role("button", name="Keep the server's copy").click()
    page.wait_for_function("() => document.querySelectorAll('.sheet-row--synced').length === 2")
    assert AssessmentResult.objects.get(worker=passing).score == 85
    assert refused == [], refused
    context.close()


def test_the_tablet_fits_a_phone_in_chinese(browser, live_server, transactional_db):
    p = practical_build()
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(p.assessor.username)
    page.get_by_label("密码").fill("kuangjiang")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/practical/?worker={p.workers[0].employee_no}")
    page.locator("#sheet:not([hidden])").wait_for()
    shot(page, "scoring-390-zh")
    # What overflows, if anything: named in the failure.
    wide = page.evaluate(
        "() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    # The words come from the catalogue in the page's language (the script itself has none).
    with translation.override("zh-hans"):
        words = [
            gettext("Mistake"),
            gettext("Critical items (否决项): a violation fails the candidate whatever the total"),
        ]
    text = page.locator("#sheet").inner_text()
    assert all(word in text for word in words), words
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    context.close()
