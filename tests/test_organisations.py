from dataclasses import replace

import pandas as pd
import pytest
from factories import AARHUS, CLINIC, make_extract, rows, small_extract

from soredi_nb.exceptions import OrganisationError
from soredi_nb.organisations import (
    Organisation,
    filter_extract,
    identities,
    list_organisations,
    resolve,
)

AARHUS_ORG = Organisation("Aarhus Kommune", "Kommune", "0751")


@pytest.mark.parametrize(
    "query",
    ["aarhus", "Aarhus", "AARHUS KOMMUNE", "aarhus kommune", 751, "751", "0751", " Aarhus "],
)
def test_resolve_municipality_spellings(query):
    assert resolve(query) == AARHUS_ORG


@pytest.mark.parametrize(
    ("query", "name", "code"),
    [
        (1083, "Region Syddanmark", "1083"),
        ("region syddanmark", "Region Syddanmark", "1083"),
        ("Midtjylland", "Region Midtjylland", "1082"),
        ("region sjaelland", "Region Sjælland", "1085"),
    ],
)
def test_resolve_region(query, name, code):
    assert resolve(query) == Organisation(name, "Region", code)


def test_resolve_danish_letters_and_transliteration():
    assert resolve("københavn").name == "Københavns Kommune"
    assert resolve("Koebenhavns kommune").code == "0101"
    assert resolve(101).name == "Københavns Kommune"


def test_resolve_private_owner_from_extract():
    org = resolve("lægerne søndergade", small_extract())
    assert org == Organisation("Lægerne Søndergade", "Privat", None)


def test_unknown_organisation_lists_close_matches():
    with pytest.raises(OrganisationError) as err:
        resolve("Aarhuss")
    msg = str(err.value)
    assert "'Aarhuss' findes hverken" in msg
    assert "Mente du: Aarhus Kommune" in msg
    assert msg.endswith("soredi-nb orgs UDTRÆK")  # no extract given: the placeholder
    # With the extract: the command names it, quoted for the shell.
    extract = small_extract()
    extract = replace(extract, info=replace(extract.info, file="mine udtræk/okt.xlsx"))
    with pytest.raises(OrganisationError) as err:
        resolve("Aarhuss", extract)
    assert str(err.value).endswith("soredi-nb orgs 'mine udtræk/okt.xlsx'")
    aliased = replace(extract, info=replace(extract.info, aliases="/x/alias er.yaml"))
    with pytest.raises(OrganisationError) as err:
        resolve("Aarhuss", aliased)
    assert str(err.value).endswith("orgs 'mine udtræk/okt.xlsx' --aliases '/x/alias er.yaml'")


def test_private_owner_unknown_without_extract():
    with pytest.raises(OrganisationError):
        resolve("Lægerne Søndergade")


def test_identities_resolve_each_pair_of_cells_row_by_row():
    # Not in order, repeated pairs, a blank owner, a blank type, one name under two types.
    df = pd.DataFrame(
        {
            "ejer": pd.array(
                [
                    "Aarhus",
                    "Aarhus Kommune",
                    None,
                    "Aarhus",
                    " aarhus  KOMMUNE",
                    "Aarhus",
                    "Klinik",
                ],
                dtype="str",
            ),
            "ejertype": pd.array(
                ["Kommune", None, "Privat", "Privat", "Privat", "Kommune", None], dtype="str"
            ),
        },
        index=[40, 7, 3, 12, 5, 8, 1],
    )
    got = identities(df)
    assert got.index.tolist() == [40, 7, 3, 12, 5, 8, 1]
    assert got.fillna("-").tolist() == [
        "Kommune:aarhus kommune",
        "Kommune:aarhus kommune",
        "-",
        "Privat:aarhus",
        "Kommune:aarhus kommune",
        "Kommune:aarhus kommune",
        "Privat:klinik",
    ]


def test_resolve_by_name_chooses_among_owners_of_that_name():
    ex = make_extract(
        {
            1: rows(dict(CLINIC, ejer="Lægehuset Nord"), "5790000123117")
            + rows(dict(CLINIC, ejer="Lægehuset  nord", ejertype="Stat"), "5790000123118")
        }
    )
    with pytest.raises(OrganisationError) as err:
        resolve("lægehuset nord", ex)
    assert "Privat:Lægehuset Nord" in str(err.value) and "Stat:Lægehuset nord" in str(err.value)
    assert resolve("Stat:Lægehuset nord", ex) == Organisation("Lægehuset nord", "Stat")


def test_filter_by_owner_keeps_only_its_rows_and_warnings():
    ex = filter_extract(small_extract(), "aarhus")
    assert {n: len(df) for n, df in ex.tables.items()} == {1: 2, 2: 2, 3: 0, 4: 0, 5: 0, 6: 1}
    assert ex.missing == [7]
    # Row-level warnings follow the rows; sheet-level ones stay.
    assert [(w.sheet, w.row) for w in ex.warnings] == [("1 Tabel", 2), (None, None)]


def test_filter_unifies_owner_spelling():
    ex = make_extract({1: rows(dict(AARHUS, ejer="  aarhus   KOMMUNE "), "5790000123117")})
    assert len(filter_extract(ex, 751).table(1)) == 1


def test_short_name_owner_is_not_the_municipality():
    # A private owner called just "Aarhus" is not Aarhus Kommune.
    ex = make_extract({1: rows(dict(CLINIC, ejer="Aarhus"), "5790000123117")})
    assert len(filter_extract(ex, "Aarhus Kommune").table(1)) == 0


def test_known_municipality_without_rows_is_valid_and_empty():
    ex = filter_extract(small_extract(), "Ærø")
    assert all(len(df) == 0 for df in ex.tables.values())


def test_narrowing_filters():
    ex = small_extract()
    assert len(filter_extract(ex, it_system="nexus").table(2)) == 2
    assert len(filter_extract(ex, region=1083).table(2)) == 1
    assert len(filter_extract(ex, kommune="0751").table(6)) == 2
    assert len(filter_extract(ex, enhedsnavn="tandpleje").table(1)) == 1
    assert len(filter_extract(ex, "Region Midtjylland", it_system="Columna").table(6)) == 1
    with pytest.raises(OrganisationError, match="Regionen 'Fyn'"):
        filter_extract(ex, region="Fyn")


def test_the_same_selection_twice_is_the_same_and_another_is_not_mixed_up():
    ex = small_extract()
    counts = {n: len(df) for n, df in filter_extract(ex, "aarhus").tables.items()}
    # Asked again in a row (a page and its summary): the kept selection, same rows.
    again = filter_extract(ex, "Aarhus Kommune")
    assert again is filter_extract(ex, 751)
    assert {n: len(df) for n, df in again.tables.items()} == counts
    # Another organisation, or the same with a filter, is filtered anew.
    assert {n: len(df) for n, df in filter_extract(ex, "odense").tables.items()} != counts
    narrowed = filter_extract(ex, "aarhus", it_system="nexus")
    assert narrowed is not again and len(narrowed.table(1)) <= counts[1]
    assert {n: len(df) for n, df in filter_extract(ex, "aarhus").tables.items()} == counts


def test_list_organisations_counts():
    df = list_organisations(small_extract())
    assert df["organisation"].tolist() == [
        "Aarhus Kommune",
        "Odense Kommune",
        "Lægerne Søndergade",
        "Region Midtjylland",
    ]
    aarhus = df.iloc[0]
    assert aarhus[["tabel_1", "tabel_2", "tabel_6", "i_alt", "lokationsnumre"]].tolist() == [
        2,
        2,
        1,
        5,
        2,
    ]
    assert "tabel_7" not in df.columns


def test_list_organisations_by_it_system():
    df = list_organisations(small_extract(), by="it_system").set_index("organisation")
    assert df.loc["XMO", "tabel_4"] == 3
    assert df.loc["KMD Nexus", "i_alt"] == 5
