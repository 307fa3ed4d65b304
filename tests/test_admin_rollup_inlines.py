"""Results and attendance saved through the admin's inlines re-evaluate each affected worker once, after commit."""

from decimal import Decimal
from functools import partial

import pytest
from django.urls import reverse

from certifications.models import RankRecord
from certifications.ranks.services import ranks_recompute
from tests.factories import AttendanceFactory, ResultFactory
from tests.rollup_setup import trade_setup, worker_in

pytestmark = pytest.mark.django_db


def change_form_data(response) -> dict:
    """Return the POST data that saves a change page unchanged, inlines included."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None or value is False or value == "":
                continue
            if value is True:
                data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def recomputes(callbacks) -> list[list[int]]:
    """Return the worker ids of each re-evaluation scheduled among the on-commit callbacks."""
    return [sorted(c.keywords["worker_ids"]) for c in callbacks if isinstance(c, partial) and c.func is ranks_recompute]


def post(client, url, data):
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return response


def earner(setup, practical=True):
    worker = worker_in(setup)
    AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("75"))
    if practical:
        ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("80"))
    return worker


def test_results_added_in_a_sittings_inline_re_evaluate_each_worker_once_after_commit(
    hr_client, settings, django_capture_on_commit_callbacks
):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
    setup = trade_setup()
    first, second = earner(setup, practical=False), earner(setup, practical=False)
    url = reverse("admin:certifications_assessment_change", args=[setup.practical.pk])
    data = change_form_data(hr_client.get(url))
    data.update({"results-TOTAL_FORMS": "2"})
    for n, (worker, score) in enumerate([(first, "72"), (second, "41")]):
        data.update({f"results-{n}-worker": worker.pk, f"results-{n}-attempt": "1", f"results-{n}-score": score})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post(hr_client, url, data)
    assert recomputes(callbacks) == [sorted([first.pk, second.pk])]
    assert list(RankRecord.objects.filter(status="pending").values_list("worker_id", "rank_id")) == [
        (first.pk, setup.ranks[1].pk)
    ]


def test_a_score_corrected_in_the_inline_marks_the_award_resting_on_it_for_review(
    hr_client, settings, django_capture_on_commit_callbacks
):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker, bystander = earner(setup), earner(setup)
    ranks_recompute(worker_ids=[worker.pk, bystander.pk])
    url = reverse("admin:certifications_assessment_change", args=[setup.practical.pk])
    data = change_form_data(hr_client.get(url))
    row = next(k[: -len("-worker")] for k, v in data.items() if k.endswith("-worker") and v == str(worker.pk))
    data.update({f"{row}-score": "45", f"{row}-change_reason": "录入错误"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post(hr_client, url, data)
    assert recomputes(callbacks) == [[worker.pk]]
    record = RankRecord.objects.get(worker=worker, rank=setup.ranks[1])
    assert record.status == "awarded" and record.needs_review
    assert "score 80.0 → 45" in record.review_reason and "录入错误" in record.review_reason
    assert not RankRecord.objects.get(worker=bystander, rank=setup.ranks[1]).needs_review


def test_attendance_removed_in_a_classs_inline_marks_the_award_for_review_and_re_evaluates(
    hr_client, settings, django_capture_on_commit_callbacks
):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = earner(setup)
    ranks_recompute(worker_ids=[worker.pk])
    url = reverse("admin:training_trainingclass_change", args=[setup.training_class.pk])
    data = change_form_data(hr_client.get(url))
    data.update({"attendances-0-DELETE": "on", "attendances-0-change_reason": "不在本班"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post(hr_client, url, data)
    assert recomputes(callbacks) == [[worker.pk]]
    assert RankRecord.objects.get(worker=worker, rank=setup.ranks[1]).needs_review


def test_moving_a_class_re_evaluates_everyone_who_attended_it(hr_client, django_capture_on_commit_callbacks):
    setup = trade_setup()
    workers = [earner(setup) for _ in range(3)]
    url = reverse("admin:training_trainingclass_change", args=[setup.training_class.pk])
    data = change_form_data(hr_client.get(url))
    data.update({"start": "2026-03-09", "end": "2026-03-13"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(hr_client, url, data)
    assert recomputes(callbacks) == [sorted(w.pk for w in workers)]


def test_saving_a_sitting_unchanged_re_evaluates_nobody(hr_client, django_capture_on_commit_callbacks):
    setup = trade_setup()
    earner(setup)
    url = reverse("admin:certifications_assessment_change", args=[setup.practical.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(hr_client, url, change_form_data(hr_client.get(url)))
    assert recomputes(callbacks) == []
