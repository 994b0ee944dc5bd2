"""Executing one report page: papermill in a warm kernel, a check of what it was made from, HTML.

Every worker (a thread of ``render``, or a Dask worker) keeps one kernel with the package already
imported (``warmup``), and one client of it, and runs its pages one after another, clearing the
namespace between them; the parsed
extract stays in the kernel's memory (``notebook.open_extract``), so it is read once per kernel.
"""

from __future__ import annotations

import contextlib
import copy
import re
import subprocess
import threading
from pathlib import Path

import nbformat
from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.execute import prepare_notebook_metadata, raise_for_execution_errors
from papermill.iorw import load_notebook_node
from papermill.log import logger
from papermill.parameterize import parameterize_notebook
from papermill.utils import remove_args

from soredi_nb import site
from soredi_nb.files import stamp
from soredi_nb.notebook import RECORD_MIMETYPE
from soredi_nb.templates import INTERACTIVE_TAG, PAGE_TEMPLATES, page_name, parameters_cell
from soredi_nb.texts import text

RESET_TAG = "soredi-reset"
REMOVED_TAGS = ("parameters", "injected-parameters", INTERACTIVE_TAG, RESET_TAG)


def unexpected(err: Exception) -> str:
    """An error soredi-nb did not foresee (a dead kernel, a missing template), in Danish."""
    return text("render.unexpected", kind=type(err).__name__, error=err)


class PageFailed(Exception):
    """A page could not be made; ``cell`` is the template's cell number (1-based) if known."""

    def __init__(self, error: str, cell: int | None = None) -> None:
        super().__init__(error)
        self.error, self.cell = error, cell


# --- the warm kernels -------------------------------------------------------------------------

_local = threading.local()
_kernels: list = []
"""Every (kernel manager, client) this process started."""
_kernels_lock = threading.Lock()


def kernel():
    """This worker's warm kernel: started once, with what pages use imported, restarted if dead.

    The worker also keeps one client of it (:func:`_client`) for all its pages.
    """
    km = getattr(_local, "km", None)
    if km is not None and km.is_alive():
        return km
    from jupyter_client.manager import KernelManager

    _stop_client()  # of a kernel that died
    km = KernelManager(kernel_name="python3")
    # The kernel's own stderr is only start-up chatter; cell errors arrive as messages. Its input
    # history stays in memory, as in the kernels nbclient starts itself: a page has no use for a
    # history file, and writing every cell to it costs time.
    km.start_kernel(
        stderr=subprocess.DEVNULL, extra_arguments=["--HistoryManager.hist_file=:memory:"]
    )
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        # Import what pages use (and freeze it for the garbage collector), so a page pays only
        # for its own work. Its tables load a stand-in for the DataTables bundle: the export
        # puts in what the page carries (``site.put_bundle``).
        kc.execute_interactive(
            "import soredi_nb.warmup, itables; soredi_nb.warmup.preload();"
            f" itables.options.dt_bundle = {str(site.DATATABLES_STUB)!r}",
            timeout=300,
            output_hook=lambda m: None,
        )
    except BaseException:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    kc.allow_stdin = False
    _local.km, _local.kc = km, kc
    with _kernels_lock:
        _kernels.append((km, kc))
    return km


def _client():
    """The client of this worker's kernel (:func:`kernel` must have been called)."""
    return _local.kc


def _stop_client() -> None:
    """Close this worker's client of a kernel it no longer uses."""
    kc = getattr(_local, "kc", None)
    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()
    _local.kc = None


def shutdown_kernels() -> None:
    """Stop every warm kernel this process started, and its client."""
    with _kernels_lock:
        while _kernels:
            km, kc = _kernels.pop()
            with contextlib.suppress(Exception):
                kc.stop_channels()
            with contextlib.suppress(Exception):  # a kernel that is already gone is fine
                km.shutdown_kernel(now=True)
    _local.__dict__.clear()


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, on the worker's kernel client rather than a new one a page.

    A new client waits until the kernel answers and then, to drain stray output, a further 0.2 s
    (``jupyter_client``'s ``wait_for_ready``): a fifth of a second of every page, on a kernel
    that has been ready all along. Everything else is papermill's: parameters, cell metadata,
    the error raised for a failing cell.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        """Run ``nb_man``'s notebook with the client passed as ``kc`` (and its ``km``)."""
        kc = kwargs.pop("kc")
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        client = PapermillNotebookClient(
            nb_man,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            startup_timeout=start_timeout,
            timeout=execution_timeout,
            **kwargs,
        )
        # With a client in place nbclient makes none, and with a kernel manager it was given it
        # neither stops the client's channels nor the kernel when the notebook is done.
        client.kc = kc
        return client.execute()


_ENGINE = "soredi-warm"
papermill_engines.register(_ENGINE, WarmEngine)


# --- running a notebook -----------------------------------------------------------------------


def prepare(path: Path) -> nbformat.NotebookNode:
    """The template ready for a report, read as papermill reads it (its metadata in place):
    without the live-only cells (they need a kernel the reader does not have, so running them is
    wasted time), and with a first cell that clears what the previous page left in the kernel.

    Kept for as long as the file is unchanged (size and modification time): every page of a
    template starts from the same notebook, and :func:`execute` copies it. Do not change it.
    """
    key = stamp(path)
    with _prepared_lock:
        if key not in _prepared:
            nb = load_notebook_node(key[0])
            nb.metadata.papermill["input_path"] = key[0]
            nb.cells = [c for c in nb.cells if INTERACTIVE_TAG not in c.metadata.get("tags", [])]
            # What ``%reset -f`` does, without the full garbage collection the magic adds after
            # it (the reset itself collects once already): a page's names, outputs and history.
            reset = nbformat.v4.new_code_cell(
                "get_ipython().reset(new_session=False)", metadata={"tags": [RESET_TAG]}
            )
            reset.id = "soredi-reset"
            nb.cells.insert(0, reset)
            _prepared[key] = nb
        return _prepared[key]


_prepared: dict[tuple, nbformat.NotebookNode] = {}
_prepared_lock = threading.Lock()


def template_cell(
    template: Path, prepared: nbformat.NotebookNode, executed_index: int
) -> int | None:
    """1-based number of the failing cell as the user sees it in the template (``None`` if it
    is not one of the template's cells, e.g. the reset cell).

    The executed notebook is the prepared one (reset cell first, live-only cells dropped) with
    papermill's injected-parameters cell after the parameters cell; cell ids tie them together.
    """
    tagged = parameters_cell(prepared)
    params = next(i for i, c in enumerate(prepared.cells) if c is tagged)
    cell = prepared.cells[executed_index - (executed_index > params)]
    ids = [c.get("id") for c in nbformat.read(template, as_version=4).cells]
    return ids.index(cell.get("id")) + 1 if cell.get("id") in ids else None


def execute(prepared: nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """Run a prepared notebook (see :func:`prepare`) in this worker's warm kernel.

    The steps of ``papermill.execute_notebook`` for a notebook already read, without its round
    trips through JSON: it writes the notebook in memory to read it back in, and at the end
    writes the executed notebook out even with no file to write to (together a third of the
    Python calls this process made for a page).

    Raises
    ------
    PapermillExecutionError
        If a cell fails, as ``papermill.execute_notebook`` raises it.
    """
    source = prepared.metadata.papermill.get("input_path")
    kernel_name = papermill_engines.nb_kernel_name(_ENGINE, prepared)
    # ``prepared`` is shared by every page of its template: parameterised on a copy.
    nb = parameterize_notebook(
        copy.deepcopy(prepared), parameters, kernel_name=kernel_name, engine_name=_ENGINE
    )
    nb = prepare_notebook_metadata(nb, source, None)
    nb = papermill_engines.execute_notebook_with_engine(
        _ENGINE,
        nb,
        kernel_name=kernel_name,
        input_path=source,
        output_path=None,
        progress_bar=False,
        log_output=False,
        km=kernel(),
        kc=_client(),
    )
    raise_for_execution_errors(nb, None)
    return nb


def take_record(nb: nbformat.NotebookNode) -> dict | None:
    """Remove the page's record (``Page.record``) from an executed notebook and return it."""
    found = None
    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        kept = [o for o in outputs if RECORD_MIMETYPE not in o.get("data", {})]
        for o in outputs:
            if RECORD_MIMETYPE in o.get("data", {}):
                found = dict(o["data"][RECORD_MIMETYPE])
        if len(kept) != len(outputs):
            cell.outputs = kept
    return found


def run(template: Path, parameters: dict, expected: dict) -> nbformat.NotebookNode:
    """Execute ``template`` with ``parameters`` and check it was made from ``expected``.

    Raises
    ------
    PageFailed
        If a cell fails (with the template's cell number), or if the page's record of extract,
        alias file, organisation and filters is missing or differs from ``expected``: a page
        must never show other numbers than the run asked for.
    """
    prepared = prepare(template)
    try:
        nb = execute(prepared, parameters)
    except PapermillExecutionError as err:
        cell = template_cell(template, prepared, err.cell_index)
        code = err.source.strip().splitlines()[-1] if err.source.strip() else ""
        # soredi-nb's own errors are Danish already; anything else is named as Python names it.
        own = err.ename in ("SorediError", "ExtractError", "OrganisationError")
        error = err.evalue if own else text("render.cell_error", kind=err.ename, error=err.evalue)
        raise PageFailed(f"{error} [{code}]", cell) from err
    except Exception as err:  # noqa: BLE001 - the kernel may have died; any error fails the page
        _local.km = None  # start a fresh kernel (and client) for the next page
        raise PageFailed(unexpected(err)) from err
    record = take_record(nb)
    if record is None:
        raise PageFailed(text("render.no_record"))
    wrong = sorted(k for k, v in expected.items() if record.get(k) != v)
    if wrong:
        raise PageFailed(text("render.wrong_record", fields=", ".join(wrong)))
    return nb


# --- the HTML export --------------------------------------------------------------------------

_IPYNB_LINK = {
    "text/markdown": re.compile(r"(\]\()(\d\d_[a-z0-9-]+)\.ipynb(\))"),
    "text/html": re.compile(r'(href=")(\d\d_[a-z0-9-]+)\.ipynb(")'),
}


class PageLinks(Preprocessor):
    """Turn the overview's links between notebooks into links between pages."""

    def preprocess_cell(self, cell, resources, index):
        """Rewrite ``](NN_name.ipynb)`` in Markdown and ``href="NN_name.ipynb"`` in HTML
        outputs; the overview is ``index.html``."""
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mimetype, link in _IPYNB_LINK.items():
                if mimetype in data:
                    value = "".join(data[mimetype])
                    # Most outputs link nowhere; a findings table's HTML is long to search.
                    data[mimetype] = link.sub(_page_link, value) if ".ipynb" in value else value
        return cell, resources


class EmptySections(Preprocessor):
    """Leave out a section whose code showed nothing: its heading would stand alone.

    A page without findings says so once; its other sections show nothing, and a reader of the
    page should not meet a row of empty headings.
    """

    def preprocess(self, nb, resources):
        """Drop each Markdown heading cell whose section (the code cells up to the next
        Markdown cell) has code and no output at all."""
        cells, keep = nb.cells, []
        for i, cell in enumerate(cells):
            if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
                section = []
                for later in cells[i + 1 :]:
                    if later.cell_type == "markdown":
                        break
                    section.append(later)
                code = [c for c in section if c.cell_type == "code"]
                if code and not any(c.get("outputs") for c in code):
                    continue
            keep.append(cell)
        nb.cells = keep
        return nb, resources


def _page_link(match: re.Match) -> str:
    """The page a notebook link points to."""
    return f"{match.group(1)}{page_name(match.group(2))}{match.group(3)}"


# The opening tags HTMLExporter makes focusable (``div.jp-Cell-inputWrapper`` and
# ``div.jp-OutputArea-output``), as the JupyterLab template writes them.
_OUTPUT_DIV = re.compile(
    r'<div (?:id="[^"]*" )?class="(?:jp-Cell-inputWrapper'
    r'|[^"]*(?<![\w-])jp-OutputArea-output(?![\w-])[^"]*)"'
)
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)")
_CHARACTER_REFERENCE = re.compile(r"&#(\d+);")


def _character(match: re.Match) -> str:
    """A numeric character reference as its character, where that means nothing in HTML."""
    code = int(match.group(1))
    return chr(code) if 160 <= code <= 0x10FFFF else match.group(0)


class PageExporter(HTMLExporter):
    """nbconvert's HTML exporter without its last step, a BeautifulSoup pass over the page.

    ``HTMLExporter`` parses the finished page and writes it out again only to make every output
    (and input) focusable and to give images without a description a placeholder. For a page
    with a findings table that pass was over half of this process's time per page. The same
    two edits are made here on the template's output, on the opening tags the JupyterLab
    template writes for them.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._markdown: dict[tuple[str, str], str] = {}

    @pass_context
    def markdown2html(self, context, source):
        """Markdown as HTML, its non-ASCII characters written as themselves.

        nbconvert writes a heading (with its anchor link) in ASCII, "Før" as ``F&#248;r``;
        the BeautifulSoup pass wrote such references back as characters, and so does this.
        """
        # The same text comes back on every organisation's page (headings, the guide's steps):
        # turned into HTML once per worker (per folder, which images are read relative to), but
        # for a cell with images of its own.
        folder = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = None if (context.get("cell") or {}).get("attachments") else (source, folder)
        if key in self._markdown:
            return self._markdown[key]
        html = _CHARACTER_REFERENCE.sub(_character, super().markdown2html(context, source))
        if key is not None:
            if len(self._markdown) > 4096:
                self._markdown.clear()
            self._markdown[key] = html
        return html

    def from_notebook_node(self, nb, resources=None, **kw):
        """``HTMLExporter.from_notebook_node``, with its two edits made without a parser."""
        # What HTMLExporter does before rendering (nbconvert 7.16-7.17).
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _OUTPUT_DIV.sub(r'\g<0> tabindex="0"', html)
        no_alt = ' alt="No description has been provided for this image"'
        return _IMG_WITHOUT_ALT.sub(r"\g<0>" + no_alt, html), resources


def _exporter():
    """This worker's HTML exporter (nbconvert exporters are not shared between threads)."""
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        from traitlets.config import Config

        config = Config()
        config.TagRemovePreprocessor.enabled = True
        config.TagRemovePreprocessor.remove_cell_tags = REMOVED_TAGS
        # Validate the notebook once, after the preprocessors, rather than after each of them.
        config.Exporter.optimistic_validation = True
        exporter = PageExporter(
            config=config,
            template_name="soredi",
            extra_template_basedirs=[str(PAGE_TEMPLATES)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            language_code="da",
        )
        exporter.register_preprocessor(PageLinks(), enabled=True)
        exporter.register_preprocessor(EmptySections(), enabled=True)
        _local.exporter = exporter
    return exporter


def to_html(nb: nbformat.NotebookNode, title: str, site: dict | None = None) -> str:
    """Export an executed notebook to a self-contained, code-free HTML page.

    ``site`` is what the page template adds: ``nav`` (links ``{"href", "label"}``) and the
    ``extract_sha256`` and ``organisation`` the page was made from (as ``<meta>`` tags).
    """
    nb.metadata["title"] = title
    nb.metadata.pop("widgets", None)  # no widget state: the page has no live widgets
    body, _ = _exporter().from_notebook_node(nb, resources={"soredi": site or {}})
    return body


def title(nb: nbformat.NotebookNode) -> str:
    """A notebook's title: its first Markdown heading, without the ``#``."""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    return first.source.splitlines()[0].lstrip("# ").strip() if first else ""
