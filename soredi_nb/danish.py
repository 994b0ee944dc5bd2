"""Danish text in one place: names folded for comparison, and numbers written the Danish way."""

from __future__ import annotations

import unicodedata

LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
"""æ/ø/å spelled ae/oe/aa, as they often are in file names and old systems."""


def fold(value: object) -> str:
    """Comparison key for names: NFKC, case-folded, single spaces, æ/ø/å as ae/oe/aa."""
    s = unicodedata.normalize("NFKC", str(value)).casefold()
    return " ".join(s.translate(LETTERS).split())


def number(value: float | int | None) -> str:
    """A figure in Danish notation: ``1.234`` and ``2,5`` (one decimal at most); ``–`` for None."""
    if value is None:
        return "–"
    decimals = 0 if float(value).is_integer() else 1
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
