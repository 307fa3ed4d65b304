"""HR's side of the scoring sheets: read-only evidence, and the moderation cases HR resolves."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from certifications.models import AssessmentResult, ScoringModeration, ScoringSheet
from tests.practical_setup import practical_build, sheet_payload

pytestmark = pytest.mark.django_db


def two_sheets(_client=None):
    client = Client()
    p = practical_build()
    for user, mistakes in ((p.assessor, 1), (p.second_assessor, 4)):
        client.force_login(user)
        payload = sheet_payload(p, p.workers[0], marks=[(p.items[0], mistakes, 0)])
        response = client.post(
            reverse("certifications:practical-sync"), json.dumps(payload), content_type="application/json"
        )
        assert response.status_code == 201
    return p, ScoringModeration.objects.get()


def test_hr_sees_open_cases_and_chooses_the_second_sheet_which_corrects_the_result(client, hr_client):
    p, case = two_sheets(client)
    listing = hr_client.get(reverse("admin:certifications_scoringmoderation_changelist"), {"state": "open"})
    assert listing.status_code == 200 and p.workers[0].name in listing.content.decode()
    url = reverse("admin:certifications_scoringmoderation_resolve", args=[case.pk])
    assert hr_client.get(url).status_code == 200
    refused = hr_client.post(url, {"chosen": case.second_id, "reason": ""})
    assert refused.status_code == 200 and AssessmentResult.objects.get().score == 95
    done = hr_client.post(url, {"chosen": case.second_id, "reason": "录像复核，第二考评员正确"})
    assert done.status_code == 302
    result = AssessmentResult.objects.get()
    assert result.score == 80
    assert result.history.first().history_change_reason == "scoring sheet moderation: 录像复核，第二考评员正确"
    case.refresh_from_db()
    assert case.status == "resolved" and case.chosen_id == case.second_id
    statuses = dict(ScoringSheet.objects.values_list("assessor__username", "status"))
    assert statuses == {"assessor-1": "set_aside", "assessor-2": "recorded"}
    assert hr_client.post(url, {"chosen": case.recorded_id, "reason": "again"}).status_code == 200
    assert AssessmentResult.objects.get().score == 80


def test_choosing_the_recorded_sheet_keeps_the_result(client, hr_client):
    p, case = two_sheets(client)
    url = reverse("admin:certifications_scoringmoderation_resolve", args=[case.pk])
    assert hr_client.post(url, {"chosen": case.recorded_id, "reason": "first stands"}).status_code == 302
    assert AssessmentResult.objects.get().score == 95
    assert ScoringSheet.objects.get(assessor=p.second_assessor).status == "set_aside"


def test_sheets_are_read_only_evidence_for_hr(client, hr_client):
    p, case = two_sheets(client)
    sheet = case.recorded
    listing = hr_client.get(reverse("admin:certifications_scoringsheet_changelist"), {"q": p.workers[0].employee_no})
    assert listing.status_code == 200
    change = reverse("admin:certifications_scoringsheet_change", args=[sheet.pk])
    page = hr_client.get(change)
    assert page.status_code == 200 and "停送电操作程序" in page.content.decode()
    assert hr_client.post(change, {"total": "100"}).status_code == 403
    assert hr_client.get(reverse("admin:certifications_scoringsheet_add")).status_code == 403


def test_an_assessor_cannot_resolve_a_case(client):
    p, case = two_sheets()
    client.force_login(p.assessor)
    url = reverse("admin:certifications_scoringmoderation_resolve", args=[case.pk])
    assert client.post(url, {"chosen": case.second_id, "reason": "mine"}).status_code == 403
    assert AssessmentResult.objects.get().score == 95
