"""The report site around the pages: navigation, failure pages, worklists and the index page.

Every HTML page here comes from the Jinja templates beside the page template
(``data/nbconvert/soredi/``), with autoescaping on: text from the extract is data.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from soredi_nb import schema
from soredi_nb.exceptions import SorediError
from soredi_nb.execute import TEMPLATE_DIR
from soredi_nb.extract import Extract
from soredi_nb.files import atomic_write
from soredi_nb.organisations import list_organisations
from soredi_nb.targets import IT_SYSTEM, Target
from soredi_nb.texts import text

INDEX = "index.html"
WORKLIST = "arbejdsliste.xlsx"
WORKLIST_STEP = "arbejdsliste"
"""The name a worklist failure is reported under, beside the notebooks' names."""


@dataclass(frozen=True)
class PageResult:
    """What happened to one page (or worklist) of a report set."""

    slug: str
    label: str
    notebook: str
    status: str
    """``"rendered"``, ``"skipped"`` or ``"failed"``."""
    seconds: float = 0.0
    cell: int | None = None
    error: str | None = None


@cache
def _environment():
    """The Jinja environment of the site's own pages."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR / "soredi"),
        autoescape=True,
        keep_trailing_newline=True,
    )


def nav(target: Target, page: str) -> list[dict]:
    """The navigation of a page: all organisations, the overview, the worklist."""
    links = [{"href": f"../{INDEX}", "label": text("render.back_to_index")}]
    if page != INDEX:
        label = text("render.back_to_overview", organisation=target.label)
        links.append({"href": INDEX, "label": label})
    elif target.kind != IT_SYSTEM:
        links.append({"href": WORKLIST, "label": text("render.worklist_link")})
    return links


def extract_label(extract: Extract) -> str:
    """An extract in words: file name and period."""
    info = extract.info
    return text(
        "render.extract_label",
        file=Path(info.file).name,
        period=info.period or text("notebook.unknown"),
    )


def failure_page(path: Path, target: Target, result: PageResult, extract: str, sha: str) -> None:
    """Put a short Danish failure page at ``path``, so no earlier page stays in its place.

    If even that cannot be written, the earlier page is removed; the failure is on the index
    and in the terminal either way.
    """
    page = {
        "title": text("render.failure.title"),
        "label": target.label,
        "notebook": result.notebook,
        "cell": result.cell,
        "error": result.error,
        "extract": extract,
        "extract_sha256": sha,
        "organisation": target.identity,
        "nav": nav(target, path.name),
    }
    html = (
        _environment()
        .get_template("failure.html.j2")
        .render(page=page, texts=text("render.failure"))
    )
    try:
        atomic_write(path, html)
    except SorediError:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def remove_stale(folder: Path, keep: set[str]) -> None:
    """Remove pages (and kept notebooks) in a report set's folder that this run did not make.

    A folder then never mixes pages of two extracts or runs.
    """
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.suffix in (".html", ".ipynb") and path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


def write_worklist(extract: Extract, target: Target, path: Path) -> PageResult | None:
    """Write a target's worklist; a failure is returned as a result, never raised."""
    from soredi_nb.worklist import write_worklist as write

    filters = {k: v for k, v in target.parameters.items() if k != "organisation" and v}
    try:
        write(path, extract, target.parameters["organisation"], **filters)
    except SorediError as err:
        return PageResult(path.parent.name, target.label, WORKLIST_STEP, "failed", error=str(err))
    return None


def write_index(
    extract: Extract,
    targets: list[Target],
    slugs: dict[str, str],
    out: Path,
    results: list[PageResult],
    previous: Extract | None = None,
) -> Path:
    """Write ``out/index.html``: every target with per-task counts, status and a link."""
    import itables
    from itables.javascript import generate_init_offline_itables_html

    from soredi_nb.notebook import datatables_options

    labels = text("render.index.columns")
    by_system = bool(targets) and targets[0].kind == IT_SYSTEM
    counts = list_organisations(extract, by=IT_SYSTEM if by_system else "ejer")
    counts = counts.set_index("organisation" if by_system else "identity")
    failed: dict[str, list[PageResult]] = {}
    for r in results:
        if r.status == "failed":
            failed.setdefault(r.slug, []).append(r)
    rows = []
    for t in targets:
        slug = slugs[t.identity]
        key = t.label if by_system else t.identity
        found = counts.loc[key] if key in counts.index else None
        link = Markup('<a href="{}/{}">{}</a>').format(slug, INDEX, t.label)
        row = {labels["organisation"]: str(link)}
        if not by_system:
            row[labels["ejertype"]] = str(Markup.escape(t.kind))
        for n in schema.TABLE_NUMBERS:
            col = f"tabel_{n}"
            value = found[col] if found is not None and col in found else 0
            row[labels["table_prefix"] + str(n)] = int(value)
        row[labels["i_alt"]] = int(found["i_alt"]) if found is not None else 0
        if previous is not None:
            row[labels["change"]] = change(previous, extract, t)
        bad = failed.get(slug, [])
        row[labels["status"]] = (
            text("render.index.status_failed", count=len(bad))
            if bad
            else text("render.index.status_ok")
        )
        rows.append(row)
    # The DataTables bundle goes into the page itself: the index must work with the network off.
    bundle = generate_init_offline_itables_html(itables.options.dt_bundle)
    table = bundle + itables.to_html_datatable(
        pd.DataFrame(rows), allow_html=True, connected=False, **datatables_options()
    )
    info = extract.info
    unknown = text("notebook.unknown")
    page = {
        "title": text("render.index.title"),
        "intro": text(
            "render.index.intro",
            file=Path(info.file).name,
            period=info.period or unknown,
            date=info.extract_date or unknown,
        ),
        "extract_sha256": info.sha256,
        "organisation": "",
    }
    lines = [
        text(
            "render.index.failure_line",
            organisation=r.label,
            notebook=r.notebook,
            cell=r.cell or "–",
            error=r.error,
        )
        for rs in failed.values()
        for r in rs
    ]
    html = (
        _environment()
        .get_template("site_index.html.j2")
        .render(page=page, table=Markup(table), failures=lines, texts=text("render.index"))
    )
    path = out / INDEX
    atomic_write(path, html)
    return path


def change(previous: Extract, extract: Extract, target: Target) -> str:
    """A target's change since the previous extract, e.g. "−5 (3 nye, 8 løste)"."""
    from soredi_nb.compare import compare

    org = target.parameters.get("organisation")
    filters = {k: v for k, v in target.parameters.items() if k != "organisation" and v}
    totals = compare(previous, extract, org, **filters).counts()[["new", "resolved"]].sum()
    new, resolved = int(totals["new"]), int(totals["resolved"])
    delta = new - resolved
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return text("render.index.change", delta=f"{sign}{abs(delta)}", new=new, resolved=resolved)
