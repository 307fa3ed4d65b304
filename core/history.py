"""
Reasons on the audit trail. django-simple-history keeps one history row per
save of every audited model; HistoryRequestMiddleware fills in the user for web
requests. Services mark their writes with a reason through `with_reason`.
"""

from typing import TypeVar

M = TypeVar("M")


def with_reason(instance: M, reason: str, *, user=None) -> M:
    """Mark the next save of `instance` with a change reason (and user, outside a request); return it."""
    instance._change_reason = (reason or "").strip()
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user
    return instance
