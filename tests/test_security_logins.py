"""
Logins resist guessing (django-axes): a login name is locked out from one address after
AXES_FAILURE_LIMIT wrong passwords, with our own translated page; other names and other
addresses still log in; the training department unlocks it in the admin.
"""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def victim(db):
    user = UserFactory(username="zhangsan")
    user.set_password(PASSWORD)
    user.save()
    return user


def login(client, username, password, ip="10.0.0.1", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, headers=headers)


def fail_until_locked(client, username="zhangsan", ip="10.0.0.1", **headers):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = login(client, username, "wrong", ip=ip, **headers)
    return response


def test_a_wrong_password_below_the_limit_shows_the_login_form_again(client, victim):
    response = login(client, "zhangsan", "wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_after_the_limit_even_the_right_password_is_refused_with_429(client, victim):
    response = fail_until_locked(client)
    assert response.status_code == 429
    response = login(client, "zhangsan", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert "Too many failed logins for this login name from this computer." in html
    assert "Try again in 30 minutes." in html
    assert 'class="site-header"' in html  # our own page, in the site's look


def test_one_failure_short_of_the_limit_still_logs_in(client, victim):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "zhangsan", "wrong")
    response = login(client, "zhangsan", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)


def test_the_lockout_page_is_in_chinese_for_a_chinese_browser(client, victim):
    response = fail_until_locked(client, **{"Accept-Language": "zh-hans"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录已锁定" in html
    assert "此登录名在这台计算机上登录失败次数过多。" in html
    assert "30 分钟后再试" in html


def test_another_user_from_the_same_address_is_not_locked(client, victim):
    fail_until_locked(client)
    other = UserFactory(username="lisi")
    other.set_password(PASSWORD)
    other.save()
    response = login(client, "lisi", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_the_same_user_from_another_address_is_not_locked(client, victim):
    fail_until_locked(client, ip="10.0.0.1")
    response = login(client, "zhangsan", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302


def test_the_admin_login_is_locked_too(client, victim):
    fail_until_locked(client)
    response = client.post(
        reverse("admin:login"), {"username": "zhangsan", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429


def test_hr_sees_the_lockout_and_unlocks_it_in_the_admin(client, victim, hr_user):
    fail_until_locked(client)
    assert AccessAttempt.objects.filter(username="zhangsan").exists()
    hr = client.__class__()
    hr.force_login(hr_user)
    changelist = reverse("admin:axes_accessattempt_changelist")
    listing = hr.get(changelist)
    assert listing.status_code == 200
    assert "zhangsan" in listing.content.decode()
    assert reverse("admin:axes_accessattempt_changelist") in hr.get(reverse("admin:index")).content.decode()
    attempt = AccessAttempt.objects.get(username="zhangsan")
    response = hr.post(changelist, {"action": "unlock", "_selected_action": [attempt.pk]}, follow=True)
    assert response.status_code == 200
    assert "Unlocked zhangsan" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="zhangsan").exists()
    response = login(client, "zhangsan", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)


def test_an_officer_cannot_unlock(client, victim):
    fail_until_locked(client)
    officer = UserFactory(username="officer-1", role="training_officer", is_staff=True)
    staff = client.__class__()
    staff.force_login(officer)
    assert staff.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    attempt = AccessAttempt.objects.get(username="zhangsan")
    staff.post(reverse("admin:axes_accessattempt_changelist"), {"action": "unlock", "_selected_action": [attempt.pk]})
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_behind_the_proxy_the_forwarded_client_address_is_what_gets_locked(client, victim, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote its own X-Forwarded-For entry; the proxy appended the address it saw, 10.9.9.9.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "zhangsan", "wrong", ip="192.168.0.1", **{"X-Forwarded-For": "1.2.3.4, 10.9.9.9"})
    assert AccessAttempt.objects.get(username="zhangsan").ip_address == "10.9.9.9"
    # Another client behind the same proxy is not locked out by the first one's failures.
    response = login(client, "zhangsan", PASSWORD, ip="192.168.0.1", **{"X-Forwarded-For": "10.8.8.8"})
    assert response.status_code == 302


def test_hr_reads_the_access_attempt_list_in_chinese(client, victim, hr_user):
    fail_until_locked(client)
    hr = client.__class__()
    hr.force_login(hr_user)
    html = hr.get(reverse("admin:axes_accessattempt_changelist"), headers={"Accept-Language": "zh-hans"}).content
    html = html.decode()
    assert "登录尝试" in html and "已锁定" in html and "解锁所选登录" in html
