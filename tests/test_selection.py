"""One selection from command to page: the pages show what ``summary`` with the same options shows.

Real workbooks in ``tmp_path``: headers that need an alias file, a private owner named like a
municipality, the cache switch. Each page is checked against ``summary`` for the same extract,
organisation and options.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from factories import CLINIC, make_extract, rows

from soredi_nb import schema
from soredi_nb.exceptions import ExtractError, OrganisationError
from soredi_nb.load import load_extract
from soredi_nb.organisations import Organisation, filter_extract, organisations_in, owner, resolve
from soredi_nb.sample import make_sample, write_extract
from soredi_nb.targets import targets
from soredi_nb.templates import NOTEBOOKS, notebook_name

TASK = 2  # the task page rendered beside the overview (its table has Aarhus and the clinic)
PRIVATE_GLNS = ["5790000100118", "5790000100125", "5790000100132", "5790000100149"]


def rename_header(path: Path, old: str, new: str) -> Path:
    """Rename a header cell on every table sheet of a workbook (the layout of another month)."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for cell in ws[1]:
            if cell.value == old:
                cell.value = new
    wb.save(path)
    return path


def two_notebooks(folder: Path) -> Path:
    """A notebooks folder with the overview and one task page (rendering all eight is slow)."""
    folder.mkdir()
    for n in (0, TASK):
        shutil.copy(NOTEBOOKS / f"{notebook_name(n)}.ipynb", folder)
    return folder


def render_ok(run_cli, book: Path, notebooks: Path, out: Path, *argv) -> None:
    """``soredi-nb render BOOK ARGV --notebooks NOTEBOOKS --out OUT --quiet``, which must pass."""
    code, _, err = run_cli("render", book, *argv, "--notebooks", notebooks, "--out", out, "--quiet")
    assert code == 0, err


def summary_json(run_cli, *argv) -> dict:
    code, out, err = run_cli("summary", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def shown_counts(folder: Path) -> dict[int, int]:
    """The findings per task as the overview page links them: "Tabel N: … – R fund"."""
    overview = (folder / "index.html").read_text(encoding="utf-8")
    found = re.findall(r'href="\d\d_[a-z0-9-]+\.html">Tabel (\d):[^<]*</a> – (\d+) fund', overview)
    return {int(n): int(rows) for n, rows in found}


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    return two_notebooks(tmp_path_factory.mktemp("nb") / "notebooks")


@pytest.fixture(scope="module")
def alias_files(tmp_path_factory):
    """The sample with the owner column headed "Ansvarlig myndighed", and an alias file for it."""
    folder = tmp_path_factory.mktemp("aliases")
    book = rename_header(
        write_extract(make_sample(), folder / "udtraek.xlsx"), "Ejer", "Ansvarlig myndighed"
    )
    aliases = folder / "kolonner.yaml"
    aliases.write_text("ejer: [Ansvarlig myndighed]\n", encoding="utf-8")
    return book, aliases


def test_alias_workbook_renders_the_counts_of_summary_with_aliases(
    alias_files, notebooks, tmp_path, run_cli
):
    book, aliases = alias_files
    wanted = summary_json(run_cli, book, "--aliases", aliases, "--org", "aarhus")
    rows = {t["number"]: t["rows"] for t in wanted["tasks"]}
    assert sum(rows.values()) > 7 and not wanted["no_cleanup_task"]
    # Without the alias file the owner column is not found: no organisation has any rows.
    assert summary_json(run_cli, book, "--org", "aarhus")["no_cleanup_task"]

    out = tmp_path / "out"
    render_ok(run_cli, book, notebooks, out, "--org", "aarhus", "--aliases", aliases)
    folder = out / "aarhus-kommune"
    assert shown_counts(folder) == rows
    assert "Ingen oprydningsopgave" not in (folder / "index.html").read_text(encoding="utf-8")
    task = (folder / f"{notebook_name(TASK)}.html").read_text(encoding="utf-8")
    assert f"{rows[TASK]} fund, sorteret" in task


def test_location_number_header_that_needs_an_alias(notebooks, tmp_path, run_cli):
    book = rename_header(
        write_extract(make_sample(), tmp_path / "udtraek.xlsx"), "Lokationsnummer", "Lok-ID"
    )
    aliases = tmp_path / "kolonner.yaml"
    aliases.write_text("lokationsnummer: [Lok-ID]\n", encoding="utf-8")
    with pytest.raises(ExtractError):
        load_extract(book, cache=False)
    wanted = summary_json(run_cli, book, "--aliases", aliases, "--org", "1082")
    render_ok(run_cli, book, notebooks, tmp_path / "out", "--org", "1082", "--aliases", aliases)
    shown = shown_counts(tmp_path / "out" / "region-midtjylland")
    assert shown == {t["number"]: t["rows"] for t in wanted["tasks"]}


def test_no_cache_is_kept_by_the_kernels(alias_files, notebooks, tmp_path, run_cli, monkeypatch):
    book, aliases = alias_files
    cache = tmp_path / "cache"
    monkeypatch.setenv("SOREDI_NB_CACHE", str(cache))
    options = ("--org", "aarhus", "--aliases", aliases)
    render_ok(run_cli, book, notebooks, tmp_path / "out", *options, "--no-cache")
    entries = list((cache / "extracts").glob("*")) if (cache / "extracts").exists() else []
    assert entries == []
    # The same render with the cache on leaves exactly one entry (the kernels share it).
    render_ok(run_cli, book, notebooks, tmp_path / "out2", *options)
    assert len(list((cache / "extracts").glob("*"))) == 1


# --- a private owner named like a municipality ----------------------------------------------


def with_private_aarhus() -> dict:
    """The sample plus a private owner "Aarhus" with one finding in tables 1-4."""
    sample = make_sample()
    for n, gln in zip((1, 2, 3, 4), PRIVATE_GLNS, strict=True):
        df = sample["tables"][n]
        row = df[df["ejertype"] == "Privat"].head(1).copy()
        row["ejer"], row["lokationsnummer"], row["enhedsnavn"] = "Aarhus", gln, f"Klinik {n}"
        sample["tables"][n] = pd.concat([df, row], ignore_index=True)
    return sample


@pytest.fixture(scope="module")
def private_book(tmp_path_factory) -> Path:
    return write_extract(with_private_aarhus(), tmp_path_factory.mktemp("p") / "udtraek.xlsx")


def test_a_name_that_fits_two_organisations_is_refused_with_the_choices(private_book, run_cli):
    code, out, err = run_cli("summary", private_book, "--org", "aarhus")
    assert code == 1 and out == ""
    assert "'aarhus' passer på flere organisationer" in err
    assert 'Aarhus Kommune (kommune): --org "0751"' in err
    assert 'Aarhus (privat): --org "Privat:Aarhus"' in err
    # Each choice selects exactly that organisation, with its own findings.
    kommune = summary_json(run_cli, private_book, "--org", "0751")
    private = summary_json(run_cli, private_book, "--org", "Privat:Aarhus")
    assert kommune["organisation"] == "Aarhus Kommune"
    assert private["organisation"] == "Aarhus"
    assert [t["rows"] for t in private["tasks"]] == [1, 1, 1, 1, 0, 0, 0]
    assert sum(t["rows"] for t in kommune["tasks"]) == sum(
        int((df["ejer"] == "Aarhus Kommune").sum()) for df in make_sample()["tables"].values()
    )


def test_all_with_private_renders_each_with_its_own_identity(private_book):
    extract = load_extract(private_book, cache=False)
    chosen = {t.identity: t for t in targets(extract, all_=True, include_private=True)}
    assert chosen["Kommune:aarhus kommune"].parameters["organisation"] == "0751"
    assert chosen["Privat:aarhus"].parameters["organisation"] == "Privat:Aarhus"
    assert chosen["Privat:aarhus"].label == "Aarhus"
    # Without --include-private only the municipality.
    assert "Privat:aarhus" not in {t.identity for t in targets(extract, all_=True)}


def test_private_aarhus_and_aarhus_kommune_render_disjoint_pages(
    private_book, notebooks, tmp_path, run_cli
):
    out = tmp_path / "out"
    render_ok(run_cli, private_book, notebooks, out, "--org", "0751", "--org", "Privat:Aarhus")
    extract = load_extract(private_book)
    kommune_glns = set(filter_extract(extract, "0751").tables[TASK]["lokationsnummer"])
    page = f"{notebook_name(TASK)}.html"
    private_page = (out / "aarhus" / page).read_text(encoding="utf-8")
    kommune_page = (out / "aarhus-kommune" / page).read_text(encoding="utf-8")
    assert PRIVATE_GLNS[TASK - 1] in private_page and "1 fund, sorteret" in private_page
    assert not any(g in private_page for g in kommune_glns)
    assert all(g in kommune_page for g in kommune_glns)
    assert PRIVATE_GLNS[TASK - 1] not in kommune_page
    assert shown_counts(out / "aarhus") == {1: 1, 2: 1, 3: 1, 4: 1, 5: 0, 6: 0, 7: 0}
    # The worklists too: the private owner's has its four findings and nothing else.
    book = openpyxl.load_workbook(out / "aarhus" / "arbejdsliste.xlsx")
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row}
    every_kommune_gln = {
        g for df in filter_extract(extract, "0751").tables.values() for g in df["lokationsnummer"]
    }
    assert set(PRIVATE_GLNS) <= cells and not (every_kommune_gln & cells)


def test_identity_of_owner_cells():
    aarhus = resolve("Aarhus Kommune")
    assert resolve("Kommune:Aarhus") == aarhus == resolve("751") == resolve("0751")
    assert aarhus.selector == "0751" and aarhus.identity == "Kommune:aarhus kommune"
    with pytest.raises(OrganisationError, match="Privat:Nogen"):
        resolve("Privat:Nogen")
    # The type cell decides for short names; full names are the municipality whatever it says.
    assert owner("Aarhus", "Kommunal") == aarhus == owner("Aarhus Kommune", "Privat")
    assert owner("Aarhus", None) == Organisation("Aarhus", "Privat")
    assert owner("  ", "Privat") is None


def test_every_owner_in_orgs_can_be_selected_by_what_orgs_shows():
    """Owner types outside the four (as written in some extracts) and names with a colon."""
    extract = make_extract(
        {
            1: rows(dict(CLINIC, ejer="Lægehus Nord", ejertype="Praksis"), "5790000100118")
            + rows(dict(CLINIC, ejer="Klinik: Syd", ejertype="Privat"), "5790000100125")
            + rows(dict(CLINIC, ejer="Lægehus Nord", ejertype="Privat"), "5790000100132")
        }
    )
    orgs = organisations_in(extract).values()
    assert len(orgs) == 3
    for org in orgs:
        assert resolve(org.selector, extract) == org
        assert len(filter_extract(extract, org).tables[1]) == 1
    with pytest.raises(OrganisationError, match="passer på flere organisationer"):
        resolve("Lægehus Nord", extract)


def test_it_system_report_is_exactly_that_system(tmp_path):
    """ "SP" is a system of its own, not every system whose name contains "sp"."""
    extract = load_extract(write_extract(make_sample(), tmp_path / "u.xlsx"), cache=False)
    sp = filter_extract(extract, it_system="SP")
    for number in schema.TABLE_NUMBERS:
        assert set(sp.tables[number]["it_system"].dropna()) <= {"SP"}
    assert sum(len(df) for df in sp.tables.values()) > 0
    multimed = filter_extract(extract, it_system="multimed")
    systems = {s for df in multimed.tables.values() for s in df["it_system"].dropna()}
    assert systems == {"MultiMed Beskedagent", "MultiMed Web"}
