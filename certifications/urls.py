from django.urls import path

from . import api, views, views_compliance

app_name = "certifications"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("workers/<str:employee_no>/", views.worker_detail, name="worker-detail"),
    path("units/<str:code>/", views.unit_detail, name="unit-detail"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("compliance/roster/", views_compliance.roster_check_view, name="roster-check"),
    path("compliance/forecast.xlsx", views_compliance.forecast_download, name="forecast-xlsx"),
    path("api/clearance/", api.clearance, name="api-clearance"),
]
