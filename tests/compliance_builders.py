"""Build workers in known clearance states for the compliance tests."""

import datetime as dt
from decimal import Decimal

from certifications import models as cert
from tests.factories import (
    AttendanceFactory,
    CertificateFactory,
    SpecialOperationFactory,
    TradeFactory,
    TrainingClassFactory,
    WorkerFactory,
    WorkerTradeFactory,
)
from training import models as tr

TODAY = dt.date(2026, 3, 10)


def electrician_trade():
    op = SpecialOperationFactory(code="SO-EL", name="煤矿井下电气作业")
    trade = TradeFactory(code="T-EL", name="综采维修电工", aliases="电钳工,井下电钳工")
    trade.special_operations.add(op)
    return trade, op


def annual_hours(worker, year, hours=Decimal("20")):
    klass = TrainingClassFactory(kind=tr.TrainingClass.Kind.ANNUAL, start=dt.date(year, 3, 2), end=dt.date(year, 3, 6))
    return AttendanceFactory(training_class=klass, worker=worker, theory_hours=hours, practical_hours=Decimal("0"))


def cleared_electrician(trade, op, *, unit=None, employee_no=None, certificate=True, hours=True, **worker_kw):
    """Return a worker cleared for `trade` on TODAY: certificate with review due 2026-05-05, 2025 hours on record."""
    kw = {"unit": unit} if unit else {}
    if employee_no:
        kw["employee_no"] = employee_no
    worker = WorkerFactory(**kw, **worker_kw)
    WorkerTradeFactory(worker=worker, trade=trade)
    if certificate:
        CertificateFactory(worker=worker, special_operation=op)
    if hours:
        annual_hours(worker, 2025)
    return worker


def revoke(certificate):
    certificate.status = cert.Certificate.Status.REVOKED
    certificate.save()
