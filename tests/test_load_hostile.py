"""Broken and hostile extracts: every row is kept, and every value that cannot be used is named.

Each test builds the workbook or CSV folder in ``tmp_path`` as a user's tool would have made it
(openpyxl writes formulas without results, as any script does; Excel's saved results are put in
the XML by hand) and asserts exact rows and the exact warnings (sheet, Excel row, column, value).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import zipfile

import openpyxl
import pandas as pd
import pytest
from conftest import (
    GLN_AARHUS,
    GLN_ODENSE,
    make_workbook,
    reference_header,
    reference_row,
)

from soredi_nb import readers
from soredi_nb.extract import ROW, Problem
from soredi_nb.load import load_extract
from soredi_nb.texts import text

ENGINES = ["calamine", "openpyxl"]
T2 = "Tabel 2"
# Columns of table 2 in the reference layout: A Lokationsnummer ... D Ejer, E Ejertype ...
# J Lukket dato, N Antal meddelelser, O Seneste meddelelse.


def load(path, **kwargs):
    """Load without the cache, so each test exercises the parser."""
    return load_extract(path, cache=False, **kwargs)


def values(column: pd.Series) -> list:
    """A column's values, ``None`` for missing ones (``pd.NA`` cannot be compared)."""
    return column.astype(object).where(column.notna(), None).tolist()


def cell_warnings(ex) -> list[Problem]:
    """The warnings about single cells (those with a row number)."""
    return [w for w in ex.warnings if w.row is not None]


def table2(tmp_path, rows, header=None, info=None):
    """A workbook with table 2 (``rows`` under the reference header) and an optional Info sheet."""
    sheets = {T2: [header or reference_header(2), *rows]}
    if info is not None:
        sheets["Info"] = info
    return make_workbook(tmp_path / "udtraek.xlsx", sheets)


def edit_xml(path, part, edits):
    """Rewrite one XML part of a workbook, each ``(old, new)`` replaced exactly once."""
    with zipfile.ZipFile(path) as src:
        items = [(item, src.read(item)) for item in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item, data in items:
            if item.filename == part:
                for old, new in edits:
                    assert data.count(old) == 1, old
                    data = data.replace(old, new)
            dst.writestr(item, data)


def saved_by_excel(path, results):
    """Store each formula's result as Excel does on saving, and drop the recalculation mark."""
    edits = []
    for ref, (formula, value, kind) in results.items():
        old = f'<c r="{ref}"><f>{formula}</f><v /></c>'.encode()
        kind_attr = f' t="{kind}"' if kind else ""
        new = f'<c r="{ref}"{kind_attr}><f>{formula}</f><v>{value}</v></c>'.encode()
        edits.append((old, new))
    edit_xml(path, "xl/worksheets/sheet1.xml", edits)
    edit_xml(path, "xl/workbook.xml", [(b' fullCalcOnLoad="1"', b"")])


def formula_warning(sheet, row, column, formula, cell):
    """The warning about a formula without a stored result."""
    message = text("load.formula_without_result", cell=cell)
    return Problem(sheet, row, column, formula, message)


# --- Rows without an owner ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_rows_with_a_blank_owner_are_kept_with_a_warning_each(tmp_path, engine):
    header = [" Ejer  navn " if h == "Ejer" else h for h in reference_header(2)]
    rows = [
        reference_row(2, ejer="Aarhus Kommune"),
        reference_row(2, ejer=None),
        reference_row(2, ejer=" \xa0 "),
        reference_row(2, GLN_ODENSE, ejer=""),
    ]
    ex = load(table2(tmp_path, rows, header=header), engine=engine)

    df = ex.tables[2]
    assert df[ROW].tolist() == [2, 3, 4, 5]
    assert df["ejer"].tolist()[0] == "Aarhus Kommune"
    assert df["ejer"].isna().tolist() == [False, True, True, True]
    message = text("load.owner_missing")
    assert cell_warnings(ex) == [Problem(T2, r, "Ejer navn", None, message) for r in (3, 4, 5)]


def test_a_sheet_without_an_owner_column_warns_once_with_its_row_count(tmp_path):
    header = [h for h in reference_header(2) if h != "Ejer"]
    owner = reference_header(2).index("Ejer")
    rows = [[v for i, v in enumerate(reference_row(2)) if i != owner]] * 3
    ex = load(table2(tmp_path, rows, header=header))

    assert len(ex.tables[2]) == 3
    assert ex.tables[2]["ejer"].isna().all()
    assert cell_warnings(ex) == []
    message = text("load.owner_column_missing", rows=3)
    assert [w for w in ex.warnings if w.column == "Ejer"] == [
        Problem(T2, None, "Ejer", None, message)
    ]


# --- Owner types -------------------------------------------------------------------------------


def test_a_blank_owner_type_is_derived_from_the_owner(tmp_path):
    rows = [
        reference_row(2, ejer="Aarhus Kommune", ejertype=None),
        reference_row(2, ejer="Region Midtjylland", ejertype=" "),
        reference_row(2, ejer="Lægehuset Åbyhøj ApS", ejertype=None),
        reference_row(2, ejer="Region Midtjylland", ejertype="Privat"),
    ]
    ex = load(table2(tmp_path, rows))
    assert ex.tables[2]["ejertype"].tolist() == ["Kommune", "Region", "Privat", "Privat"]
    assert cell_warnings(ex) == []


def test_owner_type_variants_become_the_canonical_types(tmp_path):
    variants = {
        "Kommunal": "Kommune",
        "Kommunalt": "Kommune",
        "Kommune": "Kommune",
        " KOMMUNE ": "Kommune",
        "Regional": "Region",
        "Regionalt": "Region",
        "Region": "Region",
        "region": "Region",
        "Privat": "Privat",
        "Privatejet": "Privat",
        "privat praksis": "Privat",
        "Statslig": "Stat",
        "Stat": "Stat",
        "STAT ": "Stat",
    }
    rows = [reference_row(2, ejertype=written) for written in variants]
    ex = load(table2(tmp_path, rows))
    assert ex.tables[2]["ejertype"].tolist() == list(variants.values())
    assert cell_warnings(ex) == []


def test_an_unknown_owner_type_stays_as_written_with_a_warning(tmp_path):
    rows = [
        reference_row(2, ejertype="Andet"),
        reference_row(2, ejertype="Kommune"),
        reference_row(2, ejertype=" Selvejende "),
    ]
    ex = load(table2(tmp_path, rows))
    assert ex.tables[2]["ejertype"].tolist() == ["Andet", "Kommune", "Selvejende"]
    message = text("load.unknown_owner_type")
    assert cell_warnings(ex) == [
        Problem(T2, 2, "Ejertype", "Andet", message),
        Problem(T2, 4, "Ejertype", "Selvejende", message),
    ]


# --- Formulas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_formula_without_a_stored_result_is_a_warning_and_a_missing_value(tmp_path, engine):
    rows = [
        reference_row(2, antal="=1+2"),
        reference_row(2, seneste="=DATE(2024,6,1)"),
        reference_row(2),
    ]
    ex = load(table2(tmp_path, rows), engine=engine)

    df = ex.tables[2]
    assert df[ROW].tolist() == [2, 3, 4]
    assert values(df["antal"]) == [None, 3, 3]
    assert df["seneste"].isna().tolist() == [False, True, False]
    assert cell_warnings(ex) == [
        formula_warning(T2, 2, "Antal meddelelser", "=1+2", "N2"),
        formula_warning(T2, 3, "Seneste meddelelse", "=DATE(2024,6,1)", "O3"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_row_of_only_formulas_without_results_is_kept(tmp_path, engine):
    rows = [reference_row(2), {"A": "=A2", "D": '="Aarhus "&"Kommune"'}]
    ex = load(table2(tmp_path, rows), engine=engine)

    assert ex.tables[2][ROW].tolist() == [2, 3]
    assert cell_warnings(ex) == [
        Problem(T2, 3, "Lokationsnummer", None, text("load.gln_missing")),
        formula_warning(T2, 3, "Lokationsnummer", "=A2", "A3"),
        Problem(T2, 3, "Ejer", None, text("load.owner_missing")),
        formula_warning(T2, 3, "Ejer", '="Aarhus "&"Kommune"', "D3"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stored_formula_result_is_the_value(tmp_path, engine):
    rows = [reference_row(2, antal="=2+3", ejer="=F2")]
    path = table2(tmp_path, rows)
    saved_by_excel(path, {"N2": ("2+3", "5", None), "D2": ("F2", "Region Midtjylland", "str")})

    ex = load(path, engine=engine)
    assert ex.tables[2]["antal"].tolist() == [5]
    assert ex.tables[2]["ejer"].tolist() == ["Region Midtjylland"]
    assert cell_warnings(ex) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_placeholder_results_of_a_workbook_marked_for_recalculation_are_not_used(tmp_path, engine):
    # XlsxWriter stores 0 as every formula's result and marks the workbook fullCalcOnLoad.
    path = table2(tmp_path, [reference_row(2, antal="=SUM(L2:M2)")])
    edit_xml(
        path,
        "xl/worksheets/sheet1.xml",
        [(b'<c r="N2"><f>SUM(L2:M2)</f><v /></c>', b'<c r="N2"><f>SUM(L2:M2)</f><v>0</v></c>')],
    )
    ex = load(path, engine=engine)
    assert values(ex.tables[2]["antal"]) == [None]
    assert cell_warnings(ex) == [formula_warning(T2, 2, "Antal meddelelser", "=SUM(L2:M2)", "N2")]


def test_a_shared_formula_follower_is_named_by_its_own_formula(tmp_path):
    path = table2(tmp_path, [reference_row(2, antal="=L2+1"), reference_row(2, antal="=L3+1")])
    # Excel writes a formula filled down as a master and followers that refer to it.
    edit_xml(
        path,
        "xl/worksheets/sheet1.xml",
        [
            (b"<f>L2+1</f>", b'<f t="shared" ref="N2:N3" si="0">L2+1</f>'),
            (b"<f>L3+1</f>", b'<f t="shared" si="0" />'),
        ],
    )
    ex = load(path)
    assert cell_warnings(ex) == [
        formula_warning(T2, 2, "Antal meddelelser", "=L2+1", "N2"),
        formula_warning(T2, 3, "Antal meddelelser", "=L3+1", "N3"),
    ]


def test_formulas_are_found_when_the_workbook_names_its_sheets_by_relative_path(tmp_path):
    # openpyxl gives the sheets' parts as absolute paths in the workbook's relationships, Excel
    # as paths relative to the workbook part.
    path = table2(tmp_path, [reference_row(2, antal="=1+2")])
    edit_xml(
        path,
        "xl/_rels/workbook.xml.rels",
        [(b'Target="/xl/worksheets/sheet1.xml"', b'Target="worksheets/sheet1.xml"')],
    )
    ex = load(path)
    assert cell_warnings(ex) == [formula_warning(T2, 2, "Antal meddelelser", "=1+2", "N2")]


def test_a_formula_without_a_result_in_the_info_sheet_warns(tmp_path):
    info = [["Udtræksdato", "=TODAY()"], ["Periode", "2024-06"]]
    ex = load(table2(tmp_path, [reference_row(2)], info=info))
    assert (ex.info.extract_date, ex.info.period) == (None, "2024-06")
    assert cell_warnings(ex) == [formula_warning("Info", 1, "Udtræksdato", "=TODAY()", "B1")]


# --- Plausibility ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_negative_counts_warn_and_become_missing(tmp_path, engine):
    rows = [reference_row(2, antal=v) for v in (-5, "-3", 0, "4")]
    ex = load(table2(tmp_path, rows), engine=engine)
    assert values(ex.tables[2]["antal"]) == [None, None, 0, 4]
    assert ex.tables[2][ROW].tolist() == [2, 3, 4, 5]
    message = text("load.negative_count")
    assert cell_warnings(ex) == [
        Problem(T2, 2, "Antal meddelelser", "-5", message),
        Problem(T2, 3, "Antal meddelelser", "-3", message),
    ]


def test_dates_outside_1990_to_a_year_after_the_extract_date_warn(tmp_path):
    dates = [
        dt.datetime(1989, 12, 31),
        dt.datetime(1990, 1, 1),
        dt.datetime(2025, 7, 2, 23, 59),
        dt.datetime(2025, 7, 3),
        "01-01-0001",
        "2099-12-31",
    ]
    info = [["Udtræksdato", dt.datetime(2024, 7, 2)]]
    ex = load(table2(tmp_path, [reference_row(2, lukket_dato=d) for d in dates], info=info))

    df = ex.tables[2]
    assert len(df) == 6
    assert df["lukket_dato"].tolist()[1:3] == [
        pd.Timestamp(1990, 1, 1),
        pd.Timestamp(2025, 7, 2, 23, 59),
    ]
    assert df["lukket_dato"].isna().tolist() == [True, False, False, True, True, True]
    message = text("load.implausible_date", first="1990-01-01", last="2025-07-02")
    assert cell_warnings(ex) == [
        Problem(T2, 2, "Lukket dato", "1989-12-31", message),
        Problem(T2, 5, "Lukket dato", "2025-07-03", message),
        Problem(T2, 6, "Lukket dato", "01-01-0001", message),
        Problem(T2, 7, "Lukket dato", "2099-12-31", message),
    ]


def _a_year_after(day: dt.date) -> dt.date:
    return day.replace(year=day.year + 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


def test_without_an_extract_date_dates_are_bounded_by_today(tmp_path):
    last = _a_year_after(dt.date.today())
    dates = [last.strftime("%d-%m-%Y"), (last + dt.timedelta(days=1)).strftime("%d-%m-%Y")]
    ex = load(table2(tmp_path, [reference_row(2, seneste=d) for d in dates]))

    assert ex.info.extract_date is None
    assert ex.tables[2]["seneste"].isna().tolist() == [False, True]
    message = text("load.implausible_date", first="1990-01-01", last=f"{last:%Y-%m-%d}")
    assert cell_warnings(ex) == [Problem(T2, 3, "Seneste meddelelse", dates[1], message)]


def test_an_implausible_extract_date_is_not_used(tmp_path):
    info = [["Udtræksdato", "01-01-2099"]]
    ex = load(table2(tmp_path, [reference_row(2, seneste="01-01-2098")], info=info))

    assert ex.info.extract_date is None
    last = _a_year_after(dt.date.today())
    message = text("load.implausible_date", first="1990-01-01", last=f"{last:%Y-%m-%d}")
    assert cell_warnings(ex) == [
        Problem("Info", 1, "Udtræksdato", "01-01-2099", message),
        Problem(T2, 2, "Seneste meddelelse", "01-01-2098", message),
    ]


# --- Encodings ---------------------------------------------------------------------------------


def test_a_utf8_csv_with_one_stray_windows_1252_byte_stays_utf8_with_a_warning(tmp_path):
    folder = tmp_path / "udtraek"
    folder.mkdir()
    content = (
        b"Lokationsnummer;Enhedsnavn;Ejer\r\n"
        + f"{GLN_AARHUS};Plejecenter Søndersø;Furesø Kommune\r\n".encode()
        + f"{GLN_ODENSE};Tandplejen V".encode()
        + b"\xe6"  # æ in Windows-1252: invalid in UTF-8
        + "rløse;Furesø Kommune\r\n".encode()
    )
    (folder / "1 Aktive.csv").write_bytes(content)
    ex = load(folder)

    df = ex.tables[1]
    assert df["ejer"].tolist() == ["Furesø Kommune", "Furesø Kommune"]
    assert df["enhedsnavn"].tolist() == ["Plejecenter Søndersø", "Tandplejen V\ufffdrløse"]
    line = f"{GLN_ODENSE};Tandplejen V\ufffdrløse;Furesø Kommune"
    message = text("load.csv_mixed_encoding", line=3)
    assert [w for w in ex.warnings if w.sheet] == [
        Problem("1 Aktive.csv", 3, None, line, message),
        *[w for w in ex.warnings if w.sheet and w.row is None],
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_mojibake_in_names_is_a_warning(tmp_path, engine):
    rows = [
        reference_row(2, ejer="FuresÃ¸ Kommune", modpart="Ã˜lstykke Lægehus"),
        reference_row(2, ejer="Furesø Kommune"),
    ]
    ex = load(table2(tmp_path, rows), engine=engine)

    assert ex.tables[2]["ejer"].tolist() == ["FuresÃ¸ Kommune", "Furesø Kommune"]
    assert cell_warnings(ex) == [
        Problem(T2, 2, "Ejer", "FuresÃ¸ Kommune", text("load.mojibake", meant="Furesø Kommune")),
        Problem(
            T2, 2, "Afsender", "Ã˜lstykke Lægehus", text("load.mojibake", meant="Ølstykke Lægehus")
        ),
    ]


# --- Bounded reading ---------------------------------------------------------------------------

_LOAD_AND_MEASURE = """
import json, resource, sys
from soredi_nb.load import load_extract
out = {}
for engine in ("calamine", "openpyxl"):
    ex = load_extract(sys.argv[1], engine=engine, cache=False)
    df = ex.tables[1]
    out[engine] = {
        "rows": df["excel_row"].tolist(),
        "extra": {
            c: df[c].astype(object).where(df[c].notna(), None).tolist()
            for c in df.columns[df.columns.get_loc("excel_row") + 1 :]
        },
        "warnings": [w.to_dict() for w in ex.warnings if w.row is not None],
    }
try:  # VmHWM: ru_maxrss of a child process starts at its parent's peak on Linux
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # bytes on macOS
out["peak_mb"] = peak
print(json.dumps(out))
"""


def load_in_a_process(path):
    """Load with each engine in a fresh Python: a reader that allocates by the far cell aborts
    that process (calamine, exit 134), not the test run."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("row", "column", "letters"), [(1048576, 16384, "XFD"), (100000, 702, "ZZ")]
)
def test_a_stray_far_cell_is_one_more_row_and_costs_no_memory(tmp_path, row, column, letters):
    path = make_workbook(
        tmp_path / "udtraek.xlsx",
        {"1 Aktive": [["Lokationsnummer", "Ejer"], [GLN_AARHUS, "Aarhus Kommune"]]},
    )

    wb = openpyxl.load_workbook(path)
    wb["1 Aktive"].cell(row=row, column=column, value="x")
    wb.save(path)

    result = load_in_a_process(path)

    # Reading the workbook costs the interpreter and pandas, not the 17 G (or 70 M) cells of
    # the rectangle up to the far cell: 2.9 GB for ZZ100000 before.
    assert result.pop("peak_mb") < 400
    expected = {
        "rows": [2, row],
        "extra": {f"Kolonne {letters}": [None, "x"]},
        "warnings": [
            Problem("1 Aktive", row, "Lokationsnummer", None, text("load.gln_missing")).to_dict(),
            Problem("1 Aktive", row, "Ejer", None, text("load.owner_missing")).to_dict(),
        ],
    }
    assert result == {"calamine": expected, "openpyxl": expected}


def test_a_stray_cell_beside_the_header_does_not_widen_every_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1 Aktive"
    ws.append(["Lokationsnummer", "Ejer"])
    for _ in range(5000):
        ws.append([GLN_AARHUS, "Aarhus Kommune"])
    ws.cell(row=1, column=16384, value="x")
    path = tmp_path / "udtraek.xlsx"
    wb.save(path)

    result = load_in_a_process(path)

    # 5000 rows as wide as column XFD would be 82 M cells, over 600 MB.
    assert result.pop("peak_mb") < 400
    expected = {"rows": list(range(2, 5002)), "extra": {"x": [None] * 5000}, "warnings": []}
    assert result == {"calamine": expected, "openpyxl": expected}


def test_calamine_reads_a_normal_sheet_itself(reference_workbook, monkeypatch):
    # The fast reader stays in use for normal sheets; only a sheet it cannot size goes to openpyxl.
    def no_openpyxl(path):
        raise AssertionError("openpyxl was used")

    monkeypatch.setattr(readers, "_open_openpyxl", no_openpyxl)
    ex = load(reference_workbook, engine="calamine")
    assert sorted(ex.tables) == list(range(1, 8))
    assert re.fullmatch(r"\d{13}", ex.tables[1]["lokationsnummer"].iloc[0])
