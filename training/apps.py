from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Training")

    def ready(self):
        # The door of attendance writes (core/writes.py): registered before any admin or import asks for it.
        from training import services  # noqa: F401 — registers the attendance door
