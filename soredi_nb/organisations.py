"""Organisations: resolve what a user types, filter an extract to it, list those in an extract.

An organisation is selected by the owner (``ejer``) column, the guide's first step ("filter to your
own municipality/region/unit"). A municipality or region is known nationally (``reference``), so
it resolves even when it has no rows in the extract: that organisation has no cleanup task.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import pandas as pd

from soredi_nb import reference
from soredi_nb.exceptions import OrganisationError
from soredi_nb.extract import ROW, Extract
from soredi_nb.texts import text

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


@dataclass(frozen=True)
class Organisation:
    """An organisation a report is made for.

    Attributes
    ----------
    name : str
        Display name, as the owner is written in the extract for municipalities and regions
        (``"Aarhus Kommune"``, ``"Region Midtjylland"``) or as found in the extract otherwise.
    kind : str
        ``"Kommune"``, ``"Region"``, ``"Privat"`` or ``"Stat"``.
    code : str or None
        Municipality code (``"0751"``) or region code (``"1082"``); ``None`` for other owners.
    """

    name: str
    kind: str
    code: str | None = None


def fold(value: object) -> str:
    """Comparison key for names: NFKC, case-folded, single spaces, æ/ø/å as ae/oe/aa."""
    s = unicodedata.normalize("NFKC", str(value)).casefold()
    return " ".join(s.translate(_DANISH).split())


@cache
def _known() -> dict[str, Organisation]:
    """Municipalities and regions by every accepted spelling: folded name, short name, code."""
    out: dict[str, Organisation] = {}
    for r in reference.regions().itertuples():
        org = Organisation(r.region, "Region", r.regionskode)
        for key in (r.region, r.region.removeprefix("Region "), r.regionskode):
            out[fold(key)] = org
    for m in reference.municipalities().itertuples():
        org = Organisation(m.navn, "Kommune", m.kommunekode)
        for key in (m.navn, m.kommune, m.kommunekode, str(int(m.kommunekode))):
            out.setdefault(fold(key), org)
    return out


def _known_by_code(query: str) -> Organisation | None:
    """A municipality or region by numeric code, with or without leading zeros."""
    if not re.fullmatch(r"\d{1,4}", query):
        return None
    return _known().get(str(int(query)))


@lru_cache(maxsize=8192)
def owner_key(value: object) -> str:
    """The folded canonical owner name of an ``ejer`` cell (municipal/region names unified).

    Memoised: it runs on every row of every table for each page, over a few hundred owners.
    """
    key = fold(value)
    org = _known().get(key)
    # Only full names map onto a municipality: a private owner may well be called "Aarhus".
    if org is not None and key == fold(org.name):
        return fold(org.name)
    return key


def resolve(query: str | int, extract: Extract | None = None) -> Organisation:
    """Resolve what a user typed to an organisation.

    Parameters
    ----------
    query : str or int
        Full name, short name or code of a municipality or region, in any case (``"aarhus"``,
        ``751``, ``"0751"``, ``"AARHUS KOMMUNE"``, ``1083``, ``"region syddanmark"``), or the name
        of any owner in ``extract`` (e.g. a private GP clinic).
    extract : Extract, optional
        The extract whose owners are also accepted.

    Returns
    -------
    Organisation

    Raises
    ------
    OrganisationError
        If nothing matches; the message lists close matches and how to list all owners.
    """
    raw = str(query).strip()
    org = _known_by_code(raw) or _known().get(fold(raw))
    if org is not None:
        return org
    owners = _owners(extract) if extract is not None else {}
    if fold(raw) in owners:
        name, kind = owners[fold(raw)]
        return Organisation(name, kind)
    # Compare against every accepted spelling, suggest the display names they belong to.
    spellings = {k: o.name for k, o in _known().items()} | {k: n for k, (n, _) in owners.items()}
    keys = difflib.get_close_matches(fold(raw), spellings, n=8, cutoff=0.75)
    keys += [k for k in spellings if fold(raw) in k]
    close = list(dict.fromkeys(spellings[k] for k in keys))[:5]
    parts = [text("organisations.unknown", query=raw)]
    if close:
        parts.append(text("organisations.close_matches", matches=", ".join(close)))
    parts.append(text("organisations.how_to_list"))
    raise OrganisationError(" ".join(parts))


def _owners(extract: Extract) -> dict[str, tuple[str, str]]:
    """Every owner in the extract: folded key -> (name as written, owner type)."""
    out: dict[str, tuple[str, str]] = {}
    for df in extract.tables.values():
        for name, kind in df[["ejer", "ejertype"]].dropna(subset=["ejer"]).drop_duplicates().values:
            out.setdefault(owner_key(name), (name, kind if isinstance(kind, str) else "Privat"))
    return out


def _folded(df: pd.DataFrame, column: str) -> pd.Series:
    """The folded text of a column (NA stays NA), for case- and spelling-blind comparison."""
    return df[column].map(fold, na_action="ignore").astype("str")


def _place(query: str | int, kind: str) -> Organisation:
    """Resolve a region or municipality used as a geographic filter."""
    org = _known_by_code(str(query).strip()) or _known().get(fold(str(query)))
    if org is None or org.kind != kind:
        key = "unknown_region" if kind == "Region" else "unknown_kommune"
        raise OrganisationError(text(f"organisations.{key}", query=query))
    return org


def filter_extract(
    extract: Extract,
    organisation: str | int | Organisation | None = None,
    *,
    region: str | int | None = None,
    kommune: str | int | None = None,
    sor_kode: str | None = None,
    enhedsnavn: str | None = None,
    it_system: str | None = None,
) -> Extract:
    """Narrow an extract to one organisation's findings (the guide's first step).

    Parameters
    ----------
    extract : Extract
        The whole extract.
    organisation : str, int or Organisation, optional
        The owner (``ejer``) to keep; anything :func:`resolve` accepts.
    region, kommune : str or int, optional
        Keep units located in this region / municipality (name or code).
    sor_kode : str, optional
        Keep the unit with this SOR-ID (exact digits).
    enhedsnavn : str, optional
        Keep units whose name contains this text (case-insensitive).
    it_system : str, optional
        Keep location numbers whose IT system contains this text (case-insensitive), e.g. an IT
        vendor administering message types for its private customers.

    Returns
    -------
    Extract
        Same info and missing tables; tables and row-level warnings restricted to the kept rows.
    """
    if organisation is not None and not isinstance(organisation, Organisation):
        organisation = resolve(organisation, extract)
    tables: dict[int, pd.DataFrame] = {}
    for number, df in extract.tables.items():
        keep = pd.Series(True, index=df.index)
        if organisation is not None:
            keep &= df["ejer"].map(owner_key, na_action="ignore").eq(fold(organisation.name))
        if region is not None:
            org = _place(region, "Region")
            short = org.name.removeprefix("Region ")
            keep &= _folded(df, "region").isin({fold(org.name), fold(short)})
        if kommune is not None:
            org = _place(kommune, "Kommune")
            short = reference.municipalities().set_index("navn").loc[org.name, "kommune"]
            keep &= _folded(df, "kommune").isin({fold(org.name), fold(short)})
        if sor_kode is not None:
            keep &= df["sor_kode"] == str(sor_kode).strip()
        if enhedsnavn is not None:
            keep &= _folded(df, "enhedsnavn").str.contains(fold(enhedsnavn), regex=False, na=False)
        if it_system is not None:
            keep &= _folded(df, "it_system").str.contains(fold(it_system), regex=False, na=False)
        tables[number] = df[keep.fillna(False)]
    kept = {(extract.sheets.get(n), r) for n, df in tables.items() for r in df[ROW]}
    warnings = [w for w in extract.warnings if w.row is None or (w.sheet, w.row) in kept]
    return replace(extract, tables=tables, warnings=warnings)


def list_organisations(extract: Extract, by: str = "ejer") -> pd.DataFrame:
    """The organisations in an extract with their number of findings per table.

    Parameters
    ----------
    extract : Extract
    by : {"ejer", "it_system", "region", "kommune"}
        What an organisation is: the owner (default) or another identity column.

    Returns
    -------
    pandas.DataFrame
        One row per organisation: ``organisation``, ``ejertype`` (only with ``by="ejer"``), one
        column ``tabel_N`` of row counts per table present, ``i_alt`` (all rows) and
        ``lokationsnumre`` (distinct location numbers). Sorted by owner type, then name.
    """
    frames = []
    for number, df in extract.tables.items():
        part = df[[by, "lokationsnummer"] + (["ejertype"] if by == "ejer" else [])].copy()
        part["tabel"] = f"tabel_{number}"
        frames.append(part)
    data = pd.concat(frames, ignore_index=True).dropna(subset=[by])
    if by == "ejer":
        # Unify spellings of the same owner and keep the first spelling seen for display.
        data["key"] = data["ejer"].map(owner_key)
        first = data.drop_duplicates("key").set_index("key")
        data["ejer"] = data["key"].map(first["ejer"])
        data["ejertype"] = data["key"].map(first["ejertype"])
    groups = [by, "ejertype"] if by == "ejer" else [by]
    counts = pd.crosstab([data[g] for g in groups], data["tabel"])
    cols = [f"tabel_{n}" for n in sorted(extract.tables)]
    counts = counts.reindex(columns=cols, fill_value=0)
    counts["i_alt"] = counts.sum(axis=1)
    counts["lokationsnumre"] = data.groupby(groups)["lokationsnummer"].nunique()
    out = counts.reset_index().rename(columns={by: "organisation"})
    out.columns.name = None
    sort = ["ejertype", "organisation"] if by == "ejer" else ["organisation"]
    return out.sort_values(sort, key=lambda s: s.map(fold)).reset_index(drop=True)
