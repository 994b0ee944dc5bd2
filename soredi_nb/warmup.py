"""What a render's warm kernel runs once, before its first page (``execute.kernel``).

A kernel renders hundreds of pages one after another. Whatever a page needs the first time (the
package, pandas' table styler, matplotlib's PNG writer, the parquet reader behind the extract
cache) is imported here, so that no page pays for it; then the garbage collector is told to
leave all of that alone from now on.
"""

from __future__ import annotations

import gc
import importlib

PRELOADED = (
    "soredi_nb.notebook",
    "soredi_nb.load",
    "soredi_nb.cache",
    "soredi_nb.national",
    "soredi_nb.compare",
    "pandas.io.formats.style",
    "pyarrow.parquet",
    "matplotlib.backends.backend_agg",
    "PIL.PngImagePlugin",
    "itables",
)
"""Modules a page uses, imported before the first page."""


def preload() -> None:
    """Import what every page uses, then freeze the garbage collector's view of it.

    After the imports the kernel holds some 280,000 long-lived objects (modules, classes,
    functions). A full collection walks all of them, and every page starts with one: the
    namespace reset (as ``%reset``) calls ``gc.collect()``, which took about 0.2 s a page.
    ``gc.freeze`` moves them out of the collector's reach for good (they live as long as the
    kernel anyway), so that a collection walks only what the pages have made since.
    """
    for name in PRELOADED:
        importlib.import_module(name)
    from PIL import Image

    Image.preinit()  # the image plugins PIL loads on the first save of a PNG
    global _preloaded
    _preloaded = True
    settle()


_preloaded = False


def settle() -> None:
    """In a render's kernel (after :func:`preload`): freeze what is there now for good.

    Called once an extract or a history has been read into the kernel's memory: it stays for
    the kernel's life, and every page's collection would walk it again (a year of national
    extracts made each page's collection three times as long). Elsewhere, in an analyst's
    kernel that may read many extracts, it does nothing.
    """
    if _preloaded:
        gc.collect()
        gc.freeze()
