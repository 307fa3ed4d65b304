"""
The progress pages. Views stay thin: access.py decides who sees what (404
otherwise, so existence does not leak), progress.py loads the page.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications import measures
from certifications.clearance import views as views_compliance
from certifications.progress import approvals as approval_pages
from certifications.progress import dashboard as dashboard_pages
from certifications.progress import figures
from certifications.progress import history as audit
from certifications.progress import unit as unit_pages
from certifications.progress import worker as worker_pages
from certifications.progress.filters import SORTS, UnitWorkerFilter
from certifications.ranks import services as rank_services
from certifications.sittings import selectors as sitting_selectors
from training import access
from training.models import Worker

# Workers per page of the unit table and skills matrix: a crew fits on one page, a whole mine does not.
UNIT_PAGE_SIZE = 100


def home(request):
    """Send each user to their home: HR to the dashboard, a leader to their unit, a trainee to their own page."""
    user = request.user
    if access.is_hr(user):
        return redirect("certifications:dashboard")
    unit = access.led_unit(user)
    if unit is not None:
        return redirect(unit)
    if access.user_worker(user) is not None:
        return redirect("certifications:me")
    if user.is_staff:
        # Training officers and assessors keep records in the admin; they have no page of their own here.
        return redirect("admin:index")
    return render(request, "certifications/progress/no_record.html")


def _worker_page(request, worker, *, own: bool):
    page = worker_pages.worker_progress_get(worker=worker, on=timezone.localdate())
    context = {"page": page, "own": own, "today": page.on}
    context.update(views_compliance.worker_clearance_context(worker=worker, on=page.on))
    if access.is_hr(request.user):
        # The audit trail is HR's: trainees and leaders see the records, not who corrected them.
        context["change_history"] = audit.worker_history_get(worker=worker)
    return render(request, "certifications/progress/worker_detail.html", context)


def me(request):
    """The logged-in worker's own page."""
    worker = access.user_worker(request.user)
    if worker is None:
        raise Http404("No worker is linked to this login.")
    return _worker_page(request, worker, own=True)


def worker_detail(request, employee_no):
    worker = access.worker_for_user_or_404(request.user, employee_no)
    own = worker.user_id == request.user.pk
    return _worker_page(request, worker, own=own)


def _sort_links(request, current: str) -> dict[str, dict]:
    """Return, per sortable column, the link that sorts by it and how it is sorted now."""
    links = {}
    params = request.GET.copy()
    params.pop("page", None)  # a new order starts again at its first page
    for _field, name in SORTS:
        if current == name:
            target, state = f"-{name}", "ascending"
        elif current == f"-{name}":
            target, state = name, "descending"
        else:
            target, state = name, None
        params["o"] = target
        links[name] = {"url": f"?{params.urlencode()}", "sort": state}
    return links


def unit_detail(request, code):
    unit = access.unit_for_user_or_404(request.user, code)
    on = timezone.localdate()
    units = access.subtree_units(unit)
    subtree = {u.pk for u in units}
    filterset = UnitWorkerFilter(
        request.GET or None,
        queryset=unit_pages.unit_workers_queryset(unit_ids=subtree, on=on),
        units=units,
    )
    try:
        package_id = int(request.GET.get("package", ""))
    except ValueError:
        package_id = None
    workers = filterset.qs
    if workers.query.order_by:
        # Sorting by hours or rank leaves ties; the primary key keeps each worker on one page.
        workers = workers.order_by(*workers.query.order_by, "pk")
    paginated = Paginator(workers, UNIT_PAGE_SIZE).get_page(request.GET.get("page"))
    page = unit_pages.unit_progress_get(
        unit=unit,
        unit_ids=subtree,
        workers=paginated.object_list,
        # On one page the shown workers are all the candidates: no need to count them again in SQL.
        candidates=filterset.qs if paginated.paginator.num_pages > 1 else None,
        candidate_count=paginated.paginator.count,
        on=on,
        package_id=package_id,
        # Workers who have left show in the matrix only when the status filter asks for them.
        include_departed=getattr(filterset.form, "cleaned_data", {}).get("status") == Worker.Status.LEFT,
    )
    views_compliance.attach_unit_clearance(page.rows, unit_ids=subtree, on=on)
    matrix_params = request.GET.copy()
    matrix_params.pop("package", None)
    page_params = request.GET.copy()
    page_params.pop("page", None)
    return render(
        request,
        "certifications/progress/unit_detail.html",
        {
            "page": page,
            "unit": unit,
            # The way up, only where the user may go: a crew leader's own unit has no link to the mine above.
            "parent_link": unit.parent
            if unit.parent_id and access.unit_visible(request.user, unit.parent_id)
            else None,
            "subunits": [u for u in units if u.parent_id == unit.pk],
            # The head count every page shows for this unit (the dashboard, the ledger): its active workers.
            "active_count": sum(measures.head_count_by_unit(Worker.objects.filter(unit_id__in=subtree)).values()),
            "filter": filterset,
            "sort_links": _sort_links(request, request.GET.get("o", "")),
            "matrix_params": matrix_params,
            "paginated": paginated,
            "page_query": page_params.urlencode(),
            "matrix_states": [
                {"state": s, "symbol": unit_pages.MATRIX_SYMBOLS[s], "label": label, "help": helps[s]}
                for helps in [unit_pages.matrix_state_help()]
                for s, label in unit_pages.matrix_state_labels().items()
            ],
            "today": on,
            # The appraisal sittings with candidates here: each one's results sheet, for this unit's candidates.
            "sittings": sitting_selectors.unit_sittings(unit_ids=subtree),
        },
    )


def dashboard(request):
    """HR's overview of every unit. A large mine's figures come from the background computation (figures.py)."""
    if not access.is_hr(request.user):
        raise Http404("No such page.")
    if request.method == "POST":  # "Recompute now"
        figures.dashboard_figures_schedule(force=True)
        messages.info(
            request, _("The figures are being recomputed in the background; this page shows them when they are ready.")
        )
        return redirect("certifications:dashboard")
    found, cached = figures.dashboard_figures_get(on=timezone.localdate())
    context = {"page": None, "windows": measures.DUE_WINDOWS, "today": timezone.localdate(), "figures_as_of": None}
    if found is not None:
        rows, depth = dashboard_pages.dashboard_rows(found.page.units, every="units" in request.GET)
        context.update(
            page=found.page,
            today=found.on,
            unit_rows=rows,
            unit_depth=depth,
            figures_as_of=found.computed_at if cached else None,
        )
        context.update(views_compliance.dashboard_compliance_context(figures=found))
    return render(request, "certifications/progress/dashboard.html", context)


# Pending awards per page of the approval page.
APPROVAL_PAGE_SIZE = 50


def award_approvals(request):
    """HR's approval page: the pending rank awards in words; approve or reject one, or a selection."""
    if not access.is_hr(request.user):
        raise Http404("No such page.")
    unit = access.unit_for_user_or_404(request.user, request.GET["unit"]) if request.GET.get("unit") else None
    unit_ids = access.unit_subtree_ids(unit) if unit is not None else None
    if request.method == "POST":
        return _award_decide(request)
    # ?award= (the results import's message): the awards that import proposed, wherever they fall in the list.
    record_ids = [int(pk) for pk in request.GET.getlist("award") if pk.isdecimal() and len(pk) <= 18] or None
    paginated = Paginator(
        approval_pages.pending_awards_queryset(unit_ids=unit_ids, record_ids=record_ids), APPROVAL_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    page_params = request.GET.copy()
    page_params.pop("page", None)
    return render(
        request,
        "certifications/progress/award_approvals.html",
        {
            "awards": approval_pages.award_words(list(paginated.object_list), user=request.user),
            "paginated": paginated,
            "page_query": page_params.urlencode(),
            "unit": unit,
            "only_these": record_ids is not None,
        },
    )


def _award_decide(request):
    """Approve or reject the award of one row's button, or the selected ones; a rejection needs a reason."""
    post = request.POST
    if post.get("approve") or post.get("reject"):
        approve = bool(post.get("approve"))
        record_ids = [post.get("approve") or post.get("reject")]
        reason = post.get(f"reason-{record_ids[0]}", "")
    else:
        approve = post.get("bulk") == "approve"
        record_ids = post.getlist("selected")
        reason = post.get("bulk_reason", "")
        if not record_ids:
            messages.error(request, _("Select the awards to approve or reject first."))
            return redirect(request.get_full_path())
    try:
        ids = [int(pk) for pk in record_ids]
    except (TypeError, ValueError):
        raise Http404("No such award.") from None
    try:
        records = rank_services.ranks_decide_many(record_ids=ids, approve=approve, user=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, _("Nothing was decided: %(reason)s") % {"reason": " ".join(error.messages)})
        return redirect(request.get_full_path())
    names = "; ".join(f"{r.worker.name} · {r.trade.name} · {r.rank.name}" for r in records)
    if approve:
        messages.success(request, _("Approved %(n)s award(s): %(names)s.") % {"n": len(records), "names": names})
    else:
        messages.success(request, _("Rejected %(n)s award(s): %(names)s.") % {"n": len(records), "names": names})
    return redirect(request.get_full_path())
