"""
Settings shared by every environment. Everything that differs between a
laptop and a mine's server is read from the environment.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment (or DEBUG=1 for development).")
    # A development-only key; production refuses to start without a real one.
    SECRET_KEY = "django-insecure-kuangjiang-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "core.apps.KuangjiangAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "simple_history",
    "django_filters",
    "django_tasks",
    "core.apps.TasksDatabaseConfig",  # django_tasks_db, translated
    "axes",
    "csp",
    "core",
    "training",
    "certifications",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.FriendlyErrorPagesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.RejectControlCharactersMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a login refused for lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the embedded task worker and the web server use the file at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("DATABASE_JIT", False):
    # PostgreSQL JIT-compiles every query its planner costs above jit_above_cost, whatever it then reads: the
    # top unit of a 100,000-worker group sorted by rank spent 316 of its 733 ms compiling. No JIT for a web app.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: English source strings, Simplified Chinese by default.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# locale_vendor/: Chinese for third-party admin screens that ship none (django-axes), apart from our catalogue.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# Dates read 2026-09-05 in both languages (see config/formats).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Uploaded spreadsheets carry personal data: keep them outside any served folder.
PRIVATE_UPLOAD_ROOT = Path(os.environ.get("PRIVATE_UPLOAD_ROOT", BASE_DIR / "var" / "private"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kuangjiang@localhost")

# django-import-export
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES = True
# Uploads carry personal data: kept in the never-served cache between preview and confirm, for an hour at most.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "core.importexport.PrivateCacheStorage"

# django-tasks: background jobs stored in the database; `manage.py db_worker` runs them.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "kuangjiang_cache",
    }
}

# The client's address, for login lockouts and the API's rate limit: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT
# proxies in front (production: 1) the entry that many from the right of X-Forwarded-For, which they append.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# django-axes: after AXES_FAILURE_LIMIT failed logins for one login name from one address, that pair is locked out
# for the cool-off (a failure while locked starts it again); other names, and this name elsewhere, still log in.
# HR unlocks a pair early in the admin (Axes › Access attempts › "Unlock").
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_VERBOSE = False

# django-csp: scripts and styles from our own static files only; no inline script, handler or style attribute
# on our pages (tests/test_security_csp.py renders them). core.middleware relaxes style-src for /admin/ only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# API tokens: an address that sends this many wrong tokens within the window gets 429 until the window ends.
API_TOKEN_FAILURE_LIMIT = int(os.environ.get("API_TOKEN_FAILURE_LIMIT", "10"))
API_TOKEN_FAILURE_WINDOW = int(os.environ.get("API_TOKEN_FAILURE_WINDOW_SECONDS", "600"))
API_TOKEN_FAILURE_CACHE = "default"  # the cache alias that counts them

# django-simple-history: change reasons are free text (the admin asks for one when a score changes).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# django-concurrency: optimistic locking of what HR edits (core/versions.py). The version is a plain counter
# bumped by the save itself, so no database triggers.
CONCURRENCY_AUTO_CREATE_TRIGGERS = False

# Kuangjiang's own settings.
KUANGJIANG = {
    # "auto": the roll-up awards a rank as soon as every requirement is met;
    # "confirm": it creates a pending award that HR approves or rejects.
    "RANK_AWARD_MODE": os.environ.get("RANK_AWARD_MODE", "confirm"),
    "UPLOAD_MAX_BYTES": int(os.environ.get("UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))),
    # Rows a sheet may have: more is refused before they are read (bench/spreadsheets.py imports 10,000).
    "SPREADSHEET_MAX_ROWS": int(os.environ.get("SPREADSHEET_MAX_ROWS", "200000")),
    # Legal retention of training records (docs/domain.md §2); a mine may keep them longer, never shorter.
    "RETENTION_YEARS": int(os.environ.get("RETENTION_YEARS", "3")),
    "RETENTION_YEARS_SPECIAL_OPERATION": int(os.environ.get("RETENTION_YEARS_SPECIAL_OPERATION", "6")),
    # Under DEBUG, Django's own 404/500 pages (URL patterns, traceback) instead of the site's translated ones.
    "TECHNICAL_ERROR_PAGES": env_bool("KUANGJIANG_TECHNICAL_ERRORS", False),
    # Simulator results through xAPI (docs/simulators.md): the largest request and batch a simulator may send,
    # and the minutes of one class hour (学时), which turn time in the simulator into practical hours.
    "XAPI_MAX_BYTES": int(os.environ.get("XAPI_MAX_BYTES", str(1024 * 1024))),
    "XAPI_MAX_BATCH": int(os.environ.get("XAPI_MAX_BATCH", "1000")),
    "CLASS_HOUR_MINUTES": int(os.environ.get("CLASS_HOUR_MINUTES", "45")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

ADMIN_SITE_TITLE = _("Kuangjiang 矿匠")
