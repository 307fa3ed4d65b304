"""The question bank's door and the one grading rule (certifications/exams/bank.py)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from certifications.exams.bank import (
    answer_parse,
    grade,
    normalise_stem,
    question_create,
    question_update,
    questions_set_active,
)
from certifications.models import Attempt, AttemptQuestion, Question, QuestionImage
from certifications.models.exams import QUESTION_IMAGE_MAX_BYTES
from tests import factories as f

Kind = Question.Kind


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


# --- normalise_stem -------------------------------------------------------------------------------------


def test_stems_differing_in_width_spaces_case_and_punctuation_are_the_same():
    assert normalise_stem("井下供电应做到（  ）。") == normalise_stem("井下供电 应做到()")
    assert normalise_stem("ＡＢＣ　１２３？") == normalise_stem("abc123")
    assert normalise_stem("“三专两闭锁”是什么？") == "三专两闭锁是什么"


def test_different_words_stay_different():
    assert normalise_stem("瓦斯浓度达到1%时") != normalise_stem("瓦斯浓度达到1.5%时")


# --- answer_parse -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (Kind.SINGLE, "B", "B"),
        (Kind.SINGLE, "ｂ", "B"),
        (Kind.SINGLE, " C。", "C"),
        (Kind.MULTIPLE, "ACD", "ACD"),
        (Kind.MULTIPLE, "A、C、D", "ACD"),
        (Kind.MULTIPLE, "ａｃｄ", "ACD"),
        (Kind.MULTIPLE, "D,A，C", "ACD"),
        (Kind.MULTIPLE, "A C", "AC"),
        (Kind.TRUE_FALSE, "对", "T"),
        (Kind.TRUE_FALSE, "错", "F"),
        (Kind.TRUE_FALSE, "√", "T"),
        (Kind.TRUE_FALSE, "×", "F"),
        (Kind.TRUE_FALSE, "T", "T"),
        (Kind.TRUE_FALSE, "f", "F"),
        (Kind.TRUE_FALSE, "正确", "T"),
        (Kind.TRUE_FALSE, "错误", "F"),
        (Kind.FILL, "三专两闭锁|三专二闭锁", "三专两闭锁|三专二闭锁"),
    ],
)
def test_answers_are_read_as_mines_write_them(kind, raw, expected):
    assert answer_parse(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "fragment"),
    [
        (Kind.SINGLE, "AC", "exactly one"),
        (Kind.SINGLE, "G", "letters from A to F"),
        (Kind.MULTIPLE, "A和C", "letters from A to F"),
        (Kind.TRUE_FALSE, "也许", "对 or 错"),
        (Kind.SINGLE, "", "missing"),
        (Kind.FILL, "|", "missing"),
    ],
)
def test_an_unreadable_answer_is_refused_in_words(kind, raw, fragment):
    with pytest.raises(ValidationError) as error:
        answer_parse(kind, raw)
    assert fragment in " ".join(error.value.messages)


# --- grade ------------------------------------------------------------------------------------------------


def test_single_choice_and_true_false_are_all_or_nothing():
    assert grade(Kind.SINGLE, "B", "B", Decimal(2)) == 2
    assert grade(Kind.SINGLE, "B", "C", Decimal(2)) == 0
    assert grade(Kind.SINGLE, "B", "", Decimal(2)) == 0
    assert grade(Kind.TRUE_FALSE, "T", "T", Decimal(1)) == 1
    assert grade(Kind.TRUE_FALSE, "T", "F", Decimal(1)) == 0


def test_multiple_choice_all_or_nothing_unless_partial():
    assert grade(Kind.MULTIPLE, "ACD", "ACD", Decimal(3)) == 3
    assert grade(Kind.MULTIPLE, "ACD", "DCA", Decimal(3)) == 3
    assert grade(Kind.MULTIPLE, "ACD", "AC", Decimal(3)) == 0
    assert grade(Kind.MULTIPLE, "ACD", "AC", Decimal(3), partial=True) == 2
    assert grade(Kind.MULTIPLE, "ACD", "A", Decimal(2), partial=True) == Decimal("0.6")
    assert grade(Kind.MULTIPLE, "ACD", "AB", Decimal(3), partial=True) == 0
    assert grade(Kind.MULTIPLE, "ACD", "ABCD", Decimal(3), partial=True) == 0


def test_fill_in_accepts_any_accepted_answer_compared_normalised():
    assert grade(Kind.FILL, "三专两闭锁|三专二闭锁", "三专 二闭锁", Decimal(2)) == 2
    assert grade(Kind.FILL, "CH4|甲烷", "ｃｈ４", Decimal(2)) == 2
    assert grade(Kind.FILL, "CH4|甲烷", "CO", Decimal(2)) == 0
    assert grade(Kind.FILL, "CH4", "", Decimal(2)) == 0


keys = st.sets(st.sampled_from("ABCDEF"), min_size=1).map(lambda s: "".join(sorted(s)))
marks = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(100), places=1)


@settings(max_examples=300, deadline=None)
@given(correct=keys, chosen=st.one_of(keys, st.just(""), st.text(max_size=6)), marks=marks, partial=st.booleans())
def test_a_grade_is_never_below_zero_nor_above_the_marks(correct, chosen, marks, partial):
    for kind, answer in ((Kind.MULTIPLE, correct), (Kind.SINGLE, correct[0]), (Kind.FILL, correct)):
        earned = grade(kind, answer, chosen, marks, partial)
        assert Decimal(0) <= earned <= marks


@settings(max_examples=200, deadline=None)
@given(correct=keys, marks=marks, partial=st.booleans())
def test_the_correct_answer_earns_full_marks(correct, marks, partial):
    assert grade(Kind.MULTIPLE, correct, correct, marks, partial) == marks
    assert grade(Kind.SINGLE, correct[0], correct[0], marks, partial) == marks
    assert grade(Kind.TRUE_FALSE, "T", "对", marks, partial) == marks


@settings(max_examples=200, deadline=None)
@given(correct=keys, chosen=keys, marks=marks)
def test_all_or_nothing_gives_only_zero_or_full_and_partial_is_never_less(correct, chosen, marks):
    strict = grade(Kind.MULTIPLE, correct, chosen, marks, False)
    assert strict in (Decimal(0), marks)
    lenient = grade(Kind.MULTIPLE, correct, chosen, marks, True)
    assert lenient >= strict
    if set(chosen) - set(correct):
        assert lenient == 0


# --- the door ---------------------------------------------------------------------------------------------


def _question(**kwargs):
    values = {
        "kind": Kind.MULTIPLE,
        "stem": "井下供电的“三无”是指哪些？",
        "options": ["无鸡爪子", "无羊尾巴", "无明接头", "无漏电"],
        "answer": "A、B、C",
        "explanation": "见《煤矿安全规程》。",
        "knowledge_point": "供电安全",
        **kwargs,
    }
    return question_create(**values)


def _shown(version):
    worker_candidate = f.ExamCandidateFactory()
    now = timezone.now()
    attempt = Attempt.objects.create(
        candidate=worker_candidate, deadline=now + dt.timedelta(hours=1), full_marks=Decimal(100)
    )
    return AttemptQuestion.objects.create(attempt=attempt, question_version=version, order=1, marks=Decimal(2))


@pytest.mark.django_db
def test_a_question_is_created_with_its_first_version_and_normalised_stem(hr_user):
    trade = f.TradeFactory()
    question = _question(trades=[trade], user=hr_user)
    version = question.versions.get()
    assert (version.number, version.answer) == (1, "ABC")
    assert [o["key"] for o in version.options] == list("ABCD")
    assert question.stem_key == normalise_stem("井下供电的三无是指哪些")
    assert list(question.trades.all()) == [trade]
    entry = question.history.latest()
    assert entry.history_change_reason == "question bank: added" and entry.history_user == hr_user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"answer": "E"}, "answer", "does not have"),
        ({"options": ["只有一个"], "answer": "A"}, "options", "at least two"),
        ({"stem": "  "}, "stem", "missing"),
        ({"kind": Kind.TRUE_FALSE, "answer": "对"}, "options", "Only choice"),
        ({"difficulty": 6}, "difficulty", ""),
    ],
)
def test_a_question_that_is_wrong_is_refused_naming_the_field_and_nothing_is_written(changes, field, fragment):
    with pytest.raises(ValidationError) as error:
        _question(**changes)
    assert field in error.value.message_dict
    assert fragment in " ".join(error.value.message_dict[field])
    assert not Question.objects.exists()


@pytest.mark.django_db
def test_editing_a_question_no_paper_showed_edits_its_version_in_place(hr_user):
    question = _question()
    question_update(question, stem="井下供电“三无”指什么？", answer="ABC", user=hr_user, reason="typo")
    version = question.versions.get()
    assert version.stem == "井下供电“三无”指什么？"
    assert question.stem_key == normalise_stem("井下供电三无指什么")
    assert question.history.latest().history_change_reason == "typo"


@pytest.mark.django_db
def test_editing_a_question_a_paper_showed_makes_a_new_version_and_the_shown_one_stays(hr_user):
    question = _question()
    first = question.versions.get()
    shown = _shown(first)
    question_update(question, answer="ABCD", user=hr_user)
    assert sorted(question.versions.values_list("number", "answer")) == [(1, "ABC"), (2, "ABCD")]
    shown.refresh_from_db()
    assert shown.question_version.number == 1 and shown.question_version.answer == "ABC"
    assert question.current.number == 2
    assert "version 2" in question.history.latest().history_change_reason
    # Editing version 2, which nobody has seen yet, edits it in place.
    question_update(question, explanation="新解析", user=hr_user)
    assert question.versions.count() == 2
    assert question.versions.get(number=2).explanation == "新解析"


@pytest.mark.django_db
def test_changing_only_the_questions_own_fields_never_makes_a_version():
    question = _question()
    _shown(question.versions.get())
    question_update(question, difficulty=5, knowledge_point="机电")
    question.refresh_from_db()
    assert (question.difficulty, question.knowledge_point, question.versions.count()) == (5, "机电", 1)


@pytest.mark.django_db
def test_retire_and_reactivate_go_through_the_door_with_a_reason(hr_user):
    question = _question()
    assert questions_set_active([question], active=False, user=hr_user) == 1
    question.refresh_from_db()
    assert not question.active and question.history.latest().history_change_reason == "question bank: retired"
    assert questions_set_active([question], active=False, user=hr_user) == 0
    questions_set_active([question], active=True, user=hr_user)
    question.refresh_from_db()
    assert question.active


@pytest.mark.django_db
def test_an_image_over_the_limit_is_refused_with_its_size_and_the_limit(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    big = SimpleUploadedFile("big.png", PNG + b"\0" * QUESTION_IMAGE_MAX_BYTES, content_type="image/png")
    with pytest.raises(ValidationError) as error:
        _question(images={"": big})
    assert "the limit is 512 KB" in " ".join(error.value.message_dict["images"])
    assert not Question.objects.exists()


@pytest.mark.django_db
def test_images_are_kept_with_the_version_and_carried_to_a_new_one(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    question = _question(images={"": SimpleUploadedFile("s.png", PNG), "B": SimpleUploadedFile("b.png", PNG)})
    first = question.versions.get()
    assert sorted(first.images.values_list("slot", flat=True)) == ["", "B"]
    _shown(first)
    question_update(question, stem="改过的题干？", remove_images=["B"])
    second = question.versions.get(number=2)
    assert list(second.images.values_list("slot", flat=True)) == [""]
    assert sorted(first.images.values_list("slot", flat=True)) == ["", "B"]
    assert QuestionImage.objects.count() == 3


@pytest.mark.django_db
def test_the_type_of_a_question_a_paper_showed_cannot_change():
    question = _question()
    _shown(question.versions.get())
    with pytest.raises(ValidationError) as error:
        question_update(question, kind=Kind.SINGLE, answer="A")
    assert "cannot change" in error.value.message_dict["kind"][0]
    question.refresh_from_db()
    assert question.kind == Kind.MULTIPLE and question.versions.count() == 1
