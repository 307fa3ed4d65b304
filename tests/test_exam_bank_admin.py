"""The question bank's admin: edits through the door, versions read-only, images, filters, actions, sheets."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certifications.exams.bank import question_create
from certifications.models import Attempt, AttemptQuestion, Question, QuestionImage
from certifications.models.exams import QUESTION_IMAGE_MAX_BYTES
from tests import factories as f
from tests.exam_builders import HEADER, messy_bank_sheet, messy_question_rows
from tests.spreadsheet_builders import xlsx_bytes
from tests.test_exam_bank import PNG
from tests.test_versions import _FormReader, open_form
from training import roles

pytestmark = pytest.mark.django_db
Kind = Question.Kind
CHANGELIST = "admin:certifications_question_changelist"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hr():
    client = Client()
    client.force_login(f.UserFactory(username="hr-bank", role=roles.HR))
    return client


def _question(stem="井下供电应做到哪一项？", **kwargs):
    values = {"kind": Kind.SINGLE, "stem": stem, "options": ["甲", "乙", "丙"], "answer": "B", **kwargs}
    return question_create(**values)


def _show(version, worker=None):
    candidate = f.ExamCandidateFactory(**({"worker": worker} if worker else {}))
    attempt = Attempt.objects.create(
        candidate=candidate, deadline=timezone.now() + dt.timedelta(hours=1), full_marks=Decimal(100)
    )
    return AttemptQuestion.objects.create(attempt=attempt, question_version=version, order=1, marks=Decimal(2))


def _url(question):
    return reverse("admin:certifications_question_change", args=[question.pk])


def test_the_changelist_lists_filters_and_searches_in_chinese_in_a_fixed_number_of_queries(
    hr, django_assert_max_num_queries
):
    trade = f.TradeFactory(name="综采维修电工")
    for n in range(30):
        _question(stem=f"第{n}题：瓦斯检查的周期是多久？", knowledge_point="一通三防", trades=[trade])
    _question(stem="井下照明电压是多少？", knowledge_point="供电安全", kind=Kind.SINGLE)
    with django_assert_max_num_queries(20):
        page = hr.get(reverse(CHANGELIST))
    assert page.status_code == 200 and "瓦斯检查的周期" in page.content.decode()
    found = hr.get(reverse(CHANGELIST), {"q": "照明电压"})
    assert found.context["cl"].result_count == 1
    by_point = hr.get(reverse(CHANGELIST), {"knowledge_point": "一通三防"})
    assert by_point.context["cl"].result_count == 30
    by_trade = hr.get(reverse(CHANGELIST), {"trades__id__exact": trade.pk})
    assert by_trade.context["cl"].result_count == 30
    body = page.content.decode()
    for name in ("import", "template", "export"):
        assert reverse(f"admin:certifications_question_{name}") in body
    assert reverse("certifications:exam-analysis") in body


def test_a_question_added_in_the_admin_goes_through_the_door(hr):
    reader = _FormReader()
    reader.feed(hr.get(reverse("admin:certifications_question_add")).content.decode())
    blank = {k: (v if len(v) != 1 else v[0]) for k, v in reader.data.items()}
    response = hr.post(
        reverse("admin:certifications_question_add"),
        {
            **blank,
            "kind": Kind.MULTIPLE,
            "difficulty": 2,
            "knowledge_point": "一通三防",
            "active": "on",
            "stem": "瓦斯爆炸的条件有哪些？",
            "option_a": "浓度在界限内",
            "option_b": "足够的氧气",
            "option_c": "引火源",
            "answer": "A、B、C",
            "explanation": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    question = Question.objects.get()
    assert question.current.answer == "ABC" and question.stem_key
    assert question.history.latest().history_change_reason == "question bank: added"


def test_editing_a_shown_question_in_the_admin_makes_a_new_version_and_lists_both_read_only(hr):
    question = _question()
    shown = _show(question.current)
    data = open_form(hr, _url(question))
    assert data["stem"].strip() == "井下供电应做到哪一项？" and data["answer"] == "B"
    data.update(answer="C", change_reason="答案有误")
    response = hr.post(_url(question), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert sorted(question.versions.values_list("number", "answer")) == [(1, "B"), (2, "C")]
    shown.refresh_from_db()
    assert shown.question_version.answer == "B"
    assert "答案有误" in question.history.latest().history_change_reason
    page = hr.get(_url(question)).content.decode()
    assert "Versions (read-only" in page and page.count('class="field-number"') == 2


def test_a_wrong_answer_is_shown_on_its_field_and_nothing_is_saved(hr):
    question = _question()
    data = open_form(hr, _url(question))
    data["answer"] = "F"
    response = hr.post(_url(question), data)
    assert response.status_code == 200
    assert "does not have" in " ".join(response.context["adminform"].form.errors["answer"])
    assert question.versions.get().answer == "B"


def test_an_image_over_the_limit_is_refused_with_a_clear_message(hr):
    question = _question()
    data = open_form(hr, _url(question))
    data["image"] = SimpleUploadedFile("big.png", PNG + b"\0" * QUESTION_IMAGE_MAX_BYTES, content_type="image/png")
    response = hr.post(_url(question), data)
    assert response.status_code == 200
    assert "the limit is 512 KB" in " ".join(response.context["adminform"].form.errors["image"])
    assert not QuestionImage.objects.exists()


def test_an_image_is_added_shown_inline_and_served_only_to_those_who_may_see_it(hr, client):
    question = _question()
    data = open_form(hr, _url(question))
    data.update(image=SimpleUploadedFile("stem.png", PNG, content_type="image/png"), image_slot="")
    assert hr.post(_url(question), data).status_code == 302
    image = QuestionImage.objects.get()
    url = reverse("certifications:question-image", args=[image.pk])
    assert url in hr.get(_url(question)).content.decode()
    assert hr.get(url).status_code == 200
    assert not image.image.url.startswith(url)
    candidate = f.WorkerFactory(user=f.UserFactory(username="cand", role=roles.TRAINEE))
    other = f.WorkerFactory(user=f.UserFactory(username="other", role=roles.TRAINEE))
    _show(image.version, worker=candidate)
    client.force_login(candidate.user)
    assert client.get(url).status_code == 200
    client.force_login(other.user)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_retiring_asks_first_then_retires_through_the_door(hr):
    questions = [_question(stem=f"第{n}题？") for n in range(3)]
    picked = {"action": "retire_questions", "_selected_action": [q.pk for q in questions[:2]]}
    asked = hr.post(reverse(CHANGELIST), picked)
    assert asked.status_code == 200 and "Retire these questions?" in asked.content.decode()
    assert Question.objects.filter(active=True).count() == 3
    done = hr.post(reverse(CHANGELIST), {**picked, "confirmed": "yes"})
    assert done.status_code == 302
    assert Question.objects.filter(active=False).count() == 2
    assert Question.history.filter(history_change_reason="question bank: retired").count() == 2
    hr.post(reverse(CHANGELIST), {**picked, "action": "reactivate_questions", "confirmed": "yes"})
    assert Question.objects.filter(active=True).count() == 3


def test_the_import_previews_then_confirms_all_or_nothing(hr):
    url = reverse("admin:certifications_question_import")
    assert hr.get(url).status_code == 200
    upload = SimpleUploadedFile("题库.xlsx", messy_bank_sheet(60))
    preview = hr.post(url, {"file": upload})
    assert preview.status_code == 200
    assert preview.context["outcome"].counts["new"] == 60 and not Question.objects.exists()
    token = preview.context["token"]
    done = hr.post(url, {"token": token})
    assert done.status_code == 302 and Question.objects.count() == 60
    again = hr.post(url, {"file": SimpleUploadedFile("题库.xlsx", messy_bank_sheet(60))})
    assert again.context["outcome"].counts["duplicate"] == 60 and "token" not in again.context


def test_an_import_with_a_bad_row_offers_no_confirm(hr):
    rows = messy_question_rows(3)
    rows[1][1] = ""
    rows[1][6] = "B"
    upload = SimpleUploadedFile("x.xlsx", xlsx_bytes([HEADER, *rows]))
    preview = hr.post(reverse("admin:certifications_question_import"), {"file": upload})
    assert preview.context["has_errors"] and "token" not in preview.context
    assert "Row 3: 题干: The stem is missing." in preview.content.decode()


def test_the_export_follows_the_changelist_filters(hr):
    _question(stem="供电题？", knowledge_point="供电安全")
    _question(stem="通风题？", knowledge_point="一通三防")
    response = hr.get(reverse("admin:certifications_question_export"), {"knowledge_point": "一通三防"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["通风题？"]


def test_the_template_downloads(hr):
    response = hr.get(reverse("admin:certifications_question_template"))
    assert response.status_code == 200
    header = next(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert header[0] == "题型"


def test_other_staff_cannot_import_or_export(client):
    client.force_login(f.UserFactory(username="assessor-b", role=roles.ASSESSOR, is_staff=True))
    for name in ("import", "export", "template", "changelist"):
        assert client.get(reverse(f"admin:certifications_question_{name}")).status_code == 403


def test_the_type_of_a_shown_question_cannot_be_changed_on_its_page(hr):
    question = _question()
    _show(question.current)
    data = open_form(hr, _url(question))
    data.update(kind=Kind.MULTIPLE, answer="AB")
    response = hr.post(_url(question), data)
    assert response.status_code == 200
    assert "cannot change" in response.context["adminform"].form.errors["kind"][0]
    assert question.versions.count() == 1
