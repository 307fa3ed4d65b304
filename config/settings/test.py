"""Test settings: fast hashing, in-memory email, tasks run on the spot."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "1")

from config.settings.base import *
from config.settings.base import KUANGJIANG, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Apart, so that each test can start with no wrong API tokens counted (tests/conftest.py).
    "rate_limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rate-limits"},
}
API_TOKEN_FAILURE_CACHE = "rate_limits"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
KUANGJIANG = {**KUANGJIANG, "RANK_AWARD_MODE": "confirm"}
LANGUAGE_CODE = "en"
# Uploads (question images, scoring-sheet photos) go to a scratch folder of this run, not var/media.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kuangjiang-media-"))
