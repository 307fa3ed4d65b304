"""send_reminders: crew leaders hear about their units, HR gets a summary, and nothing is sent twice."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command

from certifications.clearance import facts as compliance
from certifications.clearance import reminders
from certifications.models import ReminderLog
from tests.compliance_builders import TODAY, cleared_electrician, electrician_trade
from tests.factories import UnitFactory, UserFactory, WorkerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(hr_user):
    hr_user.email = "hr@mine.example"
    hr_user.save()
    trade, op = electrician_trade()
    crew, other_crew = UnitFactory(code="CREW1"), UnitFactory(code="CREW2")
    leader_user = UserFactory(username="leader", role="crew_leader", email="leader@mine.example")
    WorkerFactory(unit=crew, user=leader_user, is_team_leader=True, employee_no="L1")
    due = cleared_electrician(trade, op, unit=crew, employee_no="E1")  # review due 2026-05-05
    elsewhere = cleared_electrician(trade, op, unit=other_crew, employee_no="E2")
    return due, elsewhere


def test_the_due_bucket_boundaries():
    assert compliance.due_bucket(TODAY - dt.timedelta(days=1), TODAY) == "overdue"
    assert compliance.due_bucket(TODAY, TODAY) == "30"
    assert compliance.due_bucket(TODAY + dt.timedelta(days=30), TODAY) == "30"
    assert compliance.due_bucket(TODAY + dt.timedelta(days=31), TODAY) == "60"
    assert compliance.due_bucket(TODAY + dt.timedelta(days=90), TODAY) == "90"
    assert compliance.due_bucket(TODAY + dt.timedelta(days=91), TODAY) is None


def test_a_leader_hears_only_about_their_unit_and_hr_about_everyone(mine):
    run = reminders.reminders_send(on=TODAY)
    assert run.emails == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    leader_mail, hr_mail = by_to["leader@mine.example"], by_to["hr@mine.example"]
    assert "E1" in leader_mail.body and "E2" not in leader_mail.body
    assert "2026-05-05" in leader_mail.body
    assert "E1" in hr_mail.body and "E2" in hr_mail.body
    assert "HR summary" in hr_mail.subject


def test_running_twice_sends_nothing_new(mine):
    reminders.reminders_send(on=TODAY)
    sent = len(mail.outbox)
    again = reminders.reminders_send(on=TODAY)
    assert again.emails == 0 and len(mail.outbox) == sent
    later_same_bucket = reminders.reminders_send(on=TODAY + dt.timedelta(days=1))
    assert later_same_bucket.emails == 0


def test_an_item_moving_to_a_closer_bucket_is_sent_again(mine):
    reminders.reminders_send(on=TODAY)  # 56 days before the review: the 60-day bucket
    mail.outbox.clear()
    run = reminders.reminders_send(on=dt.date(2026, 4, 10))  # 25 days before: the 30-day bucket
    assert run.emails == 2
    assert ReminderLog.objects.filter(bucket="30").count() >= 2


def test_a_dry_run_sends_and_records_nothing(mine):
    run = reminders.reminders_send(on=TODAY, dry_run=True)
    assert run.emails == 2
    assert not mail.outbox and not ReminderLog.objects.exists()


def test_a_failed_send_records_nothing_so_the_next_run_retries(mine, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(reminders, "send_mail", broken)
    with pytest.raises(OSError):
        reminders.reminders_send(on=TODAY)
    assert not ReminderLog.objects.exists()


def test_the_command_reports_what_it_sent(mine, capsys):
    call_command("send_reminders", "--on", TODAY.isoformat())
    assert "Sent 2 e-mail(s)" in capsys.readouterr().out
    call_command("send_reminders", "--on", TODAY.isoformat())
    assert "Sent 0 e-mail(s)" in capsys.readouterr().out


def test_reminders_take_a_fixed_number_of_queries(mine, django_assert_max_num_queries):
    trade, op = electrician_trade()
    crew = mine[0].unit
    for n in range(10):
        cleared_electrician(trade, op, unit=crew, employee_no=f"X{n}")
    with django_assert_max_num_queries(25):
        reminders.reminders_send(on=TODAY, dry_run=True)
