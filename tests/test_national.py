"""The whole extract at a glance: every municipality and region, every row counted once."""

from __future__ import annotations

import pandas as pd
import pytest

from soredi_nb import national, reference
from soredi_nb.compare import compare
from soredi_nb.load import load_extract
from soredi_nb.organisations import owner
from soredi_nb.sample import make_sample, write_extract


@pytest.fixture(scope="module")
def sample():
    return make_sample()


@pytest.fixture(scope="module")
def extract(sample, tmp_path_factory):
    return load_extract(write_extract(sample, tmp_path_factory.mktemp("nat") / "udtraek.xlsx"))


def test_every_municipality_and_region_once_and_every_row_counted(sample, extract):
    table = national.organisation_table(extract)
    named = table[table["identity"].notna()]
    assert named["ejertype"].value_counts().to_dict() == {"Kommune": 98, "Region": 5}
    assert named["identity"].is_unique
    expected = {*reference.municipalities()["navn"], *reference.regions()["region"]}
    assert set(named["organisation"]) == expected
    # The column of totals adds up to every row of the extract, owners or not.
    assert table["i_alt"].sum() == sum(len(df) for df in sample["tables"].values())
    for n, df in sample["tables"].items():
        assert table[f"tabel_{n}"].sum() == len(df)
        aarhus = table.set_index("organisation").loc["Aarhus Kommune", f"tabel_{n}"]
        assert aarhus == (df["ejer"] == "Aarhus Kommune").sum()
    # Private owners are one row, counted, unless they have a report set of their own.
    [private] = table[table["identity"].isna() & table["ejertype"].eq("Privat")].itertuples()
    owners = {
        e for df in sample["tables"].values() for e in df.loc[df["ejertype"] == "Privat", "ejer"]
    }
    assert private.owners == len(owners) and private.organisation.endswith(f"({len(owners)} ejere)")


def test_work_first_lists_who_has_most_to_do_first(extract):
    table = national.organisation_table(extract)
    listed = national.work_first(table)
    # The same rows, nothing lost or doubled, only in another order.
    assert sorted(listed["organisation"]) == sorted(table["organisation"])
    assert listed["i_alt"].sum() == table["i_alt"].sum()
    named = listed[listed["identity"].notna()]
    assert list(named.index) == list(range(len(named)))  # every grouped row comes after them
    assert named["i_alt"].is_monotonic_decreasing
    most = table.loc[table["identity"].notna(), "i_alt"].max()
    assert named["i_alt"].iloc[0] == most and named["organisation"].iloc[0] == "Region Syddanmark"
    # Among equals the table's order stays: by type, then by name as a Danish list.
    none = named[named["i_alt"].eq(0)]
    assert (none["organisation"].iloc[0], none["organisation"].iloc[-1]) == (
        "Aalborg Kommune",
        "Ærø Kommune",
    )
    assert list(none["organisation"]) == [
        o for o in table["organisation"] if o in set(none["organisation"])
    ]
    grouped = listed[listed["identity"].isna()]
    assert list(grouped["organisation"]) == list(
        table.loc[table["identity"].isna(), "organisation"]
    )


def test_status_names_none_some_and_the_standing_among_peers(extract):
    table = national.organisation_table(extract).set_index("organisation")
    assert table.loc["Aalborg Kommune", "status"] == "Ingen oprydningsopgave"
    municipalities = table[table["ejertype"].eq("Kommune")]
    # Compared with the 97 other municipalities: the one with the most has the most of them.
    aarhus = municipalities.loc["Aarhus Kommune", "i_alt"]
    assert (municipalities["i_alt"] < aarhus).sum() == 97
    assert table.loc["Aarhus Kommune", "status"] == f"{aarhus} fund – flest blandt kommunerne"
    middle = municipalities[municipalities["i_alt"].between(1, aarhus - 1)].index[0]
    count = municipalities.loc[middle, "i_alt"]
    share = 100 * (municipalities["i_alt"] < count).sum() // 97
    assert 0 < share < 100
    assert table.loc[middle, "status"] == f"{count} fund – flere end {share} % af kommunerne"
    regions = table[table["ejertype"].eq("Region")]
    fewest = regions["i_alt"].idxmin()
    assert table.loc[fewest, "status"].endswith("ingen af regionerne har færre")
    assert table.iloc[-1]["status"] == f"{table.iloc[-1]['i_alt']} fund"  # no peers to rank


def test_own_report_lists_an_owner_by_name_and_danish_order(sample, extract):
    names = list(national.organisation_table(extract)["organisation"])
    assert names[0] == "Aabenraa Kommune" and names[97] == "Ærø Kommune"
    assert names[98] == "Region Hovedstaden"
    clinic = owner(sample["tables"][1].query("ejertype == 'Privat'")["ejer"].iloc[0], "Privat")
    table = national.organisation_table(extract, "ejer", [clinic.identity])
    row = table[table["identity"].eq(clinic.identity)]
    assert list(row["organisation"]) == [clinic.name] and row["status"].iloc[0].endswith(" fund")
    # The clinic left the private owners' row, and no row was lost.
    grouped = table[table["identity"].isna() & table["ejertype"].eq("Privat")]
    assert grouped["i_alt"].sum() + row["i_alt"].sum() == (
        national.organisation_table(extract).query("ejertype == 'Privat'")["i_alt"].sum()
    )


def test_missing_table_is_na_not_zero(tmp_path):
    sample = make_sample()
    del sample["tables"][3]
    extract = load_extract(write_extract(sample, tmp_path / "uden3.xlsx"))
    table = national.organisation_table(extract)
    assert table["tabel_3"].isna().all() and table["tabel_1"].notna().all()
    assert table.loc[table["i_alt"].eq(0), "status"].iloc[0] == (
        "Ingen fund (tabel 3 mangler i udtrækket)"
    )


def test_by_it_system_one_row_per_system_and_every_row_counted(sample, extract):
    table = national.organisation_table(extract, "it_system")
    assert table["i_alt"].sum() == sum(len(df) for df in sample["tables"].values())
    systems = {s.casefold() for df in sample["tables"].values() for s in df["it_system"].dropna()}
    assert len(table["identity"].dropna()) == len(systems)


def test_changes_count_new_and_resolved_per_organisation(sample, extract, tmp_path):
    later = make_sample()
    t2 = later["tables"][2]
    aarhus = t2.index[t2["ejer"] == "Aarhus Kommune"]
    later["tables"][2] = pd.concat(
        [t2.drop(aarhus[:1]), t2.loc[aarhus[:1]].assign(lokationsnummer="5790000100002")],
        ignore_index=True,
    )
    newer = load_extract(write_extract(later, tmp_path / "senere.xlsx"))
    table = national.organisation_table(newer)
    changes = national.changes(compare(extract, newer), table)
    changes = dict(zip(table["organisation"], changes, strict=True))
    assert changes["Aarhus Kommune"] == "±0 (1 nyt, 1 løst)"
    assert changes["Aalborg Kommune"] == "±0 (0 nye, 0 løste)"
