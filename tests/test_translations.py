"""The Chinese translation is complete: every string a user can see has a zh_Hans text."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def po_entries(path: Path) -> list[tuple[str, str, bool]]:
    """Return (msgid, msgstr, fuzzy) for each entry of a .po file, plurals folded into msgstr."""
    entries, msgid, msgstr, fuzzy, field = [], None, [], False, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if msgid is not None:
                entries.append((msgid, "".join(msgstr), fuzzy))
            msgid, msgstr, fuzzy, field = None, [], False, None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            msgid, field = line[6:].strip('"'), "id"
        elif line.startswith("msgid_plural"):
            field = "plural"
        elif line.startswith("msgstr"):
            msgstr.append(line.split(" ", 1)[1].strip('"'))
            field = "str"
        elif line.startswith('"'):
            if field == "id":
                msgid += line.strip('"')
            elif field == "str":
                msgstr[-1] += line.strip('"')
    return [e for e in entries if e[0]]


def test_the_committed_translation_has_no_empty_or_fuzzy_entries():
    missing = [msgid for msgid, msgstr, fuzzy in po_entries(PO) if not msgstr or fuzzy]
    assert missing == [], f"{len(missing)} untranslated: {missing[:20]}"


def test_the_compiled_catalogue_is_up_to_date():
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime - 1, "run `make messages`"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    # Extract into a copy so the committed catalogue is never touched.
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "var", "test-artifacts", "staticfiles", "*.sqlite3", "__pycache__"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "-v0",
            "-i",
            "tests/*",
            "-i",
            "bench/*",
        ],
        cwd=copy,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": "sqlite:///:memory:",
        },
    )
    missing = [msgid for msgid, msgstr, _ in po_entries(copy / "locale/zh_Hans/LC_MESSAGES/django.po") if not msgstr]
    assert missing == [], f"{len(missing)} strings lack a Chinese text, e.g. {missing[:20]}"
