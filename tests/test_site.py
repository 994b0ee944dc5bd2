"""A report site that never mixes extracts or organisations, and goes on past one failure."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from factories import front_page_rows

from soredi_nb import render as r
from soredi_nb import site
from soredi_nb.exceptions import SorediError
from soredi_nb.load import load_extract
from soredi_nb.manifest import NAME, Manifest
from soredi_nb.sample import make_sample, write_extract, write_sample
from soredi_nb.targets import targets
from soredi_nb.templates import NOTEBOOKS, notebook_name

TASK_PAGE = f"{notebook_name(2)}.html"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("site") / "udtraek.xlsx")


@pytest.fixture(scope="module")
def extract(book):
    return load_extract(book)


def copies(folder: Path, *numbers: int) -> Path:
    """A folder with copies of some of the packaged notebooks."""
    folder.mkdir(exist_ok=True)
    for n in numbers:
        shutil.copy(NOTEBOOKS / f"{notebook_name(n)}.ipynb", folder)
    return folder


def break_notebook(path: Path, condition: str = "True") -> None:
    """Make a notebook fail (when ``condition`` holds in the page's namespace)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(f'if {condition}:\n    raise ValueError("kunstig fejl")')
    )
    nbformat.write(nb, path)


def test_failing_rerun_replaces_the_page_with_a_failure_page(extract, tmp_path):
    out, nb = tmp_path / "out", copies(tmp_path / "nb", 0, 2)
    chosen = targets(extract, ["Aarhus"])
    first = r.render(extract, chosen, out, notebooks=nb, jobs=1, progress=False)
    assert first.failures == []
    page = out / "aarhus-kommune" / TASK_PAGE
    assert "fund, sorteret" in page.read_text(encoding="utf-8")

    break_notebook(nb / f"{notebook_name(2)}.ipynb")
    second = r.render(extract, chosen, out, notebooks=nb, jobs=1, progress=False)
    [failure] = second.failures
    body = page.read_text(encoding="utf-8")
    assert "Siden kunne ikke laves" in body and "kunstig fejl" in body
    assert "fund, sorteret" not in body  # no number from the earlier run is left
    assert f'content="{extract.info.sha256}"' in body
    assert f"aarhus-kommune/{TASK_PAGE}" not in Manifest.read(out).pages
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Fejl i 1 side" in index and "kunstig fejl" in index
    # The failed page is tried again next time; the overview is reused.
    third = r.render(extract, chosen, out, notebooks=nb, jobs=1, progress=False)
    assert (third.count("skipped"), len(third.failures)) == (1, 1)


def test_a_run_with_fewer_notebooks_leaves_no_page_of_an_earlier_run(extract, tmp_path):
    out = tmp_path / "out"
    chosen = targets(extract, ["Aarhus"])
    r.render(extract, chosen, out, notebooks=copies(tmp_path / "a", 0, 2), progress=False)
    other = write_extract(make_sample(seed=3), tmp_path / "andet.xlsx")
    newer = load_extract(other)
    r.render(newer, targets(newer, ["Aarhus"]), out, notebooks=copies(tmp_path / "b", 0))
    names = sorted(p.name for p in (out / "aarhus-kommune").glob("*.html"))
    assert names == ["index.html"]
    overview = (out / "aarhus-kommune" / "index.html").read_text(encoding="utf-8")
    assert f'content="{newer.info.sha256}"' in overview


def twin_clinics(path: Path) -> Path:
    """The sample plus two private owners whose names make the same folder name."""
    sample = make_sample()
    df = sample["tables"][1]
    rows = df[df["ejertype"] == "Privat"].head(2).copy()
    rows["ejer"] = ["Lægehuset Nord", "Lægehuset-Nord"]
    rows["lokationsnummer"] = ["5790000100118", "5790000100125"]
    sample["tables"][1] = pd.concat([df, rows], ignore_index=True)
    return write_extract(sample, path)


def test_slugs_are_kept_per_identity_so_folders_never_swap(tmp_path):
    extract = load_extract(twin_clinics(tmp_path / "udtraek.xlsx"))
    out, nb = tmp_path / "out", copies(tmp_path / "nb", 1)
    page = f"{notebook_name(1)}.html"
    # The second clinic first: it gets the plain folder name, and keeps it.
    r.render(extract, targets(extract, ["Privat:Lægehuset-Nord"]), out, notebooks=nb)
    first = (out / "laegehuset-nord" / page).read_text(encoding="utf-8")
    assert "5790000100125" in first and "5790000100118" not in first
    # Then the other one, alone: it cannot have that folder, so nothing of the first changes.
    r.render(extract, targets(extract, ["Privat:Lægehuset Nord"]), out, notebooks=nb)
    assert (out / "laegehuset-nord" / page).read_text(encoding="utf-8") == first
    second = (out / "laegehuset-nord-2" / page).read_text(encoding="utf-8")
    assert "5790000100118" in second and "5790000100125" not in second
    # Both together, in the other order: each keeps its folder.
    both = targets(extract, ["Privat:Lægehuset Nord", "Privat:Lægehuset-Nord"])
    r.render(extract, both, out, notebooks=nb)
    slugs = json.loads((out / NAME).read_text("utf-8"))["slugs"]
    assert slugs == {
        "Privat:laegehuset-nord": "laegehuset-nord",
        "Privat:laegehuset nord": "laegehuset-nord-2",
    }
    assert "5790000100118" in (out / "laegehuset-nord-2" / page).read_text(encoding="utf-8")


def test_a_worklist_that_cannot_be_written_is_not_left_from_an_earlier_run(
    extract, tmp_path, monkeypatch
):
    out, nb = tmp_path / "out", copies(tmp_path / "nb", 0)
    chosen = targets(extract, ["Aarhus"])
    r.render(extract, chosen, out, notebooks=nb, progress=False)
    worklist = out / "aarhus-kommune" / "arbejdsliste.xlsx"
    assert worklist.exists()

    def refuse(*args, **kwargs):
        raise SorediError("Kunne ikke skrive arbejdslisten: disken er fuld.")

    monkeypatch.setattr("soredi_nb.worklist.write_worklist", refuse)
    result = r.render(extract, chosen, out, notebooks=nb, progress=False, force=True)
    [failure] = result.failures
    assert failure.notebook == "arbejdsliste" and "disken er fuld" in failure.error
    assert not worklist.exists()


def test_kept_notebooks_are_only_those_of_pages_made_this_run(extract, tmp_path):
    out, nb = tmp_path / "out", copies(tmp_path / "nb", 0, 2)
    chosen = targets(extract, ["Aarhus"])
    r.render(extract, chosen, out, notebooks=nb, keep_ipynb=True, progress=False)
    folder = out / "aarhus-kommune"
    kept = sorted(p.name for p in folder.glob("*.ipynb"))
    assert kept == [f"{notebook_name(0)}.ipynb", f"{notebook_name(2)}.ipynb"]
    break_notebook(nb / f"{notebook_name(2)}.ipynb")
    again = r.render(extract, chosen, out, notebooks=nb, keep_ipynb=True, progress=False)
    assert len(again.failures) == 1
    assert sorted(p.name for p in folder.glob("*.ipynb")) == [f"{notebook_name(0)}.ipynb"]
    # Asking for the notebooks of an unchanged site renders the pages that lack one.
    (folder / f"{notebook_name(0)}.ipynb").unlink()
    third = r.render(extract, chosen, out, notebooks=copies(tmp_path / "ok", 0), keep_ipynb=True)
    assert third.count("rendered") == 1 and (folder / f"{notebook_name(0)}.ipynb").exists()


def test_write_error_in_one_folder_leaves_the_others_and_the_index(extract, tmp_path, run_cli):
    out = tmp_path / "out"
    out.mkdir()
    (out / "aarhus-kommune").write_text("ikke en mappe")  # a file where the folder should be
    code, stdout, err = run_cli(
        "render",
        extract.info.file,
        "--org",
        "aarhus",
        "--org",
        "1082",
        "--out",
        out,
        "--notebooks",
        copies(tmp_path / "nb", 0, 2),
        "--quiet",
    )
    assert code == 1
    assert (out / "region-midtjylland" / TASK_PAGE).exists()
    assert (out / "region-midtjylland" / "arbejdsliste.xlsx").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Fejl i 3 sider" in index  # two pages and the worklist of Aarhus
    assert f"Kan ikke skrive i mappen '{out / 'aarhus-kommune'}'" in err
    assert "der ligger allerede en fil med det navn" in err
    assert ".tmp" not in err and "Errno" not in err and "Not a directory" not in err
    assert "Færdig: 2 sider lavet, 0 uændrede sider genbrugt, 3 sider fejlede." in stdout


def test_permission_denied_is_told_in_danish_with_the_users_path(extract, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = os.replace

    def refuse(src, dst, *args, **kwargs):
        if "aarhus-kommune" in str(dst):
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr("soredi_nb.files.os.replace", refuse)
    result = r.render(
        extract,
        targets(extract, ["Aarhus", "1082"]),
        out,
        notebooks=copies(tmp_path / "nb", 0),
        progress=False,
    )
    assert {f.label for f in result.failures} == {"Aarhus Kommune"}
    error = result.failures[0].error
    assert error.startswith(f"Kunne ikke skrive '{out / 'aarhus-kommune'}")
    assert "ingen adgang" in error and "Permission" not in error and ".tmp" not in error
    assert (out / "region-midtjylland" / "index.html").exists()
    assert (out / "index.html").exists()


def test_out_that_is_a_file_fails_before_any_notebook_runs(book, tmp_path, run_cli, monkeypatch):
    target = tmp_path / "rapporter"
    target.write_text("en fil")
    monkeypatch.setattr(r, "_run", lambda *a: pytest.fail("no page may run"))
    code, _, err = run_cli("render", book, "--org", "aarhus", "--out", target, "--jobs", "1000")
    assert code == 1
    assert f"'{target}' er en fil, ikke en mappe" in err
    assert target.read_text() == "en fil"
    # --jobs beyond the cores is capped, with a note saying why.
    cores = os.cpu_count()
    assert f"--jobs 1000 er sat ned til {cores}" in err


def test_jobs_are_capped_at_cores_and_pages():
    cores = os.cpu_count() or 1
    assert r.workers(1000, 16, None) == min(cores, 16)
    assert r.workers(1000, 1, None) == 1
    assert r.workers(None, 100, None) == cores
    assert r.workers(1000, 16, "tcp://x:8786") == 1000  # a cluster has its own cores


def test_reuse_is_keyed_by_content_not_by_the_typed_path(extract, tmp_path, monkeypatch):
    nb = copies(tmp_path / "nb", 0)
    out = tmp_path / "out"
    r.render(extract, targets(extract, ["Aarhus"]), out, notebooks=nb, progress=False)
    # The same bytes under another name and typed relative to another folder: all reused.
    copy = tmp_path / "kopi" / "samme.xlsx"
    copy.parent.mkdir()
    shutil.copy(extract.info.file, copy)
    monkeypatch.chdir(copy.parent)
    again = load_extract(Path("samme.xlsx"))
    result = r.render(again, targets(again, ["Aarhus"]), out, notebooks=nb, progress=False)
    assert (result.count("skipped"), result.count("rendered")) == (1, 0)
    # A rewritten sample (same seed) is the same file, so a second demo run reuses its pages.
    rewritten = write_sample(tmp_path / "igen.xlsx")
    assert rewritten.read_bytes() == Path(extract.info.file).read_bytes()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # A cell that quietly switches to another organisation after the parameters.
        (
            lambda cells: cells.insert(2, nbformat.v4.new_code_cell('organisation = "0461"')),
            "lavet ud fra noget andet end det, der blev bedt om (organisation)",
        ),
        # A page that never says what it was made from.
        (
            lambda cells: setattr(cells[2], "source", cells[2].source.replace("page.meta()", "")),
            "page.meta() mangler",
        ),
    ],
    ids=["other-organisation", "no-record"],
)
def test_a_page_that_cannot_prove_its_selection_is_not_saved(extract, tmp_path, edit, message):
    nb_dir = copies(tmp_path / "nb", 2)
    path = nb_dir / f"{notebook_name(2)}.ipynb"
    nb = nbformat.read(path, as_version=4)
    edit(nb.cells)
    nbformat.write(nb, path)
    result = r.render(
        extract, targets(extract, ["Aarhus"]), tmp_path / "out", notebooks=nb_dir, progress=False
    )
    [failure] = result.failures
    assert message in failure.error
    body = (tmp_path / "out" / "aarhus-kommune" / TASK_PAGE).read_text(encoding="utf-8")
    assert "Siden kunne ikke laves" in body and "Odense" not in body


def test_peer_medians_are_computed_once_per_extract(extract, monkeypatch):
    from soredi_nb import summary

    calls = []
    real = summary.peer_medians
    monkeypatch.setattr(summary, "peer_medians", lambda e, k: calls.append(k) or real(e, k))
    fresh = load_extract(extract.info.file)
    for org in ("Aarhus", "Odense", "1082", "Aarhus"):
        summary.summarise(fresh, org)
    assert calls == ["Kommune", "Region"]


def test_worklist_warnings_reach_the_terminal_summary(tmp_path):
    sample = make_sample()
    df = sample["tables"][1]
    # Beyond what an Excel cell holds: possible in a CSV extract.
    df.loc[df["ejer"] == "Aarhus Kommune", "enhedsnavn"] = "x" * 40_000
    extract = load_extract(write_extract(sample, tmp_path / "udtraek", csv=True))
    nb = copies(tmp_path / "nb", 0)
    result = r.render(extract, targets(extract, ["Aarhus"]), tmp_path / "out", notebooks=nb)
    assert result.failures == [] and result.warnings
    assert all(w.startswith("Aarhus Kommune: ") for w in result.warnings)
    lines = r.summary_lines(result)
    assert any(line.startswith("Advarsel: Aarhus Kommune: ") for line in lines)


def test_front_page_marks_a_missing_table_and_counts_failed_pages(tmp_path):
    """The front page is the overview run for the whole extract: every municipality and region,
    a missing table as "mangler" (not 0), failed pages counted per organisation, one link."""
    sample = make_sample()
    del sample["tables"][7]
    extract = load_extract(write_extract(sample, tmp_path / "udtraek.xlsx"))
    nb = copies(tmp_path / "nb", 0, 2)
    break_notebook(nb / f"{notebook_name(2)}.ipynb")
    result = r.render(extract, targets(extract, ["Aarhus"]), tmp_path / "out", notebooks=nb)
    assert [f.notebook for f in result.failures] == [notebook_name(2)]
    html = result.index.read_text(encoding="utf-8")
    assert "Tabel 7 mangler i udtrækket og kan ikke vurderes." in html
    assert f'content="{extract.info.sha256}"' in html
    rows = front_page_rows(html)
    assert rows[0][:2] == ["Organisation", "Ejertype"] and rows[0][-1] == "Sider, der fejlede"
    body = {row[0]: row for row in rows[1:]}
    aarhus = body["Aarhus Kommune"]
    total = sum(int((df["ejer"] == "Aarhus Kommune").sum()) for df in sample["tables"].values())
    assert aarhus[8] == "mangler" and aarhus[9] == str(total)
    assert aarhus[10].startswith(f"{total} fund – flere end ") and aarhus[11] == "Fejl i 1 side"
    assert 'href="aarhus-kommune/index.html"' in html
    assert html.count('/index.html"') == 1  # only Aarhus has a report set to link to
    assert body["Aalborg Kommune"][9:12] == ["0", "Ingen fund (tabel 7 mangler i udtrækket)", ""]


def test_navigation_bar_links_every_task_and_the_neighbours():
    from soredi_nb.targets import Target

    aarhus = Target("Aarhus Kommune", "Kommune", "Kommune:aarhus kommune", {"organisation": "0751"})
    pages = tuple(f"{notebook_name(n)}.html" for n in range(1, 8))
    bar = site.nav(aarhus, pages[2], pages)
    assert [link["label"] for link in bar] == [
        "Alle organisationer",
        "Oversigt for Aarhus Kommune",
        *(f"Tabel {n}" for n in range(1, 8)),
        "Arbejdsliste (Excel)",
        "← Forrige: tabel 2",
        "Næste: tabel 4 →",
    ]
    assert [link["href"] for link in bar if link["current"]] == [pages[2]]
    assert bar[4]["title"] == "Tabel 3: Lukkede lokationsnumre med udgående trafik"
    # The overview is current on its own page; the first and last task have one neighbour.
    assert [link["label"] for link in site.nav(aarhus, "index.html", pages) if link["current"]] == [
        "Oversigt for Aarhus Kommune"
    ]
    assert [link.get("step") for link in site.nav(aarhus, pages[0], pages)][-1] == "next"
    assert [link.get("step") for link in site.nav(aarhus, pages[6], pages)][-1] == "previous"


def bundle_outputs(*scripts: str) -> nbformat.NotebookNode:
    """An executed notebook whose cells each show one of ``scripts`` between two tables."""
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output(
                        "display_data", {"text/html": f"<table>1</table>{s}<table>2</table>"}
                    )
                ]
            )
            for s in scripts
        ]
    )


def shown(nb: nbformat.NotebookNode) -> list[str]:
    """The HTML each cell of ``bundle_outputs`` shows now."""
    return [c.outputs[0].data["text/html"] for c in nb.cells]


def test_every_stand_in_for_the_bundle_is_replaced_and_nothing_else():
    stand_in = site.datatables_script(site.DATATABLES_STUB)
    nb = bundle_outputs(stand_in, stand_in + stand_in, "<script>injectModule(x)</script>")
    site.put_bundle(nb, '<script src="_static/b.js"></script>')
    assert shown(nb) == [
        '<table>1</table><script src="_static/b.js"></script><table>2</table>',
        '<table>1</table><script src="_static/b.js"></script>'
        '<script src="_static/b.js"></script><table>2</table>',
        "<table>1</table><script>injectModule(x)</script><table>2</table>",
    ]


def test_a_stand_in_from_another_itables_version_fails_the_page():
    import itables

    # What a kernel in another environment, with another itables, would have written.
    other = site.datatables_script(site.DATATABLES_STUB).replace(
        itables.__version__.replace(".", "_"), "1_0_0"
    )
    assert other != site.datatables_script(site.DATATABLES_STUB)
    nb = bundle_outputs(other)
    with pytest.raises(SorediError, match=f"version {re.escape(itables.__version__)}"):
        site.put_bundle(nb, site.datatables_script())
    assert shown(nb) == [f"<table>1</table>{other}<table>2</table>"]  # untouched


def test_an_analysts_table_loads_the_bundle_itself(monkeypatch):
    """Outside a render (JupyterLab), a table's output carries the real bundle."""
    import IPython.display

    from soredi_nb import notebook

    shown_objects = []
    # itables imports ``display`` when it is called; the package imported it before.
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_: shown_objects.extend(objs))
    monkeypatch.setattr(notebook, "display", lambda *objs, **_: shown_objects.extend(objs))
    notebook.show_table(pd.DataFrame({"a": range(3)}))
    html = "".join(getattr(o, "data", "") for o in shown_objects)
    assert site.datatables_script() in html
    assert site.datatables_script(site.DATATABLES_STUB) not in html
