"""The worklist: an Excel workbook in which an organisation works through its findings.

One sheet per task holds the organisation's findings as the reports show them
(``findings.display_table``), plus four columns to fill in: Handling (a dropdown of the guide's
actions for the task and who does each), Ansvarlig (pre-filled with who does the task's first
action for that finding, :func:`first_responsible`), Status
(a dropdown) and Bemærkning. A sheet "Oversigt" comes first. When MedCom sends the next extract,
the filled-in worklist is given back as ``previous`` and what the user wrote follows every
finding that is still there, matched as ``compare.match_findings`` matches findings.

Everything from the extract is written as data: text never becomes a formula, whatever it
starts with. Text longer than a cell holds is cut with a visible marker and a warning; a previous
worklist of another organisation or layout is used with a warning. Warnings are returned in
:class:`WorklistResult` for the caller to show.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import warnings
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from soredi_nb import cells, danish, roles, schema, tasks
from soredi_nb.compare import KEY_COLUMNS, match_findings
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract, ExtractInfo
from soredi_nb.files import atomic_path
from soredi_nb.findings import display_table, longest_first, sort_findings
from soredi_nb.findings import labels as finding_labels
from soredi_nb.history import History
from soredi_nb.load import HEADER_SEARCH_ROWS, normalise_header, table_number
from soredi_nb.organisations import Organisation, filter_extract, resolve
from soredi_nb.sample import sheet_name
from soredi_nb.summary import no_findings_text
from soredi_nb.texts import text

USER_COLUMNS = ("handling", "ansvarlig", "status", "bemaerkning")
"""The columns a user fills in, by key of ``worklist.columns`` in ``data/texts/worklist.yaml``."""

MAX_INLINE_CHOICES = 255
"""Excel's limit on the text of a dropdown list written into the validation itself."""

MAX_CELL_TEXT = 32_767
"""Excel's limit on the text of one cell, in UTF-16 code units (most characters are one)."""

# Text starting with these is a formula (or, in other programs, read as one) when edited in Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_USER_FILL = PatternFill("solid", fgColor="FFF2CC")  # the columns to fill in stand out
_BOLD = Font(bold=True)


@dataclass(frozen=True)
class WorklistResult:
    """What :func:`write_worklist` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The worklist file.
    organisation : Organisation or None
    rows : dict[int, int]
        Findings per task sheet, for the tables present in the extract.
    carried : dict[int, int]
        Per task sheet, the findings that got something from the previous worklist (a handling,
        a status other than the default, a changed Ansvarlig or a remark); zeros without one.
    missing : list of int
        Tables missing from the extract: they have no sheet.
    previous : pathlib.Path or None
        The previous worklist read, if any.
    warnings : list of str
        Danish sentences for the user, in this order: the previous worklist is another
        organisation's (or does not say whose it is); a sheet of it does not have the layout
        its notes are read by; a text was too long for its cell and was cut (naming sheet and
        cell). Empty when all went as expected.
    """

    path: Path
    organisation: Organisation | None
    rows: dict[int, int]
    carried: dict[int, int]
    missing: list[int] = field(default_factory=list)
    previous: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        """All findings in the worklist."""
        return sum(self.rows.values())

    @property
    def carried_total(self) -> int:
        """All findings that got something from the previous worklist."""
        return sum(self.carried.values())


def statuses() -> list[str]:
    """The Status choices, the default (``"Ikke startet"``) first."""
    return list(text("worklist.statuses"))


def build_worklist(
    extract: Extract,
    organisation: str | int | Organisation | None = None,
    previous: dict[int, pd.DataFrame] | None = None,
    history: History | None = None,
    **filters,
) -> dict[int, pd.DataFrame]:
    """The task sheets of a worklist, as DataFrames.

    Parameters
    ----------
    extract : Extract
        The whole extract.
    organisation : str, int or Organisation, optional
        The owner; anything ``organisations.resolve`` accepts. ``None`` for the whole extract
        (narrowed by ``filters``, e.g. an IT system).
    previous : dict[int, pandas.DataFrame], optional
        A filled-in worklist of an earlier extract, as :func:`read_worklist` returns it.
    history : History, optional
        Earlier extracts (``history.read_history``): each finding then says since which
        period it has been in the extract ("I udtrækket siden"), the longest-standing first.
    **filters
        Narrowing filters of ``organisations.filter_extract`` (``region``, ``kommune``,
        ``sor_kode``, ``enhedsnavn``, ``it_system``).

    Returns
    -------
    dict[int, pandas.DataFrame]
        Per table present in the extract: ``findings.display_table`` of the selection (Danish
        headers, biggest problems first), then Handling (empty), Ansvarlig
        (:func:`first_responsible` of the finding),
        Status (``"Ikke startet"``) and Bemærkning (empty), all ``str``. With ``previous``,
        a finding that is still there gets its Handling, Status and Bemærkning back, and its
        Ansvarlig when the user had changed it; blank cells never replace a value.
    """
    return _build(extract, organisation, previous, filters, history)[1]


def write_worklist(
    path: str | os.PathLike,
    extract: Extract,
    organisation: str | int | Organisation | None = None,
    previous: str | os.PathLike | None = None,
    history: History | None = None,
    **filters,
) -> WorklistResult:
    """Write an organisation's worklist as an Excel workbook.

    The file appears complete or not at all (written under a temporary name in the same folder,
    then renamed); missing parent folders are created.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xlsx`` file to write; an existing worklist is replaced.
    extract : Extract
        The whole extract.
    organisation : str, int or Organisation, optional
        See :func:`build_worklist`.
    previous : str or os.PathLike, optional
        A filled-in worklist of an earlier extract whose notes to carry over.
    history : History, optional
        See :func:`build_worklist`.
    **filters
        See :func:`build_worklist`.

    Returns
    -------
    WorklistResult

    Raises
    ------
    SorediError
        If ``path`` does not end in ``.xlsx``, is the extract or the previous worklist itself,
        or ``previous`` is missing or not a worklist.
    OrganisationError
        If ``organisation`` matches nothing.

    Notes
    -----
    Sheets: "Oversigt" (organisation, extract, findings and carried notes per task, how to fill
    in the worklist), then one sheet per table present in the extract, named like the sample's
    sheets (``"1 Aktive uden meddelelsestyper"``), with a frozen header row and an autofilter.
    Location numbers and other text are text cells, dates are dates shown as on the pages
    (``yyyy-mm-dd``).
    Handling and Status are dropdowns; a Handling list longer than Excel allows inline is kept
    on the hidden sheet "Valg". A text longer than a cell holds (``MAX_CELL_TEXT``) is cut and
    ends in "…[afkortet]". The command shown on "Oversigt" for the next extract selects the
    organisation by its ``Organisation.selector``, quoted for the shell.

    The organisation of ``previous`` is read from its "Oversigt" sheet. Another organisation's
    worklist (or one that does not say whose it is) is still used, as notes follow findings
    and a location number may have changed owner, but with a warning. A task sheet of it
    without the columns findings are recognised by (say from an extract of another layout)
    gives no notes and a warning; one without some of the columns to fill in gives a warning.
    """
    path = Path(path)
    _check_target(path, extract.path, previous)
    before = _read_previous(previous) if previous is not None else None
    frames_before = None if before is None else before.frames
    org, frames, carried, longest = _build(extract, organisation, frames_before, filters, history)
    alerts = [] if before is None else [*_owner_alerts(before, org, previous), *before.alerts]
    wb = openpyxl.Workbook()
    overview = wb.active
    overview.title = text("worklist.overview_sheet")
    for number, df in frames.items():
        _task_sheet(wb, number, df, alerts)
    if text("worklist.choices_sheet") in wb.sheetnames:
        choices = wb[text("worklist.choices_sheet")]
        wb.move_sheet(choices, len(wb.sheetnames) - 1 - wb.index(choices))
    order = text("worklist.order.longest" if longest else "worklist.order.biggest")
    _overview(overview, extract.info, org, filters, frames, carried, path, previous, order, alerts)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return WorklistResult(
        path,
        org,
        {n: len(df) for n, df in frames.items()},
        carried,
        extract.missing,
        None if previous is None else Path(previous),
        alerts,
    )


def read_worklist(path: str | os.PathLike) -> dict[int, pd.DataFrame]:
    """Read a filled-in worklist back.

    Parameters
    ----------
    path : str or os.PathLike
        A worklist written by :func:`write_worklist` and edited in Excel. Sheets are recognised
        by the table number their name starts with, columns by their headers (in any case and
        order), so sorted, filtered and re-saved worklists read the same.

    Returns
    -------
    dict[int, pandas.DataFrame]
        Per task sheet, its rows under canonical names: the extract columns whose Danish header
        is found (``lokationsnummer``, ``meddelelsestype``, ``modpart_lokationsnummer``,
        ``it_system``, ...) and ``handling``, ``ansvarlig``, ``status``, ``bemaerkning``, all
        as trimmed text (numbers and dates a user typed become text), blanks as NA. Fully blank
        rows are skipped. A sheet without every column its findings are recognised by
        (``compare.KEY_COLUMNS`` of its table) is left out: its notes could follow the wrong
        findings. :func:`write_worklist` says which sheets were left out.

    Raises
    ------
    SorediError
        If the file is missing, cannot be read as a workbook, or no sheet has a location-number
        column and at least one of the columns to fill in.
    """
    return _read_previous(path).frames


@dataclass(frozen=True)
class _Previous:
    """A previous worklist as read: its task frames, whose it says it is, what did not fit."""

    frames: dict[int, pd.DataFrame]
    organisation: str | None
    alerts: list[str]


def _read_previous(path: str | os.PathLike) -> _Previous:
    """Read a filled-in worklist: see :func:`read_worklist`, plus its owner and layout alerts."""
    path = Path(path)
    if not path.is_file():
        raise SorediError(text("worklist.errors.previous_missing", file=path))
    out: dict[int, pd.DataFrame] = {}
    alerts: list[str] = []
    owner: str | None = None
    worklist_sheets = 0
    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it does not read (extensions): not ours.
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            for name in wb.sheetnames:
                ws = wb[name]
                if danish.fold(name) == danish.fold(text("worklist.overview_sheet")):
                    owner = owner or _owner(ws)
                    continue
                number = table_number(name)
                if number is None or number in out:
                    continue
                ws.reset_dimensions()  # some writers store a wrong used range
                frame = _read_sheet(list(ws.iter_rows(values_only=True)), number)
                if frame is None:
                    alerts.append(_layout_alert("sheet_unrecognised", name, path, number, []))
                    continue
                worklist_sheets += 1
                keys = [c for c in KEY_COLUMNS if c in schema.table(number).columns]
                if missing := [c for c in keys if c not in frame.columns]:
                    alerts.append(_layout_alert("key_columns", name, path, number, missing))
                    continue
                if missing := [c for c in USER_COLUMNS if c not in frame.columns]:
                    alerts.append(_layout_alert("user_columns", name, path, number, missing))
                out[number] = frame
        finally:
            wb.close()
    except Exception as exc:
        # A corrupt or foreign file fails in many ways (zip, XML, ...); one message says what to do.
        raise SorediError(text("worklist.errors.previous_unreadable", file=path)) from exc
    if not worklist_sheets:
        labels = text("worklist.columns")
        columns = ", ".join(f"'{labels[c]}'" for c in USER_COLUMNS)
        raise SorediError(text("worklist.errors.not_a_worklist", file=path, columns=columns))
    return _Previous(out, owner, alerts)


def _owner(ws) -> str | None:
    """The organisation an "Oversigt" sheet names (the cell right of "Organisation"), if any."""
    label = danish.fold(text("worklist.fields.organisation"))
    ws.reset_dimensions()
    # Row 3 as written; a user may have inserted rows above it.
    for row in ws.iter_rows(max_row=HEADER_SEARCH_ROWS, max_col=2, values_only=True):
        if row and danish.fold(cells.cell_text(row[0])) == label:
            return cells.to_text(row[1]) if len(row) > 1 else None
    return None


def _layout_alert(key: str, sheet: str, path: Path, number: int, missing: Sequence[str]) -> str:
    """A warning that sheet ``sheet`` (table ``number``) of the previous worklist lacks columns.

    ``missing`` are canonical names; none for a sheet without the worklist's header at all,
    whose warning names the columns a worklist sheet has.
    """
    labels = {**finding_labels(number), **text("worklist.columns")}
    names = ", ".join(f"'{labels[c]}'" for c in missing or USER_COLUMNS)
    return text(f"worklist.warnings.{key}", sheet=sheet, file=path, columns=names)


def _owner_alerts(previous: _Previous, org: Organisation | None, path) -> list[str]:
    """A warning when the previous worklist is not (or does not say it is) ``org``'s."""
    expected = org.name if org is not None else text("summary.national")
    if previous.organisation is None:
        return [text("worklist.warnings.previous_owner_unknown", file=path, organisation=expected)]
    if danish.fold(previous.organisation) != danish.fold(expected):
        return [
            text(
                "worklist.warnings.previous_other_owner",
                file=path,
                previous=previous.organisation,
                organisation=expected,
            )
        ]
    return []


# --- building the sheets (pure) ----------------------------------------------------------------


def _build(
    extract: Extract,
    organisation: str | int | Organisation | None,
    previous: dict[int, pd.DataFrame] | None,
    filters: dict,
    history: History | None = None,
) -> tuple[Organisation | None, dict[int, pd.DataFrame], dict[int, int], bool]:
    """The organisation, the task frames, the carried count per task, and whether the frames
    put the findings that have waited longest first (``findings.longest_first``)."""
    org = organisation
    if org is not None and not isinstance(org, Organisation):
        org = resolve(org, extract)
    selected = filter_extract(extract, org, **_given_filters(filters))
    tables = dict(selected.tables)
    if history is not None:
        past = history.with_current(extract)
        given = _given_filters(filters)
        tables = {n: past.table(n, org, **given).current for n in tables}
    frames, carried = {}, {}
    for number, df in sorted(tables.items()):
        frames[number], carried[number] = _task_frame(df, number, (previous or {}).get(number))
    return org, frames, carried, any(longest_first(df) for df in tables.values())


def _task_frame(
    df: pd.DataFrame, number: int, previous: pd.DataFrame | None
) -> tuple[pd.DataFrame, int]:
    """One task sheet as a frame (display columns, then the user columns) and its carried count."""
    rows = sort_findings(df, number)
    shown = display_table(rows, number)  # same order: the sort ends on the unique Excel row
    # The vendor too, beside the IT system: who the pre-filled Ansvarlig is depends on both, and
    # the next worklist must be able to tell a default from a name the user wrote.
    vendor = schema.columns()["it_leverandoer"].label
    at = shown.columns.get_loc(schema.columns()["it_system"].label) + 1
    shown.insert(at, vendor, pd.Series(rows["it_leverandoer"].to_numpy(), index=shown.index))
    user = {
        "handling": [None] * len(rows),
        "ansvarlig": [first_responsible(number, row) for row in _who_columns(rows)],
        "status": [statuses()[0]] * len(rows),
        "bemaerkning": [None] * len(rows),
    }
    carried = 0 if previous is None else _carry(previous, rows, number, user)
    labels = text("worklist.columns")
    for col in USER_COLUMNS:
        shown[labels[col]] = pd.Series(user[col], index=shown.index, dtype="str")
    return shown, carried


def _carry(previous: pd.DataFrame, rows: pd.DataFrame, number: int, user: dict[str, list]) -> int:
    """Fill ``user`` (the columns to fill in) from a previous sheet; count the rows given any."""
    default_status = statuses()[0]
    carried = 0
    for old, new in match_findings(previous, rows, number).itertuples(index=False):
        before = {
            c: _given(previous[c].iat[old]) if c in previous else None
            for c in (*USER_COLUMNS, "it_system", "it_leverandoer")
        }
        took = False
        for col in ("handling", "status", "bemaerkning"):
            if before[col] is not None:
                user[col][new] = before[col]
                took |= col != "status" or before[col] != default_status
        # Ansvarlig is pre-filled: only a value the user wrote is theirs to keep. The default of
        # the previous worklist differs from today's when the IT system changed: compare with
        # both, and with the SOR-EDI contact that worklists before roles per action put there.
        row = rows.iloc[new]
        was = row.copy()
        was["it_system"] = before["it_system"]
        if "it_leverandoer" in previous:  # worklists before the vendor column did not say
            was["it_leverandoer"] = before["it_leverandoer"]
        defaults = {user["ansvarlig"][new], first_responsible(number, was)}
        defaults.add(roles.responsible("sor_edi_administrator", *was[list(_OWNER)]))
        if before["ansvarlig"] is not None and before["ansvarlig"] not in defaults:
            user["ansvarlig"][new] = before["ansvarlig"]
            took = True
        carried += took
    return carried


def _given_filters(filters: dict) -> dict:
    """The filters that narrow anything (callers pass ``region=None`` for "all")."""
    return {k: v for k, v in filters.items() if v is not None}


def first_responsible(number: int, finding: pd.Series | Mapping) -> str:
    """Who does the first of the guide's actions for table ``number`` on this finding.

    Parameters
    ----------
    number : int
        The table.
    finding : pandas.Series or dict
        One canonical finding; ``ejertype``, ``it_system``, ``it_leverandoer``, ``modpart``
        and ``modpart_lokationsnummer`` are used where present.

    Returns
    -------
    str
        ``"Role: who"``, e.g. ``"SOR-administrator: Kommunens egne SOR-administratorer"`` for
        table 1, ``"Afsender: Aarhus Universitetshospital (5790001234567)"`` for table 2: the
        counterpart is named, since that is who to contact.
    """
    action = tasks.task(number).leaf_actions()[0]
    who = roles.responsible(action.role, *(finding.get(c) for c in _OWNER), _counterpart(finding))
    return text("worklist.ansvarlig", role=action.who.label, who=who)


_OWNER = ("ejertype", "it_system", "it_leverandoer")


def _who_columns(rows: pd.DataFrame) -> list[dict]:
    """Per finding, the cells :func:`first_responsible` reads, as a dict (``iterrows`` makes a
    Series per row: a third of a national run's worklist time)."""
    used = [c for c in (*_OWNER, "modpart", "modpart_lokationsnummer") if c in rows]
    return rows[used].to_dict("records")


def _counterpart(finding: pd.Series | Mapping) -> str | None:
    """The finding's counterpart as "name (location number)", either alone, or ``None``."""
    name = _given(finding.get("modpart"))
    gln = _given(finding.get("modpart_lokationsnummer"))
    return f"{name} ({gln})" if name and gln else name or gln


def _given(value: object) -> str | None:
    """Trimmed text of a cell a user may have filled in; ``None`` when blank."""
    return None if value is None or pd.isna(value) else (str(value).strip() or None)


def _read_sheet(rows: list[tuple], number: int) -> pd.DataFrame | None:
    """A task sheet's rows under canonical names, or ``None`` if it has no worklist header."""
    # The report's labels, and the extract's headers that worklists used before some labels
    # said more (tables 6-7: which way the receipt went).
    shown = [schema.table(number).headers, finding_labels(number), text("worklist.columns")]
    names = {normalise_header(label): col for labels in shown for col, label in labels.items()}
    for at, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = {
            j: names.get(normalise_header(cells.cell_text(v)))
            for j, v in enumerate(values)
            if not cells.is_blank(v)
        }
        found = set(columns.values())
        if "lokationsnummer" in found and found & set(USER_COLUMNS):
            data: dict[str, list] = {}
            below = rows[at + 1 :]
            for j, col in columns.items():
                if col is not None and col not in data:
                    data[col] = [cells.to_text(r[j]) if j < len(r) else None for r in below]
            return pd.DataFrame(data, dtype="str").dropna(how="all").reset_index(drop=True)
    return None


# --- writing the workbook (I/O) ----------------------------------------------------------------


def _check_target(path: Path, extract: Path, previous: str | os.PathLike | None) -> None:
    """Refuse an output that is not ``.xlsx`` or that would overwrite an input."""
    if path.suffix.lower() != ".xlsx":
        raise SorediError(text("worklist.errors.out_suffix", out=path))
    for what, other in (("extract", extract), ("previous", previous)):
        if other is not None and _same_file(path, Path(other)):
            what = text(f"worklist.errors.what.{what}")
            raise SorediError(text("worklist.errors.out_is_input", out=path, what=what))


def _same_file(a: Path, b: Path) -> bool:
    """True when both paths name the same file (also through links and relative paths)."""
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _put(cell, value: object, number_format: str | None = None, *, alerts: list[str]) -> None:
    """Write one value: text as text (never a formula), dates as dates, missing as empty.

    Text too long for a cell is cut with a marker, and a warning naming the cell goes to
    ``alerts``: openpyxl would cut it without a word.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        if number_format:
            cell.number_format = number_format  # so what a user types there stays text
        return
    if isinstance(value, pd.Timestamp | dt.datetime):
        value = value.date()  # display_table dates have no time of day
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        # Up to half the limit in characters always fits: no character is over two units.
        if len(value) > MAX_CELL_TEXT // 2 and (length := _excel_length(value)) > MAX_CELL_TEXT:
            value = _cut(value)
            alerts.append(
                text(
                    "worklist.warnings.text_cut",
                    sheet=cell.parent.title,
                    cell=cell.coordinate,
                    length=danish.number(length),
                    limit=danish.number(MAX_CELL_TEXT),
                    marker=text("worklist.cut_marker"),
                )
            )
        cell.value = value
        # openpyxl makes "=..." a formula and "#N/A" an error value: extract text is neither.
        cell.data_type = "s"
        cell.number_format = "@"
        # The quote prefix keeps Excel from evaluating the text when the user edits the cell.
        cell.quotePrefix = cell.value.startswith(_FORMULA_START)
        return
    cell.value = value
    if isinstance(value, dt.date):
        cell.number_format = danish.excel_date_format()
    elif number_format:
        cell.number_format = number_format


def _excel_length(value: str) -> int:
    """The length of a text as Excel counts it: UTF-16 code units (an emoji is two)."""
    return len(value) + sum(ord(c) > 0xFFFF for c in value)


def _cut(value: str) -> str:
    """``value`` cut to fit one cell with the marker "…[afkortet]" at its end."""
    marker = text("worklist.cut_marker")
    room = MAX_CELL_TEXT - _excel_length(marker)
    # Cut between characters, never inside one that takes two units.
    units = accumulate(2 if ord(c) > 0xFFFF else 1 for c in value)
    return value[: bisect_right(list(units), room)] + marker


def _task_sheet(wb: openpyxl.Workbook, number: int, df: pd.DataFrame, alerts: list[str]) -> None:
    """Add the sheet of task ``number``: header, rows, dropdowns, frozen header, filter, widths."""
    ws = wb.create_sheet(sheet_name(number))
    labels = text("worklist.columns")
    user = {labels[c] for c in USER_COLUMNS}
    share = text("findings.labels.andel")
    for j, header in enumerate(df.columns, start=1):
        cell = ws.cell(1, j)
        _put(cell, header, alerts=alerts)
        cell.font, cell.fill = _BOLD, _USER_FILL if header in user else _HEADER_FILL
    formats = ["@" if h in user else "0.0" if h == share else None for h in df.columns]
    for i, row in enumerate(df.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            _put(ws.cell(i, j), value, formats[j - 1], alerts=alerts)
    last = len(df) + 1
    for key, choices in (("handling", tasks.task(number).action_choices()), ("status", statuses())):
        if len(df):
            letter = get_column_letter(list(df.columns).index(labels[key]) + 1)
            dropdown = _dropdown(wb, ws, number, key, choices, alerts)
            dropdown.add(f"{letter}2:{letter}{last}")
    for j, header in enumerate(df.columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _width(header, df[header], labels)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{last}"


def _dropdown(
    wb, ws, number: int, key: str, choices: list[str], alerts: list[str]
) -> DataValidation:
    """A list validation of ``choices`` on ``ws``: inline when Excel allows, else on "Valg"."""
    joined = ",".join(choices)
    if len(joined) <= MAX_INLINE_CHOICES and not any("," in c or '"' in c for c in choices):
        formula = f'"{joined}"'
    else:
        formula = _choices_range(wb, number, key, choices, alerts)
    dv = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        # Handling may be the user's own words; Status must stay one of the four.
        errorStyle="warning" if key == "handling" else "stop",
        errorTitle=text(f"worklist.validation.{key}_title"),
        error=text(f"worklist.validation.{key}_error"),
    )
    ws.add_data_validation(dv)
    return dv


def _choices_range(
    wb: openpyxl.Workbook, number: int, key: str, choices: list[str], alerts: list[str]
) -> str:
    """Write ``choices`` to a column of the hidden "Valg" sheet; return its absolute range."""
    name = text("worklist.choices_sheet")
    if name in wb.sheetnames:
        ws = wb[name]
    else:
        ws = wb.create_sheet(name)
        ws.sheet_state = "hidden"
    column = 1 if ws.max_column == 1 and ws["A1"].value is None else ws.max_column + 1
    letter = get_column_letter(column)
    _put(ws.cell(1, column), f"{number} {text(f'worklist.columns.{key}')}", alerts=alerts)
    for i, choice in enumerate(choices, start=2):
        _put(ws.cell(i, column), choice, alerts=alerts)
    return f"{quote_sheetname(name)}!${letter}$2:${letter}${len(choices) + 1}"


def _width(header: str, values: pd.Series, labels: dict) -> float:
    """A column width that fits the header and most values, within reason."""
    if header == labels["bemaerkning"]:
        return 40
    if pd.api.types.is_datetime64_any_dtype(values):
        return max(12, len(header) + 2)
    # Plain Python over the values: a national run sizes about 10,000 columns, and pandas'
    # string methods cost five times as much on columns this short.
    cells = values.to_numpy(dtype=object, na_value=None)
    lengths = [len(str(v)) for v in cells if v is not None and v == v]  # v != v: NaN
    longest = max(len(header), int(np.quantile(lengths, 0.9)) if lengths else 0)
    if header == labels["handling"]:
        longest = max(longest, 24)
    return min(longest + 2, _MAX_WIDTH)


def _overview(
    ws,
    info: ExtractInfo,
    org: Organisation | None,
    filters: dict,
    frames: dict[int, pd.DataFrame],
    carried: dict[int, int],
    path: Path,
    previous: str | os.PathLike | None,
    order: str,
    alerts: list[str],
) -> None:
    """Fill the "Oversigt" sheet: what this is, the figures per task and how to use it (with
    ``order``: which findings stand first on the sheets)."""
    put = partial(_put, alerts=alerts)
    f = text("worklist.fields")
    unknown = text("worklist.unknown")
    put(ws.cell(1, 1), text("worklist.title"))
    ws.cell(1, 1).font = Font(bold=True, size=14)
    fields = [(f["organisation"], org.name if org else text("summary.national"))]
    if filters := _given_filters(filters):
        names = text("notebook.filter_names")
        fields.append((f["narrowed"], ", ".join(f"{names[k]}: {v}" for k, v in filters.items())))
    fields += [
        (f["file"], Path(info.file).name),
        (f["period"], info.period or unknown),
        (f["extract_date"], info.extract_date or unknown),
        (f["sha256"], info.sha256[:12]),
    ]
    if previous is not None:
        fields.append((f["previous"], Path(previous).name))
    r = 3
    for label, value in fields:
        put(ws.cell(r, 1), label)
        ws.cell(r, 1).font = _BOLD
        put(ws.cell(r, 2), value)
        r += 1

    r += 1
    columns = text("summary.columns")
    headers = [columns["number"], columns["name"], columns["rows"]]
    headers += [text("worklist.carried")] if previous is not None else []
    for j, header in enumerate(headers, start=1):
        put(ws.cell(r, j), header)
        ws.cell(r, j).font, ws.cell(r, j).fill = _BOLD, _HEADER_FILL
    for n in schema.TABLE_NUMBERS:
        r += 1
        values = [n, schema.table(n).name]
        values += [len(frames[n]), carried[n]] if n in frames else [text("worklist.missing"), None]
        for j, value in enumerate(values[: len(headers)], start=1):
            put(ws.cell(r, j), value)

    r += 2
    if org is not None and all(len(df) == 0 for df in frames.values()):
        missing = [n for n in schema.TABLE_NUMBERS if n not in frames]
        put(ws.cell(r, 1), no_findings_text(org.name, _given_filters(filters), missing))
        r += 2
    if previous is not None:
        count = sum(carried.values())
        put(ws.cell(r, 1), text("worklist.carried_line", file=Path(previous).name, count=count))
        r += 2
    put(ws.cell(r, 1), text("worklist.instructions_heading"))
    ws.cell(r, 1).font = _BOLD
    # The command is pasted into a shell: a name with `...` or $(...) must stay a name. The
    # selector picks exactly this organisation, where a display name may match several.
    who = shlex.quote(org.selector) if org else text("cli.metavar.org")
    file = shlex.quote(path.name)
    for i, line in enumerate(text("worklist.instructions"), start=1):
        put(ws.cell(r + i, 1), f"{i}. {line.format(organisation=who, file=file, order=order)}")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 62
    ws.column_dimensions["C"].width = 20
    ws.column_dimensions["D"].width = 16
