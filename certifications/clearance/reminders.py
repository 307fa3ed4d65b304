"""
Reminders: e-mail each crew leader what falls due in their units, and HR a
summary, once per recipient, item and bucket (overdue, 30, 60, 90 days).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from certifications.clearance.facts import BUCKETS, clearance_for_workers, due_bucket
from certifications.models import ReminderLog
from training import roles
from training.access import descendant_unit_ids
from training.models import Unit, Worker


@dataclass(frozen=True)
class DueItem:
    worker_id: int
    employee_no: str
    worker_name: str
    unit_id: int
    unit_name: str
    key: str
    label: str
    due_on: dt.date
    bucket: str


@dataclass
class ReminderRun:
    emails: int = 0
    items: int = 0
    recipients: list[str] = field(default_factory=list)


def due_items_get(*, on: dt.date) -> list[DueItem]:
    """Return everything that falls due within 90 days or is overdue, for active workers, one item per key."""
    workers = Worker.objects.exclude(status=Worker.Status.LEFT)
    info = {
        pk: (no, name, unit_id, unit_name)
        for pk, no, name, unit_id, unit_name in workers.values_list(
            "id", "employee_no", "name", "unit_id", "unit__name"
        )
    }
    items: dict[str, DueItem] = {}
    for (worker_id, _trade_id), verdict in clearance_for_workers(workers=workers, on=on).items():
        for deadline in verdict.deadlines:
            bucket = due_bucket(deadline.due_on, on)
            if bucket is None or deadline.key in items:
                continue
            no, name, unit_id, unit_name = info[worker_id]
            items[deadline.key] = DueItem(
                worker_id, no, name, unit_id, unit_name, deadline.key, deadline.label, deadline.due_on, bucket
            )
    return sorted(items.values(), key=lambda i: (i.unit_name, i.due_on, i.employee_no, i.key))


def _recipients() -> tuple[dict[str, set[int]], list[str]]:
    """Return crew leaders' e-mail → unit ids they see, and HR e-mails."""
    parent_of = dict(Unit.objects.values_list("id", "parent_id"))
    leaders: dict[str, set[int]] = defaultdict(set)
    for email, unit_id in (
        Worker.objects.filter(is_team_leader=True, user__is_active=True, user__groups__name=roles.LEADER)
        .exclude(user__email="")
        .exclude(status=Worker.Status.LEFT)
        .values_list("user__email", "unit_id")
    ):
        leaders[email.lower()] |= descendant_unit_ids(unit_id, parent_of)
    hr = sorted(
        {
            e.lower()
            for e in get_user_model()
            .objects.filter(Q(groups__name=roles.HR) | Q(is_superuser=True), is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        }
    )
    return leaders, hr


def reminders_send(*, on: dt.date | None = None, dry_run: bool = False) -> ReminderRun:
    """
    E-mail each crew leader the new due or overdue items of the workers in their
    units, and HR a summary. An item is sent once per recipient and bucket
    (overdue, 30, 60, 90 days), so running it again sends nothing new.
    """
    on = on or timezone.localdate()
    items = due_items_get(on=on)
    leaders, hr = _recipients()
    recipients = sorted({*leaders, *hr})
    sent = set(ReminderLog.objects.filter(recipient__in=recipients).values_list("recipient", "item_key", "bucket"))
    run = ReminderRun()
    plan: list[tuple[str, list[DueItem], str]] = []
    for email, unit_ids in sorted(leaders.items()):
        new = [i for i in items if i.unit_id in unit_ids and (email, i.key, i.bucket) not in sent]
        if new:
            plan.append((email, new, "leader"))
    for email in hr:
        new = [i for i in items if (email, i.key, i.bucket) not in sent]
        if new:
            plan.append((email, new, "hr"))
    for email, new, role in plan:
        run.emails += 1
        run.items += len(new)
        run.recipients.append(email)
        if dry_run:
            continue
        _send_reminder(email, new, role=role, on=on)
    return run


def _send_reminder(email: str, items: list[DueItem], *, role: str, on: dt.date) -> None:
    by_bucket: dict[str, list[DueItem]] = defaultdict(list)
    for item in items:
        by_bucket[item.bucket].append(item)
    labels = dict(ReminderLog.Bucket.choices)
    groups = [
        (labels[b], by_bucket[b]) for b in (ReminderLog.Bucket.OVERDUE, *[b for _l, b in BUCKETS]) if by_bucket.get(b)
    ]
    per_unit: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        per_unit[item.unit_name][item.bucket] += 1
    context = {
        "on": on,
        "groups": groups,
        "role": role,
        "per_unit": {k: dict(v) for k, v in sorted(per_unit.items())},
        "count": len(items),
    }
    subject = (
        _("Kuangjiang: %(count)s certificate, review or hours items due (HR summary)")
        if role == "hr"
        else _("Kuangjiang: %(count)s certificate, review or hours items due in your unit")
    ) % {"count": len(items)}
    body = render_to_string("certifications/clearance/reminder_email.txt", context)
    # Log first inside the transaction, send, then commit: a failed send leaves nothing logged.
    with transaction.atomic():
        ReminderLog.objects.bulk_create(
            [
                ReminderLog(
                    recipient=email, worker_id=i.worker_id, item_key=i.key, bucket=i.bucket, due_on=i.due_on, sent_on=on
                )
                for i in items
            ],
            ignore_conflicts=True,
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
