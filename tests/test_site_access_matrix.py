"""
Who sees what on the site, declared once as a table and walked cell by cell.
404 (not 403) for anything a user may not see, so existence does not leak.
"""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, WorkerFactory
from tests.site_fixtures import build_mine
from training import roles


def _classmate_exam(m):
    """An online exam the classmate (not the trainee) is on the roster of, and the attempt they started."""
    if not hasattr(m, "exam_attempt"):
        from certifications.exams.services import attempt_start
        from certifications.models import FixedQuestion
        from tests.factories import ExamCandidateFactory, QuestionFactory

        candidate = ExamCandidateFactory(worker=m.classmate, session__template__fixed=True)
        template = candidate.session.template
        FixedQuestion.objects.create(template=template, question=QuestionFactory(), order=1, marks=10)
        m.exam_attempt = attempt_start(candidate, ip=None, user_agent="")
    return m.exam_attempt


PAGES = {
    "home": lambda m: reverse("home"),
    "login": lambda m: reverse("login"),
    "me": lambda m: reverse("certifications:me"),
    "own worker page": lambda m: m.trainee.get_absolute_url(),
    "worker in subtree": lambda m: m.classmate.get_absolute_url(),
    "leader's worker page": lambda m: m.leader.get_absolute_url(),
    "worker outside subtree": lambda m: m.outsider.get_absolute_url(),
    "missing worker": lambda m: reverse("certifications:worker-detail", args=["does-not-exist"]),
    "own unit": lambda m: m.dept.get_absolute_url(),
    "unit below": lambda m: m.crew.get_absolute_url(),
    "unit outside subtree": lambda m: m.other_dept.get_absolute_url(),
    "mine": lambda m: m.mine.get_absolute_url(),
    "dashboard": lambda m: reverse("certifications:dashboard"),
    "my exams": lambda m: reverse("certifications:exam-list"),
    "another's exam rules": lambda m: reverse(
        "certifications:exam-rules", args=[_classmate_exam(m).candidate.session_id]
    ),
    "another's exam attempt": lambda m: reverse(
        "certifications:exam-attempt", kwargs={"public_id": _classmate_exam(m).public_id}
    ),
}

LOGIN = "→login"  # a redirect to the login page

# role → page → expected status. "own worker page" is the trainee's; "own unit" is the leader's department.
TABLE = {
    "anonymous": {
        "home": LOGIN,
        "login": 200,
        "me": LOGIN,
        "own worker page": LOGIN,
        "worker in subtree": LOGIN,
        "leader's worker page": LOGIN,
        "worker outside subtree": LOGIN,
        "missing worker": LOGIN,
        "own unit": LOGIN,
        "unit below": LOGIN,
        "unit outside subtree": LOGIN,
        "mine": LOGIN,
        "dashboard": LOGIN,
        "my exams": LOGIN,
        "another's exam rules": LOGIN,
        "another's exam attempt": LOGIN,
    },
    "trainee": {
        "home": "→/me/",
        "login": "→/",
        "me": 200,
        "own worker page": 200,
        "worker in subtree": 404,
        "leader's worker page": 404,
        "worker outside subtree": 404,
        "missing worker": 404,
        "own unit": 404,
        "unit below": 404,
        "unit outside subtree": 404,
        "mine": 404,
        "dashboard": 404,
        "my exams": 200,
        "another's exam rules": 404,
        "another's exam attempt": 404,
    },
    "leader": {
        "home": "→/units/ZC1/",
        "login": "→/",
        "me": 200,
        "own worker page": 200,
        "worker in subtree": 200,
        "leader's worker page": 200,
        "worker outside subtree": 404,
        "missing worker": 404,
        "own unit": 200,
        "unit below": 200,
        "unit outside subtree": 404,
        "mine": 404,
        "dashboard": 404,
        "my exams": 200,
        "another's exam rules": 404,
        "another's exam attempt": 404,
    },
    # In the leaders' group but not flagged team leader on their worker record: a trainee, nothing more.
    "leader group without the flag": {
        "home": "→/me/",
        "login": "→/",
        "me": 200,
        "own worker page": 404,
        "worker in subtree": 404,
        "leader's worker page": 404,
        "worker outside subtree": 404,
        "missing worker": 404,
        "own unit": 404,
        "unit below": 404,
        "unit outside subtree": 404,
        "mine": 404,
        "dashboard": 404,
        "my exams": 200,
        "another's exam rules": 404,
        "another's exam attempt": 404,
    },
    "hr": {
        "home": "→/dashboard/",
        "login": "→/",
        "me": 404,
        "own worker page": 200,
        "worker in subtree": 200,
        "leader's worker page": 200,
        "worker outside subtree": 200,
        "missing worker": 404,
        "own unit": 200,
        "unit below": 200,
        "unit outside subtree": 200,
        "mine": 200,
        "dashboard": 200,
        "my exams": 404,
        "another's exam rules": 404,
        "another's exam attempt": 404,
    },
    "superuser": {
        "home": "→/dashboard/",
        "login": "→/",
        "me": 404,
        "own worker page": 200,
        "worker in subtree": 200,
        "leader's worker page": 200,
        "worker outside subtree": 200,
        "missing worker": 404,
        "own unit": 200,
        "unit below": 200,
        "unit outside subtree": 200,
        "mine": 200,
        "dashboard": 200,
        "my exams": 404,
        "another's exam rules": 404,
        "another's exam attempt": 404,
    },
    "user without a role": {
        "home": 200,
        "login": "→/",
        "me": 404,
        "own worker page": 404,
        "worker in subtree": 404,
        "leader's worker page": 404,
        "worker outside subtree": 404,
        "missing worker": 404,
        "own unit": 404,
        "unit below": 404,
        "unit outside subtree": 404,
        "mine": 404,
        "dashboard": 404,
        "my exams": 404,
        "another's exam rules": 404,
        "another's exam attempt": 404,
    },
}


def login_as(client, role, mine):
    if role == "anonymous":
        return
    user = {
        "trainee": lambda: mine.trainee.user,
        "leader": lambda: mine.leader.user,
        "leader group without the flag": lambda: (
            WorkerFactory(
                employee_no="100009", unit=mine.crew, user=UserFactory(username="not-a-leader", role=roles.LEADER)
            ).user
        ),
        "hr": lambda: UserFactory(username="hr", role=roles.HR),
        "superuser": lambda: UserFactory(username="root", is_superuser=True, is_staff=True),
        "user without a role": lambda: UserFactory(username="plain"),
    }[role]()
    client.force_login(user)


def test_the_table_covers_every_role_and_page():
    for role, row in TABLE.items():
        assert set(row) == set(PAGES), role


CELLS = [(role, page) for role, row in TABLE.items() for page in row]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "page"), CELLS, ids=[f"{r}:{p}" for r, p in CELLS])
def test_each_role_sees_exactly_what_the_table_allows(client, role, page):
    mine = build_mine()
    login_as(client, role, mine)
    url = PAGES[page](mine)
    response = client.get(url)
    expected = TABLE[role][page]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif isinstance(expected, str):
        assert response.status_code == 302
        assert response["Location"] == expected.removeprefix("→")
    else:
        assert response.status_code == expected
    if response.status_code == 404 and page not in ("me", "dashboard", "missing worker", "my exams"):
        # A refused page says nothing about who or what is behind it.
        body = response.content.decode()
        for name in (
            mine.trainee.name,
            mine.classmate.name,
            mine.leader.name,
            mine.outsider.name,
            mine.other_dept.name,
        ):
            assert name not in body
