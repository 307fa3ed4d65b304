"""
Reads of the practical scoring sheets: the scheme a sitting is scored against,
the assessor's tablet data (sittings, rosters, schemes, their sheets) and a
worker's sheets as evidence, each in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet

from certifications.models import ScoreDeduction, ScoringItem, ScoringScheme, ScoringSheet, Sitting, SittingCandidate
from training.models import Worker


def scheme_in_force(schemes: list[ScoringScheme], sitting: Sitting) -> ScoringScheme | None:
    """
    Return the scheme of the sitting's practical assessment, else the trade × rank scheme in force on its
    practical date (the latest effective on or before it). `schemes`: candidates, any order.
    """
    if sitting.practical_id is None:
        return None
    own = [s for s in schemes if s.assessment_id == sitting.practical_id]
    if own:
        return max(own, key=lambda s: (s.effective_from, s.pk))
    day = sitting.practical_on or dt.date.max
    general = [
        s
        for s in schemes
        if s.assessment_id is None
        and s.trade_id == sitting.trade_id
        and s.rank_id == sitting.rank_id
        and s.trade_id is not None
        and s.effective_from <= day
    ]
    return max(general, key=lambda s: (s.effective_from, s.pk)) if general else None


def _schemes_for(sittings: list[Sitting]) -> list[ScoringScheme]:
    if not sittings:
        return []
    q = Q(assessment_id__in=[s.practical_id for s in sittings])
    for trade_id, rank_id in {(s.trade_id, s.rank_id) for s in sittings if s.trade_id}:
        q |= Q(assessment__isnull=True, trade_id=trade_id, rank_id=rank_id)
    items = Prefetch("items", queryset=ScoringItem.objects.order_by("order", "id"))
    return list(ScoringScheme.objects.filter(q).prefetch_related(items))


def sitting_scheme_get(sitting: Sitting) -> ScoringScheme | None:
    """Return the scheme a sitting's practical assessment is scored against, with its items."""
    return scheme_in_force(_schemes_for([sitting]), sitting)


def examined_sittings(user: AbstractBaseUser) -> QuerySet[Sitting]:
    """The sittings with a practical assessment that this user examines."""
    return (
        Sitting.objects.filter(examiners=user, practical__isnull=False)
        .select_related("practical", "trade", "rank")
        .order_by("-practical_on", "code")
    )


def tablet_data_get(*, user: AbstractBaseUser) -> dict:
    """
    Return what the tablet keeps offline for this assessor: their sittings, each with its roster and scheme,
    and the sheets they have sent (id and server version). Five queries, whatever the numbers.
    """
    sittings = list(examined_sittings(user))
    schemes = _schemes_for(sittings)
    roster = defaultdict(list)
    for place in (
        SittingCandidate.objects.filter(sitting__in=sittings)
        .select_related("worker__unit")
        .order_by("worker__employee_no")
    ):
        w = place.worker
        roster[place.sitting_id].append(
            {"employee_no": w.employee_no, "name": w.name, "unit": w.unit.name if w.unit_id else ""}
        )
    used = {}
    out_sittings = []
    for sitting in sittings:
        scheme = scheme_in_force(schemes, sitting)
        if scheme is not None:
            used[scheme.pk] = scheme
        out_sittings.append(
            {
                "id": sitting.pk,
                "code": sitting.code,
                "name": sitting.name,
                "on": sitting.practical_on.isoformat() if sitting.practical_on else "",
                "venue": sitting.venue,
                "full_marks": str(sitting.practical.full_marks),
                "pass_mark": str(sitting.practical.pass_mark),
                "scheme": scheme.pk if scheme else None,
                "candidates": roster.get(sitting.pk, []),
            }
        )
    sheets = ScoringSheet.objects.filter(assessor=user).values_list("uuid", "version", "status")
    return {
        "sittings": out_sittings,
        "schemes": [scheme_json(s) for s in used.values()],
        "sheets": [{"uuid": str(u), "version": v, "status": st} for u, v, st in sheets],
    }


def scheme_json(scheme: ScoringScheme) -> dict:
    """A scheme and its items as the tablet reads them."""
    return {
        "id": scheme.pk,
        "name": scheme.name,
        "effective_from": scheme.effective_from.isoformat(),
        "time_limit_minutes": scheme.time_limit_minutes,
        "items": [
            {
                "id": i.pk,
                "name": i.name,
                "content": i.content,
                "points": str(i.points),
                "criteria": i.criteria,
                "per_mistake": str(i.per_mistake),
                "per_minute_over": str(i.per_minute_over),
                "time_limit_minutes": i.time_limit_minutes,
                "critical": i.critical,
            }
            for i in scheme.items.all()
        ],
    }


def sheets_queryset() -> QuerySet[ScoringSheet]:
    """Sheets with what their evidence shows: scheme, critical item, assessor, deductions with their items."""
    return ScoringSheet.objects.select_related(
        "sitting", "assessment", "scheme", "critical_item", "assessor", "worker"
    ).prefetch_related(
        Prefetch(
            "deductions", queryset=ScoreDeduction.objects.select_related("item").order_by("item__order", "item_id")
        ),
        Prefetch("scheme__items", queryset=ScoringItem.objects.order_by("order", "id")),
    )


def worker_sheets_get(*, worker: Worker) -> list[ScoringSheet]:
    """A worker's scoring sheets, newest first, as evidence on their page (two queries)."""
    return list(sheets_queryset().filter(worker=worker).order_by("-created_at", "-id"))
