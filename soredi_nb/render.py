"""Render report sets: every page of every target, scheduled over warm kernels, fault-isolated.

The run is decided before any notebook starts: the extract as the command line read it (file,
alias file, cache switch), each organisation by identity, each target's folder (kept in the
site's manifest) and each page's key. The kernels receive exactly that and every page proves it
(``execute.run``). A page whose key is unchanged is reused; a page that fails is replaced by a
failure page; one organisation's failure, write errors included, never stops the others.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from soredi_nb import execute, site
from soredi_nb.exceptions import SorediError
from soredi_nb.execute import PageFailed, shutdown_kernels
from soredi_nb.extract import Extract
from soredi_nb.files import atomic_write, check_writable_folder
from soredi_nb.history import History
from soredi_nb.manifest import Manifest, key, source_key
from soredi_nb.site import PageResult
from soredi_nb.targets import IT_SYSTEM, Target
from soredi_nb.templates import NOTEBOOKS, PARAMETERS, notebook_name, notebook_paths, page_name
from soredi_nb.texts import text


@dataclass(frozen=True)
class PageJob:
    """One notebook to render for one target, with everything the worker needs."""

    target: Target
    slug: str
    notebook: str
    """Template file path."""
    out_dir: str
    parameters: dict
    """The notebook's parameters, complete."""
    expected: dict
    """What the page's record must say (extract, alias file, organisation, filters)."""
    key: str
    """Key of everything the page depends on (``manifest.key``)."""
    extract: str
    """The extract in words, for a failure page."""
    keep_ipynb: bool = False
    standalone: bool = False
    """Keep the shared assets inline (``--standalone``) rather than in ``_static``."""
    pages: tuple[str, ...] = ()
    """The report set's task pages (file names, in order), for the navigation bar."""

    @property
    def name(self) -> str:
        """The template's name, e.g. ``02_lukkede-med-indgaaende-trafik``."""
        return Path(self.notebook).stem

    @property
    def html_name(self) -> str:
        """Output file name: ``index.html`` for the overview, ``NN_name.html`` otherwise."""
        return page_name(self.name)

    @property
    def ipynb_name(self) -> str:
        """File name of the executed notebook kept with ``--keep-ipynb``."""
        return f"{self.name}.ipynb"

    def is_current(self, manifest: Manifest) -> bool:
        """True when the page (and, with ``keep_ipynb``, its notebook) is from the same inputs."""
        folder = Path(self.out_dir) / self.slug
        if self.keep_ipynb and not (folder / self.ipynb_name).exists():
            return False
        return manifest.is_current(self.slug, self.html_name, self.key)


@dataclass
class RenderResult:
    """The outcome of a render run."""

    out_dir: Path
    index: Path
    pages: list[PageResult]
    jobs: int = 1
    """Pages rendered at once."""
    warnings: list[str] = field(default_factory=list)
    """What the worklists said while being written, in Danish."""

    @property
    def failures(self) -> list[PageResult]:
        """Pages (and worklists) that failed."""
        return [p for p in self.pages if p.status == "failed"]

    def count(self, status: str) -> int:
        """Number of pages with this status (worklists are not pages)."""
        return sum(p.status == status and p.notebook != site.WORKLIST_STEP for p in self.pages)


def render_page(job: PageJob) -> PageResult:
    """Execute one notebook for one target and write its page, or else a failure page.

    Never raises: one page's failure (a failing cell, a page whose record differs from
    ``job.expected``, a write error, a dead kernel) is its result, in Danish.

    Parameters
    ----------
    job : PageJob

    Returns
    -------
    PageResult
        ``"rendered"`` or ``"failed"`` (with the template's cell number where known).
    """
    start = time.perf_counter()
    path = Path(job.out_dir) / job.slug / job.html_name
    done = dict(slug=job.slug, label=job.target.label, notebook=job.name)
    try:
        nb = execute.run(Path(job.notebook), job.parameters, job.expected)
        # Pages are one folder down from ``_static``; the front page is beside it.
        up = "../" if job.slug else ""
        static = None if job.standalone else f"{up}{site.STATIC}/"
        provenance = {
            "nav": site.nav(job.target, job.html_name, job.pages),
            "extract_sha256": job.expected["extract_sha256"],
            "organisation": job.target.identity,
            "static": static,
            "scroll_label": text("render.scroll_label"),
        }
        # The kernel loaded a stand-in for the DataTables bundle. A site's page links the
        # shared one; a standalone page, and a kept notebook, carry it (``page_assets`` then
        # links it on the site's page).
        inline = static is None or job.keep_ipynb
        site.put_bundle(nb, site.datatables_script() if inline else site.bundle_link(static))
        html = execute.to_html(nb, f"{execute.title(nb)} – {job.target.label}", provenance)
        html = site.page_assets(html, static)
        atomic_write(path, html)
        if job.keep_ipynb:
            import nbformat

            atomic_write(path.with_name(job.ipynb_name), nbformat.writes(nb))
    except Exception as err:  # noqa: BLE001 - one page's failure must not stop the others
        known = isinstance(err, PageFailed | SorediError)
        failed = PageResult(
            **done,
            status="failed",
            seconds=time.perf_counter() - start,
            cell=getattr(err, "cell", None),
            error=str(err) if known else f"{type(err).__name__}: {err}",
        )
        site.failure_page(path, job.target, failed, job.extract, job.expected["extract_sha256"])
        return failed
    return PageResult(**done, status="rendered", seconds=time.perf_counter() - start)


def render_target(jobs: list[PageJob]) -> list[PageResult]:
    """Render every page of one target, one after another (a Dask job per organisation)."""
    return [render_page(job) for job in jobs]


def page_jobs(
    extract: Extract,
    targets_: list[Target],
    out: Path,
    notebooks: list[Path],
    *,
    manifest: Manifest | None = None,
    keep_ipynb: bool = False,
    previous: Extract | None = None,
    standalone: bool = False,
    history: History | None = None,
) -> list[PageJob]:
    """Every page of every target, decided before any page runs.

    Parameters
    ----------
    extract : Extract
        As loaded; its file, alias file and cache switch become every page's parameters.
    targets_ : list of Target
    out : Path
        The site folder.
    notebooks : list of Path
        The templates (``templates.notebook_paths``).
    manifest : Manifest, optional
        Gives each target its folder name (kept across runs); a new, empty one by default.
    keep_ipynb : bool
        Keep each executed notebook beside its page.
    previous : Extract, optional
        The earlier extract the pages compare with.
    standalone : bool
        Pages that carry their assets themselves, rather than sharing ``_static``.
    history : History, optional
        Earlier extracts the pages show the development over.

    Returns
    -------
    list of PageJob
        In order: per target, its notebooks. Each carries its complete parameters, the record
        the page must show and its key (``manifest.key``).
    """
    manifest = manifest or Manifest(out)
    info = extract.info
    # A standalone page differs from a site page of the same inputs: it has its own key.
    source = source_key(extract, previous, history) | {"standalone": standalone}
    common = _source_parameters(extract, previous, history)
    label = site.extract_label(extract)
    contents = {nb: nb.read_bytes() for nb in notebooks}
    siblings = tuple(page_name(nb.stem) for nb in notebooks if page_name(nb.stem) != site.INDEX)
    jobs = []
    for target in targets_:
        slug = manifest.slug(target)
        expected = {"extract_sha256": info.sha256, "aliases": info.aliases} | target.expected
        for nb in notebooks:
            k = key(source, contents[nb], target.parameters)
            params = common | target.parameters
            page = (str(out), params, expected, k, label, keep_ipynb, standalone, siblings)
            jobs.append(PageJob(target, slug, str(nb), *page))
    return jobs


def _source_parameters(
    extract: Extract, previous: Extract | None, history: History | None = None
) -> dict:
    """Every notebook parameter with the run's extract, alias file, cache switch, previous
    extract and history filled in (absolute paths: a kernel may run elsewhere)."""
    info = extract.info
    return dict(PARAMETERS) | {
        "history_path": history.folder if history is not None else None,
        "extract_path": str(Path(info.file).resolve()),
        "aliases_path": info.aliases,
        "use_cache": info.use_cache,
        "previous_extract_path": (
            str(Path(previous.info.file).resolve()) if previous is not None else None
        ),
    }


def workers(requested: int | None, pages: int, scheduler: str | None) -> int:
    """How many pages to render at once.

    Parameters
    ----------
    requested : int or None
        ``--jobs``; ``None`` for the number of CPU cores.
    pages : int
        Pages to render.
    scheduler : str or None
        A Dask scheduler's address; its workers have cores of their own.

    Returns
    -------
    int
        Locally at most one per core (each runs its own kernel) and at most one per page;
        with a scheduler, ``requested`` as given.
    """
    cores = os.cpu_count() or 1
    wanted = requested or cores
    if scheduler is not None:
        return wanted
    return max(1, min(wanted, cores, pages))


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


def _run(pool: Executor, todo: list[PageJob], scheduler: str | None, done) -> None:
    """Run ``todo`` on ``pool`` (threads or Dask), calling ``done(results)`` as each batch ends."""
    futures = []
    try:
        if scheduler is None:
            futures = [pool.submit(render_page, j) for j in todo]
            finished = as_completed(futures)
        else:
            from distributed import as_completed as dask_as_completed

            per_target: dict[str, list[PageJob]] = {}
            for j in todo:
                per_target.setdefault(j.slug, []).append(j)
            futures = [pool.submit(render_target, js, pure=False) for js in per_target.values()]
            finished = dask_as_completed(futures)
        for future in finished:
            batch = future.result()
            done(batch if isinstance(batch, list) else [batch])
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _close(pool: Executor, scheduler: str | None) -> None:
    """Stop ``pool``; a Dask cluster's workers stop their kernels first."""
    if scheduler is None:
        pool.shutdown(wait=True, cancel_futures=True)
        return
    with contextlib.suppress(Exception):  # workers that are gone have no kernels left
        pool.run(shutdown_kernels)
    pool.close()


def front_page(
    extract: Extract,
    targets_: list[Target],
    notebooks: list[Path],
    out: Path,
    manifest: Manifest,
    results: list[PageResult] | None,
    previous: Extract | None,
    standalone: bool,
    history: History | None = None,
) -> PageJob:
    """The site's front page: the overview notebook run for the whole extract.

    It is the page a coordinator gets in JupyterLab with ``organisation = None``, plus a link
    from each organisation to its report set (only to an overview made from this extract) and
    its failed pages; so it depends on every other page's outcome (see :func:`render`).

    Parameters
    ----------
    extract, targets_, previous, standalone, history
        As :func:`render` has them.
    notebooks : list of Path
        The run's templates; the packaged overview if they have none.
    out : Path
    manifest : Manifest
        The targets' folders.
    results : list of PageResult, or None
        Every page's outcome so far; ``None`` for the draft made before them, which assumes
        that every page succeeds.

    Returns
    -------
    PageJob
        For :func:`render_page`; it writes ``out/index.html``, or a failure page there.
    """
    overview = notebook_name(0)
    template = next((p for p in notebooks if p.stem == overview), NOTEBOOKS / f"{overview}.ipynb")
    failed: dict[str, list[str]] = {}
    for res in results or ():
        if res.status == "failed":
            line = text(
                "render.failure_line",
                notebook=res.notebook,
                cell=res.cell or "–",
                error=res.error,
            )
            failed.setdefault(res.slug, []).append(line)
    report_sets = {}
    for t in targets_:
        slug = manifest.slug(t)
        current = results is None or site.is_current_page(
            out / slug / site.INDEX, extract.info.sha256
        )
        report_sets[t.identity] = {
            "href": f"{slug}/{site.INDEX}" if current else None,
            "failed": failed.get(slug, []),
        }
    by = IT_SYSTEM if targets_ and targets_[0].kind == IT_SYSTEM else "ejer"
    whole = Target(text("summary.national"), site.WHOLE, "", {"organisation": None})
    info = extract.info
    return PageJob(
        target=whole,
        slug="",
        notebook=str(template),
        out_dir=str(out),
        parameters=_source_parameters(extract, previous, history)
        | whole.parameters
        | {"by": by, "report_sets": report_sets},
        expected={"extract_sha256": info.sha256, "aliases": info.aliases} | whole.expected,
        key="",  # made on every run: it shows every other page's outcome
        extract=site.extract_label(extract),
        standalone=standalone,
    )


def render(
    extract: Extract,
    targets_: list[Target],
    out_dir: str | os.PathLike,
    *,
    jobs: int | None = None,
    force: bool = False,
    keep_ipynb: bool = False,
    notebooks: str | os.PathLike | list[Path] | None = None,
    progress: bool = True,
    scheduler: str | None = None,
    previous: Extract | None = None,
    standalone: bool = False,
    history: History | None = None,
) -> RenderResult:
    """Render the report sets of ``targets_`` into ``out_dir``.

    Parameters
    ----------
    extract : Extract
        The loaded extract (``load_extract``); the kernels read it the same way (same file,
        alias file and cache switch, from ``extract.info``).
    targets_ : list of Target
        From :func:`targets.targets`.
    out_dir : path
        ``out_dir/index.html`` is the front page (:func:`front_page`); ``out_dir/<slug>/``
        holds a target's pages and worklist. Checked to be a writable folder before any
        notebook runs.
    jobs : int, optional
        Pages rendered at once (default and maximum without ``scheduler``: the CPU cores).
    force : bool
        Render every page, even those whose inputs are unchanged.
    keep_ipynb : bool
        Also keep each executed notebook next to its page.
    notebooks : folder or list of Path, optional
        The templates (default: the packaged ones); a folder of an analyst's own copies is
        checked against the parameter contract before any work starts.
    progress : bool
        Show a progress bar on stderr.
    scheduler : str, optional
        Address of a Dask distributed scheduler to run the pages on; its workers need the
        package installed and the same paths to the extract and ``out_dir``.
    previous : Extract, optional
        An earlier extract: the pages and the front page then show what changed since it.
    standalone : bool
        Every page carries its scripts and styles itself (about 1.3 MB each), so that one page
        can be mailed alone (``--standalone``). By default a site's pages share them from
        ``out_dir/_static``.
    history : History, optional
        Earlier extracts (``history.read_history``): every page shows the development over
        their periods, and since when each finding has been there. Checked before any page
        runs: the extract must be at least as new as every one of them.

    Returns
    -------
    RenderResult
        Every page's outcome; failures carry the notebook, cell and error.
    """
    out = Path(out_dir).resolve()
    source = Path(extract.info.file).resolve()
    if source == out or out in source.parents:
        raise SorediError(text("render.overwrite_input", out=out, extract=source))
    paths = notebook_paths(notebooks)
    if history is not None:
        history.with_current(extract)  # an extract older than its history is refused here
    check_writable_folder(out)
    manifest = Manifest.read(out)
    all_jobs = page_jobs(
        extract,
        targets_,
        out,
        paths,
        manifest=manifest,
        keep_ipynb=keep_ipynb,
        previous=previous,
        standalone=standalone,
        history=history,
    )
    if not standalone:
        site.write_static(out)
    todo, results = [], []
    for j in all_jobs:
        if force or not j.is_current(manifest):
            todo.append(j)
        else:
            results.append(PageResult(j.slug, j.target.label, j.name, "skipped"))
    n_jobs = workers(jobs, len(todo), scheduler)
    bar = _progress(len(all_jobs), len(results), progress)
    by_page = {(j.slug, j.name): j for j in all_jobs}

    def done(batch: list[PageResult]) -> None:
        """Record finished pages at once, so an interrupted run loses nothing."""
        for r in batch:
            j = by_page[(r.slug, r.notebook)]
            manifest.record(j.slug, j.html_name, j.key if r.status == "rendered" else None)
        manifest.write()
        results.extend(batch)
        bar.update(len(batch))

    pool = _executor(n_jobs, scheduler)
    # The worklists need no kernel: written in this process while the kernels execute the
    # pages, rather than after them with one core idle.
    lists = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soredi-worklists")
    stop = threading.Event()
    drafts, drafted = None, None
    try:
        if scheduler is None:
            # The front page shows every other page's outcome. Made after them, it would be
            # the run's tail on one core while the others idle; so a draft that assumes every
            # page succeeds is made first, beside the pages, and kept if that held.
            for stale in out.glob(f"{_DRAFT_PREFIX}*"):  # of a run that was killed
                shutil.rmtree(stale, ignore_errors=True)
            drafts = Path(tempfile.mkdtemp(prefix=_DRAFT_PREFIX, dir=out))
            draft = front_page(
                extract, targets_, paths, out, manifest, None, previous, standalone, history
            )
            draft = replace(draft, out_dir=str(drafts))
            drafted = pool.submit(render_page, draft)
        written = lists.submit(
            site.write_worklists,
            extract,
            targets_,
            manifest,
            source_key(extract, previous, history),
            force,
            history,
            stop,
        )
        if todo:
            _run(pool, todo, scheduler, done)
        bar.close()
        failures, warnings = written.result()
        results += failures
        # A folder holds this run's pages only (failure pages included), and the notebooks kept
        # of the pages that did not fail.
        failed = {(r.slug, r.notebook) for r in results if r.status == "failed"}
        keep: dict[str, set[str]] = {manifest.slug(t): set() for t in targets_}
        for j in all_jobs:
            keep[j.slug].add(j.html_name)
            if keep_ipynb and (j.slug, j.name) not in failed:
                keep[j.slug].add(j.ipynb_name)
        for slug, names in keep.items():
            site.remove_stale(out / slug, names)
        job = front_page(
            extract, targets_, paths, out, manifest, results, previous, standalone, history
        )
        if (
            drafted is not None
            and drafted.result().status == "rendered"
            and replace(job, out_dir=str(drafts)) == draft
        ):
            os.replace(drafts / site.INDEX, out / site.INDEX)
        else:
            # On a worker's warm kernel rather than a new one (Dask's are on its workers).
            front = (
                pool.submit(render_page, job).result() if scheduler is None else render_page(job)
            )
            if front.status == "failed":
                results.append(front)
    finally:
        stop.set()  # an interrupted run begins no further worklist
        lists.shutdown(wait=True, cancel_futures=True)
        _close(pool, scheduler)
        bar.close()
        manifest.write()
        shutdown_kernels()
        if drafts is not None:
            shutil.rmtree(drafts, ignore_errors=True)
    index = out / site.INDEX
    return RenderResult(out, index, results, n_jobs, warnings)


_DRAFT_PREFIX = ".forside-kladde-"
"""The hidden folder in the site where :func:`render` makes its draft of the front page."""


class _Lines:
    """Progress for a log: a line each time another ``step`` per cent of the pages is done.

    A progress bar redraws itself many times a second; written to a file or a CI log, that is
    hundreds of lines. This says the same in at most 100 / ``step`` lines.
    """

    def __init__(self, total: int, initial: int, step: int = 5) -> None:
        self.total, self.done, self.step = total, initial, step
        self.said = self._percent()

    def _percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100

    def update(self, n: int) -> None:
        self.done += n
        percent = self._percent()
        if percent // self.step > self.said // self.step or self.done == self.total:
            self.said = percent
            line = text("render.progress_line", done=self.done, total=self.total, percent=percent)
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Nothing to clean up; here to be used like a progress bar."""


def _progress(total: int, initial: int, enabled: bool):
    """A progress bar on a terminal, a line every few per cent otherwise, or nothing."""
    from tqdm.auto import tqdm

    if enabled and not sys.stderr.isatty():
        return _Lines(total, initial)
    return tqdm(
        total=total,
        initial=initial,
        unit="side",
        desc=text("render.progress"),
        disable=not enabled,
        file=sys.stderr,
    )


def summary_lines(result: RenderResult) -> list[str]:
    """The Danish terminal summary of a run: counts, the index path and every failure."""
    lines = [text("worklist.warning_line", message=w) for w in result.warnings]
    if result.failures:
        lines.append(text("render.failed_heading"))
        for r in result.failures:
            key_ = "render.failed_line" if r.cell else "render.failed_line_nocell"
            lines.append(
                text(key_, organisation=r.label, notebook=r.notebook, cell=r.cell, error=r.error)
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


__all__ = [
    "PageJob",
    "RenderResult",
    "page_jobs",
    "render",
    "render_page",
    "summary_lines",
    "workers",
]
