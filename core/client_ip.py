"""The address a request came from, for login lockouts and the API's rate limit."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """
    Return the client's address: REMOTE_ADDR, or behind settings.TRUSTED_PROXY_COUNT proxies the
    X-Forwarded-For entry that many from the right (each proxy appends the address it saw; whatever
    the client wrote itself stands further left and is ignored). A missing or malformed header falls
    back to REMOTE_ADDR, so a client cannot choose its address by writing one.
    """
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return _valid(forwarded[-count]) or remote
