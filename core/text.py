"""Text helpers shared by models, imports and exports."""

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

# The characters no value we accept may hold: C0 controls except tab, newline and carriage return, and DEL.
# PostgreSQL cannot store NUL in text at all; the others are invisible and never meant.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def pinyin_key(name: str) -> str:
    """Return a lowercase pinyin key so Chinese names sort and search by sound."""
    return "".join(lazy_pinyin(name or "", style=Style.NORMAL, errors="default")).lower()


def pinyin_initials(name: str) -> str:
    """
    Return the lowercase first letter of each Chinese character's pinyin, so a
    clerk typing xnm finds 徐宁敏; anything else (Latin letters, digits) is kept.
    One letter per character: the initials are as long as a Chinese name.
    """
    return "".join(lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="default")).lower()


def normalise_text(value) -> str:
    """Return value as text with full-width characters folded and edges trimmed."""
    if value is None:
        return ""
    # NFKC folds full-width digits, letters and spaces (１２３ → 123).
    return unicodedata.normalize("NFKC", str(value)).strip()


def person_label(user) -> str:
    """A login account as people read it: the person's name with the login name, e.g. "张志强（assessor）"."""
    worker = getattr(user, "worker", None)  # select_related("worker") where many are listed
    name = (worker.name if worker is not None else "") or user.get_full_name().strip()
    username = user.get_username()
    return f"{name}（{username}）" if name and name != username else username
