"""The recertification forecast: reviews and expiries per month, unit and trade."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from certifications.clearance.forecast import recertification_forecast
from tests.compliance_builders import TODAY, cleared_electrician, electrician_trade
from tests.factories import CertificateFactory, CertificateReviewFactory, UnitFactory, UserFactory, WorkerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def certs():
    trade, op = electrician_trade()
    crew = UnitFactory(code="C1", name="综采一队")
    cleared_electrician(trade, op, unit=crew)  # its review falls due on 2026-05-05
    reviewed = cleared_electrician(trade, op, unit=crew)
    CertificateReviewFactory(
        certificate=reviewed.certificates.get(), reviewed_on=dt.date(2026, 3, 8)
    )  # in the window: next due 2029
    expiring = WorkerFactory(unit=crew)
    CertificateFactory(
        worker=expiring,
        special_operation=op,
        trade=trade,
        issued_on=dt.date(2021, 1, 10),
        valid_until=dt.date(2027, 1, 9),
        next_review_due=dt.date(2027, 1, 9),
    )
    CertificateReviewFactory(certificate=expiring.certificates.get(), reviewed_on=dt.date(2023, 12, 1))
    lapsed = WorkerFactory(unit=crew)
    CertificateFactory(
        worker=lapsed,
        special_operation=op,
        trade=trade,
        issued_on=dt.date(2020, 1, 1),
        next_review_due=dt.date(2023, 1, 1),
        valid_until=dt.date(2026, 1, 1),
    )
    return crew, trade


def test_reviews_and_expiries_land_in_their_month(certs, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        forecast = recertification_forecast(on=TODAY)
    assert forecast.months[0] == dt.date(2026, 3, 1) and len(forecast.months) == 12
    [row] = forecast.rows
    assert row.trade_name == "综采维修电工" and row.unit_name == "综采一队"
    assert row.reviews[2] == 1  # May 2026
    assert sum(row.reviews) == 1
    assert row.expiries[10] == 1  # January 2027
    assert row.overdue == 1


def test_hr_downloads_the_forecast_as_xlsx(hr_client, certs):
    response = hr_client.get("/compliance/forecast.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Unit", "Trade", "Due")
    assert any(r[0] == "综采一队" for r in rows)


def test_a_trainee_cannot_download_the_forecast(client, certs):
    client.force_login(UserFactory(username="t1", role="trainee"))
    assert client.get("/compliance/forecast.xlsx").status_code == 403
