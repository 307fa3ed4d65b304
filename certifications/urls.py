from django.urls import path

from certifications.clearance import api
from certifications.clearance import views as views_compliance
from certifications.exams import audit_views as views_exam_audit
from certifications.exams import bank_views as views_bank
from certifications.exams import views as views_exams
from certifications.practical import views as views_practical
from certifications.progress import views
from certifications.simulators import views as views_simulators
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
    path("exams/analysis/", views_bank.exam_analysis, name="exam-analysis"),
    path("exams/images/<int:pk>/", views_bank.question_image, name="question-image"),
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
    path("exams/sessions/<int:pk>/report/", views_exam_audit.session_report_view, name="exam-session-report"),
    # Online theory exams (issue 16): the candidate's exam app and its JSON API, HR's printable paper.
    path("exams/", views_exams.exam_list, name="exam-list"),
    path("exams/<int:session_pk>/", views_exams.exam_rules, name="exam-rules"),
    path("exams/<int:session_pk>/print/", views_exams.exam_print, name="exam-print"),
    path("exams/a/<uuid:public_id>/", views_exams.exam_attempt, name="exam-attempt"),
    path("exams/a/<uuid:public_id>/state.json", views_exams.exam_state, name="exam-state"),
    path("exams/a/<uuid:public_id>/answer", views_exams.exam_answer, name="exam-answer"),
    path("exams/a/<uuid:public_id>/submit", views_exams.exam_submit, name="exam-submit"),
    # Simulator results through xAPI 1.0.3 (docs/simulators.md): no trailing slash, as xAPI clients append paths.
    path("xapi/about", views_simulators.about, name="xapi-about"),
    path("xapi/statements", views_simulators.statements, name="xapi-statements"),
]
