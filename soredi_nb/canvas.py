"""The canvas every soredi-nb chart is drawn on: matplotlib's Agg, with each text measured and
rasterised once per process instead of once per figure.

A render draws the same titles, axis labels, legend entries, tick labels and unit names on
hundreds of pages. Matplotlib keeps its text measurements only as long as one figure's
renderer, looks up each text's font and line height at every layout, and since 3.11 rasterises
a text glyph by glyph in Python: text was over half of a chart's drawing time. Here a text's
size, its font's line height and, for a horizontal text, its rasterised image are kept, keyed
by everything that decides them (string, font, size, dpi, hinting); the image is drawn again
in the text's colour with ``RendererAgg.draw_image``. The picture is matplotlib's own: the
same FreeType rendering, placed on whole pixels as matplotlib did before 3.11, and the same
layout. Rotated texts, mathtext and texts with OpenType features or a language set are drawn
by matplotlib.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import numpy as np
from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager, get_font

_KEPT = 4096
"""Most texts kept, per kind: a kernel's pages reuse the recent ones; about 12 MB of images."""
_LOCK = threading.Lock()
T = TypeVar("T")
_HEIGHTS: dict[tuple, tuple[float | None, float | None, float | None]] = {}
_SIZES: dict[tuple, tuple[float, float, float]] = {}
_IMAGES: dict[tuple, tuple[np.ndarray, float, float]] = {}


def attach(fig: Figure) -> Figure:
    """Draw ``fig`` on this module's canvas (also when it is saved as PNG); returns ``fig``."""
    _Canvas(fig)
    return fig


def _kept(cache: dict, key: tuple, make: Callable[[], T]) -> T:
    """``cache[key]``, made with ``make()`` and kept (the oldest dropped beyond ``_KEPT``)."""
    found = cache.get(key)
    if found is None:
        found = make()
        with _LOCK:  # a figure drawn in another thread may be storing too
            if len(cache) >= _KEPT:
                del cache[next(iter(cache))]
            cache[key] = found
    return found


def _font_key(prop, dpi: float) -> tuple:
    # FontProperties is mutable and hashes by its current state: the key keeps a copy.
    return (prop.copy(), dpi, rcParams["text.hinting"], rcParams["text.hinting_factor"])


class _Renderer(RendererAgg):
    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        measure = partial(super().get_text_width_height_descent, s, prop, ismath)
        return _kept(_SIZES, (s, *_font_key(prop, self.dpi)), measure)

    def _get_font_height_metrics(self, prop):
        # Matplotlib's Text asks a renderer that has this method for its font's line height
        # (a hook of matplotlib's own PDF/PS renderers); without it, every text's layout looks
        # the font up and reads two of its tables again. Returning (None, None, None) makes
        # Text measure as it would without the hook.
        return _kept(_HEIGHTS, _font_key(prop, self.dpi), partial(self._line_metrics, prop))

    def _line_metrics(self, prop) -> tuple[float | None, float | None, float | None]:
        """Ascent, descent and line gap of the font, in pixels, computed as matplotlib's Text
        does (the same tables, the same arithmetic: the same layout to the bit)."""
        font = get_font(fontManager._find_fonts_by_props(prop))
        for name, gap, ascent, descent in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent"),
        ):
            table = font.get_sfnt_table(name)
            if table is not None:
                per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / per_em * prop.get_size_in_points() * self.dpi / 72
                return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
        return None, None, None

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        special = mtext is not None and (mtext.get_fontfeatures() or mtext.get_language())
        if ismath or angle or special:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        aa = gc.get_antialiased()
        key = (s, *_font_key(prop, self.dpi), aa)
        coverage, left, bottom = _kept(_IMAGES, key, partial(self._rasterise, s, prop, aa))
        rgba = gc.get_rgb()
        alpha = gc.get_alpha() if len(rgba) == 3 or gc.get_forced_alpha() else rgba[3]
        image = np.empty((*coverage.shape, 4), np.uint8)
        image[..., :3] = [round(255 * c) for c in rgba[:3]]
        image[..., 3] = coverage if alpha == 1 else np.rint(coverage * alpha)
        # draw_text's y runs down from the top, draw_image's up from the bottom (to the image's
        # bottom row, which is its first: images are stored bottom up).
        self.draw_image(gc, round(x + left), self.height - (round(y + bottom) + 1), image)
        return None

    def _rasterise(self, s, prop, antialiased) -> tuple[np.ndarray, float, float]:
        """``s`` as coverage (0-255 a pixel, bottom row first), and its offset from the text's
        anchor in pixels."""
        font = self._prepare_font(prop)  # the font(s) get_text_width_height_descent measures
        font.set_text(s, 0, flags=get_hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=antialiased)
        dx, dy = font.get_bitmap_offset()  # in 1/64 pixel, as the descent
        return font.get_image()[::-1].copy(), dx / 64, (dy + font.get_descent()) / 64


class _Canvas(FigureCanvasAgg):
    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        if getattr(self, "_size", None) != (w, h, self.figure.dpi):
            self.renderer = _Renderer(w, h, self.figure.dpi)
            self._size = (w, h, self.figure.dpi)
        return self.renderer
