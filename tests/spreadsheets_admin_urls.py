"""A throwaway admin site with the spreadsheet mixins, for tests/test_spreadsheets_admin.py."""

from django.contrib import admin
from django.urls import include, path

from certifications.models import AssessmentResult
from certifications.spreadsheets.resources import AssessmentResultResource
from core.importexport import LedgerExportAdminMixin, ResultsImportAdminMixin
from training.models import Worker
from training.resources import WorkerResource

site = admin.AdminSite(name="sheets")


@admin.register(Worker, site=site)
class WorkerAdmin(LedgerExportAdminMixin, admin.ModelAdmin):
    resource_classes = [WorkerResource]


@admin.register(AssessmentResult, site=site)
class ResultAdmin(ResultsImportAdminMixin, admin.ModelAdmin):
    resource_classes = [AssessmentResultResource]


urlpatterns = [
    path("admin/", site.urls),
    path("", include("config.urls")),
]
