"""
Pages of the question bank outside the admin's own: a question's images, served to those who may see
them (never from a public media URL), and the item analysis for HR.
"""

from __future__ import annotations

import mimetypes

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from certifications.exams.analysis import analysis_get
from certifications.models import AttemptQuestion, ExamSession, QuestionImage
from training.access import user_worker


def question_image(request, pk: int):
    """
    Send an image of a question: to whoever may view the bank (HR), or to a candidate whose paper showed that
    version; to anybody else it does not exist (404).
    """
    image = get_object_or_404(QuestionImage.objects.select_related("version"), pk=pk)
    if not request.user.has_perm("certifications.view_question"):
        worker = user_worker(request.user)
        if (
            worker is None
            or not AttemptQuestion.objects.filter(
                question_version_id=image.version_id, attempt__candidate__worker=worker
            ).exists()
        ):
            raise Http404("No such image.")
    try:
        handle = image.image.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The image file is missing.") from None
    content_type = mimetypes.guess_type(image.image.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pk(value) -> int | None:
    return int(value) if value and str(value).isdigit() and len(str(value)) < 10 else None


@permission_required("certifications.view_question", raise_exception=True)
def exam_analysis(request):
    """The item analysis of the bank (every ended attempt), or of one session with ?session=<pk>."""
    session = None
    session_pk = _pk(request.GET.get("session"))
    if request.GET.get("session"):
        if session_pk is None:
            raise Http404("No such session.")
        session = get_object_or_404(ExamSession.objects.select_related("assessment", "template"), pk=session_pk)
    question_pk = _pk(request.GET.get("question"))
    analysis = analysis_get(session=session, question_ids=[question_pk] if question_pk else None)
    context = {
        **admin.site.each_context(request),
        "title": _("Item analysis") if session is None else _("Item analysis: %(session)s") % {"session": session},
        "analysis": analysis,
        "session": session,
        "sessions": ExamSession.objects.order_by("-opens_at").values_list("pk", "name")[:200],
        "question_pk": question_pk,
    }
    return TemplateResponse(request, "certifications/exams/analysis.html", context)
