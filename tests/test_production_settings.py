"""Production mode: `check --deploy` is clean, cookies are secure, HSTS is on, whitenoise serves static files."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="example.org",
        CSRF_TRUSTED_ORIGINS="https://example.org",
        DATABASE_URL="sqlite:////tmp/kj_production_check.sqlite3",
    )
    env.update(extra)
    return env


def run_manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(**env) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'DEBUG': s.DEBUG, 'SESSION_COOKIE_SECURE': s.SESSION_COOKIE_SECURE, 'CSRF_COOKIE_SECURE': s.CSRF_COOKIE_SECURE,"  # noqa: E501
        "'SECURE_HSTS_SECONDS': s.SECURE_HSTS_SECONDS, 'SECURE_SSL_REDIRECT': s.SECURE_SSL_REDIRECT,"
        "'ALLOWED_HOSTS': s.ALLOWED_HOSTS, 'CSRF_TRUSTED_ORIGINS': s.CSRF_TRUSTED_ORIGINS,"
        "'STATICFILES': s.STORAGES['staticfiles']['BACKEND'], 'MIDDLEWARE': s.MIDDLEWARE,"
        "'LOG_STREAM': s.LOGGING['handlers']['console'].get('stream'), 'TRUSTED_PROXY_COUNT': s.TRUSTED_PROXY_COUNT,"
        "'AUTHENTICATION_BACKENDS': s.AUTHENTICATION_BACKENDS, 'AXES_LOCKOUT_PARAMETERS': s.AXES_LOCKOUT_PARAMETERS}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(**env), capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_check_deploy_is_clean_in_production_mode():
    completed = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues (0 silenced)." in completed.stdout
    assert "WARNINGS" not in completed.stdout + completed.stderr


def test_check_deploy_stays_clean_when_debug_leaks_into_the_environment():
    completed = run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="1")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no issues" in completed.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    completed = run_manage("check", SECRET_KEY="short")
    assert completed.returncode != 0
    assert "SECRET_KEY" in completed.stderr


def test_production_uses_secure_cookies_hsts_and_whitenoise():
    values = production_settings()
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in values["MIDDLEWARE"]
    assert values["MIDDLEWARE"].index("whitenoise.middleware.WhiteNoiseMiddleware") == 1
    assert values["LOG_STREAM"] == "ext://sys.stdout"


def test_hosts_and_trusted_origins_come_from_the_environment():
    values = production_settings(
        ALLOWED_HOSTS="mine.example.cn, 10.0.0.5", CSRF_TRUSTED_ORIGINS="https://mine.example.cn"
    )
    assert values["ALLOWED_HOSTS"] == ["mine.example.cn", "10.0.0.5"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://mine.example.cn"]


def test_gunicorn_is_pinned_in_requirements():
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("gunicorn==") for line in pins)
    assert "gunicorn==" in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("module", ["config.wsgi"])
def test_the_wsgi_module_defaults_to_production(module):
    text = (ROOT / (module.replace(".", "/") + ".py")).read_text()
    assert 'setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")' in text


def test_production_locks_out_per_client_behind_its_proxy_and_sends_the_csp():
    values = production_settings()
    assert values["TRUSTED_PROXY_COUNT"] == 1  # the TLS proxy's X-Forwarded-For entry is the client
    assert values["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert values["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert values["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"
    assert "core.middleware.ContentSecurityPolicyMiddleware" in values["MIDDLEWARE"]
    assert production_settings(TRUSTED_PROXY_COUNT="0")["TRUSTED_PROXY_COUNT"] == 0
