"""CLI tests: exit codes, JSON shapes and the Danish text a user sees."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from soredi_nb.sample import DEMO_ORGANISATION, NO_FINDINGS, make_sample, write_sample


@pytest.fixture(scope="module")
def sample_xlsx(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("cli") / "sample.xlsx")


def expected_rows(owner: str) -> dict[int, int]:
    tables = make_sample()["tables"]
    return {n: int((df["ejer"] == owner).sum()) for n, df in tables.items()}


def test_summary_json_for_organisation_is_exact(run_cli, sample_xlsx):
    code, out, err = run_cli("summary", sample_xlsx, "--org", "aarhus", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["organisation"] == DEMO_ORGANISATION
    assert data["no_cleanup_task"] is False
    assert [t["number"] for t in data["tasks"]] == list(range(1, 8))
    assert {t["number"]: t["rows"] for t in data["tasks"]} == expected_rows(DEMO_ORGANISATION)
    tables = make_sample()["tables"]
    own = tables[2][tables[2]["ejer"] == DEMO_ORGANISATION]
    task2 = data["tasks"][1]
    assert task2["messages"] == int(own["antal"].sum())
    assert task2["location_numbers"] == own["lokationsnummer"].nunique()
    assert data["tasks"][0]["messages"] is None
    assert data["extract"]["file"] == str(sample_xlsx)
    assert len(data["extract"]["sha256"]) == 64
    assert data["extract"]["period"] == make_sample()["info"]["Periode"]


def test_summary_no_cleanup_task(run_cli, sample_xlsx):
    name = NO_FINDINGS[0]
    code, out, _ = run_cli("summary", sample_xlsx, "--org", name)
    assert code == 0
    assert f"Ingen oprydningsopgave: {name} har ingen fund i udtrækket." in out
    code, out, _ = run_cli("summary", sample_xlsx, "--org", name, "--json")
    assert json.loads(out)["no_cleanup_task"] is True


def test_summary_text_is_danish_table(run_cli, sample_xlsx):
    code, out, _ = run_cli("summary", sample_xlsx, "--org", "751")
    assert code == 0
    assert "Organisation: Aarhus Kommune (Kommune, kode 0751)" in out
    assert "Aktive lokationsnumre uden indgående meddelelsestyper" in out
    assert "Median fund" in out and "pr. kommune" in out


def test_national_summary(run_cli, sample_xlsx):
    code, out, _ = run_cli("summary", sample_xlsx, "--json")
    data = json.loads(out)
    total = {n: len(df) for n, df in make_sample()["tables"].items()}
    assert {t["number"]: t["rows"] for t in data["tasks"]} == total
    assert data["organisation"] is None


def test_unknown_organisation_is_exit_1_with_suggestion(run_cli, sample_xlsx):
    code, out, err = run_cli("summary", sample_xlsx, "--org", "Aarhuus")
    assert code == 1
    assert err.startswith("Fejl: Organisationen 'Aarhuus'")
    assert "Aarhus Kommune" in err
    assert "Traceback" not in err


def test_orgs_lists_owners_with_counts(run_cli, sample_xlsx):
    code, out, _ = run_cli("orgs", sample_xlsx, "--json")
    assert code == 0
    orgs = {o["organisation"]: o for o in json.loads(out)}
    expected = expected_rows(DEMO_ORGANISATION)
    assert orgs[DEMO_ORGANISATION]["i_alt"] == sum(expected.values())
    assert orgs[DEMO_ORGANISATION]["tabel_3"] == expected[3]
    assert not set(NO_FINDINGS) & set(orgs)
    # Each owner says how to select exactly it: the code, or owner type and name.
    assert orgs[DEMO_ORGANISATION]["selector"] == "0751"
    private = [o for o in orgs.values() if o["ejertype"] == "Privat"]
    assert private and all(o["selector"] == f"Privat:{o['organisation']}" for o in private)
    assert "identity" not in orgs[DEMO_ORGANISATION]


def test_validate_json(run_cli, sample_xlsx):
    code, out, _ = run_cli("validate", sample_xlsx, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"tables", "errors", "warnings"}
    assert [t["missing"] for t in data["tables"]] == [False] * 7
    assert data["tables"][0]["rows"] == len(make_sample()["tables"][1])
    assert data["tables"][0]["sheet"].startswith("1")
    assert data["errors"] == []


def test_validate_broken_file(run_cli, tmp_path):
    bad = tmp_path / "udtræk.xlsx"
    bad.write_text("det her er ikke en Excel-fil")
    code, out, err = run_cli("validate", bad)
    assert code == 1
    assert "udtræk.xlsx" in err and "Traceback" not in err
    code, out, _ = run_cli("validate", bad, "--json")
    data = json.loads(out)
    assert code == 1 and data["tables"] == [] and "udtræk.xlsx" in data["errors"][0]["message"]


def test_missing_file(run_cli, tmp_path):
    code, _, err = run_cli("summary", tmp_path / "findes-ikke.xlsx")
    assert code == 1
    assert "findes-ikke.xlsx" in err


def test_usage_error_is_exit_1_in_danish(run_cli):
    code, _, err = run_cli("summary")
    assert code == 1
    assert "disse argumenter mangler" in err


def test_sample_command_writes_csv_folder(run_cli, tmp_path):
    code, out, _ = run_cli("sample", tmp_path / "csv", "--csv", "--seed", "3")
    assert code == 0
    assert "Eksempeludtræk skrevet til" in out
    assert sorted(p.name[0] for p in (tmp_path / "csv").glob("[1-7]*.csv")) == list("1234567")


def test_console_script_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "soredi_nb", "summary", str(tmp_path / "nope.xlsx")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Fejl:") and "Traceback" not in proc.stderr
