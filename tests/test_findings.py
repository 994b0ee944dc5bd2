import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from factories import AARHUS, CLINIC, ODENSE, REGION, make_extract, rows, small_extract

from soredi_nb import findings, summary
from soredi_nb.extract import canonical_frame
from soredi_nb.summary import summarise

IDENTITY = ["Lokationsnummer", "Enhedsnavn", "SOR-kode", "It-system"]
LABELS = {
    1: ["Oprettet"],
    2: [
        "Lukket dato",
        "Meddelelsestype",
        "Afsender lokationsnummer",
        "Afsender",
        "Antal meddelelser",
        "Seneste meddelelse",
    ],
    3: [
        "Lukket dato",
        "Meddelelsestype",
        "Modtager lokationsnummer",
        "Modtager",
        "Antal meddelelser",
        "Seneste meddelelse",
    ],
    4: ["Meddelelsestype", "Format"],
    5: ["Meddelelsestype", "Afsender lokationsnummer", "Afsender", "Antal meddelelser"],
    # Which way the negative receipt went: the counterpart rejected (6) or was rejected (7).
    6: [
        "Meddelelsestype",
        "Modtager, der afviste (lokationsnummer)",
        "Modtager, der afviste",
        "Antal negative kvitteringer",
        "Antal meddelelser i alt",
        "Andel negative kvitteringer (%)",
        "Fejlkode",
    ],
    7: [
        "Meddelelsestype",
        "Afsender, der blev afvist (lokationsnummer)",
        "Afsender, der blev afvist",
        "Antal negative kvitteringer",
        "Antal meddelelser i alt",
        "Andel negative kvitteringer (%)",
        "Fejlkode",
    ],
}

FULL_ROW = dict(
    AARHUS,
    lokationsnummer="5790000123117",
    sor_kode="311000016009",
    enhedsnavn="Sundhed og Omsorg",
    it_leverandoer="KMD",
    oprettet=dt.datetime(2023, 5, 1),
    lukket_dato=dt.datetime(2024, 1, 31),
    meddelelsestype="XDIS91",
    format="OIOXML",
    modpart_lokationsnummer="5790002407314",
    modpart="Odense Kommune",
    antal=3,
    antal_i_alt=12,
    seneste=dt.datetime(2024, 6, 1),
    fejlkode="MSG_Receiver_Identifier_UNKNOWN",
)


def frame(number, records):
    return canonical_frame(number, pd.DataFrame(records))


@pytest.mark.parametrize("number", range(1, 8))
def test_display_columns_and_labels_per_table(number):
    out = findings.display_table(frame(number, [FULL_ROW]), number)
    # Owner, place, vendor and excel_row are never shown: the page is per organisation.
    assert list(out.columns) == IDENTITY + LABELS[number]


def test_all_empty_columns_are_dropped_but_the_identity_columns_kept():
    out = findings.display_table(
        frame(6, [dict(AARHUS, lokationsnummer=None, meddelelsestype="XDIS91", antal=2)]), 6
    )
    assert list(out.columns) == [
        "Lokationsnummer",
        "Enhedsnavn",
        "SOR-kode",
        "It-system",
        "Meddelelsestype",
        "Antal negative kvitteringer",
    ]
    assert out["Lokationsnummer"].isna().all() and out["Enhedsnavn"].isna().all()


def test_empty_selection_keeps_every_column():
    out = findings.display_table(frame(2, []), 2)
    assert len(out) == 0
    assert list(out.columns) == IDENTITY + LABELS[2]


def test_sort_by_count_then_latest_message_then_location_number():
    df = frame(
        2,
        [
            dict(lokationsnummer="5790000000003", antal=5, seneste=dt.datetime(2024, 5, 1)),
            dict(lokationsnummer="5790000000001", antal=40, seneste=dt.datetime(2024, 1, 1)),
            dict(lokationsnummer="5790000000002", antal=5, seneste=dt.datetime(2024, 6, 1)),
            dict(lokationsnummer="5790000000004", antal=None, seneste=dt.datetime(2024, 7, 1)),
            dict(lokationsnummer="5790000000009", antal=5, seneste=dt.datetime(2024, 5, 1)),
            dict(lokationsnummer="5790000000005", antal=5, seneste=dt.datetime(2024, 5, 1)),
            dict(lokationsnummer="5790000000006", antal=5, seneste=None),
        ],
    )
    out = findings.sort_findings(df, 2)
    assert list(out.columns) == list(df.columns)
    assert list(out.index) == list(range(7))
    assert out["lokationsnummer"].str[-1].tolist() == ["1", "2", "3", "5", "9", "6", "4"]
    shown = findings.display_table(df, 2)
    assert shown["Lokationsnummer"].str[-1].tolist() == ["1", "2", "3", "5", "9", "6", "4"]
    assert shown["Antal meddelelser"].tolist()[:2] == [40, 5]


def test_sort_table_1_by_creation_date_and_table_4_by_location_then_row():
    t1 = frame(
        1,
        [
            dict(lokationsnummer="5790000000002", oprettet=dt.datetime(2020, 1, 1)),
            dict(lokationsnummer="5790000000001", oprettet=dt.datetime(2024, 1, 1)),
            dict(lokationsnummer="5790000000000", oprettet=dt.datetime(2020, 1, 1)),
        ],
    )
    assert findings.sort_findings(t1, 1)["lokationsnummer"].tolist() == [
        "5790000000001",
        "5790000000000",
        "5790000000002",
    ]
    t4 = frame(
        4,
        [
            dict(lokationsnummer="5790000000002", meddelelsestype="B", excel_row=3),
            dict(lokationsnummer="5790000000001", meddelelsestype="C", excel_row=9),
            dict(lokationsnummer="5790000000001", meddelelsestype="A", excel_row=4),
        ],
    )
    out = findings.sort_findings(t4, 4)
    assert out["excel_row"].tolist() == [4, 9, 3]


def test_location_numbers_are_13_digit_text_even_from_floats():
    df = frame(
        2,
        [
            dict(lokationsnummer=5.790000123117e12, modpart_lokationsnummer=5790002407314.0),
            dict(lokationsnummer="5790000126330.0", modpart_lokationsnummer=" 5790000135837 "),
        ],
    )
    out = findings.display_table(df, 2)
    assert sorted(out["Lokationsnummer"]) == ["5790000123117", "5790000126330"]
    assert sorted(out["Afsender lokationsnummer"]) == ["5790000135837", "5790002407314"]
    assert out["Lokationsnummer"].dtype == "str"


def test_gln_text_values():
    s = pd.Series(
        [
            5.790000123117e12,
            5790000160921,
            np.int64(5790002407314),
            "5,790000126330E+12",
            "5790000135837,0",
            None,
            "ukendt",
        ],
        dtype=object,
    )
    out = findings.gln_text(s)
    assert out.tolist()[:5] == [
        "5790000123117",
        "5790000160921",
        "5790002407314",
        "5790000126330",
        "5790000135837",
    ]
    assert pd.isna(out[5])
    assert out[6] == "ukendt"


def test_gln_text_of_text_columns_as_of_each_value(monkeypatch):
    # Loaded extracts hold text: digits pass in one vectorised step, the rest value by value.
    values = ["5790000123117", " 5790000123117 ", "5790000135837,0", "5,790000126330E+12"]
    values += [None, "ukendt", "0579", ""]
    s = pd.Series(values * 2, index=range(40, 56), dtype="str", name="lokationsnummer")
    monkeypatch.setattr(findings, "_VECTORISED_FROM", 0)
    out = findings.gln_text(s)
    assert out.dtype == "str" and out.name == "lokationsnummer"
    assert out.index.tolist() == list(range(40, 56))
    assert out.tolist()[:4] == ["5790000123117", "5790000123117", "5790000135837", "5790000126330"]
    assert pd.isna(out[44]) and out[45] == "ukendt" and out[46] == "0579" and pd.isna(out[47])
    assert out.iloc[8:].fillna("-").tolist() == out.iloc[:8].fillna("-").tolist()


def test_message_types_shown_with_danish_name():
    df = frame(
        4,
        [
            dict(lokationsnummer="5790000000001", meddelelsestype="XDIS91"),
            dict(lokationsnummer="5790000000002", meddelelsestype="xdis20 Sygehusadvis"),
            dict(lokationsnummer="5790000000003", meddelelsestype="Korrespondancemeddelelse"),
            dict(lokationsnummer="5790000000004", meddelelsestype=None),
        ],
    )
    out = findings.display_table(df, 4)
    assert out["Meddelelsestype"].tolist()[:3] == [
        "XDIS91 – Korrespondancemeddelelse",
        "XDIS20 – Sygehusadvis",
        "Korrespondancemeddelelse",
    ]
    assert pd.isna(out["Meddelelsestype"][3])


def test_dates_stay_dates_without_time_of_day():
    df = frame(
        2,
        [
            dict(
                lokationsnummer="5790000123117",
                antal=1,
                seneste=dt.datetime(2024, 6, 1, 14, 30),
                lukket_dato=dt.datetime(2024, 1, 31, 23, 59),
            )
        ],
    )
    out = findings.display_table(df, 2)
    assert out["Seneste meddelelse"].dtype.kind == "M"
    assert out["Seneste meddelelse"][0] == pd.Timestamp(2024, 6, 1)
    assert out["Lukket dato"][0] == pd.Timestamp(2024, 1, 31)


def test_share_of_negative_receipts():
    pairs = [(1, 8), (2, 3), (3, None), (0, 0), (5, 4), (4, 4), (0, 7)]
    df = frame(
        6,
        [
            dict(lokationsnummer=f"579000000000{i}", antal=a, antal_i_alt=t)
            for i, (a, t) in enumerate(pairs)
        ],
    )
    table = findings.display_table(df, 6).set_index("Lokationsnummer")
    out = table["Andel negative kvitteringer (%)"]
    got = {k[-1]: v for k, v in out.items()}
    assert got["0"] == 12.5
    assert got["1"] == 66.7
    assert got["5"] == 100.0
    assert got["6"] == 0.0
    assert all(math.isnan(got[k]) for k in "234")  # total unknown, zero, or below the count
    assert out.dtype == "float64"
    # On a web page in Danish notation; Excel gets the numbers.
    web = findings.for_web(table)["Andel negative kvitteringer (%)"]
    shown = {k[-1]: v for k, v in web.items()}
    assert [shown[k] for k in "0156"] == ["12,5", "66,7", "100", "0"]
    assert all(shown[k] == "" for k in "234") and web.dtype == "str"  # not "NaN"
    counts = findings.for_web(table)["Antal negative kvitteringer"]
    assert counts.dtype == "Int64" and counts.equals(table["Antal negative kvitteringer"])


def test_repeat_locations_exact():
    extract = make_extract(
        {
            1: rows(AARHUS, "5790000123117", enhedsnavn="Hjemmeplejen Nord")
            + rows(AARHUS, "5790000160921", enhedsnavn="Tandplejen"),
            2: rows(AARHUS, "5790000123117", 2, enhedsnavn="Hjemmeplejen N.", antal=5)
            + rows(ODENSE, "5790002407314", antal=1),
            3: rows(dict(AARHUS, it_system=None), "5790000160921", enhedsnavn=None),
            6: rows(AARHUS, "5790000123117", antal=7) + rows(ODENSE, "5790002407314", antal=1),
            7: rows(REGION, "5790000135837", antal=2),
        }
    )
    out = findings.repeat_locations(extract)
    assert list(out.columns) == [
        "lokationsnummer",
        "enhedsnavn",
        "it_system",
        "tabeller",
        "antal_tabeller",
    ]
    records = out.astype(object).where(out.notna(), None).to_dict("records")
    assert records == [
        dict(
            lokationsnummer="5790000123117",
            enhedsnavn="Hjemmeplejen Nord",
            it_system="KMD Nexus",
            tabeller=[1, 2, 6],
            antal_tabeller=3,
        ),
        dict(
            lokationsnummer="5790000160921",
            enhedsnavn="Tandplejen",
            it_system="KMD Nexus",
            tabeller=[1, 3],
            antal_tabeller=2,
        ),
        dict(
            lokationsnummer="5790002407314",
            enhedsnavn=None,
            it_system="Cura",
            tabeller=[2, 6],
            antal_tabeller=2,
        ),
    ]
    assert out["antal_tabeller"].dtype == "int64"


def test_repeat_locations_none_and_display():
    assert findings.repeat_locations(make_extract({2: rows(AARHUS, "5790000123117", 3)})).empty
    assert findings.repeat_locations(make_extract({})).empty
    out = findings.repeat_locations_display(small_extract())
    assert list(out.columns) == [
        "Lokationsnummer",
        "Enhedsnavn",
        "It-system",
        "Tabeller",
        "Antal tabeller",
    ]
    assert out.values.tolist() == [
        ["5790000123117", "Hjemmeplejen Nord", "KMD Nexus", "1, 2, 6", 3]
    ]


@pytest.mark.parametrize(
    ("rows_", "median", "missing", "expected"),
    [
        (5, 2.0, True, "mangler"),
        (0, 0.0, True, "mangler"),
        (0, 0.0, False, "ingen"),
        (0, 3.0, False, "ingen"),
        (1, 0.0, False, "over"),
        (3, 3.0, False, "under"),
        (4, 3.0, False, "over"),
        (1, 1.5, False, "under"),
        (2, 1.5, False, "over"),
        (5, None, False, "fund"),
        (0, None, False, "ingen"),
    ],
)
def test_status_boundaries(rows_, median, missing, expected):
    assert findings.status(rows_, median, missing) == expected


@pytest.mark.parametrize(
    ("rows_", "typical", "expected"),
    [
        # Median 0 (most peers have nothing): one finding stands out only if others have fewer.
        (1, 0.0, "over"),
        (1, 1.0, "under"),
        (1, 3.0, "under"),
        (4, 3.0, "over"),
        (3, 3.0, "under"),
    ],
)
def test_status_compares_with_what_is_typical_where_there_are_findings(rows_, typical, expected):
    assert findings.status(rows_, 0.0, False, typical) == expected


def test_standing_among_peers():
    extract = make_extract(
        {
            1: rows(AARHUS, "5790000123117", 3)
            + rows(ODENSE, "5790002407314", 1)
            + rows(dict(ODENSE, ejer="Vejle Kommune", kommune="Vejle"), "5790000160921", 2),
        }
    )
    t = summarise(extract, "Aarhus").tasks[0]
    # All 97 other municipalities have fewer than 3 (100 %); the others with findings have 1
    # and 2. Odense: 95 of the 97 others have fewer than its 1 (97 %, rounded down).
    # Two of Aarhus's 97 others have findings (2 %), two of Odense's (Aarhus and Vejle).
    assert (t.peers_fewer, t.peers_with_findings, t.median_with_findings) == (100, 2, 1.5)
    assert summary.standing_text(t.peers_fewer, "Kommune") == "flest blandt kommunerne"
    t = summarise(extract, "Odense").tasks[0]
    assert (t.peers_fewer, t.peers_with_findings, t.median_with_findings) == (97, 2, 2.5)
    assert summary.standing_text(97, "Kommune") == "flere end 97 % af kommunerne"
    assert summary.standing_text(0, "Region") == "ingen af regionerne har færre"
    # The organisation is left out by who it is, not by its count: narrowed to an IT system
    # Aarhus has 0 here, yet the other 97 are still the ones compared with (Odense's 1 and
    # Vejle's 2 are not fewer; the 95 others' 0 is not fewer either).
    narrowed = summarise(extract, "Aarhus", it_system="ingen sådan").tasks[0]
    assert (narrowed.rows, narrowed.peers_fewer, narrowed.median_with_findings) == (0, 0, 1.5)
    # Rounded down, but never to 0 when one has fewer, nor to 100 unless all have.
    assert summary.share_fewer(1, [0] + [5] * 149) == 1
    assert summary.share_fewer(5, [0] * 199 + [5]) == 99
    assert summary.share_fewer(4, []) is None  # no other peer
    assert findings.task_status(t) == "under"
    assert summarise(extract).tasks[0].peers_fewer is None
    assert summarise(extract).tasks[0].peers_with_findings is None


def test_status_labels_and_colours():
    assert [findings.status_label(s) for s in findings.STATUSES] == [
        "Tabellen mangler i udtrækket",
        "Ingen fund",
        "Fund, ikke flere end typisk",
        "Flere fund end typisk",
        "Fund",
    ]
    colours = [findings.status_colour(s) for s in findings.STATUSES]
    assert all(c.startswith("#") and len(c) == 7 for c in colours)
    assert len(set(colours)) == len(colours)


def test_task_overview_for_a_municipality():
    out = findings.task_overview(summarise(small_extract(), "Aarhus"))
    assert list(out.columns) == [
        "Tabel",
        "Opgave",
        "Fund",
        "Lokationsnumre",
        "Meddelelser",
        "Negative kvitteringer",
        "Heraf SOR-EDI-fejl",
        "Median",
        "Andre med fund (%)",
        "Typisk blandt de andre med fund",
        "Status",
    ]
    assert out["Tabel"].tolist() == list(range(1, 8))
    assert out["Opgave"][1] == "Lukkede lokationsnumre med indgående trafik"
    assert out["Fund"].tolist() == [2, 2, 0, 0, 0, 1, pd.NA]
    assert out["Lokationsnumre"].tolist() == [2, 1, 0, 0, 0, 1, pd.NA]
    assert out["Meddelelser"].tolist() == [pd.NA, 10, 0, pd.NA, 0, pd.NA, pd.NA]
    assert out["Negative kvitteringer"].tolist() == [pd.NA] * 5 + [7, pd.NA]
    assert out["Heraf SOR-EDI-fejl"].tolist() == [pd.NA] * 7  # no error codes in the extract
    assert out["Median"].tolist()[:6] == [0.0] * 6 and math.isnan(out["Median"][6])
    # How many of the other municipalities have findings there, as `summary` says: in table 2
    # one of the 97 (rounded down, but not to 0), and it has the one finding that is typical.
    assert out["Andre med fund (%)"].tolist() == [0, 1, 0, 0, 0, 0, pd.NA]
    assert out["Typisk blandt de andre med fund"].tolist()[:6] == [0, 1, 0, 0, 0, 0]
    over, none = "Flere fund end typisk", "Ingen fund"
    assert out["Status"].tolist() == [
        over,
        over,
        none,
        none,
        none,
        over,
        "Tabellen mangler i udtrækket",
    ]


def test_task_overview_under_median_and_national():
    # The only private owner: its median is its own count, and there is nobody else to
    # compare with, so no share or typical figure, and a status that says only "findings".
    clinic = findings.task_overview(summarise(small_extract(), "Lægerne Søndergade"))
    assert (clinic["Fund"][3], clinic["Median"][3]) == (3, 3.0)
    assert clinic["Andre med fund (%)"][3] is pd.NA
    assert math.isnan(clinic["Typisk blandt de andre med fund"][3])
    assert clinic["Status"][3] == "Fund"
    national = findings.task_overview(summarise(small_extract()))
    peers = ["Median", "Andre med fund (%)", "Typisk blandt de andre med fund"]
    assert not set(peers) & set(national.columns)
    assert national["Status"].tolist() == ["Fund"] * 2 + ["Ingen fund"] + ["Fund"] + [
        "Ingen fund",
        "Fund",
        "Tabellen mangler i udtrækket",
    ]
    aarhus = summarise(small_extract(), "Aarhus")
    assert findings.task_status(aarhus.tasks[0]) == "over"
    red, green, grey = (findings.status_colour(s) for s in ("over", "ingen", "mangler"))
    assert findings.task_overview_colours(aarhus) == [red, red, green, green, green, red, grey]


def test_task_responsibilities_per_action_and_owner():
    # Table 4 for an IT system's report: each finding's own owner type decides.
    df = frame(
        4,
        rows(AARHUS, "5790000123117", 2)
        + rows(dict(AARHUS, it_system="Acure"), "5790000160921", it_leverandoer="Acure A/S")
        + rows(CLINIC, "5790000126330", 2)
        + rows(dict(CLINIC, ejertype="Stat"), "5790000135837"),
    )
    out = findings.task_responsibilities(df, 4)
    assert list(out.columns) == ["Handling", "Rolle", "Ansvarlig", "Lokationsnumre"]
    role = "SOR-EDI-administrator (i SOR-EDI)"
    assert out.values.tolist() == [
        ["Fjern forkerte meddelelsestyper", role, "It-leverandøren (Acure A/S)", 1],
        ["Fjern forkerte meddelelsestyper", role, "Leverandøren af XMO", 1],
        ["Fjern forkerte meddelelsestyper", role, "MedCom (sor@medcom.dk)", 1],
        [
            "Fjern forkerte meddelelsestyper",
            role,
            "Vejledningen har ingen regel for statslige enheder – kontakt MedCom (sor@medcom.dk)",
            1,
        ],
    ]


def test_task_responsibilities_follow_the_guides_order():
    df = frame(1, rows(AARHUS, "5790000123117", 2) + rows(REGION, "5790000135837"))
    out = findings.task_responsibilities(df, 1)
    assert out[["Handling", "Ansvarlig", "Lokationsnumre"]].values.tolist() == [
        ["a.1 Fjern it-systemoplysninger på enheden", "Kommunens egne SOR-administratorer", 1],
        ["a.1 Fjern it-systemoplysninger på enheden", "Regionens egne SOR-administratorer", 1],
        ["a.2 Luk lokationsnummeret (luk SOR-enheden)", "Kommunens egne SOR-administratorer", 1],
        ["a.2 Luk lokationsnummeret (luk SOR-enheden)", "Regionens egne SOR-administratorer", 1],
        ["b. Markér til intern brug", "Kommunens egne SOR-administratorer", 1],
        ["b. Markér til intern brug", "Regionens egne SOR-administratorer", 1],
        ["c. Tilføj meddelelsestyper", "MedCom (sor@medcom.dk)", 1],
        ["c. Tilføj meddelelsestyper", "Regionens egne SOR-EDI-administratorer", 1],
    ]


def test_overview_responsibilities_count_location_numbers_once():
    tables = {
        1: frame(1, rows(AARHUS, "5790000123117")),
        4: frame(4, rows(AARHUS, "5790000123117") + rows(AARHUS, "5790000160921")),
        2: frame(2, rows(AARHUS, "5790000160921", antal=3)),
    }
    out = findings.overview_responsibilities(tables)
    assert list(out.columns) == ["Rolle", "Ansvarlig", "Tabeller", "Lokationsnumre"]
    assert out.values.tolist() == [
        ["SOR-administrator (i SOR)", "Kommunens egne SOR-administratorer", "1", 1],
        ["SOR-EDI-administrator (i SOR-EDI)", "MedCom (sor@medcom.dk)", "1, 4", 2],
        ["It-leverandør", "Leverandøren af KMD Nexus", "2", 1],
        ["Afsender", "Afsenderen (se fundets modpart)", "2", 1],
    ]
    assert findings.overview_responsibilities({}).empty


def test_status_colours_have_legible_text():
    """WCAG AA: at least 4.5:1 between each status colour and the text shown on it."""
    from soredi_nb.notebook import readable_on

    def luminance(c: str) -> float:
        rgb = [int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    for status in findings.STATUSES:
        bg = findings.status_colour(status)
        fg = readable_on(bg)
        light, dark = sorted((luminance(bg), luminance(fg)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (status, bg, fg)
    assert readable_on("#c62828") == "#ffffff" and readable_on("#f9a825") == "#000000"
