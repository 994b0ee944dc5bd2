"""Message types as the extract writes them: a code, a name, or both, resolved for display.

MedCom writes ``meddelelsestype`` as free text: ``"XDIS91"``, ``"Korrespondancemeddelelse"``,
``"XDIS91 Korrespondancemeddelelse"`` or ``"XDIS91 - Korrespondancemeddelelse"``. Codes are
resolved against :func:`soredi_nb.reference.message_types`; the original text is always kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from soredi_nb.reference import message_types

# A leading word, then an optional separator, then the rest: "XDIS91 - Korrespondancemeddelelse".
_SPLIT = re.compile(r"([0-9A-Za-z]+)(?:\s*[-–—:|/]\s*|\s+|$)(.*)", re.DOTALL)
# Codes not in the reference list still look like codes: letters then digits ("XREF99", "DIS01").
# Requiring digits keeps ordinary words ("Advis om ...") from being taken for codes.
_CODE_SHAPE = re.compile(r"[A-Z]{2,6}\d{2,3}")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class MessageType:
    """A ``meddelelsestype`` value, resolved as far as the reference list allows.

    Attributes
    ----------
    text : str
        The original text, trimmed, with runs of whitespace (also non-breaking) collapsed.
    code : str or None
        Upper-case code (``"XDIS91"``): found at the start of the text (or alone), or the only
        code whose Danish name the text is. ``None`` when there is no code and the name is
        unknown or ambiguous.
    name : str or None
        The Danish name: from the reference list for a known code or name, else the text after
        the code, else ``None``.
    syntax : str or None
        ``"EDIFACT"``, ``"OIOXML"`` or ``"FHIR"`` for a code in the reference list.
    candidates : tuple of str
        For a name shared by several codes (``"Korrespondancemeddelelse"``: DIS91, XDIS91,
        FDIS91), those codes; otherwise empty.
    """

    text: str
    code: str | None
    name: str | None
    syntax: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """True when the code is in the reference list."""
        return self.code is not None and self.code in _by_code()

    def display(self) -> str:
        """``"XDIS91 – Korrespondancemeddelelse"`` for a known code, else the original text."""
        return f"{self.code} – {self.name}" if self.known else self.text


def parse(text: object) -> MessageType | None:
    """Resolve a ``meddelelsestype`` value.

    Parameters
    ----------
    text : str or None
        As written in the extract, in any case.

    Returns
    -------
    MessageType or None
        ``None`` for missing values (``None``, NA) and blank text.

    Examples
    --------
    >>> parse("xdis91 - Korrespondancemeddelelse").code
    'XDIS91'
    >>> parse("Korrespondancemeddelelse").candidates
    ('DIS91', 'XDIS91', 'FDIS91')
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    clean = _SPACES.sub(" ", str(text)).strip()
    return _parse(clean) if clean else None


def code_of(text: object) -> str | None:
    """The upper-case code of a ``meddelelsestype`` value, or ``None`` (see :func:`parse`)."""
    mt = parse(text)
    return mt.code if mt else None


def syntax_of(text: object) -> str | None:
    """``"EDIFACT"``, ``"OIOXML"`` or ``"FHIR"`` when the code is in the reference list."""
    mt = parse(text)
    return mt.syntax if mt else None


def display(text: object) -> str:
    """How to show a ``meddelelsestype`` value.

    Parameters
    ----------
    text : str or None

    Returns
    -------
    str
        ``"XDIS91 – Korrespondancemeddelelse"`` (code, en dash, reference name) for a known code
        written alone or with a name, the original trimmed text otherwise, ``""`` when missing.
    """
    mt = parse(text)
    return mt.display() if mt else ""


def display_series(s: pd.Series) -> pd.Series:
    """:func:`display` for every value of ``s``; missing values stay missing.

    Parameters
    ----------
    s : pandas.Series

    Returns
    -------
    pandas.Series
        Same index and name, ``str`` dtype.
    """
    return _map_series(s, display)


def code_series(s: pd.Series) -> pd.Series:
    """:func:`code_of` for every value of ``s``, as a ``str`` Series; unresolved values are NA."""
    return _map_series(s, code_of)


@cache
def _by_code() -> dict[str, tuple[str, str]]:
    """Reference code -> (syntax, Danish name)."""
    ref = message_types()
    return {k: (s, n) for k, s, n in zip(ref["kode"], ref["syntaks"], ref["navn"], strict=True)}


@cache
def _by_name() -> dict[str, tuple[str, ...]]:
    """Case-folded Danish name -> the codes that carry it, in reference order."""
    out: dict[str, tuple[str, ...]] = {}
    for code, (_, name) in _by_code().items():
        key = name.casefold()
        out[key] = (*out.get(key, ()), code)
    return out


@cache
def _parse(text: str) -> MessageType:
    """Resolve non-blank, whitespace-collapsed text."""
    m = _SPLIT.fullmatch(text)
    if m:
        word, rest = m.group(1).upper(), m.group(2).strip().strip("()").strip() or None
        if word in _by_code():
            syntax, name = _by_code()[word]
            return MessageType(text, word, name, syntax)
        if _CODE_SHAPE.fullmatch(word):
            return MessageType(text, word, rest)
    codes = _by_name().get(text.casefold(), ())
    if len(codes) == 1:
        syntax, name = _by_code()[codes[0]]
        return MessageType(text, codes[0], name, syntax)
    name = _by_code()[codes[0]][1] if codes else text
    return MessageType(text, None, name, candidates=codes if len(codes) > 1 else ())


def _map_series(s: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` once per distinct value of ``s``; missing in, missing out."""
    present = s.notna()
    out = pd.Series(pd.NA, index=s.index, name=s.name, dtype="str")
    values = s[present]
    if len(values):
        mapping = {v: fn(v) for v in values.unique()}
        out[present] = values.map(mapping).astype("str")
    return out
