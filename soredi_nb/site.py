"""The report site around the pages: navigation, failure pages, worklists and the index page.

Every HTML page here comes from the Jinja templates beside the page template
(``data/nbconvert/soredi/``), with autoescaping on: text from the extract is data.
"""

from __future__ import annotations

import base64
import contextlib
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from soredi_nb import schema
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract
from soredi_nb.files import atomic_write
from soredi_nb.manifest import Manifest, key
from soredi_nb.targets import IT_SYSTEM, Target
from soredi_nb.templates import OVERVIEW_PAGE, PAGE_TEMPLATES
from soredi_nb.texts import text

INDEX = OVERVIEW_PAGE
WHOLE = "whole"
"""The ``kind`` of the front page's target: the whole extract (``render.front_page``)."""
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
        Links ``{"href", "label", "title", "current"}``: the front page (all organisations;
        on the front page itself, only that), the overview, each
        task page (the current page marked), the worklist (not for an IT system), and on a task
        page the previous and next task.
    """

    def link(href: str, label: str, title: str = "", current: bool = False) -> dict:
        return {"href": href, "label": label, "title": title, "current": current}

    if target.kind == WHOLE:
        return [link(INDEX, text("render.back_to_index"), current=True)]
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
    extract: Extract,
    targets: list[Target],
    manifest: Manifest,
    source: dict,
    force: bool,
    history=None,
    stop: threading.Event | None = None,
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
    history : history.History, optional
        Earlier extracts: each finding says since which period it has been there.
    stop : threading.Event, optional
        Set when the run is interrupted: no further worklist is begun.

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
        if stop is not None and stop.is_set():
            break
        if t.organisation is None:
            continue
        slug = manifest.slug(t)
        path = manifest.folder / slug / WORKLIST
        k = key(source, WORKLIST, t.parameters)
        if not force and manifest.is_current(slug, WORKLIST, k):
            continue
        try:
            written = write_worklist(path, extract, t.organisation, history=history, **t.filters)
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


DATATABLES_STUB = Path(__file__).parent / "data" / "datatables-stub" / "dt_bundle.js"
"""What a render's kernels load in place of itables' DataTables bundle (``execute.kernel``).

Loaded offline, the bundle (about 1 MB, base64) is an output of every page with a table: sent
from the kernel, parsed and exported, only to be replaced by a link to ``_static``. With this
stand-in a page's kernel sends about 4 KB instead, and :func:`put_bundle` puts in what the page
is to carry.
"""


@cache
def datatables_script(bundle: Path | None = None) -> str:
    """The script that loads itables' offline DataTables bundle, as ``init_notebook_mode``
    writes it, without its ``noscript`` notice (in English, for notebook users).

    Parameters
    ----------
    bundle : Path, optional
        Another bundle (:data:`DATATABLES_STUB`); by default ``itables.options.dt_bundle`` as it
        is at the first call, kept for the life of the process.
    """
    import itables
    from itables.javascript import generate_init_offline_itables_html

    html = generate_init_offline_itables_html(bundle or itables.options.dt_bundle)
    return html[: html.index("</script>") + len("</script>")]


def bundle_link(static: str) -> str:
    """The script element that loads the site's shared DataTables bundle from ``static``."""
    return f'<script src="{static}{datatables_file()}"></script>'


@cache
def _stand_in() -> re.Pattern:
    """The loading script of the stand-in for the DataTables bundle, found by its content
    whatever itables version the kernel that wrote it names."""
    payload = re.escape(base64.b64encode(DATATABLES_STUB.read_bytes()).decode("ascii"))
    return re.compile(rf'<script>(?:(?!</script>).)*?injectModule\("{payload}"\).*?</script>', re.S)


def put_bundle(nb, script: str) -> None:
    """Put ``script`` where a render's kernel loaded the stand-in for the DataTables bundle.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook; its HTML outputs are changed in place.
    script : str
        The bundle itself (:func:`datatables_script`) or a link to it (:func:`bundle_link`).

    Raises
    ------
    SorediError
        If the kernel runs another version of itables than this process: its tables would wait
        for a bundle by another name, and never start.
    """
    ours = datatables_script(DATATABLES_STUB)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = "".join(data.get("text/html", ""))
            if "injectModule" not in html:  # nearly every output: not worth a search
                continue
            found = _stand_in().findall(html)
            if any(f != ours for f in found):
                import itables

                raise SorediError(text("render.itables_version", version=itables.__version__))
            if found:
                data["text/html"] = _stand_in().sub(lambda _: script, html)


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
    return html.replace(datatables_script(), bundle_link(static), 1)
