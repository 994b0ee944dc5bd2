"""Reading an extract's sheets: the I/O edge of loading.

Workbooks are read with python-calamine (fast) or openpyxl, a folder of CSV files with the csv
module; every reader yields the same ``(excel_row, cells)`` rows, which ``load`` parses. A
workbook's XML is read too, for what neither reader tells: how far a sheet's cells reach (so that
a stray far cell never makes calamine allocate the rectangle up to it) and which formulas have no
stored result. A CSV file's encoding is decided per file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import posixpath
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from soredi_nb.exceptions import ExtractError
from soredi_nb.extract import Problem
from soredi_nb.files import reason
from soredi_nb.texts import text

ENGINES = ("calamine", "openpyxl")
"""Workbook readers, in the order they are tried."""

Rows = list[tuple[int, Sequence[Any]]]
"""A sheet as ``(excel_row, cells)`` pairs; ``excel_row`` is the number the user sees."""


@dataclass
class Sheet:
    """A sheet as read: its rows, and what a reader finds that the rows cannot show."""

    rows: Rows
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    """``(excel_row, column index) -> formula`` of each formula cell without a stored result;
    its value in ``rows`` is ``None``."""
    problems: list[Problem] = field(default_factory=list)
    """Warnings about the sheet as a whole (a CSV file in two encodings)."""


class Book:
    """A source of named sheets: a workbook or a CSV folder. Close it after use."""

    names: list[str]

    def sheet(self, name: str) -> Sheet:
        """One sheet, every row from Excel row 1 (fully empty rows may be left out)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


class _Workbook(Book):
    """An ``.xlsx``/``.xlsm`` workbook: cell values from a reader, formulas from the XML."""

    def __init__(self, path: Path):
        self._path = path
        self._xml = _WorkbookXml(path)

    def sheet(self, name: str) -> Sheet:
        xml = self._xml.part(name)
        formulas = _formulas_without_result(xml, self._xml.recalculate) if xml else {}
        return Sheet(_blank_cells(self._rows(name, xml), formulas), formulas)

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
        ref = f"{column_letter(column)}{row}"
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


class _CsvFolder(Book):
    """A folder of CSV files, one per sheet, named by file name."""

    def __init__(self, path: Path):
        self._path = path
        self.names = sorted(p.name for p in path.iterdir() if is_csv(p))

    def sheet(self, name: str) -> Sheet:
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
        return Sheet(out, problems=problems)


def is_csv(path: Path) -> bool:
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


def openers(path: Path, engine: str | None) -> list[Callable[[], Book]]:
    """Readers to try in turn: a CSV folder's, the chosen engine, or calamine then openpyxl."""
    if path.is_dir():
        return [partial(_CsvFolder, path)]
    books = {"calamine": _CalamineBook, "openpyxl": _OpenpyxlBook}
    return [partial(books[e], path) for e in ([engine] if engine else ENGINES)]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=reason(exc))) from exc


def folder_sha256(path: Path) -> str:
    """SHA-256 over the names and contents of a folder's CSV files."""
    digest = hashlib.sha256()
    try:
        for p in sorted(p for p in path.iterdir() if is_csv(p)):
            digest.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    except OSError as exc:
        raise ExtractError(text("load.file_unreadable", file=path, reason=reason(exc))) from exc
    return digest.hexdigest()


def column_letter(index: int) -> str:
    """Excel column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
