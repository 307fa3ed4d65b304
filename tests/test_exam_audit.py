"""
The attempt audit for HR (certifications/exams/audit.py, admin_attempts.py, audit_views.py): the session
report's figures, the attempt's paper as shown and its events in time order, read-only, in a fixed number of
queries, and seen only by HR and by the assessors who examine the session.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from certifications.exams.audit import paper_as_shown, score_bands, session_report
from certifications.models import Attempt, AttemptEvent, AttemptQuestion, QuestionVersion
from certifications.ranks.services import result_record
from tests import factories as f
from tests.site_fixtures import build_mine
from training import roles

pytestmark = pytest.mark.django_db


def attempt_of(candidate, *, score=None, ended="", number=1, minutes_ago=30):
    """An attempt as the exam door leaves it: ended ones carry their score and the result it became."""
    started = timezone.now() - dt.timedelta(minutes=minutes_ago)
    attempt = Attempt.objects.create(
        candidate=candidate,
        number=number,
        started_at=started,
        deadline=started + dt.timedelta(minutes=60),
        full_marks=Decimal("100"),
    )
    if ended:
        attempt.ended, attempt.ended_at, attempt.score = ended, started + dt.timedelta(minutes=20), Decimal(score)
        attempt.result = result_record(
            assessment=candidate.session.assessment,
            worker=candidate.worker,
            score=Decimal(score),
            attempt=number,
            reason="online exam",
        )
        attempt.save()
    return attempt


def session_with(n_ended: int, *, examiner=None):
    """A session whose roster has n_ended candidates who ended (alternately 80 and 40), one in progress, one absent."""
    session = f.ExamSessionFactory()
    if examiner is not None:
        session.assessment.examiners.add(examiner)
    for i in range(n_ended):
        candidate = f.ExamCandidateFactory(session=session)
        attempt_of(candidate, score="80" if i % 2 == 0 else "40", ended=Attempt.Ended.SUBMITTED)
    attempt_of(f.ExamCandidateFactory(session=session, worker=f.WorkerFactory(name="赵在考")))
    f.ExamCandidateFactory(session=session, worker=f.WorkerFactory(name="钱缺考"))
    return session


def test_the_report_counts_each_candidates_latest_attempt():
    session = session_with(0)
    passed_late = f.ExamCandidateFactory(session=session, attempts_allowed=2)
    attempt_of(passed_late, score="30", ended=Attempt.Ended.TIMED_OUT, minutes_ago=120)
    attempt_of(passed_late, score="90", ended=Attempt.Ended.SUBMITTED, number=2)
    failed = f.ExamCandidateFactory(session=session)
    attempt_of(failed, score="59.5", ended=Attempt.Ended.TIMED_OUT)

    report = session_report(session)
    assert report.roster == 4
    assert [line.candidate.worker.name for line in report.in_progress] == ["赵在考"]
    assert [line.candidate.worker.name for line in report.not_started] == ["钱缺考"]
    assert len(report.ended) == 2 and report.passed == 1
    assert report.pass_rate == Decimal("50.0")
    assert report.timed_out == 1 and report.resits == 1
    assert {band.low: band.count for band in report.bands if band.count} == {50: 1, 90: 1}


def test_the_bands_put_a_full_score_in_the_last_and_skip_a_paper_without_marks():
    bands = score_bands([(Decimal("100"), Decimal("100")), (Decimal("0"), Decimal("50")), (Decimal("5"), Decimal(0))])
    assert [b.count for b in bands] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_a_session_nobody_ended_has_no_pass_rate():
    report = session_report(session_with(0))
    assert report.pass_rate is None and report.passed == 0


@pytest.mark.parametrize("size", [3, 30])
def test_the_report_takes_the_same_queries_whatever_the_roster(size, hr_client, django_assert_max_num_queries):
    session = session_with(size)
    with django_assert_max_num_queries(2):
        report = session_report(session)
        assert len(report.ended) == size
    url = reverse("certifications:exam-session-report", args=[session.pk])
    with django_assert_max_num_queries(8):
        page = hr_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "赵在考" in text and "钱缺考" in text
    audits = re.findall(r'href="/admin/certifications/attempt/(\d+)/change/"', text)
    assert len(audits) == size + 1


def test_the_report_page_shows_the_figures_in_chinese(hr_client):
    session = session_with(2)
    page = hr_client.get(
        reverse("certifications:exam-session-report", args=[session.pk]), headers={"accept-language": "zh-hans"}
    )
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
    assert page.context["report"].pass_rate == Decimal("50.0")


# --- who may see it -------------------------------------------------------------------------------------------


@pytest.fixture
def people():
    mine = build_mine()
    examiner = f.UserFactory(username="examiner", role=roles.ASSESSOR, is_staff=True)
    return {
        "hr": f.UserFactory(username="hr", role=roles.HR),
        "examiner": examiner,
        "other assessor": f.UserFactory(username="other-assessor", role=roles.ASSESSOR, is_staff=True),
        "officer": f.UserFactory(username="officer", role=roles.OFFICER, is_staff=True),
        "trainee": mine.trainee.user,
        "leader": mine.leader.user,
        "session": session_with(1, examiner=examiner),
    }


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "status"),
    [("hr", 200), ("examiner", 200), ("other assessor", 404), ("officer", 404), ("trainee", 404), ("leader", 404)],
)
def test_only_hr_and_the_sessions_examiners_open_the_report(people, who, status):
    url = reverse("certifications:exam-session-report", args=[people["session"].pk])
    assert client_of(people[who]).get(url).status_code == status


def test_the_report_needs_a_login(people):
    url = reverse("certifications:exam-session-report", args=[people["session"].pk])
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_session_that_does_not_exist_is_404_for_hr(people):
    assert client_of(people["hr"]).get(reverse("certifications:exam-session-report", args=[999999])).status_code == 404


@pytest.mark.parametrize(("who", "listed"), [("hr", 2), ("examiner", 2), ("other assessor", 0)])
def test_the_attempt_list_shows_each_assessor_only_the_sessions_they_examine(people, who, listed):
    response = client_of(people[who]).get(reverse("admin:certifications_attempt_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == listed


@pytest.mark.parametrize("who", ["trainee", "leader"])
def test_trainees_and_leaders_never_reach_the_attempt_admin(people, who):
    response = client_of(people[who]).get(reverse("admin:certifications_attempt_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_another_assessor_opening_an_attempt_is_told_it_does_not_exist(people):
    attempt = Attempt.objects.filter(candidate__session=people["session"]).first()
    response = client_of(people["other assessor"]).get(
        reverse("admin:certifications_attempt_change", args=[attempt.pk])
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


# --- one attempt's audit ----------------------------------------------------------------------------------------


@pytest.fixture
def disputed():
    """An attempt of two questions: a single choice shown as C A D B and answered B, a true/false answered 错."""
    session = f.ExamSessionFactory(name="十月电工机考")
    worker = f.WorkerFactory(employee_no="300123", name="周争议")
    attempt = attempt_of(f.ExamCandidateFactory(session=session, worker=worker), score="0", ended="submitted")
    single = f.QuestionFactory(text={"stem": "井下供电“三无”指什么？", "answer": "A"})
    true_false = f.QuestionFactory(kind="true_false", text={"stem": "可以带电检修。", "options": [], "answer": "F"})
    AttemptQuestion.objects.create(
        attempt=attempt,
        question_version=QuestionVersion.objects.get(question=single),
        order=1,
        marks=Decimal("2"),
        option_order=["C", "A", "D", "B"],
        answer="B",
        answer_seq=2,
        awarded=Decimal("0"),
        answered_at=attempt.started_at + dt.timedelta(minutes=3),
    )
    AttemptQuestion.objects.create(
        attempt=attempt,
        question_version=QuestionVersion.objects.get(question=true_false),
        order=2,
        marks=Decimal("2"),
        answer="F",
        answer_seq=1,
        flagged=True,
        awarded=Decimal("2"),
    )
    t0 = attempt.started_at
    ua = "Mozilla/5.0 (Linux; Android 14; HUAWEI) Mobile"
    # Written out of time order on purpose: the audit lists them by time.
    for minutes, kind, order, detail in [
        (20, "submit", None, ""),
        (0, "start", None, ""),
        (3, "save", 1, "B seq 2"),
        (2, "save", 1, "D seq 1"),
        (5, "flag", 2, "on"),
        (21, "refused", 1, "after the deadline"),
    ]:
        AttemptEvent.objects.create(
            attempt=attempt,
            at=t0 + dt.timedelta(minutes=minutes),
            kind=kind,
            order=order,
            detail=detail,
            ip="10.8.0.23",
            user_agent=ua,
        )
    return attempt


def test_the_paper_shows_the_options_in_the_order_the_candidate_saw(disputed):
    first, second = paper_as_shown(disputed)
    assert [(o.label, o.key) for o in first.options] == [("A", "C"), ("B", "A"), ("C", "D"), ("D", "B")]
    assert first.given == "D" and first.correct == "B"
    assert [o.label for o in first.options if o.chosen] == ["D"]
    assert second.given == "False (错)" and second.options == []


def test_the_audit_page_lists_the_paper_and_every_event_in_time_order(disputed, hr_client):
    response = hr_client.get(reverse("admin:certifications_attempt_change", args=[disputed.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "井下供电“三无”指什么？" in text and "可以带电检修。" in text
    audit = text[text.rindex('<table class="exam-audit">') :]
    kinds = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", audit)
    assert kinds == ["Started", "Answer saved", "Answer saved", "Flag changed", "Submitted", "Save refused"]
    assert audit.index("D seq 1") < audit.index("B seq 2")
    assert "10.8.0.23" in text and "HUAWEI" in text
    assert reverse("certifications:exam-session-report", args=[disputed.candidate.session_id]) in text
    # Read-only: no save button, and a post changes nothing.
    assert 'name="_save"' not in text
    assert hr_client.post(reverse("admin:certifications_attempt_change", args=[disputed.pk]), {}).status_code == 403
    assert hr_client.get(reverse("admin:certifications_attempt_add")).status_code == 403
    assert hr_client.get(reverse("admin:certifications_attempt_delete", args=[disputed.pk])).status_code == 403


@pytest.mark.parametrize("term", ["300123", "周争议", "zhouzhengyi", "zzy"])
def test_hr_finds_an_attempt_by_employee_number_name_or_pinyin(disputed, hr_client, term):
    f.ExamCandidateFactory(session=disputed.candidate.session, worker=f.WorkerFactory(name="吴旁人"))
    response = hr_client.get(reverse("admin:certifications_attempt_changelist"), {"q": term})
    assert [a.pk for a in response.context["cl"].result_list] == [disputed.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ended": "open"}, {"赵在考"}),
        ({"passed": "yes"}, {"p"}),
        ({"passed": "no"}, {"f"}),
        ({"passed": "none"}, {"赵在考"}),
    ],
)
def test_the_attempt_list_filters_by_ended_and_passed(hr_client, params, expected):
    session = session_with(0)
    attempt_of(f.ExamCandidateFactory(session=session, worker=f.WorkerFactory(name="p")), score="90", ended="submitted")
    attempt_of(f.ExamCandidateFactory(session=session, worker=f.WorkerFactory(name="f")), score="10", ended="timed_out")
    response = hr_client.get(
        reverse("admin:certifications_attempt_changelist"), {**params, "candidate__session__id__exact": session.pk}
    )
    assert {a.candidate.worker.name for a in response.context["cl"].result_list} == expected


@pytest.mark.parametrize("size", [3, 30])
def test_the_attempt_list_takes_the_same_queries_whatever_its_length(size, hr_client, django_assert_max_num_queries):
    session_with(size)
    with django_assert_max_num_queries(12):
        response = hr_client.get(reverse("admin:certifications_attempt_changelist"))
    assert response.context["cl"].result_count == size + 1


@pytest.mark.parametrize("questions", [3, 30])
def test_the_audit_page_takes_the_same_queries_whatever_the_paper(questions, hr_client, django_assert_max_num_queries):
    attempt = attempt_of(f.ExamCandidateFactory(), score="10", ended="submitted")
    for order in range(1, questions + 1):
        version = QuestionVersion.objects.get(question=f.QuestionFactory())
        AttemptQuestion.objects.create(
            attempt=attempt, question_version=version, order=order, marks=Decimal("2"), answer="B", answer_seq=1
        )
        AttemptEvent.objects.create(attempt=attempt, kind="save", order=order, detail="B")
    with django_assert_max_num_queries(16):
        response = hr_client.get(reverse("admin:certifications_attempt_change", args=[attempt.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("<tr><td>") == 2 * questions


def test_the_session_filter_names_only_the_sessions_an_assessor_examines(people):
    hidden = f.ExamSessionFactory(name="别人的机考")
    attempt_of(f.ExamCandidateFactory(session=hidden))
    url = reverse("admin:certifications_attempt_changelist")
    assert "别人的机考" not in client_of(people["examiner"]).get(url).content.decode()
    assert "别人的机考" in client_of(people["hr"]).get(url).content.decode()
