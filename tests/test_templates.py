"""Working copies of the notebooks (``soredi-nb notebooks``); rendering an analyst's copies."""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

import nbformat
import papermill
import pytest

from soredi_nb import templates
from soredi_nb.load import load_extract
from soredi_nb.notebook import escape
from soredi_nb.sample import write_sample
from soredi_nb.templates import NOTEBOOKS, PARAMETERS, notebook_name


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("tpl") / "udtraek.xlsx")


def parameters(path: Path) -> dict:
    """The values a notebook's ``parameters`` cell assigns."""
    namespace: dict = {}
    exec(templates.parameters_cell(nbformat.read(path, as_version=4)).source, namespace)
    return {k: namespace[k] for k in PARAMETERS}


def outputs(nb) -> str:
    """Every Markdown and HTML output of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts += [data.get("text/markdown", ""), data.get("text/html", "")]
    return "\n".join("".join(p) if isinstance(p, list) else p for p in parts)


def test_notebooks_command_writes_eight_ready_copies(book, tmp_path, run_cli):
    work = tmp_path / "arbejde"
    code, out, err = run_cli("notebooks", work, "--extract", book, "--org", "region midtjylland")
    assert code == 0, err
    assert "8 notesbøger skrevet" in out and "jupyter lab" in out
    names = sorted(p.name for p in work.glob("*.ipynb"))
    assert names == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for path in work.glob("*.ipynb"):
        values = parameters(path)
        assert values["extract_path"] == str(book.resolve())
        assert values["organisation"] == "1082"
        assert values["use_cache"] is True and values["region"] is None
    # Opened as is (no parameters passed), the copy shows the chosen organisation, and the
    # overview links to the task notebooks beside it.
    executed = papermill.execute_notebook(
        str(work / f"{notebook_name(0)}.ipynb"), None, progress_bar=False, kernel_name="python3"
    )
    shown = outputs(executed)
    assert "Region Midtjylland" in shown and escape(book.name) in shown
    for n in range(1, 8):
        assert f"]({notebook_name(n)}.ipynb)" in shown
        assert (work / f"{notebook_name(n)}.ipynb").exists()


def test_an_edited_copy_is_never_overwritten_without_force(tmp_path, run_cli):
    work = tmp_path / "arbejde"
    assert run_cli("notebooks", work)[0] == 0
    assert run_cli("notebooks", work)[0] == 0  # unchanged copies: nothing to refuse
    edited = work / f"{notebook_name(3)}.ipynb"
    nb = nbformat.read(edited, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Mine noter"))
    nbformat.write(nb, edited)
    before = edited.read_bytes()
    code, _, err = run_cli("notebooks", work, "--org", "odense")
    assert code == 1
    assert str(edited) in err and "--force" in err
    assert edited.read_bytes() == before
    # Nothing was written: the other copies keep their organisation too.
    assert parameters(work / f"{notebook_name(0)}.ipynb")["organisation"] == "Aarhus Kommune"
    code, _, err = run_cli("notebooks", work, "--org", "odense", "--force")
    assert code == 0, err
    assert "Mine noter" not in edited.read_text(encoding="utf-8")
    assert parameters(edited)["organisation"] == "0461"


def test_render_uses_an_analysts_edited_copies(book, tmp_path, run_cli):
    work = tmp_path / "arbejde"
    assert run_cli("notebooks", work, "--extract", book, "--org", "aarhus")[0] == 0
    for path in sorted(work.glob("*.ipynb"))[1:]:
        path.unlink()  # keep only the overview
    overview = work / f"{notebook_name(0)}.ipynb"
    nb = nbformat.read(overview, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Vores egen note\n\nTjekket af SOR-teamet."))
    nbformat.write(nb, overview)
    out = tmp_path / "out"
    code, _, err = run_cli("render", book, "--org", "1082", "--notebooks", work, "--out", out)
    assert code == 0, err
    page = (out / "region-midtjylland" / "index.html").read_text(encoding="utf-8")
    # The render's organisation wins over the copy's default, and the analyst's cell is there.
    assert "Region Midtjylland" in page and "Tjekket af SOR-teamet." in page


def test_copies_that_break_the_contract_are_refused_before_any_work(book, tmp_path, run_cli):
    work = tmp_path / "arbejde"
    work.mkdir()
    nb = nbformat.read(NOTEBOOKS / f"{notebook_name(1)}.ipynb", as_version=4)
    cell = templates.parameters_cell(nb)
    lines = cell.source.splitlines()
    cell.source = "\n".join(line for line in lines if not line.startswith("aliases_path"))
    nbformat.write(nb, work / f"{notebook_name(1)}.ipynb")
    out = tmp_path / "out"
    code, _, err = run_cli("render", book, "--org", "aarhus", "--notebooks", work, "--out", out)
    assert code == 1
    assert "mangler parametrene aliases_path" in err and notebook_name(1) in err
    assert not out.exists()


def test_the_benchmarks_floor_notebooks_keep_the_contract(tmp_path, monkeypatch):
    """``benchmarks/render.py`` renders a trivial notebook under every template's name; ``render``
    refuses it, and the benchmark stops, if it lacks a parameter that template must declare."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "render.py"
    monkeypatch.syspath_prepend(str(script.parent))  # as when it runs: its folder's modules
    spec = importlib.util.spec_from_file_location("render_benchmark", script)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    names = [path.name for path in templates.notebook_paths()]
    floor = benchmark.write_floor(tmp_path, names)
    assert [path.name for path in templates.notebook_paths(floor)] == names
    assert templates.declared_parameters(floor[0])[-2:] == list(templates.OVERVIEW_PARAMETERS)
    assert templates.declared_parameters(floor[1]) == list(PARAMETERS)


def test_render_that_finds_no_notebooks_is_an_error(book, tmp_path, run_cli):
    empty = tmp_path / "tom"
    empty.mkdir()
    code, out, err = run_cli("render", book, "--org", "aarhus", "--notebooks", empty, "--out", "x")
    assert code == 1
    assert f"Der er ingen notesbøger (*.ipynb) i {empty}" in err and "sider lavet" not in out


def test_with_parameters_keeps_the_rest_of_the_cell():
    nb = nbformat.read(NOTEBOOKS / f"{notebook_name(0)}.ipynb", as_version=4)
    changed = templates.with_parameters(nb, {"organisation": 'Privat:"Citat" & co'})
    source = templates.parameters_cell(changed).source
    assert 'organisation = "Privat:\\"Citat\\" & co"' in source
    assert source.splitlines()[0] == templates.parameters_cell(nb).source.splitlines()[0]
    assert templates.parameters_cell(nb).source != source  # the original is untouched
    assert json.dumps(nb) != json.dumps(changed)


def test_working_copies_refuse_unknown_parameters(tmp_path):
    with pytest.raises(ValueError, match="organisationer"):
        templates.write_working_copies(tmp_path, {"organisationer": "x"})
    assert not list(tmp_path.iterdir())


def test_copies_are_the_packaged_templates_when_nothing_is_given(tmp_path):
    paths = templates.write_working_copies(tmp_path / "w", {})
    for path in paths:
        assert path.read_bytes() == (NOTEBOOKS / path.name).read_bytes()


def test_overview_for_the_whole_extract_as_a_coordinator_opens_it(book):
    """``organisation = None`` in JupyterLab: the organisation table, per IT system if asked,
    with no link to pages that do not exist; a wrong ``by`` is a Danish error."""
    overview = str(NOTEBOOKS / f"{notebook_name(0)}.ipynb")
    run = dict(extract_path=str(book), organisation=None, by="it_system")
    shown = outputs(
        papermill.execute_notebook(
            overview, None, parameters=run, progress_bar=False, kernel_name="python3"
        )
    )
    assert "Hvem har noget at rette?" in shown and "Fund pr. it-system i udtrækkets" in shown
    assert "Alle kommuner og regioner" not in shown and "Klik på et it-system" not in shown
    assert "Nederst står" not in shown  # every finding has an IT system: no such line
    systems = {s for df in load_extract(book).tables.values() for s in df["it_system"].dropna()}
    assert all(html.escape(s) in shown for s in systems)
    assert ".ipynb" not in shown  # the whole extract has no task notebooks to link to
    with pytest.raises(papermill.PapermillExecutionError, match="by skal være"):
        papermill.execute_notebook(
            overview, None, parameters=run | {"by": "kommune"}, progress_bar=False
        )
