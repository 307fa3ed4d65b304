"""
One door per write (core/writes.py): every route that writes results, attendance, reviews, rank records or
certificates goes through the concern's door and has the same effects: a reason on the audit trail, the awards
resting on corrected evidence flagged for HR review, one re-evaluation after commit, fresh dashboard figures.
Each route runs under strict_doors(), where any save or delete of those models outside their door is an error.
The meta-tests walk the admin registry, the import resources and the app code for a write that bypasses a door.
"""

import ast
import datetime as dt
import pathlib
from decimal import Decimal
from functools import partial

import pytest
import tablib
from django.contrib import admin
from django.urls import reverse
from import_export import resources as ie_resources

from certifications.models import AssessmentResult, Certificate, ComprehensiveReview, RankRecord
from certifications.ranks import services
from certifications.spreadsheets.resources import AssessmentResultResource
from core.importexport import KuangjiangResource
from core.writes import DOORS, Door, WrittenOutsideDoor, door_of, strict_doors
from tests import factories as f
from tests.rollup_setup import trade_setup, worker_in
from tests.spreadsheet_builders import xlsx_bytes
from tests.test_admin_rollup_inlines import change_form_data
from training.admin_mixins import DoorAdminMixin, DoorDeleteAdminMixin, DoorInlinesMixin, SoftDeleteAdminMixin
from training.models import Attendance
from training.resources import AttendanceResource

pytestmark = pytest.mark.django_db

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOOR_MODELS = {"certifications.assessmentresult", "training.attendance", "certifications.comprehensivereview"}
DOOR_MODELS |= {"certifications.rankrecord", "certifications.certificate", "certifications.certificatereview"}
DOOR_MODELS |= {"certifications.sitting", "certifications.sittingcandidate"}


def recomputes(callbacks) -> list[list[int]]:
    return [
        sorted(c.keywords["worker_ids"])
        for c in callbacks
        if isinstance(c, partial) and c.func is services.ranks_recompute
    ]


@pytest.fixture
def awarded(settings):
    """A worker holding 中级工 by the engine, resting on attendance, a theory and a practical result."""
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = worker_in(setup)
    attendance = f.AttendanceFactory(
        training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8
    )
    theory = f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("75"))
    practical = f.ResultFactory(assessment=setup.practical, worker=worker, score=Decimal("80"))
    services.ranks_recompute(worker_ids=[worker.pk])
    record = RankRecord.objects.get(worker=worker, rank=setup.ranks[1], status="awarded")
    return setup, worker, attendance, theory, practical, record


def assert_flagged(record, *fragments):
    record.refresh_from_db()
    assert record.status == "awarded", "a correction never revokes an award"
    assert record.needs_review
    for fragment in fragments:
        assert fragment in record.review_reason


def last_reason(instance) -> str:
    return instance.history.order_by("-history_id").first().history_change_reason or ""


# --- results ---------------------------------------------------------------------------------------------------


def test_the_admin_form_correcting_a_score(hr_client, awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, theory, _practical, record = awarded
    url = reverse("admin:certifications_assessmentresult_change", args=[theory.pk])
    data = change_form_data(hr_client.get(url))
    data.update(score="40", change_reason="阅卷错误")
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = hr_client.post(url, data)
    assert response.status_code == 302
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "75", "40", "阅卷错误")
    assert last_reason(AssessmentResult.objects.get(pk=theory.pk)) == "阅卷错误"


def test_the_sittings_inline_correcting_a_score(hr_client, awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, theory, _practical, record = awarded
    url = reverse("admin:certifications_assessment_change", args=[setup.theory.pk])
    data = change_form_data(hr_client.get(url))
    row = next(k[: -len("-worker")] for k, v in data.items() if k.endswith("-worker") and v == str(worker.pk))
    data.update({f"{row}-score": "40", f"{row}-change_reason": "阅卷错误"})
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert hr_client.post(url, data).status_code == 302
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "75", "40", "阅卷错误")
    assert last_reason(AssessmentResult.objects.get(pk=theory.pk)) == "阅卷错误"


def test_the_generic_spreadsheet_import_correcting_a_score(hr_user, awarded, django_capture_on_commit_callbacks):
    # The defect this door closes: 75 → 40 by the generic import left the award unflagged and unevaluated.
    setup, worker, _attendance, theory, _practical, record = awarded
    dataset = tablib.Dataset(
        [setup.theory.code, worker.employee_no, worker.name, 1, 40, "", ""],
        headers=["Assessment", "Employee number", "Name", "Attempt", "Score", "Absent", "Remarks"],
    )
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = AssessmentResultResource().import_data(dataset, dry_run=False, user=hr_user)
    assert not result.has_errors() and not result.has_validation_errors()
    assert AssessmentResult.objects.get(pk=theory.pk).score == 40
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "75", "40")
    assert last_reason(AssessmentResult.objects.get(pk=theory.pk)) == "Imported from a spreadsheet"


def test_the_generic_import_of_an_unchanged_row_flags_nothing(hr_user, awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, theory, _practical, record = awarded
    dataset = tablib.Dataset(
        [setup.theory.code, worker.employee_no, worker.name, 1, 75, "", ""],
        headers=["Assessment", "Employee number", "Name", "Attempt", "Score", "Absent", "Remarks"],
    )
    with strict_doors(), django_capture_on_commit_callbacks(execute=True):
        AssessmentResultResource().import_data(dataset, dry_run=False, user=hr_user)
    record.refresh_from_db()
    assert not record.needs_review


def test_the_results_import_re_evaluates_once_with_a_reason(hr_user, settings, django_capture_on_commit_callbacks):
    from certifications.spreadsheets.results import results_import

    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
    setup = trade_setup()
    worker = worker_in(setup)
    f.AttendanceFactory(training_class=setup.training_class, worker=worker, theory_hours=8, practical_hours=8)
    f.ResultFactory(assessment=setup.theory, worker=worker, score=Decimal("70"))
    sheet = xlsx_bytes(
        [
            ["工号", "姓名", "考核编号", "实操成绩", "日期"],
            [worker.employee_no, worker.name, setup.practical.code, 80, setup.practical.held_on.isoformat()],
        ]
    )
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        results_import(sheet, user=hr_user, filename="exam.xlsx")
    assert recomputes(callbacks) == [[worker.pk]]
    new = AssessmentResult.objects.get(assessment=setup.practical, worker=worker)
    assert last_reason(new) == "import exam.xlsx"
    assert RankRecord.objects.filter(worker=worker, status="pending").exists()


def test_deleting_a_result_in_the_admin(hr_client, awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, theory, _practical, record = awarded
    url = reverse("admin:certifications_assessmentresult_delete", args=[theory.pk])
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = hr_client.post(url, {"post": "yes", "delete_reason": "重复录入"})
    assert response.status_code == 302
    assert AssessmentResult.all_objects.get(pk=theory.pk).deleted_at is not None
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "deleted", "重复录入")


def test_restoring_a_deleted_result_re_evaluates(hr_client, awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, theory, _practical, _record = awarded
    services.result_delete(result=theory, user=None, reason="误删")
    url = reverse("admin:certifications_assessmentresult_changelist")
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        hr_client.post(
            url + "?deleted=yes",
            {"action": "restore_selected", "_selected_action": [theory.pk], "apply": "1", "restore_reason": "恢复"},
        )
    assert AssessmentResult.objects.filter(pk=theory.pk).exists()
    assert recomputes(callbacks) == [[worker.pk]]


def test_the_service_correcting_a_score(awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, theory, _practical, record = awarded
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.result_correct(result=theory, score=Decimal("40"), reason="复核", corrected_by=f.UserFactory())
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "75", "40", "复核")


# --- attendance ------------------------------------------------------------------------------------------------


def test_the_admin_form_correcting_hours(hr_client, awarded, django_capture_on_commit_callbacks):
    setup, worker, attendance, _theory, _practical, record = awarded
    url = reverse("admin:training_attendance_change", args=[attendance.pk])
    data = change_form_data(hr_client.get(url))
    data.update(theory_hours="2", change_reason="签到表更正")
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert hr_client.post(url, data).status_code == 302
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "签到表更正")
    assert last_reason(Attendance.objects.get(pk=attendance.pk)) == "签到表更正"


def test_the_generic_import_correcting_hours(hr_user, awarded, django_capture_on_commit_callbacks):
    setup, worker, attendance, _theory, _practical, record = awarded
    dataset = tablib.Dataset(
        [setup.training_class.code, worker.employee_no, worker.name, 2, 8, ""],
        headers=[
            "Class code",
            "Employee number",
            "Name",
            "Theory hours attended",
            "Practical hours attended",
            "Remarks",
        ],
    )
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = AttendanceResource().import_data(dataset, dry_run=False, user=hr_user)
    assert not result.has_errors() and not result.has_validation_errors()
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "8", "2")


def test_the_service_recording_hours(awarded, django_capture_on_commit_callbacks):
    from training.services import attendance_record

    setup, worker, _attendance, _theory, _practical, record = awarded
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        attendance_record(
            training_class=setup.training_class,
            worker=worker,
            theory_hours=Decimal("1"),
            practical_hours=Decimal("8"),
            reason="补录",
        )
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "补录")


# --- reviews, rank records, certificates -------------------------------------------------------------------------


def test_the_admin_form_correcting_a_review_outcome(hr_client, settings, django_capture_on_commit_callbacks):
    settings.KUANGJIANG = {**settings.KUANGJIANG, "RANK_AWARD_MODE": "auto"}
    setup = trade_setup()
    worker = worker_in(setup)
    review = ComprehensiveReview.objects.create(
        worker=worker, trade=setup.trade, rank=setup.ranks[1], held_on=dt.date(2026, 3, 1), passed=True
    )
    record = f.RankRecordFactory(
        worker=worker, trade=setup.trade, rank=setup.ranks[1], status="awarded", evidence={"reviews": [review.pk]}
    )
    url = reverse("admin:certifications_comprehensivereview_change", args=[review.pk])
    data = change_form_data(hr_client.get(url))
    data.pop("passed", None)
    data["change_reason"] = "评审记录有误"
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert hr_client.post(url, data).status_code == 302
    assert recomputes(callbacks) == [[worker.pk]]
    assert_flagged(record, "评审记录有误")


def test_the_admin_form_correcting_a_rank_record(hr_client, awarded, django_capture_on_commit_callbacks):
    setup, worker, _attendance, _theory, _practical, record = awarded
    url = reverse("admin:certifications_rankrecord_change", args=[record.pk])
    data = change_form_data(hr_client.get(url))
    data.update(certificate_no="ZS-2026-001", change_reason="补登证书号")
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert hr_client.post(url, data).status_code == 302
    assert recomputes(callbacks) == [[worker.pk]]
    record.refresh_from_db()
    assert record.certificate_no == "ZS-2026-001" and last_reason(record) == "补登证书号"


def test_the_admin_form_correcting_a_certificate(hr_client, monkeypatch, django_capture_on_commit_callbacks):
    certificate = f.CertificateFactory()
    queued = []
    monkeypatch.setattr("certifications.progress.figures.dashboard_figures_invalidate", lambda: queued.append(True))
    url = reverse("admin:certifications_certificate_change", args=[certificate.pk])
    data = change_form_data(hr_client.get(url))
    data.update(issuing_body="省应急管理厅", change_reason="发证机关更正")
    with strict_doors(), django_capture_on_commit_callbacks(execute=True):
        response = hr_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    certificate = Certificate.objects.get(pk=certificate.pk)
    assert certificate.issuing_body == "省应急管理厅"
    assert queued == [True]


def test_the_demo_loader_writes_through_the_doors(django_capture_on_commit_callbacks):
    from demo.mine import demo_load

    with strict_doors():
        demo_load()
    # A reload puts back a score someone changed behind the door's back: that is a correction, announced as one.
    record = RankRecord.objects.filter(status="awarded", evidence__results__0__isnull=False).first()
    result_id = record.evidence["results"][0]
    AssessmentResult.objects.filter(pk=result_id).update(score=Decimal("1"))  # the door's guard ignores raw SQL
    with strict_doors(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        demo_load()
    assert record.worker_id in {pk for ids in recomputes(callbacks) for pk in ids}
    assert_flagged(record, "1", "demo mine")


# --- the guard itself ------------------------------------------------------------------------------------------


def test_a_write_outside_the_door_is_refused_under_strict_doors():
    setup = trade_setup()
    worker = worker_in(setup)
    with strict_doors(), pytest.raises(WrittenOutsideDoor, match="certifications.ranks.services"):
        AssessmentResult.objects.create(assessment=setup.theory, worker=worker, attempt=1, score=Decimal("70"))
    assert not AssessmentResult.objects.exists()


# --- meta-tests: a new admin, resource or write that bypasses a door fails here ------------------------------


def admin_violations(registry) -> list[str]:
    """Return every admin or inline of a door's model that could write it without the door."""
    found = []
    for model, model_admin in registry.items():
        name = type(model_admin).__name__
        if door_of(model) is not None:
            if not isinstance(model_admin, DoorAdminMixin):
                found.append(f"{name}: saves {model._meta.label} without DoorAdminMixin")
            restricted = type(model_admin).has_delete_permission is not admin.ModelAdmin.has_delete_permission
            if not isinstance(model_admin, SoftDeleteAdminMixin | DoorDeleteAdminMixin) and not restricted:
                found.append(f"{name}: deletes {model._meta.label} outside its door")
        for inline in model_admin.inlines:
            writable = inline.has_add_permission is not None and getattr(inline, "can_delete", True)
            read_only = all(
                getattr(inline, perm).__qualname__.startswith("RecordInline.")
                for perm in ("has_add_permission", "has_change_permission")
            )
            bypass = writable and not read_only and not isinstance(model_admin, DoorInlinesMixin)
            if door_of(inline.model) is not None and bypass:
                found.append(f"{name}: its inline {inline.__name__} writes {inline.model._meta.label}")
    return found


def resource_violations(resource_classes) -> list[str]:
    found = []
    for resource in resource_classes:
        model = getattr(resource._meta, "model", None)
        if model is None or door_of(model) is None:
            continue
        if not issubclass(resource, KuangjiangResource):
            found.append(f"{resource.__name__}: imports {model._meta.label} without the door")
            continue
        for method in ("bulk_create", "bulk_update", "save_instance", "import_instance", "delete_instance"):
            if getattr(resource, method) is not getattr(KuangjiangResource, method):
                found.append(f"{resource.__name__}.{method} replaces the door's write")
    return found


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_every_model_with_a_door_is_the_expected_set():
    assert set(DOORS) == DOOR_MODELS
    assert all(isinstance(door, Door) for door in DOORS.values())


def test_every_admin_and_inline_of_a_door_model_writes_through_the_door():
    assert admin_violations(admin.site._registry) == []


def test_the_admin_meta_test_finds_an_admin_that_bypasses_the_door():
    class PlainAttendanceAdmin(admin.ModelAdmin):
        pass

    class PlainInline(admin.TabularInline):
        model = AssessmentResult

    class PlainParentAdmin(admin.ModelAdmin):
        inlines = (PlainInline,)

    site = admin.AdminSite(name="probe")
    found = admin_violations(
        {Attendance: PlainAttendanceAdmin(Attendance, site), Certificate: PlainParentAdmin(Certificate, site)}
    )
    assert any("PlainAttendanceAdmin: saves training.Attendance" in line for line in found)
    assert any("inline PlainInline writes certifications.AssessmentResult" in line for line in found)


def test_every_import_resource_of_a_door_model_writes_through_the_door():
    ours = [r for r in all_subclasses(ie_resources.ModelResource) if r.__module__.split(".")[0] != "tests"]
    ours = [r for r in ours if r.__module__.split(".")[0] in {"core", "training", "certifications", "demo"}]
    assert ours, "the resources were found"
    assert resource_violations(ours) == []


def test_the_resource_meta_test_finds_a_resource_that_bypasses_the_door():
    class RawResults(ie_resources.ModelResource):
        class Meta:
            model = AssessmentResult

    class OwnWrite(KuangjiangResource):
        class Meta(KuangjiangResource.Meta):
            model = Attendance

        def bulk_create(self, *args, **kwargs):
            Attendance.objects.bulk_create(self.create_instances)

    found = resource_violations([RawResults, OwnWrite])
    assert found == [
        "RawResults: imports certifications.AssessmentResult without the door",
        "OwnWrite.bulk_create replaces the door's write",
    ]


WRITE_METHODS = {"create", "update", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "delete"}
DOOR_HOMES = {"core/writes.py", "training/services.py", "certifications/ranks/services.py"}
DOOR_HOMES |= {"certifications/clearance/services.py", "certifications/sittings/services.py"}


def manager_writes(source: str) -> list[str]:
    """Return `Model.objects.<write>(` calls on a door's model in `source` (any manager name)."""
    names = {label.split(".")[1] for label in DOORS}
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITE_METHODS:
            continue
        target = node.func.value
        while isinstance(target, ast.Attribute | ast.Call):
            target = target.func if isinstance(target, ast.Call) else target.value
        if isinstance(target, ast.Name) and target.id.lower() in names:
            found.append(f"{target.id}….{node.func.attr}() at line {node.lineno}")
    return found


def test_no_app_code_writes_a_door_model_through_its_manager_outside_the_door():
    offenders = []
    for package in ("core", "training", "certifications", "demo"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in DOOR_HOMES:
                continue
            offenders += [f"{relative}: {hit}" for hit in manager_writes(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_manager_write_scan_finds_a_bypass():
    source = "AssessmentResult.objects.filter(pk=1).update(score=40)\nAttendance.all_objects.create(worker_id=1)\n"
    assert len(manager_writes(source)) == 2
