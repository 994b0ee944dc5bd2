"""The report's tables: findings per task, repeat locations, the task overview and who does what.

Pure functions over DataFrames. The columns each task shows and every Danish label live in
``data/texts/findings.yaml`` and ``data/tables.yaml``; this module only shapes the data.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from soredi_nb import cells, danish, messagetypes, roles, schema, tasks
from soredi_nb.extract import ROW, Extract
from soredi_nb.summary import Summary, TaskSummary, split_counts
from soredi_nb.texts import text

STATUSES = ("mangler", "ingen", "under", "over", "fund")
"""Task status keys for the overview; see :func:`status`."""

SHARE = "andel"
"""Computed column: negative receipts as a percentage of the messages (tables 6-7)."""

HISTORY = ("first_seen", "extracts")
"""Columns a history adds to a table's rows (``history.TableHistory.current``): the period a
finding's current run began, and the extracts of that run it was in."""

# The date that says how current a finding is, most telling first.
_SORT_DATES = ("seneste", "lukket_dato", "oprettet")
_GLN_COLUMNS = ("lokationsnummer", "modpart_lokationsnummer")


@cache
def columns(number: int) -> tuple[str, ...]:
    """Canonical columns the findings table of task ``number`` shows, in order.

    Parameters
    ----------
    number : int
        Table number (1-7).

    Returns
    -------
    tuple of str
        The identity columns, then the task's own (``findings.yaml``); ``"andel"`` is computed.

    Raises
    ------
    ValueError
        If ``findings.yaml`` names a column the table does not have (a typo in package data).
    """
    wanted = (*text("findings.identity"), *text("findings.columns")[number])
    unknown = [c for c in wanted if c not in schema.table(number).columns and c != SHARE]
    if unknown:
        raise ValueError(f"findings.yaml: table {number} has no column(s) {unknown}")
    return wanted


def sort_findings(df: pd.DataFrame, number: int) -> pd.DataFrame:
    """Order findings so the biggest problems come first.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical rows of table ``number``.
    number : int
        Table number (1-7).

    Returns
    -------
    pandas.DataFrame
        The same columns, rows by ``antal`` descending (tables that count messages), then the
        table's date (``seneste``, else ``lukket_dato``, else ``oprettet``) most recent first,
        then location number, then Excel row; missing values last. With a history
        (``first_seen``), the findings that have waited longest come first. The index is reset.
    """
    table_cols = schema.table(number).columns
    keys, ascending = [], []
    if longest_first(df):
        keys.append("first_seen")
        ascending.append(True)
    if schema.table(number).counts and "antal" in df:
        keys.append("antal")
        ascending.append(False)
    date = next((c for c in _SORT_DATES if c in table_cols and c in df), None)
    if date:
        keys.append(date)
        ascending.append(False)
    keys += [c for c in ("lokationsnummer", ROW) if c in df]
    ascending += [True] * (len(keys) - len(ascending))
    out = df.sort_values(keys, ascending=ascending, na_position="last") if keys else df
    return out.reset_index(drop=True)


def longest_first(df: pd.DataFrame) -> bool:
    """Whether :func:`sort_findings` puts the findings that have waited longest first: when the
    rows have a history (``first_seen``), rather than the biggest problems."""
    return "first_seen" in df


def display_table(df: pd.DataFrame, number: int) -> pd.DataFrame:
    """The findings table of task ``number`` as a user sees it.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical rows of table ``number`` (already narrowed to one organisation).
    number : int
        Table number (1-7).

    Returns
    -------
    pandas.DataFrame
        Sorted by :func:`sort_findings`; the columns of :func:`columns` under their Danish
        labels (:func:`labels`). Location numbers are 13-digit text, message types read
        ``"XDIS91 – Korrespondancemeddelelse"`` when the code is known, dates are ``datetime64``
        without a time of day (so interactive tables sort them), counts are ``Int64``. Tables
        6-7 get "Andel negative kvitteringer (%)": ``antal`` as a percentage of
        ``antal_i_alt``, one decimal, NA where the total is unknown, zero or smaller than
        ``antal``. Columns empty in every row are left out, except the identity columns (location
        number, unit name, SOR code, IT system: a finding is recognised by them); an empty
        selection keeps every column, so the header still says what would be there. Rows with
        a history (``HISTORY`` columns) show them after the identity columns: "I udtrækket
        siden" and "Antal udtræk".
    """
    rows = sort_findings(df, number)
    out = pd.DataFrame(index=rows.index)
    identity = text("findings.identity")
    history = tuple(c for c in HISTORY if c in rows)
    for col in (*identity, *history, *columns(number)[len(identity) :]):
        if col == SHARE:
            if "antal" in rows and "antal_i_alt" in rows:
                out[col] = share(rows["antal"], rows["antal_i_alt"])
        elif col in rows:
            out[col] = _display_column(rows[col], col)
    if len(out):
        # The identity columns stay even when empty: a finding must be recognisable by them.
        empty = [c for c in out.columns if c not in identity and out[c].isna().all()]
        out = out.drop(columns=empty)
    return out.rename(columns=labels(number))


def share(part: pd.Series, total: pd.Series) -> pd.Series:
    """``part`` as a percentage of ``total``, one decimal; NA where it cannot be known.

    Parameters
    ----------
    part, total : pandas.Series
        Counts (``antal`` and ``antal_i_alt``), aligned.

    Returns
    -------
    pandas.Series
        ``float64`` from 0 to 100. NA when either is missing, the total is 0, or the part exceeds
        the total (inconsistent data: no share would be true).
    """
    p = part.astype("float64")
    t = total.astype("float64")
    known = (t > 0) & (p <= t)  # False where either is NaN
    return (100 * p / t).round(1).where(known)


_VECTORISED_FROM = 400
"""Rows from which :func:`gln_text` checks text columns in one pass (about 1 ms however long:
slower than value by value below some 400 rows, 15 times faster at 20,000)."""


def gln_text(s: pd.Series) -> pd.Series:
    """Location numbers as exact digit text, whatever Excel made of them.

    Parameters
    ----------
    s : pandas.Series
        Text, integers or floats (``5790000123117``, ``5.790000123117e12``, ``"5790000123117.0"``).

    Returns
    -------
    pandas.Series
        ``str`` dtype: ``"5790000123117"``; values that are not a number are kept as written,
        missing values stay missing.
    """
    if isinstance(s.dtype, pd.StringDtype) and len(s) > _VECTORISED_FROM:
        # Text that is digits already (nearly all of a loaded extract) is its own answer,
        # found in one vectorised pass; only the rest goes through Python one by one.
        plain = s.str.fullmatch("[0-9]+").fillna(False).astype(bool)
        rest = s[~plain]
        fixed = pd.Series([_gln(v) for v in rest], index=rest.index, dtype="str")
        return s.astype("str").where(plain, fixed)
    return pd.Series([_gln(v) for v in s], index=s.index, name=s.name, dtype="str")


def repeat_locations(extract: Extract) -> pd.DataFrame:
    """Location numbers with findings in more than one table: the ones to fix first.

    Parameters
    ----------
    extract : Extract
        Usually already narrowed to one organisation (``organisations.filter_extract``).

    Returns
    -------
    pandas.DataFrame
        Columns ``lokationsnummer``, ``enhedsnavn`` and ``it_system`` (the first value given,
        in table order then row order), ``tabeller`` (sorted list of table numbers) and
        ``antal_tabeller`` (``int64``); sorted by ``antal_tabeller`` descending, then location
        number. Empty (same columns) when no location number repeats.
    """
    cols = ["lokationsnummer", "enhedsnavn", "it_system"]
    frames = [
        df[cols].assign(tabel=number, lokationsnummer=gln_text(df["lokationsnummer"]))
        for number, df in sorted(extract.tables.items())
    ]
    empty = pd.DataFrame(columns=[*cols, "tabel"])
    data = pd.concat(frames, ignore_index=True) if frames else empty
    data = data.dropna(subset=["lokationsnummer"])
    groups = data.groupby("lokationsnummer", sort=False)
    out = groups[["enhedsnavn", "it_system"]].first()  # first non-missing, in table order
    out["tabeller"] = groups["tabel"].apply(lambda t: sorted({int(n) for n in t}))
    out["antal_tabeller"] = out["tabeller"].map(len).astype("int64")
    out = out[out["antal_tabeller"] > 1].reset_index()
    out = out.sort_values(["antal_tabeller", "lokationsnummer"], ascending=[False, True])
    return out[[*cols, "tabeller", "antal_tabeller"]].reset_index(drop=True)


def repeat_locations_display(extract: Extract) -> pd.DataFrame:
    """:func:`repeat_locations` with Danish labels and the tables as text (``"2, 3, 6"``).

    Parameters
    ----------
    extract : Extract

    Returns
    -------
    pandas.DataFrame
        Columns Lokationsnummer, Enhedsnavn, It-system, Tabeller, Antal tabeller.
    """
    out = repeat_locations(extract)
    out["tabeller"] = out["tabeller"].map(lambda t: ", ".join(map(str, t))).astype("str")
    labels = {c: schema.columns()[c].label for c in ("lokationsnummer", "enhedsnavn", "it_system")}
    return out.rename(columns=labels | _extra_labels("tabeller", "antal_tabeller"))


def status(rows: int, median: float | None, missing: bool, typical: float | None = None) -> str:
    """The status of one task for the overview's colour.

    Parameters
    ----------
    rows : int
        Number of findings of the organisation.
    median : float or None
        The national median of findings per comparable organisation; ``None`` when there is
        nothing to compare with (a summary of the whole extract).
    missing : bool
        True when the table is missing from the extract.
    typical : float or None
        The median among the peers that have findings in the table
        (``TaskSummary.median_with_findings``). When most peers have none, the median is 0 and
        any finding would be "more than the median": only more than is typical stands out.

    Returns
    -------
    str
        ``"mangler"`` (table missing), ``"ingen"`` (no findings), ``"under"`` (findings, not
        more than is typical), ``"over"`` (more than both the median and what is typical among
        peers with findings) or ``"fund"`` (findings, nothing to compare with).
    """
    if missing:
        return "mangler"
    if rows == 0:
        return "ingen"
    if median is None or pd.isna(median):
        return "fund"
    over = rows > median and (typical is None or rows > typical)
    return "over" if over else "under"


def task_status(task: TaskSummary) -> str:
    """:func:`status` of one task of a :class:`~soredi_nb.summary.Summary`.

    Parameters
    ----------
    task : TaskSummary

    Returns
    -------
    str
        A key of :data:`STATUSES`; pass it to :func:`status_colour` to colour the overview.
    """
    # An owner alone of its type has nobody to compare with (its median is its own count).
    median = task.median_rows if task.peers_with_findings is not None else None
    return status(task.rows, median, task.missing, task.median_with_findings)


def status_label(key: str) -> str:
    """The Danish label of a status key (``"over"`` -> ``"Flere fund end typisk"``).

    Parameters
    ----------
    key : str
        One of :data:`STATUSES`.

    Returns
    -------
    str
    """
    return text(f"findings.status.{key}.label")


def status_colour(key: str) -> str:
    """The colour of a status key, as ``#rrggbb``.

    Parameters
    ----------
    key : str
        One of :data:`STATUSES`.

    Returns
    -------
    str
    """
    return text(f"findings.status.{key}.colour")


def task_overview(summary: Summary) -> pd.DataFrame:
    """One row per task for the overview: figures, national median and status.

    Parameters
    ----------
    summary : Summary
        From :func:`soredi_nb.summary.summarise`.

    Returns
    -------
    pandas.DataFrame
        Columns Tabel, Opgave, Fund, Lokationsnumre, Meddelelser, Negative kvitteringer, Heraf
        SOR-EDI-fejl, Median, Andre med fund (%), Typisk blandt de andre med fund (what the
        status compares with), Status. Figures are ``Int64``, NA for a table missing from the
        extract (and in the count column that is not the table's: tables 2, 3 and 5 count
        messages, 6 and 7 negative receipts; only 6 and 7 have error codes, and NA there when
        the extract has none); Median and Typisk (of findings) are ``float64``, NaN for a
        missing table; Andre med fund is ``Int64``, NA for a missing table or an owner alone of
        its type. The three are left out for the whole extract (no peers). Status is the Danish
        label of :func:`task_status`.
    """
    records = [
        {
            "number": t.number,
            "name": t.name,
            "rows": None if t.missing else t.rows,
            "location_numbers": None if t.missing else t.location_numbers,
            "messages": None if t.missing else t.messages,
            "sor_edi_receipts": t.sor_edi_receipts,
            "median": t.median_rows,
            "peers_with_findings": t.peers_with_findings,
            # What the status compares with, beside it: with most peers at 0 the median says 0.
            "median_with_findings": t.median_with_findings,
            "status": status_label(task_status(t)),
        }
        for t in summary.tasks
    ]
    out = pd.DataFrame(records, columns=list(records[0]) if records else None)
    out = out.astype(
        {
            "number": "int64",
            "name": "str",
            "rows": "Int64",
            "location_numbers": "Int64",
            "messages": "Int64",
            "sor_edi_receipts": "Int64",
            "median": "float64",
            "peers_with_findings": "Int64",
            "median_with_findings": "float64",
            "status": "str",
        }
    )
    out = split_counts(out)
    if summary.organisation is None:  # the whole extract has no peers to compare with
        out = out.drop(columns=["median", "peers_with_findings", "median_with_findings"])
    labels = _extra_labels("median", "status")
    return out.rename(columns=text("summary.columns") | labels)


def task_overview_colours(summary: Summary) -> list[str]:
    """The status colour of each row of :func:`task_overview`, in the same order.

    Parameters
    ----------
    summary : Summary

    Returns
    -------
    list of str
        ``#rrggbb`` per task (:func:`status_colour` of :func:`task_status`).
    """
    return [status_colour(task_status(t)) for t in summary.tasks]


def task_responsibilities(df: pd.DataFrame, number: int) -> pd.DataFrame:
    """Who does each of the guide's actions for a task's findings, with Danish labels.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical findings of table ``number``.
    number : int
        The table.

    Returns
    -------
    pandas.DataFrame
        Handling (the action's title), Rolle (``Role.heading``: the role and its register),
        Ansvarlig (:func:`soredi_nb.roles.responsible` from each finding's own owner type, IT
        system and vendor) and Lokationsnumre (distinct location numbers): one row per action
        and person responsible, in the guide's order, then most location numbers first.
    """
    actions = [(a.title, a.role) for a in tasks.task(number).leaf_actions()]
    long = roles.responsibilities(df, actions)
    out = _per_person(long, long["action"].map({t: i for i, (t, _) in enumerate(actions)}))
    out = out[["action", "role", "who", "locations"]]
    return out.rename(columns=_extra_labels("action", "role", "who", "locations"))


def overview_responsibilities(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Who must do something about an organisation's findings, over all tables.

    Parameters
    ----------
    tables : dict[int, pandas.DataFrame]
        Canonical findings per table number.

    Returns
    -------
    pandas.DataFrame
        Rolle, Ansvarlig, Tabeller (the tables in which this person has an action, e.g.
        ``"1, 4"``) and Lokationsnumre (distinct location numbers over those tables): one row
        per role and person, roles in the order of ``data/roles.yaml``, then most location
        numbers first.
    """
    long = pd.concat(
        [
            roles.responsibilities(df, [(n, a.role) for a in tasks.task(n).leaf_actions()])
            for n, df in sorted(tables.items())
        ]
        or [roles.responsibilities(pd.DataFrame({"lokationsnummer": []}), [])],
        ignore_index=True,
    )
    order = long["role"].map({k: i for i, k in enumerate(roles.all_roles())})
    out = _per_person(long.assign(action=0), order)
    tables_of = long.groupby(["role", "who"])["action"].agg(
        lambda s: ", ".join(str(n) for n in sorted(set(s)))
    )
    out["tabeller"] = [tables_of[key] for key in zip(out["role_key"], out["who"], strict=True)]
    out = out[["role", "who", "tabeller", "locations"]]
    return out.rename(columns=_extra_labels("role", "who", "tabeller", "locations"))


def _per_person(long: pd.DataFrame, order: pd.Series) -> pd.DataFrame:
    """Distinct location numbers per action, role and person of a ``roles.responsibilities``
    frame, sorted by ``order`` (one number per row), then most location numbers first.

    Columns ``action``, ``role`` (the heading), ``role_key``, ``who``, ``locations``.
    """
    out = (
        long.assign(order=order)
        .groupby(["order", "action", "role", "who"], sort=False)["lokationsnummer"]
        .nunique()
        .rename("locations")
        .reset_index()
        .sort_values(["order", "locations", "who"], ascending=[True, False, True], kind="stable")
        .reset_index(drop=True)
    )
    out["role_key"] = out["role"]
    out["role"] = [roles.role(k).heading for k in out["role_key"]]
    return out.astype({"locations": "int64"})


def _display_column(s: pd.Series, col: str) -> pd.Series:
    """One canonical column in display form (see :func:`display_table`)."""
    if col in HISTORY:
        return s.astype("str" if col == "first_seen" else "Int64")
    kind = schema.columns()[col].type
    if col in _GLN_COLUMNS:
        return gln_text(s)
    if col == "meddelelsestype":
        return messagetypes.display_series(s)
    if kind == "date":
        return pd.to_datetime(s).dt.normalize()
    return s


def _gln(value: object) -> str | None:
    """One location number as digit text (see :func:`gln_text`)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        return cells.to_digits(value)
    except ValueError:
        # Not a number: show it as written, the loader has already warned about it.
        return str(value).strip()


def labels(number: int) -> dict[str, str]:
    """Canonical column -> Danish label in the findings table of ``number``.

    The extract's reference headers, except where a task names a column more exactly (the
    direction of the negative receipts in tables 6-7), plus the computed share.
    """
    own = text("findings.table_labels").get(number, {})
    return schema.table(number).headers | own | _extra_labels(SHARE, *HISTORY)


FILTER_COLUMNS = ("it_system", "meddelelsestype", "enhedsnavn")
"""Columns a findings page offers filter panes for: the HTML reader's live filters."""


def filter_labels(number: int) -> tuple[str, ...]:
    """The labels of the columns a findings table of ``number`` offers filter panes for."""
    shown = labels(number)
    return tuple(shown[c] for c in FILTER_COLUMNS if c in columns(number))


def for_web(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as a web page shows it: decimals as Danish text (``12,5``), dates in the pages'
    format, a missing value as an empty cell (where itables would write ``NaN``), as the
    worklist has it.

    Interactive tables still sort the decimals as numbers: ``datatables_options`` sets the
    decimal comma. Excel gets the numbers themselves and shows them in the user's locale.
    """
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else danish.number(v))
            out[col] = out[col].astype("str")
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            # Written as the rest of the page writes dates (itables would add a time of day
            # to a column with one, and write "NaT" for a missing date).
            out[col] = out[col].dt.strftime(text("common.date_format")).fillna("")
        elif pd.api.types.is_string_dtype(out[col]) and out[col].isna().any():
            out[col] = out[col].fillna("")
    return out


def _extra_labels(*keys: str) -> dict[str, str]:
    """Labels of columns that are not in ``tables.yaml``."""
    return {k: text(f"findings.labels.{k}") for k in keys}
