"""Progress between two extracts: the finding key, multiset matching, compare() and the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from factories import AARHUS, CLINIC, GONE_T1, NEW_GLN, OWNER, make_extract, rows

from soredi_nb.compare import compare, finding_key, match_findings
from soredi_nb.exceptions import OrganisationError
from soredi_nb.extract import canonical_frame

# Per task, as changed_sample() changes Aarhus's findings; table 7 is missing from the new one.
EXPECTED = [
    {"number": 1, "new": 0, "resolved": 1, "persisting": 1, "comparable": True},
    {"number": 2, "new": 1, "resolved": 0, "persisting": 3, "comparable": True},
    {"number": 3, "new": 0, "resolved": 0, "persisting": 1, "comparable": True},
    {"number": 4, "new": 0, "resolved": 0, "persisting": 2, "comparable": True},
    {"number": 5, "new": 1, "resolved": 1, "persisting": 2, "comparable": True},
    {"number": 6, "new": 1, "resolved": 0, "persisting": 3, "comparable": True},
    {"number": 7, "new": None, "resolved": None, "persisting": None, "comparable": False},
]


# --- the key and the matching ------------------------------------------------------------------


def test_finding_key_per_table_and_spelling():
    types = [
        "XDIS91 Korrespondancemeddelelse",
        "XDIS91 – Korrespondancemeddelelse",
        "Min egen  Type",
        None,
    ]
    df = canonical_frame(
        2,
        pd.DataFrame(
            {
                "lokationsnummer": ["5790000123117"] * 3 + [None],
                "meddelelsestype": types,
                "modpart_lokationsnummer": ["5790002407314"] * 2 + [None, None],
            }
        ),
    )
    assert finding_key(df, 2).tolist() == [
        "5790000123117|XDIS91|5790002407314",
        "5790000123117|XDIS91|5790002407314",
        "5790000123117|min egen type|",
        "||",
    ]
    # Table 1 has neither message type nor counterpart; Excel's float survives as digits.
    t1 = pd.DataFrame({"lokationsnummer": [5.790000123117e12], "meddelelsestype": ["XDIS91"]})
    assert finding_key(t1, 1).tolist() == ["5790000123117"]


def test_match_findings_is_a_multiset_and_keeps_units_apart():
    shared = [dict(AARHUS, lokationsnummer="5790000123117", sor_kode=s) for s in ("11", "22", "33")]
    old = canonical_frame(1, pd.DataFrame(shared))
    new = canonical_frame(1, pd.DataFrame([shared[0], shared[2]]))
    # Unit 33 keeps its own row although it moved up one place.
    assert match_findings(old, new, 1).values.tolist() == [[0, 0], [2, 1]]

    twice = canonical_frame(4, pd.DataFrame(rows(CLINIC, "5790000126330", 2, meddelelsestype="X")))
    once = twice.iloc[:1]
    assert len(match_findings(twice, once, 4)) == 1
    assert len(match_findings(once, twice, 4)) == 1
    assert match_findings(twice.iloc[:0], twice, 4).empty


# --- compare() ---------------------------------------------------------------------------------


def test_compare_counts_per_task(extracts):
    old, new = extracts
    result = compare(old, new, "aarhus")
    assert result.organisation.name == OWNER
    assert [t.to_dict() for t in result.tasks] == EXPECTED
    assert (result.task(7).old_rows, result.task(7).new_rows) == (9, None)
    assert [result.task(n).new_rows for n in range(1, 7)] == [1, 4, 1, 2, 3, 4]


def test_compare_frames_of_resolved_and_new(extracts):
    old, new = extracts
    result = compare(old, new, 751)
    assert result.resolved(1)["lokationsnummer"].tolist() == [GONE_T1]
    assert result.new(1).empty
    assert result.new(2)["modpart_lokationsnummer"].tolist() == [NEW_GLN]
    assert result.new(5)["meddelelsestype"].tolist() == ["XDIS20 Sygehusadvis"]
    assert result.resolved(5)["modpart_lokationsnummer"].tolist() == ["5790001205997"]
    assert result.new(6)["modpart_lokationsnummer"].tolist() == ["5790001501501"]
    assert result.resolved(7) is None and result.new(7) is None


def test_duplicate_key_counts_both_ways(extracts):
    old, new = extracts
    back = compare(new, old, "aarhus").task(6)
    assert (back.new, back.resolved, back.persisting) == (0, 1, 3)


def test_missing_table_is_not_comparable_either_way(extracts):
    old, new = extracts
    for a, b, note in ((old, new, "nye"), (new, old, "tidligere")):
        result = compare(a, b, "aarhus")
        t7 = result.task(7)
        assert (t7.comparable, t7.new, t7.resolved, t7.persisting) == (False, None, None, None)
        frame = result.frame()
        assert frame.columns.tolist() == [
            "Tabel",
            "Opgave",
            "Før",
            "Nu",
            "Ny",
            "Løst",
            "Uændret",
            "Bemærkning",
        ]
        assert frame["Bemærkning"].iloc[6] == f"kan ikke sammenlignes: mangler i det {note} udtræk"
        assert frame["Bemærkning"].iloc[:6].tolist() == [""] * 6
        assert pd.isna(frame["Løst"].iloc[6])


def test_counts_add_up_for_the_whole_extract(extracts):
    old, new = extracts
    result = compare(old, new)
    assert result.organisation is None
    for t in result.tasks[:6]:
        assert t.persisting + t.resolved == len(old.tables[t.number])
        assert t.persisting + t.new == len(new.tables[t.number])
    counts = result.counts()
    assert counts["number"].tolist() == list(range(1, 8))
    assert counts["comparable"].tolist() == [True] * 6 + [False]
    assert str(counts["new"].dtype) == "Int64"


def test_reversed_order_is_noticed(extracts):
    old, new = extracts
    assert compare(old, new).reversed_order is False
    assert compare(new, old).reversed_order is True


def test_owner_only_in_the_old_extract_resolves():
    old = make_extract({4: rows(CLINIC, "5790000126330", 3, meddelelsestype="XDIS20")})
    new = make_extract({4: rows(AARHUS, "5790000123117", 1, meddelelsestype="XDIS20")})
    t4 = compare(old, new, "Lægerne Søndergade").task(4)
    assert (t4.new, t4.resolved, t4.persisting) == (0, 3, 0)
    with pytest.raises(OrganisationError, match="'Findes ikke'"):
        compare(old, new, "Findes ikke")


def test_narrowing_filters_apply_to_both(extracts):
    old, new = extracts
    t5 = compare(old, new, "aarhus", it_system="TK2").task(5)
    # Of Aarhus's TK2 findings in table 5, one was fixed, one moved to Novax, one is left and
    # one came in; the moved one is new for Novax.
    assert (t5.new, t5.resolved, t5.persisting) == (1, 2, 1)
    novax = compare(old, new, "aarhus", it_system="Novax").task(5)
    assert (novax.new, novax.resolved, novax.persisting) == (1, 0, 0)


# --- the command -------------------------------------------------------------------------------


def test_compare_json(run_cli, files):
    a, b = files
    code, out, err = run_cli("compare", a, b, "--org", "aarhus", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["organisation", "old", "new", "tasks"]
    assert data["organisation"] == OWNER
    assert data["tasks"] == EXPECTED
    assert all(
        list(t) == ["number", "new", "resolved", "persisting", "comparable"] for t in data["tasks"]
    )
    assert data["old"]["file"] == str(a) and data["new"]["file"] == str(b)
    assert (data["old"]["period"], data["new"]["period"]) == ("2026-10", "2026-11")
    assert data["new"]["extract_date"] == "2026-12-07"
    assert len(data["old"]["sha256"]) == 64 and data["old"]["sha256"] != data["new"]["sha256"]


def test_compare_text_is_a_danish_table(run_cli, files):
    a, b = files
    code, out, _ = run_cli("compare", a, b, "--org", "751")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["Tidligere udtræk:", f"Udtræk: {a}"]
    assert "Nyt udtræk:" in lines and f"Udtræk: {b}" in lines
    assert "Organisation: Aarhus Kommune (Kommune, kode 0751)" in lines
    header = next(line for line in lines if line.startswith("Tabel"))
    assert header.split() == ["Tabel", "Opgave", "Før", "Nu", "Ny", "Løst", "Uændret", "Bemærkning"]
    row5 = next(line for line in lines if line.startswith("5 "))
    assert row5.split()[-5:] == ["3", "3", "1", "1", "2"]
    row7 = next(line for line in lines if line.startswith("7 "))
    assert row7.endswith("kan ikke sammenlignes: mangler i det nye udtræk")
    assert row7.split()[-13:-8] == ["9", "–", "–", "–", "–"]
    assert "I alt i de tabeller, der kan sammenlignes: 3 nye, 2 løste og 12 uændrede fund." in out
    assert "Løst betyder, at fundet ikke længere er med i udtrækket." in out
    assert "omvendt rækkefølge" not in out


def test_compare_text_warns_when_reversed(run_cli, files):
    a, b = files
    code, out, _ = run_cli("compare", b, a, "--org", "aarhus")
    assert code == 0
    assert "Er de to filer angivet i omvendt rækkefølge?" in out
    assert "kan ikke sammenlignes: mangler i det tidligere udtræk" in out


def test_compare_errors_exit_1_in_danish(run_cli, files, tmp_path):
    a, _ = files
    code, _, err = run_cli("compare", a, tmp_path / "nyt.xlsx")
    assert code == 1 and "nyt.xlsx" in err and err.startswith("Fejl:")
    code, _, err = run_cli("compare", a, a, "--org", "Aarhuus")
    assert code == 1 and "Organisationen 'Aarhuus'" in err and "Traceback" not in err
    code, _, err = run_cli("compare", a)
    assert code == 1 and "disse argumenter mangler: NYT" in err
