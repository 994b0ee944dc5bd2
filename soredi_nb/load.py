"""Load the SOR-EDI quality extract from a workbook or a folder of CSV files.

Implements the matching rules of the reference layout (``extract-format.md``): which sheet is
which table, where the header row is, which header is which canonical column, and how each cell
becomes a typed value. Reading (``readers``: python-calamine, openpyxl or CSV) is the I/O edge;
every reader yields the same ``(excel_row, cells)`` rows, which one pure parsing path here turns
into an ``Extract``.

No data row is ever dropped: a value that cannot be used becomes missing, with a warning that
names its sheet, Excel row, column and value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from soredi_nb import __version__, cells, errorcodes, readers, reference, roles, schema
from soredi_nb import cache as extract_cache
from soredi_nb.danish import LETTERS
from soredi_nb.exceptions import ExtractError
from soredi_nb.extract import ROW, Extract, ExtractInfo, Problem, canonical_frame
from soredi_nb.files import reason
from soredi_nb.readers import ENGINES, Rows
from soredi_nb.texts import text
from soredi_nb.validate import is_valid_gln

LOADER_VERSION = 2
"""Bump when parsing changes in a way the cache key would not notice."""
HEADER_SEARCH_ROWS = 15
"""The header row is looked for among this many rows at the top of a sheet."""
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


_SEPARATORS = re.compile(r"[\s\-_./:]+")
_TABLE_PREFIX = re.compile(r"(?:tabel|tbl)?\.?\s*(\d+)(?!\d)", re.IGNORECASE)
# A sheet name shorter than this (normalised) says too little to be taken for a table's name.
_MIN_NAME_MATCH = 15
_LOCATION = "lokationsnummer"
_OWNER = "ejer"
# Plausible dates: nothing in SOR-EDI predates 1990, and nothing lies more than a year after the
# extract was made.
_EARLIEST_DATE = dt.date(1990, 1, 1)


# --- Public API --------------------------------------------------------------------------------


def load_extract(
    path: str | os.PathLike,
    aliases: str | os.PathLike | None = None,
    *,
    engine: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> Extract:
    """Read a SOR-EDI quality extract.

    Parameters
    ----------
    path : str or path-like
        An ``.xlsx``/``.xlsm`` workbook, or a folder with one CSV file per table (Danish Excel
        dialect: ``;``-separated, UTF-8 or Windows-1252, decimal comma) and an optional
        ``Info.csv``. The input is never modified.
    aliases : str or path-like, optional
        A YAML file of extra header spellings, in the shape of the packaged ``aliases.yaml``. It
        extends the packaged aliases; where both name the same spelling, the file wins.
    engine : {"calamine", "openpyxl"}, optional
        Workbook reader. By default python-calamine, falling back to openpyxl if calamine cannot
        read the file. Ignored for a CSV folder. The result does not depend on the engine.
    cache : bool, default True
        Reuse a cached parse of the same content and parsing inputs, and cache a new parse.
    cache_dir : str or path-like, optional
        Cache folder; default ``$SOREDI_NB_CACHE`` or the user cache folder.

    Returns
    -------
    Extract
        The tables found (see ``Extract.tables`` for their shape), the sheet each was read from,
        metadata from the ``Info`` sheet, and every data-quality warning.

    Notes
    -----
    Every non-blank row under a table's header is a row of the table. A warning (sheet, Excel
    row, column, value) is given for each cell that cannot be read as its column's type, a
    location number that is not a valid GLN, a row without an owner, an unknown owner type, a
    formula without a stored result, a negative count, a date before 1990 or more than a year
    after the extract date (or today, without one), and text that looks mis-encoded (``Ã¸``);
    the value becomes missing where it cannot be used. A CSV file that is UTF-8 apart from a few
    bytes is read as UTF-8, with a warning naming its first bad line.

    Raises
    ------
    ExtractError
        If the extract cannot be read at all: the file is missing, not a workbook, has no table
        sheet, a table without a location-number column, or the alias file is malformed.
    """
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    path = Path(path)
    alias_map = read_aliases(aliases)
    if not path.exists():
        raise ExtractError(text("load.file_missing", file=path))
    if path.is_dir():
        digest = readers.folder_sha256(path)
    elif path.suffix.lower() in WORKBOOK_SUFFIXES:
        digest = readers.file_sha256(path)
    else:
        raise ExtractError(text("load.unsupported_format", file=path))

    key = _cache_key(digest, alias_map)
    root = extract_cache.folder(cache_dir)
    extract = extract_cache.read(root, key, str(path)) if cache else None
    if extract is None:
        extract = _parse(path, digest, readers.openers(path, engine), alias_map)
        if cache:
            extract_cache.write(root, key, extract)
    # How it was read travels with it, so a render's kernels read it the same way.
    extract.info = replace(
        extract.info,
        aliases=str(Path(aliases).resolve()) if aliases is not None else None,
        use_cache=cache,
    )
    return extract


def normalise_header(header: str) -> str:
    """The form in which headers (and sheet names) are compared.

    Unicode NFKC, lower case, without whitespace and ``- _ . / :``, and with æ/ø/å spelled
    ae/oe/aa, so that ``" It-Leverandør "`` and ``"itleverandoer"`` compare equal.

    Parameters
    ----------
    header : str
        A header as written in a workbook.

    Returns
    -------
    str
        The normalised header.
    """
    folded = unicodedata.normalize("NFKC", header).lower()
    return _SEPARATORS.sub("", folded).translate(LETTERS)


def read_aliases(path: str | os.PathLike | None = None) -> dict[str, str]:
    """The header-to-column mapping the loader uses.

    Parameters
    ----------
    path : str or path-like, optional
        A user alias file (YAML, ``canonical_column: [spelling, ...]``). Its spellings extend
        the packaged ``data/aliases.yaml`` and override it where both name the same spelling.

    Returns
    -------
    dict[str, str]
        Normalised header (see ``normalise_header``) -> canonical column. Always includes each
        column's name, label and reference header from ``tables.yaml``.

    Raises
    ------
    ExtractError
        If the user file is missing, is not valid YAML, or names an unknown column.
    """
    mapping = dict(_packaged_aliases())
    if path is not None:
        for column, headers in _read_alias_file(Path(path)).items():
            mapping.update(dict.fromkeys(map(normalise_header, headers), column))
    return mapping


# --- Aliases -----------------------------------------------------------------------------------


@cache
def _packaged_aliases() -> dict[str, str]:
    """Labels and reference headers of ``tables.yaml``, then the packaged alias spellings."""
    mapping: dict[str, str] = {}
    for name, column in schema.columns().items():
        mapping.setdefault(normalise_header(name), name)
        mapping.setdefault(normalise_header(column.label), name)
    for table in schema.tables().values():
        for name, header in table.headers.items():
            mapping.setdefault(normalise_header(header), name)
    raw = reference.package_yaml("aliases.yaml")
    for name, headers in _alias_entries(raw, Path("aliases.yaml")).items():
        for header in headers:
            mapping.setdefault(normalise_header(header), name)
    return mapping


def _read_alias_file(path: Path) -> dict[str, list[str]]:
    """Read and check a user alias file."""
    return _alias_entries(read_user_yaml(path), path)


def read_user_yaml(path: Path) -> Any:
    """The parsed YAML of a user alias file; ``ExtractError`` in Danish if it cannot be read."""
    if not path.is_file():
        raise ExtractError(text("load.alias_file_missing", file=path))
    try:
        raw = yaml.safe_load(path.read_text("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = f"linje {mark.line + 1}" if mark else type(exc).__name__
        why = text("load.alias_reason.yaml", detail=detail)
        raise ExtractError(text("load.alias_file_invalid", file=path, reason=why)) from exc
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=reason(exc))) from exc
    return raw


def _alias_entries(raw: Any, path: Path) -> dict[str, list[str]]:
    """Check the parsed YAML of an alias file: known columns, each with text spellings."""

    def invalid(key: str, **fields: Any) -> ExtractError:
        why = text(f"load.alias_reason.{key}", **fields)
        return ExtractError(text("load.alias_file_invalid", file=path, reason=why))

    if raw is None:  # an empty file extends nothing, and that is fine
        return {}
    if not isinstance(raw, dict):
        raise invalid("not_mapping")
    known = schema.columns()
    out = {}
    for column, headers in raw.items():
        if column == errorcodes.SECTION:
            continue  # not headers: read by soredi_nb.errorcodes
        if column not in known:
            raise invalid("unknown_column", column=column, known=", ".join(known))
        headers = [headers] if isinstance(headers, str) else headers
        if not isinstance(headers, list) or not all(isinstance(h, str | int) for h in headers):
            raise invalid("not_headers", column=column)
        out[column] = [str(h) for h in headers]
    return out


def _read(
    path: Path, openers: list[Callable[[], readers.Book]]
) -> tuple[list[str], dict[str, readers.Sheet]]:
    """Sheet names, and the sheets the extract needs, by the first reader that works."""
    error: Exception | None = None
    for opener in openers:
        try:
            book = opener()
            try:
                return book.names, {name: book.sheet(name) for name in _wanted(book.names)}
            finally:
                book.close()
        except ExtractError:
            raise
        except Exception as exc:
            # Readers fail in many ways on bad input (zip, XML, encoding errors ...); the user
            # gets one message that says what to do, never a reader's traceback.
            error = exc
    raise ExtractError(text("load.not_a_workbook", file=path)) from error


@cache
def _code_digest() -> str:
    """SHA-256 of the code and data that decide how an extract is parsed, for the cache key."""
    digest = hashlib.sha256()
    package = files("soredi_nb")
    for name in (
        "load.py",
        "readers.py",
        "cells.py",
        "schema.py",
        "validate.py",
        "danish.py",
        "reference.py",
        "cache.py",
        "extract.py",
        "roles.py",
        "data/roles.yaml",
        "data/tables.yaml",
        "data/kommuner.csv",
        "data/regioner.csv",
        "data/texts/load.yaml",
        "data/texts/common.yaml",
    ):
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()


def _cache_key(content_sha256: str, aliases: dict[str, str]) -> str:
    """Cache key: the content plus every input of its parsing (code, data, aliases)."""
    inputs = [LOADER_VERSION, __version__, _code_digest(), content_sha256, sorted(aliases.items())]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()


# --- Parsing: pure functions from rows to an Extract -------------------------------------------


def _parse(
    path: Path, digest: str, openers: list[Callable[[], readers.Book]], aliases: dict[str, str]
) -> Extract:
    """Read the needed sheets and parse them into an ``Extract``."""
    names, sheets = _read(path, openers)
    tables, info_sheet, problems = _plan(names)
    if not tables:
        found = ", ".join(f"'{n}'" for n in names) or text("load.none_found")
        raise ExtractError(text("load.no_tables", file=path, sheets=found))

    period, extract_date, info_problems = _parse_info(info_sheet, sheets.get(info_sheet))
    problems += info_problems
    dates = _plausible_dates(extract_date)
    frames = {}
    for number, sheet in sorted(tables.items()):
        problems += sheets[sheet].problems
        parsed = _parse_table(number, sheet, sheets[sheet], aliases, path, dates)
        if parsed is None:
            message = text("load.empty_sheet", number=number)
            problems.append(Problem(sheet, None, None, None, message))
            continue
        frames[number], table_problems = parsed
        problems += table_problems
    problems += [
        Problem(None, None, None, None, text("common.missing_table", number=n))
        for n in schema.TABLE_NUMBERS
        if n not in frames
    ]
    info = ExtractInfo(str(path), digest, period, extract_date)
    return Extract(info, frames, {n: tables[n] for n in frames}, problems)


def table_number(sheet: str) -> int | None:
    """The table a sheet (or CSV file) name belongs to, or ``None``.

    A leading number 1-7, optionally after "Tabel"/"Tbl" and not followed by another digit;
    otherwise the table whose Danish name or title in the guide starts with the sheet name
    (Excel cuts sheet names to 31 characters) or that the sheet name starts with.
    """
    name = _sheet_stem(sheet)
    if m := _TABLE_PREFIX.match(name):
        number = int(m[1])
        return number if number in schema.TABLE_NUMBERS else None
    key = normalise_header(name)
    if len(key) < _MIN_NAME_MATCH:
        return None
    hits = [
        n
        for n, t in schema.tables().items()
        if any(
            title and (title.startswith(key) or key.startswith(title))
            for title in (normalise_header(t.name), normalise_header(t.guide_title))
        )
    ]
    return hits[0] if len(hits) == 1 else None


def _is_info(sheet: str) -> bool:
    """True for the metadata sheet (or ``Info.csv``)."""
    return _sheet_stem(sheet).casefold() == schema.info_sheet()[0].casefold()


def _sheet_stem(sheet: str) -> str:
    """A sheet name, or a CSV file name without ``.csv``, without surrounding spaces."""
    name = sheet.strip()
    return name[:-4].strip() if name.lower().endswith(".csv") else name


def _plan(names: list[str]) -> tuple[dict[int, str], str | None, list[Problem]]:
    """Which sheet is which table (the first of duplicates wins), and the Info sheet."""
    tables: dict[int, str] = {}
    info = None
    problems = []
    for name in names:
        number = table_number(name)
        if number is None:
            if info is None and _is_info(name):
                info = name
        elif number in tables:
            message = text("load.duplicate_sheet", number=number, first=tables[number])
            problems.append(Problem(name, None, None, None, message))
        else:
            tables[number] = name
    return tables, info, problems


def _wanted(names: list[str]) -> list[str]:
    """The sheets to read: the tables and the Info sheet."""
    tables, info, _ = _plan(names)
    return [*tables.values(), *([info] if info else [])]


def _parse_info(
    sheet: str | None, read: readers.Sheet | None
) -> tuple[str | None, Any, list[Problem]]:
    """Period and extract date from the Info sheet's key/value rows."""
    if sheet is None or read is None:
        return None, None, []
    fields = {normalise_header(k): f for k, f in schema.info_sheet()[1].items()}
    convert = {"period": cells.to_period, "extract_date": cells.to_date}
    found: dict[str, Any] = {"period": None, "extract_date": None}
    problems = []
    keys = {}
    # The extract date bounds every other date, so it is checked against the clock.
    today = _plausible_dates()
    for row, values in read.rows:
        filled = [v for v in values if not cells.is_blank(v)]
        keys[row] = cells.to_name(filled[0]) if filled else None
        if len(filled) < 2 or (field_ := fields.get(normalise_header(str(filled[0])))) is None:
            continue
        key, value = filled[:2]
        try:
            found[field_] = convert[field_](value)
        except ValueError:
            kind = text("load.kinds." + ("period" if field_ == "period" else "date"))
            message = text("load.bad_value", kind=kind)
            shown = cells.cell_text(value)
            problems.append(Problem(sheet, row, cells.to_name(key), shown, message))
            continue
        if field_ == "extract_date" and not _is_plausible(found[field_], today):
            found[field_] = None
            message, shown = _implausible_date(today), cells.cell_text(value)
            problems.append(Problem(sheet, row, cells.to_name(key), shown, message))
    for (row, column), formula in sorted(read.formulas.items()):
        message = text("load.formula_without_result", cell=f"{readers.column_letter(column)}{row}")
        problems.append(Problem(sheet, row, keys.get(row), formula, message))
    date = found["extract_date"]
    return found["period"], date.date() if date else None, problems


def _plausible_dates(extract_date: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The first plausible date, and the first implausible one after it: one year and a day
    after the extract date (by default, today)."""
    day = extract_date or dt.date.today()
    # 29 February has no namesake a year later; 28 February is a year later then.
    later = day.replace(year=day.year + 1, day=min(day.day, 28) if day.month == 2 else day.day)
    first = dt.datetime.combine(_EARLIEST_DATE, dt.time())
    return first, dt.datetime.combine(later, dt.time()) + dt.timedelta(days=1)


def _is_plausible(date: dt.datetime, dates: tuple[dt.datetime, dt.datetime]) -> bool:
    """Whether a date lies in the plausible range."""
    return dates[0] <= date < dates[1]


def _implausible_date(dates: tuple[dt.datetime, dt.datetime]) -> str:
    """The warning about a date outside the plausible range."""
    last = dates[1] - dt.timedelta(days=1)
    form = text("common.date_format")
    return text("load.implausible_date", first=dates[0].strftime(form), last=last.strftime(form))


def _is_blank_row(values: Sequence[Any]) -> bool:
    """True when every cell of a row is blank."""
    return all(v is None or v == "" or (type(v) is str and v.isspace()) for v in values)


def _top(rows: Rows) -> Rows:
    """The rows in which the header row is looked for."""
    return [(row, values) for row, values in rows[:HEADER_SEARCH_ROWS] if row <= HEADER_SEARCH_ROWS]


def _find_header(rows: Rows, aliases: dict[str, str]) -> int | None:
    """Index in ``rows`` of the header row: the first with a cell naming the location number."""
    for i, (_, values) in enumerate(_top(rows)):
        for v in values:
            if not cells.is_blank(v) and aliases.get(normalise_header(cells.cell_text(v))) == (
                _LOCATION
            ):
                return i
    return None


def _headers_found(rows: Rows) -> str:
    """The likeliest header row near the top (the fullest), for an error message."""
    top = [[cells.to_name(v) for v in values if not cells.is_blank(v)] for _, values in _top(rows)]
    best = max(top, key=len, default=[])
    return ", ".join(f"'{h}'" for h in best) or text("load.none_found")


def _parse_table(
    number: int,
    sheet: str,
    read: readers.Sheet,
    aliases: dict[str, str],
    path: Path,
    dates: tuple[dt.datetime, dt.datetime],
) -> tuple[pd.DataFrame, list[Problem]] | None:
    """One table sheet as a canonical DataFrame and its warnings; ``None`` if the sheet is empty.

    Raises ``ExtractError`` if no header row names a location-number column.
    """
    rows = read.rows
    if all(_is_blank_row(values) for _, values in rows) and not read.formulas:
        return None
    at = _find_header(rows, aliases)
    if at is None:
        headers = _headers_found(rows)
        raise ExtractError(
            text(
                "load.no_location_column",
                sheet=sheet,
                file=path,
                rows=HEADER_SEARCH_ROWS,
                headers=headers,
            )
        )
    table = schema.table(number)
    header_row, header = rows[at]
    # A row whose only content is a formula without a result is a row all the same.
    formula_rows = {row for row, _ in read.formulas}
    data = [
        (row, values)
        for row, values in rows[at + 1 :]
        if row in formula_rows or not _is_blank_row(values)
    ]
    excel_rows = [row for row, _ in data]
    columns = _columns(header, [values for _, values in data])

    problems: list[Problem] = []
    findings: list[tuple[int, int, Problem]] = []  # (row, column index, problem), sorted later
    canonical: dict[str, list[Any]] = {}
    first_header: dict[str, str] = {}
    index: dict[str, int] = {}
    labels: dict[int, str] = {}
    unknown: dict[str, list[Any]] = {}
    for j, raw in columns.items():
        label = cells.to_name(header[j]) if j < len(header) else None
        name = aliases.get(normalise_header(label)) if label else None
        labels[j] = label or text("load.unnamed_column", letter=readers.column_letter(j))
        if name in table.headers and name not in canonical:
            canonical[name] = _convert_column(
                name, raw, excel_rows, (sheet, label, j), dates, findings
            )
            first_header[name], index[name] = label, j
            continue
        if name in table.headers:
            message = text("load.duplicate_column", first=first_header[name])
            problems.append(Problem(sheet, None, label, None, message))
        if label is None and all(cells.is_blank(v) for v in raw):
            continue
        label = _unique(labels[j], {*table.headers, ROW, *unknown})
        unknown[label] = [cells.to_text(v) for v in raw]

    for name in table.headers:
        if name in canonical or name in schema.optional_columns():
            continue
        message = text("load.missing_column")
        if name == _OWNER:
            message = text("load.owner_column_missing", rows=len(data))
        problems.append(Problem(sheet, None, table.headers[name], None, message))
    for (row, j), formula in read.formulas.items():
        if row < header_row:
            continue  # titles above the header are not read
        label = labels.get(j) or text("load.unnamed_column", letter=readers.column_letter(j))
        message = text("load.formula_without_result", cell=f"{readers.column_letter(j)}{row}")
        findings.append((row, j, Problem(sheet, row, label, formula, message)))

    df = canonical_frame(number, pd.DataFrame({**canonical, ROW: excel_rows}))
    if "ejertype" in canonical:
        j = index["ejertype"]
        df["ejertype"], unknown_types = _owner_types_as_written(df["ejertype"], df["ejer"])
        message = text("load.unknown_owner_type")
        for row, value in df.loc[unknown_types, [ROW, "ejertype"]].itertuples(index=False):
            problem = Problem(sheet, row, first_header["ejertype"], value, message)
            findings.append((row, j, problem))
    else:
        df["ejertype"] = _derive_ejertype(df["ejer"])
    for label, values in unknown.items():
        df[label] = pd.Series(values, dtype="str")
    problems += [p for _, _, p in sorted(findings, key=lambda f: f[:2])]
    return df, problems


def _columns(header: Sequence[Any], data: list[Sequence[Any]]) -> dict[int, Sequence[Any]]:
    """The cells of each column (by index) of the data rows, sized by the cells that exist.

    Every column with a header or a value; the others (unnamed and empty) are left out.
    """
    width = len(header)
    if set(map(len, data)) <= {width}:  # calamine's rows all have one width: zip them
        return dict(enumerate(list(zip(*data, strict=True)) or [()] * width))
    # openpyxl's rows end at their last cell: gather only the columns that hold something, so
    # that a stray cell far to the right does not widen every row to its column.
    used = {j for j, v in enumerate(header) if not cells.is_blank(v)}
    for values in data:
        used.update(j for j, v in enumerate(values) if not cells.is_blank(v))
    return {j: [values[j] if j < len(values) else None for values in data] for j in sorted(used)}


def _unique(label: str, taken: set[str]) -> str:
    """``label``, or ``label (2)``, ``label (3)`` ... if already taken."""
    candidate, k = label, 1
    while candidate in taken:
        k += 1
        candidate = f"{label} ({k})"
    return candidate


def _convert_column(
    name: str,
    raw: Sequence[Any],
    excel_rows: list[int],
    where: tuple[str, str, int],
    dates: tuple[dt.datetime, dt.datetime],
    findings: list[tuple[int, int, Problem]],
) -> list[Any]:
    """Convert one column's cells to its canonical type, recording what could not be used.

    ``where`` is the sheet, the header as written and the column index.
    """
    sheet, label, j = where
    kind = schema.columns()[name].type
    # Extracts repeat the same few thousand names and numbers over tens of thousands of rows:
    # each distinct cell is judged once. Equal cells of other types read alike (1 and 1.0, "x"
    # is no number), except a logical cell: True == 1, so then the type is part of the key.
    typed = bool in set(map(type, raw))
    keys = list(zip(map(type, raw), raw, strict=True)) if typed else raw
    judged = {k: _judge(name, kind, k[1] if typed else k, dates) for k in dict.fromkeys(keys)}
    verdicts = list(map(judged.__getitem__, keys))
    if any(message is not None for _, message in judged.values()):
        for row, value, (_, message) in zip(excel_rows, raw, verdicts, strict=True):
            if message is not None:
                shown = None if cells.is_blank(value) else cells.cell_text(value)
                findings.append((row, j, Problem(sheet, row, label, shown, message)))
    return [converted for converted, _ in verdicts]


def _judge(
    name: str, kind: str, value: Any, dates: tuple[dt.datetime, dt.datetime]
) -> tuple[Any, str | None]:
    """A cell's value in its column's type, and the warning about it (``None`` if none)."""
    try:
        converted = cells.CONVERTERS[kind](value)
    except ValueError:
        return None, text("load.bad_value", kind=text(f"load.kinds.{kind}"))
    if converted is None:
        missing = {_LOCATION: "load.gln_missing", _OWNER: "load.owner_missing"}.get(name)
        return None, missing and text(missing)
    if kind == "gln":
        return converted, _gln_finding(converted)
    if kind == "int" and converted < 0:
        return None, text("load.negative_count")
    if kind == "date" and not _is_plausible(converted, dates):
        return None, _implausible_date(dates)
    if kind in ("name", "text") and (meant := cells.mojibake_repaired(converted)):
        return converted, text("load.mojibake", meant=meant)
    return converted, None


@cache  # the same few thousand location numbers recur in every table
def _gln_finding(value: str) -> str | None:
    """The warning about a location number that is not a valid GLN, or ``None``."""
    if len(value) != 13:
        return text("load.gln_length", digits=len(value))
    return None if is_valid_gln(value) else text("load.gln_check_digit")


@cache
def _owner_types() -> dict[str, str]:
    """Case-folded names of the municipalities and regions -> their owner type."""
    kommuner = reference.municipalities()
    names = {n.casefold(): "Kommune" for n in [*kommuner["navn"], *kommuner["kommune"]]}
    return names | {n.casefold(): "Region" for n in reference.regions()["region"]}


def _derive_ejertype(ejer: pd.Series) -> pd.Series:
    """Owner type from the owner's name: a municipality, a region, else a private owner."""
    derived = ejer.str.casefold().map(_owner_types()).fillna("Privat")
    return derived.where(ejer.notna()).astype("str")


def _owner_types_as_written(ejertype: pd.Series, ejer: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Owner types from an ``Ejertype`` column, and which of them are unknown.

    A known spelling (``"kommunalt"``, ``" Region "``) becomes the canonical type, a blank cell
    is derived from the owner's name as when the column is absent, and an unknown type stays as
    written.
    """
    spelling = {v: roles.owner_type(v) for v in ejertype.dropna().unique()}
    known = ejertype.map(spelling)
    unknown = ejertype.notna() & known.isna()
    types = known.where(~unknown, ejertype)
    if ejertype.isna().any():
        types = types.where(ejertype.notna(), _derive_ejertype(ejer))
    return types.astype("str"), unknown
