from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from certifications.progress import views as certification_views
from core.login import LoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    # The language switcher must work on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", certification_views.home, name="home"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("certifications.urls")),
]
