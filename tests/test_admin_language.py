"""Third-party admin pages read in Chinese under zh-hans: django-tasks' results, django-import-export's export page."""

import re

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    user = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    return client


def test_the_admin_index_names_the_background_tasks_in_chinese(superuser_client):
    html = superuser_client.get(reverse("admin:index")).content.decode()
    assert "后台任务" in html and "任务结果" in html
    assert "Tasks Database Backend" not in html and "Task Results" not in html


def test_the_task_results_list_has_chinese_column_names(superuser_client):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.create(
        task_path="certifications.spreadsheets.tasks.ledger_export_task",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
    )
    html = superuser_client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist")).content.decode()
    assert "培训台账导出" in html
    for header in ("任务", "排队时间", "开始时间", "完成时间", "优先级", "队列名称"):
        assert header in html
    for english in ("Task name", "Enqueued at", "Queue name"):
        assert english not in html


def test_the_export_page_labels_columns_as_their_headers_in_the_pages_language(superuser_client):
    html = superuser_client.get("/admin/training/worker/export/").content.decode()
    assert "全选" in html and "Select all" not in html
    labels = re.findall(r'<label for="id_workerresource_[^"]+">([^<]+)</label>', html)
    assert labels, "the export page lists the worker columns"
    assert "工号" in [label.strip() for label in labels]
    assert not [label for label in labels if re.search(r"[A-Za-z]{3,}", label)], labels


def test_in_english_a_column_named_unlike_its_field_shows_both(client):
    user = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.cookies["django_language"] = "en"
    html = client.get("/admin/training/worker/export/").content.decode()
    assert "Select all" in html
    assert "Employee No (" not in html


def test_the_two_box_picker_explains_itself_in_chinese(superuser_client):
    """Django 5.2's filter_horizontal sentences, missing from its zh_Hans catalogue, come from locale_vendor/."""
    script = superuser_client.get("/admin/jsi18n/").content.decode().encode().decode("unicode_escape")
    assert "选中左侧的%s，再点击“选择”箭头加入。" in script
    assert "选择全部%s" in script and "删除选中的%s" in script


def test_the_examiner_picker_lists_people_by_name_with_their_login(superuser_client):
    f.UserFactory(username="kp1", is_staff=True, first_name="张志强")
    worker = f.WorkerFactory(name="徐宁敏", user=f.UserFactory(username="kp2", is_staff=True))
    f.UserFactory(username="kp3", is_staff=True)
    html = superuser_client.get(reverse("admin:certifications_assessment_add")).content.decode()
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html.split('name="examiners"')[1]))
    labels = set(options.values())
    assert {"张志强（kp1）", f"{worker.name}（kp2）", "kp3"} <= labels
