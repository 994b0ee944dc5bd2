"""Error codes of negative receipts: which point at SOR-EDI registration, which do not.

The guide's goal for tables 6 and 7 is that only a small share of the negative receipts is caused
by wrong use or registration of SOR-EDI. Whether a receipt is, its error code (``fejlkode``) says:
MedCom's acknowledgement codes such as ``MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE`` point at
SOR-EDI, ``MSG_DUPLICATE_ID`` does not. The packaged classification is ``data/fejlkoder.csv``; a
user extends or overrides it in the section ``fejlkoder`` of the alias file (``--aliases``), so
every command and page that reads an extract the same way also classifies it the same way.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path

import pandas as pd

from soredi_nb.exceptions import ExtractError
from soredi_nb.files import stamp
from soredi_nb.texts import text

SECTION = "fejlkoder"
"""The key of the alias file's section of error codes."""

_GROUPS = {"sor_edi": True, "andre": False}
# The code is the first word: extracts may write "MSG_DUPLICATE_ID: Meddelelsen er ..." too.
_CODE = re.compile(r"\s*([0-9A-Za-z_.-]+)")


@dataclass(frozen=True)
class ReceiptCauses:
    """The negative receipts of a set of findings by what their error code says.

    Attributes
    ----------
    total : int
        All negative receipts (the sum of ``antal``).
    sor_edi : int or None
        Those whose error code points at SOR-EDI; ``None`` when the findings have no error codes
        at all, so the share cannot be computed.
    other : int
        Those whose error code is known not to point at SOR-EDI.
    unclassified : int
        Those without an error code, or with one the classification does not know.
    """

    total: int
    sor_edi: int | None
    other: int
    unclassified: int

    @property
    def share(self) -> float | None:
        """``sor_edi`` as a percentage of ``total``; ``None`` when it cannot be computed."""
        if self.sor_edi is None or not self.total:
            return None
        return 100 * self.sor_edi / self.total


def classification(aliases: str | os.PathLike | None = None) -> dict[str, bool]:
    """Error code (upper case) -> whether it points at SOR-EDI.

    Parameters
    ----------
    aliases : str or path-like, optional
        The alias file; its section ``fejlkoder`` (``sor_edi: [codes]`` and ``andre: [codes]``)
        extends the packaged list and wins where both name a code.

    Returns
    -------
    dict[str, bool]

    Raises
    ------
    ExtractError
        If the section is not two lists of codes.
    """
    out = dict(_packaged())
    if aliases is not None:
        path, size, mtime = stamp(aliases)
        # A file that cannot be read: read_user_yaml says, in Danish, what is wrong with it.
        out |= _user(path, None if size is None else (size, mtime))
    return out


def causes(df: pd.DataFrame, classes: dict[str, bool]) -> ReceiptCauses:
    """Count the negative receipts of findings of table 6 or 7 by cause.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical findings with ``antal`` and, if the extract has it, ``fejlkode``.
    classes : dict[str, bool]
        From :func:`classification`.

    Returns
    -------
    ReceiptCauses
    """
    antal = df["antal"].fillna(0).astype("int64") if "antal" in df else pd.Series(dtype="int64")
    total = int(antal.sum())
    codes = df["fejlkode"] if "fejlkode" in df else pd.Series(pd.NA, index=df.index)
    sor_edi = codes.map(lambda v: classes.get(code_of(v)))
    if codes.isna().all():
        return ReceiptCauses(total, None, 0, total)
    yes, no = int(antal[sor_edi.eq(True)].sum()), int(antal[sor_edi.eq(False)].sum())
    return ReceiptCauses(total, yes, no, total - yes - no)


def code_of(value: object) -> str | None:
    """The error code a ``fejlkode`` cell starts with, upper case; ``None`` when blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    match = _CODE.match(str(value))
    return match.group(1).upper() if match else None


@cache
def _packaged() -> dict[str, bool]:
    """``data/fejlkoder.csv`` as code -> SOR-EDI or not."""
    with files("soredi_nb").joinpath("data/fejlkoder.csv").open(encoding="utf-8") as f:
        return {r["kode"].upper(): r["sor_edi"] == "ja" for r in csv.DictReader(f, delimiter=";")}


@lru_cache(maxsize=8)
def _user(path: str, stamp: tuple[int, int] | None) -> dict[str, bool]:
    """The ``fejlkoder`` section of the alias file at ``path`` (an absolute path).

    ``stamp`` (size, modification time) only keys the memo: a kernel that lives on in
    JupyterLab re-reads an edited file, as ``notebook.open_extract`` re-reads the extract.
    """
    from soredi_nb.load import read_user_yaml

    raw = read_user_yaml(Path(path))
    section = raw.get(SECTION) if isinstance(raw, dict) else None
    if section is None:
        return {}
    groups = ", ".join(_GROUPS)
    if not isinstance(section, dict) or not set(section) <= set(_GROUPS):
        raise ExtractError(text("load.error_codes_invalid", file=path, groups=groups))
    out = {}
    for group, codes in section.items():
        codes = [codes] if isinstance(codes, str) else codes or []
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ExtractError(text("load.error_codes_invalid", file=path, groups=groups))
        out |= {c.strip().upper(): _GROUPS[group] for c in codes if c.strip()}
    return out
