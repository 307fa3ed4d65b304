"""
The question bank (题库, issue 16): the one door for its writes and the one grading rule.

- `normalise_stem` is how duplicates are found: two stems that differ only in
  width (full-width letters and digits), spacing, case or punctuation are the same question.
- `answer_parse` reads an answer as people write it (B, ACD, A、C、D, ａｃｄ, 对/错, √/×, T/F, 正确/错误)
  into the canonical form the bank stores ("B", "ACD", "T"/"F", accepted answers "|"-separated).
- `grade` is THE grading rule every paper is marked with.
- `question_create` / `question_update` are the only writes of Question, QuestionVersion and
  QuestionImage: editing a question that a paper has shown (an AttemptQuestion points at its
  current version) makes a new version, and the shown one stays as it was.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from simple_history.utils import bulk_create_with_history

from certifications.models import AttemptQuestion, Question, QuestionImage, QuestionVersion
from certifications.models.exams import OPTION_KEYS
from core.history import with_reason
from core.text import CONTROL_CHARACTERS, normalise_text

Kind = Question.Kind

STEM_KEY_LENGTH = Question._meta.get_field("stem_key").max_length
# The fields of a version (its text); the others belong to the question itself.
VERSION_FIELDS = ("stem", "options", "answer", "explanation")
QUESTION_FIELDS = ("kind", "difficulty", "knowledge_point", "active")
RELATED_FIELDS = ("trades", "ranks", "courses")

TRUE_WORDS = {"t", "true", "对", "√", "✓", "✔", "正确", "是", "y", "yes", "v", "o", "○"}
FALSE_WORDS = {"f", "false", "错", "×", "✗", "✘", "x", "错误", "否", "n", "no"}
# What separates the letters of a multiple-choice answer (A、C、D; A,C,D; A C D; A/C/D).
LETTER_SEPARATORS = set(" ,;、/.，；。|")
MARKS_STEP = Decimal("0.1")
KIND_FIXED_MESSAGE = _lazy(
    "A paper has shown this question, so its type cannot change: retire it and add a new question."
)
STEM_MAX = 2000  # the stem's and the explanation's limit (QuestionVersion)
ANSWER_MAX = QuestionVersion._meta.get_field("answer").max_length


def stored_text(value) -> str:
    """Return text as the bank stores it: trimmed, otherwise as written (full-width Chinese punctuation kept)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"  # punctuation and symbols: 、。（）【】“”…, and ＋ × etc.


def normalise_stem(text) -> str:
    """Return the stem reduced for finding duplicates: width folded, lower-case, no spaces or punctuation."""
    folded = normalise_text(text).casefold()
    key = "".join(ch for ch in folded if not ch.isspace() and not _is_punctuation(ch))
    return key[:STEM_KEY_LENGTH]


def _answer_text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "T" if raw else "F"
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return normalise_text(raw)


def normalise_answer_text(text: str) -> str:
    """Return a fill-in answer as compared: width folded, lower-case, without spaces."""
    return "".join(normalise_text(text).casefold().split())


def answer_parse(kind: str, raw) -> str:
    """Return the canonical answer for `kind` ("B", "ACD", "T"/"F", "a|b"); ValidationError if unreadable."""
    text = _answer_text(raw)
    if not text:
        raise ValidationError(_("The correct answer is missing."), code="required")
    if kind == Kind.TRUE_FALSE:
        word = text.casefold().rstrip("。.")
        if word in TRUE_WORDS:
            return "T"
        if word in FALSE_WORDS:
            return "F"
        raise ValidationError(
            _("“%(value)s” is not a true-or-false answer: write 对 or 错 (√ or ×, T or F, 正确 or 错误).")
            % {"value": text},
            code="invalid",
        )
    if kind == Kind.FILL:
        accepted = [part.strip() for part in text.split("|")]
        accepted = [part for part in accepted if part]
        if not accepted:
            raise ValidationError(_("The correct answer is missing."), code="required")
        return "|".join(dict.fromkeys(accepted))
    letters = []
    for ch in text.upper():
        if ch in LETTER_SEPARATORS:
            continue
        if ch not in OPTION_KEYS:
            raise ValidationError(
                _("“%(value)s” is not an answer of option letters: write letters from A to F, such as B or ACD.")
                % {"value": text},
                code="invalid",
            )
        letters.append(ch)
    keys = "".join(sorted(set(letters)))
    if kind == Kind.SINGLE and len(keys) != 1:
        raise ValidationError(
            _("A single-choice question has exactly one correct option; “%(value)s” names %(count)s.")
            % {"value": text, "count": len(keys)},
            code="invalid",
        )
    if kind not in (Kind.SINGLE, Kind.MULTIPLE):
        raise ValidationError(_("Unknown question type “%(kind)s”.") % {"kind": kind}, code="invalid")
    return keys


def _given_keys(kind: str, given) -> str | None:
    try:
        return answer_parse(kind, given)
    except ValidationError:
        return None


def grade(kind: str, canonical_answer: str, given, marks, partial: bool = False) -> Decimal:
    """
    Return the marks earned (0 ≤ grade ≤ marks): single choice and true/false all or nothing;
    multiple choice all or nothing, or with `partial` marks × correct chosen / correct total,
    nothing if any wrong option is chosen; fill-in: any accepted answer, compared normalised.
    """
    marks = Decimal(marks)
    if kind == Kind.FILL:
        if _answer_text(given) == "":
            return Decimal(0)
        wanted = normalise_answer_text(_answer_text(given))
        accepted = {normalise_answer_text(part) for part in canonical_answer.split("|") if part.strip()}
        return marks if wanted and wanted in accepted else Decimal(0)
    chosen = _given_keys(Kind.MULTIPLE if kind == Kind.MULTIPLE else kind, given)
    if not chosen:
        return Decimal(0)
    if kind != Kind.MULTIPLE:
        return marks if chosen == canonical_answer else Decimal(0)
    correct, picked = set(canonical_answer), set(chosen)
    if picked == correct:
        return marks
    if not partial or picked - correct or not correct:
        return Decimal(0)
    # Rounded down to the tenth the marks are stored in: a share never reaches full marks.
    return (marks * len(picked) / len(correct)).quantize(MARKS_STEP, rounding=ROUND_DOWN)


# --- the door ---------------------------------------------------------------------------------------------


def options_clean(options) -> list[dict]:
    """Return options as [{"key": "A", "text": …}, …]: from texts in order, or dicts / a key → text mapping."""
    if not options:
        return []
    if isinstance(options, Mapping):
        items = [(str(key), value) for key, value in options.items()]
    else:
        items = []
        for index, option in enumerate(options):
            if isinstance(option, Mapping):
                items.append((str(option.get("key") or ""), option.get("text")))
            else:
                items.append((OPTION_KEYS[index] if index < len(OPTION_KEYS) else "?", option))
    cleaned = []
    for key, value in items:
        text = stored_text(value)
        if text:
            cleaned.append({"key": normalise_text(key).upper(), "text": text})
    return cleaned


def question_text_clean(kind: str, stem, options, answer, explanation) -> dict:
    """Validate a version's text for a question of `kind`; return the values to store."""
    errors: dict[str, list[str]] = {}
    stem = stored_text(stem)
    explanation = stored_text(explanation)
    options = options_clean(options)
    if not stem:
        errors.setdefault("stem", []).append(_("The stem is missing."))
    for name, value in (("stem", stem), ("explanation", explanation)):
        found = CONTROL_CHARACTERS.search(value)
        if found:
            errors.setdefault(name, []).append(
                _("It contains the invisible control character U+%(code)s; retype it.")
                % {"code": f"{ord(found[0]):04X}"}
            )
    for name, value, limit in (("stem", stem, STEM_MAX), ("explanation", explanation, STEM_MAX)):
        if len(value) > limit:
            errors.setdefault(name, []).append(
                _("It is %(length)s characters long; at most %(limit)s fit.") % {"length": len(value), "limit": limit}
            )
    keys = [o["key"] for o in options]
    if kind in (Kind.SINGLE, Kind.MULTIPLE):
        if len(options) < 2:
            errors.setdefault("options", []).append(_("A choice question needs at least two options."))
        if len(set(keys)) != len(keys) or any(k not in OPTION_KEYS for k in keys):
            errors.setdefault("options", []).append(_("Options are lettered A to F, each once."))
        for option in options:
            if len(option["text"]) > 500:
                errors.setdefault("options", []).append(
                    _("Option %(key)s is longer than 500 characters.") % {"key": option["key"]}
                )
    elif options:
        errors.setdefault("options", []).append(_("Only choice questions have options."))
    canonical = ""
    try:
        canonical = answer_parse(kind, answer)
    except ValidationError as error:
        errors.setdefault("answer", []).extend(error.messages)
    else:
        if len(canonical) > ANSWER_MAX:
            errors.setdefault("answer", []).append(
                _("The accepted answers are %(length)s characters long; at most %(limit)s fit.")
                % {"length": len(canonical), "limit": ANSWER_MAX}
            )
        if kind in (Kind.SINGLE, Kind.MULTIPLE):
            missing = [k for k in canonical if k not in keys]
            if missing:
                errors.setdefault("answer", []).append(
                    _("The answer names option %(keys)s, which the question does not have.")
                    % {"keys": "、".join(missing)}
                )
    if errors:
        raise ValidationError(errors)
    return {"stem": stem, "options": options, "answer": canonical, "explanation": explanation}


def question_images_clean(images: Mapping | None, options: list[dict]) -> dict:
    """Check new images: slot "" (the stem) or an option's key → an uploaded file (size and type checked)."""
    if not images:
        return {}
    keys = {o["key"] for o in options}
    cleaned = {}
    field = QuestionImage._meta.get_field("image")
    for slot, file in images.items():
        slot = slot or ""
        if slot and slot not in keys:
            raise ValidationError({"images": _("There is no option %(key)s for the image to go with.") % {"key": slot}})
        try:
            for validator in field.validators:
                validator(file)
        except ValidationError as error:
            raise ValidationError({"images": error.messages}) from None
        cleaned[slot] = file
    return cleaned


def _question_clean(question: Question) -> None:
    question.full_clean(exclude=["stem_key"])


@transaction.atomic
def question_create(
    *,
    kind: str,
    stem: str,
    options=(),
    answer,
    explanation: str = "",
    difficulty: int = 3,
    knowledge_point: str = "",
    active: bool = True,
    trades: Iterable = (),
    ranks: Iterable = (),
    courses: Iterable = (),
    images: Mapping | None = None,
    user=None,
    reason: str = "",
) -> Question:
    """Add a question to the bank with its first version; ValidationError naming the field if anything is wrong."""
    text = question_text_clean(kind, stem, options, answer, explanation)
    new_images = question_images_clean(images, text["options"])
    question = Question(
        kind=kind,
        difficulty=difficulty,
        knowledge_point=stored_text(knowledge_point),
        active=active,
        stem_key=normalise_stem(text["stem"]),
    )
    _question_clean(question)
    with_reason(question, reason or _("question bank: added"), user=user)
    question.save()
    version = QuestionVersion(question=question, number=1, created_by=_user_or_none(user), **text)
    version.full_clean()
    version.save()
    _images_save(version, new_images)
    for name, values in (("trades", trades), ("ranks", ranks), ("courses", courses)):
        if values:
            getattr(question, name).set(values)
    return question


@transaction.atomic
def questions_create_many(entries: Iterable[Mapping], *, user=None, reason: str = "") -> list[Question]:
    """
    Add many questions at once (the sheet import), each checked as question_create checks it, in a fixed number
    of queries whatever their number; ValidationError (naming the entry's index) and nothing written if one is
    wrong. Each entry holds question_create's keywords (images aside).
    """
    prepared = []
    for index, values in enumerate(entries):
        try:
            text = question_text_clean(
                values["kind"],
                values["stem"],
                values.get("options") or (),
                values["answer"],
                values.get("explanation", ""),
            )
            question = Question(
                kind=values["kind"],
                difficulty=values.get("difficulty", 3),
                knowledge_point=stored_text(values.get("knowledge_point", "")),
                active=values.get("active", True),
                stem_key=normalise_stem(text["stem"]),
                version=1,
            )
            # The difficulty's check constraint is its field's validators too: no query per row.
            question.full_clean(exclude=["stem_key", "version"], validate_constraints=False)
        except ValidationError as error:
            raise ValidationError(
                _("Question %(n)s: %(reason)s") % {"n": index + 1, "reason": " ".join(error.messages)}
            ) from None
        prepared.append((question, text, values))
    if not prepared:
        return []
    author = _user_or_none(user)
    questions = bulk_create_with_history(
        [question for question, _text, _values in prepared],
        Question,
        default_user=author,
        default_change_reason=reason or _("question bank: added"),
    )
    versions = []
    links: dict[str, list] = {name: [] for name in RELATED_FIELDS}
    for question, (_unsaved, text, values) in zip(questions, prepared, strict=True):
        version = QuestionVersion(question=question, number=1, created_by=author, **text)
        version.clean_fields(exclude=["question", "created_by"])
        versions.append(version)
        for name in RELATED_FIELDS:
            through = getattr(Question, name).through
            column = getattr(Question, name).field.m2m_reverse_field_name()
            links[name] += [
                through(question_id=question.pk, **{f"{column}_id": obj.pk}) for obj in values.get(name) or ()
            ]
    QuestionVersion.objects.bulk_create(versions)
    for name, rows in links.items():
        if rows:
            getattr(Question, name).through.objects.bulk_create(rows, ignore_conflicts=True)
    return questions


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


def _images_save(version: QuestionVersion, images: Mapping, *, remove: Iterable[str] = ()) -> None:
    remove = set(remove) | set(images)
    if remove:
        version.images.filter(slot__in=remove).delete()
    for slot, file in images.items():
        image = QuestionImage(version=version, slot=slot, image=file)
        image.full_clean(exclude=["image"])  # the file was checked by question_images_clean
        image.save()


def question_shown(question: Question) -> bool:
    """Return True when some paper has shown any version of this question."""
    return question.pk is not None and AttemptQuestion.objects.filter(question_version__question=question).exists()


def version_shown(version: QuestionVersion) -> bool:
    """Return True when some paper has shown this version: it can no longer be edited in place."""
    return AttemptQuestion.objects.filter(question_version=version).exists()


@transaction.atomic
def question_update(
    question: Question,
    *,
    user=None,
    reason: str = "",
    images: Mapping | None = None,
    remove_images: Iterable[str] = (),
    **changes,
) -> Question:
    """
    Change a question: its own fields in place; its text (stem, options, answer, explanation, images) in the
    current version, or in a new version when a paper has shown the current one (the shown one stays as it was).
    """
    unknown = set(changes) - set(VERSION_FIELDS) - set(QUESTION_FIELDS) - set(RELATED_FIELDS)
    if unknown:
        raise TypeError(f"question_update() got unexpected fields: {sorted(unknown)}")
    current = QuestionVersion.objects.select_for_update().filter(question=question).order_by("-number").first()
    kind = changes.get("kind", question.kind)
    base = {name: getattr(current, name) for name in VERSION_FIELDS} if current else {}
    wanted = {name: changes.get(name, base.get(name, "")) for name in VERSION_FIELDS}
    text = question_text_clean(kind, wanted["stem"], wanted["options"], wanted["answer"], wanted["explanation"])
    new_images = question_images_clean(images, text["options"])
    remove_images = {slot or "" for slot in remove_images}
    old_slots = set(current.images.values_list("slot", flat=True)) if current else set()
    remove_images &= old_slots
    text_changed = current is None or any(text[name] != base[name] for name in VERSION_FIELDS)
    images_changed = bool(new_images or remove_images)

    if kind != question.kind and question_shown(question):
        # A paper's question is marked and reviewed by its question's type: a shown one keeps it.
        raise ValidationError({"kind": KIND_FIXED_MESSAGE})
    for name in QUESTION_FIELDS:
        if name in changes:
            value = changes[name]
            setattr(question, name, stored_text(value) if name == "knowledge_point" else value)
    question.stem_key = normalise_stem(text["stem"])
    _question_clean(question)

    note = reason or _("question bank: edited")
    if text_changed or images_changed:
        if current is not None and version_shown(current):
            version = QuestionVersion(
                question=question, number=current.number + 1, created_by=_user_or_none(user), **text
            )
            version.full_clean()
            version.save()
            # The new version starts with the shown one's images (the files are shared, never rewritten).
            kept = [
                QuestionImage(version=version, slot=image.slot, image=image.image.name)
                for image in current.images.all()
                if image.slot not in remove_images and (not image.slot or image.slot in version.option_keys)
            ]
            QuestionImage.objects.bulk_create(kept)
            _images_save(version, new_images)
            note = _("%(reason)s (version %(new)s; version %(old)s was shown on a paper and is kept)") % {
                "reason": note,
                "new": version.number,
                "old": current.number,
            }
        elif current is not None:
            for name in VERSION_FIELDS:
                setattr(current, name, text[name])
            current.full_clean()
            current.save()
            gone = {slot for slot in old_slots if slot and slot not in current.option_keys}
            _images_save(current, new_images, remove=remove_images | gone)
        else:
            version = QuestionVersion(question=question, number=1, created_by=_user_or_none(user), **text)
            version.full_clean()
            version.save()
            _images_save(version, new_images)
    with_reason(question, note, user=user)
    question.save()
    for name in RELATED_FIELDS:
        if name in changes:
            getattr(question, name).set(changes[name])
    return question


def questions_set_active(questions: Iterable[Question], *, active: bool, user=None, reason: str = "") -> int:
    """Retire (active=False) or reactivate questions through the door; return how many changed."""
    changed = 0
    for question in questions:
        if question.active == active:
            continue
        default = _("question bank: reactivated") if active else _("question bank: retired")
        question_update(question, active=active, user=user, reason=reason or default)
        changed += 1
    return changed
