"""
The HR dashboard's figures for a large mine, computed in the background.

Every dashboard figure is a mine-wide aggregate: the training figures sum every
worker's hours, exams, ranks and certificates, and clearance decides every
worker in Python (about 0.3 ms each). From CACHE_FROM_WORKERS active workers
on, a task computes them all (`dashboard_figures_task`: nightly through
`manage.py refresh_dashboard`, after a results import, on a new day, or when HR
asks) and keeps them in the cache with the time they were computed; a request
only reads them and says "as of" when. A smaller mine is computed live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from certifications.clearance import facts as compliance
from certifications.clearance.forecast import Forecast, recertification_forecast
from certifications.progress.dashboard import Dashboard, dashboard_get
from core.signals import figures_stale
from training.models import Worker

CACHE_FROM_WORKERS = 2000
CACHE_KEY = "kuangjiang:dashboard-figures"
# Kept until replaced: yesterday's figures with their "as of" time beat an empty page while the task runs.
CACHE_TIMEOUT = 14 * 24 * 3600
# One queued refresh at a time: every visit of a stale page would otherwise queue another.
QUEUED_KEY = "kuangjiang:dashboard-figures-queued"
QUEUED_TIMEOUT = 15 * 60


@dataclass
class DashboardFigures:
    """Everything the dashboard shows, as computed at one moment."""

    page: Dashboard
    compliance: dict[int, compliance.UnitCompliance]
    forecast: Forecast
    computed_at: dt.datetime

    @property
    def on(self) -> dt.date:
        return self.page.on

    @property
    def workers(self) -> int:
        return self.page.total.workers if self.page.total else 0


def dashboard_figures_compute(*, on: dt.date | None = None) -> DashboardFigures:
    """Compute every dashboard figure for the whole mine now (seconds to minutes for a large mine)."""
    on = on or timezone.localdate()
    return DashboardFigures(
        page=dashboard_get(on=on),
        compliance=compliance.unit_compliance_get(on=on),
        forecast=recertification_forecast(on=on),
        computed_at=timezone.now(),
    )


def dashboard_figures_refresh(*, on: dt.date | None = None) -> DashboardFigures:
    """Compute the dashboard figures and keep them in the cache for the pages that follow."""
    figures = dashboard_figures_compute(on=on)
    cache.set(CACHE_KEY, figures, CACHE_TIMEOUT)
    cache.delete(QUEUED_KEY)
    return figures


def dashboard_figures_schedule(*, force: bool = False) -> bool:
    """Queue one background refresh of the dashboard figures; return False when one is already queued."""
    if force:
        cache.delete(QUEUED_KEY)
    if not cache.add(QUEUED_KEY, timezone.now(), QUEUED_TIMEOUT):
        return False
    try:
        dashboard_figures_task.enqueue()
    except Exception:
        cache.delete(QUEUED_KEY)  # so the next visit tries again
        raise
    return True


def dashboard_figures_get(*, on: dt.date | None = None) -> tuple[DashboardFigures | None, bool]:
    """
    Return (figures, cached): a large mine's figures from the cache (None while
    the first computation runs), queuing a refresh when they are from an
    earlier day; a small mine's computed now.
    """
    on = on or timezone.localdate()
    figures = cache.get(CACHE_KEY)
    if figures is None or figures.workers < CACHE_FROM_WORKERS:
        # No figures yet, or the last ones were for a small mine: count before deciding.
        if Worker.objects.exclude(status=Worker.Status.LEFT).count() < CACHE_FROM_WORKERS:
            return dashboard_figures_compute(on=on), False
        if figures is None:
            dashboard_figures_schedule()
            # A task backend that runs tasks at once (tests, or no worker configured) has filled the cache.
            return cache.get(CACHE_KEY), True
    if figures.on != on:
        dashboard_figures_schedule()
        figures = cache.get(CACHE_KEY) or figures
    return figures, True


def dashboard_figures_invalidate() -> None:
    """Queue a refresh after data changed in bulk (an import): the cached figures stay on show until it is done."""
    if cache.get(CACHE_KEY) is not None:
        dashboard_figures_schedule(force=True)


@task()
def dashboard_figures_task() -> str:
    """Recompute the HR dashboard's figures for the whole mine and keep them in the cache."""
    figures = dashboard_figures_refresh()
    return figures.computed_at.isoformat()


@receiver(figures_stale)
def _figures_stale(**kwargs) -> None:
    dashboard_figures_invalidate()
