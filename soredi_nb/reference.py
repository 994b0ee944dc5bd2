"""Data shipped with the package: the national reference tables (municipalities, regions,
message types) and the parsing of its YAML files."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import pandas as pd
import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML has it: the same safe types, ten times as fast (every kernel of a
render parses the package's texts and guidance once)."""


def package_yaml(name: str) -> Any:
    """Parse ``data/<name>``, a YAML file of the package (e.g. ``"tasks.yaml"``)."""
    source = files("soredi_nb").joinpath(f"data/{name}").read_text("utf-8")
    return yaml.load(source, Loader=_YAML_LOADER)


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
