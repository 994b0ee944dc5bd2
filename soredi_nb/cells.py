"""Pure converters from a raw spreadsheet cell to a typed value.

A raw cell is whatever a reader returns: ``None``, ``str``, ``int``, ``float``, ``bool``,
``datetime.date``/``datetime.datetime``/``datetime.time`` (calamine, openpyxl) or text (CSV).
Each converter returns the typed value, ``None`` for a blank cell, or raises ``ValueError`` when
the cell cannot be read as that type. Text numbers follow Danish conventions: ``.`` groups
thousands and ``,`` is the decimal mark.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Serial numbers of 1950-01-01 and 2100-01-01: a bare number in a date column outside this range
# is far more likely a mistake than a date.
_SERIAL_RANGE = (18264, 73051)

_DIGITS = re.compile(r"\d+")
_INTEGRAL = re.compile(r"(\d+)[.,]0+")
# "5,790000123117E+12": only exact when every digit is shown (fraction length == exponent).
_SCIENTIFIC = re.compile(r"(\d)[.,](\d+)[eE]\+?(\d+)")
_INT = re.compile(r"(-?)(\d{1,3}(?:\.\d{3})+|\d+)(?:[.,]0*)?")
_PERIOD = re.compile(r"(\d{4})-(\d{1,2})")
# The characters that bytes 0x80-0xBF (UTF-8 continuation bytes) show as in Windows-1252 or,
# where that has none, Latin-1. After Â or Ã they stand for a two-byte letter (æ, ø, å, é ...),
# after â€ for a three-byte dash or quote.
_CONTINUATION = re.escape(
    "".join(
        sorted(
            {
                *bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore"),
                *bytes(range(0x80, 0xC0)).decode("latin-1"),
            }
        )
    )
)
_MOJIBAKE = re.compile(f"[ÂÃ][{_CONTINUATION}]|â€[{_CONTINUATION}]")
_INT64_MAX = 2**63 - 1
_FLOAT_EXACT = 2.0**53
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DANISH_DATE = re.compile(
    r"(\d{1,2})([-.])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)


def cell_text(value: Any) -> str:
    """Render a raw cell as the user would read it; ``""`` for ``None``.

    Integral floats lose their ``.0`` (Excel stores every number as a float), and a datetime at
    midnight is shown as a date, so every reader renders the same cell the same way.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def is_blank(value: Any) -> bool:
    """True for ``None`` and for text that is empty or only whitespace (incl. non-breaking)."""
    return value is None or (isinstance(value, str) and not value.strip())


def to_text(value: Any) -> str | None:
    """Text with leading and trailing whitespace removed."""
    return cell_text(value).strip() or None


def to_name(value: Any) -> str | None:
    """Text with whitespace trimmed and every inner run of whitespace collapsed to one space."""
    return " ".join(cell_text(value).split()) or None


def mojibake_repaired(value: str) -> str | None:
    """The text as it was meant, if it is UTF-8 that was read as Windows-1252; else ``None``.

    UTF-8 writes ø as two bytes that Windows-1252 shows as ``Ã¸`` (æ ``Ã¦``, å ``Ã¥``, Ø ``Ã˜``)
    and a dash as three (``â€“``). Only such sequences are repaired, so text that also holds
    correct letters is recognised too.

    Parameters
    ----------
    value : str
        Text from a cell.

    Returns
    -------
    str or None
        ``"Furesø Kommune"`` for ``"FuresÃ¸ Kommune"``; ``None`` for text without mojibake.
    """
    if "Ã" not in value and "Â" not in value and "â€" not in value:
        return None
    repaired = _MOJIBAKE.sub(_redecoded, value)
    return repaired if repaired != value else None


def _redecoded(match: re.Match) -> str:
    """A mojibake sequence decoded as the UTF-8 it was, or unchanged if it was not."""
    raw = b"".join(_as_byte(char) for char in match[0])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return match[0]


def _as_byte(char: str) -> bytes:
    """The byte a character stands for in Windows-1252, or in Latin-1 where that has none."""
    try:
        return char.encode("cp1252")
    except UnicodeEncodeError:
        return char.encode("latin-1")


def to_digits(value: Any) -> str | None:
    """A digit string (location number, SOR-ID) from a number or text cell.

    Accepts integers, integral floats (``5790000123117.0``, ``5.790000123117e12``), and text with
    spaces, a ``,0``/``.0`` tail or a fully written-out scientific notation. Leading zeros in text
    are kept.

    Raises
    ------
    ValueError
        For anything else, e.g. letters, a fraction, or scientific text whose digits were cut off.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(value)
        return str(value)
    if isinstance(value, float):
        # Beyond 2**53 a float no longer holds every integer, so its digits cannot be trusted.
        if not value.is_integer() or not 0 <= value < _FLOAT_EXACT:
            raise ValueError(value)
        return str(int(value))
    if not isinstance(value, str):
        raise ValueError(value)
    s = "".join(value.split())
    if not s:
        return None
    if _DIGITS.fullmatch(s):
        return s
    if m := _INTEGRAL.fullmatch(s):
        return m[1]
    if (m := _SCIENTIFIC.fullmatch(s)) and len(m[2]) == int(m[3]):
        return m[1] + m[2]
    raise ValueError(value)


def to_int(value: Any) -> int | None:
    """An integer from a number or text cell (``12``, ``12.0``, ``"12"``, ``"1.234"``, ``"12,0"``).

    Raises
    ------
    ValueError
        For fractions, letters, dates and anything else that is not a whole number.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        value = int(value)
    elif isinstance(value, str):
        s = "".join(value.split())
        if not s:
            return None
        m = _INT.fullmatch(s)
        if not m:
            raise ValueError(value)
        value = int(m[1] + m[2].replace(".", ""))
    elif not isinstance(value, int):
        raise ValueError(value)
    if abs(value) > _INT64_MAX:  # would not fit the Int64 column
        raise ValueError(value)
    return value


def to_date(value: Any) -> dt.datetime | None:
    """A datetime from an Excel date, an Excel serial number, ISO text or Danish date text.

    Danish text is ``dd-mm-yyyy`` or ``dd.mm.yyyy``, optionally followed by a time.

    Raises
    ------
    ValueError
        For text in no known date form, impossible dates (31-02-2024) and other cell types.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        # A date cell that lost its date format arrives as its serial number.
        if not _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            raise ValueError(value)
        return _EXCEL_EPOCH + dt.timedelta(days=value)
    if not isinstance(value, str):
        raise ValueError(value)
    s = value.strip()
    if not s:
        return None
    if m := _DANISH_DATE.fullmatch(s):
        day, _, month, year, hour, minute, second = m.groups()
        return dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    if _ISO_DATE.match(s):
        return dt.datetime.fromisoformat(s).replace(tzinfo=None)
    raise ValueError(value)


def to_period(value: Any) -> str | None:
    """A reporting month ``YYYY-MM`` from ``YYYY-MM`` text or any date ``to_date`` reads.

    Raises
    ------
    ValueError
        For anything else, or a month outside 1-12.
    """
    if isinstance(value, str) and (m := _PERIOD.fullmatch(value.strip())):
        if not 1 <= int(m[2]) <= 12:
            raise ValueError(value)
        return f"{m[1]}-{int(m[2]):02d}"
    date = to_date(value)
    return date and f"{date:%Y-%m}"


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "gln": to_digits,
    "sor": to_digits,
    "date": to_date,
    "int": to_int,
    "name": to_name,
    "text": to_text,
}
"""Converter for each cell type of ``schema.columns()``."""
