"""The eight report notebooks, generated from one template so they stay in step.

Every notebook has the same ``parameters`` cell, one import cell, and per section a Markdown
heading (from ``data/texts/notebook.yaml``) and a one-line code cell calling ``soredi_nb.notebook``.
The committed files in ``notebooks/`` are this module's output; a test checks they are current.
Regenerate them with ``python -m soredi_nb.templates``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from soredi_nb import schema
from soredi_nb.sample import DEMO_ORGANISATION
from soredi_nb.texts import text

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PARAMETERS = {
    "extract_path": None,
    "organisation": DEMO_ORGANISATION,
    "region": None,
    "kommune": None,
    "it_system": None,
    "sor_kode": None,
    "previous_extract_path": None,
}
INTERACTIVE_TAG = "interactive"
"""Cells with this tag need a live kernel; the HTML export drops them."""

_FILTERS = "filters = dict(" + ", ".join(f"{k}={k}" for k in list(PARAMETERS)[2:6]) + ")"
_TASK_SECTIONS = [
    ("key_figures", "page.key_figures()"),
    ("guidance", "page.guidance()"),
    ("contacts", "page.contacts()"),
    ("findings", "page.findings()"),
    ("charts", "page.charts()"),
]
_OVERVIEW_SECTIONS = [
    ("status", "page.status()\npage.progress()"),
    ("by_it_system", "page.by_it_system()"),
    ("repeats", "page.repeats()"),
    ("contacts", "page.contacts()"),
    ("warnings", "page.warnings()"),
    ("tasks", "page.links()"),
]


def notebook_name(number: int) -> str:
    """File stem of a page's notebook: ``00_oversigt`` or ``NN_<slug>``."""
    return "00_oversigt" if number == 0 else f"{number:02d}_{schema.table(number).slug}"


def _literal(value: object) -> str:
    """Python source of a literal, with double quotes as ruff formats it."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _parameters_cell() -> nbformat.NotebookNode:
    """The ``parameters`` cell: literal defaults only, so papermill can override each."""
    lines = [f"# {line}" for line in text("notebook.parameters_comment").splitlines()]
    lines += [f"{name} = {_literal(value)}" for name, value in PARAMETERS.items()]
    return new_code_cell("\n".join(lines), metadata={"tags": ["parameters"]})


def _notebook(title: str, purpose: str, setup: str, sections, interactive=None):
    """Assemble a notebook: title, parameters, setup, sections, then the live-only cells."""
    cells = [new_markdown_cell(f"# {title}\n\n{purpose}"), _parameters_cell(), new_code_cell(setup)]
    for key, code in sections:
        cells += [new_markdown_cell("## " + text(f"notebook.headings.{key}")), new_code_cell(code)]
    if interactive:
        key, code = interactive
        tags = {"tags": [INTERACTIVE_TAG]}
        cells += [
            new_markdown_cell("## " + text(f"notebook.headings.{key}"), metadata=tags),
            new_code_cell(code, metadata=tags),
        ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # stable ids keep diffs of regenerated notebooks empty
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def task_notebook(number: int) -> nbformat.NotebookNode:
    """The notebook of task ``number`` (1-7)."""
    title = text("notebook.task_title", number=number, name=schema.table(number).name)
    setup = (
        "from soredi_nb.notebook import TaskPage\n\n"
        f"{_FILTERS}\n"
        f"page = TaskPage({number}, extract_path, organisation, previous_extract_path, **filters)\n"
        "page.meta()"
    )
    return _notebook(
        title,
        text("notebook.task_purpose"),
        setup,
        _TASK_SECTIONS,
        interactive=("panel", "page.panel()"),
    )


def overview_notebook() -> nbformat.NotebookNode:
    """The overview notebook (00)."""
    setup = (
        "from soredi_nb.notebook import OverviewPage\n\n"
        f"{_FILTERS}\n"
        "page = OverviewPage(extract_path, organisation, previous_extract_path, **filters)\n"
        "page.meta()"
    )
    return _notebook(
        text("notebook.overview_title"),
        text("notebook.overview_purpose"),
        setup,
        _OVERVIEW_SECTIONS,
    )


def notebooks() -> dict[str, nbformat.NotebookNode]:
    """All eight notebooks by file name, overview first."""
    out = {notebook_name(0) + ".ipynb": overview_notebook()}
    for n in schema.TABLE_NUMBERS:
        out[notebook_name(n) + ".ipynb"] = task_notebook(n)
    return out


def write(folder: Path = NOTEBOOKS) -> list[Path]:
    """Write the notebooks into ``folder`` (outputs empty, as committed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, nb in notebooks().items():
        path = folder / name
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOKS):
        print(p)
