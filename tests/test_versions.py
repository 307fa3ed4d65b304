"""
No lost updates (core/versions.py): two people open the same record in the admin,
the first saves, the second's save is refused with what changed meanwhile, and
nothing of the second is written (the row and its history keep the first's edit).
Every form is read from the page and posted back as a browser would.
"""

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import tablib
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from certifications import models as cert
from certifications.simulators.services import credential_create
from core.bulk import rows_insert
from core.versions import VERSION, VersionCheckedForm, is_versioned
from core.writes import door_of
from tests import factories as f
from training import models as tr
from training.resources import UnitResource

pytestmark = pytest.mark.django_db


class _FormReader(HTMLParser):
    """The fields a browser would post from the admin's change form (id ending "_form")."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "reset", "file", "image"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def open_form(client, url) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    reader = _FormReader()
    reader.feed(page.content.decode())
    data = {k: (v if len(v) != 1 else v[0]) for k, v in reader.data.items()}
    assert VERSION in data, "the change form carries the version"
    return data


def hr_session(username):
    user = f.UserFactory(username=username, role="training_department")
    client = Client()
    client.force_login(user)
    return client


def _review():
    worker, trade, rank = f.WorkerFactory(), f.TradeFactory(), f.RankFactory()
    return cert.ComprehensiveReview.objects.create(
        worker=worker, trade=trade, rank=rank, held_on=dt.date(2025, 3, 1), passed=True
    )


def _sitting():
    from certifications.sittings.services import sitting_save

    return sitting_save(cert.Sitting(name="中级工鉴定", course=f.CourseFactory(), theory_on=dt.date(2026, 9, 5)))


def _candidate():
    return cert.SittingCandidate.objects.create(sitting=_sitting(), worker=f.WorkerFactory())


def _paper():
    """A paper template the bank can satisfy: one single-choice question for its trade × rank."""
    trade, rank = f.TradeFactory(), f.RankFactory()
    template = f.PaperTemplateFactory(trade=trade, rank=rank)
    f.PaperSectionFactory(template=template, count=1)
    question = f.QuestionFactory()
    question.trades.add(trade)
    question.ranks.add(rank)
    return template


# model → (a saved row, the field both people change, the first's value, the second's value)
EDITED = {
    tr.Unit: (f.UnitFactory, "name", "Shaft A", "Shaft B"),
    tr.SpecialOperation: (f.SpecialOperationFactory, "name", "Blasting A", "Blasting B"),
    tr.Rank: (f.RankFactory, "name", "Rank A", "Rank B"),
    tr.Trade: (f.TradeFactory, "name", "Trade A", "Trade B"),
    tr.Course: (f.CourseFactory, "title", "Course A", "Course B"),
    tr.Catalog: (f.CatalogFactory, "name", "Catalog A", "Catalog B"),
    tr.TrainingPackage: (f.PackageFactory, "name", "Package A", "Package B"),
    tr.PackageCourse: (f.PackageCourseFactory, "theory_hours", "7", "9"),
    tr.Worker: (f.WorkerFactory, "name", "张三", "李四"),
    tr.AwayPeriod: (
        lambda: tr.AwayPeriod.objects.create(worker=f.WorkerFactory(), start=dt.date(2025, 1, 1)),
        "reason",
        "sick leave",
        "secondment",
    ),
    tr.WorkerTrade: (f.WorkerTradeFactory, "started_on", "2020-01-01", "2021-01-01"),
    tr.TrainingClass: (f.TrainingClassFactory, "venue", "Room A", "Room B"),
    tr.Attendance: (f.AttendanceFactory, "remarks", "first", "second"),
    cert.Assessment: (f.AssessmentFactory, "venue", "Hall A", "Hall B"),
    cert.AssessmentResult: (f.ResultFactory, "remarks", "first", "second"),
    cert.ComprehensiveReview: (_review, "panel", "Panel A", "Panel B"),
    cert.RuleSet: (f.RuleSetFactory, "name", "Rules A", "Rules B"),
    cert.RankRecord: (f.RankRecordFactory, "certificate_no", "A-1", "B-2"),
    cert.Certificate: (f.CertificateFactory, "remarks", "first", "second"),
    cert.CertificateReview: (f.CertificateReviewFactory, "remarks", "first", "second"),
    cert.Honour: (f.HonourFactory, "remarks", "first", "second"),
    cert.Mentorship: (f.MentorshipFactory, "remarks", "first", "second"),
    cert.Sitting: (_sitting, "venue", "Hall A", "Hall B"),
    cert.SittingCandidate: (_candidate, "remarks", "first", "second"),
    cert.Question: (
        lambda: f.QuestionFactory(knowledge_point="供电"),
        "knowledge_point",
        "Point A",
        "Point B",
    ),
    cert.PaperTemplate: (_paper, "name", "Paper A", "Paper B"),
    cert.ExamSession: (lambda: f.ExamSessionFactory(template=_paper()), "name", "Session A", "Session B"),
    cert.ExamCandidate: (f.ExamCandidateFactory, "remarks", "first", "second"),
    cert.ComplianceRule: (
        lambda: cert.ComplianceRule.objects.create(name="Rule", effective_from=dt.date(2024, 1, 1)),
        "name",
        "Rule A",
        "Rule B",
    ),
    cert.SimulatorCredential: (lambda: _credential(), "name", "VR A", "VR B"),
    cert.SimulatorActor: (
        lambda: cert.SimulatorActor.objects.create(
            mbox="mailto:a@example.cn", actor_key="mbox:mailto:a@example.cn", worker=f.WorkerFactory()
        ),
        "mbox",
        "mailto:b@example.cn",
        "mailto:c@example.cn",
    ),
    cert.SimulatorActivity: (
        lambda: cert.SimulatorActivity.objects.create(
            activity_iri="https://vr.example.cn/a", course=f.CourseFactory(delivery=tr.Course.Delivery.SIMULATION)
        ),
        "name",
        "Shearer A",
        "Shearer B",
    ),
    cert.ScoringScheme: (lambda: _practical().scheme, "name", "Scheme A", "Scheme B"),
    cert.ScoringItem: (lambda: _practical().items[0], "content", "first", "second"),
}
# Read-only evidence in the admin (the tablets write them; HR reads them and resolves moderation on its own page):
# versioned, and a scoring sheet's version is the server's copy that the tablet's conflicts are checked against.
READ_ONLY = {cert.ScoringSheet, cert.ScoreDeduction, cert.ScoringModeration}


def _practical():
    from tests.practical_setup import practical_build

    return practical_build()


def _credential():
    return credential_create(name="VR", key="vr-versions")[0]


def _saved(model):
    build = EDITED[model][0]
    door = door_of(model)
    if door is None:
        return build()
    with door.opened():
        return build()


def _edit(data, name, value):
    data = dict(data)
    data[name] = value
    if "change_reason" in data:
        data["change_reason"] = "corrected"
    return data


def _read_only(model_admin) -> bool:
    """An admin that refuses even a superuser to add, change or delete edits nothing (the exam attempts' audit)."""
    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    return not (
        model_admin.has_add_permission(request)
        or model_admin.has_change_permission(request)
        or model_admin.has_delete_permission(request)
    )


def test_every_model_hr_edits_has_a_version_and_every_versioned_admin_is_tested():
    editable = {
        model
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"training", "certifications"}
        and not model._meta.label_lower.startswith("certifications.reminderlog")
        and model._meta.label_lower != "certifications.apitoken"
        # Read-only lists: written through the question's page (the bank's door) only.
        # Written by simulators only (xAPI statements are immutable; a correction is a voiding statement).
        and model._meta.label_lower
        not in {"certifications.questionversion", "certifications.questionimage", "certifications.simulatorstatement"}
        # Admins that refuse even a superuser to add, change or delete (the attempt audit).
        and not _read_only(model_admin)
    }
    assert all(is_versioned(m) for m in READ_ONLY)
    assert {m for m in editable if not is_versioned(m)} == set()
    assert (
        set(EDITED)
        == {m for m in apps.get_models() if is_versioned(m) and not m.__name__.startswith("Historical")} - READ_ONLY
    )


@pytest.mark.parametrize("model", list(EDITED), ids=lambda m: m._meta.label)
def test_the_second_save_is_refused_with_what_changed_and_nothing_is_overwritten(model):
    obj = _saved(model)
    name, first_value, second_value = EDITED[model][1:]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    first, second = hr_session("hr-first"), hr_session("hr-second")
    first_form, second_form = open_form(first, url), open_form(second, url)
    history = model.history.filter(id=obj.pk).count() if hasattr(model, "history") else None

    saved = first.post(url, _edit(first_form, name, first_value))
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved

    refused = second.post(url, _edit(second_form, name, second_value))
    assert refused.status_code == 200
    form = refused.context["adminform"].form
    text = " ".join(form.non_field_errors())
    label = str(form.fields[name].label)
    assert "Someone else saved this" in text
    assert label in text and "theirs" in text and "yours" in text
    stored = model._base_manager.get(pk=obj.pk)
    assert str(getattr(stored, name)) == str(
        first_value if not isinstance(getattr(stored, name), Decimal) else Decimal(first_value)
    ) or str(getattr(stored, name)).startswith(first_value)
    if history is not None:
        assert model.history.filter(id=obj.pk).count() == history + 1
        assert model.history.filter(id=obj.pk).latest("history_date").history_user.username == "hr-first"

    # Reloading shows the first edit; saved from there, the second person's change goes in.
    again = second.post(url, _edit(open_form(second, url), name, second_value))
    assert again.status_code == 302


def test_the_message_is_translated():
    unit = f.UnitFactory(name="Old")
    url = reverse("admin:training_unit_change", args=[unit.pk])
    first, second = hr_session("hr-first"), hr_session("hr-second")
    first_form, second_form = open_form(first, url), open_form(second, url)
    first.post(url, _edit(first_form, "name", "一号井"))
    refused = second.post(url, _edit(second_form, "name", "二号井"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = " ".join(refused.context["adminform"].form.non_field_errors())
    with translation.override("zh-hans"):
        assert translation.gettext("Changed meanwhile: %(changes)s.").split("%")[0] in text
    assert "一号井" in text and "二号井" in text
    assert "Someone else" not in text


def test_a_save_that_loses_the_race_after_its_check_is_rolled_back_with_a_message(monkeypatch):
    """Through the results door: Door.save raises RecordModifiedError, the admin answers with a message."""
    with door_of(cert.AssessmentResult).opened():
        result = f.ResultFactory(remarks="before")
    url = reverse("admin:certifications_assessmentresult_change", args=[result.pk])
    client = hr_session("hr-first")
    form = open_form(client, url)
    history = result.history.count()
    check = VersionCheckedForm.clean

    def racing_clean(self):
        cleaned = check(self)
        type(self.instance)._base_manager.filter(pk=self.instance.pk).update(version=F("version") + 1)
        return cleaned

    monkeypatch.setattr(VersionCheckedForm, "clean", racing_clean)
    response = client.post(url, _edit(form, "remarks", "after"), follow=True)
    assert response.status_code == 200
    assert any("while you were saving it" in str(m) for m in response.context["messages"])
    result.refresh_from_db()
    assert result.remarks == "before"
    assert result.history.count() == history


def test_an_inline_row_changed_meanwhile_is_refused_and_the_other_rows_are_not_saved():
    with door_of(tr.Attendance).opened():
        one = f.AttendanceFactory(remarks="one")
        two = f.AttendanceFactory(training_class=one.training_class, remarks="two")
    url = reverse("admin:training_trainingclass_change", args=[one.training_class_id])
    first, second = hr_session("hr-first"), hr_session("hr-second")
    first_form, second_form = open_form(first, url), open_form(second, url)
    prefix = next(k[: -len("-TOTAL_FORMS")] for k in first_form if k.endswith("-TOTAL_FORMS") and "attendance" in k)
    rows = {first_form[f"{prefix}-{i}-id"]: i for i in range(int(first_form[f"{prefix}-TOTAL_FORMS"]))}
    i_one, i_two = rows[str(one.pk)], rows[str(two.pk)]

    edited = dict(first_form, **{f"{prefix}-{i_one}-remarks": "one by first"})
    assert first.post(url, edited).status_code == 302

    # The second person changes row two only; their page still holds row one as it was.
    refused = second.post(url, dict(second_form, **{f"{prefix}-{i_two}-remarks": "two by second"}))
    assert refused.status_code == 200
    errors = [e for formset in refused.context["inline_admin_formsets"] for e in formset.formset.errors]
    text = " ".join(str(e) for e in errors)
    assert "Someone else saved this" in text and "one by first" in text
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.remarks, two.remarks) == ("one by first", "two")


def test_a_bulk_import_bumps_the_version_so_a_form_opened_before_it_is_refused():
    unit = f.UnitFactory(code="U1", name="Old name")
    url = reverse("admin:training_unit_change", args=[unit.pk])
    client = hr_session("hr-first")
    form = open_form(client, url)
    dataset = tablib.Dataset(headers=["code", "name", "kind", "parent", "sort_order"])
    dataset.append(["U1", "Imported name", unit.kind, unit.parent.code, unit.sort_order])
    result = UnitResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    unit.refresh_from_db()
    assert unit.name == "Imported name"

    refused = client.post(url, _edit(form, "name", "Typed name"))
    assert refused.status_code == 200
    assert "Imported name" in " ".join(refused.context["adminform"].form.non_field_errors())
    unit.refresh_from_db()
    assert unit.name == "Imported name"


def test_rows_inserted_in_bulk_start_at_version_one():
    parent = f.UnitFactory()
    rows_insert(
        tr.Unit, [{"code": "BULK1", "name": "Bulk", "kind": parent.kind, "parent_id": parent.pk, "sort_order": 0}]
    )
    assert tr.Unit.objects.get(code="BULK1").version == 1
    assert f.UnitFactory().version == 1


def test_flagging_an_award_for_review_bumps_its_version(django_capture_on_commit_callbacks):
    """The roll-up's flag (save(update_fields=...)) moves the version: a form opened before it cannot undo it."""
    with door_of(cert.AssessmentResult).opened():
        result = f.ResultFactory(score=Decimal("75"))
    with door_of(cert.RankRecord).opened():
        record = f.RankRecordFactory(worker=result.worker, evidence={"results": [result.pk]})
    url = reverse("admin:certifications_rankrecord_change", args=[record.pk])
    client = hr_session("hr-first")
    form = open_form(client, url)
    before = cert.RankRecord.objects.get(pk=record.pk).version

    result.score = Decimal("40")
    with django_capture_on_commit_callbacks(execute=True):
        door_of(cert.AssessmentResult).save(result, reason="re-marked")
    record.refresh_from_db()
    assert record.needs_review and record.version == before + 1

    refused = client.post(url, _edit(form, "certificate_no", "X-9"))
    assert refused.status_code == 200
    record.refresh_from_db()
    assert record.needs_review and record.certificate_no != "X-9"


@pytest.mark.parametrize(
    ("parent_url", "build"),
    [
        (
            "admin:certifications_assessment_change",
            lambda: _two(cert.AssessmentResult, f.ResultFactory, "assessment", attempt=1),
        ),
        (
            "admin:certifications_certificate_change",
            lambda: _two(cert.CertificateReview, f.CertificateReviewFactory, "certificate"),
        ),
    ],
    ids=["a sitting's results", "a certificate's reviews"],
)
def test_other_door_inlines_refuse_a_row_changed_meanwhile(parent_url, build):
    one, two, parent = build()
    url = reverse(parent_url, args=[parent.pk])
    first, second = hr_session("hr-first"), hr_session("hr-second")
    first_form, second_form = open_form(first, url), open_form(second, url)
    prefix, i_one, i_two = _rows(first_form, one, two)
    edited = dict(first_form, **{f"{prefix}-{i_one}-remarks": "one by first", f"{prefix}-{i_one}-change_reason": "x"})
    saved = first.post(url, edited)
    assert saved.status_code == 302, saved.context and [
        fs.formset.errors for fs in saved.context["inline_admin_formsets"]
    ]
    refused = second.post(url, dict(second_form, **{f"{prefix}-{i_two}-remarks": "two by second"}))
    assert refused.status_code == 200
    text = " ".join(str(e) for fs in refused.context["inline_admin_formsets"] for e in fs.formset.errors)
    assert "Someone else saved this" in text and "one by first" in text
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.remarks, two.remarks) == ("one by first", "")


def _two(model, factory, parent_name, **first_kwargs):
    with door_of(model).opened():
        one = factory(remarks="", **first_kwargs)
        parent = getattr(one, parent_name)
        extra = {"attempt": 2, "worker": one.worker} if model is cert.AssessmentResult else {}
        two = factory(remarks="", **{parent_name: parent}, **extra)
    return one, two, parent


def _rows(data, one, two):
    model_name = type(one)._meta.model_name
    prefixes = [k[: -len("-TOTAL_FORMS")] for k in data if k.endswith("-TOTAL_FORMS")]
    for prefix in prefixes:
        rows = {data.get(f"{prefix}-{i}-id"): i for i in range(int(data[f"{prefix}-TOTAL_FORMS"]))}
        if (
            str(one.pk) in rows
            and str(two.pk) in rows
            and (model_name in prefix or "result" in prefix or "review" in prefix)
        ):
            return prefix, rows[str(one.pk)], rows[str(two.pk)]
    raise AssertionError(f"no inline with both rows among {prefixes}")


def test_reverting_to_an_old_version_in_history_works_and_is_checked_too():
    worker = f.WorkerFactory(name="王一")
    first = hr_session("hr-first")
    url = reverse("admin:training_worker_change", args=[worker.pk])
    assert first.post(url, _edit(open_form(first, url), "name", "王二")).status_code == 302
    old = worker.history.order_by("history_date").first()
    revert_url = reverse("admin:training_worker_simple_history", args=[worker.pk, old.history_id])

    form = open_form(first, revert_url)
    assert first.post(revert_url, form).status_code == 302
    worker.refresh_from_db()
    assert worker.name == "王一"

    stale = open_form(first, revert_url)
    assert first.post(url, _edit(open_form(first, url), "name", "王三")).status_code == 302
    refused = first.post(revert_url, stale)
    assert refused.status_code == 200
    worker.refresh_from_db()
    assert worker.name == "王三"


def test_the_worker_history_page_does_not_list_the_version_as_a_change():
    from certifications.progress.history import worker_history_get  # noqa: PLC0415

    worker = f.WorkerFactory(name="王一")
    client = hr_session("hr-first")
    url = reverse("admin:training_worker_change", args=[worker.pk])
    assert client.post(url, _edit(open_form(client, url), "name", "王二")).status_code == 302
    changes = [c for entry in worker_history_get(worker=worker) for c in entry.changes]
    assert changes and "王二" in [c.new for c in changes]
    assert str(tr.Worker._meta.get_field(VERSION).verbose_name) not in [c.field for c in changes]
