"""The report notebooks: structure, and execution with papermill for several organisations.

``pytest`` also executes every notebook with its defaults through nbval (``--nbval-lax``, see
pyproject.toml); these tests run them with other parameters and check what the output shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

from soredi_nb import templates
from soredi_nb.sample import NO_FINDINGS, make_sample, write_sample

NOTEBOOKS = sorted(templates.NOTEBOOKS.glob("*.ipynb"))
SECOND_ORG = "Region Midtjylland"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def parameter_cells(nb):
    return [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]


def test_eight_notebooks_as_generated():
    assert [p.name for p in NOTEBOOKS] == sorted(templates.notebooks())
    assert len(NOTEBOOKS) == 8
    for path in NOTEBOOKS:
        expected = nbformat.writes(templates.notebooks()[path.name]) + "\n"
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.name} is out of date: run python -m soredi_nb.templates"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_structure(path):
    nb = read(path)
    params = parameter_cells(nb)
    assert len(params) == 1
    names = [
        line.split("=")[0].strip()
        for line in params[0].source.splitlines()
        if not line.startswith("#")
    ]
    assert names == list(templates.PARAMETERS)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert len(cell.source.splitlines()) <= 8


def run_notebook(path: Path, tmp_path: Path, **parameters) -> str:
    """Execute a notebook with papermill; return every output's text and HTML joined."""
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), parameters=parameters, progress_bar=False, kernel_name="python3"
    )
    texts = []
    for cell in read(out).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts += [
                data.get("text/markdown", ""),
                data.get("text/html", ""),
                output.get("text", ""),
            ]
            texts += [json.dumps(data.get("application/vnd.jupyter.widget-view+json", ""))]
    return "\n".join(t if isinstance(t, str) else "".join(t) for t in texts)


@pytest.fixture(scope="module")
def extract_path(tmp_path_factory):
    return str(write_sample(tmp_path_factory.mktemp("nb") / "sample.xlsx", seed=1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_second_organisation(path, tmp_path, extract_path):
    shown = run_notebook(path, tmp_path, extract_path=extract_path, organisation=SECOND_ORG)
    assert SECOND_ORG in shown
    tables = make_sample(seed=1)["tables"]
    number = int(path.name[:2])
    wanted = tables.values() if number == 0 else [tables[number]]
    own = [df[df["ejer"] == SECOND_ORG] for df in wanted]
    if number:
        # Every one of the organisation's location numbers is shown, and only its rows.
        assert all(g in shown for g in own[0]["lokationsnummer"])
        assert f"{len(own[0])} fund, sorteret" in shown


@pytest.mark.parametrize("path", [NOTEBOOKS[0], NOTEBOOKS[2]], ids=lambda p: p.name)
def test_organisation_without_findings(path, tmp_path, extract_path):
    shown = run_notebook(path, tmp_path, extract_path=extract_path, organisation=NO_FINDINGS[0])
    assert "Ingen oprydningsopgave" in shown
    assert "Traceback" not in shown
