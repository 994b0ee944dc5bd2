"""A history of extracts: the earlier months an administrator keeps, and each finding's past.

A history is a folder of earlier extracts as users keep them: workbooks and CSV folders under any
names, read with the same alias file and through the same parse cache as the current extract.
Each extract is one period (its ``Info`` sheet's ``Periode``, else the month before its extract
date); two of one period are an error. A finding is the same finding across periods by
``compare.finding_key``, counted as multisets as ``compare`` counts them: the k-th row of a key
in one period is the k-th row of that key in the next. A table missing from a period is not
comparable there: its findings are neither resolved nor new, and a run of months a finding has
been in continues across the gap.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from soredi_nb import schema
from soredi_nb.compare import finding_key
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract
from soredi_nb.load import WORKBOOK_SUFFIXES, load_extract
from soredi_nb.organisations import Organisation, filter_extract
from soredi_nb.texts import text


@dataclass(frozen=True)
class History:
    """Extracts of consecutive (or not) periods, oldest first, each period once.

    Attributes
    ----------
    periods : list of str
        ``YYYY-MM``, ascending.
    extracts : list of Extract
        One per period, in the same order.
    notes : list of str
        What was assumed while reading, in Danish (a period taken from the extract date).
    folder : str, optional
        The folder it was read from (absolute), for a render to hand to its notebooks.
    """

    periods: list[str]
    extracts: list[Extract]
    notes: list[str] = field(default_factory=list)
    folder: str | None = None
    memo: dict = field(default_factory=dict, compare=False, repr=False)
    """Work done once per history in memory: a render's kernel shows the same history on
    every page, and an organisation's eight pages ask for the same selection."""

    def table(self, number: int, organisation: Organisation | None, **filters) -> TableHistory:
        """:func:`table_history` of one selection, kept with the selection (see ``memo``):
        the overview follows every table, and each task page its own again."""
        kept = self._selection(organisation, filters)
        if number not in kept["tables"]:
            # Codes of whole tables cost more than one selection's keys, and pay off from the
            # second selection on (a render's kernel); one organisation's history keys its own.
            codes = self._codes(number) if self.memo["selections"] > 1 else None
            kept["tables"][number] = table_history(self.periods, kept["extracts"], number, codes)
        return kept["tables"][number]

    def selected(self, organisation: Organisation | None, **filters) -> list[Extract]:
        """Every period narrowed to one selection (``organisations.filter_extract``), kept
        with the selection as :meth:`table` keeps its histories."""
        return self._selection(organisation, filters)["extracts"]

    def _codes(self, number: int) -> list[pd.Series | None]:
        """Table ``number`` of every period, whole, as finding codes (:func:`finding_codes`)."""
        memo = ("codes", number)
        if memo not in self.memo:
            self.memo[memo] = finding_codes([e.table(number) for e in self.extracts], number)
        return self.memo[memo]

    def _selection(self, organisation: Organisation | None, filters: dict) -> dict:
        """The last selection's narrowed periods and table histories (a new one replaces it)."""
        key = (organisation.identity if organisation else None, tuple(sorted(filters.items())))
        last = self.memo.get("selected")
        if last is None or last["key"] != key:
            extracts = [filter_extract(e, organisation, **filters) for e in self.extracts]
            last = {"key": key, "extracts": extracts, "tables": {}}
            self.memo["selected"] = last
            self.memo["selections"] = self.memo.get("selections", 0) + 1
        return last

    def with_current(self, current: Extract) -> History:
        """This history with ``current`` as its latest period (replacing one of that period).

        Raises
        ------
        SorediError
            If ``current`` is older than a period of the history: the history is then not the
            current extract's past.
        """
        known = self.memo.setdefault("with_current", {})
        if current.info.sha256 in known:
            return known[current.info.sha256]
        period, notes = period_of(current)
        pairs = [(p, e) for p, e in zip(self.periods, self.extracts, strict=True) if p != period]
        if pairs and pairs[-1][0] > period:
            raise SorediError(text("history.current_older", period=period, latest=pairs[-1][0]))
        pairs.append((period, current))
        periods, extracts = [p for p, _ in pairs], [e for _, e in pairs]
        known[current.info.sha256] = History(periods, extracts, self.notes + notes, self.folder)
        return known[current.info.sha256]


def period_of(extract: Extract) -> tuple[str, list[str]]:
    """An extract's period, and a note when it had to be taken from the extract date.

    Raises
    ------
    SorediError
        If the extract has neither a period nor an extract date (naming the file).
    """
    info = extract.info
    if info.period:
        return info.period, []
    if info.extract_date is not None:
        # An extract is made after the month it covers: the month before the extract date.
        previous = info.extract_date.replace(day=1) - dt.timedelta(days=1)
        period = previous.strftime("%Y-%m")
        note = text(
            "history.period_from_date",
            file=Path(info.file).name,
            date=info.extract_date.isoformat(),
            period=period,
        )
        return period, [note]
    raise SorediError(text("history.no_period", file=info.file))


def candidates(folder: Path) -> list[Path]:
    """The extracts in a history folder: workbooks, and folders holding CSV files.

    Excel's lock files (``~$…``) and hidden files are not extracts; anything else is tried.
    """
    if not folder.is_dir():
        raise SorediError(text("history.not_a_folder", path=folder))
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("~$", ".")):
            continue
        workbook = path.is_file() and path.suffix.lower() in WORKBOOK_SUFFIXES
        if workbook or (path.is_dir() and any(p.suffix.lower() == ".csv" for p in path.iterdir())):
            found.append(path)
    return found


def read_history(
    folder: str | os.PathLike,
    aliases: str | os.PathLike | None = None,
    *,
    cache: bool = True,
) -> History:
    """Read every extract in ``folder`` (through the parse cache) and order them by period.

    Parameters
    ----------
    folder : path
        Workbooks and CSV folders of earlier extracts, under any names.
    aliases : path, optional
        The alias file every extract is read with (``--aliases``).
    cache : bool
        Use the parse cache (``--no-cache`` is ``False``).

    Returns
    -------
    History

    Raises
    ------
    SorediError
        The folder holds no extract; an extract cannot be read (its own error, which names the
        file); an extract has no period nor extract date; two extracts are of one period (both
        named).
    """
    folder = Path(folder)
    paths = candidates(folder)
    if not paths:
        raise SorediError(text("history.empty", path=folder))
    by_period: dict[str, Extract] = {}
    notes: list[str] = []
    for path in paths:
        extract = load_extract(path, aliases, cache=cache)
        period, note = period_of(extract)
        if period in by_period:
            raise SorediError(
                text(
                    "history.same_period",
                    period=period,
                    first=by_period[period].info.file,
                    second=extract.info.file,
                )
            )
        by_period[period] = extract
        notes += note
    periods = sorted(by_period)
    return History(periods, [by_period[p] for p in periods], notes, str(folder.resolve()))


def finding_codes(tables: list[pd.DataFrame | None], number: int) -> list[pd.Series | None]:
    """Every period's table ``number`` as finding codes: one integer per finding key
    (``compare.finding_key``) in all of them. Comparing integers rather than strings is what
    makes a national render's history cheap. A period without the table stays ``None``; each
    Series keeps its table's index."""
    keys = [finding_key(df, number) for df in tables if df is not None]
    if not keys:
        return [None] * len(tables)
    codes, _ = pd.factorize(pd.concat(keys))
    parts = iter(np.split(codes, np.cumsum([len(k) for k in keys])[:-1]))
    return [None if df is None else pd.Series(next(parts), index=df.index) for df in tables]


def _uids(codes: pd.Series) -> np.ndarray:
    """Each row's finding code with its occurrence among rows of that code, as one integer, so
    that matching the same uid across periods is ``compare``'s multiset matching."""
    values = codes.to_numpy(dtype=np.int64)
    # The k-th row of a code in table order is occurrence k: rank within the stably sorted run.
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    occurrence = np.empty_like(values)
    occurrence[order] = np.arange(len(values)) - np.repeat(starts, lengths)
    return values * 2**32 + occurrence


@dataclass(frozen=True)
class TableHistory:
    """One table's findings over the periods of a history, for one selection.

    Attributes
    ----------
    number : int
    periods : list of str
    presence : pandas.DataFrame
        One row per finding (uid) ever seen, one ``bool`` column per period where the table is
        present (a missing table's period has no column).
    current : pandas.DataFrame
        The latest period's rows (the selection, in the extract's order) with ``first_seen``
        (the period its current run began) and ``extracts`` (the periods of that run it was in);
        empty when the table is missing from the latest period.
    """

    number: int
    periods: list[str]
    presence: pd.DataFrame
    current: pd.DataFrame

    def transitions(self) -> pd.DataFrame:
        """New, resolved and persisting findings per period, against the period before it.

        Returns
        -------
        pandas.DataFrame
            One row per period: ``period``, ``rows`` (findings then; NA where the table is
            missing), ``new``, ``resolved``, ``persisting`` (``Int64``; NA in the first period
            and where this period or the one before lacks the table: not comparable, as in
            ``compare``) and ``comparable``.
        """
        present = {p: self.presence[p].to_numpy(dtype=bool) for p in self.presence.columns}
        records = []
        for i, period in enumerate(self.periods):
            here = present.get(period)
            before = present.get(self.periods[i - 1]) if i else None
            row = {"period": period, "rows": None if here is None else int(here.sum())}
            if here is not None and before is not None:
                row |= {
                    "new": int((here & ~before).sum()),
                    "resolved": int((~here & before).sum()),
                    "persisting": int((here & before).sum()),
                }
            records.append(row)
        out = pd.DataFrame(records, columns=["period", "rows", "new", "resolved", "persisting"])
        out = out.astype({c: "Int64" for c in ("rows", "new", "resolved", "persisting")})
        out["comparable"] = out["new"].notna()
        return out


def table_history(
    periods: list[str],
    selected: list[Extract],
    number: int,
    codes: list[pd.Series | None] | None = None,
) -> TableHistory:
    """Follow table ``number`` of one selection through every period.

    Parameters
    ----------
    periods : list of str
        ``History.periods``; the last is the current extract's.
    selected : list of Extract
        Each period narrowed to one selection (``organisations.filter_extract``), as
        :meth:`History.table` narrows them.
    number : int
    codes : list of pandas.Series, optional
        :func:`finding_codes` of the whole tables ``selected`` was narrowed from (their index
        kept): computed once per history rather than once per selection.

    Returns
    -------
    TableHistory
    """
    tables = [extract.table(number) for extract in selected]
    if codes is None:
        own = finding_codes(tables, number)
    else:
        own = [None if df is None else c.loc[df.index] for df, c in zip(tables, codes, strict=True)]
    frames = {p: _uids(c) for p, c in zip(periods, own, strict=True) if c is not None}
    found = list(frames.values())
    everyone = pd.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)
    columns = {period: np.isin(everyone, uids) for period, uids in frames.items()}
    presence = pd.DataFrame(columns, index=everyone)
    current = tables[-1]
    if current is None:
        empty = pd.DataFrame(columns=[*schema.table(number).columns, "first_seen", "extracts"])
        return TableHistory(number, periods, presence, empty)
    first, count = _runs(presence, frames[periods[-1]])
    return TableHistory(number, periods, presence, current.assign(first_seen=first, extracts=count))


def _runs(presence: pd.DataFrame, uids: np.ndarray) -> tuple[list[str], list[int]]:
    """For each current finding: the period its unbroken run began, and the periods in it.

    A run is broken by a period where the table is present and the finding is not; a period
    without the table (no column) neither breaks nor extends it.
    """
    periods = list(presence.columns)
    matrix = presence.loc[uids].to_numpy()
    first_index = np.full(len(matrix), len(periods) - 1)
    count = np.zeros(len(matrix), dtype=int)
    alive = np.ones(len(matrix), dtype=bool)
    for j in range(len(periods) - 1, -1, -1):
        present = matrix[:, j]
        alive &= present
        first_index = np.where(alive, j, first_index)
        count += alive
    return [periods[i] for i in first_index], count.tolist()


def period_figures(
    history: History, organisation: Organisation | None = None, **filters
) -> pd.DataFrame:
    """Per period and table: the selection's findings and counts, the peer median, the change.

    Parameters
    ----------
    history : History
    organisation : Organisation, optional
        By identity, the same owner in every period; ``None`` for the whole extracts.
    **filters
        As ``organisations.filter_extract`` takes them.

    Returns
    -------
    pandas.DataFrame
        One row per period and table: ``period``, ``number``, ``name``, ``missing`` and, NA
        where the table is missing from the period, ``rows``, ``location_numbers``,
        ``messages`` (tables that count messages or receipts), ``median`` (of findings per
        organisation of the same owner type; NA for the whole extract), then ``new``,
        ``resolved``, ``persisting`` against the period before (NA where not comparable, see
        :meth:`TableHistory.transitions`). The figures are ``summary.summarise``'s, period by
        period.
    """
    from soredi_nb.summary import medians_for, task_figures

    # What ``summarise`` counts, from the same parts, on the narrowed periods the table
    # histories below use as well (the rest of a summary cost a tenth of a second a year).
    selected = history.selected(organisation, **filters)
    records = []
    for period, whole, narrowed in zip(history.periods, history.extracts, selected, strict=True):
        medians = medians_for(whole, organisation)
        for number in schema.TABLE_NUMBERS:
            missing = number not in whole.tables
            rows, location_numbers, messages = task_figures(narrowed.table(number), number)
            records.append(
                {
                    "period": period,
                    "number": number,
                    "name": schema.table(number).name,
                    "missing": missing,
                    "rows": None if missing else rows,
                    "location_numbers": None if missing else location_numbers,
                    "messages": None if missing else messages,
                    "median": medians.get(number, (None,))[0],
                }
            )
    out = pd.DataFrame(records)
    changes = pd.concat(
        [
            history.table(n, organisation, **filters).transitions().assign(number=n)
            for n in schema.TABLE_NUMBERS
        ]
    )[["period", "number", "new", "resolved", "persisting"]]
    out = out.merge(changes, on=["period", "number"], how="left")
    ints = ["rows", "location_numbers", "messages", "new", "resolved", "persisting"]
    return out.astype({c: "Int64" for c in ints} | {"median": "float64"})


def to_dict(history: History, figures: pd.DataFrame, organisation: Organisation | None) -> dict:
    """The ``history --json`` shape: the organisation, and per period its file and tables."""

    def value(v):
        return None if pd.isna(v) else (float(v) if isinstance(v, float) else int(v))

    periods = []
    for period, extract in zip(history.periods, history.extracts, strict=True):
        rows = figures[figures["period"] == period]
        periods.append(
            {
                "period": period,
                "file": extract.info.file,
                "extract_date": (
                    extract.info.extract_date.isoformat() if extract.info.extract_date else None
                ),
                "tables": [
                    {"number": int(r.number), "missing": bool(r.missing)}
                    | {
                        k: value(getattr(r, k))
                        for k in (
                            "rows",
                            "location_numbers",
                            "messages",
                            "median",
                            "new",
                            "resolved",
                            "persisting",
                        )
                    }
                    for r in rows.itertuples()
                ],
            }
        )
    return {
        "organisation": organisation.name if organisation else None,
        "notes": history.notes,
        "periods": periods,
    }
