"""The site's URLs plus one view that fails, to see the 500 page (tests/test_error_pages.py)."""

from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken_view), *site_urlpatterns]
