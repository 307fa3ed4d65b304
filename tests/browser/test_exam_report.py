"""
HR's exam report and an attempt's audit page on a 390-px phone and a desktop (no sideways overflow outside
the marked scrollers, no cell too narrow to read), and the report printed: no navigation, every section there.
"""

import pytest

from certifications.models import Attempt, AttemptEvent
from tests import factories as f
from tests.browser.test_layout import MEASURE, VIEWPORTS, log_in
from tests.test_exam_audit import attempt_of
from training import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session():
    f.UserFactory(username="hr", role=roles.HR)
    session = f.ExamSessionFactory(name="2026年9月综采维修电工中级工理论机考")
    for i in range(6):
        worker = f.WorkerFactory(name=f"考生{i}号", unit=f.UnitFactory(name="综采一队检修班"))
        candidate = f.ExamCandidateFactory(session=session, worker=worker)
        if i < 4:
            attempt_of(candidate, score=str(35 + 15 * i), ended=Attempt.Ended.SUBMITTED)
        elif i == 4:
            attempt_of(candidate)
    attempt = Attempt.objects.filter(candidate__session=session).first()
    AttemptEvent.objects.create(
        attempt=attempt,
        kind="save",
        order=1,
        detail="seq 1: B",
        ip="10.8.0.23",
        user_agent="Mozilla/5.0 (Linux; Android 14; HUAWEI Mate 60 Pro) AppleWebKit/537.36 Mobile Safari/537.36",
    )
    return session, attempt


def test_the_report_and_the_audit_fit_a_phone_and_print_without_navigation(session, live_server, browser):
    exam, attempt = session
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server, "hr")
        paths = [f"/exams/sessions/{exam.pk}/report/", f"/admin/certifications/attempt/{attempt.pk}/change/"]
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            for path in paths:
                assert page.goto(f"{live_server.url}{path}").status == 200
                found = page.evaluate(MEASURE)
                assert (found["overflow"], found["narrow"]) == ([], []), f"{size} {path}"
        page.set_viewport_size(VIEWPORTS["phone"])
        page.goto(f"{live_server.url}{paths[0]}")
        page.emulate_media(media="print")
        assert not page.locator(".site-nav").is_visible()
        assert page.locator(".print-only").first.is_visible()
        for heading in ("Figures", "Score distribution", "Still in progress", "Did not start", "Ended"):
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        assert page.get_by_text("考生5号").is_visible()
    finally:
        context.close()
