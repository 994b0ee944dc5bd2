"""Load the SOR-EDI quality extract from a workbook or a folder of CSV files.

Implements the matching rules of the reference layout (``extract-format.md``): which sheet is
which table, where the header row is, which header is which canonical column, and how each cell
becomes a typed value. Reading (python-calamine, openpyxl or CSV) is the I/O edge; every reader
yields the same ``(excel_row, cells)`` rows, which one pure parsing path turns into an ``Extract``.
A workbook's XML is read too, for what neither reader tells: how far a sheet's cells reach (so
that a stray far cell never makes calamine allocate the rectangle up to it) and which formulas
have no stored result.

No data row is ever dropped: a value that cannot be used becomes missing, with a warning that
names its sheet, Excel row, column and value.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import os
import posixpath
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from soredi_nb import __version__, cells, reference, roles, schema
from soredi_nb import cache as extract_cache
from soredi_nb.danish import LETTERS
from soredi_nb.exceptions import ExtractError
from soredi_nb.extract import ROW, Extract, ExtractInfo, Problem, canonical_frame
from soredi_nb.files import reason
from soredi_nb.texts import text
from soredi_nb.validate import is_valid_gln

LOADER_VERSION = 2
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
_LOCATION = "lokationsnummer"
_OWNER = "ejer"
# Spellings of an owner type that roles.yaml (the home of owner types, read by roles.owner_type)
# does not list yet; they belong there.
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
        raise ExtractError(text("load.file_unreadable", file=path, reason=reason(exc))) from exc
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


@dataclass
class _Sheet:
    """A sheet as read: its rows, and what a reader finds that the rows cannot show."""

    rows: Rows
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    """``(excel_row, column index) -> formula`` of each formula cell without a stored result;
    its value in ``rows`` is ``None``."""
    problems: list[Problem] = field(default_factory=list)
    """Warnings about the sheet as a whole (a CSV file in two encodings)."""


class _Book:
    """A source of named sheets: a workbook or a CSV folder. Close it after use."""

    names: list[str]

    def sheet(self, name: str) -> _Sheet:
        """One sheet, every row from Excel row 1 (fully empty rows may be left out)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


class _Workbook(_Book):
    """An ``.xlsx``/``.xlsm`` workbook: cell values from a reader, formulas from the XML."""

    def __init__(self, path: Path):
        self._path = path
        self._xml = _WorkbookXml(path)

    def sheet(self, name: str) -> _Sheet:
        xml = self._xml.part(name)
        formulas = _formulas_without_result(xml, self._xml.recalculate) if xml else {}
        return _Sheet(_blank_cells(self._rows(name, xml), formulas), formulas)

    def _rows(self, name: str, xml: bytes | None) -> Rows:
        """The sheet's rows, given its XML (``None`` if it could not be found)."""
        raise NotImplementedError

    def close(self) -> None:
        self._xml.close()


class _CalamineBook(_Workbook):
    """A workbook read with python-calamine; a sheet calamine cannot size is read with openpyxl."""

    def __init__(self, path: Path):
        from python_calamine import CalamineWorkbook

        self._wb = CalamineWorkbook.from_path(str(path))
        self.names = list(self._wb.sheet_names)
        self._sparse: Any = None
        super().__init__(path)

    def _rows(self, name: str, xml: bytes | None) -> Rows:
        if xml is None or not _fits_dense(xml):
            # calamine allocates the whole rectangle from the first to the farthest cell (a stray
            # cell at XFD1048576 asks for 512 GB and aborts the process); openpyxl streams rows.
            if self._sparse is None:
                self._sparse = _open_openpyxl(self._path)
            return _openpyxl_rows(self._sparse, name)
        # skip_empty_area=False pads from A1, so list position = Excel row even when the used
        # range starts further down.
        sheet = self._wb.get_sheet_by_name(name)
        return list(enumerate(sheet.to_python(skip_empty_area=False), start=1))

    def close(self) -> None:
        self._wb.close()
        if self._sparse is not None:
            self._sparse.close()
        super().close()


class _OpenpyxlBook(_Workbook):
    """A workbook read with openpyxl in read-only mode, stored results instead of formulas."""

    def __init__(self, path: Path):
        self._wb = _open_openpyxl(path)
        self.names = list(self._wb.sheetnames)
        super().__init__(path)

    def _rows(self, name: str, xml: bytes | None) -> Rows:
        return _openpyxl_rows(self._wb, name)

    def close(self) -> None:
        self._wb.close()
        super().close()


def _open_openpyxl(path: Path) -> Any:
    """An openpyxl workbook in read-only mode, with each formula's stored result as its value."""
    import openpyxl

    with warnings.catch_warnings():
        # openpyxl warns about workbook features it drops (data validation, ...): not ours.
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _openpyxl_rows(wb: Any, name: str) -> Rows:
    """The rows of a sheet that hold cells, as openpyxl streams them."""
    sheet = wb[name]
    # The stored dimension can be wrong (some writers leave "A1"); ignore it and read all.
    sheet.reset_dimensions()
    # Rows without cells come as empty tuples; leaving them out keeps a far stray row cheap.
    return [(r, values) for r, values in enumerate(sheet.iter_rows(values_only=True), 1) if values]


class _WorkbookXml:
    """The XML parts of a workbook, for what the readers do not tell: where each sheet's cells
    reach and which formulas have no stored result. Opened on first use."""

    def __init__(self, path: Path):
        self._path = path
        self._zip: zipfile.ZipFile | None = None
        self._parts: dict[str, str] = {}
        self.recalculate = False
        """Whether the workbook asks for every formula to be recalculated on opening."""

    def part(self, name: str) -> bytes | None:
        """The XML of the sheet ``name``; ``None`` if the workbook does not say where it is."""
        if self._zip is None:
            self._zip = zipfile.ZipFile(self._path)
            self._parts, self.recalculate = _workbook_parts(self._zip)
        try:
            return self._zip.read(self._parts[name])
        except KeyError:  # not listed, or listed but not in the zip
            return None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _workbook_parts(book: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Sheet name -> its XML part, and whether stored formula results are to be recalculated.

    ``fullCalcOnLoad`` tells Excel to recalculate every formula on opening: scripts (XlsxWriter,
    openpyxl) set it because the results they store are placeholders, not results.
    """
    workbook = _office_document(book)
    folder, file = posixpath.split(workbook)
    try:
        root = ET.fromstring(book.read(workbook))
        rels = ET.fromstring(book.read(posixpath.join(folder, "_rels", file + ".rels")))
    except (KeyError, ET.ParseError):
        # A reader made sense of the workbook all the same: read it without the XML's help.
        return {}, False
    targets = {r.get("Id"): r.get("Target") or "" for r in rels if _local(r.tag) == "Relationship"}
    parts = {}
    recalculate = False
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "calcPr":
            recalculate = element.get("fullCalcOnLoad") in ("1", "true")
        if tag != "sheet":
            continue
        ids = [v for k, v in element.attrib.items() if k.startswith("{") and _local(k) == "id"]
        if ids and ids[0] in targets:
            parts[element.get("name", "")] = _part_path(folder, targets[ids[0]])
    return parts, recalculate


def _office_document(book: zipfile.ZipFile) -> str:
    """The path of the workbook part, from the package relationships."""
    try:
        rels = ET.fromstring(book.read("_rels/.rels"))
    except (KeyError, ET.ParseError):
        return "xl/workbook.xml"
    for rel in rels:
        if (rel.get("Type") or "").endswith("/officeDocument"):
            return _part_path("", rel.get("Target") or "")
    return "xl/workbook.xml"


def _part_path(folder: str, target: str) -> str:
    """A relationship target as a path in the zip: absolute (``/xl/...``) or relative."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(folder, target))


def _local(tag: str) -> str:
    """An XML name without its namespace."""
    return tag.rpartition("}")[2]


# A cell reference with two letters or more, or a row of 100 000 or more. Without one, a sheet
# spans at most A1:Z99999 (2.6 M cells, about 100 MB in calamine): that is read densely unchecked,
# so that a normal sheet costs one fast search.
_FAR_REFERENCE = re.compile(rb'r="(?:[A-Z]{2}|[A-Z]?\d{6})')
_COLUMN_LETTERS = re.compile(rb'\sr="([A-Z]+)\d')
_ROW_NUMBER = re.compile(rb'\sr="[A-Z]*(\d+)"')
_DENSE_CELLS = 2_600_000
"""Cells calamine may always allocate for a sheet (A1:Z100000)."""
_XML_BYTES_PER_CELL = 8
"""A bigger sheet may have one cell in its rectangle per this many bytes of XML (a real cell
takes 20 bytes or more)."""


def _fits_dense(xml: bytes) -> bool:
    """Whether a sheet's rectangle, from A1 to its farthest cell, is small enough to allocate."""
    if not _FAR_REFERENCE.search(xml):
        return True
    letters = {m.decode() for m in _COLUMN_LETTERS.findall(xml)}
    columns = max((_column_number(c) for c in letters), default=1)
    rows = max(map(int, _ROW_NUMBER.findall(xml)), default=1)
    return rows * columns <= max(_DENSE_CELLS, len(xml) // _XML_BYTES_PER_CELL)


def _column_number(letters: str) -> int:
    """1-based column number of Excel column letters (A -> 1, AA -> 27)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


_CELL_REFERENCE = re.compile(r"([A-Z]+)(\d+)")


def _formulas_without_result(xml: bytes, recalculate: bool) -> dict[tuple[int, int], str]:
    """Formula cells whose result is not stored: ``(excel_row, column index) -> formula``.

    Excel stores each formula's result beside it, and the readers give that as the value. A
    workbook written by a script and never opened in Excel has none (or a placeholder, marked by
    ``recalculate``), and the readers then give a blank (or the placeholder).
    """
    if not _has_formula(xml):
        return {}
    found = {}
    shared: dict[str | None, tuple[str, str]] = {}
    row, column = 0, -1
    sheet_data = None
    for event, element in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = element
            elif tag == "row":
                row, column = int(element.get("r") or row + 1), -1
            continue
        if tag == "row" and sheet_data is not None:
            sheet_data.clear()  # the row is done; keep memory flat on a long sheet
        if tag != "c":
            continue
        if (m := _CELL_REFERENCE.fullmatch(element.get("r") or "")) is not None:
            row, column = int(m[2]), _column_number(m[1]) - 1
        else:
            column += 1
        children = {_local(child.tag): child for child in element}
        if "f" not in children:
            continue
        ref = f"{_column_letter(column)}{row}"
        formula = _formula_text(children["f"], ref, shared)
        value = children.get("v")
        # An empty text result is stored as an empty <v> of type "str".
        stored = value is not None and (bool(value.text) or element.get("t") == "str")
        if recalculate or not stored:
            found[(row, column)] = formula
    return found


def _has_formula(xml: bytes) -> bool:
    """Whether a sheet's XML has a formula: a cheap search for the closing tag ``</f>``."""
    # Every formula element closes with </f>, or </x:f> with a prefix; a shared formula's
    # followers (<f .../>) come after their master, which has one.
    prefix = re.search(rb"<(\w+:)?worksheet\b", xml[:4096])
    if prefix is None:
        return b"</f>" in xml or b":f>" in xml
    return b"</" + (prefix[1] or b"") + b"f>" in xml


def _formula_text(formula: ET.Element, ref: str, shared: dict) -> str:
    """A formula as Excel shows it (``=SUM(A1:A3)``), with a shared formula's follower spelled
    out from its master."""
    written = formula.text or ""
    if formula.get("t") != "shared":
        return "=" + written
    key = formula.get("si")
    if written:
        shared[key] = (written, ref)
        return "=" + written
    if key not in shared:
        return "="
    master, origin = shared[key]
    from openpyxl.formula.translate import Translator

    try:
        return Translator("=" + master, origin=origin).translate_formula(ref)
    except Exception:
        return "=" + master  # a formula openpyxl cannot shift is still worth showing


def _blank_cells(rows: Rows, blank: dict[tuple[int, int], Any]) -> Rows:
    """``rows`` with the ``(excel_row, column index)`` cells of ``blank`` set to ``None``.

    A cell with nothing stored may be left out by a reader (calamine's range ends at the last
    value); its row and column are added, so that the cell is read, as blank.
    """
    if not blank:
        return rows
    by_row: dict[int, list[int]] = {}
    for row, column in blank:
        by_row.setdefault(row, []).append(column)
    out: Rows = []
    for row, values in rows:
        if row in by_row:
            values = _blanked(values, by_row.pop(row))
        out.append((row, values))
    if by_row:
        out += [(row, _blanked([], columns)) for row, columns in by_row.items()]
        out.sort(key=lambda pair: pair[0])
    return out


def _blanked(values: Sequence[Any], columns: list[int]) -> list[Any]:
    """A row's values, long enough for ``columns``, with those set to ``None``."""
    out = [*values, *[None] * (max(columns) + 1 - len(values))]
    for column in columns:
        out[column] = None
    return out


class _CsvFolder(_Book):
    """A folder of CSV files, one per sheet, named by file name."""

    def __init__(self, path: Path):
        self._path = path
        self.names = sorted(p.name for p in path.iterdir() if _is_csv(p))

    def sheet(self, name: str) -> _Sheet:
        try:
            raw = (self._path / name).read_bytes()
        except OSError as exc:
            message = text("load.file_unreadable", file=self._path / name, reason=reason(exc))
            raise ExtractError(message) from exc
        try:
            content, bad_line = _decode(raw)
            reader = csv.reader(io.StringIO(content, newline=""), delimiter=";")
            out, line = [], 1
            for record in reader:
                out.append((line, record))
                line = reader.line_num + 1  # a quoted field may span lines
        except (UnicodeDecodeError, csv.Error) as exc:
            message = text("load.csv_unreadable", file=self._path, sheet=name)
            raise ExtractError(message) from exc
        problems = []
        if bad_line is not None:
            shown = content.split("\n")[bad_line - 1].rstrip("\r")
            message = text("load.csv_mixed_encoding", line=bad_line)
            problems.append(Problem(name, bad_line, None, shown, message))
        return _Sheet(out, problems=problems)


def _is_csv(path: Path) -> bool:
    """True for a CSV file."""
    return path.suffix.lower() == ".csv" and path.is_file()


# A multi-byte UTF-8 sequence: a lead byte and its continuation bytes. Windows-1252 text of
# Danish words practically never has one (a capital letter followed by a symbol).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decode(raw: bytes) -> tuple[str, int | None]:
    """Text of a CSV file saved by Excel, and the first line that is not UTF-8 in a UTF-8 file.

    UTF-8 (with or without BOM) when it decodes; Windows-1252 when it does not and has no UTF-8
    sequence at all; otherwise UTF-8 with the bad bytes replaced: reading such a file as
    Windows-1252 would garble every æ, ø and å in it to save one stray byte.
    """
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8) :] if bom else raw
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        if not bom and not _UTF8_SEQUENCE.search(raw):
            return raw.decode("cp1252"), None
        return body.decode("utf-8", errors="replace"), body.count(b"\n", 0, exc.start) + 1


def _openers(path: Path, engine: str | None) -> list[Callable[[], _Book]]:
    """Readers to try in turn: a CSV folder's, the chosen engine, or calamine then openpyxl."""
    if path.is_dir():
        return [partial(_CsvFolder, path)]
    books = {"calamine": _CalamineBook, "openpyxl": _OpenpyxlBook}
    return [partial(books[e], path) for e in ([engine] if engine else ENGINES)]


def _read(path: Path, openers: list[Callable[[], _Book]]) -> tuple[list[str], dict[str, _Sheet]]:
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


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file's content."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=reason(exc))) from exc


def _folder_sha256(path: Path) -> str:
    """SHA-256 over the names and contents of a folder's CSV files."""
    digest = hashlib.sha256()
    try:
        for p in sorted(p for p in path.iterdir() if _is_csv(p)):
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=reason(exc))) from exc
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
    path: Path, digest: str, openers: list[Callable[[], _Book]], aliases: dict[str, str]
) -> Extract:
    """Read the needed sheets and parse them into an ``Extract``."""
    names, sheets = _read(path, openers)
    tables, info_sheet, problems = _plan(names)
    if not tables:
        found = ", ".join(f"'{n}'" for n in names) or text("load.none_found")
        raise ExtractError(text("load.no_tables", file=path, sheets=found))

    period, extract_date, info_problems = _parse_info(info_sheet, sheets.get(info_sheet))
    problems += info_problems
    dates = _plausible_dates(extract_date or dt.date.today())
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


def _parse_info(sheet: str | None, read: _Sheet | None) -> tuple[str | None, Any, list[Problem]]:
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
        message = text("load.formula_without_result", cell=f"{_column_letter(column)}{row}")
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
    return text("load.implausible_date", first=f"{dates[0]:%d-%m-%Y}", last=f"{last:%d-%m-%Y}")


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


def _column_letter(index: int) -> str:
    """Excel column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _parse_table(
    number: int,
    sheet: str,
    read: _Sheet,
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
        labels[j] = label or text("load.unnamed_column", letter=_column_letter(j))
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
        label = labels.get(j) or text("load.unnamed_column", letter=_column_letter(j))
        message = text("load.formula_without_result", cell=f"{_column_letter(j)}{row}")
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
