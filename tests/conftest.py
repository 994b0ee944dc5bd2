"""Shared fixtures: workbooks and CSV folders built in ``tmp_path``, and an isolated cache."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path

import openpyxl
import pytest

from soredi_nb import schema

# Valid GLNs (GS1 check digit correct) and their owners, for building extracts.
GLN_AARHUS = "5790000123117"
GLN_ODENSE = "5790002407314"
GLN_CLINIC = "5790000126330"
GLN_REGION = "5790000135837"
GLN_BAD = "5790000123118"  # check digit wrong

IDENTITY = [
    "Lokationsnummer",
    "SOR-kode",
    "Enhedsnavn",
    "Ejer",
    "Ejertype",
    "Region",
    "Kommune",
    "It-system",
    "It-leverandør",
]
AARHUS = [
    GLN_AARHUS,
    "311000016009",
    "Sundhed og Omsorg",
    "Aarhus Kommune",
    "Kommune",
    "Region Midtjylland",
    "Aarhus",
    "KMD Nexus",
    "KMD",
]


def make_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write a workbook with one sheet per entry; each row a list of cell values from column A.

    A row may be a dict ``{column_letter_or_index: value}`` to place cells freely, and ``None``
    cells are left empty. Returns ``path``.
    """
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            cells = row.items() if isinstance(row, dict) else enumerate(row, start=1)
            for c, value in cells:
                if value is not None:
                    ws.cell(row=r, column=_column(c), value=value)
    wb.save(path)
    return path


def _column(c: int | str) -> int:
    """Column index from a 1-based index or a letter."""
    return c if isinstance(c, int) else openpyxl.utils.column_index_from_string(c)


def reference_header(number: int) -> list[str]:
    """The reference header row of table ``number``."""
    return list(schema.table(number).headers.values())


def reference_row(number: int, gln: str = GLN_AARHUS, **values) -> list:
    """A full row of table ``number`` in reference order; ``values`` by canonical column."""
    defaults = dict(zip(schema.identity_columns(), AARHUS, strict=True))
    defaults.update(
        lokationsnummer=gln,
        oprettet=dt.datetime(2023, 5, 1),
        lukket_dato=dt.datetime(2024, 1, 31),
        meddelelsestype="XDIS91",
        format="OIOXML",
        modpart_lokationsnummer=GLN_ODENSE,
        modpart="Odense Kommune",
        antal=3,
        antal_i_alt=10,
        seneste=dt.datetime(2024, 6, 1),
        fejlkode="MSG_Receiver_Identifier_UNKNOWN",
    )
    defaults.update(values)
    return [defaults[c] for c in schema.table(number).columns]


def reference_sheets(rows_per_table: int = 1) -> dict[str, list[list]]:
    """All seven tables in the reference layout with a title row, plus Info and a cover sheet."""
    sheets: dict[str, list[list]] = {
        "Forside": [["SOR-EDI-kvalitetsudtræk"], ["Se fanerne"]],
        "Info": [["Udtræksdato", dt.datetime(2024, 7, 2)], ["Periode", "2024-06"]],
    }
    for n, t in schema.tables().items():
        rows = [reference_row(n) for _ in range(rows_per_table)]
        sheets[f"{n} {t.name}"[:31].strip()] = [
            [f"Tabel {n}: {t.name}"],
            [],
            reference_header(n),
            *rows,
        ]
    return sheets


def make_csv_folder(path: Path, files: dict[str, list[list]], encoding: str = "cp1252") -> Path:
    """Write CSV files as Danish Excel saves them (``;``, CRLF) into the folder ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        lines = [";".join("" if v is None else str(v) for v in row) for row in rows]
        (path / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """Module-scoped fixtures run before the per-test cache below: give them one too."""
    old = os.environ.get("SOREDI_NB_CACHE")
    os.environ["SOREDI_NB_CACHE"] = str(tmp_path_factory.mktemp("session-cache"))
    yield
    if old is None:
        os.environ.pop("SOREDI_NB_CACHE", None)
    else:
        os.environ["SOREDI_NB_CACHE"] = old


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's extract cache out of the user's cache folder."""
    monkeypatch.setenv("SOREDI_NB_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def reference_workbook(tmp_path) -> Path:
    """A workbook with all seven tables in the reference layout, one row each."""
    return make_workbook(tmp_path / "udtraek.xlsx", reference_sheets())


@pytest.fixture
def deny(monkeypatch):
    """``deny("open", path)``: ``Path.open`` (or another method) on ``path`` fails as it would
    without access. Root ignores permission bits, so the tests simulate them."""

    def deny_(method: str, path: Path) -> None:
        real = getattr(Path, method)

        def denied(self, *args, **kwargs):
            if self == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, method, denied)

    return deny_


@pytest.fixture
def run_cli(capsys):
    """Run ``soredi-nb`` in-process: ``run_cli(*argv) -> (exit code, stdout, stderr)``."""
    from soredi_nb.cli import main

    def run(*argv):
        with pytest.raises(SystemExit) as exit_:
            main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return exit_.value.code, out, err

    return run


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The sample extract and the same a month later (``factories.changed_sample``)."""
    from factories import changed_sample

    from soredi_nb.sample import write_extract, write_sample

    folder = tmp_path_factory.mktemp("two-extracts")
    old = write_sample(folder / "a.xlsx", seed=0)
    return old, write_extract(changed_sample(), folder / "b.xlsx")


@pytest.fixture(scope="module")
def extracts(files):
    """``files`` loaded, without the cache."""
    from soredi_nb.load import load_extract

    return tuple(load_extract(p, cache=False) for p in files)
