"""Scoring sheets as evidence on the worker page, and the candidate's code for the assessor's tablet."""

import json
import re

import pytest
import segno
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from tests.practical_setup import practical_build, sheet_payload

pytestmark = pytest.mark.django_db


def sync(user, payload):
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("certifications:practical-sync"), json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content


def test_the_worker_page_shows_each_item_with_its_deductions_and_a_critical_failure_in_words(hr_client):
    p = practical_build()
    sync(p.assessor, sheet_payload(p, p.workers[0], marks=[(p.items[0], 2, 0)], critical=p.critical[0]))
    page = hr_client.get(p.workers[0].get_absolute_url()).content.decode()
    assert "Failed on a critical item (否决项): 带电作业" in page
    assert "停送电操作程序" in page and "2 mistakes" in page and "−10" in page


def test_the_worker_page_reads_the_sheets_in_a_fixed_number_of_queries(hr_client):
    p = practical_build(candidates=1)
    worker = p.workers[0]
    url = worker.get_absolute_url()
    sync(p.assessor, sheet_payload(p, worker, marks=[(p.items[0], 1, 0)]))
    hr_client.get(url)
    with CaptureQueriesContext(connection) as one:
        hr_client.get(url)
    sync(p.second_assessor, sheet_payload(p, worker, marks=[(i, 1, 1) for i in p.items]))
    with CaptureQueriesContext(connection) as two:
        hr_client.get(url)
    assert len(two.captured_queries) == len(one.captured_queries)


def test_a_worker_sees_their_code_and_a_link_for_the_assessors_tablet(client):
    user = f.UserFactory(username="trainee-z", role="trainee")
    f.WorkerFactory(user=user, employee_no="E777")
    client.force_login(user)
    page = client.get(reverse("certifications:me")).content.decode()
    assert "<strong>E777</strong>" in page
    assert reverse("certifications:practical-tablet") + "?worker=E777" in page


def test_the_worker_page_carries_a_qr_of_the_tablet_link_drawn_on_the_server(client):
    user = f.UserFactory(username="trainee-q", role="trainee")
    f.WorkerFactory(user=user, employee_no="E778")
    client.force_login(user)
    page = client.get(reverse("certifications:me")).content.decode()
    url = "http://testserver" + reverse("certifications:practical-tablet") + "?worker=E778"
    # The same matrix segno draws for the tablet's URL: the code encodes exactly that link.
    expected = segno.make(url, error="m")
    other = segno.make(url.replace("E778", "E779"), error="m")
    figure = page[page.index('class="no-print practical-qr"') :]
    figure = figure[: figure.index("</figure>")]
    path = re.search(r'<path[^>]* d="([^"]+)"', figure).group(1)
    assert path == re.search(r' d="([^"]+)"', expected.svg_inline(scale=4, border=2)).group(1)
    assert path != re.search(r' d="([^"]+)"', other.svg_inline(scale=4, border=2)).group(1)
    assert "<script" not in figure


def test_the_tablet_lists_only_the_sittings_the_user_examines(client):
    p = practical_build()
    client.force_login(p.assessor)
    page = client.get(reverse("certifications:practical-tablet")).content.decode()
    assert 'id="tablet"' in page and "You examine no practical sitting" not in page
    client.force_login(p.outsider)
    assert "You examine no practical sitting" in client.get(reverse("certifications:practical-tablet")).content.decode()


def test_the_service_worker_is_served_under_the_pages_scope_with_the_shell(client):
    p = practical_build()
    client.force_login(p.assessor)
    response = client.get(reverse("certifications:practical-sw"))
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert '"/practical/"' in body and "kuangjiang/practical.js" in body
    assert reverse("certifications:practical-sw").startswith(reverse("certifications:practical-tablet"))
