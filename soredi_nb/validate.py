"""Checks of identifiers: GS1 GLN-13 location numbers and SOR-IDs."""

from __future__ import annotations

import re

_GLN = re.compile(r"\d{13}")
_SOR = re.compile(r"\d{11,}")


def gln_check_digit(first12: str) -> int:
    """GS1 mod-10 check digit for the first 12 digits of a GLN-13.

    Weights 1, 3, 1, 3, ... from the left; check = (10 - sum mod 10) mod 10.

    Parameters
    ----------
    first12 : str
        Exactly 12 digits.

    Returns
    -------
    int
        The check digit, 0-9.
    """
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"expected 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_gln(value: str) -> bool:
    """True if ``value`` is 13 digits with a correct GS1 check digit."""
    return bool(_GLN.fullmatch(value)) and gln_check_digit(value[:12]) == int(value[12])


def is_valid_sor_id(value: str) -> bool:
    """True if ``value`` looks like a SOR-ID: digits only, at least 11 long (no check digit)."""
    return bool(_SOR.fullmatch(value))
