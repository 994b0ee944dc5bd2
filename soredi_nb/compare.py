"""Progress between two extracts: which findings are new, resolved or still there, per task.

A finding is recognised across extracts by a stable key (:func:`finding_key`): its location
number, plus the message type and the counterpart's location number where the table has them.
Counts are multiset counts: a key that occurs twice in one extract and once in the other is one
persisting and one new (or resolved) finding, so ``persisting + resolved`` is always the old
extract's rows and ``persisting + new`` the new extract's. The worklist carries notes over with
the same matching (:func:`match_findings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from soredi_nb import messagetypes, schema
from soredi_nb.danish import fold
from soredi_nb.exceptions import OrganisationError
from soredi_nb.extract import Extract, ExtractInfo
from soredi_nb.findings import gln_text, sort_findings
from soredi_nb.organisations import Organisation, filter_extract, resolve
from soredi_nb.texts import text

KEY_COLUMNS = ("lokationsnummer", "meddelelsestype", "modpart_lokationsnummer")
"""The columns that identify a finding, each used where the table has it."""

_SEPARATOR = "|"


def finding_key(df: pd.DataFrame, number: int) -> pd.Series:
    """The stable key of each finding of table ``number``.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of table ``number`` with canonical column names: as loaded, or read back from a
        worklist (display values such as ``"XDIS91 – Korrespondancemeddelelse"`` give the same
        key as ``"XDIS91"``). A key column missing from ``df`` counts as empty.
    number : int
        Table number (1-7).

    Returns
    -------
    pandas.Series
        ``str``, aligned with ``df``: the location number as digits, then (tables that have
        them) the message type's code (or its case-folded text when it has no known code) and
        the counterpart's location number, joined by ``"|"``; missing parts are empty, e.g.
        ``"5790002023354|XDIS91|5790002133015"`` in table 2, ``"5790000581696"`` in table 1.
    """
    parts = []
    for col in KEY_COLUMNS:
        if col not in schema.table(number).columns:
            continue
        s = df[col] if col in df else pd.Series(pd.NA, index=df.index, dtype="str")
        if col == "meddelelsestype":
            # The same type is written "XDIS91", "XDIS91 Korrespondancemeddelelse" or shown as
            # "XDIS91 – Korrespondancemeddelelse": the code is what stays the same.
            part = messagetypes.code_series(s)
            uncoded = s[part.isna() & s.notna()]
            part = part.fillna(uncoded.map(fold))
        else:
            part = gln_text(s)
        parts.append(part.astype("str").fillna(""))
    key = parts[0]
    for part in parts[1:]:
        key = key + _SEPARATOR + part
    return key.rename("key")


def match_findings(old: pd.DataFrame, new: pd.DataFrame, number: int) -> pd.DataFrame:
    """Pair the findings of two versions of table ``number`` that are the same finding.

    Parameters
    ----------
    old, new : pandas.DataFrame
        Rows of table ``number`` with canonical column names (see :func:`finding_key`).
    number : int
        Table number (1-7).

    Returns
    -------
    pandas.DataFrame
        Columns ``old`` and ``new``: positions (``iloc``) of matched rows, one pair per
        persisting finding, sorted by ``new``. Per key, ``min(count in old, count in new)``
        pairs. Within a key, rows of the same SOR unit (``sor_kode``) are paired first, then the
        rest in row order, so a location number shared by several units keeps each unit's row.
    """
    sides = []
    for df in (old, new):
        unit = df["sor_kode"] if "sor_kode" in df else pd.Series(pd.NA, index=df.index)
        sides.append(
            pd.DataFrame(
                {
                    "key": finding_key(df, number).to_numpy(),
                    "unit": gln_text(unit).fillna("").to_numpy(),  # SOR-IDs: digits too
                    "pos": range(len(df)),
                }
            )
        )
    a, b = sides
    pairs = []
    for by in (["key", "unit"], ["key"]):
        a = a.assign(occurrence=a.groupby(by).cumcount())
        b = b.assign(occurrence=b.groupby(by).cumcount())
        hit = a.merge(b, on=[*by, "occurrence"], suffixes=("_old", "_new"))
        pairs.append(hit[["pos_old", "pos_new"]])
        a, b = a[~a["pos"].isin(hit["pos_old"])], b[~b["pos"].isin(hit["pos_new"])]
    out = pd.concat(pairs, ignore_index=True).set_axis(["old", "new"], axis=1)
    return out.sort_values("new").reset_index(drop=True).astype("int64")


@dataclass(frozen=True)
class TaskComparison:
    """The progress of one task between two extracts.

    ``new``, ``resolved`` and ``persisting`` are ``None`` when the table is missing from either
    extract (``comparable`` is False): a missing table says nothing about what was fixed.
    ``old_rows`` / ``new_rows`` are the findings in each extract, ``None`` where it lacks the
    table.
    """

    number: int
    name: str
    comparable: bool
    new: int | None
    resolved: int | None
    persisting: int | None
    old_rows: int | None
    new_rows: int | None

    def to_dict(self) -> dict:
        """The JSON shape of one task in ``compare --json``."""
        keys = ("number", "new", "resolved", "persisting", "comparable")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class Comparison:
    """Two extracts compared for one organisation (or as a whole).

    Attributes
    ----------
    organisation : Organisation or None
    old_info, new_info : ExtractInfo
        The earlier and the later extract.
    tasks : list of TaskComparison
        One per table, 1-7.
    """

    organisation: Organisation | None
    old_info: ExtractInfo
    new_info: ExtractInfo
    tasks: list[TaskComparison]
    _resolved: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False)
    _new: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False)

    def task(self, number: int) -> TaskComparison:
        """The comparison of table ``number``."""
        return self.tasks[number - 1]

    def resolved(self, number: int) -> pd.DataFrame | None:
        """Findings of the old extract that are gone from the new one.

        Parameters
        ----------
        number : int
            Table number (1-7).

        Returns
        -------
        pandas.DataFrame or None
            Canonical rows of the old extract, sorted by ``findings.sort_findings``; pass them
            to ``findings.display_table(df, number)`` to show them. ``None`` when the table is
            not comparable.
        """
        return self._resolved.get(number)

    def new(self, number: int) -> pd.DataFrame | None:
        """Findings of the new extract that were not in the old one (see :meth:`resolved`)."""
        return self._new.get(number)

    @property
    def reversed_order(self) -> bool:
        """True when the "old" extract is the later one by period (or else by extract date)."""
        for attr in ("period", "extract_date"):
            old, new = getattr(self.old_info, attr), getattr(self.new_info, attr)
            if old is not None and new is not None and old != new:
                return old > new
        return False

    def to_dict(self) -> dict:
        """The ``compare --json`` shape: ``{"organisation", "old", "new", "tasks"}``."""
        return {
            "organisation": self.organisation.name if self.organisation else None,
            "old": self.old_info.to_dict(),
            "new": self.new_info.to_dict(),
            "tasks": [t.to_dict() for t in self.tasks],
        }

    def counts(self) -> pd.DataFrame:
        """The figures per task as a DataFrame, for a chart of findings then and now.

        Returns
        -------
        pandas.DataFrame
            One row per table: ``number``, ``name``, ``old_rows``, ``new_rows``, ``new``,
            ``resolved``, ``persisting`` (``Int64``, NA where unknown) and ``comparable``.
        """
        df = pd.DataFrame([t.__dict__ for t in self.tasks])
        ints = ["old_rows", "new_rows", "new", "resolved", "persisting"]
        df = df.astype({c: "Int64" for c in ints} | {"name": "str", "comparable": "bool"})
        return df[["number", "name", *ints, "comparable"]]

    def frame(self) -> pd.DataFrame:
        """:meth:`counts` with Danish labels and a note on tables that cannot be compared.

        Returns
        -------
        pandas.DataFrame
            Columns Tabel, Opgave, Før, Nu, Ny, Løst, Uændret, Bemærkning; the note says which
            extract lacks the table, empty for comparable tables.
        """
        df = self.counts()
        df["note"] = [_note(t) for t in self.tasks]
        df = df.drop(columns="comparable")
        return df.rename(columns=text("summary.columns") | text("compare.columns"))


def compare(
    old: Extract, new: Extract, organisation: str | int | Organisation | None = None, **filters
) -> Comparison:
    """Compare the findings of two extracts per task.

    Parameters
    ----------
    old, new : Extract
        The earlier and the later extract (whole; they are narrowed here).
    organisation : str, int or Organisation, optional
        The owner to compare; anything ``organisations.resolve`` accepts in either extract (a
        private owner whose findings are all resolved is only in the old one). ``None`` for the
        whole extracts.
    **filters
        Narrowing filters of ``organisations.filter_extract`` (``region``, ``kommune``,
        ``sor_kode``, ``enhedsnavn``, ``it_system``), applied to both extracts.

    Returns
    -------
    Comparison
        Per table the new, resolved and persisting findings (multiset counts of
        :func:`finding_key`), and the frames of the new and resolved ones. A table missing from
        either extract is not comparable: its counts are ``None``.

    Raises
    ------
    OrganisationError
        If ``organisation`` matches nothing in either extract nor nationally.
    """
    org = organisation
    if org is not None and not isinstance(org, Organisation):
        try:
            org = resolve(org, new)
        except OrganisationError:
            org = resolve(org, old)
    before, after = (filter_extract(e, org, **filters) for e in (old, new))
    tasks, resolved, added = [], {}, {}
    for n in schema.TABLE_NUMBERS:
        a, b = before.table(n), after.table(n)
        counts = dict.fromkeys(("new", "resolved", "persisting"))
        if a is not None and b is not None:
            pairs = match_findings(a, b, n)
            resolved[n] = sort_findings(_unmatched(a, pairs["old"]), n)
            added[n] = sort_findings(_unmatched(b, pairs["new"]), n)
            counts = dict(new=len(added[n]), resolved=len(resolved[n]), persisting=len(pairs))
        tasks.append(
            TaskComparison(
                n,
                schema.table(n).name,
                a is not None and b is not None,
                **counts,
                old_rows=None if a is None else len(a),
                new_rows=None if b is None else len(b),
            )
        )
    return Comparison(org, old.info, new.info, tasks, resolved, added)


def _unmatched(df: pd.DataFrame, matched: pd.Series) -> pd.DataFrame:
    """The rows of ``df`` whose positions are not in ``matched``."""
    keep = np.ones(len(df), dtype=bool)
    keep[matched.to_numpy()] = False
    return df[keep]


def _note(task: TaskComparison) -> str:
    """Why a task cannot be compared, in Danish; empty when it can."""
    if task.comparable:
        return ""
    if task.old_rows is None and task.new_rows is None:
        return text("compare.not_comparable.both")
    return text(f"compare.not_comparable.{'old' if task.old_rows is None else 'new'}")
