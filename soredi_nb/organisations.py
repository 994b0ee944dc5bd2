"""Organisations: resolve what a user types, filter an extract to it, list those in an extract.

An organisation is selected by the owner (``ejer``) column, the guide's first step ("filter to your
own municipality/region/unit"). A municipality or region is known nationally (``reference``), so
it resolves even when it has no rows in the extract: that organisation has no cleanup task.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache

import numpy as np
import pandas as pd

from soredi_nb import reference, roles
from soredi_nb.danish import fold
from soredi_nb.exceptions import OrganisationError
from soredi_nb.extract import ROW, Extract
from soredi_nb.texts import text

_NONE = "\x00none"
"""Group key of rows without a value while counting (a string no cell can hold)."""
_TYPED = re.compile(r"(kommune|region)\s*:\s*(\S.*)", re.IGNORECASE)
"""A municipality or region named with its type in front, e.g. ``kommune:Aarhus``."""


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

    @cached_property
    def identity(self) -> str:
        """What the organisation's rows are matched on: owner type and folded name."""
        return f"{self.kind}:{fold(self.name)}"

    @property
    def selector(self) -> str:
        """What to type (``--org``, the notebooks' ``organisation``) to select exactly this one.

        The code for a municipality or region, else the owner type and name (``"Privat:Aarhus"``).
        """
        return self.code or f"{self.kind}:{self.name}"


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


def known(kind: str) -> list[Organisation]:
    """Every municipality (``kind="Kommune"``) or region (``"Region"``) of Denmark."""
    return list(dict.fromkeys(o for o in _known().values() if o.kind == kind))


def _known_by_code(query: str) -> Organisation | None:
    """A municipality or region by numeric code, with or without leading zeros."""
    if not re.fullmatch(r"\d{1,4}", query):
        return None
    return _known().get(str(int(query)))


# A national extract has some 10,000 distinct (owner, type) pairs, and a history a year of them:
# room for all, so a history's months do not push each other's owners out.
@lru_cache(maxsize=65536)
def owner(ejer: object, ejertype: object) -> Organisation | None:
    """The organisation an (``Ejer``, ``Ejertype``) pair of cells belongs to.

    The full name of a municipality or region is that organisation whatever its type cell says;
    a short name or code is one only when the type says so (a private clinic may well be called
    "Aarhus"). Any other owner is identified by its type and folded name, and shown as first
    written. Memoised: it runs once for every distinct pair of cells.

    Parameters
    ----------
    ejer, ejertype : object
        The cells as loaded. The type is read as ``roles.owner_type`` reads it ("kommunal" is
        "Kommune"); a type it does not know is kept as written, and a blank one is "Privat".

    Returns
    -------
    Organisation or None
        ``None`` for a blank owner.
    """
    if not isinstance(ejer, str) or not ejer.strip():
        return None
    written = " ".join(ejertype.split()) if isinstance(ejertype, str) else ""
    kind = roles.owner_type(written) or written or "Privat"
    known = _known_by_code(ejer.strip()) or _known().get(fold(ejer))
    if known is not None and (fold(ejer) == fold(known.name) or known.kind == kind):
        return known
    return Organisation(" ".join(ejer.split()), kind)


def identities(df: pd.DataFrame) -> pd.Series:
    """Each row's owner identity.

    Parameters
    ----------
    df : pandas.DataFrame
        A table with ``ejer`` and ``ejertype`` columns.

    Returns
    -------
    pandas.Series
        ``Organisation.identity`` of each row's owner (see :func:`owner`), NA for rows without
        an owner; same index as ``df``.
    """
    # A national table has thousands of rows per distinct pair of cells: each pair is resolved
    # once (a history's twelve months took seconds through a merge of the text columns).
    owners, owner_names = pd.factorize(df["ejer"])
    types, type_names = pd.factorize(df["ejertype"])
    width = len(type_names) + 1  # a missing type is code -1, pushed to 0
    pairs, where = np.unique(owners.astype(np.int64) * width + types + 1, return_inverse=True)
    names, kinds = owner_names.tolist(), [None, *type_names.tolist()]
    found = [
        org.identity if o >= 0 and (org := owner(names[o], kinds[t])) else None
        for o, t in zip(*np.divmod(pairs, width), strict=True)
    ]
    identity = np.array(found, dtype=object)[where]
    return pd.Series(identity, index=df.index, name="identity", dtype="str")


def table_identities(extract: Extract, number: int) -> pd.Series:
    """:func:`identities` of one of the extract's tables, computed once per extract in memory."""
    key = ("identities", number)
    if key not in extract.memo:
        extract.memo[key] = identities(extract.tables[number])
    return extract.memo[key]


def organisations_in(extract: Extract) -> dict[str, Organisation]:
    """Every owner in the extract.

    Returns
    -------
    dict
        ``Organisation.identity`` -> ``Organisation``, in order of first appearance.
    """
    return dict(_owners(extract)[0])


def _owners(
    extract: Extract,
) -> tuple[dict[str, Organisation], dict[str, Organisation], dict[str, list[Organisation]]]:
    """The extract's owners by identity, by folded selector and by folded name, computed once
    per extract.

    Every page of a render resolves its organisation against the whole extract; the owners
    depend on the extract alone, and finding them again took a tenth of a second a page.
    """
    if "owners" not in extract.memo:
        out: dict[str, Organisation] = {}
        for df in extract.tables.values():
            for e, t in df[["ejer", "ejertype"]].drop_duplicates().itertuples(index=False):
                if (org := owner(e, t)) is not None:
                    out.setdefault(org.identity, org)
        by_name: dict[str, list[Organisation]] = {}
        for o in out.values():
            by_name.setdefault(fold(o.name), []).append(o)
        extract.memo["owners"] = (out, {fold(o.selector): o for o in out.values()}, by_name)
    return extract.memo["owners"]


def resolve(query: str | int, extract: Extract | None = None) -> Organisation:
    """Resolve what a user typed to exactly one organisation.

    Parameters
    ----------
    query : str or int
        Full name, short name or code of a municipality or region, in any case (``"aarhus"``,
        ``751``, ``"0751"``, ``"AARHUS KOMMUNE"``, ``1083``, ``"region syddanmark"``), or the name
        of any owner in ``extract`` (e.g. a private GP clinic). An owner type in front
        (``"Privat:Aarhus"``, ``"kommune:Aarhus"``) chooses between owners of the same name;
        :attr:`Organisation.selector` gives that form.
    extract : Extract, optional
        The extract whose owners are also accepted.

    Returns
    -------
    Organisation

    Raises
    ------
    OrganisationError
        If nothing matches (the message lists close matches and how to list all owners), or if
        the name matches several organisations (the message says how to name each).
    """
    raw = " ".join(str(query).split())
    # What `orgs` shows under "Vælg med --org" selects exactly that owner, whatever its type.
    _, by_selector, by_name = _owners(extract) if extract is not None else ({}, {}, {})
    if fold(raw) in by_selector:
        return by_selector[fold(raw)]
    typed = _TYPED.fullmatch(raw)
    known = _known_by_code(raw)
    if typed:
        kind, name = typed.group(1).capitalize(), typed.group(2)
        known = _known_by_code(name) or _known().get(fold(name))
        candidates = [known] if known is not None and known.kind == kind else []
    elif known is not None:
        return known
    else:
        candidates = list(by_name.get(fold(raw), []))
        known = _known().get(fold(raw))
        if known is not None and known not in candidates:
            candidates.insert(0, known)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        choices = "; ".join(
            text("organisations.choice", name=o.name, kind=o.kind.lower(), selector=o.selector)
            for o in candidates
        )
        raise OrganisationError(text("organisations.ambiguous", query=raw, choices=choices))
    spellings = {k: o.name for k, o in _known().items()}
    spellings |= {k: same[0].name for k, same in by_name.items()}
    keys = difflib.get_close_matches(fold(raw), spellings, n=8, cutoff=0.75)
    keys += [k for k in spellings if fold(raw) in k]
    close = list(dict.fromkeys(spellings[k] for k in keys))[:5]
    parts = [text("organisations.unknown", query=raw)]
    if close:
        parts.append(text("organisations.close_matches", matches=", ".join(close)))
    # The command as the user can run it: the extract they gave (and its alias file), if any.
    where = text("organisations.extract_placeholder")
    if extract is not None:
        where = shlex.quote(extract.info.file)
        if extract.info.aliases:
            where += f" --aliases {shlex.quote(extract.info.aliases)}"
    parts.append(text("organisations.how_to_list", extract=where))
    raise OrganisationError(" ".join(parts))


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
        Keep location numbers of this IT system (case-insensitive), e.g. an IT vendor
        administering message types for its private customers. The name of a system in the
        extract selects exactly that system ("SP" is not "Sundhedsplatformen"); other text
        selects every system whose name contains it ("multimed").

    Returns
    -------
    Extract
        Same info and missing tables; tables and row-level warnings restricted to the kept rows.
        The same object again for the same selection asked twice in a row (read it, do not
        change it).
    """
    if organisation is not None and not isinstance(organisation, Organisation):
        organisation = resolve(organisation, extract)
    # A page filters the extract twice (for itself and for its summary), and a kernel renders
    # an organisation's pages one after another: the last selection is kept with the extract.
    key = (organisation.identity if organisation else None, region, kommune, sor_kode)
    key += (enhedsnavn, it_system)
    last = extract.memo.get("filtered")
    if last is not None and last[0] == key:
        return last[1]
    # What the filters mean is decided once, not per table.
    regions = kommuner = None
    if region is not None:
        org = _place(region, "Region")
        regions = {fold(org.name), fold(org.name.removeprefix("Region "))}
    if kommune is not None:
        org = _place(kommune, "Kommune")
        short = reference.municipalities().set_index("navn").loc[org.name, "kommune"]
        kommuner = {fold(org.name), fold(short)}
    systems = {}
    if it_system is not None:
        systems = {n: _folded(df, "it_system") for n, df in extract.tables.items()}
    exact_system = any(s.eq(fold(it_system)).any() for s in systems.values())
    tables: dict[int, pd.DataFrame] = {}
    for number, df in extract.tables.items():
        keep = pd.Series(True, index=df.index)
        if organisation is not None:
            keep &= table_identities(extract, number).eq(organisation.identity)
        if regions is not None:
            keep &= _folded(df, "region").isin(regions)
        if kommuner is not None:
            keep &= _folded(df, "kommune").isin(kommuner)
        if sor_kode is not None:
            keep &= df["sor_kode"] == str(sor_kode).strip()
        if enhedsnavn is not None:
            keep &= _folded(df, "enhedsnavn").str.contains(fold(enhedsnavn), regex=False, na=False)
        if it_system is not None:
            if exact_system:
                keep &= systems[number].eq(fold(it_system)).fillna(False)
            else:
                keep &= systems[number].str.contains(fold(it_system), regex=False, na=False)
        tables[number] = df[keep.fillna(False)]
    kept = {(extract.sheets.get(n), r) for n, df in tables.items() for r in df[ROW]}
    warnings = [w for w in extract.warnings if w.row is None or (w.sheet, w.row) in kept]
    selected = replace(extract, tables=tables, warnings=warnings)
    extract.memo["filtered"] = (key, selected)
    return selected


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
        ``lokationsnumre`` (distinct location numbers); with ``by="ejer"`` also ``identity``
        (``Organisation.identity``, what tells two owners of the same name apart). Sorted by
        owner type, then name. Rows without an owner (or without a value in ``by``) are the
        last row, whose ``organisation`` (and ``ejertype``, ``identity``) is ``None``: the
        ``tabel_N`` columns add up to every row of the extract.
    """
    group = "identity" if by == "ejer" else by
    frames = []
    for number, df in extract.tables.items():
        part = df[["lokationsnummer"]].copy()
        values = table_identities(extract, number) if by == "ejer" else df[by]
        # Rows without a value form a group of their own: every row is counted somewhere.
        part[group] = values.astype(object).where(values.notna(), _NONE)
        part["tabel"] = f"tabel_{number}"
        frames.append(part)
    data = pd.concat(frames, ignore_index=True)
    counts = pd.crosstab(data[group], data["tabel"])
    cols = [f"tabel_{n}" for n in sorted(extract.tables)]
    counts = counts.reindex(columns=cols, fill_value=0)
    counts["i_alt"] = counts.sum(axis=1)
    counts["lokationsnumre"] = data.groupby(group)["lokationsnummer"].nunique()
    out = counts.reset_index()
    out.columns.name = None
    if by == "ejer":
        orgs = organisations_in(extract)
        out.insert(0, "organisation", [orgs[i].name if i in orgs else None for i in out[group]])
        out.insert(1, "ejertype", [orgs[i].kind if i in orgs else None for i in out[group]])
        out = out[[c for c in out if c != group] + [group]]
        sort = ["ejertype", "organisation"]
    else:
        out = out.rename(columns={by: "organisation"})
        sort = ["organisation"]
    for col in sort + ([group] if by == "ejer" else []):
        values = out[col].astype(object)
        out[col] = values.where(values.notna() & values.ne(_NONE), None)
    # By name, and the group without a value last.
    order = out[sort].map(lambda v: "\uffff" if v is None else fold(v))
    return out.loc[order.sort_values(sort).index].reset_index(drop=True)
