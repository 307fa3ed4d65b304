"""
The roles people play in Kuangjiang, as auth groups. The permission table is
declared here once; migrations and the demo loader apply it.
"""

from django.utils.translation import gettext_lazy as _

HR = "training_department"
OFFICER = "training_officer"
ASSESSOR = "assessor"
LEADER = "crew_leader"
TRAINEE = "trainee"

ROLE_LABELS = {
    HR: _("Training department (HR)"),
    OFFICER: _("Training officer"),
    ASSESSOR: _("Assessor"),
    LEADER: _("Crew leader"),
    TRAINEE: _("Trainee"),
}

ALL = ("add", "change", "delete", "view", "import")
VIEW = ("view",)

# app_label.model → actions, per role. Crew leaders and trainees use the site, not the admin.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    HR: {
        **{
            f"training.{m}": ALL
            for m in (
                "unit",
                "specialoperation",
                "rank",
                "trade",
                "course",
                "catalog",
                "trainingpackage",
                "worker",
                "trainingclass",
                "attendance",
                "packagecourse",
            )
        },
        **{f"training.{m}": ("add", "change", "delete", "view") for m in ("workertrade", "awayperiod")},
        **{
            f"certifications.{m}": ALL
            for m in (
                "assessment",
                "assessmentresult",
                "rankrecord",
                "certificate",
                "certificatereview",
                "honour",
                "mentorship",
                "comprehensivereview",
            )
        },
        **{f"certifications.{m}": ("add", "change", "delete", "view") for m in ("sitting", "sittingcandidate")},
        **{
            f"certifications.{m}": ("add", "change", "delete", "view")
            for m in ("ruleset", "compliancerule", "apitoken")
        },
        "certifications.reminderlog": VIEW,
        # Online theory exams: HR keeps the bank (imported from sheets), the paper rules, sessions and rosters;
        # attempts and their audit are the candidates' and the server's, read-only.
        "certifications.question": ALL,
        **{
            f"certifications.{m}": ("add", "change", "delete", "view")
            for m in ("questionversion", "questionimage", "papertemplate", "examsession", "examcandidate")
        },
        **{f"certifications.{m}": VIEW for m in ("attempt", "attemptquestion", "attemptevent")},
        # Simulators (docs/simulators.md): HR keeps their credentials and mappings; statements are only read.
        **{
            f"certifications.{m}": ("add", "change", "delete", "view")
            for m in ("simulatorcredential", "simulatoractor", "simulatoractivity")
        },
        "certifications.simulatorstatement": VIEW,
        # Practical scoring sheets: HR keeps the schemes; sheets are evidence from the tablet, read-only; HR
        # settles the moderation cases a second assessor's sheet opens.
        "certifications.scoringscheme": ALL,
        "certifications.scoringitem": ("add", "change", "delete", "view"),
        **{f"certifications.{m}": VIEW for m in ("scoringsheet", "scorededuction")},
        "certifications.scoringmoderation": ("change", "view"),
        # django-axes: HR sees failed logins and unlocks a locked-out login (deleting its access attempt).
        "axes.accessattempt": ("view", "delete"),
        "axes.accesslog": VIEW,
        "axes.accessfailurelog": VIEW,
    },
    # Officers run the catalogue, classes and attendance (sign-in sheets arrive as spreadsheets, hence import);
    # packages are HR's: officers read them.
    OFFICER: {
        **{
            f"training.{m}": ("add", "change", "view", "import")
            for m in (
                "course",
                "catalog",
                "trainingclass",
                "attendance",
            )
        },
        **{
            f"training.{m}": VIEW
            for m in (
                "unit",
                "trade",
                "rank",
                "worker",
                "trainingpackage",
                "packagecourse",
                "workertrade",
            )
        },
    },
    # Assessors record results; the admin limits them to the assessments they examine
    # (certifications/admin.py), and they cannot import (the importer is not scoped per examiner).
    ASSESSOR: {
        "certifications.assessment": VIEW,
        "certifications.assessmentresult": ("add", "change", "view"),
        # Assessors invigilate online exams: they read sessions, rosters and attempts.
        **{f"certifications.{m}": VIEW for m in ("examsession", "examcandidate", "attempt", "attemptevent")},
        **{f"training.{m}": VIEW for m in ("worker", "unit", "trade", "rank", "course")},
    },
    LEADER: {},
    TRAINEE: {},
}
