"""
The exam flow's admin (issue 16): a paper template's sections and mixes checked against the bank before they are
saved, its "check against the bank" field, and a session's roster, theory assessment, pass mark and re-sits.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from certifications.exams import services
from certifications.exams.admin_flow import mix_format, mix_parse
from certifications.exams.papers import QuotaSpec
from certifications.exams.views import analysis_url
from certifications.models import ExamCandidate, ExamSession, PaperSection, PaperTemplate, Sitting
from certifications.sittings.services import candidates_add, sitting_save
from tests import factories as f
from tests.exam_builders import bank, exam_setup
from tests.rollup_setup import trade_setup
from tests.test_admin_rollup_inlines import change_form_data

pytestmark = pytest.mark.django_db


def test_a_mix_reads_difficulty_knowledge_point_or_both():
    assert mix_parse("难度3 × 2; 通风 x 3\n难度4 瓦斯检查 ×1") == [
        QuotaSpec(3, "", 2),
        QuotaSpec(None, "通风", 3),
        QuotaSpec(4, "瓦斯检查", 1),
    ]
    assert mix_format(mix_parse("d5 × 2; 通风 × 1")) == "难度5 × 2; 通风 × 1"


@pytest.mark.parametrize("bad", ["难度3", "× 2", "通风 × 0"])
def test_a_mix_that_cannot_be_read_names_the_item(bad):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="“"):
        mix_parse(bad)


def template_post(setup, *, count, mix=""):
    return {
        "name": "电工中级理论",
        "duration_minutes": "60",
        "trade": str(setup.trade.pk),
        "rank": str(setup.ranks[1].pk),
        "shuffle_options": "on",
        "review_after_close": "on",
        "sections-TOTAL_FORMS": "1",
        "sections-INITIAL_FORMS": "0",
        "sections-0-order": "1",
        "sections-0-kind": "single",
        "sections-0-count": str(count),
        "sections-0-marks_each": "2",
        "sections-0-mix": mix,
        "fixed_questions-TOTAL_FORMS": "0",
        "fixed_questions-INITIAL_FORMS": "0",
    }


def test_an_unsatisfiable_template_is_not_saved_and_says_what_is_missing(hr_client):
    setup = trade_setup()
    bank(setup, 4)
    response = hr_client.post(reverse("admin:certifications_papertemplate_add"), template_post(setup, count=6))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The bank cannot satisfy these rules" in page and "2 missing" in page
    assert not PaperTemplate.objects.exists()


def test_a_satisfiable_template_is_saved_with_its_mix_and_checked_against_the_bank(hr_client):
    setup = trade_setup()
    bank(setup, 4, difficulty=2)
    bank(setup, 4, knowledge_point="通风")
    response = hr_client.post(
        reverse("admin:certifications_papertemplate_add"), template_post(setup, count=6, mix="难度2 × 2; 通风 × 3")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    section = PaperSection.objects.get()
    assert {(q.difficulty, q.knowledge_point, q.count) for q in section.quotas.all()} == {(2, "", 2), (None, "通风", 3)}
    page = hr_client.get(reverse("admin:certifications_papertemplate_change", args=[section.template_id]))
    assert "The bank can satisfy this template" in page.content.decode()
    assert "难度2 × 2; 通风 × 3" in page.content.decode()


def test_the_check_field_shows_shortfalls_of_a_saved_template(hr_client):
    setup = trade_setup()
    template = f.PaperTemplateFactory(trade=setup.trade, rank=setup.ranks[1])
    f.PaperSectionFactory(template=template, count=3)
    page = hr_client.get(reverse("admin:certifications_papertemplate_change", args=[template.pk])).content.decode()
    assert "3 missing" in page


def test_a_fixed_paper_with_a_retired_question_is_not_saved(hr_client):
    setup = trade_setup()
    [question] = bank(setup, 1, active=False)
    data = template_post(setup, count=1)
    data.update(
        {
            "fixed": "on",
            "sections-TOTAL_FORMS": "0",
            "fixed_questions-TOTAL_FORMS": "1",
            "fixed_questions-0-order": "1",
            "fixed_questions-0-question": str(question.pk),
            "fixed_questions-0-marks": "5",
        }
    )
    response = hr_client.post(reverse("admin:certifications_papertemplate_add"), data)
    assert response.status_code == 200 and "retired" in response.content.decode()


def session_post(template, **extra):
    now = timezone.localtime()
    return {
        "name": "电工中级机考",
        "template": str(template.pk),
        "opens_at_0": now.strftime("%Y-%m-%d"),
        "opens_at_1": "08:00:00",
        "closes_at_0": (now + dt.timedelta(days=1)).strftime("%Y-%m-%d"),
        "closes_at_1": "18:00:00",
        "candidates-TOTAL_FORMS": "0",
        "candidates-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_session_on_a_sitting_takes_its_theory_assessment_and_roster(hr_client):
    exam = exam_setup()
    sitting = sitting_save(
        Sitting(name="中级工鉴定", trade=exam.setup.trade, rank=exam.setup.ranks[1], theory_on=dt.date(2026, 9, 5))
    )
    candidates_add(sitting=sitting, worker_ids=[exam.worker.pk, f.WorkerFactory().pk])
    data = session_post(exam.template, sitting=str(sitting.pk), add_sitting_roster="on")
    response = hr_client.post(reverse("admin:certifications_examsession_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    session = ExamSession.objects.get(name="电工中级机考")
    assert session.assessment == sitting.theory
    assert session.candidates.count() == 2
    page = hr_client.get(reverse("admin:certifications_examsession_change", args=[session.pk])).content.decode()
    assert reverse("certifications:exam-print", args=[session.pk]) in page
    analysis = analysis_url(session)
    assert analysis is None or analysis.replace("&", "&amp;") in page  # the item analysis, once exams-bank's page is in
    assert f"{sitting.theory.pass_mark} of {sitting.theory.full_marks}" in page


def test_a_session_needs_an_assessment_or_a_sitting(hr_client):
    exam = exam_setup()
    response = hr_client.post(reverse("admin:certifications_examsession_add"), session_post(exam.template))
    assert response.status_code == 200 and "Choose the theory assessment, or a sitting." in response.content.decode()


def resit_data(page, session, candidate) -> dict:
    """The change page posted back as it is, with the re-sit button of one candidate pressed."""
    data = change_form_data(page) | {"_resit": str(candidate.pk)}
    for name in ("opens_at", "closes_at"):
        at = timezone.localtime(getattr(session, name))
        data.pop(name, None)
        data |= {f"{name}_0": at.strftime("%Y-%m-%d"), f"{name}_1": at.strftime("%H:%M:%S")}
    return data


def test_hr_grants_a_resit_from_the_roster_and_is_refused_past_the_limit(hr_client):
    exam = exam_setup()
    services.attempt_submit(services.attempt_start(exam.candidate, ip=None, user_agent=""))
    url = reverse("admin:certifications_examsession_change", args=[exam.session.pk])
    page = hr_client.get(url)
    assert "Grant a re-sit" in page.content.decode()
    response = hr_client.post(url, resit_data(page, exam.session, exam.candidate), follow=True)
    assert "Re-sit granted" in response.content.decode()
    assert ExamCandidate.objects.get(pk=exam.candidate.pk).attempts_allowed == 2
    services.attempt_submit(services.attempt_start(exam.candidate, ip=None, user_agent=""))
    page = hr_client.get(url)
    response = hr_client.post(url, resit_data(page, exam.session, exam.candidate), follow=True)
    assert "retrain" in response.content.decode()
    assert ExamCandidate.objects.get(pk=exam.candidate.pk).attempts_allowed == 2


def test_the_printable_paper_has_a_paper_and_answer_sheet_per_candidate(hr_client):
    exam = exam_setup()
    page = hr_client.get(reverse("certifications:exam-print", args=[exam.session.pk])).content.decode()
    assert exam.worker.name in page and exam.worker.employee_no in page
    assert page.count('<article class="exam-paper') == 1 and "Answer sheet" in page
    assert reverse("certifications:results-import") in page
    page = hr_client.get(reverse("certifications:exam-print", args=[exam.session.pk]) + "?copies=3").content.decode()
    assert page.count('<article class="exam-paper') == 3
    assert "10 marks" in page


def test_a_trainee_cannot_print_a_paper(client):
    exam = exam_setup()
    client.force_login(exam.user)
    assert client.get(reverse("certifications:exam-print", args=[exam.session.pk])).status_code == 403


def test_hr_adds_a_candidate_by_hand_on_the_roster(hr_client):
    exam = exam_setup()
    other = f.WorkerFactory()
    url = reverse("admin:certifications_examsession_change", args=[exam.session.pk])
    data = resit_data(hr_client.get(url), exam.session, exam.candidate)
    data.pop("_resit")
    data |= {"candidates-TOTAL_FORMS": "2", "candidates-1-worker": str(other.pk)}
    response = hr_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    added = ExamCandidate.objects.get(session=exam.session, worker=other)
    assert added.attempts_allowed == 1 and added.history.latest().history_change_reason == "Added by hand"


def test_the_answer_keys_match_the_papers_drawn_with_the_same_number(hr_client):
    exam = exam_setup()
    url = reverse("certifications:exam-print", args=[exam.session.pk])
    papers = hr_client.get(url + "?seed=7").content.decode()
    assert "Answer key" not in papers
    keys = hr_client.get(url + "?seed=7&key=1").content.decode()
    assert "Answer key (for the marker)" in keys
    # The same draw: the questions in the same order.
    stems = re.findall(r'<p class="exam-stem">(第\d+题)', papers)
    assert stems and stems == re.findall(r'<p class="exam-stem">(第\d+题)', keys)
    # Every question's key is the label option B (the bank's answer) was printed under.
    key_page_labels = re.findall(r'<ol class="exam-key__list">(.*?)</ol>', keys, re.S)[0]
    printed = re.findall(r"<li>([A-F]) <span", key_page_labels)
    shown = re.findall(r"<li>([A-F])\. 选项B</li>", keys)
    assert printed == shown and len(printed) == 10
