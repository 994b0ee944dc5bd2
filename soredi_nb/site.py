"""The report site around the pages: navigation, failure pages, worklists and the index page.

Every HTML page here comes from the Jinja templates beside the page template
(``data/nbconvert/soredi/``), with autoescaping on: text from the extract is data.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from soredi_nb import danish, schema, tasks
from soredi_nb.danish import fold
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract
from soredi_nb.files import atomic_write
from soredi_nb.manifest import Manifest, key
from soredi_nb.organisations import known, list_organisations
from soredi_nb.targets import IT_SYSTEM, Target
from soredi_nb.templates import OVERVIEW_PAGE, PAGE_TEMPLATES
from soredi_nb.texts import text

INDEX = OVERVIEW_PAGE
STATIC = "_static"
"""The site's folder of shared assets (``render --standalone`` does without)."""
LAB_CSS = "jupyterlab.css"
# A checklist item as the Markdown export writes it: the checkbox, then the action in bold.
_CHECKBOX = re.compile(r'(<input class="task-list-item-checkbox"[^>]*?)/><strong>([^<]*)</strong>')
# itables' notices to notebook users (JavaScript did not run; the notebook is not trusted; a
# link to its help pages), in English and about notebooks, not about the report. itables writes
# the links' addresses unquoted.
_ITABLES_NOTICE = re.compile(
    r'<div style="vertical-align:middle; text-align:left">\s*<noscript>.*?</noscript>\s*</div>'
    r'|<sup><noscript><span title="JavaScript not allowed[^"]*">[^<]*</span></noscript>'
    r'<a href="?https://itables\.org/[^"\s>]*"?[^>]*>[^<]*</a></sup>'
    r"|Loading ITables v[\d.]+ from the <code>init_notebook_mode</code> cell\.\.\.\s*"
    r'\(need <a href="?https://itables\.org/[^"\s>]*"?>help</a>\?\)',
    re.DOTALL,
)
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
        loader=jinja2.FileSystemLoader(PAGE_TEMPLATES / "soredi"),
        autoescape=True,
        keep_trailing_newline=True,
    )


def nav(target: Target, page: str, pages: tuple[str, ...] = ()) -> list[dict]:
    """The navigation bar of a page.

    Parameters
    ----------
    target : Target
    page : str
        The page's file name (``index.html`` for the overview).
    pages : tuple of str
        The file names of the report set's task pages, in order (``02_….html``).

    Returns
    -------
    list of dict
        Links ``{"href", "label", "title", "current"}``: all organisations, the overview, each
        task page (the current page marked), the worklist (not for an IT system), and on a task
        page the previous and next task.
    """

    def link(href: str, label: str, title: str = "", current: bool = False) -> dict:
        return {"href": href, "label": label, "title": title, "current": current}

    links = [link(f"../{INDEX}", text("render.back_to_index"))]
    overview = text("render.nav.overview", organisation=target.label)
    links.append(link(INDEX, overview, current=page == INDEX))
    numbers = {
        name: int(name[:2])
        for name in pages
        if name[:2].isdigit() and int(name[:2]) in schema.TABLE_NUMBERS
    }
    for name, n in numbers.items():
        title = text("render.nav.task_title", number=n, name=schema.table(n).name)
        links.append(link(name, text("render.nav.task", number=n), title, name == page))
    if target.kind != IT_SYSTEM:
        links.append(link(WORKLIST, text("render.worklist_link")))
    if page in numbers:
        order = list(numbers)
        i = order.index(page)
        for key, j in (("previous", i - 1), ("next", i + 1)):
            if 0 <= j < len(order):
                n = numbers[order[j]]
                label = text(f"render.nav.{key}", number=n)
                links.append(link(order[j], label, schema.table(n).name) | {"step": key})
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
    template = _environment().get_template("failure.html.j2")
    try:
        atomic_write(path, template.render(page=page, texts=text("render.failure")))
    except Exception:  # noqa: BLE001 - whatever stops the failure page, the old page must go
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


def write_worklists(
    extract: Extract, targets: list[Target], manifest: Manifest, source: dict, force: bool
) -> tuple[list[PageResult], list[str]]:
    """Write each organisation's worklist beside its pages when its inputs changed.

    Parameters
    ----------
    extract : Extract
    targets : list of Target
        IT-system report sets get none: they have no single owner to hand a worklist to.
    manifest : Manifest
        The site's manifest: folder names, and the keys that tell an unchanged worklist.
    source : dict
        The run's ``manifest.source_key``.
    force : bool
        Write every worklist, changed or not.

    Returns
    -------
    failures : list of PageResult
        A worklist that could not be written is removed, so the site never links to one of an
        earlier extract.
    warnings : list of str
        What the worklists said while being written (e.g. text cut at Excel's limit), each
        with its organisation, in Danish.
    """
    from soredi_nb.worklist import write_worklist

    failures, warnings = [], []
    for t in targets:
        if t.organisation is None:
            continue
        slug = manifest.slug(t)
        path = manifest.folder / slug / WORKLIST
        k = key(source, WORKLIST, t.parameters)
        if not force and manifest.is_current(slug, WORKLIST, k):
            continue
        try:
            written = write_worklist(path, extract, t.organisation, **t.filters)
            warnings += [f"{t.label}: {w}" for w in written.warnings]
        except SorediError as err:
            failures.append(PageResult(slug, t.label, WORKLIST_STEP, "failed", error=str(err)))
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            k = None
        manifest.record(slug, WORKLIST, k)
    manifest.write()
    return failures, warnings


def is_current_page(path: Path, sha256: str) -> bool:
    """True when the page at ``path`` says it was made from the extract with this SHA-256."""
    try:
        with path.open(encoding="utf-8") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return sha256 in head


def write_index(
    extract: Extract,
    targets: list[Target],
    slugs: dict[str, str],
    out: Path,
    results: list[PageResult],
    previous: Extract | None = None,
    everyone: bool = False,
    static: str | None = None,
) -> Path:
    """Write the site's front page: who has work to do, and a link to each report set.

    Parameters
    ----------
    extract : Extract
    targets : list of Target
        The run's report sets, in display order.
    slugs : dict
        Identity -> folder name (``Manifest.slugs``).
    out : Path
        The site folder.
    results : list of PageResult
        Every page's outcome: failures are counted per report set and listed below the table.
    previous : Extract, optional
        Adds the change since the earlier extract per report set.
    everyone : bool
        List every municipality and region of Denmark (``render --all``), those that are not
        in the extract as having no cleanup task, as the guide says.
    static : str, optional
        Where the shared DataTables script is (``"_static/"``, see :func:`write_static`);
        ``None`` puts it in the page.

    Returns
    -------
    Path
        ``out/index.html``. The organisation table is plain HTML, so every row is there without
        JavaScript; with it, DataTables adds search, sorting and paging. A report set is linked
        only when its overview was made from this extract.
    """
    import itables

    from soredi_nb.notebook import datatables_options

    by_system = bool(targets) and targets[0].kind == IT_SYSTEM
    counts = list_organisations(extract, by=IT_SYSTEM if by_system else "ejer")
    if by_system:
        # A report set shows every spelling of its system (as ``filter_extract`` selects it).
        counts = counts.dropna(subset=["organisation"])
        counts = counts.groupby(counts["organisation"].map(fold)).sum(numeric_only=True)
    else:
        counts = counts.set_index("identity")
    failed: dict[str, list[PageResult]] = {}
    for r in results:
        if r.status == "failed":
            failed.setdefault(r.slug, []).append(r)
    listed = [(t.label, t.kind, fold(t.label) if by_system else t.identity, t) for t in targets]
    if everyone and not by_system:
        shown = {identity for *_, identity, _ in listed}
        for kind in ("Kommune", "Region"):
            listed += [
                (o.name, kind, o.identity, None) for o in known(kind) if o.identity not in shown
            ]
    totals = counts["i_alt"] if "i_alt" in counts else pd.Series(dtype="int64")
    rows = []
    for label, kind, where, target in listed:
        found = counts.loc[where] if where in counts.index else None
        row = {
            "label": label,
            "kind": kind,
            # A missing table has not been assessed: not 0 (the note above the table says so).
            "tables": [
                text("common.missing_cell")
                if n not in extract.tables
                else int(found[f"tabel_{n}"])
                if found is not None and f"tabel_{n}" in found
                else 0
                for n in schema.TABLE_NUMBERS
            ],
            "total": int(found["i_alt"]) if found is not None else 0,
            "href": None,
            "change": None,
            "failed": "",
        }
        row["status"] = _status(row["total"], kind, totals, extract.missing, by_system)
        if target is not None:
            slug = slugs[target.identity]
            # Link only to an overview of this extract (one that could not be replaced is stale).
            if is_current_page(out / slug / INDEX, extract.info.sha256):
                row["href"] = f"{slug}/{INDEX}"
            if previous is not None:
                row["change"] = change(previous, extract, target)
            if bad := failed.get(slug):
                row["failed"] = text("render.index.status_failed", count=len(bad))
        rows.append(row)
    info = extract.info
    unknown = text("notebook.unknown")
    missing = extract.missing
    note = text("common.missing_table", number=danish.enumeration(missing)) if missing else None
    page = {
        "title": text("render.index.title"),
        "intro": text(
            "render.index.intro",
            file=Path(info.file).name,
            period=info.period or unknown,
            date=info.extract_date or unknown,
        ),
        "missing": note,
        "extract_sha256": info.sha256,
        "organisation": "",
        "scroll_label": text("render.scroll_label"),
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
    # DataTables' own options, not itables' wrapper's. The table is in the page already, every
    # row also without JavaScript, so here paging replaces the scrolling box.
    not_here = {"maxBytes", "classes", "display_logo_when_loading", "style", "scrollY"}
    not_here |= {"text_in_header_can_be_selected", "scrollCollapse"}
    options = datatables_options(pd.DataFrame(index=range(len(rows))))
    options = {k: v for k, v in options.items() if k not in not_here}
    options |= {"order": [], "paging": True, "pageLength": 25}
    options["layout"] = options["layout"] | {"bottomEnd": "paging"}
    html = (
        _environment()
        .get_template("site_index.html.j2")
        .render(
            page=page,
            rows=rows,
            tables=[schema.table(n) for n in schema.TABLE_NUMBERS],
            by_system=by_system,
            with_change=previous is not None,
            bundle=Markup(page_assets(datatables_script(), static)),
            itables_global="_itables_" + itables.__version__.replace(".", "_"),
            options=options,
            failures=lines,
            texts=text("render.index"),
            intro=tasks.intro(),
            headings=text("tasks"),
        )
    )
    path = out / INDEX
    atomic_write(path, html)
    return path


@cache
def datatables_script() -> str:
    """The script that loads the offline DataTables bundle (itables'), without its ``noscript``
    notice, which is in English and addresses notebook users, not report readers."""
    import itables
    from itables.javascript import generate_init_offline_itables_html

    html = generate_init_offline_itables_html(itables.options.dt_bundle)
    return html[: html.index("</script>") + len("</script>")]


def datatables_file() -> str:
    """The name of the shared DataTables script in ``_static``, versioned with itables."""
    import itables

    return f"datatables-{itables.__version__}.js"


def write_static(out: Path) -> None:
    """Write the assets every page of a site shares to ``out/_static``, once per site.

    The DataTables bundle (about 1 MB) and JupyterLab's CSS (about 250 KB) would otherwise be
    copied into every page. The script is a classic one (not a module), so pages opened from
    disk (``file://``) with the network off can load it.
    """
    from jupyter_core.paths import jupyter_path

    folder = out / STATIC
    folder.mkdir(parents=True, exist_ok=True)
    script = datatables_script()
    body = script[script.index(">") + 1 : script.rindex("</script>")]
    _write_if_changed(folder / datatables_file(), body)
    lab = next(
        Path(p) for p in jupyter_path("nbconvert", "templates", "lab", "static") if Path(p).is_dir()
    )
    css = [(lab / name).read_text("utf-8") for name in ("index.css", "theme-light.css")]
    _write_if_changed(folder / LAB_CSS, "\n".join(css))


def _write_if_changed(path: Path, content: str) -> None:
    """Write ``content`` atomically unless the file already holds exactly that."""
    try:
        if path.read_text("utf-8") == content:
            return
    except OSError:
        pass
    atomic_write(path, content)


def page_assets(html: str, static: str | None) -> str:
    """A rendered page with its shared assets linked from ``static`` (``None``: kept inline).

    Either way, itables' English notices for notebook users are taken out, and each checkbox of
    a checklist is named by its action (a screen reader would otherwise say "checkbox").
    """
    html = _ITABLES_NOTICE.sub("", html)
    html = _CHECKBOX.sub(r'\1 aria-label="\2"/><strong>\2</strong>', html)
    if static is None:
        return html
    shared = f'<script src="{static}{datatables_file()}"></script>'
    return html.replace(datatables_script(), shared, 1)


def _status(total: int, kind: str, totals: pd.Series, missing: list[int], by_system: bool) -> str:
    """What an organisation's findings amount to, in Danish, for the front page.

    None: the guide's "no cleanup task" (or only "no findings" when a table is missing). Some:
    how many, and for a municipality or region, more than what share of its peers (all 98
    municipalities or all 5 regions, those without findings as zero).
    """
    if total == 0:
        if missing:
            numbers = danish.enumeration(missing)
            return text("render.index.status_none_missing", numbers=numbers)
        return text("render.index.status_none")
    if by_system or kind not in ("Kommune", "Region"):
        return text("render.index.status_some", count=total)
    peers = [o.identity for o in known(kind)]
    share = int(100 * (totals.reindex(peers, fill_value=0) < total).sum() / len(peers))
    return text(
        "render.index.status_ranked",
        count=total,
        share=share,
        peers=text(f"summary.peers.{kind}"),
    )


def change(previous: Extract, extract: Extract, target: Target) -> str:
    """A target's change since the previous extract, e.g. "−5 (3 nye, 8 løste)"."""
    from soredi_nb.compare import compare

    totals = compare(previous, extract, target.organisation, **target.filters).counts()
    totals = totals[["new", "resolved"]].sum()
    new, resolved = int(totals["new"]), int(totals["resolved"])
    delta = new - resolved
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return text("render.index.change", delta=f"{sign}{abs(delta)}", new=new, resolved=resolved)
