"""Every download is named after what it holds in the reader's language, with its unit and day (issue 13)."""

from urllib.parse import quote

import pytest
from django.utils import timezone

from tests import factories as f
from training.models import Course, Worker

pytestmark = pytest.mark.django_db


def export_post(client, model, *, language: str, fmt: int = 0):
    from django.conf import settings
    from django.contrib import admin
    from django.test import RequestFactory

    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = f.UserFactory(username="exporter", is_superuser=True, is_staff=True)
    form = model_admin.get_export_form_class()(
        model_admin.get_export_formats(), model_admin.get_export_resource_classes(request)
    )
    data = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
    data.update(format=str(fmt), resource="0")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    opts = model._meta
    return client.post(f"/admin/{opts.app_label}/{opts.model_name}/export/", data)


@pytest.mark.parametrize(
    "language, expected",
    [("zh-hans", "课程_{day}.xlsx"), ("en", "Courses_{day}.xlsx")],
)
def test_an_admin_export_is_named_after_what_it_holds_in_the_readers_language_and_the_day(
    hr_client, language, expected
):
    expected = expected.format(day=timezone.localdate().isoformat())
    f.CourseFactory()
    response = export_post(hr_client, Course, language=language)
    assert response.status_code == 200, response.content.decode()[:3000]
    disposition = response["Content-Disposition"]
    # Non-ASCII names travel as RFC 5987 filename*=utf-8''…, plain ones as filename="…".
    assert disposition in (f"attachment; filename*=utf-8''{quote(expected)}", f'attachment; filename="{expected}"')


def test_a_csv_export_is_named_the_same_way(hr_client):
    response = export_post(hr_client, Worker, language="en", fmt=1)
    assert response["Content-Disposition"] == f'attachment; filename="Workers_{timezone.localdate():%Y-%m-%d}.csv"'


def test_the_recertification_forecast_download_is_named_in_the_readers_language(hr_client):
    from django.conf import settings
    from django.urls import reverse

    hr_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = hr_client.get(reverse("certifications:forecast-xlsx"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''" + quote("复审与换证预测_"))


def test_a_file_name_drops_characters_no_file_system_takes():
    from core.workbooks import download_filename

    assert download_filename("培训台账", 'a/b\\c:"d"', 2026) == "培训台账_a_b_c__d__2026.xlsx"
    assert download_filename("Courses", "", None, "2026-12-02", extension="csv") == "Courses_2026-12-02.csv"
