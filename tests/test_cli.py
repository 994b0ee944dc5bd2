"""CLI tests: exit codes, JSON shapes and the Danish text a user sees."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from soredi_nb.cli import visible
from soredi_nb.load import load_extract
from soredi_nb.sample import (
    DEMO_ORGANISATION,
    NO_FINDINGS,
    make_sample,
    write_extract,
    write_sample,
)
from soredi_nb.summary import summarise


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
    # The comparison with the other municipalities that the overview shows is in the JSON too.
    peers = summarise(load_extract(sample_xlsx), DEMO_ORGANISATION).tasks
    for key in ("median_rows", "peers_fewer", "peers_with_findings", "median_with_findings"):
        assert [t[key] for t in data["tasks"]] == [getattr(t, key) for t in peers]
    assert [t["peers_fewer"] for t in data["tasks"]] == [97, 96, 93, 97, 95, 94, 100]
    assert [t["peers_with_findings"] for t in data["tasks"]] == [9, 10, 6, 2, 4, 11, 6]
    assert data["extract"]["file"] == str(sample_xlsx)
    assert len(data["extract"]["sha256"]) == 64
    assert data["extract"]["period"] == make_sample()["info"]["Periode"]


def test_summary_no_cleanup_task(run_cli, sample_xlsx):
    name = NO_FINDINGS[0]
    code, out, _ = run_cli("summary", sample_xlsx, "--org", name)
    assert code == 0
    assert f"Ingen oprydningsopgave: {name} har ingen fund i udtrækkets syv tabeller" in out
    code, out, _ = run_cli("summary", sample_xlsx, "--org", "aarhus", "--it-system", "Nix")
    assert "Ingen fund for Aarhus Kommune med de valgte filtre." in out
    assert "Ingen oprydningsopgave" not in out
    code, out, _ = run_cli("summary", sample_xlsx, "--org", name, "--json")
    assert json.loads(out)["no_cleanup_task"] is True


def test_summary_text_is_danish_table(run_cli, sample_xlsx):
    code, out, _ = run_cli("summary", sample_xlsx, "--org", "751")
    assert code == 0
    assert "Organisation: Aarhus Kommune (Kommune, kode 0751)" in out
    assert "Aktive lokationsnumre uden indgående meddelelsestyper" in out
    # What the comparison columns mean, with their labels as the table shows them.
    assert 'Sammenlignet med kommunerne: "Median fund" er midterværdien for dem alle' in out
    assert '"Andre med fund (%)" er andelen af de andre, der har fund i tabellen' in out


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


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["render", "u.xlsx", "--org", "Aarhus", "--all", "--out", "ud"],
            "Fejl i kommandoen: --all: kan ikke bruges sammen med --org."
            " Se 'soredi-nb render --help'.\n",
        ),
        (
            ["sample", "u.xlsx", "--scale", "stor"],
            "Fejl i kommandoen: --scale: ugyldigt valg: 'stor' (vælg mellem 'small', 'national')."
            " Se 'soredi-nb sample --help'.\n",
        ),
        (
            ["render", "u.xlsx", "--all", "--out", "ud", "--jobs", "mange"],
            "Fejl i kommandoen: --jobs: ugyldig værdi: 'mange'. Se 'soredi-nb render --help'.\n",
        ),
        (
            ["worklist", "u.xlsx"],
            "Fejl i kommandoen: disse argumenter mangler: --out, --org."
            " Se 'soredi-nb worklist --help'.\n",
        ),
        ([], "Fejl i kommandoen: disse argumenter mangler: KOMMANDO. Se 'soredi-nb --help'.\n"),
        (
            ["summary", "u.xlsx", "--bogus", "x"],
            "Fejl i kommandoen: ukendte argumenter: --bogus x. Se 'soredi-nb summary --help'.\n",
        ),
    ],
)
def test_argparse_errors_are_danish_and_point_at_the_commands_help(run_cli, argv, expected):
    code, out, err = run_cli(*argv)
    assert (code, out, err) == (1, "", expected)


@pytest.mark.parametrize("command", ["render", "summary", "worklist", "sample", "notebooks"])
def test_help_is_danish(run_cli, command):
    code, out, _ = run_cli(command, "--help")
    assert code == 0
    assert out.startswith(f"brug: soredi-nb {command} [-h]")
    assert "\nargumenter:\n" in out and "\ntilvalg:\n" in out
    assert re.search(r"\n  -h, --help +vis denne hjælp og afslut\n", out)
    for english in ("usage:", "positional arguments", "options:", "show this help message"):
        assert english not in out


def test_top_level_help_lists_the_commands_in_danish(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    assert out.startswith("brug: soredi-nb [-h] KOMMANDO ...")
    assert "\nkommandoer:\n  KOMMANDO\n    sample " in out
    assert "Lav HTML-rapporter" in out and "show this help" not in out


@pytest.fixture(scope="module")
def without_3_and_7(tmp_path_factory):
    sample = make_sample()
    del sample["tables"][3], sample["tables"][7]
    return write_extract(sample, tmp_path_factory.mktemp("cli-missing") / "udtraek.xlsx")


def test_validate_counts_in_danish_and_names_missing_tables(run_cli, without_3_and_7):
    code, out, _ = run_cli("validate", without_3_and_7)
    rows = len(make_sample()["tables"][1])
    assert code == 0
    assert f"  Tabel 1: ark '1 Aktive uden meddelelsestyper', {rows} rækker\n" in out
    assert "  Tabel 3 mangler i udtrækket og kan ikke vurderes.\n" in out
    assert "\n2 advarsler:\n" in out


def test_summary_names_missing_tables_once_in_one_wording(run_cli, without_3_and_7):
    code, out, _ = run_cli("summary", without_3_and_7, "--org", "Aarhus")
    assert code == 0
    assert "\nTabel 3 og 7 mangler i udtrækket og kan ikke vurderes.\n" in out
    assert f"Datakvalitet: 2 advarsler. Se dem med: soredi-nb validate {without_3_and_7}" in out


def test_one_warning_is_one_advarsel(run_cli, tmp_path):
    sample = make_sample()
    del sample["tables"][7]
    book = write_extract(sample, tmp_path / "udtraek.xlsx")
    code, out, _ = run_cli("summary", book)
    assert code == 0 and "Datakvalitet: 1 advarsel. Se dem med" in out
    code, out, _ = run_cli("validate", book)
    assert code == 0 and "\n1 advarsel:\n" in out


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


# -- text from the extract never drives the terminal -------------------------------------------

HOSTILE = "Klinik\x1b[31mRØD\x1b[0m"
HOSTILE_SHOWN = "Klinik␛[31mRØD␛[0m"
BAD_GLN = "579\x9b2J\u202e\x7f\x1b]0;x\x07"
BAD_GLN_SHOWN = "579�2J�␡␛]0;x␇"
CONTROLS = [chr(i) for i in [*range(0x20), *range(0x7F, 0xA0)] if chr(i) != "\n"] + [
    "\u202e",
    "\u2066",
    "\u200f",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A CSV extract (a workbook cannot hold ESC) whose private owners are all named ``HOSTILE``
    and whose first location number in table 1 is ``BAD_GLN``."""
    sample = make_sample()
    for df in sample["tables"].values():
        df.loc[df["ejertype"] == "Privat", "ejer"] = HOSTILE
    sample["tables"][1].loc[0, "lokationsnummer"] = BAD_GLN
    return write_extract(sample, tmp_path_factory.mktemp("hostile") / "udtraek", csv=True)


def assert_no_controls(*outputs):
    for out in outputs:
        assert not [c for c in CONTROLS if c in out]


def hostile_counts() -> dict[int, int]:
    tables = make_sample()["tables"]
    return {n: int((df["ejertype"] == "Privat").sum()) for n, df in tables.items()}


def test_orgs_shows_control_characters_visibly(run_cli, hostile):
    code, out, err = run_cli("orgs", hostile)
    assert code == 0, err
    assert_no_controls(out, err)
    [line] = [line for line in out.splitlines() if line.startswith("Klinik")]
    counts = hostile_counts()
    assert line.split() == [
        HOSTILE_SHOWN,
        "Privat",
        *map(str, counts.values()),
        str(sum(counts.values())),
        str(
            len(
                {
                    g
                    for df in make_sample()["tables"].values()
                    for g in df["lokationsnummer"][df["ejertype"] == "Privat"]
                }
            )
        ),
        f"Privat:{HOSTILE_SHOWN}",
    ]


def test_json_keeps_control_characters_exact_but_escaped(run_cli, hostile):
    code, out, _ = run_cli("orgs", hostile, "--json")
    assert code == 0
    assert_no_controls(out)
    orgs = {o["organisation"]: o for o in json.loads(out)}
    assert orgs[HOSTILE]["selector"] == f"Privat:{HOSTILE}"
    code, out, _ = run_cli("validate", hostile, "--json")
    assert code == 0
    assert_no_controls(out)
    assert "579\\u009b2J\\u202e\\u007f\\u001b]0;x\\u0007" in out
    [warning] = [w for w in json.loads(out)["warnings"] if w["value"] == BAD_GLN]
    assert (warning["row"], warning["column"]) == (2, "Lokationsnummer")


def test_validate_shows_a_bad_value_visibly(run_cli, hostile):
    code, out, err = run_cli("validate", hostile)
    assert code == 0, err
    assert_no_controls(out, err)
    assert (
        "  ark '1_aktive-uden-meddelelsestyper.csv', række 2, kolonne 'Lokationsnummer', "
        f"værdi '{BAD_GLN_SHOWN}': Værdien kan ikke læses som lokationsnummer (13 cifre) og "
        "behandles som tom. Rækken er medtaget."
    ) in out.splitlines()


def test_summary_worklist_and_compare_show_the_name_visibly(run_cli, hostile, tmp_path):
    org = f"Privat:{HOSTILE}"
    line = f"Organisation: {HOSTILE_SHOWN} (Privat)"
    code, out, err = run_cli("summary", hostile, "--org", org)
    assert code == 0, err
    assert_no_controls(out, err)
    assert line in out.splitlines()
    code, out, err = run_cli("worklist", hostile, "--org", org, "--out", tmp_path / "liste.xlsx")
    assert code == 0, err
    assert_no_controls(out, err)
    assert line in out.splitlines()
    code, out, err = run_cli("compare", hostile, hostile, "--org", org)
    assert code == 0, err
    assert_no_controls(out, err)
    assert line in out.splitlines()


def test_worklist_prints_its_warnings(run_cli, sample_xlsx, tmp_path):
    from soredi_nb.texts import text

    previous = tmp_path / "aarhus.xlsx"
    assert run_cli("worklist", sample_xlsx, "--org", "aarhus", "--out", previous)[0] == 0
    out_file = tmp_path / "odense.xlsx"
    code, out, err = run_cli(
        "worklist", sample_xlsx, "--org", "odense", "--out", out_file, "--previous", previous
    )
    assert code == 0, err
    warning = text(
        "worklist.warnings.previous_other_owner",
        file=previous,
        previous="Aarhus Kommune",
        organisation="Odense Kommune",
    )
    assert f"Advarsel: {warning}" in out.splitlines()


def test_an_error_naming_extract_text_shows_it_visibly(run_cli, hostile):
    code, out, err = run_cli("summary", hostile, "--org", "Klinik")
    assert code == 1
    assert_no_controls(out, err)
    assert f"Mente du: {HOSTILE_SHOWN}?" in err


def test_visible_replaces_every_control_and_nothing_else():
    assert visible(HOSTILE) == HOSTILE_SHOWN
    assert visible("a\tb\r\nc\x00\x9b\u202e\u2069d") == "a␉b␍␊c␀���d"
    assert visible("Æøå – “ok” 😀\u200d") == "Æøå – “ok” 😀\u200d"
    assert visible(42) == "42"


# -- sample: never over an existing file, only .xlsx ---------------------------------------------


def test_sample_refuses_an_existing_file_without_force(run_cli, tmp_path):
    out = tmp_path / "udtraek.xlsx"
    out.write_bytes(b"mit eget regneark")
    code, stdout, err = run_cli("sample", out)
    assert code == 1 and stdout == ""
    assert err == (
        f"Fejl: Filen '{out}' findes allerede og overskrives ikke. Brug --force for at erstatte "
        "den, eller angiv et andet filnavn.\n"
    )
    assert out.read_bytes() == b"mit eget regneark"
    assert [p.name for p in tmp_path.iterdir()] == ["udtraek.xlsx"]
    code, stdout, _ = run_cli("sample", out, "--force")
    assert code == 0
    assert stdout == f"Eksempeludtræk skrevet til {out}: 351 rækker i 7 tabeller.\n"
    assert out.read_bytes() == write_sample(tmp_path / "frisk.xlsx").read_bytes()


@pytest.mark.parametrize("name", ["udtraek.ods", "udtraek.xlsm", "udtraek.csv", "udtraek"])
def test_sample_writes_only_xlsx(run_cli, tmp_path, name):
    code, _, err = run_cli("sample", tmp_path / name, "--force")
    assert code == 1
    assert err == (
        "Fejl: Eksempeludtrækket skrives som Excel-projektmappe og skal have endelsen .xlsx, "
        f"ikke '{tmp_path / name}'. Angiv et filnavn, der ender på .xlsx, eller brug --csv for en "
        "mappe med CSV-filer.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_sample_upper_case_suffix_is_xlsx(run_cli, tmp_path):
    code, _, err = run_cli("sample", tmp_path / "UDTRAEK.XLSX")
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["UDTRAEK.XLSX"]


def test_sample_csv_folder_over_a_file_is_refused(run_cli, tmp_path):
    out = tmp_path / "udtraek"
    out.write_bytes(b"x")
    code, _, err = run_cli("sample", out, "--csv")
    assert code == 1
    assert err == (
        f"Fejl: '{out}' er en fil, ikke en mappe. Vælg en ny eller tom mappe til CSV-filerne.\n"
    )
    assert out.read_bytes() == b"x" and [p.name for p in tmp_path.iterdir()] == ["udtraek"]


# -- operating-system errors in Danish, naming the user's path -----------------------------------

ENGLISH = ("Permission denied", "Is a directory", "Errno", "No space", "File exists", "Traceback")


def assert_danish(err):
    assert not [e for e in ENGLISH if e in err]


def test_sample_into_a_folder_of_that_name(run_cli, tmp_path):
    out = tmp_path / "udtraek.xlsx"
    out.mkdir()
    for force in ([], ["--force"]):
        code, _, err = run_cli("sample", out, *force)
        assert code == 1
        assert err == (
            f"Fejl: '{out}' er en mappe. Angiv et filnavn, der ender på .xlsx, til "
            "eksempeludtrækket.\n"
        )
    assert list(out.iterdir()) == []


def test_sample_below_a_file(run_cli, tmp_path):
    (tmp_path / "build").write_bytes(b"x")
    code, _, err = run_cli("sample", tmp_path / "build" / "sample.xlsx")
    assert code == 1
    assert err == (
        f"Fejl: Kan ikke skrive i mappen '{tmp_path / 'build'}': der ligger allerede en fil med "
        "det navn. Vælg en anden mappe.\n"
    )


def test_sample_in_a_folder_without_access(run_cli, tmp_path, monkeypatch):
    # Root ignores permission bits: make creating the folder fail as it would for a user.
    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    code, _, err = run_cli("sample", tmp_path / "ny" / "sample.xlsx")
    assert code == 1
    assert_danish(err)
    assert err == (
        f"Fejl: Kan ikke skrive i mappen '{tmp_path / 'ny'}': ingen adgang (tjek rettighederne til "
        "filen eller mappen). Vælg en anden mappe.\n"
    )


@pytest.mark.parametrize("csv", [False, True], ids=["xlsx", "csv"])
def test_sample_on_a_full_disk(run_cli, tmp_path, monkeypatch, csv):
    import soredi_nb.sample as sample_module

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".x.tmp" / "1.csv"))

    monkeypatch.setattr(sample_module, "_write_csv" if csv else "_write_xlsx", full)
    out = tmp_path / ("udtraek" if csv else "udtraek.xlsx")
    code, _, err = run_cli("sample", out, *(["--csv"] if csv else []))
    assert code == 1
    assert_danish(err)
    assert err == f"Fejl: Kunne ikke skrive '{out}': disken er fuld.\n"
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_without_a_file_name(run_cli, sample_xlsx, monkeypatch):
    # `soredi-nb orgs … > fil` on a full disk: the write to stdout fails and names no file.
    class Full:
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Full())
    code, _, err = run_cli("orgs", sample_xlsx)
    assert code == 1
    assert_danish(err)
    assert err == "Kunne ikke læse eller skrive: disken er fuld.\n"


@pytest.mark.parametrize("case", ["folder", "no access", "full disk"])
def test_worklist_out_errors_in_danish(run_cli, sample_xlsx, tmp_path, monkeypatch, case):
    # Already Danish before issue 9 (worklist writes through files.atomic_path): kept so.
    import openpyxl

    out = tmp_path / "liste.xlsx"
    reasons = {
        "folder": "der ligger en mappe med det navn",
        "no access": "ingen adgang (tjek rettighederne til filen eller mappen)",
        "full disk": "disken er fuld",
    }
    if case == "folder":
        out.mkdir()
    else:
        number = errno.EACCES if case == "no access" else errno.ENOSPC

        def fail(*args, **kwargs):
            raise OSError(number, os.strerror(number), str(tmp_path / ".liste.xlsx.tmp"))

        # Root ignores permission bits, and a full disk cannot be made: the save fails instead.
        monkeypatch.setattr(openpyxl.Workbook, "save", fail)
    code, _, err = run_cli("worklist", sample_xlsx, "--org", "aarhus", "--out", out)
    assert code == 1
    assert_danish(err)
    assert err == f"Fejl: Kunne ikke skrive '{out}': {reasons[case]}.\n"


def test_an_extract_folder_without_csv_files(run_cli, tmp_path):
    # Already Danish before issue 9: kept so.
    folder = tmp_path / "udtraek"
    folder.mkdir()
    (folder / "noter.txt").write_text("x")
    code, _, err = run_cli("orgs", folder)
    assert code == 1
    assert err.startswith(
        f"Fejl: '{folder}' indeholder ingen af udtrækkets syv tabeller. Fundne ark/filer: (ingen)."
    )


def test_an_unreadable_extract_in_danish(run_cli, sample_xlsx, deny):
    deny("open", sample_xlsx)
    code, _, err = run_cli("orgs", sample_xlsx, "--no-cache")
    assert code == 1
    assert_danish(err)
    assert "ingen adgang (tjek rettighederne til filen eller mappen)" in err


def test_table_counts_are_danish_numbers(run_cli, tmp_path):
    import pandas as pd

    sample = make_sample()
    sample["tables"][1] = pd.concat([sample["tables"][1]] * 40, ignore_index=True)
    folder = write_extract(sample, tmp_path / "csv", csv=True)
    code, out, _ = run_cli("summary", folder, "--no-cache")
    [line] = [x for x in out.splitlines() if x.startswith("1 ")]
    rows = len(sample["tables"][1])  # 1.200: the thousands separated by a point
    assert code == 0 and rows >= 1000 and f" {rows // 1000}.{rows % 1000:03d} " in line
