from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo mine and the synthetic scale data (load_demo, load_scale); no models."""

    name = "demo"
    verbose_name = _("Demo data")
