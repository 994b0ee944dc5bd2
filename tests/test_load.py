"""Tests of the loader: every rule of extract-format.md, on workbooks built in tmp_path."""

from __future__ import annotations

import datetime as dt
import zipfile
from importlib.resources import files

import openpyxl
import pandas as pd
import pytest
import yaml
from conftest import (
    AARHUS,
    GLN_AARHUS,
    GLN_BAD,
    GLN_CLINIC,
    GLN_ODENSE,
    IDENTITY,
    make_csv_folder,
    make_workbook,
    reference_header,
    reference_row,
    reference_sheets,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soredi_nb import cells, schema
from soredi_nb.exceptions import ExtractError
from soredi_nb.extract import ROW, Problem
from soredi_nb.load import load_extract, normalise_header, read_aliases, table_number
from soredi_nb.texts import text
from soredi_nb.validate import gln_check_digit

ENGINES = ["calamine", "openpyxl"]
T1 = "1 Aktive"  # a short sheet name for table 1


def load(path, **kwargs):
    """Load without the cache, so each test exercises the parser."""
    return load_extract(path, cache=False, **kwargs)


def table1(tmp_path, rows, header=None, name="t1.xlsx", **kwargs):
    """Load a workbook whose only sheet is table 1 with ``rows`` under ``header``."""
    path = make_workbook(tmp_path / name, {T1: [header or reference_header(1), *rows]})
    return load(path, **kwargs)


def findings(ex) -> list[Problem]:
    """The warnings about single cells (those with a row number)."""
    return [w for w in ex.warnings if w.row is not None]


def bad(kind: str) -> str:
    """The warning message of a value that could not be read as ``kind``."""
    return text("load.bad_value", kind=text(f"load.kinds.{kind}"))


# --- The reference layout ----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_reference_workbook_loads_every_table_with_exact_values(reference_workbook, engine):
    ex = load(reference_workbook, engine=engine)

    assert sorted(ex.tables) == list(range(1, 8))
    assert ex.missing == []
    assert ex.warnings == []
    assert ex.sheets[2] == "2 Lukkede lokationsnumre med in"
    assert ex.info.file == str(reference_workbook)
    assert ex.info.period == "2024-06"
    assert ex.info.extract_date == dt.date(2024, 7, 2)
    t2 = ex.tables[2]
    assert list(t2.columns) == [*schema.table(2).columns, ROW]
    assert t2.iloc[0].to_dict() == {
        **dict(zip(schema.identity_columns(), AARHUS, strict=True)),
        "lukket_dato": pd.Timestamp(2024, 1, 31),
        "meddelelsestype": "XDIS91",
        "modpart_lokationsnummer": GLN_ODENSE,
        "modpart": "Odense Kommune",
        "antal": 3,
        "seneste": pd.Timestamp(2024, 6, 1),
        ROW: 4,  # title row, blank row, header row
    }
    assert t2.dtypes.to_dict() == {
        **{c: "str" for c in schema.identity_columns()},
        "lukket_dato": "datetime64[us]",
        "meddelelsestype": "str",
        "modpart_lokationsnummer": "str",
        "modpart": "str",
        "antal": "Int64",
        "seneste": "datetime64[us]",
        ROW: "int64",
    }
    assert ex.tables[6][["antal", "antal_i_alt", "fejlkode"]].iloc[0].tolist() == [
        3,
        10,
        "MSG_Receiver_Identifier_UNKNOWN",
    ]


# --- Sheets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "number"),
    [
        ("1 Aktive lokationsnumre uden in", 1),
        ("Tabel 2", 2),
        ("3. Lukkede lokationsnumre", 3),
        ("Tabel 4 - ikke godkendte", 4),
        ("  Tbl5", 5),
        ("tabel 6", 6),
        ("7", 7),
        ("2_lukkede-med-indgaaende-trafik.csv", 2),
        ("Aktive lokationsnumre uden ind", 1),
        ("Lukkede lokationsnumre med udg", 3),
        ("Afsendte negative kvitteringer", 7),
        ("Modtagne meddelelsestyper, der ikke er registreret som indgående.csv", 5),
        ("Forside", None),
        ("Vejledning", None),
        ("Info", None),
        ("8 Noget andet", None),
        ("12 maj", None),
        ("2024 oversigt", None),
        ("Tabeller", None),
        ("Lukkede lokationsnumre", None),  # tables 2 and 3 both start so
        # The guide's own titles, as Excel cuts sheet names to 31 characters.
        ("Aktive lokationsnumre uden indg", 1),
        ("Lokationsnumre med indgående me", 4),
        ("Lokationsnumre, som får tilsend", 5),
        ("Lokationsnumre, som har modtage", 6),
        ("Lokationsnumre, som har afsendt", 7),
        ("Lokationsnumre, som har", None),  # tables 6 and 7 both start so
    ],
)
def test_sheet_name_matching(sheet, number):
    assert table_number(sheet) == number


def test_sheets_named_by_the_guides_titles_are_all_found(tmp_path):
    sheets = {}
    for n, t in schema.tables().items():
        sheets[t.guide_title[:31]] = [reference_header(n), reference_row(n)]
    extract = load_extract(make_workbook(tmp_path / "guide.xlsx", sheets), cache=False)
    assert sorted(extract.tables) == list(range(1, 8))
    assert all(len(df) == 1 for df in extract.tables.values())
    assert extract.sheets[4] == "Lokationsnumre med indgående me"


def test_non_table_sheets_are_ignored_and_sheet_names_recorded(tmp_path):
    path = make_workbook(
        tmp_path / "x.xlsx",
        {
            "Forside": [["Lokationsnummer"], ["Dette er forsiden"]],
            "Tabel 3": [reference_header(3), reference_row(3)],
            "Vejledning": [["Sådan bruges udtrækket"]],
            "Aktive lokationsnumre uden ind": [reference_header(1), reference_row(1)],
        },
    )
    ex = load(path)
    assert ex.sheets == {1: "Aktive lokationsnumre uden ind", 3: "Tabel 3"}
    assert ex.missing == [2, 4, 5, 6, 7]


def test_missing_tables_warn_once_each_and_the_rest_loads(tmp_path):
    path = make_workbook(tmp_path / "x.xlsx", {"Tabel 2": [reference_header(2), reference_row(2)]})
    ex = load(path)
    assert ex.missing == [1, 3, 4, 5, 6, 7]
    assert ex.table(1) is None
    assert len(ex.tables[2]) == 1
    assert ex.warnings == [
        Problem(None, None, None, None, text("common.missing_table", number=n))
        for n in (1, 3, 4, 5, 6, 7)
    ]


def test_header_only_table_is_present_with_no_rows(tmp_path):
    ex = table1(tmp_path, [])
    assert 1 in ex.tables and 1 not in ex.missing
    df = ex.tables[1]
    assert len(df) == 0
    assert list(df.columns) == [*schema.table(1).columns, ROW]
    assert df["oprettet"].dtype == "datetime64[us]"
    assert df["lokationsnummer"].dtype == "str"


def test_completely_empty_table_sheet_counts_as_missing(tmp_path):
    path = make_workbook(tmp_path / "x.xlsx", {"1 Aktive": [], "Tabel 2": [reference_header(2)]})
    ex = load(path)
    assert ex.missing == [1, 3, 4, 5, 6, 7]
    assert ex.warnings[0] == Problem(
        "1 Aktive", None, None, None, text("load.empty_sheet", number=1)
    )


def test_duplicate_table_sheet_warns_and_the_first_is_used(tmp_path):
    path = make_workbook(
        tmp_path / "x.xlsx",
        {
            "1 Aktive": [reference_header(1), reference_row(1, GLN_AARHUS)],
            "Tabel 1 (kopi)": [reference_header(1), reference_row(1, GLN_ODENSE)],
        },
    )
    ex = load(path)
    assert ex.sheets[1] == "1 Aktive"
    assert ex.tables[1]["lokationsnummer"].tolist() == [GLN_AARHUS]
    message = text("load.duplicate_sheet", number=1, first="1 Aktive")
    assert Problem("Tabel 1 (kopi)", None, None, None, message) in ex.warnings


# --- Header row --------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_title_rows_and_merged_cells_above_header_and_offset_used_range(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tabel 1"
    ws["C2"] = "SOR-EDI-kvalitetsudtræk: Aktive lokationsnumre uden indgående meddelelsestyper"
    ws.merge_cells("C2:H3")
    ws["C4"] = "Udtrukket 2. juli 2024"
    for col, header in enumerate(["Lokationsnummer", "Ejer", "Oprettet"], start=3):
        ws.cell(row=6, column=col, value=header)
    ws["C7"], ws["D7"], ws["E7"] = 5790000123117, "Aarhus Kommune", dt.datetime(2023, 5, 1)
    ws["C10"], ws["D10"] = "5790002407314", "Odense Kommune"
    wb.save(path)

    df = load(path, engine=engine).tables[1]
    assert df[ROW].tolist() == [7, 10]
    assert df["lokationsnummer"].tolist() == [GLN_AARHUS, GLN_ODENSE]
    assert df["oprettet"].iloc[0] == pd.Timestamp(2023, 5, 1)
    assert pd.isna(df["oprettet"].iloc[1])


def test_header_beyond_row_15_is_not_found(tmp_path):
    path = make_workbook(tmp_path / "x.xlsx", {T1: [[]] * 15 + [["Lokationsnummer"], [GLN_AARHUS]]})
    with pytest.raises(ExtractError, match="Lokationsnummer|lokationsnummer"):
        load(path)


def test_header_in_row_15_is_found(tmp_path):
    path = make_workbook(tmp_path / "x.xlsx", {T1: [[]] * 14 + [["Lokationsnummer"], [GLN_AARHUS]]})
    assert load(path).tables[1][ROW].tolist() == [16]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("LOKATIONSNUMMER", "lokationsnummer"),
        ("  Lok.nr. ", "lokationsnummer"),
        ("GLN", "lokationsnummer"),
        ("sor_kode:", "sor_kode"),
        ("SOR ID", "sor_kode"),
        ("It-leverandoer", "it_leverandoer"),
        ("IT leverandør", "it_leverandoer"),
        ("Systemleverandor", "it_leverandoer"),
        ("Ejer\xa0navn", "ejer"),
        ("Oprettet  dato", "oprettet"),
        ("ｏｐｒｅｔｔｅｔ", "oprettet"),  # full-width letters: NFKC
        ("Gyldig/fra", "oprettet"),
    ],
)
def test_header_variants_map_to_canonical_columns(tmp_path, header, column):
    value = {
        "lokationsnummer": GLN_ODENSE,
        "sor_kode": "311000016009",
        "it_leverandoer": "Systematic",
        "ejer": "Odense Kommune",
        "oprettet": dt.datetime(2022, 1, 3),
    }[column]
    headers = ["Lokationsnummer", header] if column != "lokationsnummer" else [header]
    rows = [[GLN_ODENSE, value] if column != "lokationsnummer" else [value]]
    df = table1(tmp_path, rows, header=headers).tables[1]
    assert df[column].iloc[0] == value
    assert list(df.columns) == [*schema.table(1).columns, ROW]  # nothing left over as unknown


def test_normalise_header():
    assert normalise_header(" It-Leverandør ") == "itleverandoer"
    assert normalise_header("ÆRØ_kø/by.nr: x") == "aeroekoebynrx"
    assert normalise_header("Antal\nmeddelelser") == "antalmeddelelser"
    assert normalise_header("Åben") == normalise_header("aaben")


def test_no_location_column_is_fatal_naming_file_sheet_and_headers(tmp_path):
    path = make_workbook(
        tmp_path / "udtraek.xlsx",
        {
            "Tabel 2": [
                ["Oversigt"],
                ["Nummer", "Ejer", "Antal"],
                [GLN_AARHUS, "Aarhus Kommune", 3],
            ],
        },
    )
    with pytest.raises(ExtractError) as err:
        load(path)
    message = str(err.value)
    assert str(path) in message
    assert "'Tabel 2'" in message
    assert "'Nummer', 'Ejer', 'Antal'" in message


# --- Cells -------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_location_numbers_from_every_cell_form(tmp_path, engine):
    forms = [
        5790000123117,
        5790000123117.0,
        5.790000123117e12,
        "5790000123117",
        "\xa05790000123117 ",
        "5790000123117.0",
        "579 000 012 3117",
        "5,790000123117E+12",
    ]
    ex = table1(tmp_path, [[v] for v in forms], header=["Lokationsnummer"], engine=engine)
    assert ex.tables[1]["lokationsnummer"].tolist() == [GLN_AARHUS] * len(forms)
    assert findings(ex) == []


def test_sor_ids_are_digit_text_never_floats(tmp_path):
    rows = [
        [GLN_AARHUS, 311000016009],
        [GLN_AARHUS, 937961000016000.0],
        [GLN_AARHUS, " 12345678901 "],
    ]
    df = table1(tmp_path, rows, header=["Lokationsnummer", "SOR-kode"]).tables[1]
    assert df["sor_kode"].tolist() == ["311000016009", "937961000016000", "12345678901"]


@pytest.mark.parametrize("engine", ENGINES)
def test_dates_from_every_form(tmp_path, engine):
    forms = [
        dt.datetime(2024, 3, 1),
        dt.date(2024, 3, 1),
        "2024-03-01",
        "01-03-2024",
        "1.3.2024",
        " 01.03.2024 ",
        45352,
        "2024-03-01 00:00:00",
    ]
    rows = [[GLN_AARHUS, v] for v in forms] + [[GLN_AARHUS, "01-03-2024 13:45"]]
    ex = table1(tmp_path, rows, header=["Lokationsnummer", "Oprettet"], engine=engine)
    assert ex.tables[1]["oprettet"].tolist() == [pd.Timestamp(2024, 3, 1)] * len(forms) + [
        pd.Timestamp(2024, 3, 1, 13, 45)
    ]
    assert findings(ex) == []


def test_unconvertible_date_warns_becomes_missing_and_keeps_the_row(tmp_path):
    rows = [[GLN_AARHUS, "31-02-2024"], [GLN_ODENSE, "snart"], [GLN_CLINIC, "2024-01-15"]]
    ex = table1(tmp_path, rows, header=["Lokationsnummer", "Oprettet dato"])
    df = ex.tables[1]
    assert df["lokationsnummer"].tolist() == [GLN_AARHUS, GLN_ODENSE, GLN_CLINIC]
    assert df["oprettet"].isna().tolist() == [True, True, False]
    assert findings(ex) == [
        Problem(T1, 2, "Oprettet dato", "31-02-2024", bad("date")),
        Problem(T1, 3, "Oprettet dato", "snart", bad("date")),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_integers_from_text_floats_and_danish_separators(tmp_path, engine):
    forms = [12, 12.0, "12", " 12 ", "12,0", "12.0", "1.234", "1.234,00", "1\xa0234"]
    rows = [reference_row(2, antal=v) for v in forms] + [reference_row(2, antal="12,5")]
    path = make_workbook(tmp_path / "x.xlsx", {"Tabel 2": [reference_header(2), *rows]})
    ex = load(path, engine=engine)
    assert ex.tables[2]["antal"].tolist() == [12] * 6 + [1234] * 3 + [pd.NA]
    assert findings(ex) == [Problem("Tabel 2", 11, "Antal meddelelser", "12,5", bad("int"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_blank_rows_are_skipped_and_row_numbers_stay_exact(tmp_path, engine):
    rows = [[GLN_AARHUS], [], [None, None], ["", " ", "\xa0"], [GLN_ODENSE], [], [GLN_CLINIC]]
    path = make_workbook(tmp_path / "x.xlsx", {T1: [["Titel"], ["Lokationsnummer"], *rows]})
    df = load(path, engine=engine).tables[1]
    assert df["lokationsnummer"].tolist() == [GLN_AARHUS, GLN_ODENSE, GLN_CLINIC]
    assert df[ROW].tolist() == [3, 7, 9]


def test_owner_names_are_trimmed_and_collapsed_and_owner_type_derived(tmp_path):
    owners = [
        "  Aarhus\xa0\xa0Kommune ",
        "Region  Midtjylland",
        "aarhus kommune",
        "Bornholms Regionskommune",
        "Lægehuset Åbyhøj ApS",
        None,
    ]
    df = table1(
        tmp_path, [[GLN_AARHUS, o] for o in owners], header=["Lokationsnummer", "Ejer"]
    ).tables[1]
    assert df["ejer"].tolist()[:5] == [
        "Aarhus Kommune",
        "Region Midtjylland",
        "aarhus kommune",
        "Bornholms Regionskommune",
        "Lægehuset Åbyhøj ApS",
    ]
    assert df["ejertype"].tolist()[:5] == ["Kommune", "Region", "Kommune", "Kommune", "Privat"]
    assert pd.isna(df["ejer"].iloc[5]) and pd.isna(df["ejertype"].iloc[5])


def test_owner_type_column_when_present_is_kept_in_canonical_spelling(tmp_path):
    rows = [
        [GLN_AARHUS, "Aarhus Kommune", " kommune"],
        [GLN_ODENSE, "Xyz", "PRIVAT"],
        [GLN_CLINIC, "Aarhus Kommune", "Andet"],
    ]
    df = table1(tmp_path, rows, header=["Lokationsnummer", "Ejer", "Ejertype"]).tables[1]
    assert df["ejertype"].tolist() == ["Kommune", "Privat", "Andet"]


def test_danish_letters_and_text_cells(tmp_path):
    rows = [[GLN_AARHUS, "  Sundhed og Omsorg,  Ældrepleje ", "Æbeløs Ø-sygehus", "FEJL-ÅØ", 42]]
    header = ["Lokationsnummer", "Enhedsnavn", "Modpart", "Fejlkode", "Meddelelsestype"]
    path = make_workbook(tmp_path / "x.xlsx", {"Tabel 6": [header, *rows]})
    row = load(path).tables[6].iloc[0]
    assert row["enhedsnavn"] == "Sundhed og Omsorg,  Ældrepleje"  # text: trimmed only
    assert row["modpart"] == "Æbeløs Ø-sygehus"
    assert row["fejlkode"] == "FEJL-ÅØ"
    assert row["meddelelsestype"] == "42"


def test_unknown_columns_are_kept_after_excel_row_under_their_header(tmp_path):
    header = ["Lokationsnummer", "Bemærkning", "Oprettet", None, None, "Bemærkning"]
    rows = [
        [GLN_AARHUS, "tjek", dt.datetime(2024, 1, 2), None, 7, dt.datetime(2024, 5, 6)],
        [GLN_ODENSE, None, None, None, None, 12.0],
    ]
    df = table1(tmp_path, rows, header=header).tables[1]
    assert list(df.columns) == [
        *schema.table(1).columns,
        ROW,
        "Bemærkning",
        "Kolonne E",
        "Bemærkning (2)",
    ]
    assert df["Bemærkning"].tolist()[0] == "tjek" and pd.isna(df["Bemærkning"].iloc[1])
    assert df["Kolonne E"].tolist()[0] == "7"
    assert df["Bemærkning (2)"].tolist() == ["2024-05-06", "12"]
    assert all(df[c].dtype == "str" for c in ["Bemærkning", "Kolonne E", "Bemærkning (2)"])


def test_canonical_column_of_another_table_is_kept_as_unknown(tmp_path):
    df = table1(tmp_path, [[GLN_AARHUS, "XDIS91"]], header=["Lokationsnummer", "Meddelelsestype"])
    assert df.tables[1]["Meddelelsestype"].tolist() == ["XDIS91"]


def test_second_column_for_the_same_field_warns_and_is_kept(tmp_path):
    ex = table1(tmp_path, [[GLN_AARHUS, GLN_ODENSE]], header=["Lokationsnummer", "GLN"])
    assert ex.tables[1]["lokationsnummer"].tolist() == [GLN_AARHUS]
    assert ex.tables[1]["GLN"].tolist() == [GLN_ODENSE]
    message = text("load.duplicate_column", first="Lokationsnummer")
    assert Problem(T1, None, "GLN", None, message) in ex.warnings


def test_missing_expected_columns_warn_except_optional_ones(tmp_path):
    path = make_workbook(
        tmp_path / "x.xlsx", {"Tabel 6": [["Lokationsnummer", "Antal"], [GLN_AARHUS, 2]]}
    )
    ex = load(path)
    missing = [w.column for w in ex.warnings if w.sheet == "Tabel 6"]
    assert missing == [
        *["SOR-kode", "Enhedsnavn", "Ejer", "Region", "Kommune", "It-system", "It-leverandør"],
        *["Meddelelsestype", "Modpart lokationsnummer", "Modpart"],
    ]
    messages = {w.column: w.message for w in ex.warnings if w.sheet}
    assert messages.pop("Ejer") == text("load.owner_column_missing", rows=1)
    assert set(messages.values()) == {text("load.missing_column")}
    df = ex.tables[6]
    assert df["enhedsnavn"].isna().all() and df["antal_i_alt"].dtype == "Int64"


# --- Location-number findings ------------------------------------------------------------------


def test_invalid_check_digit_warns_with_exact_location_and_keeps_the_row(tmp_path):
    rows = [
        reference_row(2, GLN_AARHUS),
        reference_row(2, GLN_BAD),
        reference_row(2, GLN_AARHUS, modpart_lokationsnummer=5790002407315),
    ]
    path = make_workbook(tmp_path / "x.xlsx", {"Tabel 2": [["Titel"], reference_header(2), *rows]})
    ex = load(path)
    df = ex.tables[2]
    assert df["lokationsnummer"].tolist() == [GLN_AARHUS, GLN_BAD, GLN_AARHUS]
    assert df["modpart_lokationsnummer"].tolist()[2] == "5790002407315"
    assert findings(ex) == [
        Problem("Tabel 2", 4, "Lokationsnummer", GLN_BAD, text("load.gln_check_digit")),
        Problem(
            "Tabel 2", 5, "Afsender lokationsnummer", "5790002407315", text("load.gln_check_digit")
        ),
    ]


def test_location_numbers_not_13_digits_or_missing_or_unreadable(tmp_path):
    rows = [["579000012311", "a"], [None, "b"], ["ukendt", "c"], [57900001231170, "d"]]
    ex = table1(tmp_path, rows, header=["Lokationsnummer", "Enhedsnavn"])
    df = ex.tables[1]
    assert df["enhedsnavn"].tolist() == ["a", "b", "c", "d"]
    assert df["lokationsnummer"].tolist()[0] == "579000012311"
    assert pd.isna(df["lokationsnummer"].iloc[1]) and pd.isna(df["lokationsnummer"].iloc[2])
    assert df["lokationsnummer"].tolist()[3] == "57900001231170"
    assert findings(ex) == [
        Problem(T1, 2, "Lokationsnummer", "579000012311", text("load.gln_length", digits=12)),
        Problem(T1, 3, "Lokationsnummer", None, text("load.gln_missing")),
        Problem(T1, 4, "Lokationsnummer", "ukendt", bad("gln")),
        Problem(T1, 5, "Lokationsnummer", "57900001231170", text("load.gln_length", digits=14)),
    ]


def _gln(first12: int) -> str:
    digits = f"{first12:012d}"
    return digits + str(gln_check_digit(digits))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.integers(min_value=10**11, max_value=10**12 - 1).map(_gln), min_size=1, max_size=20)
)
def test_any_valid_gln_as_a_number_cell_round_trips_exactly(tmp_path, glns):
    rows = [[int(g), float(g)] for g in glns]
    path = make_workbook(tmp_path / "h.xlsx", {T1: [["Lokationsnummer", "Modpart GLN"], *rows]})
    for engine in ENGINES:
        ex = load(path, engine=engine)
        df = ex.tables[1]
        assert df["lokationsnummer"].tolist() == glns
        assert df["Modpart GLN"].tolist() == glns  # an unknown column renders numbers the same
        assert findings(ex) == []


# --- Info sheet --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "period", "extract_date"),
    [
        (
            [["Udtræksdato", dt.datetime(2024, 7, 2)], ["Periode", "2024-06"]],
            "2024-06",
            dt.date(2024, 7, 2),
        ),
        (
            [
                ["Nøgle", "Værdi"],
                ["udtraeksdato", "02-07-2024"],
                [None, "Periode", dt.datetime(2024, 6, 1)],
            ],
            "2024-06",
            dt.date(2024, 7, 2),
        ),
        ([["PERIODE", "2024-6"]], "2024-06", None),
        ([["Andet", "x"]], None, None),
    ],
)
def test_info_sheet(tmp_path, rows, period, extract_date):
    path = make_workbook(tmp_path / "x.xlsx", {"Info": rows, T1: [reference_header(1)]})
    ex = load(path)
    assert (ex.info.period, ex.info.extract_date) == (period, extract_date)


def test_unreadable_info_values_warn(tmp_path):
    path = make_workbook(
        tmp_path / "x.xlsx",
        {"Info": [["Udtræksdato", "i går"], ["Periode", "2024-13"]], T1: [reference_header(1)]},
    )
    ex = load(path)
    assert (ex.info.period, ex.info.extract_date) == (None, None)
    assert ex.warnings[:2] == [
        Problem("Info", 1, "Udtræksdato", "i går", bad("date")),
        Problem("Info", 2, "Periode", "2024-13", bad("period")),
    ]


def test_no_info_sheet_gives_no_period(reference_workbook, tmp_path):
    sheets = reference_sheets()
    del sheets["Info"]
    ex = load(make_workbook(tmp_path / "x.xlsx", sheets))
    assert (ex.info.period, ex.info.extract_date) == (None, None)


# --- Fatal errors ------------------------------------------------------------------------------


def _assert_fatal(path, key=None, **kwargs):
    with pytest.raises(ExtractError) as err:
        load(path, **kwargs)
    assert str(path) in str(err.value)
    if key:
        assert str(err.value) == text(key, file=path)
    return str(err.value)


def test_missing_file(tmp_path):
    _assert_fatal(tmp_path / "findes-ikke.xlsx", "load.file_missing")


@pytest.mark.parametrize("engine", [None, *ENGINES])
def test_text_file_named_xlsx(tmp_path, engine):
    path = tmp_path / "udtraek.xlsx"
    path.write_text("Lokationsnummer;Ejer\n5790000123117;Aarhus Kommune\n", "utf-8")
    _assert_fatal(path, "load.not_a_workbook", engine=engine)


@pytest.mark.parametrize("engine", [None, *ENGINES])
def test_truncated_workbook(tmp_path, reference_workbook, engine):
    path = tmp_path / "halv.xlsx"
    path.write_bytes(reference_workbook.read_bytes()[:3000])
    _assert_fatal(path, "load.not_a_workbook", engine=engine)


@pytest.mark.parametrize("engine", [None, *ENGINES])
def test_zip_that_is_not_a_workbook(tmp_path, engine):
    path = tmp_path / "arkiv.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "ikke et regneark")
    _assert_fatal(path, "load.not_a_workbook", engine=engine)


def test_corrupt_bytes(tmp_path):
    path = tmp_path / "x.xlsm"
    path.write_bytes(bytes(range(256)) * 40)
    _assert_fatal(path, "load.not_a_workbook")


@pytest.mark.parametrize("name", ["udtraek.xls", "udtraek.txt", "udtraek.csv"])
def test_unsupported_file_type(tmp_path, name):
    path = tmp_path / name
    path.write_text("x")
    _assert_fatal(path, "load.unsupported_format")


def test_workbook_without_table_sheets(tmp_path):
    path = make_workbook(tmp_path / "x.xlsx", {"Forside": [["Hej"]], "Ark2": [["Lokationsnummer"]]})
    message = _assert_fatal(path)
    assert message == text("load.no_tables", file=path, sheets="'Forside', 'Ark2'")


def test_input_file_is_not_modified(reference_workbook, tmp_path):
    before = (reference_workbook.read_bytes(), reference_workbook.stat().st_mtime_ns)
    for engine in ENGINES:
        load_extract(reference_workbook, engine=engine, cache_dir=tmp_path / "c")
    assert (reference_workbook.read_bytes(), reference_workbook.stat().st_mtime_ns) == before
    assert sorted(p.name for p in reference_workbook.parent.iterdir()) == ["c", "udtraek.xlsx"]


def test_unknown_engine_is_a_programming_error(reference_workbook):
    with pytest.raises(ValueError, match="engine"):
        load(reference_workbook, engine="xlrd")


# --- Engines -----------------------------------------------------------------------------------


def test_both_engines_give_equal_results(tmp_path):
    messy = {
        "Forside": [["Kvalitetsudtræk"]],
        "Info": [["Periode", dt.datetime(2024, 6, 1)]],
        "Tabel 1": [
            ["Titel"],
            [],
            [*IDENTITY, "Oprettet", "Note"],
            [
                5.790000123117e12,
                311000016009.0,
                " Ældre ",
                "Aarhus  Kommune",
                None,
                "Region Midtjylland",
                "Aarhus",
                "Nexus",
                "KMD",
                "01-02-2023",
                3.5,
            ],
            [],
            [
                GLN_BAD,
                "x",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                dt.datetime(2023, 4, 5, 6, 7),
                dt.datetime(2024, 1, 1),
            ],
        ],
        "Tabel 5": [
            [*IDENTITY[:4], "Meddelelsestype", "Afsender GLN", "Afsender", "Antal"],
            [
                GLN_ODENSE,
                None,
                "Enhed",
                "Odense Kommune",
                "XDIS91",
                "5790000123117",
                "Aarhus",
                "1.234",
            ],
            [GLN_CLINIC, None, None, "Klinik", 7, "?", None, 3.5],
        ],
    }
    path = make_workbook(tmp_path / "x.xlsx", messy)
    a, b = (load(path, engine=e) for e in ENGINES)
    assert a.tables.keys() == b.tables.keys() == {1, 5}
    for n in a.tables:
        pd.testing.assert_frame_equal(a.tables[n], b.tables[n])
    assert a.warnings == b.warnings
    assert a.info == b.info
    assert a.tables[1]["Note"].tolist() == ["3.5", "2024-01-01"]
    assert [(w.row, w.column, w.value) for w in findings(a)] == [
        (6, "Lokationsnummer", GLN_BAD),
        (6, "SOR-kode", "x"),
        (6, "Ejer", None),
        (3, "Afsender GLN", "?"),
        (3, "Antal", "3.5"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsm_workbook(reference_workbook, tmp_path, engine):
    path = tmp_path / "udtraek.xlsm"
    path.write_bytes(reference_workbook.read_bytes())
    ex = load(path, engine=engine)
    assert sorted(ex.tables) == list(range(1, 8))
    assert ex.tables[1]["lokationsnummer"].tolist() == [GLN_AARHUS]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_wrong_stored_dimension_does_not_hide_rows(tmp_path, engine):
    good = make_workbook(tmp_path / "god.xlsx", {T1: [["Lokationsnummer"], *[[GLN_AARHUS]] * 5]})
    path = tmp_path / "skaev.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:A6" />' in data
                data = data.replace(b'<dimension ref="A1:A6" />', b'<dimension ref="A1" />')
            dst.writestr(item, data)
    assert load(path, engine=engine).tables[1][ROW].tolist() == [2, 3, 4, 5, 6]


# --- CSV folder --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8"])
def test_csv_folder_in_danish_excel_dialect(tmp_path, encoding):
    folder = make_csv_folder(
        tmp_path / "udtraek",
        {
            "1 Aktive lokationsnumre.csv": [
                ["Lokationsnummer", "Enhedsnavn", "Ejer", "Oprettet"],
                [GLN_AARHUS, "Ældreplejen Åby", "Aarhus Kommune", "01-03-2024"],
                ["", "", "", ""],
                ["5790000123117,0", "Sundhedsplejen", "Aarhus Kommune", "15.04.2023"],
            ],
            "2_lukkede.csv": [
                ["Lokationsnummer", "Afsender lokationsnummer", "Antal meddelelser", "Lukket dato"],
                [GLN_ODENSE, GLN_BAD, "1.234", "2024-01-31"],
                [GLN_ODENSE, GLN_AARHUS, "12,0", "31-01-2024"],
            ],
            "Info.csv": [["Udtræksdato", "02-07-2024"], ["Periode", "2024-06"]],
            "noter.csv": [["Lokationsnummer"], ["ignoreres"]],
        },
        encoding=encoding,
    )
    (folder / "laes-mig.txt").write_text("ikke en tabel")
    ex = load(folder)
    assert ex.sheets == {1: "1 Aktive lokationsnumre.csv", 2: "2_lukkede.csv"}
    assert ex.info.file == str(folder)
    assert (ex.info.period, ex.info.extract_date) == ("2024-06", dt.date(2024, 7, 2))
    t1, t2 = ex.tables[1], ex.tables[2]
    assert t1["enhedsnavn"].tolist() == ["Ældreplejen Åby", "Sundhedsplejen"]
    assert t1["lokationsnummer"].tolist() == [GLN_AARHUS, GLN_AARHUS]
    assert t1["oprettet"].tolist() == [pd.Timestamp(2024, 3, 1), pd.Timestamp(2023, 4, 15)]
    assert t1[ROW].tolist() == [2, 4]
    assert t1["ejertype"].tolist() == ["Kommune", "Kommune"]
    assert t2["antal"].tolist() == [1234, 12]
    assert t2["lukket_dato"].tolist() == [pd.Timestamp(2024, 1, 31)] * 2
    assert (
        Problem(
            "2_lukkede.csv", 2, "Afsender lokationsnummer", GLN_BAD, text("load.gln_check_digit")
        )
        in ex.warnings
    )


def test_csv_row_numbers_are_line_numbers_across_multiline_fields(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    content = (
        'Titel\r\nLokationsnummer;Enhedsnavn\r\n"5790000123117";"To\r\nlinjer"\r\n'
        "5790002407314;x\r\n"
    )
    (folder / "1.csv").write_bytes(content.encode("utf-8"))
    df = load(folder).tables[1]
    assert df["enhedsnavn"].tolist() == ["To\r\nlinjer", "x"]
    assert df[ROW].tolist() == [3, 5]


def test_csv_folder_without_tables_and_unreadable_encoding(tmp_path):
    empty = tmp_path / "tom"
    empty.mkdir()
    message = _assert_fatal(empty)
    assert message == text("load.no_tables", file=empty, sheets=text("load.none_found"))
    folder = tmp_path / "skaev"
    folder.mkdir()
    (folder / "1.csv").write_bytes(b"Lokationsnummer\r\n\x81\x8d\r\n")  # undefined in cp1252
    assert "'1.csv'" in _assert_fatal(folder)


# --- Aliases -----------------------------------------------------------------------------------


def test_user_alias_file_extends_packaged_aliases(tmp_path):
    aliases = tmp_path / "mine.yaml"
    aliases.write_text("lokationsnummer: [Lok. nummer (GLN)]\nantal: Antal beskeder\n", "utf-8")
    header = ["Lok. nummer (GLN)", "Antal beskeder", "Afsender GLN"]
    path = make_workbook(tmp_path / "x.xlsx", {"Tabel 5": [header, [GLN_AARHUS, "4", GLN_ODENSE]]})

    with pytest.raises(ExtractError):
        load(path)  # without the file, no column names the location number
    df = load(path, aliases=aliases).tables[5]
    assert df["lokationsnummer"].tolist() == [GLN_AARHUS]
    assert df["antal"].tolist() == [4]
    assert df["modpart_lokationsnummer"].tolist() == [GLN_ODENSE]  # packaged alias still works

    mapping = read_aliases(aliases)
    assert mapping["loknummer(gln)"] == "lokationsnummer"
    assert mapping["antalbeskeder"] == "antal"
    assert mapping["gln"] == "lokationsnummer"
    assert read_aliases().keys() < mapping.keys()


def test_user_alias_overrides_a_packaged_spelling(tmp_path):
    aliases = tmp_path / "mine.yaml"
    aliases.write_text("modpart: [Type]\n", "utf-8")
    assert read_aliases()["type"] == "meddelelsestype"
    assert read_aliases(aliases)["type"] == "modpart"


def test_packaged_aliases_cover_every_label_and_reference_header():
    mapping = read_aliases()
    for name, column in schema.columns().items():
        assert mapping[normalise_header(column.label)] == name
    for table in schema.tables().values():
        for name, header in table.headers.items():
            assert mapping[normalise_header(header)] == name


def test_packaged_alias_spellings_are_unambiguous():
    raw = yaml.safe_load(files("soredi_nb").joinpath("data/aliases.yaml").read_text("utf-8"))
    owners: dict[str, set[str]] = {}
    for column, headers in raw.items():
        assert column in schema.columns()
        for header in headers:
            owners.setdefault(normalise_header(header), set()).add(column)
    assert {h: c for h, c in owners.items() if len(c) > 1} == {}
    mapping = read_aliases()
    assert all(mapping[h] == c.pop() for h, c in owners.items())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("lokationsnummer: [GLN\n", "linje"),
        ("- GLN\n- EAN\n", "kolonne"),
        ("lokationsnr: [GLN]\n", "'lokationsnr'"),
        ("antal: {a: b}\n", "'antal'"),
    ],
)
def test_malformed_user_alias_file_is_fatal(tmp_path, reference_workbook, content, fragment):
    aliases = tmp_path / "mine.yaml"
    aliases.write_text(content, "utf-8")
    with pytest.raises(ExtractError) as err:
        load(reference_workbook, aliases=aliases)
    assert str(aliases) in str(err.value) and fragment in str(err.value)


def test_missing_user_alias_file_is_fatal(tmp_path, reference_workbook):
    with pytest.raises(ExtractError, match="findes ikke"):
        load(reference_workbook, aliases=tmp_path / "nej.yaml")


def test_empty_user_alias_file_changes_nothing(tmp_path):
    aliases = tmp_path / "tom.yaml"
    aliases.write_text("# intet endnu\n", "utf-8")
    assert read_aliases(aliases) == read_aliases()


# --- Cell converters (pure) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("\xa0", None),
        (5790000123117, GLN_AARHUS),
        ("00123", "00123"),
        ("5,79E+12", ValueError),
        (-1, ValueError),
        (1.5, ValueError),
        (123456789012345678.0, ValueError),
        (123456789012345678, "123456789012345678"),
        (True, ValueError),
        (dt.date(2024, 1, 1), ValueError),
        ("12a", ValueError),
    ],
)
def test_to_digits(value, expected):
    if expected is ValueError:
        with pytest.raises(ValueError):
            cells.to_digits(value)
    else:
        assert cells.to_digits(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 7 ", 7),
        ("-3", -3),
        ("12.000", 12000),
        ("", None),
        ("1,234", ValueError),
        ("12.5", ValueError),
        (2.0**70, ValueError),
        (False, ValueError),
        ("tolv", ValueError),
    ],
)
def test_to_int(value, expected):
    if expected is ValueError:
        with pytest.raises(ValueError):
            cells.to_int(value)
    else:
        assert cells.to_int(value) == expected


@pytest.mark.parametrize(
    "value",
    ["2024-02-30", "32-01-2024", "01/03/2024", "01-03-24", "57900101", 12, True, dt.time(12, 0)],
)
def test_to_date_rejects(value):
    with pytest.raises(ValueError):
        cells.to_date(value)


def test_cell_text_renders_numbers_and_dates_alike_for_every_reader():
    assert cells.cell_text(12.0) == cells.cell_text(12) == "12"
    assert cells.cell_text(dt.datetime(2024, 5, 6)) == cells.cell_text(dt.date(2024, 5, 6))
    assert cells.cell_text(dt.datetime(2024, 5, 6, 7, 8)) == "2024-05-06 07:08:00"
    assert cells.to_name(" a \xa0\t b\n") == "a b"


def test_an_unreadable_alias_file_is_a_danish_error(tmp_path, deny):
    aliases = tmp_path / "kolonner.yaml"
    aliases.write_text("ejer: [Ansvarlig]\n", encoding="utf-8")
    deny("read_text", aliases)
    with pytest.raises(ExtractError, match="ingen adgang") as err:
        read_aliases(aliases)
    assert str(aliases) in str(err.value) and "Permission" not in str(err.value)
