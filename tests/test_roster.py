"""The shift-roster check: a verdict per row, in the site and on the command line."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from certifications.clearance.roster import Verdict, roster_check, roster_xlsx
from core.spreadsheets import EMPLOYEE_NUMBER_HEADERS
from tests.compliance_builders import TODAY, cleared_electrician, electrician_trade
from tests.factories import UnitFactory, UserFactory, WorkerFactory

pytestmark = pytest.mark.django_db
URL = "/compliance/roster/"


@pytest.fixture
def people():
    trade, op = electrician_trade()
    ok = cleared_electrician(trade, op, employee_no="E1")
    blocked = cleared_electrician(trade, op, employee_no="E2", certificate=False)
    return ok, blocked


def xlsx(rows, title="2026年3月 综采一队 排班表"):
    book = Workbook()
    sheet = book.active
    sheet.append([title])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS = [
    ["工号", "姓名", "工种", "日期"],
    ["E1", "甲", "综采维修电工", "2026-03-10"],
    ["E2", "乙", "电钳工", "2026.3.10"],
    ["E999", "丙", "综采维修电工", "2026-03-10"],
    ["E1", "甲", "厨师", "2026-03-10"],
    ["E1", "甲", "综采维修电工", "三月十日"],
    ["E1", "甲", "综采维修电工", "2026-05-06"],
]


def test_every_row_gets_a_verdict_and_unknowns_do_not_crash(people):
    rows = roster_check(xlsx(ROWS))
    assert [r.verdict for r in rows] == [
        Verdict.CLEARED,
        Verdict.NOT_CLEARED,
        Verdict.UNKNOWN_WORKER,
        Verdict.UNKNOWN_TRADE,
        Verdict.INVALID,
        Verdict.NOT_CLEARED,
    ]
    assert rows[0].row == 3  # the spreadsheet's own row numbers, below the title and header
    assert rows[0].lapses_on.isoformat() == "2026-05-05"
    assert "煤矿井下电气作业" in rows[1].reasons_text
    assert "E999" in rows[2].reasons_text
    assert "厨师" in rows[3].reasons_text
    assert "review" in rows[5].reasons_text


def test_a_gbk_csv_roster_without_a_date_column_uses_the_given_date(people):
    data = "工号,工种\nE1,综采维修电工\n".encode("gbk")
    rows = roster_check(data, default_on=TODAY)
    assert rows[0].verdict == Verdict.CLEARED and rows[0].on == TODAY


def test_the_download_escapes_formulas_in_text_cells(people):
    rows = roster_check('工号,工种,日期\n"=HYPERLINK(""x"")",综采维修电工,2026-03-10\n'.encode())
    sheet = load_workbook(io.BytesIO(roster_xlsx(rows))).active
    values = [c.value for c in list(sheet.iter_rows())[1]]
    assert values[1].startswith("'=")


def test_hr_uploads_a_roster_and_sees_the_verdicts(hr_client, people):
    upload = io.BytesIO(xlsx(ROWS))
    upload.name = "roster.xlsx"
    response = hr_client.post(URL, {"file": upload, "check": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "E999" in body and "Unknown employee number" in body and "Not cleared" in body


def test_hr_downloads_the_verdicts_as_xlsx(hr_client, people):
    upload = io.BytesIO(xlsx(ROWS))
    upload.name = "roster.xlsx"
    response = hr_client.post(URL, {"file": upload, "download": "1"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 + 6


def test_a_file_that_is_not_a_roster_gets_a_message_not_an_error(hr_client, people):
    upload = io.BytesIO(b"hello,world\n1,2\n")
    upload.name = "x.csv"
    response = hr_client.post(URL, {"file": upload, "check": "1"})
    assert response.status_code == 200
    assert "header" in response.content.decode()


def test_a_leader_only_sees_verdicts_for_their_own_units(client, people):
    user = UserFactory(username="leader1", role="crew_leader")
    WorkerFactory(unit=UnitFactory(code="ELSEWHERE"), user=user, is_team_leader=True)
    client.force_login(user)
    upload = io.BytesIO(xlsx(ROWS))
    upload.name = "roster.xlsx"
    body = client.post(URL, {"file": upload, "check": "1"}).content.decode()
    assert "Unknown employee number" in body and "Cleared</span>" not in body


def test_a_trainee_may_not_use_the_roster_check(client, people):
    user = UserFactory(username="trainee1", role="trainee")
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_the_command_prints_a_verdict_per_row_and_writes_xlsx(people, tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx(ROWS))
    out = tmp_path / "out.xlsx"
    call_command("check_roster", str(path), "--output", str(out))
    printed = capsys.readouterr().out
    assert "6 rows, 1 cleared" in printed
    assert load_workbook(out).active.max_row == 7


def test_the_command_explains_an_unreadable_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError):
        call_command("check_roster", str(path))


def test_a_roster_checks_in_a_fixed_number_of_queries_per_date(people, django_assert_max_num_queries):
    data = xlsx(
        [["工号", "工种", "日期"], *[["E1", "综采维修电工", "2026-03-10"]] * 50, *[["E2", "电钳工", "2026-03-11"]] * 50]
    )
    with django_assert_max_num_queries(2 + 2 * 12):
        rows = roster_check(data)
    assert len(rows) == 100


def test_a_roster_with_headers_and_no_rows_is_refused_with_what_to_do(hr_client, people):
    from certifications.clearance.roster import SpreadsheetError

    with pytest.raises(SpreadsheetError, match="no workers below them"):
        roster_check(xlsx([ROWS[0]]))
    upload = io.BytesIO(xlsx([ROWS[0]]))
    upload.name = "roster.xlsx"
    response = hr_client.post(URL, {"file": upload, "check": "1"})
    assert response.status_code == 200
    assert "no workers below them" in response.content.decode()


@pytest.mark.parametrize("header", EMPLOYEE_NUMBER_HEADERS)
def test_every_name_of_the_employee_number_column_is_read(people, header):
    rows = roster_check(xlsx([[header, "工种", "日期"], ["E1", "综采维修电工", "2026-03-10"]]))
    assert [r.verdict for r in rows] == [Verdict.CLEARED]


def test_every_reader_takes_the_employee_number_column_from_the_one_list():
    from certifications.clearance import roster
    from certifications.spreadsheets import results

    assert roster.ALIASES["employee_no"] == EMPLOYEE_NUMBER_HEADERS
    assert set(results.ALIASES["employee_no"]) == {str(results.HEADERS["employee_no"]), *EMPLOYEE_NUMBER_HEADERS}
