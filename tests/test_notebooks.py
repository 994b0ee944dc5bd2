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

from soredi_nb import roles, schema, tasks, templates
from soredi_nb.load import load_extract
from soredi_nb.sample import DEMO_REGION, NO_FINDINGS, make_sample, write_sample
from soredi_nb.summary import summarise

NOTEBOOKS = sorted(templates.NOTEBOOKS.glob("*.ipynb"))
SECOND_ORG = DEMO_REGION  # findings in every table of every sample


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def parameter_cells(nb):
    return [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]


def code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_eight_notebooks_ship_in_the_package():
    names = [p.name for p in NOTEBOOKS]
    assert names == [templates.notebook_name(n) + ".ipynb" for n in range(8)]
    assert all(templates.NOTEBOOKS in p.parents for p in NOTEBOOKS)


def test_one_parameters_cell_the_same_in_all_eight():
    """The task notebooks' cell is the overview's, less the overview's own two parameters."""
    cells = [templates.parameters_cell(read(p)).source for p in NOTEBOOKS]
    overview, tasks = cells[0], cells[1:]
    assert len(set(tasks)) == 1 and overview.startswith(tasks[0] + "\n")
    own = list(templates.OVERVIEW_PARAMETERS)
    assert templates.declared_parameters(NOTEBOOKS[0]) == list(templates.PARAMETERS) + own
    assert templates.declared_parameters(NOTEBOOKS[1]) == list(templates.PARAMETERS)
    # Literal defaults only, and the contract's own values.
    namespace: dict = {}
    exec(overview, namespace)
    contract = templates.PARAMETERS | templates.OVERVIEW_PARAMETERS
    assert {k: namespace[k] for k in contract} == contract


def test_task_notebooks_differ_only_in_their_table():
    def neutral(path: Path) -> str:
        n = int(path.name[:2])
        cells = [(c.cell_type, c.source, c.metadata) for c in read(path).cells]
        body = json.dumps(cells, ensure_ascii=False)
        for own, neutral in (
            (f"# Tabel {n}: {schema.table(n).name}", "# Tabel N: NAVN"),
            (f"TaskPage({n},", "TaskPage(N,"),
        ):
            assert own in body, (path.name, own)
            body = body.replace(own, neutral)
        return body

    tasks = [neutral(p) for p in NOTEBOOKS[1:]]
    assert all(t == tasks[0] for t in tasks), "the seven task notebooks have drifted apart"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_structure(path):
    nb = read(path)
    assert len(parameter_cells(nb)) == 1
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            if cell is not nb.cells[1]:
                assert len(cell.source.splitlines()) <= 8, cell.source


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
    # Tables 6-7: the share of negative receipts blamed on SOR-EDI, as summary says it.
    summary = summarise(load_extract(extract_path), SECOND_ORG)
    causes = [t.causes_text() for t in summary.tasks if number in (0, t.number)]
    assert number not in (0, 6, 7) or any(causes)
    assert all(line in shown for line in causes if line)


@pytest.mark.parametrize("path", [NOTEBOOKS[0], NOTEBOOKS[2]], ids=lambda p: p.name)
def test_organisation_without_findings(path, tmp_path, extract_path):
    shown = run_notebook(path, tmp_path, extract_path=extract_path, organisation=NO_FINDINGS[0])
    assert "Ingen oprydningsopgave" in shown
    assert "Traceback" not in shown


def test_it_system_report_uses_each_findings_own_owner(tmp_path, extract_path):
    """An IT system's task page: who does the first action follows each unit's owner type.

    The table and system are the sample's where that gives the most different people, e.g. a
    municipality (MedCom) and a private unit (its vendor) on one system.
    """
    tables = make_sample(seed=1)["tables"]
    best = (0, None, None, None)
    for number, df in tables.items():
        role = tasks.task(number).leaf_actions()[0].role
        owners = zip(df["ejertype"], df["it_system"], df["it_leverandoer"], strict=True)
        who = df.assign(who=[roles.responsible(role, *o) for o in owners])
        per_system = who.groupby("it_system")["who"].nunique()
        if per_system.max() > best[0]:
            system = per_system.idxmax()
            best = (
                per_system.max(),
                number,
                system,
                set(who.loc[who["it_system"] == system, "who"]),
            )
    count, number, system, expected = best
    assert count > 1  # the sample has a system shared by owners of different rules
    shown = run_notebook(
        NOTEBOOKS[number], tmp_path, extract_path=extract_path, organisation=None, it_system=system
    )
    assert all(w in shown for w in expected)
    role = tasks.task(number).leaf_actions()[0].role
    kinds = ("Kommune", "Region", "Privat", "Stat")
    others = {roles.responsible(role, k, system) for k in kinds} - expected
    assert not [who for who in others if who in shown]
    assert f"Udføres af: {roles.role(role).heading}." in shown


def test_a_table_without_findings_is_one_statement(tmp_path, extract_path):
    """An organisation with findings elsewhere but none in table 1: "Ingen fund" said once,
    the guide folded away, no table or contacts."""
    tables = make_sample(seed=1)["tables"]
    owners = set(tables[2]["ejer"].dropna()) - set(tables[1]["ejer"].dropna())
    org = sorted(o for o in owners if o.endswith("Kommune"))[0]
    shown = run_notebook(NOTEBOOKS[1], tmp_path, extract_path=extract_path, organisation=org)
    assert shown.count("Ingen fund:") == 1
    assert "<details><summary>Vejledningen til tabel 1" in shown
    assert "fund, sorteret" not in shown and "Hvem der udfører" not in shown
