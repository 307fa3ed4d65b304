"""
Bad input into every form: the admin add form of every registered model, the
site's filters and login, the export and API parameters. Never a server error;
a refused form says why and writes nothing.

`make test` runs a few examples (hypothesis profile "default"); `make fuzz` many more.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from certifications.models import AssessmentResult
from tests import factories as f
from tests.site_fixtures import build_mine
from tests.test_fuzz_imports import row_counts
from training.models import TrainingClass

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

nasty = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "120",
            "1e400",
            "NaN",
            "Infinity",
            "-0",
            "9" * 40,
            "abc",
            "=1+1",
            "@SUM(A1)",
            "2026-02-30",
            "2026-13-01",
            "0000-00-00",
            "99999-01-01",
            "１２０",
            "缺考",
            "\x00",
            "null",
            "None",
            "[]",
            "{}",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "../../etc/passwd",
            "%s%s%s",
            "長" * 5000,
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(str),
)


def answered(response, *expected: int) -> bool:
    """Return True for an expected status, or the clear 400 every page gives a NUL character."""
    if response.status_code in expected:
        return True
    return response.status_code == 400 and b"NUL" in response.content


def scaled(fraction: float):
    """Run a fraction of the profile's examples: these render whole admin pages."""
    return settings(max_examples=max(4, int(settings.default.max_examples * fraction)))


@pytest.fixture
def mine(db):
    return build_mine()


@pytest.fixture
def superuser_client(client, db):
    client.force_login(f.UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def admin_add_urls() -> list[str]:
    return sorted(f"admin:{model._meta.app_label}_{model._meta.model_name}_add" for model in admin.site._registry)


# --- every admin add form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", admin_add_urls())
@scaled(0.2)
@given(values=st.lists(nasty, min_size=40, max_size=40))
@example(values=[":"] * 40)  # a non-numeric id in every related field, autocompletes included
@example(values=["9" * 40] * 40)  # an id beyond 64 bits: SQLite's driver cannot bind it
def test_every_admin_add_form_refuses_nonsense_without_a_server_error(mine, superuser_client, name, values):
    response = superuser_client.get(reverse(name))
    if response.status_code == 403:
        return  # this admin adds nothing (e.g. the reminder log)
    form = response.context["adminform"].form
    data = {name: value for name, value in zip(form.fields, values)}  # noqa: C416
    before = row_counts()
    response = superuser_client.post(reverse(name), data)
    assert answered(response, 200, 302)
    if response.status_code == 200:
        assert response.context["adminform"].form.errors or response.context.get("errors")
        assert row_counts() == before


@pytest.mark.parametrize("score", ["120", "-1", "NaN", "abc", "Infinity", "1e400", "-0.5", "１２０", "100.0001"])
def test_the_result_form_refuses_a_score_outside_zero_to_full_marks(mine, superuser_client, score):
    assessment = f.AssessmentFactory()
    before = AssessmentResult.all_objects.count()
    response = superuser_client.post(
        reverse("admin:certifications_assessmentresult_add"),
        {"assessment": assessment.pk, "worker": mine.classmate.pk, "attempt": 1, "score": score, "remarks": ""},
    )
    assert answered(response, 200)
    assert "score" in response.context["adminform"].form.errors or response.context["adminform"].form.non_field_errors()
    assert AssessmentResult.all_objects.count() == before


# Django 5.2 answered both of these with a 500; training.admin_mixins.InputGuardMixin (on every admin) fixes them.
@pytest.mark.parametrize("bad_id", [":", "abc", "1e400", "NaN", "9" * 40, str(2**63), "-" + "9" * 40])
def test_a_non_numeric_id_in_an_autocomplete_field_is_refused_with_a_message(mine, superuser_client, bad_id):
    before = row_counts()
    response = superuser_client.post(
        reverse("admin:certifications_assessmentresult_add"),
        {"assessment": bad_id, "worker": mine.classmate.pk, "attempt": 1, "score": "80", "remarks": ""},
    )
    assert answered(response, 200)
    assert "assessment" in response.context["adminform"].form.errors
    assert row_counts() == before


def test_a_bad_id_in_a_many_to_many_autocomplete_is_refused_with_a_message(mine, superuser_client):
    course = f.CourseFactory()
    response = superuser_client.post(
        reverse("admin:training_catalog_add"),
        {"code": "CAT-X", "name": "目录", "effective_from": "2026-01-01", "courses": [str(course.pk), "abc", "9" * 40]},
    )
    assert answered(response, 200)
    assert "courses" in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("name", "field"), [("admin:training_trade_add", "special_operations"), ("admin:auth_group_add", "permissions")]
)
def test_an_id_beyond_64_bits_in_a_many_to_many_field_is_refused_with_a_message(mine, superuser_client, name, field):
    # SQLite's driver cannot bind it: Django 5.2's `pk__in` check was an OverflowError (a 500), auth's admin too.
    response = superuser_client.post(reverse(name), {"code": "T9", "name": "x", field: ["9" * 40]})
    assert answered(response, 200)
    assert field in response.context["adminform"].form.errors


def class_form(**fields) -> dict:
    """Return the admin's add form for a training class, with these fields changed."""
    return {
        "code": "K1",
        "name": "新班",
        "course": f.CourseFactory().pk,
        "kind": TrainingClass.Kind.UPSKILL,
        "start": "2026-03-02",
        "end": "2026-03-13",
        "attendances-TOTAL_FORMS": "0",
        "attendances-INITIAL_FORMS": "0",
        **fields,
    }


def test_a_bad_id_in_an_inline_autocomplete_is_refused_with_a_message(mine, superuser_client):
    response = superuser_client.post(
        reverse("admin:training_trainingclass_add"),
        class_form(
            **{
                "code": "K2",
                "attendances-TOTAL_FORMS": "1",
                "attendances-0-worker": "abc",
                "attendances-0-theory_hours": "8",
                "attendances-0-practical_hours": "0",
            }
        ),
    )
    assert answered(response, 200)
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["worker"]
    assert not TrainingClass.objects.filter(code="K2").exists()


@pytest.mark.parametrize(
    "params",
    [
        {"hire_date__year": "9" * 40},
        {"hire_date__year": "9999"},  # the year after it is out of range
        {"hire_date__year": "99999"},
        {"hire_date__year": "0"},
        {"hire_date__year": "1"},  # 1 January of year 1 in Asia/Shanghai is still year 0 in UTC
        {"hire_date__year": "2026", "hire_date__month": "9" * 40},
        {"hire_date__year": "2026", "hire_date__month": "13"},
        {"hire_date__year": "2026", "hire_date__month": "abc"},
        {"hire_date__year": "9999", "hire_date__month": "12"},
        {"hire_date__year": "2026", "hire_date__month": "2", "hire_date__day": "9" * 40},
        {"hire_date__year": "2026", "hire_date__month": "2", "hire_date__day": "30"},
        {"hire_date__year": "9999", "hire_date__month": "12", "hire_date__day": "31"},
        {"hire_date__year": "2026", "hire_date__day": "-" + "9" * 40},
    ],
)
def test_a_huge_year_in_the_date_hierarchy_is_refused(mine, superuser_client, params):
    response = superuser_client.get(reverse("admin:training_worker_changelist"), params)
    # Django's answer to a lookup it cannot use: back to the list, flagged ?e=1.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:training_worker_changelist") + "?e=1"


DATE_HIERARCHIES = sorted(
    (model._meta.label_lower, model_admin.date_hierarchy)
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
)


@pytest.mark.parametrize(("label", "field"), DATE_HIERARCHIES)
def test_every_date_hierarchy_refuses_a_year_month_or_day_no_date_can_hold(mine, superuser_client, label, field):
    url = reverse(f"admin:{label.replace('.', '_')}_changelist")
    for params in (
        {"year": "9" * 40},
        {"year": "2026", "month": "9" * 40},
        {"year": "2026", "month": "1", "day": "9" * 40},
    ):
        response = superuser_client.get(url, {f"{field}__{part}": value for part, value in params.items()})
        assert response.status_code == 302 and response["Location"] == url + "?e=1", params
    assert superuser_client.get(url, {f"{field}__year": "2026", f"{field}__month": "9"}).status_code == 200


@pytest.mark.parametrize(
    "params", [{"hire_date__year": "9" * 40}, {"hire_date__year": "2026", "hire_date__day": "9" * 40}, {"unit": "abc"}]
)
def test_an_export_with_a_filter_the_changelist_refuses_goes_back_to_the_list(mine, superuser_client, params):
    url = reverse("admin:training_worker_export") + "?" + urlencode(params)
    for response in (superuser_client.get(url), superuser_client.post(url, {"format": "0", "resource": "0"})):
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:training_worker_changelist") + "?e=1"


def test_the_class_form_refuses_an_end_before_the_start(mine, superuser_client):
    response = superuser_client.post(
        reverse("admin:training_trainingclass_add"), class_form(name="倒序的班", start="2026-03-13", end="2026-03-02")
    )
    assert answered(response, 200)
    assert response.context["adminform"].form.errors
    assert not TrainingClass.objects.filter(code="K1").exists()


@scaled(0.5)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "unit",
                "o",
                "p",
                "e",
                "all",
                "deleted",
                "due",
                "kind",
                "start__gte",
                "_to_field",
                "hire_date__year",
                "hire_date__month",
                "hire_date__day",
                "issued_on__year",
                "issued_on__month",
                "issued_on__day",
            ]
        ),
        nasty,
        max_size=4,
    )
)
@example(params={"unit": "9" * 40})  # a unit id beyond 64 bits was an OverflowError on SQLite
@example(params={"hire_date__year": "9" * 40, "issued_on__year": "9" * 40})  # Django 5.2: OverflowError
def test_admin_changelist_filters_never_break(mine, superuser_client, params):
    for name in ("admin:training_worker_changelist", "admin:certifications_certificate_changelist"):
        response = superuser_client.get(reverse(name), params)
        assert answered(response, 200, 302, 400)  # 400: Django refuses an unknown _to_field


# --- the site's forms and parameters ----------------------------------------------------------------------------


@given(username=nasty, password=nasty)
def test_the_login_form_refuses_nonsense_with_a_message(client, db, username, password):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert answered(response, 200, 429)
    if response.status_code == 429:
        # The examples share a database: a name tried AXES_FAILURE_LIMIT times is locked out, with its page.
        assert "Login locked" in response.content.decode()
    else:
        assert response.status_code == 400 or response.context["form"].errors


@given(
    params=st.dictionaries(
        st.sampled_from(["q", "unit", "trade", "rank", "category", "status", "due", "o", "package"]), nasty, max_size=5
    )
)
def test_the_unit_page_filters_never_break(mine, client, params):
    client.force_login(mine.leader.user)
    response = client.get(mine.dept.get_absolute_url(), params)
    assert answered(response, 200)


@given(params=st.dictionaries(st.sampled_from(["employee_no", "trade", "on"]), nasty, max_size=3))
def test_the_api_answers_nonsense_with_json(mine, client, params):
    from certifications.clearance.tokens import api_token_create

    _token, raw = api_token_create(user=f.UserFactory(username="hr-api", role="training_department"), name="fuzz")
    response = client.get(reverse("certifications:api-clearance"), params, headers={"Authorization": f"Token {raw}"})
    assert answered(response, 200, 400, 404)
    assert "error" in response.json() or "cleared" in response.json()


@scaled(0.25)
@given(unit=nasty, year=nasty)
def test_the_ledger_export_refuses_nonsense_parameters_cleanly(mine, client, settings, tmp_path_factory, unit, year):
    settings.PRIVATE_UPLOAD_ROOT = tmp_path_factory.mktemp("private")
    client.force_login(mine.leader.user)
    response = client.post(reverse("certifications:ledger-export"), {"unit": unit, "year": year})
    assert answered(response, 302, 404)


@given(on=nasty)
def test_the_roster_form_refuses_a_bad_date_with_a_message(mine, client, on):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.spreadsheet_builders import csv_bytes

    client.force_login(mine.leader.user)
    upload = SimpleUploadedFile(
        "roster.csv", csv_bytes([["工号", "工种"], [mine.classmate.employee_no, "综采维修电工"]])
    )
    response = client.post(reverse("certifications:roster-check"), {"file": upload, "on": on})
    assert answered(response, 200)
    assert response.status_code == 400 or (
        response.context["rows"] is not None or response.context["form"].errors or response.context["error"]
    )


def test_dates_far_outside_the_calendar_do_not_break_the_worker_page(mine, client):
    client.force_login(mine.trainee.user)
    f.CertificateFactory(
        worker=mine.trainee,
        issued_on=dt.date(1, 1, 1),
        valid_until=dt.date(9999, 12, 31),
        next_review_due=dt.date(9999, 12, 31),
    )
    assert client.get(reverse("certifications:me")).status_code == 200
