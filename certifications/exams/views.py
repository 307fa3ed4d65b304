"""
The candidate's online exam: their sessions, a session's rules and the start,
the one-page exam app with its JSON API (state, answer, submit), the result
and review; and HR's printable paper for an offline exam.
"""

from __future__ import annotations

import json
import random

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certifications.exams import services
from certifications.exams.papers import draw_paper
from certifications.exams.sessions import (
    OPTION_LABELS,
    attempt_for_user_or_404,
    attempt_questions,
    attempt_state,
    candidate_places,
    place_for_user_or_404,
    review_allowed,
    scaled,
    session_roster,
    shown_answer,
    shown_options,
)
from certifications.models import ExamSession
from core.client_ip import client_ip
from training import access

PRINT_COPIES_MAX = 200


def _client(request) -> dict:
    return {"ip": client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")}


def _place_status(place, now) -> dict:
    attempts = list(place.attempts.all())
    open_attempt = next((a for a in attempts if a.open and a.deadline > now), None)
    session = place.session
    can_start = (
        open_attempt is None
        and session.opens_at <= now < session.closes_at
        and len([a for a in attempts if a.open is False or a.deadline <= now]) < place.attempts_allowed
    )
    return {"place": place, "session": session, "attempts": attempts, "open": open_attempt, "can_start": can_start}


def exam_list(request):
    """The logged-in worker's exam sessions, with start, resume and result links."""
    worker = access.user_worker(request.user)
    if worker is None:
        raise Http404("No worker is linked to this login.")
    now = timezone.now()
    rows = [_place_status(place, now) for place in candidate_places(worker)]
    return render(request, "certifications/exams/exam_list.html", {"rows": rows, "worker": worker, "now": now})


@require_http_methods(["GET", "POST"])
def exam_rules(request, session_pk):
    """A session's rules (duration, questions, pass mark, attempts); POST starts or resumes the attempt."""
    place = place_for_user_or_404(request.user, session_pk)
    if request.method == "POST":
        try:
            attempt = services.attempt_start(place, **_client(request))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("certifications:exam-rules", session_pk=session_pk)
        return redirect("certifications:exam-attempt", public_id=attempt.public_id)
    now = timezone.now()
    status = _place_status(place, now)
    session = place.session
    template = session.template
    if template.fixed:
        question_count = template.fixed_questions.count()
    else:
        question_count = sum(s.count for s in template.sections.all())
    context = {
        **status,
        "template": template,
        "question_count": question_count,
        "minutes": session.minutes,
        "assessment": session.assessment,
        "used": len(status["attempts"]),
    }
    return render(request, "certifications/exams/exam_rules.html", context)


def _strings() -> dict:
    return {
        "question": _("Question %(n)s of %(total)s"),
        "flag": _("Flag for review"),
        "flagged": _("Flagged"),
        "previous": _("Previous"),
        "next": _("Next"),
        "submit": _("Submit the paper"),
        "confirm": _("Submit your paper now? You cannot change your answers afterwards."),
        "unanswered": _("%(n)s question(s) are not answered."),
        "unsent": _("%(n)s answer(s) are not saved to the server yet: stay online until they are."),
        "offline": _("No connection: your answers are kept on this phone and sent when the network is back."),
        "online": _("Connected: every answer is saved."),
        "saving": _("Saving…"),
        "timeup": _("The time is up: your paper is being submitted."),
        "remaining": _("Time left"),
        "true": _("True (对)"),
        "false": _("False (错)"),
        "fill": _("Your answer"),
        "navigator": _("Questions"),
        "answered": _("answered"),
        "unsaved": _("not sent yet"),
        "current": _("current"),
        "refused": _("The time is up: this answer was not saved."),
        "failed": _("The paper could not be submitted; it will be tried again."),
        "marks": _("%(n)s marks"),
    }


def _result_context(attempt, now) -> dict:
    assessment = attempt.candidate.session.assessment
    score = scaled(attempt.score or 0, attempt.full_marks, assessment.full_marks)
    review = None
    if review_allowed(attempt, now=now):
        review = []
        for question in attempt_questions(attempt):
            version = question.question_version
            review.append(
                {
                    "question": question,
                    "version": version,
                    "kind": version.question.kind,
                    "options": shown_options(question),
                    "given": shown_answer(question, question.answer),
                    "correct": shown_answer(question, version.answer),
                }
            )
    return {
        "attempt": attempt,
        "session": attempt.candidate.session,
        "assessment": assessment,
        "score": score,
        "passed": score >= assessment.pass_mark,
        "review": review,
        "review_later": review is None and attempt.candidate.session.template.review_after_close,
    }


@require_GET
def exam_attempt(request, public_id):
    """The one-page exam app while the attempt is open; the result (and review, when allowed) once it ended."""
    attempt = attempt_for_user_or_404(request.user, public_id)
    now = timezone.now()
    attempt = services.attempt_close_if_late(attempt, now=now)
    if not attempt.open:
        return render(request, "certifications/exams/exam_result.html", _result_context(attempt, now))
    services.attempt_opened(attempt, **_client(request), now=now)
    urls = {
        "state": reverse("certifications:exam-state", kwargs={"public_id": attempt.public_id}),
        "answer": reverse("certifications:exam-answer", kwargs={"public_id": attempt.public_id}),
        "submit": reverse("certifications:exam-submit", kwargs={"public_id": attempt.public_id}),
        "result": reverse("certifications:exam-attempt", kwargs={"public_id": attempt.public_id}),
    }
    context = {
        "attempt": attempt,
        "session": attempt.candidate.session,
        "urls": urls,
        "strings_json": json.dumps(_strings(), ensure_ascii=False),
    }
    return render(request, "certifications/exams/exam_attempt.html", context)


@require_GET
def exam_state(request, public_id):
    """The attempt's state as JSON: server time, deadline, remaining seconds, the questions and answers kept."""
    attempt = attempt_for_user_or_404(request.user, public_id)
    now = timezone.now()
    attempt = services.attempt_close_if_late(attempt, now=now)
    return JsonResponse(attempt_state(attempt, now=now))


@require_POST
def exam_answer(request, public_id):
    """Save one answer as given: JSON {"order", "answer", "seq", "flagged"}; 409 after the deadline."""
    attempt = attempt_for_user_or_404(request.user, public_id)
    if request.content_type != "application/json":
        return JsonResponse({"error": _("Send order, answer, seq and flagged as JSON.")}, status=400)
    try:
        data = json.loads(request.body or b"{}")
        order, seq = int(data["order"]), int(data["seq"])
        answer = str(data.get("answer") or "")
        flagged = bool(data.get("flagged", False))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        return JsonResponse({"error": _("Send order, answer, seq and flagged as JSON.")}, status=400)
    if not (0 <= seq <= 2_000_000_000) or not (1 <= order <= 999):
        return JsonResponse({"error": _("The question number or save number is out of range.")}, status=400)
    try:
        saved = services.answer_save(attempt, order, answer, seq, flagged, **_client(request))
    except services.AnswerRefused as refused:
        services.attempt_close_if_late(attempt)
        return JsonResponse({"error": str(refused)}, status=409)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse(saved)


@require_POST
def exam_submit(request, public_id):
    """Submit the paper: JSON {"score", "full_marks", "passed"} for the app, a redirect to the result for a form."""
    attempt = attempt_for_user_or_404(request.user, public_id)
    attempt = services.attempt_submit(attempt, **_client(request))
    if request.content_type == "application/json" or "application/json" in request.META.get("HTTP_ACCEPT", ""):
        assessment = attempt.candidate.session.assessment
        score = scaled(attempt.score or 0, attempt.full_marks, assessment.full_marks)
        return JsonResponse(
            {"score": str(score), "full_marks": str(assessment.full_marks), "passed": score >= assessment.pass_mark}
        )
    return redirect("certifications:exam-attempt", public_id=attempt.public_id)


def _sheet_url(session: ExamSession) -> str:
    if session.sitting_id is None:
        return reverse("certifications:results-template")
    return reverse("certifications:sitting-sheet", kwargs={"pk": session.sitting_id})


def analysis_url(session: ExamSession) -> str | None:
    """The session's item analysis (exams-bank's page, exam-analysis), or None while that page is not there."""
    try:
        return reverse("certifications:exam-analysis") + f"?session={session.pk}"
    except NoReverseMatch:
        return None


@permission_required("certifications.view_examsession", raise_exception=True)
def exam_print(request, session_pk):
    """
    A printable paper and answer sheet per candidate on the roster (or N copies, ?copies=N), drawn from the
    template as the online exam draws it, for an offline exam whose results come back through the results import.
    """
    session = get_object_or_404(ExamSession.objects.select_related("template", "assessment", "sitting"), pk=session_pk)
    try:
        copies = int(request.GET.get("copies", "0") or 0)
    except ValueError:
        return HttpResponseBadRequest(_("copies is a whole number."))
    copies = max(0, min(copies, PRINT_COPIES_MAX))
    # The marker's answer keys are printed only when asked for, so the candidates' copies never carry them; the
    # papers are drawn again from a seed in the address, so the keys match the papers printed with that seed.
    with_key = request.GET.get("key") == "1"
    try:
        seed = int(request.GET.get("seed", "") or random.SystemRandom().randrange(1, 10**9))
    except ValueError:
        return HttpResponseBadRequest(_("seed is a whole number."))
    if copies:
        people = [None] * copies
    else:
        people = [c.worker for c in session_roster(session)] or [None]
    rng = random.Random(seed)
    papers = []
    try:
        for i, worker in enumerate(people, start=1):
            drawn = draw_paper(session.template, rng)
            questions = []
            for order, (version, marks, option_order) in enumerate(drawn, start=1):
                texts = {o["key"]: o.get("text", "") for o in version.options}
                label = {key: OPTION_LABELS[j] for j, key in enumerate(option_order)}
                if version.question.kind in ("single", "multiple"):
                    key = "".join(sorted(label.get(k, k) for k in version.answer))
                elif version.question.kind == "true_false":
                    key = _("True (对)") if version.answer == "T" else _("False (错)")
                else:
                    key = " / ".join(a for a in version.answer.split("|") if a)
                questions.append(
                    {
                        "order": order,
                        "kind": version.question.kind,
                        "stem": version.stem,
                        "marks": marks,
                        "key": key,
                        "options": [
                            {"label": OPTION_LABELS[j], "text": texts.get(k, "")} for j, k in enumerate(option_order)
                        ],
                    }
                )
            papers.append({"number": i, "worker": worker, "questions": questions})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        papers = []
    context = {
        "session": session,
        "papers": papers,
        "sheet_url": _sheet_url(session),
        "copies": copies,
        "minutes": session.minutes,
        "seed": seed,
        "with_key": with_key,
    }
    return render(request, "certifications/exams/exam_print.html", context)
