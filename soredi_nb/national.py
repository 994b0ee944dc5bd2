"""The whole extract at a glance: who has work to do, and how much compared with their peers.

The front page of a report site, and the overview notebook run without an organisation, show
one row per municipality and region (every one of them, those without findings as the guide's
"no cleanup task"), per owner that has a report set of its own, and one row per other owner
type and for the rows without an owner, so that the column of totals adds up to every row of
the extract.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from soredi_nb import danish, schema
from soredi_nb.danish import fold
from soredi_nb.extract import Extract
from soredi_nb.organisations import identities, known, list_organisations
from soredi_nb.summary import share_fewer, standing_text
from soredi_nb.targets import IT_SYSTEM
from soredi_nb.texts import text

PEER_KINDS = ("Kommune", "Region")
"""Owner types listed one by one, all of them, and compared with their peers."""
COLUMNS = [f"tabel_{n}" for n in schema.TABLE_NUMBERS]
"""The count columns of :func:`organisation_table`, one per table."""


def organisation_table(
    extract: Extract, by: str = "ejer", own_reports: Iterable[str] = ()
) -> pd.DataFrame:
    """Findings per organisation and table, with what they amount to.

    Parameters
    ----------
    extract : Extract
    by : {"ejer", "it_system"}
        One row per owner (default) or per IT system (the vendor's view; spellings of one
        system that differ only in case or spaces are one row, as ``filter_extract`` selects
        them).
    own_reports : iterable of str
        Identities (``Target.identity``) that have a report set of their own: an owner of
        another type than municipality or region is then listed by name rather than in its
        type's row.

    Returns
    -------
    pandas.DataFrame
        Columns ``identity`` (``None`` for a row that groups several owners, or rows without
        one), ``organisation``, ``ejertype`` (the owner type, or the group's), ``tabel_1`` …
        ``tabel_7`` (``Int64``, NA for a table missing from the extract), ``i_alt``,
        ``owners`` (how many owners a grouped row stands for, else 1) and ``status`` (Danish,
        see :func:`status`). Municipalities, then regions, then the others, each by name;
        grouped rows and rows without an owner last. ``i_alt`` adds up to every row of the
        extract.
    """
    counts = list_organisations(extract, by="ejer" if by != IT_SYSTEM else IT_SYSTEM)
    columns = COLUMNS
    counts = counts.reindex(columns=[*counts.columns, *(c for c in columns if c not in counts)])
    for c in columns:
        number = int(c.removeprefix("tabel_"))
        counts[c] = counts[c].fillna(0) if number in extract.tables else np.nan
    if by == IT_SYSTEM:
        counts["identity"] = [
            f"{IT_SYSTEM}:{fold(name)}" if isinstance(name, str) else None
            for name in counts["organisation"]
        ]
        counts["ejertype"] = text("national.it_system")
        # Spellings of one system are one report set: one row, under its first spelling.
        keys = counts["identity"].fillna("\x00none")
        first = counts.groupby(keys, sort=False)[["organisation", "ejertype", "identity"]].first()
        summed = counts.groupby(keys, sort=False)[[*columns, "i_alt"]].sum(min_count=1)
        table = first.join(summed).reset_index(drop=True)
        table["owners"] = 1
        no_value = table["identity"].isna()
        table.loc[no_value, "organisation"] = text("organisations.no_value.it_system")
        table = pd.concat([table[~no_value], table[no_value]], ignore_index=True)
    else:
        table = _by_owner(counts, columns, set(own_reports))
    table = table[["identity", "organisation", "ejertype", *columns, "i_alt", "owners"]]
    table[columns] = table[columns].astype("Int64")
    table["i_alt"] = table["i_alt"].fillna(0).astype("int64")
    table["owners"] = table["owners"].astype("int64")
    table["status"] = [
        status(total, kind, identity, table, extract.missing)
        for total, kind, identity in zip(
            table["i_alt"], table["ejertype"], table["identity"], strict=True
        )
    ]
    return table


def work_first(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`organisation_table` as the front page lists it: who has the most to do first.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`organisation_table` (by owner or by IT system).

    Returns
    -------
    pandas.DataFrame
        The same rows, indexed from 0: organisations (or IT systems) by findings, most first,
        those with as many in the table's order (by type and name); the rows that are no one
        to turn to (owners grouped by type, findings without an owner or IT system) last, in
        the table's order.
    """
    named = table["identity"].notna().to_numpy()
    # lexsort sorts by its last key first: named rows, then most findings, then table order.
    order = np.lexsort((np.arange(len(table)), -table["i_alt"].to_numpy(), ~named))
    return table.iloc[order].reset_index(drop=True)


def _by_owner(counts: pd.DataFrame, columns: list[str], own: set[str]) -> pd.DataFrame:
    """:func:`organisation_table`'s rows by owner: every municipality and region, the owners
    of ``own`` by name, every other owner type as one row, the rows without an owner last."""
    counts = counts.assign(owners=1)
    listed = counts["ejertype"].isin(PEER_KINDS) | counts["identity"].isin(own)
    parts = []
    for kind in PEER_KINDS:
        everyone = pd.DataFrame(
            {"identity": o.identity, "organisation": o.name, "ejertype": kind, "owners": 1}
            for o in known(kind)
        )
        found = counts[listed & counts["ejertype"].eq(kind)].set_index("identity")
        everyone = everyone.join(found[[*columns, "i_alt"]], on="identity")
        # Found owners of this type that are not known nationally (a misspelt municipality).
        extra = found[~found.index.isin(everyone["identity"])].reset_index()
        parts.append(_by_name(pd.concat([everyone, extra], ignore_index=True)))
    others = counts[listed & ~counts["ejertype"].isin(PEER_KINDS)]
    parts.append(_by_name(others))
    grouped = counts[~listed & counts["identity"].notna()]
    for kind, group in grouped.groupby("ejertype", sort=True):
        row = group[[*columns, "i_alt"]].sum(min_count=1).to_frame().T
        row.insert(0, "identity", None)
        row.insert(1, "organisation", text("national.others", kind=kind, count=len(group)))
        row.insert(2, "ejertype", kind)
        row["owners"] = len(group)
        parts.append(row)
    without = counts[counts["identity"].isna() & counts["i_alt"].gt(0)]
    without = without.assign(organisation=text("organisations.no_value.ejer"), ejertype="")
    parts.append(without)
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    table[[*columns, "i_alt"]] = table[[*columns, "i_alt"]].astype("float64")
    fill = {c: 0 for c in ["i_alt", *columns] if not table[c].isna().all()}
    return table.fillna(fill)


def _by_name(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` sorted by name as a Danish list is ("Ærø Kommune" after "Vordingborg")."""
    return df.iloc[np.argsort([danish.sort_key(n) for n in df["organisation"]], kind="stable")]


def status(
    total: int, kind: str, identity: str | None, table: pd.DataFrame, missing: list[int]
) -> str:
    """What an organisation's findings amount to, in Danish.

    Parameters
    ----------
    total : int
        Its findings in all tables.
    kind : str
        Its owner type.
    identity : str or None
        Its identity; ``None`` for a row that groups several owners (compared with nobody).
    table : pandas.DataFrame
        The whole :func:`organisation_table`, for the comparison with the peers.
    missing : list of int
        Tables missing from the extract.

    Returns
    -------
    str
        None: the guide's "no cleanup task" (or only "no findings" when a table is missing).
        Some: how many, and for a municipality or region, where it stands among the other
        municipalities or regions (those without findings counted as zero).
    """
    if total == 0:
        if missing:
            return text("national.status_none_missing", numbers=danish.enumeration(missing))
        return text("national.status_none")
    if identity is None or kind not in PEER_KINDS:
        return text("national.status_some", count=total)
    peers = table["ejertype"].eq(kind) & table["identity"].notna() & table["identity"].ne(identity)
    share = share_fewer(total, table.loc[peers, "i_alt"].to_numpy())
    if share is None:  # no other of its kind in the table (not so in a whole extract's)
        return text("national.status_some", count=total)
    return text("national.status_ranked", count=total, standing=standing_text(share, kind))


def changes(comparison, table: pd.DataFrame, by: str = "ejer") -> list[str]:
    """Each row's change since the previous extract, e.g. "−5 (3 nye, 8 løste)".

    Parameters
    ----------
    comparison : compare.Comparison
        The two extracts compared as a whole (``compare(previous, extract)``).
    table : pandas.DataFrame
        :func:`organisation_table` of the later extract, with the same ``by``.
    by : {"ejer", "it_system"}

    Returns
    -------
    list of str
        One per row of ``table``; for a grouped row, the change of all its owners.
    """
    tally: dict[str | None, list[int]] = {}
    for number in schema.TABLE_NUMBERS:
        for column, frame in enumerate((comparison.new(number), comparison.resolved(number))):
            if frame is None or frame.empty:
                continue
            for key in _row_keys(frame, table, by):
                tally.setdefault(key, [0, 0])[column] += 1
    out = []
    for identity, kind in zip(table["identity"], table["ejertype"], strict=True):
        key = identity if identity is not None else ("group", kind)
        new, resolved = tally.get(key, (0, 0))
        delta = new - resolved
        sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
        out.append(text("national.change", delta=f"{sign}{abs(delta)}", new=new, resolved=resolved))
    return out


def _row_keys(frame: pd.DataFrame, table: pd.DataFrame, by: str) -> list:
    """The row of ``table`` each finding of ``frame`` counts in (see :func:`changes`)."""
    if by == IT_SYSTEM:
        return [
            f"{IT_SYSTEM}:{fold(v)}" if isinstance(v, str) and v.strip() else None
            for v in frame["it_system"]
        ]
    listed = set(table["identity"].dropna())
    keys = []
    for identity in identities(frame):
        if not isinstance(identity, str):
            keys.append(("group", ""))
        elif identity in listed:
            keys.append(identity)
        else:
            keys.append(("group", identity.split(":", 1)[0]))
    return keys


def change_since(then: pd.DataFrame, now: pd.DataFrame) -> pd.Series:
    """Each row's change in findings since an earlier extract: negative is fewer.

    Parameters
    ----------
    then, now : pandas.DataFrame
        :func:`organisation_table` of the earlier and the later extract, with the same ``by``
        and ``own_reports``.

    Returns
    -------
    pandas.Series
        ``Int64``, aligned with ``now``: its findings less the same row's then (an
        organisation by identity, a grouped row by owner type; 0 then where it had no row),
        over the tables both extracts have: a table missing from one says nothing of change.
    """

    def keys(table: pd.DataFrame) -> list:
        return [
            i if isinstance(i, str) else f"\x00{kind}"
            for i, kind in zip(table["identity"], table["ejertype"], strict=True)
        ]

    both = [c for c in COLUMNS if now[c].notna().any() and then[c].notna().any()]
    before = pd.Series(then[both].sum(axis=1).to_numpy(), index=keys(then))
    earlier = before.reindex(keys(now), fill_value=0).to_numpy()
    later = now[both].sum(axis=1).to_numpy()
    return pd.Series(later - earlier, index=now.index, dtype="Int64")
