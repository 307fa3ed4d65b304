"""HR's per-session exam report: figures, who did not start, who is in progress, a link to each attempt's audit."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from certifications.exams.audit import session_for_user_or_404, session_report


@require_GET
def session_report_view(request, pk: int):
    """Score distribution, pass rate and the roster's states for one session (HR; an assessor who examines it)."""
    session = session_for_user_or_404(request.user, pk)
    return render(
        request,
        "certifications/exams/session_report.html",
        {"session": session, "report": session_report(session), "now": timezone.now()},
    )
