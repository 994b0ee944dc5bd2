"""Danish in one place: names folded for comparison; numbers, counts, lists and dates the Danish
way."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
"""æ/ø/å spelled ae/oe/aa, as they often are in file names and old systems."""


def fold(value: object) -> str:
    """Comparison key for names: NFKC, case-folded, single spaces, æ/ø/å as ae/oe/aa."""
    s = unicodedata.normalize("NFKC", str(value)).casefold()
    return " ".join(s.translate(LETTERS).split())


_ALPHABET = str.maketrans({"æ": "z\uffff1", "ø": "z\uffff2", "å": "z\uffff3"})


def sort_key(value: object) -> str:
    """Key to sort names as a Danish list does: case-insensitive, with æ, ø, å after z."""
    s = unicodedata.normalize("NFKC", str(value)).casefold()
    return " ".join(s.split()).translate(_ALPHABET)


def number(value: float | int | None) -> str:
    """A figure in Danish notation: ``1.234`` and ``2,5`` (one decimal at most); ``–`` for None."""
    if value is None:
        return "–"
    decimals = 0 if float(value).is_integer() else 1
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def count(n: float | int, one: str, other: str) -> str:
    """A count and its noun in agreement: ``"1 side"``, ``"2 sider"``, ``"1.234 sider"``.

    Parameters
    ----------
    n : int or float
        What is counted; written with :func:`number`.
    one, other : str
        The word(s) after the number when it is 1 (``"side"``, ``"uændret side"``) and for every
        other number, 0 included (``"sider"``, ``"uændrede sider"``). Danish has no other forms.

    Returns
    -------
    str
        ``"<number> <form>"``.
    """
    return f"{number(n)} {one if abs(n) == 1 else other}"


def enumeration(items: Iterable[object]) -> str:
    """Items listed the Danish way: ``"1"``, ``"1 og 3"``, ``"1, 3 og 7"`` (no Oxford comma)."""
    words = [str(i) for i in items]
    return " og ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


_EXCEL_DATE_CODES = {"%Y": "yyyy", "%m": "mm", "%d": "dd"}


@cache
def excel_date_format() -> str:
    """The pages' date format (``common.date_format``, strftime) as an Excel number format, so a
    date reads the same in a worklist as on the page it came from: ``%Y-%m-%d`` ->
    ``yyyy-mm-dd``.

    Raises
    ------
    ValueError
        If the format holds a code with no Excel counterpart here (a wrong format must not
        reach a workbook).
    """
    from soredi_nb.texts import text  # texts imports this module: not at the top

    pattern = text("common.date_format")
    unknown = set(re.findall(r"%.", pattern)) - set(_EXCEL_DATE_CODES)
    if unknown:
        raise ValueError(f"common.date_format: no Excel format for {sorted(unknown)}")
    return re.sub("|".join(_EXCEL_DATE_CODES), lambda m: _EXCEL_DATE_CODES[m.group(0)], pattern)
