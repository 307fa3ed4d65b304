"""Reads other apps share: a trade found by what a spreadsheet or a caller calls it."""

from __future__ import annotations

from core.text import normalise_text
from training.models import Trade


def trade_key(text: object) -> str:
    """Return the folded form a trade's code, name or other name is matched on (full width and case folded)."""
    return normalise_text(text).casefold()


class TradeNames:
    """
    Every trade under its code, its name and its other names, read in one query.
    A code wins over a name and a name over another trade's other name, so a
    careless alias cannot hide a trade.
    """

    def __init__(self) -> None:
        trades = list(Trade.objects.all())
        self._by_key: dict[str, Trade] = {}
        for names in (lambda t: [t.code], lambda t: [t.name], Trade.alias_list):
            for trade in trades:
                for name in names(trade):
                    if key := trade_key(name):
                        self._by_key.setdefault(key, trade)

    def get(self, text: object) -> Trade | None:
        """Return the trade this text names, or None."""
        return self._by_key.get(trade_key(text))


def trade_names_get() -> TradeNames:
    """Return the lookup of every trade by code, name and other names (one query)."""
    return TradeNames()
