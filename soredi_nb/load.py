"""Load the SOR-EDI quality extract from a workbook or a folder of CSV files.

Implements the matching rules of the reference layout (``extract-format.md``): which sheet is
which table, where the header row is, which header is which canonical column, and how each cell
becomes a typed value. Reading (python-calamine, openpyxl or CSV) is the I/O edge; every reader
yields the same ``(excel_row, cells)`` rows, which one pure parsing path turns into an ``Extract``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache, partial
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from soredi_nb import __version__, cells, reference, schema
from soredi_nb import cache as extract_cache
from soredi_nb.danish import LETTERS
from soredi_nb.exceptions import ExtractError
from soredi_nb.extract import ROW, Extract, ExtractInfo, Problem, canonical_frame
from soredi_nb.texts import text
from soredi_nb.validate import is_valid_gln

LOADER_VERSION = 1
"""Bump when parsing changes in a way the cache key would not notice."""
HEADER_SEARCH_ROWS = 15
"""The header row is looked for among this many rows at the top of a sheet."""
ENGINES = ("calamine", "openpyxl")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

Rows = list[tuple[int, Sequence[Any]]]
"""A sheet as ``(excel_row, cells)`` pairs; ``excel_row`` is the number the user sees."""

_SEPARATORS = re.compile(r"[\s\-_./:]+")
_TABLE_PREFIX = re.compile(r"(?:tabel|tbl)?\.?\s*(\d+)(?!\d)", re.IGNORECASE)
# A sheet name shorter than this (normalised) says too little to be taken for a table's name.
_MIN_NAME_MATCH = 15
_EJERTYPER = ("Kommune", "Region", "Privat", "Stat")
_LOCATION = "lokationsnummer"


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
        digest = _folder_sha256(path)
    elif path.suffix.lower() in WORKBOOK_SUFFIXES:
        digest = _file_sha256(path)
    else:
        raise ExtractError(text("load.unsupported_format", file=path))

    key = _cache_key(digest, alias_map)
    root = extract_cache.folder(cache_dir)
    extract = extract_cache.read(root, key, str(path)) if cache else None
    if extract is None:
        extract = _parse(path, digest, _openers(path, engine), alias_map)
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
    raw = yaml.safe_load(files("soredi_nb").joinpath("data/aliases.yaml").read_text("utf-8"))
    for name, headers in _alias_entries(raw, Path("aliases.yaml")).items():
        for header in headers:
            mapping.setdefault(normalise_header(header), name)
    return mapping


def _read_alias_file(path: Path) -> dict[str, list[str]]:
    """Read and check a user alias file."""
    if not path.is_file():
        raise ExtractError(text("load.alias_file_missing", file=path))
    try:
        raw = yaml.safe_load(path.read_text("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = f"linje {mark.line + 1}" if mark else type(exc).__name__
        reason = text("load.alias_reason.yaml", detail=detail)
        raise ExtractError(text("load.alias_file_invalid", file=path, reason=reason)) from exc
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=exc.strerror)) from exc
    return _alias_entries(raw, path)


def _alias_entries(raw: Any, path: Path) -> dict[str, list[str]]:
    """Check the parsed YAML of an alias file: known columns, each with text spellings."""

    def invalid(key: str, **fields: Any) -> ExtractError:
        reason = text(f"load.alias_reason.{key}", **fields)
        return ExtractError(text("load.alias_file_invalid", file=path, reason=reason))

    if raw is None:  # an empty file extends nothing, and that is fine
        return {}
    if not isinstance(raw, dict):
        raise invalid("not_mapping")
    known = schema.columns()
    out = {}
    for column, headers in raw.items():
        if column not in known:
            raise invalid("unknown_column", column=column, known=", ".join(known))
        headers = [headers] if isinstance(headers, str) else headers
        if not isinstance(headers, list) or not all(isinstance(h, str | int) for h in headers):
            raise invalid("not_headers", column=column)
        out[column] = [str(h) for h in headers]
    return out


# --- Reading: the I/O edge ---------------------------------------------------------------------


class _Book:
    """A source of named sheets: a workbook or a CSV folder. Close it after use."""

    names: list[str]

    def rows(self, name: str) -> Rows:
        """All rows of one sheet, from Excel row 1."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


class _CalamineBook(_Book):
    """A workbook read with python-calamine."""

    def __init__(self, path: Path):
        from python_calamine import CalamineWorkbook

        self._wb = CalamineWorkbook.from_path(str(path))
        self.names = list(self._wb.sheet_names)

    def rows(self, name: str) -> Rows:
        # skip_empty_area=False pads from A1, so list position = Excel row even when the used
        # range starts further down.
        sheet = self._wb.get_sheet_by_name(name)
        return list(enumerate(sheet.to_python(skip_empty_area=False), start=1))

    def close(self) -> None:
        self._wb.close()


class _OpenpyxlBook(_Book):
    """A workbook read with openpyxl in read-only mode, cached values instead of formulas."""

    def __init__(self, path: Path):
        import openpyxl

        with warnings.catch_warnings():
            # openpyxl warns about workbook features it drops (data validation, ...): not ours.
            warnings.simplefilter("ignore")
            self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self.names = list(self._wb.sheetnames)

    def rows(self, name: str) -> Rows:
        sheet = self._wb[name]
        # The stored dimension can be wrong (some writers leave "A1"); ignore it and read all.
        sheet.reset_dimensions()
        return list(enumerate(sheet.iter_rows(values_only=True), start=1))

    def close(self) -> None:
        self._wb.close()


class _CsvFolder(_Book):
    """A folder of CSV files, one per sheet, named by file name."""

    def __init__(self, path: Path):
        self._path = path
        self.names = sorted(p.name for p in path.iterdir() if _is_csv(p))

    def rows(self, name: str) -> Rows:
        try:
            raw = (self._path / name).read_bytes()
        except OSError as exc:
            message = text("load.file_unreadable", file=self._path / name, reason=exc.strerror)
            raise ExtractError(message) from exc
        try:
            content = _decode(raw)
            reader = csv.reader(io.StringIO(content, newline=""), delimiter=";")
            out, line = [], 1
            for record in reader:
                out.append((line, record))
                line = reader.line_num + 1  # a quoted field may span lines
        except (UnicodeDecodeError, csv.Error) as exc:
            message = text("load.csv_unreadable", file=self._path, sheet=name)
            raise ExtractError(message) from exc
        return out


def _is_csv(path: Path) -> bool:
    """True for a CSV file."""
    return path.suffix.lower() == ".csv" and path.is_file()


def _decode(raw: bytes) -> str:
    """Text of a CSV file saved by Excel: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def _openers(path: Path, engine: str | None) -> list[Callable[[], _Book]]:
    """Readers to try in turn: a CSV folder's, the chosen engine, or calamine then openpyxl."""
    if path.is_dir():
        return [partial(_CsvFolder, path)]
    books = {"calamine": _CalamineBook, "openpyxl": _OpenpyxlBook}
    return [partial(books[e], path) for e in ([engine] if engine else ENGINES)]


def _read(path: Path, openers: list[Callable[[], _Book]]) -> tuple[list[str], dict[str, Rows]]:
    """Sheet names, and the rows of the sheets the extract needs, by the first reader that works."""
    error: Exception | None = None
    for opener in openers:
        try:
            book = opener()
            try:
                return book.names, {name: book.rows(name) for name in _wanted(book.names)}
            finally:
                book.close()
        except ExtractError:
            raise
        except Exception as exc:
            # Readers fail in many ways on bad input (zip, XML, encoding errors ...); the user
            # gets one message that says what to do, never a reader's traceback.
            error = exc
    raise ExtractError(text("load.not_a_workbook", file=path)) from error


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file's content."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=exc.strerror)) from exc


def _folder_sha256(path: Path) -> str:
    """SHA-256 over the names and contents of a folder's CSV files."""
    digest = hashlib.sha256()
    try:
        for p in sorted(p for p in path.iterdir() if _is_csv(p)):
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=exc.strerror)) from exc
    return digest.hexdigest()


@cache
def _code_digest() -> str:
    """SHA-256 of the code and data that decide how an extract is parsed, for the cache key."""
    digest = hashlib.sha256()
    package = files("soredi_nb")
    for name in (
        "load.py",
        "cells.py",
        "cache.py",
        "extract.py",
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
    path: Path, digest: str, openers: list[Callable[[], _Book]], aliases: dict[str, str]
) -> Extract:
    """Read the needed sheets and parse them into an ``Extract``."""
    names, sheets = _read(path, openers)
    tables, info_sheet, problems = _plan(names)
    if not tables:
        found = ", ".join(f"'{n}'" for n in names) or text("load.none_found")
        raise ExtractError(text("load.no_tables", file=path, sheets=found))

    period, extract_date, info_problems = _parse_info(info_sheet, sheets.get(info_sheet, []))
    problems += info_problems
    frames = {}
    for number, sheet in sorted(tables.items()):
        parsed = _parse_table(number, sheet, sheets[sheet], aliases, path)
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
    otherwise the table whose Danish name starts with the sheet name (Excel cuts sheet names to
    31 characters) or that the sheet name starts with.
    """
    name = sheet.strip()
    name = name[:-4].strip() if name.lower().endswith(".csv") else name
    if m := _TABLE_PREFIX.match(name):
        number = int(m[1])
        return number if number in schema.TABLE_NUMBERS else None
    key = normalise_header(name)
    if len(key) < _MIN_NAME_MATCH:
        return None
    hits = [
        n
        for n, t in schema.tables().items()
        if normalise_header(t.name).startswith(key) or key.startswith(normalise_header(t.name))
    ]
    return hits[0] if len(hits) == 1 else None


def _is_info(sheet: str) -> bool:
    """True for the metadata sheet (or ``Info.csv``)."""
    name = sheet.strip()
    name = name[:-4] if name.lower().endswith(".csv") else name
    return name.strip().casefold() == schema.info_sheet()[0].casefold()


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


def _parse_info(sheet: str | None, rows: Rows) -> tuple[str | None, Any, list[Problem]]:
    """Period and extract date from the Info sheet's key/value rows."""
    fields = {normalise_header(k): f for k, f in schema.info_sheet()[1].items()}
    convert = {"period": cells.to_period, "extract_date": cells.to_date}
    found: dict[str, Any] = {"period": None, "extract_date": None}
    problems = []
    for row, values in rows:
        filled = [v for v in values if not cells.is_blank(v)]
        if len(filled) < 2 or (field := fields.get(normalise_header(str(filled[0])))) is None:
            continue
        key, value = filled[:2]
        try:
            found[field] = convert[field](value)
        except ValueError:
            kind = text("load.kinds." + ("period" if field == "period" else "date"))
            message = text("load.bad_value", kind=kind)
            shown = cells.cell_text(value)
            problems.append(Problem(sheet, row, cells.to_name(key), shown, message))
    date = found["extract_date"]
    return found["period"], date.date() if date else None, problems


def _is_blank_row(values: Sequence[Any]) -> bool:
    """True when every cell of a row is blank."""
    return all(v is None or v == "" or (type(v) is str and v.isspace()) for v in values)


def _find_header(rows: Rows, aliases: dict[str, str]) -> int | None:
    """Index in ``rows`` of the header row: the first with a cell naming the location number."""
    for i, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        for v in values:
            if not cells.is_blank(v) and aliases.get(normalise_header(cells.cell_text(v))) == (
                _LOCATION
            ):
                return i
    return None


def _headers_found(rows: Rows) -> str:
    """The likeliest header row near the top (the fullest), for an error message."""
    top = [
        [cells.to_name(v) for v in values if not cells.is_blank(v)]
        for _, values in rows[:HEADER_SEARCH_ROWS]
    ]
    best = max(top, key=len, default=[])
    return ", ".join(f"'{h}'" for h in best) or text("load.none_found")


def _column_letter(index: int) -> str:
    """Excel column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _parse_table(
    number: int, sheet: str, rows: Rows, aliases: dict[str, str], path: Path
) -> tuple[pd.DataFrame, list[Problem]] | None:
    """One table sheet as a canonical DataFrame and its warnings; ``None`` if the sheet is empty.

    Raises ``ExtractError`` if no header row names a location-number column.
    """
    if all(_is_blank_row(values) for _, values in rows):
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
    header = rows[at][1]
    data = [(row, values) for row, values in rows[at + 1 :] if not _is_blank_row(values)]
    excel_rows = [row for row, _ in data]
    width = max([len(header), *(len(values) for _, values in data)])
    padded = (list(values) + [None] * (width - len(values)) for _, values in data)
    columns = list(zip(*padded, strict=True)) or [()] * width

    problems: list[Problem] = []
    findings: list[tuple[int, int, Problem]] = []  # (row, column index, problem), sorted later
    canonical: dict[str, list[Any]] = {}
    first_header: dict[str, str] = {}
    unknown: dict[str, list[Any]] = {}
    for j, raw in enumerate(columns):
        label = cells.to_name(header[j]) if j < len(header) else None
        name = aliases.get(normalise_header(label)) if label else None
        if name in table.headers and name not in canonical:
            canonical[name] = _convert_column(name, raw, excel_rows, sheet, label, j, findings)
            first_header[name] = label
            continue
        if name in table.headers:
            message = text("load.duplicate_column", first=first_header[name])
            problems.append(Problem(sheet, None, label, None, message))
        if label is None:
            if all(cells.is_blank(v) for v in raw):
                continue
            label = text("load.unnamed_column", letter=_column_letter(j))
        label = _unique(label, {*table.headers, ROW, *unknown})
        unknown[label] = [cells.to_text(v) for v in raw]

    problems += [
        Problem(sheet, None, table.headers[name], None, text("load.missing_column"))
        for name in table.headers
        if name not in canonical and name not in schema.optional_columns()
    ]
    problems += [p for _, _, p in sorted(findings, key=lambda f: f[:2])]

    df = canonical_frame(number, pd.DataFrame({**canonical, ROW: excel_rows}))
    if "ejertype" in canonical:
        df["ejertype"] = _canonical_ejertype(df["ejertype"])
    else:
        df["ejertype"] = _derive_ejertype(df["ejer"])
    for label, values in unknown.items():
        df[label] = pd.Series(values, dtype="str")
    return df, problems


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
    sheet: str,
    label: str,
    j: int,
    findings: list[tuple[int, int, Problem]],
) -> list[Any]:
    """Convert one column's cells to its canonical type, recording what could not be read."""
    kind = schema.columns()[name].type
    convert = cells.CONVERTERS[kind]
    out = []
    for row, value in zip(excel_rows, raw, strict=True):
        try:
            out.append(convert(value))
        except ValueError:
            out.append(None)
            message = text("load.bad_value", kind=text(f"load.kinds.{kind}"))
            findings.append((row, j, Problem(sheet, row, label, cells.cell_text(value), message)))
            continue
        if kind == "gln" and (key := _gln_finding(out[-1], name)):
            message = text(f"load.{key}", digits=len(out[-1] or ""))
            shown = cells.cell_text(value) or None
            findings.append((row, j, Problem(sheet, row, label, shown, message)))
    return out


@cache  # the same few thousand location numbers recur across tens of thousands of rows
def _gln_finding(value: str | None, name: str) -> str | None:
    """Text key of what is wrong with a read location number, or ``None``."""
    if value is None:
        return "gln_missing" if name == _LOCATION else None
    if len(value) != 13:
        return "gln_length"
    return None if is_valid_gln(value) else "gln_check_digit"


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


def _canonical_ejertype(ejertype: pd.Series) -> pd.Series:
    """Owner types as written, with the known ones in their canonical spelling."""
    spelling = {t.casefold(): t for t in _EJERTYPER}
    return ejertype.str.casefold().map(spelling).fillna(ejertype).astype("str")
