"""Render report sets: papermill per organisation into self-contained HTML, fast and fault-isolated.

Speed comes from doing the expensive things once: the extract is parsed once (the notebooks read
the parquet cache), papermill and nbconvert run in this process, and every worker keeps one warm
kernel with the package imported and runs its pages one after another, resetting the namespace
between them. A page is rendered again only when its inputs change (extract content, notebook,
parameters, package code). Each page is written atomically, so an interrupted run leaves no
half-written report and a re-run finishes the rest. One page's failure never stops the others.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import html
import json
import os
import re
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path

import nbformat
import pandas as pd
import papermill
from papermill.exceptions import PapermillExecutionError

from soredi_nb import __version__, schema
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract
from soredi_nb.notebook import datatables_options
from soredi_nb.organisations import list_organisations, resolve
from soredi_nb.templates import INTERACTIVE_TAG, NOTEBOOKS, PARAMETERS, notebook_name
from soredi_nb.texts import text

KINDS_ALL = ("Kommune", "Region")
"""Owner types ``--all`` renders; ``--include-private`` adds the others."""
RESET_TAG = "soredi-reset"
REMOVED_TAGS = ("parameters", "injected-parameters", INTERACTIVE_TAG, RESET_TAG)
MANIFEST = ".soredi-render.json"
WORKLIST = "arbejdsliste.xlsx"
_TEMPLATE_DIR = files("soredi_nb").joinpath("data/nbconvert")
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # reading the umask means setting it; put it straight back


@dataclass(frozen=True)
class Target:
    """One report set: an organisation (or an IT system) and its notebook parameters."""

    slug: str
    label: str
    kind: str
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PageJob:
    """One notebook to render for one target."""

    target: Target
    notebook: str
    """Template file path."""
    out_dir: str
    extract_path: str
    key: str
    """Hash of everything the page depends on; unchanged key and existing page = skip."""
    keep_ipynb: bool = False

    @property
    def html_name(self) -> str:
        """Output file name: ``index.html`` for the overview, ``NN_slug.html`` otherwise."""
        stem = Path(self.notebook).stem
        return "index.html" if stem == notebook_name(0) else f"{stem}.html"


@dataclass(frozen=True)
class PageResult:
    """What happened to one page."""

    slug: str
    label: str
    notebook: str
    status: str
    """``"rendered"``, ``"skipped"`` or ``"failed"``."""
    seconds: float = 0.0
    cell: int | None = None
    error: str | None = None


@dataclass
class RenderResult:
    """The outcome of a render run."""

    out_dir: Path
    index: Path
    pages: list[PageResult]

    @property
    def failures(self) -> list[PageResult]:
        """Pages that failed."""
        return [p for p in self.pages if p.status == "failed"]

    def count(self, status: str) -> int:
        """Number of pages with this status."""
        return sum(p.status == status for p in self.pages)


def slugify(name: str) -> str:
    """A safe file name for an organisation: lower-case ASCII, digits and dashes.

    Danish letters are transliterated (æ→ae, ø→oe, å→aa); other accents are dropped; anything
    else becomes a dash, so the result never contains ``/``, ``\\`` or ``..``.
    """
    s = name.casefold().translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"}))
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:80].strip("-")
    return s or "organisation"


def targets(
    extract: Extract,
    organisations: Iterable[str] = (),
    *,
    all_: bool = False,
    by: str = "ejer",
    include_private: bool = False,
) -> list[Target]:
    """The report sets to render, resolved before any work starts.

    Parameters
    ----------
    extract : Extract
    organisations : iterable of str
        Names or codes (``--org``); each must resolve, or a ``SorediError`` is raised.
    all_ : bool
        Every municipality and region in the extract (``--all``).
    by : {"ejer", "it_system"}
        With ``all_``: one report set per owner (default) or per IT system (the vendor's view).
    include_private : bool
        With ``all_`` and ``by="ejer"``: private and state owners too.

    Returns
    -------
    list of Target
        In display order, with unique slugs.
    """
    found: list[tuple[str, str, dict]] = []
    for query in organisations:
        org = resolve(query, extract)
        found.append((org.name, org.kind, {"organisation": org.name}))
    if all_ and by == "it_system":
        for name in list_organisations(extract, by="it_system")["organisation"]:
            found.append((name, "it_system", {"organisation": None, "it_system": name}))
    elif all_:
        owners = list_organisations(extract)
        kinds = owners["ejertype"].fillna("Privat")
        keep = owners[kinds.isin(KINDS_ALL) | include_private]
        for name, kind in zip(keep["organisation"], kinds[keep.index], strict=True):
            found.append((name, kind, {"organisation": name}))
    out, slugs = [], set()
    for label, kind, params in dict.fromkeys((a, b, json.dumps(c)) for a, b, c in found):
        slug = base = slugify(label)
        n = 2
        while slug in slugs:  # two names may fold to one slug
            slug, n = f"{base}-{n}", n + 1
        slugs.add(slug)
        out.append(Target(slug, label, kind, json.loads(params)))
    if not out:
        raise SorediError(text("render.no_targets"))
    return out


def check_parameters(notebooks: Iterable[Path]) -> None:
    """Fail before any work if a notebook lacks one of our parameters (papermill only warns)."""
    for path in notebooks:
        try:
            declared = set(papermill.inspect_notebook(str(path)))
        except Exception:  # noqa: BLE001 - unreadable or without kernel: not one of ours
            declared = set()
        missing = sorted(set(PARAMETERS) - declared)
        if missing:
            raise SorediError(
                text("render.bad_parameters", notebook=path.name, names=", ".join(missing))
            )


def _package_digest() -> str:
    """SHA-256 of the package's code and data: a new version re-renders every page."""
    digest = hashlib.sha256(__version__.encode())
    root = files("soredi_nb")
    for path in sorted(Path(str(root)).rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".csv", ".j2", ".json", ".mplstyle"}:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def page_key(extract_sha256: str, notebook: Path, parameters: dict, package: str) -> str:
    """Hash of everything a page depends on."""
    digest = hashlib.sha256()
    for part in (
        extract_sha256,
        notebook.read_bytes(),
        json.dumps(parameters, sort_keys=True),
        package,
    ):
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file via a temp file in the same folder and a rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        # mkstemp makes the file private (0600); reports are shared, so use the usual mode.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- executing one page -------------------------------------------------------------------

_local = threading.local()
_kernels: list = []
_kernels_lock = threading.Lock()


def _kernel():
    """This worker's warm kernel: started once, with the package imported, restarted if dead."""
    km = getattr(_local, "km", None)
    if km is not None and km.is_alive():
        return km
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    # The kernel's own stderr is only start-up chatter; cell errors arrive as messages.
    km.start_kernel(stderr=subprocess.DEVNULL)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        # Pre-import what every page needs, so a page pays only for its own work.
        kc.execute_interactive("import soredi_nb.notebook", timeout=300, output_hook=lambda m: None)
    finally:
        kc.stop_channels()
    _local.km = km
    with _kernels_lock:
        _kernels.append(km)
    return km


def shutdown_kernels() -> None:
    """Stop every warm kernel this process started."""
    with _kernels_lock:
        while _kernels:
            km = _kernels.pop()
            with contextlib.suppress(Exception):  # a kernel that is already gone is fine
                km.shutdown_kernel(now=True)
    _local.__dict__.clear()


def _exporter():
    """This worker's HTML exporter (nbconvert exporters are not shared between threads)."""
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        config = Config()
        config.TagRemovePreprocessor.enabled = True
        config.TagRemovePreprocessor.remove_cell_tags = REMOVED_TAGS
        exporter = HTMLExporter(
            config=config,
            template_name="soredi",
            extra_template_basedirs=[str(_TEMPLATE_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            language_code="da",
        )
        _local.exporter = exporter
    return exporter


_IPYNB_LINK = re.compile(r'href="(\d\d_[a-z0-9-]+)\.ipynb"')


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """Export an executed notebook to a self-contained, code-free HTML page.

    Links between notebooks (``NN_slug.ipynb``) become links between the rendered pages, with
    the overview as ``index.html``.
    """
    nb.metadata["title"] = title
    nb.metadata.pop("widgets", None)  # no widget state: the page has no live widgets
    body, _ = _exporter().from_notebook_node(nb)
    overview = notebook_name(0)
    return _IPYNB_LINK.sub(
        lambda m: f'href="{"index" if m.group(1) == overview else m.group(1)}.html"', body
    )


def _with_nav(page: str, job: PageJob) -> str:
    """Add the report set's navigation: all organisations, the overview and the worklist."""
    links = [("../index.html", text("render.back_to_index"))]
    if job.html_name != "index.html":
        links.append(("index.html", text("render.back_to_overview", organisation=job.target.label)))
    elif job.target.parameters.get("organisation"):
        links.append((WORKLIST, text("render.worklist_link")))
    items = " · ".join(f'<a href="{href}">{html.escape(label)}</a>' for href, label in links)
    return page.replace("<main>", f'<main>\n<nav class="soredi-nav">{items}</nav>', 1)


def _prepare(path: Path) -> nbformat.NotebookNode:
    """The template ready for a report: without the live-only cells (they need a kernel the
    reader does not have, so running them is wasted time), and with a first cell that clears
    what the previous page left in the kernel."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if INTERACTIVE_TAG not in c.metadata.get("tags", [])]
    reset = nbformat.v4.new_code_cell("%reset -f", metadata={"tags": [RESET_TAG]})
    reset.id = "soredi-reset"
    nb.cells.insert(0, reset)
    return nb


def _template_cell(template: Path, prepared: nbformat.NotebookNode, executed_index: int) -> int:
    """1-based number of the failing cell as the user sees it in the template.

    The executed notebook is the prepared one (reset cell first, live-only cells dropped) with
    papermill's injected-parameters cell after the parameters cell; cell ids tie them together.
    """
    params = next(
        i for i, c in enumerate(prepared.cells) if "parameters" in c.metadata.get("tags", [])
    )
    cell = prepared.cells[executed_index - (executed_index > params)]
    ids = [c.get("id") for c in nbformat.read(template, as_version=4).cells]
    return ids.index(cell.get("id")) + 1


def execute(prepared: nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """Run a prepared notebook (see ``_prepare``) in this worker's warm kernel; return it run."""
    return papermill.execute_notebook(
        copy.deepcopy(prepared),  # keep ``prepared`` as it was, to map failing cells back
        None,
        parameters=parameters,
        km=_kernel(),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
    )


def render_page(job: PageJob) -> PageResult:
    """Execute one notebook for one target and write its HTML page (never raises)."""
    import time

    start = time.perf_counter()
    out = Path(job.out_dir) / job.target.slug
    name = Path(job.notebook).stem
    result = dict(slug=job.target.slug, label=job.target.label, notebook=name)
    params = dict(PARAMETERS) | {"extract_path": job.extract_path} | job.target.parameters
    prepared = _prepare(Path(job.notebook))
    try:
        nb = execute(prepared, params)
        title = f"{nb.cells[1].source.splitlines()[0].lstrip('# ')} – {job.target.label}"
        page = to_html(nb, title)
    except PapermillExecutionError as err:
        cell = _template_cell(Path(job.notebook), prepared, err.cell_index)
        code = err.source.strip().splitlines()[-1] if err.source.strip() else ""
        error = f"{err.ename}: {err.evalue} [{code}]"
        return PageResult(
            **result, status="failed", cell=cell, error=error, seconds=time.perf_counter() - start
        )
    except Exception as err:  # noqa: BLE001 - one page's failure must not stop the others
        _local.km = None  # the kernel may be gone; the next page starts a fresh one
        return PageResult(
            **result,
            status="failed",
            error=f"{type(err).__name__}: {err}",
            seconds=time.perf_counter() - start,
        )
    atomic_write(out / job.html_name, _with_nav(page, job))
    if job.keep_ipynb:
        atomic_write(out / f"{name}.ipynb", nbformat.writes(nb))
    return PageResult(**result, status="rendered", seconds=time.perf_counter() - start)


# --- the run --------------------------------------------------------------------------------


def _jobs(
    extract: Extract,
    targets_: list[Target],
    out: Path,
    notebooks: list[Path],
    keep_ipynb: bool,
    previous: Extract | None = None,
) -> list[PageJob]:
    """Every page of every target, each with its dependency key."""
    package = _package_digest() + (previous.info.sha256 if previous else "")
    jobs = []
    for target in targets_:
        for nb in notebooks:
            params = target.parameters | {"extract_path": extract.info.file}
            if previous is not None:
                params["previous_extract_path"] = previous.info.file
            key = page_key(extract.info.sha256, nb, params, package)
            target_ = replace(target, parameters=params)
            jobs.append(PageJob(target_, str(nb), str(out), extract.info.file, key, keep_ipynb))
    return jobs


def _manifest(folder: Path) -> dict[str, str]:
    """Page name -> key of the pages rendered in ``folder`` (empty when unreadable)."""
    try:
        return json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _is_current(job: PageJob, force: bool) -> bool:
    """True when the page exists and was rendered from exactly the same inputs."""
    folder = Path(job.out_dir) / job.target.slug
    if force or not (folder / job.html_name).exists():
        return False
    return _manifest(folder).get(job.html_name) == job.key


def _record(jobs_by_page: dict, results: list[PageResult]) -> None:
    """Remember the keys of rendered pages (failed pages are forgotten, so they run again)."""
    by_folder: dict[Path, dict[str, str | None]] = {}
    for r in results:
        job = jobs_by_page[(r.slug, r.notebook)]
        folder = Path(job.out_dir) / job.target.slug
        by_folder.setdefault(folder, {})[job.html_name] = job.key if r.status != "failed" else None
    for folder, updates in by_folder.items():
        manifest = _manifest(folder)
        for name, key in updates.items():
            if key is None:
                manifest.pop(name, None)
            else:
                manifest[name] = key
        atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))


def render_target(jobs: list[PageJob]) -> list[PageResult]:
    """Render every page of one target, one after another (a Dask job per organisation)."""
    return [render_page(job) for job in jobs]


def _executor(jobs: int, scheduler: str | None) -> Executor:
    """A local thread pool, or a Dask distributed client (its futures API is the same)."""
    if scheduler is None:
        return ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="soredi-render")
    try:
        from distributed import Client
    except ImportError as err:
        raise SorediError(text("render.dask_missing")) from err
    try:
        return Client(scheduler, timeout="20s")
    except OSError as err:
        raise SorediError(text("render.dask_connect", address=scheduler, error=err)) from err


def render(
    extract: Extract,
    targets_: list[Target],
    out_dir: str | os.PathLike,
    *,
    jobs: int | None = None,
    force: bool = False,
    keep_ipynb: bool = False,
    notebooks: list[Path] | None = None,
    progress: bool = True,
    scheduler: str | None = None,
    previous: Extract | None = None,
) -> RenderResult:
    """Render the report sets of ``targets_`` into ``out_dir``.

    Parameters
    ----------
    extract : Extract
        The loaded extract (``load_extract``); the notebooks read its parquet cache.
    targets_ : list of Target
        From :func:`targets`.
    out_dir : path
        ``out_dir/index.html`` lists every target; ``out_dir/<slug>/`` holds its pages.
    jobs : int, optional
        Pages rendered at once (default: the number of CPUs).
    force : bool
        Render every page, even those whose inputs are unchanged.
    keep_ipynb : bool
        Also keep each executed notebook next to its page.
    notebooks : list of Path, optional
        The templates (default: the eight in ``notebooks/``).
    progress : bool
        Show a progress bar on stderr.
    previous : Extract, optional
        An earlier extract: the pages and the index then show what changed since it.
    scheduler : str, optional
        Address of a Dask distributed scheduler to run the pages on; its workers need the
        package installed and the same paths to the extract and ``out_dir``.

    Returns
    -------
    RenderResult
        Every page's outcome; failures carry the notebook, cell and error.
    """
    from tqdm.auto import tqdm

    out = Path(out_dir).resolve()
    source = Path(extract.info.file).resolve()
    if source == out or out in source.parents:
        raise SorediError(text("render.overwrite_input", out=out, extract=source))
    notebooks = notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    check_parameters(notebooks)
    all_jobs = _jobs(extract, targets_, out, notebooks, keep_ipynb, previous)
    by_page = {(j.target.slug, Path(j.notebook).stem): j for j in all_jobs}
    todo = [j for j in all_jobs if not _is_current(j, force)]
    results = [
        PageResult(j.target.slug, j.target.label, Path(j.notebook).stem, "skipped")
        for j in all_jobs
        if j not in todo
    ]
    bar = tqdm(
        total=len(all_jobs),
        initial=len(results),
        unit="side",
        desc=text("render.progress"),
        disable=not progress,
    )
    pool = _executor(jobs or os.cpu_count() or 1, scheduler)
    done: list[PageResult] = []
    futures = []
    try:
        if scheduler is None:
            futures = [pool.submit(render_page, j) for j in todo]
            finished = as_completed(futures)
        else:
            from distributed import as_completed as dask_as_completed

            per_target: dict[str, list[PageJob]] = {}
            for j in todo:
                per_target.setdefault(j.target.slug, []).append(j)
            futures = [pool.submit(render_target, js, pure=False) for js in per_target.values()]
            finished = dask_as_completed(futures)
        for future in finished:
            batch = future.result()
            batch = batch if isinstance(batch, list) else [batch]
            done += batch
            bar.update(len(batch))
            _record(by_page, batch)  # keep the manifest current, so Ctrl-C loses nothing
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        bar.close()
        if scheduler is None:
            pool.shutdown(wait=True, cancel_futures=True)
            shutdown_kernels()
        else:
            with contextlib.suppress(Exception):  # workers that are gone have no kernels left
                pool.run(shutdown_kernels)
            pool.close()
    results += done
    write_worklists(extract, targets_, out, force)
    index = write_index(extract, targets_, out, results, previous)
    return RenderResult(out, index, results)


def write_worklists(extract: Extract, targets_: list[Target], out: Path, force: bool) -> None:
    """Write each organisation's Excel worklist next to its report (when its inputs changed)."""
    from soredi_nb.worklist import write_worklist

    package = _package_digest()
    for t in targets_:
        organisation = t.parameters.get("organisation")
        if organisation is None:  # an IT-system view has no single owner to hand a worklist to
            continue
        folder = out / t.slug
        key = hashlib.sha256(f"{extract.info.sha256}{json.dumps(t.parameters)}{package}".encode())
        key = key.hexdigest()
        if not force and (folder / WORKLIST).exists() and _manifest(folder).get(WORKLIST) == key:
            continue
        filters = {k: v for k, v in t.parameters.items() if k != "organisation"}
        write_worklist(folder / WORKLIST, extract, organisation, **filters)
        manifest = _manifest(folder) | {WORKLIST: key}
        atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))


def write_index(
    extract: Extract,
    targets_: list[Target],
    out: Path,
    results: list[PageResult],
    previous: Extract | None = None,
) -> Path:
    """Write ``out/index.html``: every target with per-task counts, status and a link."""
    import itables
    from itables.javascript import generate_init_offline_itables_html

    labels = text("render.index.columns")
    by = "it_system" if targets_ and targets_[0].kind == "it_system" else "ejer"
    counts = list_organisations(extract, by=by).set_index("organisation")
    failed: dict[str, list[PageResult]] = {}
    for r in results:
        if r.status == "failed":
            failed.setdefault(r.slug, []).append(r)
    rows = []
    for t in targets_:
        link = f'<a href="{html.escape(t.slug)}/index.html">{html.escape(t.label)}</a>'
        row = {labels["organisation"]: link}
        if by == "ejer":
            row[labels["ejertype"]] = html.escape(t.kind)
        for n in schema.TABLE_NUMBERS:
            col = f"tabel_{n}"
            value = counts.at[t.label, col] if t.label in counts.index and col in counts else 0
            row[labels["table_prefix"] + str(n)] = int(value)
        row[labels["i_alt"]] = int(counts.at[t.label, "i_alt"]) if t.label in counts.index else 0
        if previous is not None:
            row[labels["change"]] = _change(previous, extract, t)
        bad = failed.get(t.slug, [])
        status = (
            text("render.index.status_failed", count=len(bad))
            if bad
            else text("render.index.status_ok")
        )
        row[labels["status"]] = status
        rows.append(row)
    # The DataTables bundle goes into the page itself: the index must work with the network off.
    bundle = generate_init_offline_itables_html(itables.options.dt_bundle)
    table = bundle + itables.to_html_datatable(
        pd.DataFrame(rows), allow_html=True, connected=False, **datatables_options()
    )
    info = extract.info
    unknown = text("notebook.unknown")
    intro = text(
        "render.index.intro",
        file=html.escape(Path(info.file).name),
        period=html.escape(info.period or unknown),
        date=info.extract_date or unknown,
    )
    failures = "".join(
        "<li>"
        + html.escape(
            text(
                "render.index.failure_line",
                organisation=r.label,
                notebook=r.notebook,
                cell=r.cell or "–",
                error=r.error,
            )
        )
        + "</li>"
        for rs in failed.values()
        for r in rs
    )
    title = html.escape(text("render.index.title"))
    if failures:
        heading = html.escape(text("render.index.failures_heading"))
        failures = f"<h2>{heading}</h2><ul>{failures}</ul>"
    page = f"""<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style>body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; }}</style>
</head><body>
<h1>{title}</h1>
<p>{intro}</p>
{table}
{failures}
</body></html>
"""
    path = out / "index.html"
    atomic_write(path, page)
    return path


def _change(previous: Extract, extract: Extract, target: Target) -> str:
    """A target's change since the previous extract, e.g. "−5 (3 nye, 8 løste)"."""
    from soredi_nb.compare import compare

    org = target.parameters.get("organisation")
    filters = {k: v for k, v in target.parameters.items() if k in ("it_system",) and v}
    totals = compare(previous, extract, org, **filters).counts()[["new", "resolved"]].sum()
    new, resolved = int(totals["new"]), int(totals["resolved"])
    delta = new - resolved
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return text("render.index.change", delta=f"{sign}{abs(delta)}", new=new, resolved=resolved)


def summary_lines(result: RenderResult) -> list[str]:
    """The Danish terminal summary of a run: counts, the index path and every failure."""
    lines = []
    if result.failures:
        lines.append(text("render.failed_heading"))
        for r in result.failures:
            key = "render.failed_line" if r.cell else "render.failed_line_nocell"
            lines.append(
                text(key, organisation=r.label, notebook=r.notebook, cell=r.cell, error=r.error)
            )
    lines.append(
        text(
            "render.done",
            rendered=result.count("rendered"),
            skipped=result.count("skipped"),
            failed=len(result.failures),
            index=result.index,
        )
    )
    return lines


__all__ = ["PageResult", "RenderResult", "Target", "render", "slugify", "targets"]
