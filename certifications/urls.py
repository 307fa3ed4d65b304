from django.urls import path

from certifications.clearance import api
from certifications.clearance import views as views_compliance
from certifications.practical import views as views_practical
from certifications.progress import views
from certifications.spreadsheets import views as views_spreadsheets

app_name = "certifications"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("workers/<str:employee_no>/", views.worker_detail, name="worker-detail"),
    path("units/<str:code>/", views.unit_detail, name="unit-detail"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("awards/pending/", views.award_approvals, name="award-approvals"),
    path("compliance/roster/", views_compliance.roster_check_view, name="roster-check"),
    path("compliance/forecast.xlsx", views_compliance.forecast_download, name="forecast-xlsx"),
    path("api/clearance/", api.clearance, name="api-clearance"),
    path("spreadsheets/results/import/", views_spreadsheets.results_import_view, name="results-import"),
    path("spreadsheets/results/template.xlsx", views_spreadsheets.results_template_download, name="results-template"),
    path("spreadsheets/sittings/<int:pk>/sheet.xlsx", views_spreadsheets.sitting_sheet_download, name="sitting-sheet"),
    path("spreadsheets/ledger/export/", views_spreadsheets.ledger_export_start, name="ledger-export"),
    path(
        "spreadsheets/ledger/<str:result_id>/", views_spreadsheets.ledger_export_progress, name="ledger-export-progress"
    ),
    # The assessor's tablet (certifications/practical/): the page, its offline data, sync and service worker.
    path("practical/", views_practical.tablet, name="practical-tablet"),
    path("practical/data.json", views_practical.tablet_data, name="practical-data"),
    path("practical/sync/", views_practical.tablet_sync, name="practical-sync"),
    path("practical/sw.js", views_practical.service_worker, name="practical-sw"),
    path("practical/photos/<int:pk>/", views_practical.sheet_photo, name="practical-photo"),
    path(
        "practical/sheets/<uuid:uuid>/<str:who>-signature.png",
        views_practical.sheet_signature,
        name="practical-signature",
    ),
    path(
        "spreadsheets/ledger/<str:result_id>/download/",
        views_spreadsheets.ledger_export_download,
        name="ledger-export-download",
    ),
]
