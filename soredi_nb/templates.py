"""The report notebooks: where they are, the parameters they share, and working copies of them.

The eight notebooks in ``soredi_nb/notebooks/`` are the templates: an analyst edits them in
JupyterLab and ``render`` runs them, as papermill and notebooker do. They ship as package data,
so a plain ``pip install`` renders. Every one has the same ``parameters`` cell (``PARAMETERS``);
a test keeps the eight consistent.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

import nbformat

from soredi_nb import schema
from soredi_nb.exceptions import SorediError
from soredi_nb.files import atomic_write
from soredi_nb.sample import DEMO_ORGANISATION
from soredi_nb.texts import text

NOTEBOOKS = Path(str(files("soredi_nb").joinpath("notebooks")))
"""The packaged templates."""
PAGE_TEMPLATES = Path(str(files("soredi_nb").joinpath("data/nbconvert")))
"""nbconvert's template folder (``soredi``); the site's own Jinja templates sit beside it."""
OVERVIEW_PAGE = "index.html"
PARAMETERS = {
    "extract_path": None,
    "aliases_path": None,
    "use_cache": True,
    "organisation": DEMO_ORGANISATION,
    "region": None,
    "kommune": None,
    "it_system": None,
    "sor_kode": None,
    "previous_extract_path": None,
    "history_path": None,
}
"""The ``parameters`` cell every template declares, with its defaults (the bundled sample)."""
OVERVIEW_PARAMETERS = {"by": "ejer", "report_sets": None}
"""What the overview declares besides ``PARAMETERS``: run for the whole extract (``organisation``
``None``), it lists the organisations ``by`` owner or IT system, and on a report site's front
page links each to its report (``render`` passes ``report_sets``)."""
INTERACTIVE_TAG = "interactive"
"""Cells with this tag need a live kernel; the HTML export drops them."""
_ASSIGNMENT = re.compile(r"^(\w+)\s*=")


def notebook_name(number: int) -> str:
    """File stem of a page's notebook: ``00_oversigt`` or ``NN_<slug>``."""
    return "00_oversigt" if number == 0 else f"{number:02d}_{schema.table(number).slug}"


def page_name(stem: str) -> str:
    """The HTML page of a notebook: ``index.html`` for the overview, ``<stem>.html`` otherwise."""
    return OVERVIEW_PAGE if stem == notebook_name(0) else f"{stem}.html"


def notebook_paths(source: str | Path | Iterable[str | Path] | None = None) -> list[Path]:
    """The templates to render, checked against the contract.

    Parameters
    ----------
    source : folder, iterable of paths, or None
        A folder of notebooks (e.g. an analyst's working copies), the notebooks themselves, or
        ``None`` for the packaged ones.

    Raises
    ------
    SorediError
        If there is no notebook, or a notebook lacks one of ``PARAMETERS`` (the overview also
        one of ``OVERVIEW_PARAMETERS``).
    """
    if source is None or isinstance(source, str | Path):
        where = NOTEBOOKS if source is None else Path(source)
        paths = sorted(where.glob("*.ipynb")) if where.is_dir() else []
    else:
        paths = [Path(p) for p in source]
        where = paths[0].parent if paths else Path()
    if not paths:
        raise SorediError(text("render.no_notebooks", folder=where))
    for path in paths:
        if page_name(path.stem) == OVERVIEW_PAGE and path.stem != notebook_name(0):
            # Its page would overwrite the overview's.
            raise SorediError(text("render.reserved_name", notebook=path))
        declared = set(declared_parameters(path))
        wanted = PARAMETERS | (OVERVIEW_PARAMETERS if path.stem == notebook_name(0) else {})
        missing = [name for name in wanted if name not in declared]
        if missing:
            raise SorediError(
                text("render.bad_parameters", notebook=path, names=", ".join(missing))
            )
    return paths


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The cell tagged ``parameters``, or ``None``."""
    return next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)


def declared_parameters(path: Path) -> list[str]:
    """Names assigned in a notebook's ``parameters`` cell (none if it has none or is unreadable)."""
    try:
        cell = parameters_cell(nbformat.read(path, as_version=4))
    except (OSError, ValueError, nbformat.ValidationError):
        return []
    if cell is None:
        return []
    return [m.group(1) for line in cell.source.splitlines() if (m := _ASSIGNMENT.match(line))]


def _literal(value: object) -> str:
    """Python source of a parameter value, with double quotes as ruff formats it."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def with_parameters(nb: nbformat.NotebookNode, values: dict) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose ``parameters`` cell assigns ``values``.

    Unlike papermill's injected cell, the values replace the defaults in place, so the copy reads
    as if the analyst had typed them; the cell's other lines are kept as they are.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A template; it is not changed.
    values : dict
        Parameter name -> Python literal (``str``, ``bool``, ``None``, numbers).

    Returns
    -------
    nbformat.NotebookNode
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cell = parameters_cell(nb)
    lines = []
    for line in cell.source.splitlines():
        m = _ASSIGNMENT.match(line)
        if m and m.group(1) in values:
            line = f"{m.group(1)} = {_literal(values[m.group(1)])}"
        lines.append(line)
    cell.source = "\n".join(lines)
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    """A notebook as its file holds it."""
    return nbformat.writes(nb) + "\n"


def _edited(copy: Path, template: nbformat.NotebookNode) -> bool:
    """True when ``copy`` is more than ``template`` with other parameter values."""
    try:
        cell = parameters_cell(nbformat.read(copy, as_version=4))
        values = {}
        for line in cell.source.splitlines():
            if m := _ASSIGNMENT.match(line):
                values[m.group(1)] = ast.literal_eval(line[m.end() :].strip())
    except (OSError, ValueError, SyntaxError, AttributeError, nbformat.ValidationError):
        return True
    return copy.read_text("utf-8") != _text(with_parameters(template, values))


def write_working_copies(
    folder: str | Path, values: dict, *, force: bool = False, source: Iterable[Path] | None = None
) -> list[Path]:
    """Copy the templates into ``folder`` with ``values`` written into every ``parameters`` cell.

    Parameters
    ----------
    folder : path
        Created if missing.
    values : dict
        Parameter name -> value, e.g. ``{"extract_path": "/data/udtraek.xlsx",
        "organisation": "0751"}``; names outside ``PARAMETERS`` are refused.
    force : bool
        Replace copies an analyst has edited (beyond their parameter values); their edits are
        lost. Unedited copies are always brought up to date.
    source : iterable of Path, optional
        The templates to copy (default: the packaged ones).

    Returns
    -------
    list of Path
        The copies, overview first.

    Raises
    ------
    SorediError
        If a copy in ``folder`` was edited and ``force`` is not set; nothing is written then.
    """
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"not notebook parameters: {unknown}")
    folder = Path(folder)
    planned = {}
    for path in source or notebook_paths():
        template = nbformat.read(path, as_version=4)
        target = folder / path.name
        if target.exists() and not force and _edited(target, template):
            raise SorediError(text("templates.edited_copy", path=target))
        planned[target] = _text(with_parameters(template, values))
    for target, body in planned.items():
        atomic_write(target, body)
    return list(planned)
