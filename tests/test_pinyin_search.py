"""
Search the way clerks type (issue 13): pinyin initials (xnm finds 徐宁敏) in every worker search box — the
worker admin, every admin that searches by worker, the admin's autocomplete and the unit page.
"""

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from certifications import models as cert
from core.text import pinyin_initials
from tests.factories import AssessmentFactory, HonourFactory, ResultFactory, WorkerFactory
from training import models as tr

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(st.text(alphabet=CJK, min_size=1, max_size=12))
def test_the_initials_of_any_chinese_name_are_as_long_as_the_name(name):
    assert len(pinyin_initials(name)) == len(name)


def test_initials_are_the_first_letter_of_each_characters_pinyin():
    assert pinyin_initials("徐宁敏") == "xnm"
    assert pinyin_initials("欧阳娜娜") == "oynn"
    assert pinyin_initials("王 Wu2") == "w wu2"
    assert pinyin_initials("") == ""


@pytest.mark.django_db
def test_saving_a_worker_fills_and_refreshes_the_initials():
    worker = WorkerFactory(name="徐宁敏")
    assert tr.Worker.objects.get(pk=worker.pk).name_initials == "xnm"
    worker.name = "李娜"
    worker.save()
    assert tr.Worker.objects.get(pk=worker.pk).name_initials == "ln"


def changelist(client, model, term):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return list(client.get(url, {"q": term}).context["cl"].result_list)


@pytest.mark.django_db
def test_the_worker_admin_finds_a_worker_by_initials(hr_client):
    xu = WorkerFactory(name="徐宁敏")
    other = WorkerFactory(name="许明")
    assert changelist(hr_client, tr.Worker, "xnm") == [xu]
    assert set(changelist(hr_client, tr.Worker, "XM")) == {other}
    assert xu in changelist(hr_client, tr.Worker, "xuningmin")  # full pinyin still works


@pytest.mark.django_db
def test_an_admin_of_a_workers_records_finds_them_by_the_workers_initials(hr_client):
    xu, other = WorkerFactory(name="徐宁敏"), WorkerFactory(name="李娜")
    mine, theirs = ResultFactory(worker=xu), ResultFactory(worker=other, assessment=AssessmentFactory())
    assert changelist(hr_client, cert.AssessmentResult, "xnm") == [mine]
    assert theirs in changelist(hr_client, cert.AssessmentResult, "ln")


def test_every_admin_that_searches_by_worker_name_searches_by_initials_too():
    missing = []
    for model, model_admin in admin.site._registry.items():
        fields = set(model_admin.search_fields or ())
        for field in fields:
            if field.endswith("name_pinyin") and field.replace("name_pinyin", "name_initials") not in fields:
                missing.append(f"{model.__name__}: {field}")
    assert missing == []


@pytest.mark.django_db
def test_the_admin_autocomplete_finds_a_worker_by_initials(hr_client):
    xu = WorkerFactory(name="徐宁敏")
    WorkerFactory(name="李娜")
    HonourFactory(worker=xu)
    response = hr_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "certifications", "model_name": "honour", "field_name": "worker", "term": "xnm"},
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(xu.pk)]


@pytest.mark.django_db
def test_the_data_migration_fills_the_initials_of_workers_stored_before_it():
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    xu, li = WorkerFactory(name="徐宁敏"), WorkerFactory(name="李娜")
    tr.Worker._base_manager.filter(pk=li.pk).update(deleted_at=timezone.now())  # soft-deleted rows too
    tr.Worker._base_manager.update(name_initials="")
    migration = MigrationLoader(connection).get_migration("training", "0011_worker_name_initials")
    migration.operations[-1].code(apps, None)
    assert dict(tr.Worker._base_manager.values_list("pk", "name_initials")) == {xu.pk: "xnm", li.pk: "ln"}
