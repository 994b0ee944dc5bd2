from factories import AARHUS, make_extract, rows, small_extract

from soredi_nb.summary import summarise
from soredi_nb.texts import text


def by_number(summary):
    return {t.number: t for t in summary.tasks}


def test_organisation_summary_figures():
    s = summarise(small_extract(), "Aarhus")
    t = by_number(s)
    assert [(t[n].rows, t[n].location_numbers, t[n].messages) for n in (1, 2, 4, 6)] == [
        (2, 2, None),
        (2, 1, 10),
        (0, 0, None),
        (1, 1, 7),
    ]
    assert t[7].missing and t[7].rows == 0 and t[7].messages is None
    assert not s.no_cleanup_task


def test_medians_are_over_all_98_municipalities():
    t = by_number(summarise(small_extract(), "Aarhus"))
    # Two municipalities out of 98 have findings in table 2: the median one has none.
    assert (t[2].median_rows, t[2].median_messages) == (0.0, 0.0)


def test_region_medians_over_five_regions():
    t = by_number(summarise(small_extract(), "Region Midtjylland"))
    assert t[6].rows == 1 and t[6].median_rows == 0.0


def test_private_peer_group_is_owners_in_extract():
    t = by_number(summarise(small_extract(), "Lægerne Søndergade"))
    assert (t[4].rows, t[4].median_rows) == (3, 3.0)


def test_no_cleanup_task_for_municipality_without_rows():
    every_table = make_extract({n: rows(AARHUS, "5790000123117") for n in range(1, 8)})
    s = summarise(every_table, "Ærø Kommune")
    assert s.no_cleanup_task
    assert s.to_dict()["no_cleanup_task"] is True
    assert s.empty_note() == (
        "Ingen oprydningsopgave: Ærø Kommune har ingen fund i udtrækkets syv tabeller, så der er"
        " intet at rydde op (jf. vejledningen)."
    )


def test_national_summary_and_json_shape():
    s = summarise(small_extract())
    d = s.to_dict()
    assert set(d) == {"organisation", "extract", "no_cleanup_task", "tasks", "warnings"}
    assert d["organisation"] is None
    assert set(d["extract"]) == {"file", "sha256", "period", "extract_date"}
    assert [t["rows"] for t in d["tasks"]] == [2, 3, 0, 3, 0, 2, 0]
    assert [t["missing"] for t in d["tasks"]] == [False] * 6 + [True]
    assert set(d["tasks"][0]) == {
        "number",
        "name",
        "rows",
        "location_numbers",
        "messages",
        "missing",
        "sor_edi_receipts",
        "unclassified_receipts",
        "median_rows",
        "median_location_numbers",
        "median_messages",
        "peers_fewer",
        "peers_with_findings",
        "median_with_findings",
    }
    # The whole extract has no peers to compare with.
    assert {t["median_rows"] for t in d["tasks"]} == {None}
    assert {t["peers_fewer"] for t in d["tasks"]} == {None}
    assert {t["peers_with_findings"] for t in d["tasks"]} == {None}
    # small_extract has no error codes: the SOR-EDI share of table 6 cannot be known.
    assert [(t["sor_edi_receipts"], t["unclassified_receipts"]) for t in d["tasks"][5:]] == [
        (None, 9),
        (None, None),
    ]
    assert set(d["warnings"][0]) == {"sheet", "row", "column", "value", "message"}
    assert d["tasks"][1]["messages"] == 50


def test_frame_has_danish_labels():
    df = summarise(small_extract(), "Aarhus").frame()
    assert list(df.columns[:8]) == [
        "Tabel",
        "Opgave",
        "Fund",
        "Lokationsnumre",
        "Meddelelser",
        "Negative kvitteringer",
        "Heraf SOR-EDI-fejl",
        "Mangler",
    ]
    assert "Median fund" in df.columns and "Median negative kvitteringer" in df.columns
    # Tables 6 and 7 count negative receipts, never messages.
    assert df["Meddelelser"].isna().tolist() == [True, False, False, True, False, True, True]
    assert df["Negative kvitteringer"].tolist()[5] == 7
    assert "Median fund" not in summarise(small_extract()).frame().columns
    # Every column under a Danish label; the peer comparison only where there are peers.
    labels = set(text("summary.columns").values())
    assert set(df.columns) <= labels
    assert {"Flere fund end (% af de andre)", "Typisk blandt de andre med fund"} <= set(df.columns)
    national = summarise(small_extract()).frame()
    assert set(national.columns) <= labels
    assert not any("de andre" in c or c.startswith("Median") for c in national.columns)


def test_no_findings_wording_follows_the_guide():
    """ "Ingen oprydningsopgave" only with all seven tables and no filter."""
    extract = small_extract()  # table 7 is missing
    odense = summarise(extract, "Odense", it_system="XMO")
    assert odense.empty and not odense.no_cleanup_task
    assert odense.empty_note() == "Ingen fund for Odense Kommune med de valgte filtre."
    nowhere = summarise(extract, "Ærø")
    assert nowhere.empty and not nowhere.no_cleanup_task
    assert nowhere.empty_note() == (
        "Ingen fund for Ærø Kommune i de tabeller, der er med; tabel 7 mangler i udtrækket og"
        " kan ikke vurderes."
    )
    assert summarise(extract, "Aarhus").empty_note() is None
