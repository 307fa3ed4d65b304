"""
Appraisal sittings (考核批次): one object per exam event, which creates its theory and practical
assessments with the pass marks of the rule set in force, and a roster filled by hand, by unit, from
a class's attendance or with the workers for whom the roll-up says the exam is what is missing.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from certifications.models import Assessment, Sitting, SittingCandidate
from certifications.sittings import selectors
from certifications.sittings.services import candidates_add, sitting_delete, sitting_save
from core.writes import WrittenOutsideDoor, strict_doors
from tests import factories as f
from tests.rollup_setup import trade_setup, worker_in
from tests.test_admin_rollup_inlines import change_form_data
from training import roles
from training.models import Worker

pytestmark = pytest.mark.django_db

THEORY_DAY = dt.date(2026, 9, 5)
PRACTICAL_DAY = dt.date(2026, 9, 12)


@pytest.fixture
def setup():
    setup = trade_setup()
    setup.rule_set.theory_pass_mark = Decimal("70")
    setup.rule_set.practical_pass_mark = Decimal("65")
    setup.rule_set.save()
    # A later version, not yet in force on the exam days: its pass marks must not be taken.
    f.RuleSetFactory(
        package=setup.package,
        name="2030 标准",
        effective_from=dt.date(2030, 1, 1),
        theory_pass_mark=Decimal("90"),
        practical_pass_mark=Decimal("90"),
    )
    return setup


def new_sitting(setup, **kwargs) -> Sitting:
    fields = {
        "name": "综采维修电工中级工鉴定",
        "trade": setup.trade,
        "rank": setup.ranks[1],
        "theory_on": THEORY_DAY,
        "practical_on": PRACTICAL_DAY,
        **kwargs,
    }
    return sitting_save(Sitting(**fields))


# --- the sitting and its assessments ---------------------------------------------------------------------


def test_a_sitting_creates_its_theory_and_practical_assessments_with_the_rule_sets_pass_marks(setup):
    sitting = new_sitting(setup)

    assert sitting.code.startswith("KP2026")
    theory, practical = sitting.theory, sitting.practical
    assert (theory.kind, theory.held_on, theory.pass_mark) == ("theory", THEORY_DAY, Decimal("70"))
    assert (practical.kind, practical.held_on, practical.pass_mark) == ("practical", PRACTICAL_DAY, Decimal("65"))
    for assessment in (theory, practical):
        assert (assessment.trade, assessment.rank) == (setup.trade, setup.ranks[1])
        assert assessment.code.startswith(sitting.code)
    assert (sitting.theory_pass_mark, sitting.practical_pass_mark) == (Decimal("70"), Decimal("65"))
    assert sitting.history.count() == 1


def test_the_pass_marks_are_scaled_to_the_full_marks_and_stay_editable(setup):
    sitting = new_sitting(setup, theory_full_marks=Decimal("50"), practical_pass_mark=Decimal("80"))

    assert sitting.theory.full_marks == Decimal("50")
    assert sitting.theory.pass_mark == Decimal("35")
    assert sitting.practical.pass_mark == Decimal("80"), "HR's own pass mark is kept"


def test_a_special_operation_sitting_passes_at_eighty():
    operation = f.SpecialOperationFactory()
    sitting = sitting_save(Sitting(name="电工作业", special_operation=operation, theory_on=THEORY_DAY))

    assert sitting.theory.pass_mark == Decimal("80")
    assert sitting.practical is None


def test_a_sitting_with_one_date_has_one_assessment_and_gains_the_other_with_its_date(setup):
    sitting = new_sitting(setup, practical_on=None)
    assert sitting.theory is not None and sitting.practical is None

    sitting.practical_on = PRACTICAL_DAY
    sitting_save(sitting)
    sitting.refresh_from_db()
    assert sitting.practical.held_on == PRACTICAL_DAY
    assert Assessment.objects.filter(code__startswith=sitting.code).count() == 2


def test_removing_a_date_removes_an_unused_assessment_but_never_one_with_results(setup):
    sitting = new_sitting(setup)
    worker = worker_in(setup)
    f.ResultFactory(assessment=sitting.practical, worker=worker, score=Decimal("70"))

    theory_pk = sitting.theory.pk
    sitting.theory_on = None
    sitting_save(sitting)
    assert not Assessment.objects.filter(pk=theory_pk).exists()

    sitting.theory_on, sitting.practical_on = THEORY_DAY, None
    with pytest.raises(ValidationError, match="has results"):
        sitting_save(sitting)


def test_a_sitting_links_an_assessment_that_already_exists(setup):
    sitting = new_sitting(setup, theory=setup.theory, theory_on=setup.theory.held_on)

    assert sitting.theory.pk == setup.theory.pk
    assert Assessment.objects.get(pk=setup.theory.pk).pass_mark == Decimal("70")


def test_a_sitting_needs_a_subject_and_a_date(setup):
    with pytest.raises(ValidationError):
        sitting_save(Sitting(name="无主题", theory_on=THEORY_DAY))
    with pytest.raises(ValidationError):
        sitting_save(Sitting(name="无日期", trade=setup.trade, rank=setup.ranks[1]))
    assert not Sitting.objects.exists()


def test_a_sitting_is_written_only_through_its_service(setup):
    worker = worker_in(setup)
    with strict_doors():
        sitting = new_sitting(setup)
        candidates_add(sitting=sitting, worker_ids=[worker.pk])
        with pytest.raises(WrittenOutsideDoor):
            Sitting.objects.create(name="旁路", trade=setup.trade, rank=setup.ranks[1], theory_on=THEORY_DAY)


def test_a_sitting_without_results_is_deleted_with_its_roster_and_assessments(setup):
    sitting = new_sitting(setup)
    candidates_add(sitting=sitting, worker_ids=[worker_in(setup).pk])
    codes = [sitting.theory.code, sitting.practical.code]

    sitting_delete(sitting=sitting, user=None)

    assert not Sitting.objects.exists() and not SittingCandidate.objects.exists()
    assert not Assessment.objects.filter(code__in=codes).exists()


# --- the roster adders -------------------------------------------------------------------------------------


def test_adding_by_unit_takes_its_crews_and_only_the_workers_of_the_trade(setup):
    sitting = new_sitting(setup)
    dept = f.UnitFactory(code="ZC", kind="department")
    crew = f.UnitFactory(code="ZC-1", parent=dept)
    in_crew = worker_in(setup, f.WorkerFactory(unit=crew))
    in_dept = worker_in(setup, f.WorkerFactory(unit=dept))
    other_trade = f.WorkerFactory(unit=crew)
    gone = worker_in(setup, f.WorkerFactory(unit=crew, status=Worker.Status.LEFT))
    elsewhere = worker_in(setup, f.WorkerFactory(unit=f.UnitFactory(code="JJ")))

    ids = selectors.unit_candidate_ids(sitting=sitting, unit=dept)

    assert set(ids) == {in_crew.pk, in_dept.pk}
    assert not {other_trade.pk, gone.pk, elsewhere.pk} & set(ids)
    assert candidates_add(sitting=sitting, worker_ids=ids, source="unit") == 2
    assert candidates_add(sitting=sitting, worker_ids=ids, source="unit") == 0, "nobody is added twice"
    assert selectors.unit_candidate_ids(sitting=sitting, unit=dept) == []


def test_adding_from_a_class_takes_those_who_attended_it(setup):
    sitting = new_sitting(setup)
    attended = [worker_in(setup) for _ in range(2)]
    for worker in attended:
        f.AttendanceFactory(training_class=setup.training_class, worker=worker)
    worker_in(setup)  # did not attend

    ids = selectors.class_candidate_ids(sitting=sitting, training_class=setup.training_class)

    assert ids == sorted(w.pk for w in attended)


@pytest.fixture
def ready_world(setup):
    def trained(**kwargs):
        worker = worker_in(setup, f.WorkerFactory(**kwargs))
        f.AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
        return worker

    only_exams = trained(name="缺考试")
    theory_passed = trained(name="缺实操")
    f.ResultFactory(assessment=setup.theory, worker=theory_passed, score=Decimal("80"))
    both_passed = trained(name="都通过")
    f.ResultFactory(assessment=setup.theory, worker=both_passed, score=Decimal("80"))
    f.ResultFactory(assessment=setup.practical, worker=both_passed, score=Decimal("80"))
    untrained = worker_in(setup, f.WorkerFactory(name="缺培训"))
    failed_too_low = trained(name="低于及格线")
    f.ResultFactory(assessment=setup.theory, worker=failed_too_low, score=Decimal("65"))  # 65 < the rule set's 70
    return {
        "ready": [only_exams, theory_passed, failed_too_low],
        "not ready": [both_passed, untrained],
    }


def test_ready_for_the_rank_are_only_the_workers_for_whom_the_exam_is_what_is_missing(setup, ready_world):
    sitting = new_sitting(setup)

    ids = selectors.ready_candidate_ids(sitting=sitting)

    assert ids == sorted(w.pk for w in ready_world["ready"])


def test_the_ready_picker_offers_them_on_the_sitting_page_and_adds_the_ticked_ones(setup, ready_world, hr_client):
    sitting = new_sitting(setup)
    url = reverse("admin:certifications_sitting_change", args=[sitting.pk])
    response = hr_client.get(url)
    assert response.status_code == 200
    offered = {w.pk for w in response.context["adminform"].form.fields["add_ready"].queryset}
    assert offered == {w.pk for w in ready_world["ready"]}
    body = response.content.decode()
    assert ready_world["ready"][0].name in body and ready_world["not ready"][1].name not in body

    data = change_form_data(response)
    data["add_ready"] = [str(ready_world["ready"][0].pk)]
    with strict_doors():
        response = hr_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    roster = list(sitting.candidates.values_list("worker_id", "source"))
    assert roster == [(ready_world["ready"][0].pk, "ready")]
    assert sitting.candidates.get().history.first().history_change_reason


def test_hr_creates_a_sitting_with_the_workers_of_a_unit_in_the_admin(setup, hr_client):
    unit = f.UnitFactory(code="ZC9")
    workers = [worker_in(setup, f.WorkerFactory(unit=unit)) for _ in range(3)]
    examiner = f.UserFactory(username="examiner", is_staff=True)
    data = {
        "name": "综采维修电工中级工鉴定",
        "trade": setup.trade.pk,
        "rank": setup.ranks[1].pk,
        "theory_on": "2026-09-05",
        "practical_on": "2026-09-12",
        "theory_full_marks": "100",
        "practical_full_marks": "100",
        "examiners": [examiner.pk],
        "add_unit": unit.pk,
        "candidates-TOTAL_FORMS": "0",
        "candidates-INITIAL_FORMS": "0",
    }
    with strict_doors():
        response = hr_client.post(reverse("admin:certifications_sitting_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    sitting = Sitting.objects.get()
    assert sorted(sitting.candidates.values_list("worker_id", flat=True)) == sorted(w.pk for w in workers)
    assert sitting.theory.pass_mark == Decimal("70")
    assert list(sitting.theory.examiners.all()) == [examiner]
    assert list(sitting.practical.examiners.all()) == [examiner]


def test_the_sitting_admin_pages_answer_hr_and_refuse_others(setup, hr_client, client):
    sitting = new_sitting(setup)
    candidates_add(sitting=sitting, worker_ids=[worker_in(setup).pk])
    urls = [
        reverse("admin:certifications_sitting_changelist"),
        reverse("admin:certifications_sitting_changelist") + f"?q={sitting.candidates.get().worker.employee_no}",
        reverse("admin:certifications_sitting_add"),
        reverse("admin:certifications_sitting_change", args=[sitting.pk]),
        reverse("admin:certifications_sitting_history", args=[sitting.pk]),
    ]
    for url in urls:
        assert hr_client.get(url).status_code == 200, url
    officer = f.UserFactory(username="officer", role=roles.OFFICER, is_staff=True)
    client.force_login(officer)
    for url in urls:
        assert client.get(url).status_code == 403, url
    trainee = f.UserFactory(username="trainee", role=roles.TRAINEE)
    client.force_login(trainee)
    assert client.get(reverse("certifications:sitting-sheet", args=[sitting.pk])).status_code == 403


def test_the_changelist_costs_the_same_queries_for_few_and_many_sittings(
    setup, hr_client, django_assert_max_num_queries
):
    url = reverse("admin:certifications_sitting_changelist")
    new_sitting(setup)
    hr_client.get(url)
    with django_assert_max_num_queries(12):
        assert hr_client.get(url).status_code == 200
    for n in range(8):
        new_sitting(setup, name=f"批次{n}")
    with django_assert_max_num_queries(12):
        assert hr_client.get(url).status_code == 200


def test_a_candidate_added_by_hand_on_the_sitting_page_goes_through_the_door_with_a_reason(setup, hr_client):
    sitting = new_sitting(setup)
    worker = worker_in(setup)
    url = reverse("admin:certifications_sitting_change", args=[sitting.pk])
    data = change_form_data(hr_client.get(url))
    data.update({"candidates-TOTAL_FORMS": "1", "candidates-0-worker": str(worker.pk), "candidates-0-remarks": "补考"})
    with strict_doors():
        response = hr_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    line = sitting.candidates.get()
    assert (line.worker, line.source, line.remarks) == (worker, "manual", "补考")
    assert line.history.get().history_change_reason == "Added by hand"


def test_a_candidate_removed_on_the_sitting_page_goes_through_the_door(setup, hr_client):
    sitting = new_sitting(setup)
    candidates_add(sitting=sitting, worker_ids=[worker_in(setup).pk, worker_in(setup).pk])
    url = reverse("admin:certifications_sitting_change", args=[sitting.pk])
    data = change_form_data(hr_client.get(url))
    data["candidates-0-DELETE"] = "on"
    with strict_doors():
        response = hr_client.post(url, data)
    assert response.status_code == 302
    assert sitting.candidates.count() == 1
    removed = SittingCandidate.history.filter(history_type="-").get()
    assert removed.history_change_reason and removed.history_user.username == "hr-user"


def test_hr_deletes_a_sitting_without_results_but_not_one_with_results(setup, hr_client):
    empty, used = new_sitting(setup), new_sitting(setup, name="已考")
    f.ResultFactory(assessment=used.theory, worker=worker_in(setup), score=Decimal("70"))
    for sitting, allowed in ((empty, True), (used, False)):
        url = reverse("admin:certifications_sitting_delete", args=[sitting.pk])
        with strict_doors():
            response = hr_client.post(url, {"post": "yes"})
        assert (response.status_code == 302) is allowed, response.status_code
        assert Sitting.objects.filter(pk=sitting.pk).exists() is not allowed


def test_a_code_that_the_sheets_title_row_would_split_is_refused(setup):
    with pytest.raises(ValidationError, match="code"):
        new_sitting(setup, code="KP 2026·01")
    assert new_sitting(setup, code="2026-技能鉴定-01").code == "2026-技能鉴定-01"


def test_the_list_action_adds_the_workers_ready_for_each_selected_sitting(setup, ready_world, hr_client):
    sitting = new_sitting(setup)
    url = reverse("admin:certifications_sitting_changelist")
    with strict_doors():
        response = hr_client.post(url, {"action": "add_ready_workers", "_selected_action": [sitting.pk]})
    assert response.status_code == 302
    assert sorted(sitting.candidates.values_list("worker_id", flat=True)) == sorted(w.pk for w in ready_world["ready"])
    assert set(sitting.candidates.values_list("source", flat=True)) == {"ready"}
