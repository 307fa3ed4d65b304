"""
Content-Security-Policy (django-csp): every response carries it, scripts only from our own files
(no 'unsafe-inline'), and every page of ours renders with no inline script, no on*= handler and no
style attribute or element, so the policy costs nothing on the site. The admin alone allows inline
styles (Django's change list and the import-export templates write them; core/middleware.py).
"""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import AssessmentFactory, ResultFactory, UserFactory
from tests.site_fixtures import build_mine
from training import roles

pytestmark = pytest.mark.django_db

TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)


def offences(html: str) -> list[str]:
    found = [m.group(0) for m in INLINE_SCRIPT.finditer(html)] + [m.group(0) for m in STYLE_ELEMENT.finditer(html)]
    found += [tag for tag in TAG.findall(html) if HANDLER.search(tag) or STYLE_ATTRIBUTE.search(tag)]
    return found


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_the_offence_finder_finds_what_it_looks_for():
    assert offences('<p>on=1 style= x</p><a href="?on=2">') == []
    assert len(offences('<script>alert(1)</script><button onclick="x()"><span style="color:red"><style>')) == 4
    assert offences('<script src="/static/a.js" defer></script>') == []


@pytest.fixture
def mine():
    mine = build_mine()
    # A score history, so the worker page draws its chart and legend.
    for score in (55, 80):
        ResultFactory(worker=mine.trainee, assessment=AssessmentFactory(), score=score)
    return mine


def site_pages(client, mine) -> dict[str, object]:
    """Every page of ours, fetched as the user who may see it."""
    hr = UserFactory(username="hr-pages", role=roles.HR, is_staff=True)
    responses = {"login": client.get(reverse("login"))}
    # The lockout page, for a name that failed too often.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        lockout = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    responses["lockout"] = lockout
    client.force_login(mine.trainee.user)
    responses["me"] = client.get(reverse("certifications:me"))
    responses.update(exam_pages(client, mine))
    client.force_login(hr)
    for name, url in {
        "mine": mine.mine.get_absolute_url(),
        "department": mine.dept.get_absolute_url(),
        "crew": mine.crew.get_absolute_url(),
        "worker with scores": mine.trainee.get_absolute_url(),
        "worker": mine.classmate.get_absolute_url(),
        "dashboard": reverse("certifications:dashboard"),
        "roster check": reverse("certifications:roster-check"),
        "results import": reverse("certifications:results-import"),
    }.items():
        responses[name] = client.get(url)
    responses["ledger progress"] = client.post(reverse("certifications:ledger-export"), {"unit": "ZC1"}, follow=True)
    responses["exam printable paper"] = client.get(reverse("certifications:exam-print", args=[mine.exam_session.pk]))
    return responses


def exam_pages(client, mine) -> dict:
    """The trainee's online exam pages (issue 16): their sessions, the rules, the exam app, the result."""
    from certifications.exams.services import attempt_start, attempt_submit
    from certifications.models import FixedQuestion
    from tests.factories import ExamCandidateFactory, QuestionFactory

    candidate = ExamCandidateFactory(worker=mine.trainee, session__template__fixed=True)
    FixedQuestion.objects.create(template=candidate.session.template, question=QuestionFactory(), order=1, marks=10)
    mine.exam_session = candidate.session
    attempt = attempt_start(candidate, ip=None, user_agent="")
    pages = {
        "my exams": client.get(reverse("certifications:exam-list")),
        "exam rules": client.get(reverse("certifications:exam-rules", args=[candidate.session_id])),
        "exam": client.get(reverse("certifications:exam-attempt", kwargs={"public_id": attempt.public_id})),
    }
    attempt_submit(attempt)
    pages["exam result"] = client.get(reverse("certifications:exam-attempt", kwargs={"public_id": attempt.public_id}))
    return pages


def test_every_page_of_ours_has_no_inline_script_handler_or_style(client, mine):
    responses = site_pages(client, mine)
    assert responses["lockout"].status_code == 429
    for name, response in responses.items():
        assert response.status_code in (200, 429), (name, response.status_code)
        html = response.content.decode()
        assert offences(html) == [], name
    # The worker page's print button and chart legend really were on the page checked.
    assert "data-print" in responses["worker with scores"].content.decode()
    assert "legend-mark--theory" in responses["worker with scores"].content.decode()
    assert "legend-mark--expiries" in responses["dashboard"].content.decode()
    assert 'id="ledger-export"' in responses["ledger progress"].content.decode()
    assert 'id="exam-app"' in responses["exam"].content.decode()
    assert "exam-score" in responses["exam result"].content.decode()


def test_every_page_carries_the_policy_with_no_unsafe_inline(client, mine):
    for name, response in site_pages(client, mine).items():
        directives = policy(response)
        assert directives["default-src"] == ["'self'"], name
        assert directives["script-src"] == ["'self'"], name
        assert directives["style-src"] == ["'self'"], name
        assert directives["object-src"] == ["'none'"], name
        assert directives["frame-ancestors"] == ["'none'"], name


def test_the_api_and_the_admin_carry_it_too_scripts_strict_styles_relaxed_only_in_the_admin(client, hr_user):
    api = client.get(reverse("certifications:api-clearance"))
    assert policy(api)["script-src"] == ["'self'"]
    client.force_login(hr_user)
    admin = client.get(reverse("admin:training_worker_changelist"))
    assert admin.status_code == 200
    directives = policy(admin)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]


def test_our_admin_templates_have_no_inline_script_or_style(client, hr_user):
    """The ledger button on the worker list and the export page's "Select all" come from static files."""
    client.force_login(hr_user)
    changelist = client.get(reverse("admin:training_worker_changelist")).content.decode()
    start = changelist.index('<ul class="object-tools">')
    tools = changelist[start : changelist.index("</ul>", start)]
    assert "Export the training ledger" in tools
    assert offences(tools) == []
    assert "kuangjiang/admin.css" in changelist
    export = client.get(reverse("admin:training_worker_export")).content.decode()
    assert "kuangjiang/admin_export.js" in export
