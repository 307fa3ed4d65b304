"""
Wrong credentials counted per client address in fixed windows (settings API_TOKEN_FAILURE_LIMIT per
API_TOKEN_FAILURE_WINDOW seconds, in the cache API_TOKEN_FAILURE_CACHE): the one limiter of every machine
interface that takes a secret — the clearance API's tokens and the simulators' xAPI credentials.
"""

import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse

from core.client_ip import client_ip


def _key(request) -> tuple[str, int]:
    """Return the cache key counting this address's wrong secrets in the current window, and seconds left in it."""
    window = settings.API_TOKEN_FAILURE_WINDOW
    now = time.time()
    bucket = int(now // window)
    return f"kuangjiang:api-token-failures:{client_ip(request)}:{bucket}", math.ceil((bucket + 1) * window - now)


def failures_block(request) -> int | None:
    """Return the seconds until this address may try again when it has sent too many wrong secrets, else None."""
    key, seconds_left = _key(request)
    if caches[settings.API_TOKEN_FAILURE_CACHE].get(key, 0) < settings.API_TOKEN_FAILURE_LIMIT:
        return None
    return seconds_left


def failures_refusal(request, respond: Callable[[int], HttpResponse]) -> HttpResponse | None:
    """
    None while this address may try; else the caller's 429 (respond(minutes) builds it, in its own words and
    shape) with Retry-After set to the seconds left in the window.
    """
    seconds_left = failures_block(request)
    if seconds_left is None:
        return None
    response = respond(math.ceil(seconds_left / 60))
    response["Retry-After"] = str(seconds_left)
    return response


def failure_count(request) -> None:
    """Count one wrong secret from this address."""
    # get-then-set rather than incr: the database cache's incr would reset the expiry. Two wrong secrets at the
    # same instant may be counted as one, which lets an attacker a guess or two more, not a flood.
    key, seconds_left = _key(request)
    cache = caches[settings.API_TOKEN_FAILURE_CACHE]
    cache.set(key, cache.get(key, 0) + 1, seconds_left)
