"""National reference data shipped with the package: municipalities, regions, message types."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd


def _read(name: str) -> pd.DataFrame:
    """Read a semicolon-separated package data file with every column as text."""
    with files("soredi_nb").joinpath(f"data/{name}").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, sep=";", dtype=str, keep_default_na=False)


@cache
def municipalities() -> pd.DataFrame:
    """The 98 municipalities.

    Columns: ``kommunekode`` (4 digits, e.g. ``"0751"``), ``kommune`` (short name, ``"Aarhus"``),
    ``navn`` (official name, ``"Aarhus Kommune"``), ``regionskode``, ``region``.
    """
    return _read("kommuner.csv")


@cache
def regions() -> pd.DataFrame:
    """The 5 regions. Columns: ``regionskode`` (``"1081"``-``"1085"``), ``region`` (full name)."""
    return _read("regioner.csv")


@cache
def message_types() -> pd.DataFrame:
    """Known MedCom message types in SOR-EDI.

    Columns: ``kode`` (``"XDIS91"``), ``syntaks`` (EDIFACT/OIOXML/FHIR), ``navn`` (Danish name),
    ``engelsk``, ``kilde_bemaerkning``.
    """
    return _read("meddelelsestyper.csv")
