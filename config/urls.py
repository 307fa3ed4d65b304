from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

admin.site.site_header = "Kuangjiang 矿匠"
admin.site.site_title = "Kuangjiang 矿匠"
admin.site.index_title = admin.site.site_header

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("certifications.urls")),
]
