"""API tokens for the clearance API: created for HR or holders of the permission, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.models import ApiToken
from training.access import is_hr

TOKEN_BYTES = 32


def token_hash(raw: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough: no salt or slow hash needed.
    return hashlib.sha256(raw.encode()).hexdigest()


def may_use_api(user: AbstractBaseUser | None) -> bool:
    """Return True when this user may hold a clearance-API token: HR or the explicit permission."""
    return bool(user and user.is_active and (is_hr(user) or user.has_perm("certifications.use_clearance_api")))


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; return it with the raw token, which is never stored or shown again."""
    if not may_use_api(user):
        raise ValidationError(
            _("Only the training department, or users with the clearance-API permission, can hold an API token.")
        )
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(name=name, user=user, prefix=raw[:8], key_hash=token_hash(raw))
    token.full_clean()
    token.save()
    return token, raw


def api_token_authenticate(raw: str) -> ApiToken | None:
    """
    Return the active token for this raw value, with its user, or None.

    The token is found by its prefix (not secret: the admin lists it), then its hash is compared with
    hmac.compare_digest, so how long a wrong token takes to refuse says nothing about how close it came.
    """
    if not raw:
        return None
    digest = token_hash(raw)
    candidates = ApiToken.objects.select_related("user").filter(prefix=raw[:8], active=True, user__is_active=True)
    token = None
    for candidate in candidates:
        if hmac.compare_digest(candidate.key_hash.encode(), digest.encode()):
            token = candidate
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
