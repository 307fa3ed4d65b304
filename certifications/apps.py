from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationsConfig(AppConfig):
    name = "certifications"
    verbose_name = _("Certifications")

    def ready(self):
        # The settings checks; the receivers of core.signals: the roll-up (evidence_changed)
        # and the progress pages (figures_stale); the doors of every write (core/writes.py).
        from certifications import checks  # noqa: F401 — registers the settings checks
        from certifications.clearance import services as clearance_services  # noqa: F401 — registers its doors
        from certifications.progress import figures  # noqa: F401 — connects figures_stale
        from certifications.ranks import services  # noqa: F401 — connects evidence_changed, registers its doors
