"""
The one door for writes of attendance (core/writes.py): every route that
records, corrects, deletes or restores a worker's hours in a class comes here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from core.writes import Door
from training.models import MAX_CAPACITY, Attendance, Course, TrainingClass, Worker
from training.retention import record_restore, record_soft_delete

ATTENDANCE = Door(
    Attendance,
    service="training.services",
    evidence="attendance",
    watched=frozenset({"theory_hours", "practical_hours", "training_class", "worker"}),
    soft_delete=record_soft_delete,
    restore=record_restore,
)


@transaction.atomic
def attendance_record(
    *,
    training_class: TrainingClass,
    worker: Worker,
    theory_hours: Decimal,
    practical_hours: Decimal,
    remarks: str = "",
    recorded_by: AbstractBaseUser | None = None,
    reason: str = "",
) -> Attendance:
    """Record (or correct) the hours a worker attended in a class; the roll-up re-evaluates them after commit."""
    attendance = Attendance.objects.filter(training_class=training_class, worker=worker).first()
    if attendance is None:
        attendance = Attendance(training_class=training_class, worker=worker)
    attendance.theory_hours = theory_hours
    attendance.practical_hours = practical_hours
    attendance.remarks = remarks
    return ATTENDANCE.save(attendance, user=recorded_by, reason=reason)


def attendance_save(attendance: Attendance, *, user: AbstractBaseUser | None, reason: str = "") -> Attendance:
    """Save an attendance row as an admin form filled it (validated by the form)."""
    return ATTENDANCE.save(attendance, user=user, reason=reason, validate=False)


def attendance_delete(attendance: Attendance, *, user: AbstractBaseUser | None, reason: str) -> None:
    """Mark an attendance row deleted; awards resting on it are flagged for HR review."""
    ATTENDANCE.delete(attendance, user=user, reason=reason)


def simulation_class_get(*, course: Course, on: dt.date, kind: str) -> TrainingClass:
    """Return the one "VR/AR simulation" class of a course on a day, creating it the first time a simulator reports."""
    code = f"VR-{on:%Y%m%d}-{course.pk}"
    training_class = TrainingClass.objects.filter(code=code).first()
    if training_class is None:
        training_class = TrainingClass(
            code=code,
            name=f"{course.title} · {_('VR/AR simulation')} {on.isoformat()}"[-200:],
            course=course,
            kind=kind,
            start=on,
            end=on,
            venue=str(_("VR/AR simulator")),
            capacity=MAX_CAPACITY,
        )
        training_class.full_clean()
        training_class.save()
    return training_class
