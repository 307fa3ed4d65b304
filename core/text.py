"""Text helpers shared by models, imports and exports."""

import unicodedata

from pypinyin import Style, lazy_pinyin


def pinyin_key(name: str) -> str:
    """Return a lowercase pinyin key so Chinese names sort and search by sound."""
    return "".join(lazy_pinyin(name or "", style=Style.NORMAL, errors="default")).lower()


def normalise_text(value) -> str:
    """Return value as text with full-width characters folded and edges trimmed."""
    if value is None:
        return ""
    # NFKC folds full-width digits, letters and spaces (１２３ → 123).
    return unicodedata.normalize("NFKC", str(value)).strip()
