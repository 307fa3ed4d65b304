"""
django-import-export resources for assessments' results, skill-rank records,
certificates and honours: natural keys, human headers, bulk writes
(see training/resources.py for what every resource shares).
"""

from django.utils.translation import gettext_lazy as _

from certifications.models import Assessment, AssessmentResult, Certificate, Honour, RankRecord
from core.importexport import (
    IntegerWidget,
    KuangjiangResource,
    choice,
    date,
    number,
    readonly,
    ref,
    text,
    yes_no,
)
from training.models import Rank, SpecialOperation, Trade, Worker


class AssessmentResultResource(KuangjiangResource):
    assessment = ref("assessment", _("Assessment"), Assessment)
    worker = ref("worker", _("Employee number"), Worker, "employee_no")
    worker_name = readonly(_("Name"), "worker_name")
    attempt = number("attempt", _("Attempt"), IntegerWidget())
    score = number("score", _("Score"))
    absent = yes_no("absent", _("Absent"))
    remarks = text("remarks", _("Remarks"))

    class Meta(KuangjiangResource.Meta):
        model = AssessmentResult
        fields = ("assessment", "worker", "worker_name", "attempt", "score", "absent", "remarks")
        import_id_fields = ("assessment", "worker", "attempt")

    extra_update_fields = ("full_marks",)

    def get_queryset(self):
        return AssessmentResult.objects.select_related("assessment", "worker").order_by(
            "assessment__code", "worker__employee_no", "attempt"
        )

    def dehydrate_worker_name(self, result):
        return result.worker.name


class RankRecordResource(KuangjiangResource):
    worker = ref("worker", _("Employee number"), Worker, "employee_no")
    worker_name = readonly(_("Name"), "worker_name")
    trade = ref("trade", _("Trade code"), Trade)
    rank = ref("rank", _("Rank code"), Rank)
    status = choice("status", _("Status"), RankRecord.Status.choices)
    source = choice("source", _("Source"), RankRecord.Source.choices)
    awarded_on = date("awarded_on", _("Awarded on"))
    certificate_no = text("certificate_no", _("Certificate number"))

    class Meta(KuangjiangResource.Meta):
        model = RankRecord
        fields = ("worker", "worker_name", "trade", "rank", "status", "source", "awarded_on", "certificate_no")
        import_id_fields = ("worker", "trade", "rank")

    def get_queryset(self):
        return RankRecord.objects.select_related("worker", "trade", "rank").order_by(
            "worker__employee_no", "trade__code", "rank__order"
        )

    def dehydrate_worker_name(self, record):
        return record.worker.name

    def init_instance(self, row=None):
        instance = super().init_instance(row)
        instance.source = RankRecord.Source.IMPORT
        return instance


class CertificateResource(KuangjiangResource):
    kind = choice("kind", _("Kind"), Certificate.Kind.choices)
    number = text("number", _("Certificate number"))
    worker = ref("worker", _("Employee number"), Worker, "employee_no")
    worker_name = readonly(_("Name"), "worker_name")
    special_operation = ref("special_operation", _("Special operation code"), SpecialOperation)
    trade = ref("trade", _("Trade code"), Trade)
    rank = ref("rank", _("Rank code"), Rank)
    issuing_body = text("issuing_body", _("Issuing body"))
    first_issued_on = date("first_issued_on", _("First issued on"))
    issued_on = date("issued_on", _("Issued on"))
    valid_until = date("valid_until", _("Valid until"))
    next_review_due = date("next_review_due", _("Next review due"))
    extended_review_approved = yes_no("extended_review_approved", _("6-year review approved"))
    status = choice("status", _("Status"), Certificate.Status.choices)
    remarks = text("remarks", _("Remarks"))

    class Meta(KuangjiangResource.Meta):
        model = Certificate
        fields = (
            "kind",
            "number",
            "worker",
            "worker_name",
            "special_operation",
            "trade",
            "rank",
            "issuing_body",
            "first_issued_on",
            "issued_on",
            "valid_until",
            "next_review_due",
            "extended_review_approved",
            "status",
            "remarks",
        )
        import_id_fields = ("kind", "number")

    def get_queryset(self):
        return Certificate.objects.select_related("worker", "special_operation", "trade", "rank").order_by(
            "kind", "number"
        )

    def dehydrate_worker_name(self, certificate):
        return certificate.worker.name


class HonourResource(KuangjiangResource):
    worker = ref("worker", _("Employee number"), Worker, "employee_no")
    worker_name = readonly(_("Name"), "worker_name")
    title = text("title", _("Honour"))
    level = choice("level", _("Level"), Honour.Level.choices)
    awarding_body = text("awarding_body", _("Awarding body"))
    document_no = text("document_no", _("Document number"))
    awarded_on = date("awarded_on", _("Awarded on"))
    remarks = text("remarks", _("Remarks"))

    class Meta(KuangjiangResource.Meta):
        model = Honour
        fields = ("worker", "worker_name", "title", "level", "awarding_body", "document_no", "awarded_on", "remarks")
        import_id_fields = ("worker", "title", "awarded_on")

    def get_queryset(self):
        return Honour.objects.select_related("worker").order_by("worker__employee_no", "awarded_on", "title")

    def dehydrate_worker_name(self, honour):
        return honour.worker.name
