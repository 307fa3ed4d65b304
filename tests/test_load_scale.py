"""The synthetic mining group used by the benchmarks."""

import pytest
from django.core.management import call_command

from certifications.models import AssessmentResult, RankRecord
from certifications.ranks.services import ranks_recompute
from demo.scale import scale_load
from training.models import Attendance, Worker

pytestmark = pytest.mark.django_db


def test_it_builds_workers_with_about_ten_attendance_rows_and_twenty_results_each():
    summary = scale_load(workers=40, seed=1)
    assert summary.workers == Worker.objects.count() == 40
    assert 8 * 40 <= Attendance.objects.count() == summary.attendance <= 10 * 40
    assert 15 * 40 <= AssessmentResult.objects.count() == summary.results <= 25 * 40
    for worker in Worker.objects.all()[:5]:
        worker.full_clean()
    for result in AssessmentResult.objects.select_related("assessment")[:20]:
        result.full_clean()


def test_the_same_seed_builds_the_same_group():
    first = scale_load(workers=15, seed=7, prefix="A")
    second = scale_load(workers=15, seed=7, prefix="B")
    assert first == second


def test_recomputing_the_synthetic_group_twice_changes_nothing_the_second_time():
    scale_load(workers=60, seed=3)
    first = ranks_recompute()
    assert first.pending > 0
    assert ranks_recompute().changes == []
    assert RankRecord.objects.filter(status="pending").count() == first.pending


def test_the_command_prints_what_it_loaded(capsys):
    call_command("load_scale", "--workers", "5", "--seed", "2")
    assert "workers 5" in capsys.readouterr().out
