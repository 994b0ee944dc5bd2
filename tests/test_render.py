"""Rendering report sets: files, content, safety, incremental runs, failures, Dask."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from soredi_nb import render as r
from soredi_nb import site as site_module
from soredi_nb import tasks
from soredi_nb.exceptions import SorediError
from soredi_nb.files import slugify
from soredi_nb.load import load_extract
from soredi_nb.manifest import Manifest
from soredi_nb.sample import NO_FINDINGS, make_sample, write_extract
from soredi_nb.targets import targets
from soredi_nb.templates import NOTEBOOKS, notebook_name

HOSTILE = "<script>alert('x')</script>Hjemmepleje </script><b>fed</b>"
ORGS = ["Aarhus Kommune", "Region Midtjylland", NO_FINDINGS[0]]


def hostile_sample() -> dict:
    """The sample with a hostile unit name on every Aarhus row."""
    sample = make_sample()
    for df in sample["tables"].values():
        df.loc[df["ejer"] == "Aarhus Kommune", "enhedsnavn"] = HOSTILE
    return sample


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    extract = load_extract(write_extract(hostile_sample(), root / "udtraek.xlsx"))
    result = r.render(extract, targets(extract, ORGS), root / "out", jobs=2, progress=False)
    return extract, result


def page(result, slug, name="index.html") -> str:
    return (result.out_dir / slug / name).read_text(encoding="utf-8")


def test_files_of_every_report_set(rendered):
    _, result = rendered
    assert result.failures == []
    assert result.count("rendered") == 3 * 8
    assert (result.out_dir / "index.html").exists()
    for slug in ("aarhus-kommune", "region-midtjylland", slugify(NO_FINDINGS[0])):
        names = sorted(p.name for p in (result.out_dir / slug).glob("*.html"))
        assert names == sorted(
            ["index.html"] + [p.stem + ".html" for p in sorted(NOTEBOOKS.glob("0[1-7]*.ipynb"))]
        )


def test_pages_show_their_organisations_counts(rendered):
    extract, result = rendered
    tables = make_sample()["tables"]
    for org, slug in (
        ("Aarhus Kommune", "aarhus-kommune"),
        ("Region Midtjylland", "region-midtjylland"),
    ):
        overview = page(result, slug)
        assert org in overview
        for n, df in tables.items():
            rows = int((df["ejer"] == org).sum())
            name = notebook_name(n)
            # The overview links to the task page with the organisation's count.
            assert f'href="{name}.html">Tabel {n}:' in overview
            assert re.search(rf'{name}\.html">Tabel {n}:[^<]*</a> – {rows} fund', overview)
            if rows:
                shown = page(result, slug, f"{name}.html")
                assert f"{rows} fund, sorteret med de største problemer først" in shown


def test_a_missing_value_is_an_empty_cell(rendered):
    """Not itables' "NaN" (or "NaT"), in the interactive table or the plain one."""
    _, result = rendered
    aarhus = make_sample()["tables"][6].query("ejer == 'Aarhus Kommune'")
    assert aarhus["fejlkode"].isna().sum() == 1  # a negative receipt without an error code
    shown = page(result, "aarhus-kommune", f"{notebook_name(6)}.html")
    assert '\\"44,4\\", \\"\\"]' in shown  # its row ends in an empty error code
    for path in result.out_dir.rglob("*.html"):
        body = path.read_text(encoding="utf-8")
        for shown_missing in ('\\"NaN\\"', ">NaN<", '\\"NaT\\"', ">NaT<"):
            assert shown_missing not in body, (path.name, shown_missing)


def test_no_code_widgets_or_external_resources(rendered):
    _, result = rendered
    for path in result.out_dir.rglob("*.html"):
        body = path.read_text(encoding="utf-8")
        for forbidden in (
            "from soredi_nb",
            "page.key_figures",
            "TaskPage(",
            "Parametre.",
            "%reset",
            "get_ipython",
            "application/vnd.jupyter.widget",
            "hl-ipython3",
        ):
            assert forbidden not in body, (path.name, forbidden)
        assert not re.search(r'<script[^>]+src="(https?:)?//', body), path.name
        assert not re.search(r'<link[^>]+href="(https?:)?//', body), path.name
        assert "require.min.js" not in body and "mathjax" not in body.lower()


def test_outputs_focusable_images_described_and_no_itables_notices(rendered):
    """What nbconvert's exporter sees to, and what the page takes out of itables' HTML."""
    _, result = rendered
    for path in result.out_dir.glob("*/*.html"):
        body = path.read_text(encoding="utf-8")
        # Every output takes keyboard focus (a wide table scrolls), as in nbconvert's pages.
        outputs = re.findall(r'<div [^>]*class="[^"]*jp-OutputArea-output[^"]*"[^>]*>', body)
        assert outputs and all('tabindex="0"' in div for div in outputs), path.name
        images = re.findall(r"<img\b[^>]*>", body)
        assert all(re.search(r'alt="[^"]+"', img) for img in images), path.name
        for notice in ("Loading ITables", "JavaScript not allowed", "itables.org"):
            assert notice not in body, (path.name, notice)


def test_hostile_names_are_escaped(rendered):
    _, result = rendered
    for path in (result.out_dir / "aarhus-kommune").glob("*.html"):
        body = path.read_text(encoding="utf-8")
        assert "<script>alert(" not in body, path.name
        assert "<b>fed</b>" not in body, path.name
        # Inside JavaScript data a literal </script> would end the script element early.
        assert body.count("<script") == body.count("</script>"), path.name
    findings = page(result, "aarhus-kommune", notebook_name(2) + ".html")
    assert "&lt;script&gt;alert(" in findings  # shown as text, in the table data


def test_organisation_without_findings(rendered):
    _, result = rendered
    slug = slugify(NO_FINDINGS[0])
    assert "Ingen oprydningsopgave" in page(result, slug)
    task = page(result, slug, notebook_name(2) + ".html")
    # One statement, the guide folded away, no empty sections: a short page.
    assert task.count("Ingen oprydningsopgave") == 1 and "Ingen fund" not in task
    assert "<details><summary>Vejledningen til tabel 2" in task
    for heading in ("Hvem kan rette det?", "Overblik i figurer", ">Fund<"):
        assert heading not in task
    assert "<img " not in task


def test_index_lists_every_organisation_with_links(rendered):
    _, result = rendered
    index = (result.out_dir / "index.html").read_text(encoding="utf-8")
    for slug in ("aarhus-kommune", "region-midtjylland"):
        assert f'href=\\"{slug}/index.html\\"' in index or f'href="{slug}/index.html"' in index
    assert "<h2" in index and "Hvem har noget at rette?" in index
    # The overview links its task pages from the status table (and the whole extract none).
    overview = page(result, "aarhus-kommune")
    for n in range(1, 8):
        assert overview.count(f'href="{notebook_name(n)}.html"') >= 2, n
    assert f'href="{notebook_name(2)}.html"' not in index
    # The guide's opening instructions and appendix links, on the index and every overview.
    intro = tasks.intro()
    overview = page(result, "aarhus-kommune")
    for html in (index, overview):
        assert html.count(intro.no_task) == 1 and "Før du går i gang" in html
        assert all(f'href="{link.url}"' in html for link in intro.links)
    # On an organisation's report, the guide's first step (filter the extract) is done.
    done = "<strong>Det første trin er gjort her:</strong> rapporten viser kun fund for"
    assert f"{done} Aarhus Kommune." in overview and done not in index


def test_second_run_skips_unchanged_pages_and_force_renders(rendered, tmp_path):
    extract, result = rendered
    out = tmp_path / "out"
    shutil.copytree(result.out_dir, out)
    chosen = targets(extract, ORGS[:1])
    again = r.render(extract, chosen, out, jobs=1, progress=False)
    assert (again.count("skipped"), again.count("rendered")) == (8, 0)
    (out / "aarhus-kommune" / "index.html").unlink()
    again = r.render(extract, chosen, out, jobs=1, progress=False)
    assert (again.count("skipped"), again.count("rendered")) == (7, 1)


def test_keep_ipynb_and_force(rendered, tmp_path):
    extract, _ = rendered
    notebooks = [NOTEBOOKS / "02_lukkede-med-indgaaende-trafik.ipynb"]
    chosen = targets(extract, ["Aarhus"])
    out = tmp_path / "out"
    r.render(extract, chosen, out, jobs=1, progress=False, keep_ipynb=True, notebooks=notebooks)
    nb = nbformat.read(out / "aarhus-kommune" / "02_lukkede-med-indgaaende-trafik.ipynb", 4)
    assert any(c.get("outputs") for c in nb.cells)
    # The kernel sent a stand-in for the DataTables bundle: the kept notebook has the bundle.
    shown = "".join(
        o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", [])
    )
    assert site_module.datatables_script() in shown
    assert site_module.datatables_script(site_module.DATATABLES_STUB) not in shown
    forced = r.render(extract, chosen, out, jobs=1, progress=False, force=True, notebooks=notebooks)
    assert forced.count("rendered") == 1


def broken_notebooks(folder: Path) -> list[Path]:
    """A working template and one that fails for Region Midtjylland only."""
    folder.mkdir()
    good = shutil.copy(NOTEBOOKS / "02_lukkede-med-indgaaende-trafik.ipynb", folder)
    nb = nbformat.read(good, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            'if page.organisation.code == "1082":\n    raise ValueError("kunstig fejl")'
        )
    )
    bad = folder / "03_lukkede-med-udgaaende-trafik.ipynb"
    nbformat.write(nb, bad)
    return [Path(good), bad]


def pages_made(monkeypatch) -> list[r.PageJob]:
    """Collects every page ``render`` makes from now on, in the order they begin."""
    made = []
    real = r.render_page

    def counted(job):
        made.append(job)
        return real(job)

    monkeypatch.setattr(r, "render_page", counted)
    return made


def test_the_front_page_drafted_beside_the_pages_is_kept_when_every_page_succeeds(
    rendered, tmp_path, monkeypatch
):
    extract, _ = rendered
    made = pages_made(monkeypatch)
    out = tmp_path / "out"
    r.render(extract, targets(extract, ORGS[:2]), out, jobs=1, progress=False)
    # Made first, in a hidden folder of the site, and only once.
    assert len(made) == 1 + 2 * 8 and [j.slug for j in made].count("") == 1
    draft = made[0]
    assert draft.slug == "" and Path(draft.out_dir).parent == out
    assert Path(draft.out_dir).name.startswith(".")
    assert draft.parameters["report_sets"] == {
        "Kommune:aarhus kommune": {"href": "aarhus-kommune/index.html", "failed": []},
        "Region:region midtjylland": {"href": "region-midtjylland/index.html", "failed": []},
    }
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="aarhus-kommune/index.html"' in index and "Hvem har noget at rette?" in index
    assert sorted(p.name for p in out.iterdir()) == [
        ".soredi-site.json",
        "_static",
        "aarhus-kommune",
        "index.html",
        "region-midtjylland",
    ]


def test_one_failure_does_not_stop_the_others(rendered, tmp_path, monkeypatch):
    extract, _ = rendered
    notebooks = broken_notebooks(tmp_path / "nb")
    chosen = targets(extract, ["Aarhus", "Region Midtjylland"])
    made = pages_made(monkeypatch)
    result = r.render(
        extract, chosen, tmp_path / "out", jobs=2, progress=False, notebooks=notebooks
    )
    # The draft of the front page assumed success; it is made again with the failure.
    draft, front = [job for job in made if not job.slug]
    assert Path(draft.out_dir).parent == Path(front.out_dir) == tmp_path / "out"
    assert draft.parameters["report_sets"] != front.parameters["report_sets"]
    assert result.count("rendered") == 3
    [failure] = result.failures
    assert (failure.label, failure.notebook) == ("Region Midtjylland", notebooks[1].stem)
    # The failing cell is the appended last cell, counted as in the template.
    assert failure.cell == len(nbformat.read(notebooks[1], 4).cells)
    assert "Fejl i notesbogen (ValueError): kunstig fejl" in failure.error
    summary = "\n".join(r.summary_lines(result))
    assert "Region Midtjylland: 03_lukkede-med-udgaaende-trafik, celle" in summary
    # A failure page stands in its place: it says what failed and shows no numbers.
    failed_page = (
        tmp_path / "out" / "region-midtjylland" / "03_lukkede-med-udgaaende-trafik.html"
    ).read_text(encoding="utf-8")
    assert "Siden kunne ikke laves" in failed_page and "kunstig fejl" in failed_page
    assert "fund, sorteret" not in failed_page
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "kunstig fejl" in index and "Fejl i 1 side" in index


def test_interrupted_run_leaves_no_partial_page(rendered, tmp_path, monkeypatch):
    extract, _ = rendered
    chosen = targets(extract, ["Aarhus"])
    calls = []
    real = Manifest.write

    def interrupt(self):
        real(self)
        # Ctrl-C reaches the main thread, which records the pages (the worklists write theirs
        # from a thread of their own).
        if threading.current_thread() is not threading.main_thread():
            return
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(Manifest, "write", interrupt)
    with pytest.raises(KeyboardInterrupt):
        r.render(extract, chosen, tmp_path / "out", jobs=1, progress=False)
    # No front page (its draft is made out of sight) to link to pages that were never made.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".soredi-site.json",
        "_static",
        "aarhus-kommune",
    ]
    folder = tmp_path / "out" / "aarhus-kommune"
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))
    written = list(folder.glob("*.html"))
    assert 3 <= len(written) < 8
    assert all(p.read_text(encoding="utf-8").rstrip().endswith("</html>") for p in written)
    monkeypatch.setattr(Manifest, "write", real)
    rerun = r.render(extract, chosen, tmp_path / "out", jobs=1, progress=False)
    # Pages finished before the interruption are reused; the rest are rendered now.
    assert rerun.count("skipped") >= 3 and rerun.count("skipped") + rerun.count("rendered") == 8
    assert rerun.failures == []


def test_unknown_organisation_fails_before_any_work(rendered, tmp_path):
    extract, _ = rendered
    with pytest.raises(SorediError, match="Aarhuus"):
        targets(extract, ["Aarhus", "Aarhuus"])


def test_notebook_without_our_parameters_is_refused(rendered, tmp_path):
    extract, _ = rendered
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("organisation = None", metadata={"tags": ["parameters"]})]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(SorediError, match="extract_path"):
        r.render(
            extract,
            targets(extract, ["Aarhus"]),
            tmp_path / "out",
            notebooks=[path],
            progress=False,
        )
    assert not (tmp_path / "out").exists()


def test_output_inside_input_folder_is_refused(rendered):
    extract, _ = rendered
    with pytest.raises(SorediError, match="ændres aldrig"):
        r.render(
            extract, targets(extract, ["Aarhus"]), Path(extract.info.file).parent, progress=False
        )


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Københavns Kommune", "koebenhavns-kommune"),
        ("Ærø Kommune", "aeroe-kommune"),
        ("Lægerne ../../etc/passwd", "laegerne-etc-passwd"),
        ("a/b\\c", "a-b-c"),
        ("...", "organisation"),
        ("Tandlæge Åse Müller", "tandlaege-aase-muller"),
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_all_targets_by_owner_and_it_system(rendered):
    extract, _ = rendered
    owners = targets(extract, all_=True)
    kinds = {t.kind for t in owners}
    assert kinds == {"Kommune", "Region"}
    with_private = targets(extract, all_=True, include_private=True)
    assert len(with_private) > len(owners) and "Privat" in {t.kind for t in with_private}
    systems = targets(extract, all_=True, by="it_system")
    assert all(t.parameters["organisation"] is None for t in systems)
    assert {t.parameters["it_system"] for t in systems} >= {"Cura"}


def test_dask_local_cluster(rendered, tmp_path):
    """--scheduler: each organisation's pages run as one job on a Dask worker process."""
    from distributed import LocalCluster

    extract, _ = rendered
    notebooks = [
        NOTEBOOKS / "00_oversigt.ipynb",
        NOTEBOOKS / "02_lukkede-med-indgaaende-trafik.ipynb",
    ]
    chosen = targets(extract, ["Aarhus", NO_FINDINGS[0]])
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        result = r.render(
            extract,
            chosen,
            tmp_path / "out",
            notebooks=notebooks,
            progress=False,
            scheduler=cluster.scheduler_address,
        )
    assert result.failures == [] and result.count("rendered") == 4
    assert "Aarhus Kommune" in page(result, "aarhus-kommune")
    assert "Ingen oprydningsopgave" in page(result, slugify(NO_FINDINGS[0]))


def test_unreachable_scheduler_is_a_clear_error(rendered, tmp_path):
    extract, _ = rendered
    with pytest.raises(SorediError, match="Dask-scheduleren"):
        r.render(
            extract,
            targets(extract, ["Aarhus"]),
            tmp_path / "out",
            progress=False,
            scheduler="tcp://127.0.0.1:9",
        )


def test_cli_render_exit_codes(rendered, tmp_path, monkeypatch, capsys):
    from soredi_nb.cli import main

    extract, _ = rendered
    folder = tmp_path / "nb"
    broken_notebooks(folder)
    argv = [
        "render",
        extract.info.file,
        "--notebooks",
        str(folder),
        "--org",
        "Aarhus",
        "--org",
        "1082",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--jobs",
        "2",
    ]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert "Færdig: 3 sider lavet, 0 uændrede sider genbrugt, 1 side fejlede." in out
    assert "Region Midtjylland: 03_lukkede-med-udgaaende-trafik, celle" in err
    assert (tmp_path / "out" / "aarhus-kommune" / "arbejdsliste.xlsx").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["render", extract.info.file, "--out", str(tmp_path / "x")])
    assert exit_.value.code == 1
    assert "et af argumenterne --org --all skal angives" in capsys.readouterr().err


def test_previous_extract_shows_progress(rendered, tmp_path):
    """--previous: the overview shows new/resolved findings and the index the change."""
    extract, _ = rendered
    sample = hostile_sample()
    t2 = sample["tables"][2]
    aarhus = t2.index[t2["ejer"] == "Aarhus Kommune"]
    sample["tables"][2] = t2.drop(index=aarhus[:1])  # one finding of table 2 is new since then
    del sample["tables"][7]  # and table 7 was missing back then
    previous = load_extract(write_extract(sample, tmp_path / "forrige.xlsx"))
    notebooks = [
        NOTEBOOKS / "00_oversigt.ipynb",
        NOTEBOOKS / "02_lukkede-med-indgaaende-trafik.ipynb",
    ]
    result = r.render(
        extract,
        targets(extract, ["Aarhus"]),
        tmp_path / "out",
        jobs=2,
        progress=False,
        notebooks=notebooks,
        previous=previous,
    )
    assert result.failures == []
    overview = page(result, "aarhus-kommune")
    assert "Udvikling siden forrige udtræk" in overview
    assert "1 nyt, 0 løste" in overview
    assert "kan ikke sammenlignes: mangler i det tidligere udtræk" in overview
    task = page(result, "aarhus-kommune", "02_lukkede-med-indgaaende-trafik.html")
    assert "Siden forrige udtræk:</strong> 1 nyt, 0 løste" in task
    index = (result.out_dir / "index.html").read_text(encoding="utf-8")
    assert "+1 (1 nyt, 0 løste)" in index


def test_summary_lines_put_each_count_in_agreement(tmp_path):
    """One page of each kind is "1 side", never "1 sider"; two are "2 sider"."""
    from soredi_nb.site import PageResult

    def page(status: str, **kw) -> PageResult:
        return PageResult("aarhus-kommune", "Aarhus Kommune", "00_oversigt", status, **kw)

    index = tmp_path / "index.html"
    one = r.RenderResult(
        tmp_path, index, [page("rendered"), page("skipped"), page("failed", error="kunstig fejl")]
    )
    assert r.summary_lines(one)[-1] == (
        f"Færdig: 1 side lavet, 1 uændret side genbrugt, 1 side fejlede. Åbn {index}"
    )
    two = r.RenderResult(tmp_path, index, [page("rendered")] * 2 + [page("skipped")] * 2)
    assert r.summary_lines(two) == [
        f"Færdig: 2 sider lavet, 2 uændrede sider genbrugt, 0 sider fejlede. Åbn {index}"
    ]


def test_progress_without_a_terminal_is_a_line_every_five_percent(capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    bar = r._progress(total=824, initial=24, enabled=True)
    for _ in range(800):
        bar.update(1)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    # From 2 % (24 pages reused) to 100 %: one line per five per cent, never hundreds.
    assert len(lines) == 20
    assert lines[0] == "Rapporter: 42 af 824 sider (5 %)"
    assert lines[-1] == "Rapporter: 824 af 824 sider (100 %)"
    assert r._progress(total=10, initial=0, enabled=False).disable


def test_pages_share_their_assets_and_describe_their_charts(rendered):
    """Scripts and styles once in _static (pages stay small); charts have Danish alt text."""
    _, result = rendered
    static = result.out_dir / "_static"
    assert sorted(p.name for p in static.iterdir()) == [
        site_module.datatables_file(),
        "jupyterlab.css",
    ]
    for path in (result.out_dir / "aarhus-kommune").glob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert f'<script src="../_static/{site_module.datatables_file()}"></script>' in html
        assert 'href="../_static/jupyterlab.css"' in html
        assert "function injectCSS" not in html and "init_notebook_mode" not in html
        # Measured, not guessed: the sample's pages are tens of KB, the shared parts ~1.2 MB.
        images = re.findall(r"<img [^>]*>", html)
        alts = [re.search(r'alt="([^"]*)"', img).group(1) for img in images]
        assert all(a.startswith("Diagram: ") for a in alts), path.name
        assert len(html.encode()) - sum(len(img) for img in images) < 150_000, path.name
    index = (result.out_dir / "index.html").read_text(encoding="utf-8")
    assert f'<script src="_static/{site_module.datatables_file()}"></script>' in index


def test_standalone_pages_carry_everything(tmp_path):
    extract = load_extract(write_extract(make_sample(), tmp_path / "udtraek.xlsx"))
    chosen = targets(extract, ["Aarhus"])
    notebooks = [NOTEBOOKS / f"{notebook_name(2)}.ipynb"]
    out = tmp_path / "out"
    r.render(extract, chosen, out, jobs=1, progress=False, notebooks=notebooks, standalone=True)
    assert not (out / "_static").exists()
    html = (out / "aarhus-kommune" / f"{notebook_name(2)}.html").read_text(encoding="utf-8")
    assert "_static" not in html and site_module.datatables_script() in html
    assert site_module.datatables_script(site_module.DATATABLES_STUB) not in html
    assert "init_notebook_mode" not in html  # itables' English notice is gone here too
