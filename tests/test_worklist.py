"""The Excel worklist: layout, dropdowns, safe text, and notes carried over to the next extract."""

from __future__ import annotations

import datetime as dt
import hashlib
import shlex
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest
from factories import CLINIC, GONE_T1, OWNER, make_extract, rows, small_extract
from python_calamine import CalamineWorkbook

from soredi_nb import findings, organisations, roles, tasks, worklist
from soredi_nb.exceptions import SorediError
from soredi_nb.sample import make_sample, sheet_name
from soredi_nb.texts import text
from soredi_nb.worklist import build_worklist, read_worklist, write_worklist

USER = ["Handling", "Ansvarlig", "Status", "Bemærkning"]
RECEIVER_GLN = "Modtager, der afviste (lokationsnummer)"  # table 6's counterpart
STATUSES = ["Ikke startet", "I gang", "Afsluttet", "Ikke relevant"]
HOSTILE = ['=HYPERLINK("http://x","klik")', "+45 1234", "-1", "@SUM(A1)", "#N/A"]


def sheet_rows(ws) -> list[dict]:
    """The data rows of a task sheet as dicts by header, with their Excel row number."""
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], v, strict=True), row=i) for i, v in enumerate(values[1:], 2)]


def find(ws, **match) -> list[int]:
    """Excel rows whose cells equal ``match`` (keys are headers, ``_`` for a space)."""
    match = {k.replace("_", " "): v for k, v in match.items()}
    return [r["row"] for r in sheet_rows(ws) if all(r[k] == v for k, v in match.items())]


def fill(ws, row: int, **values) -> None:
    """Type into a row as a user would, by header."""
    headers = [c.value for c in ws[1]]
    for header, value in values.items():
        ws.cell(row, headers.index(header) + 1, value)


# --- building ----------------------------------------------------------------------------------


def test_build_worklist_frames(extracts):
    old, _ = extracts
    frames = build_worklist(old, "aarhus")
    sample = make_sample(seed=0)["tables"]
    assert list(frames) == list(range(1, 8))
    for n, df in frames.items():
        own = sample[n][sample[n]["ejer"] == OWNER]
        shown = findings.display_table(old.tables[n][old.tables[n]["ejer"] == OWNER], n)
        # The report's columns, the IT vendor beside the IT system, then the columns to fill in.
        columns = list(shown.columns)
        columns.insert(columns.index("It-system") + 1, "It-leverandør")
        assert df.columns.tolist() == [*columns, *USER]
        assert len(df) == len(own)
        assert df["Status"].tolist() == ["Ikke startet"] * len(df)
        assert df["Handling"].isna().all() and df["Bemærkning"].isna().all()
    # Table 4's only action is the SOR-EDI-administrator's; Aarhus's systems are MedCom's.
    t4 = sample[4][sample[4]["ejer"] == OWNER]
    expected = {
        "SOR-EDI-administrator: " + roles.responsible("sor_edi_administrator", "Kommune", s, v)
        for s, v in zip(t4["it_system"], t4["it_leverandoer"], strict=True)
    }
    # The guide's example, a GP system at an addiction centre: its vendor, not MedCom.
    assert set(frames[4]["Ansvarlig"]) == expected
    assert expected == {"SOR-EDI-administrator: It-leverandøren (XMO A/S)"}
    assert set(frames[1]["Ansvarlig"]) == {"SOR-administrator: Kommunens egne SOR-administratorer"}
    # Same order as the report's findings table: biggest problems first.
    assert frames[6]["Antal negative kvitteringer"].tolist() == [4, 4, 3]


CURA_MUNICIPALITY = dict(ejer="Odense Kommune", ejertype="Kommune", it_system="Cura")
COSMIC_REGION = dict(ejer="Region Syddanmark", ejertype="Region", it_system="Cosmic")
GP_CLINIC = dict(ejer="Lægerne Søndergade", ejertype="Privat", it_system="XMO")
SENDER = dict(modpart="Akutafdelingen, OUH", modpart_lokationsnummer="5790000000005")


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (
            CURA_MUNICIPALITY,
            {
                1: "SOR-administrator: Kommunens egne SOR-administratorer",
                2: "Afsender: Akutafdelingen, OUH (5790000000005)",
                3: "Oprettelse af lokationsnummer: Sundhedsdatastyrelsen efter afklaring med "
                "MedCom (sor@medcom.dk)",
                4: "SOR-EDI-administrator: MedCom (sor@medcom.dk)",
            },
        ),
        (
            COSMIC_REGION,
            {
                1: "SOR-administrator: Regionens egne SOR-administratorer",
                2: "Afsender: Akutafdelingen, OUH (5790000000005)",
                3: "Oprettelse af lokationsnummer: Regionens egne SOR-administratorer",
                4: "SOR-EDI-administrator: Regionens egne SOR-EDI-administratorer",
            },
        ),
        (
            GP_CLINIC,
            {
                1: "SOR-administrator: Sundhedsdatastyrelsen (på enhedens henvendelse)",
                2: "Afsender: Akutafdelingen, OUH (5790000000005)",
                3: "Oprettelse af lokationsnummer: Sundhedsdatastyrelsen (på enhedens henvendelse)",
                4: "SOR-EDI-administrator: Leverandøren af XMO",
            },
        ),
    ],
)
def test_ansvarlig_is_who_does_the_first_action(owner, expected):
    gln = "5790000126330"
    extract = make_extract(
        {
            1: rows(owner, gln),
            2: rows(owner, gln, **SENDER, antal=3),
            3: rows(owner, gln, **SENDER, antal=2),
            4: rows(owner, gln, meddelelsestype="XDIS20"),
        }
    )
    frames = build_worklist(extract, owner["ejer"])
    assert {n: df["Ansvarlig"].tolist() for n, df in frames.items()} == {
        n: [who] for n, who in expected.items()
    }


# --- the written workbook ----------------------------------------------------------------------


def test_workbook_layout(extracts, tmp_path):
    old, _ = extracts
    result = write_worklist(tmp_path / "liste.xlsx", old, "aarhus")
    assert result.rows == {1: 2, 2: 3, 3: 1, 4: 2, 5: 3, 6: 3, 7: 9}
    assert result.carried == dict.fromkeys(range(1, 8), 0) and result.missing == []
    wb = openpyxl.load_workbook(result.path)
    assert wb.sheetnames == ["Oversigt", *(sheet_name(n) for n in range(1, 8))]
    assert all(len(name) <= 31 for name in wb.sheetnames)

    ws = wb[sheet_name(2)]
    headers = [c.value for c in ws[1]]
    assert headers == build_worklist(old, "aarhus")[2].columns.tolist()
    assert (ws.freeze_panes, ws.auto_filter.ref) == ("A2", "A1:O4")
    gln = ws.cell(2, headers.index("Lokationsnummer") + 1)
    assert (gln.value, gln.data_type, gln.number_format) == ("5790000715107", "s", "@")
    closed = ws.cell(2, headers.index("Lukket dato") + 1)
    assert closed.is_date and closed.number_format == "yyyy-mm-dd"  # as the pages write dates
    assert closed.value == dt.datetime(2026, 7, 17)
    count = ws.cell(2, headers.index("Antal meddelelser") + 1)
    assert (count.value, count.data_type) == (8, "n")  # biggest problems first
    assert ws.cell(2, headers.index("Status") + 1).value == "Ikke startet"
    assert ws.column_dimensions["A"].width == len("Lokationsnummer") + 2

    overview = {r[0]: r[1] for r in wb["Oversigt"].iter_rows(values_only=True) if r[0]}
    first = next(k for k in overview if str(k).startswith("1. "))
    assert first.endswith("De største problemer står øverst.")  # no history: biggest first
    assert overview["Organisation"] == OWNER
    assert overview["Udtræk"] == "a.xlsx"
    assert overview["Periode"] == "2026-10"
    assert overview["Udtræksdato"] == dt.datetime(2026, 11, 8)
    assert overview["SHA-256 (start)"] == old.info.sha256[:12]
    assert overview[7] == "Afsendte negative kvitteringer, seneste måned"
    text = "\n".join(str(v) for r in wb["Oversigt"].iter_rows(values_only=True) for v in r if v)
    command = "--org 0751 --out NY-ARBEJDSLISTE.xlsx --previous liste.xlsx."
    assert command in text and "Sådan bruger du arbejdslisten" in text


def test_column_width_fits_the_header_and_nine_values_in_ten():
    labels = text("worklist.columns")
    # Lengths 10 (nine times), 20 and 30: the 90th percentile is 20; missing values do not count.
    texts = pd.Series(["a" * 10] * 9 + ["b" * 20, "c" * 30, None], dtype="str")
    assert worklist._width("X", texts, labels) == 22
    assert worklist._width("X", pd.Series([1.5, float("nan"), 22.25]), labels) == 6
    assert worklist._width("Antal", pd.Series([1, None, 12345], dtype="Int64"), labels) == 7
    assert worklist._width("X", pd.Series([None, None], dtype="str"), labels) == 3
    assert worklist._width("X", pd.Series(["z" * 99]), labels) == 60  # at most _MAX_WIDTH
    assert worklist._width(labels["bemaerkning"], texts, labels) == 40
    assert worklist._width(labels["handling"], texts, labels) == 26  # room for a choice


def test_dropdowns_offer_the_guides_actions(extracts, tmp_path):
    old, _ = extracts
    wb = openpyxl.load_workbook(write_worklist(tmp_path / "liste.xlsx", old, "aarhus").path)
    for n in range(1, 8):
        ws = wb[sheet_name(n)]
        headers = [c.value for c in ws[1]]
        handling = openpyxl.utils.get_column_letter(headers.index("Handling") + 1)
        status = openpyxl.utils.get_column_letter(headers.index("Status") + 1)
        last = ws.max_row
        lists = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
        choices = tasks.task(n).action_choices()
        # Excel writes a range of one cell as that cell ("L2"), as in a sheet with one finding.
        handling, status = (f"{c}2:{c}{last}" if last > 2 else f"{c}2" for c in (handling, status))
        assert lists[handling].formula1 == f'"{",".join(choices)}"'
        assert lists[status].formula1 == f'"{",".join(STATUSES)}"'
        assert lists[status].errorStyle == "stop"
        assert lists[handling].showErrorMessage is True
    assert tasks.task(1).action_choices()[2] == "Markér til intern brug – SOR-administrator"


def test_long_choice_lists_go_to_a_hidden_sheet(extracts, tmp_path, monkeypatch):
    old, _ = extracts
    monkeypatch.setattr(worklist, "MAX_INLINE_CHOICES", 40)
    wb = openpyxl.load_workbook(write_worklist(tmp_path / "liste.xlsx", old, "aarhus").path)
    assert wb.sheetnames[-1] == "Valg" and wb["Valg"].sheet_state == "hidden"
    formulas = [dv.formula1 for dv in wb[sheet_name(1)].data_validations.dataValidation]
    assert formulas[0] == "'Valg'!$A$2:$A$5"  # 214 characters: too long
    assert formulas[1] == "'Valg'!$B$2:$B$5"  # Status, 43 characters
    valg = list(wb["Valg"].iter_rows(min_row=2, max_col=2, values_only=True))
    assert [r[0] for r in valg] == tasks.task(1).action_choices()
    assert [r[1] for r in valg] == STATUSES
    monkeypatch.setattr(worklist, "MAX_INLINE_CHOICES", 60)
    wb = openpyxl.load_workbook(write_worklist(tmp_path / "liste.xlsx", old, "aarhus").path)
    formulas4 = [dv.formula1 for dv in wb[sheet_name(4)].data_validations.dataValidation]
    # 55 characters: inline
    assert formulas4[0] == '"Fjern forkerte meddelelsestyper – SOR-EDI-administrator"'


def test_hostile_text_stays_text(tmp_path):
    owner = dict(CLINIC, ejer="=2+3 Klinik")
    table = [
        dict(
            owner,
            lokationsnummer="5790000126330",
            enhedsnavn=name,
            modpart=name,
            meddelelsestype="XDIS91",
            modpart_lokationsnummer="5790002407314",
            antal=1,
        )
        for name in HOSTILE
    ]
    extract = make_extract({2: table})
    path = write_worklist(tmp_path / "liste.xlsx", extract, "=2+3 Klinik").path
    ws = openpyxl.load_workbook(path)[sheet_name(2)]
    headers = [c.value for c in ws[1]]
    for header in ("Enhedsnavn", "Afsender"):
        cells = [ws.cell(r, headers.index(header) + 1) for r in range(2, 7)]
        assert sorted(c.value for c in cells) == sorted(HOSTILE)
        assert {c.data_type for c in cells} == {"s"}
        assert all(c.quotePrefix == (c.value[0] in "=+-@") for c in cells)
    organisation = openpyxl.load_workbook(path)["Oversigt"]["B3"]
    assert (organisation.value, organisation.data_type) == ("=2+3 Klinik", "s")
    book = CalamineWorkbook.from_path(str(path))
    values = book.get_sheet_by_name(sheet_name(2)).to_python()
    column = values[0].index("Enhedsnavn")
    assert sorted(r[column] for r in values[1:]) == sorted(HOSTILE)
    assert book.get_sheet_by_name("Oversigt").to_python()[2][1] == "=2+3 Klinik"


def test_empty_task_and_missing_table(tmp_path):
    result = write_worklist(tmp_path / "liste.xlsx", small_extract(), "aarhus")
    assert result.rows == {1: 2, 2: 2, 3: 0, 4: 0, 5: 0, 6: 1} and result.missing == [7]
    wb = openpyxl.load_workbook(result.path)
    assert wb.sheetnames == ["Oversigt", *(sheet_name(n) for n in range(1, 7))]
    empty = wb[sheet_name(3)]
    assert empty.max_row == 1 and [c.value for c in empty[1]][-4:] == USER
    assert empty.data_validations.dataValidation == []
    overview = {r[0]: r[2] for r in wb["Oversigt"].iter_rows(values_only=True) if r[0]}
    assert (overview[3], overview[7]) == (0, "mangler i udtrækket")


def test_no_cleanup_task_is_said(tmp_path):
    result = write_worklist(tmp_path / "liste.xlsx", small_extract(), "Dragør")
    assert result.rows_total == 0
    cells = [v for r in openpyxl.load_workbook(result.path)["Oversigt"].values for v in r if v]
    # Table 7 is missing from this extract: nothing to clean up only in the tables present.
    assert (
        "Ingen fund for Dragør Kommune i de tabeller, der er med; tabel 7 mangler i udtrækket og"
        " kan ikke vurderes." in cells
    )


def test_filters_narrow_and_are_named(extracts, tmp_path):
    old, _ = extracts
    result = write_worklist(tmp_path / "liste.xlsx", old, "aarhus", region=None, it_system="TK2")
    assert result.rows == {1: 0, 2: 0, 3: 0, 4: 0, 5: 3, 6: 0, 7: 5}
    overview = {r[0]: r[1] for r in openpyxl.load_workbook(result.path)["Oversigt"].values}
    assert overview["Afgrænset til"] == "it-system: TK2"


# --- safety of the output ----------------------------------------------------------------------


def test_refuses_to_overwrite_inputs(extracts, files, tmp_path):
    old, _ = extracts
    a, _ = files
    before = hashlib.sha256(a.read_bytes()).hexdigest()
    with pytest.raises(SorediError, match="det er udtrækket, som ikke må overskrives"):
        write_worklist(a.parent / "." / a.name, old, "aarhus")
    assert hashlib.sha256(a.read_bytes()).hexdigest() == before
    previous = write_worklist(tmp_path / "liste.xlsx", old, "aarhus").path
    with pytest.raises(SorediError, match="det er den tidligere arbejdsliste"):
        write_worklist(previous, old, "aarhus", previous=previous)
    with pytest.raises(SorediError, match="endelsen .xlsx"):
        write_worklist(tmp_path / "liste.xlsm", old, "aarhus")


def test_written_atomically_and_replaced(extracts, tmp_path):
    old, _ = extracts
    path = tmp_path / "ny" / "liste.xlsx"
    write_worklist(path, old, "aarhus")
    write_worklist(path, old, "odense")
    assert [p.name for p in path.parent.iterdir()] == ["liste.xlsx"]
    assert openpyxl.load_workbook(path)["Oversigt"]["B3"].value == "Odense Kommune"


def test_previous_that_is_not_a_worklist(files, extracts, tmp_path):
    a, _ = files
    old, _ = extracts
    with pytest.raises(SorediError, match="er ikke en arbejdsliste fra soredi-nb worklist"):
        read_worklist(a)
    broken = tmp_path / "liste.xlsx"
    broken.write_text("ikke en Excel-fil")
    with pytest.raises(SorediError, match="kan ikke læses som en Excel-projektmappe"):
        write_worklist(tmp_path / "ny.xlsx", old, "aarhus", previous=broken)
    with pytest.raises(SorediError, match="findes ikke"):
        read_worklist(tmp_path / "mangler.xlsx")


def test_read_worklist_tolerates_user_edits(extracts, tmp_path):
    old, _ = extracts
    path = write_worklist(tmp_path / "liste.xlsx", old, "aarhus").path
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet_name(1)]
    fill(ws, 2, Bemærkning=42, Status="  I gang ")
    ws.insert_rows(1, 2)  # a title and a blank row above the header
    ws["A1"] = "Vores arbejdsliste"
    wb[sheet_name(2)].title = "Tabel 2"
    # Worklists made before tables 6-7 said which way the receipt went had the extract's header.
    ws6 = wb[sheet_name(6)]
    header = [c.value for c in ws6[1]].index("Modtager, der afviste (lokationsnummer)") + 1
    ws6.cell(1, header).value = "Modpart lokationsnummer"
    wb.save(path)
    back = read_worklist(path)
    assert sorted(back) == list(range(1, 8))
    assert back[1].loc[0, "bemaerkning"] == "42" and back[1].loc[0, "status"] == "I gang"
    assert len(back[1]) == 2 and pd.isna(back[1].loc[1, "handling"])
    assert back[2]["modpart_lokationsnummer"].tolist() == [
        "5790001706234",
        "5790002738760",
        "5790002709463",
    ]
    t6 = old.tables[6]
    assert back[6]["modpart_lokationsnummer"].notna().all()
    assert len(back[6]) == int((t6["ejer"] == OWNER).sum())


# --- carrying notes over to the next extract ---------------------------------------------------


@pytest.fixture
def filled(extracts, tmp_path):
    """The worklist of the first extract, filled in (and partly re-sorted) by a user."""
    old, _ = extracts
    path = write_worklist(tmp_path / "oktober.xlsx", old, "aarhus").path
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet_name(1)]
    (kept,) = find(ws, Lokationsnummer="5790002821721")
    fill(ws, kept, Handling="Markér til intern brug", Status="I gang", Bemærkning="Aftalt med Lone")
    (gone,) = find(ws, Lokationsnummer=GONE_T1)
    fill(ws, gone, Bemærkning="skal væk")
    ws = wb[sheet_name(2)]
    # The default of worklists made before roles per action: not the user's, so not carried.
    fill(ws, 2, Ansvarlig="MedCom (sor@medcom.dk)")
    fill(ws, 3, Bemærkning=42)
    ws = wb[sheet_name(3)]
    (row,) = find(ws, Meddelelsestype="FDIS91 – Korrespondancemeddelelse")
    fill(ws, row, Ansvarlig="Lone Hansen", Status="Afsluttet")
    ws = wb[sheet_name(5)]
    (row,) = find(ws, Afsender_lokationsnummer="5790001205997")
    fill(ws, row, Bemærkning="løses af sig selv")
    (row,) = find(ws, Afsender_lokationsnummer="5790001857967")
    fill(ws, row, Handling="Tilføj meddelelsestyper")
    # The user sorted this sheet: notes follow the finding, not the row.
    data = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    for i, values in enumerate(reversed(data), start=2):
        for j, value in enumerate(values, start=1):
            ws.cell(i, j).value = value  # cell(i, j, None) would keep the old value
    ws = wb[sheet_name(6)]
    (row,) = find(ws, **{RECEIVER_GLN: "5790001501501"})
    fill(ws, row, Bemærkning="Ringet til afsender")
    (untouched,) = find(ws, **{RECEIVER_GLN: "5790000147014"})
    fill(ws, untouched, Status="Ikke startet")
    fill(wb[sheet_name(7)], 2, Bemærkning="tabellen forsvinder")
    wb.save(path)
    return path


def test_notes_follow_the_findings_that_persist(extracts, filled, tmp_path):
    _, new = extracts
    result = write_worklist(tmp_path / "november.xlsx", new, "aarhus", previous=filled)
    assert result.carried == {1: 1, 2: 1, 3: 1, 4: 0, 5: 1, 6: 1}
    assert result.carried_total == 5 and result.missing == [7]
    assert result.rows == {1: 1, 2: 4, 3: 1, 4: 2, 5: 3, 6: 4}
    wb = openpyxl.load_workbook(result.path)

    (t1,) = [r for r in sheet_rows(wb[sheet_name(1)]) if r["Lokationsnummer"] == "5790002821721"]
    assert (t1["Handling"], t1["Status"], t1["Bemærkning"]) == (
        "Markér til intern brug",
        "I gang",
        "Aftalt med Lone",
    )
    assert t1["Ansvarlig"] == "SOR-administrator: Kommunens egne SOR-administratorer"
    t2 = sheet_rows(wb[sheet_name(2)])
    assert [r["Bemærkning"] for r in t2 if r["Bemærkning"]] == ["42"]
    assert [r["Status"] for r in t2] == ["Ikke startet"] * 4
    (t3,) = [r for r in sheet_rows(wb[sheet_name(3)]) if r["Ansvarlig"] == "Lone Hansen"]
    # The type is now written "FDIS91": the same finding.
    assert (t3["Meddelelsestype"], t3["Status"]) == (
        "FDIS91 – Korrespondancemeddelelse",
        "Afsluttet",
    )
    t5 = sheet_rows(wb[sheet_name(5)])
    # The IT system changed and the user never touched Ansvarlig: today's default, not the old.
    assert sorted(r["Ansvarlig"] for r in t5) == [
        "SOR-EDI-administrator: It-leverandøren (Tril)",
        *["SOR-EDI-administrator: MedCom (sor@medcom.dk)"] * 2,
    ]
    assert [(r["Meddelelsestype"], r["Handling"]) for r in t5 if r["Handling"]] == [
        ("Korrespondancemeddelelse", "Tilføj meddelelsestyper")
    ]
    (new_row,) = [r for r in t5 if r["Meddelelsestype"] == "XDIS20 – Sygehusadvis"]
    assert (new_row["Handling"], new_row["Status"], new_row["Bemærkning"]) == (
        None,
        "Ikke startet",
        None,
    )
    # The same finding twice in the new extract: the note goes to one of them.
    t6 = [r for r in sheet_rows(wb[sheet_name(6)]) if r[RECEIVER_GLN] == "5790001501501"]
    assert sorted(str(r["Bemærkning"]) for r in t6) == ["None", "Ringet til afsender"]
    everything = [v for ws in wb for r in ws.values for v in r]
    assert not {"skal væk", "løses af sig selv", "tabellen forsvinder"} & set(everything)
    overview = [v for r in wb["Oversigt"].values for v in r if v]
    assert "Noter fra oktober.xlsx er overført til 5 fund, der stadig er i udtrækket." in overview
    assert result.warnings == []


def test_carried_notes_are_written_as_text(extracts, filled, tmp_path):
    _, new = extracts
    wb = openpyxl.load_workbook(filled)
    fill(wb[sheet_name(4)], 2, Handling="@Lone: fjern typen", Bemærkning="-ikke startet endnu")
    wb.save(filled)
    path = write_worklist(tmp_path / "november.xlsx", new, "aarhus", previous=filled).path
    ws = openpyxl.load_workbook(path)[sheet_name(4)]
    headers = [c.value for c in ws[1]]
    cells = [
        ws.cell(r, headers.index(h) + 1)
        for r in range(2, ws.max_row + 1)
        for h in ("Handling", "Bemærkning")
    ]
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells if c.value] == [
        ("@Lone: fjern typen", "s", True),
        ("-ikke startet endnu", "s", True),
    ]


# --- the command -------------------------------------------------------------------------------


def test_worklist_command(run_cli, files, filled, tmp_path):
    a, b = files
    out_path = tmp_path / "liste.xlsx"
    code, out, err = run_cli("worklist", a, "--org", "aarhus", "--out", out_path)
    assert code == 0, err
    assert "Organisation: Aarhus Kommune (Kommune, kode 0751)" in out
    assert f"Arbejdsliste skrevet til {out_path}: 23 fund på 7 opgaveark." in out
    assert "Noter overført" not in out
    assert openpyxl.load_workbook(out_path).sheetnames[0] == "Oversigt"
    code, out, _ = run_cli(
        "worklist", a, "--org", "aarhus", "--it-system", "tk2", "--out", out_path
    )
    assert code == 0 and f"Arbejdsliste skrevet til {out_path}: 8 fund på 7 opgaveark." in out

    code, out, err = run_cli(
        "worklist", b, "--org", "751", "--out", tmp_path / "nov.xlsx", "--previous", filled
    )
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("Tabel"))
    assert header.split()[-3:] == ["Fund", "Noter", "overført"]
    row5 = next(line for line in lines if line.startswith("5 "))
    assert row5.split()[-2:] == ["3", "1"]
    row7 = next(line for line in lines if line.startswith("7 "))
    assert row7.split()[-2:] == ["mangler", "–"]
    assert f"Noter overført fra {filled}: 5 fund." in lines


def test_worklist_command_errors(run_cli, files, tmp_path):
    a, _ = files
    before = a.read_bytes()
    code, _, err = run_cli("worklist", a, "--org", "aarhus", "--out", a)
    assert code == 1 and "det er udtrækket, som ikke må overskrives" in err
    assert a.read_bytes() == before and "Traceback" not in err
    code, _, err = run_cli("worklist", a, "--out", tmp_path / "x.xlsx")
    assert code == 1 and "disse argumenter mangler: --org" in err
    code, _, err = run_cli(
        "worklist", a, "--org", "aarhus", "--out", tmp_path / "x.xlsx", "--previous", a
    )
    assert code == 1 and "er ikke en arbejdsliste" in err
    assert not (tmp_path / "x.xlsx").exists()


# --- the command shown for the next extract is safe to paste into a shell ----------------------


def instruction_command(path) -> str:
    """The command of the last instruction on "Oversigt", from the program to the full stop."""
    lines = [v for r in openpyxl.load_workbook(path)["Oversigt"].values for v in r if v]
    line = [v for v in lines if "soredi-nb worklist" in str(v)][-1]
    return line[line.index("soredi-nb worklist") : line.index(". Handling")]


def test_command_selects_the_organisation_quoted_for_the_shell(tmp_path):
    name = "Klinik `rm -rf ~` $(id)"
    extract = make_extract(
        {4: rows(dict(CLINIC, ejer=name), "5790000126330", meddelelsestype="XDIS20")}
    )
    result = write_worklist(tmp_path / "min liste.xlsx", extract, name)
    command = instruction_command(result.path)
    assert command == (
        "soredi-nb worklist NYT-UDTRÆK --org 'Privat:Klinik `rm -rf ~` $(id)' "
        "--out NY-ARBEJDSLISTE.xlsx --previous 'min liste.xlsx'"
    )
    # A shell reads back the selector, and the selector names exactly this organisation.
    args = shlex.split(command)
    assert args[args.index("--org") + 1] == result.organisation.selector
    assert organisations.resolve(result.organisation.selector, extract) == result.organisation
    assert args[args.index("--previous") + 1] == "min liste.xlsx"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs a POSIX shell")
def test_pasted_command_runs_nothing_from_the_name(tmp_path):
    """Pasted into bash, the name is one argument: its `...` and $(...) run nothing."""
    name = "Klinik `touch ticks` $(touch dollars) 'citat'"
    extract = make_extract(
        {4: rows(dict(CLINIC, ejer=name), "5790000126330", meddelelsestype="XDIS20")}
    )
    result = write_worklist(tmp_path / "liste.xlsx", extract, name)
    command = instruction_command(result.path).replace("soredi-nb worklist", "printf '%s\\n'")
    shell = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert shell.stdout.splitlines()[1:3] == ["--org", f"Privat:{name}"]
    assert not (tmp_path / "ticks").exists() and not (tmp_path / "dollars").exists()


# --- a previous worklist of another organisation or layout -------------------------------------


def test_previous_of_another_organisation_is_a_warning(extracts, filled, tmp_path):
    _, new = extracts
    result = write_worklist(tmp_path / "odense.xlsx", new, "odense", previous=filled)
    assert result.carried_total == 0
    assert result.warnings == [
        f"Den tidligere arbejdsliste '{filled}' er lavet for Aarhus Kommune, ikke for Odense "
        "Kommune. Noter følger kun med for fund, der står i begge. Angiv med --previous den "
        "arbejdsliste, der blev lavet for Odense Kommune."
    ]


def test_previous_that_does_not_say_whose_it_is(extracts, filled, tmp_path):
    _, new = extracts
    wb = openpyxl.load_workbook(filled)
    del wb["Oversigt"]
    wb.save(filled)
    result = write_worklist(tmp_path / "november.xlsx", new, "aarhus", previous=filled)
    assert result.carried_total == 5  # the notes are still used
    assert result.warnings == [
        text("worklist.warnings.previous_owner_unknown", file=filled, organisation=OWNER)
    ]
    assert "'Oversigt'" in result.warnings[0] and OWNER in result.warnings[0]


def test_previous_of_another_layout_names_sheets_and_columns(extracts, filled, tmp_path):
    _, new = extracts
    wb = openpyxl.load_workbook(filled)
    for number, header in ((3, "Meddelelsestype"), (6, "Bemærkning")):
        ws = wb[sheet_name(number)]
        ws.delete_cols([c.value for c in ws[1]].index(header) + 1)
    ws = wb[sheet_name(2)]
    for cell in ws[1]:
        cell.value = f"Kolonne {cell.column}"  # a header the worklist does not know
    wb.save(filled)
    result = write_worklist(tmp_path / "november.xlsx", new, "aarhus", previous=filled)
    # Before: {1: 1, 2: 1, 3: 1, 4: 0, 5: 1, 6: 1}. Sheet 3 cannot recognise its findings, sheet
    # 6 lost its only note, sheet 2 is not read.
    assert result.carried == {1: 1, 2: 0, 3: 0, 4: 0, 5: 1, 6: 0}
    assert result.warnings == [
        f"Arket '{sheet_name(2)}' i den tidligere arbejdsliste '{filled}' har ikke "
        "arbejdslistens kolonner ('Lokationsnummer' og mindst én af 'Handling', 'Ansvarlig', "
        "'Status', 'Bemærkning'): dets noter er ikke overført.",
        f"Arket '{sheet_name(3)}' i den tidligere arbejdsliste '{filled}' mangler kolonner, som "
        "fundene genkendes på: 'Meddelelsestype'. Dets noter er ikke overført. Er arbejdslisten "
        "lavet af et udtræk med et andet layout, eller er kolonnerne slettet?",
        f"Arket '{sheet_name(6)}' i den tidligere arbejdsliste '{filled}' mangler kolonner at "
        "udfylde: 'Bemærkning'. De er ikke overført.",
    ]
    assert sorted(read_worklist(filled)) == [1, 4, 5, 6, 7]  # 2 unread, 3 left out


# --- text longer than a cell holds -------------------------------------------------------------


def test_over_long_text_is_cut_with_a_marker_and_a_warning(tmp_path):
    long_name = "Afdeling " + "A" * 40_000
    emoji = "\N{GRINNING FACE}" * 20_000  # 20,000 characters, but 40,000 to Excel (UTF-16)
    table = [
        dict(CLINIC, lokationsnummer="5790000126330", enhedsnavn=long_name, modpart=emoji)
        | dict(meddelelsestype="XDIS91", modpart_lokationsnummer="5790002407314", antal=1)
    ]
    result = write_worklist(tmp_path / "liste.xlsx", make_extract({2: table}), CLINIC["ejer"])
    ws = openpyxl.load_workbook(result.path)[sheet_name(2)]
    headers = [c.value for c in ws[1]]
    name_cell = ws.cell(2, headers.index("Enhedsnavn") + 1)
    emoji_cell = ws.cell(2, headers.index("Afsender") + 1)
    # Ansvarlig names the sender, so it is cut too: "Afsender: <name> (<location number>)".
    who = ws.cell(2, headers.index("Ansvarlig") + 1)
    marker = "…[afkortet]"
    assert name_cell.value == long_name[: 32_767 - len(marker)] + marker
    assert emoji_cell.value == "\N{GRINNING FACE}" * 16_378 + marker
    assert len(emoji_cell.value.encode("utf-16-le")) // 2 == 32_767
    assert result.warnings == [
        f"Teksten i arket '{sheet_name(2)}', celle {cell.coordinate}, er på {length} tegn, mere "
        "end de 32.767, en celle i Excel kan rumme. Den er afkortet og slutter med '…[afkortet]'."
        for cell, length in ((name_cell, "40.009"), (emoji_cell, "40.000"), (who, "40.026"))
    ]


def test_text_that_fits_exactly_is_not_cut(tmp_path):
    name = "A" * 32_767
    table = rows(CLINIC, "5790000126330", enhedsnavn=name, meddelelsestype="XDIS20")
    result = write_worklist(tmp_path / "liste.xlsx", make_extract({4: table}), CLINIC["ejer"])
    ws = openpyxl.load_workbook(result.path)[sheet_name(4)]
    headers = [c.value for c in ws[1]]
    assert ws.cell(2, headers.index("Enhedsnavn") + 1).value == name
    assert result.warnings == []


def test_ansvarlig_follows_a_move_to_another_vendor(tmp_path):
    """A pre-filled Ansvarlig the user never touched is today's default, also when the unit
    moved from one vendor's system to another's (the sheet keeps the vendor to tell)."""
    gln, message = "5790000126330", dict(meddelelsestype="XDIS20")
    before = dict(CURA_MUNICIPALITY, it_system="XMO", it_leverandoer="Tril")
    after = dict(CURA_MUNICIPALITY, it_system="Sensum", it_leverandoer="EG")
    old = make_extract({4: rows(before, gln, **message)})
    path = write_worklist(tmp_path / "oktober.xlsx", old, before["ejer"]).path
    new = make_extract({4: rows(after, gln, **message)})
    result = write_worklist(tmp_path / "november.xlsx", new, after["ejer"], previous=path)
    (row,) = sheet_rows(openpyxl.load_workbook(result.path)[sheet_name(4)])
    assert row["Ansvarlig"] == "SOR-EDI-administrator: It-leverandøren (EG)"
    assert row["It-leverandør"] == "EG" and result.carried == {4: 0}
