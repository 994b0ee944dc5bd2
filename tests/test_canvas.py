"""The chart canvas: texts kept between figures draw as matplotlib draws them, in their colour."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from soredi_nb import canvas, plots, sample  # noqa: E402
from soredi_nb.extract import canonical_frame  # noqa: E402

LABEL = "Sundhedsplejen Øst, Team 2 (5790000548187) – æøå …"


def pixels(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).astype(int)


def figure(on_ours: bool, width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches at 100 dpi, on our canvas or on matplotlib's."""
    fig = Figure(figsize=(width, height), dpi=100)
    canvas.attach(fig) if on_ours else FigureCanvasAgg(fig)
    return fig


def label_figure(on_ours: bool, **kwargs) -> Figure:
    """A figure with two texts at whole-pixel anchors (300 x 60 px)."""
    fig = figure(on_ours, 3, 0.6)
    fig.text(0.02, 0.5, LABEL, fontsize=8, **kwargs)
    fig.text(0.1, 0.1, "Tabel 7 gyp", fontsize=11, weight="bold", color="#1f5a96")
    return fig


@pytest.fixture(autouse=True)
def _empty_caches():
    canvas._SIZES.clear()
    canvas._HEIGHTS.clear()
    canvas._IMAGES.clear()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"alpha": 0.5}, {"color": (0.7, 0.1, 0.1, 0.5)}, {"antialiased": False}],
    ids=["plain", "alpha", "rgba", "aliased"],
)
def test_a_text_looks_as_matplotlib_draws_it_the_first_time_and_after(kwargs):
    theirs = pixels(label_figure(False, **kwargs))
    first = pixels(label_figure(True, **kwargs))
    assert len(canvas._IMAGES) == 2
    again = pixels(label_figure(True, **kwargs))
    assert len(canvas._IMAGES) == 2  # both texts came from the cache
    # The same glyphs on the same pixels; an alpha is applied once, give or take rounding.
    assert np.abs(first - theirs).max() <= 2
    assert (again == first).all()
    assert (first[..., :3] < 200).any()  # something was drawn


def test_a_kept_text_is_drawn_in_each_caller_s_colour_and_size():
    red, blue = figure(True, 3, 0.6), figure(True, 3, 0.6)
    red.text(0.02, 0.5, LABEL, color="#ff0000")
    blue.text(0.02, 0.5, LABEL, color="#0000ff")
    red_pixels, blue_pixels = pixels(red), pixels(blue)
    assert len(canvas._IMAGES) == 1  # one image of the text, drawn in either colour
    ink = blue_pixels[..., :3].sum(axis=2) < 600
    assert ink.sum() > 50
    assert (blue_pixels[ink][:, 2] > blue_pixels[ink][:, 0]).all()
    assert (red_pixels[ink][:, 0] > red_pixels[ink][:, 2]).all()
    # A larger font is measured and drawn anew, not stretched from the small one.
    small = canvas.attach(Figure()).text(0, 0, LABEL, fontsize=8)
    large = canvas.attach(Figure()).text(0, 0, LABEL, fontsize=12)
    widths = [t.get_window_extent().width for t in (small, large)]
    assert widths[1] / widths[0] == pytest.approx(12 / 8, rel=0.05)


def test_rotated_text_and_mathtext_are_left_to_matplotlib():
    def drawn(on_ours: bool) -> np.ndarray:
        fig = figure(on_ours, 2, 2)
        fig.text(0.5, 0.1, "Antal fund", rotation=90)
        fig.text(0.1, 0.1, "2026-06", rotation=35)
        fig.text(0.1, 0.8, r"$x^2$")
        return pixels(fig)

    assert (drawn(True) == drawn(False)).all()
    assert not canvas._IMAGES


def test_texts_are_measured_as_matplotlib_measures_them():
    def extents(on_ours: bool) -> list:
        fig = figure(on_ours, 3, 2)
        texts = [
            fig.text(0.1, 0.5, "Enhed\nmed to linjer", fontsize=9),
            fig.text(0.1, 0.2, LABEL, fontsize=11, weight="bold"),
            fig.text(0.5, 0.5, "Antal", rotation=90),
        ]
        fig.canvas.draw()
        return [t.get_window_extent().bounds for t in texts]

    theirs = extents(False)
    assert extents(True) == theirs
    assert extents(True) == theirs  # and again, from what was kept
    assert canvas._HEIGHTS and canvas._SIZES


def test_the_caches_are_bounded(monkeypatch):
    monkeypatch.setattr(canvas, "_KEPT", 5)
    fig = figure(True, 3, 3)
    for n in range(12):
        fig.text(0.1, n / 12, f"Enhed {n}")
    fig.canvas.draw()
    assert len(canvas._IMAGES) == 5 and len(canvas._SIZES) == 5
    assert ("Enhed 11" in {key[0] for key in canvas._IMAGES}) and "Enhed 0" not in {
        key[0] for key in canvas._IMAGES
    }


def test_a_chart_on_the_canvas_looks_as_on_matplotlib_s():
    """A whole chart: the same image but for texts anchored between pixels (set on whole ones)."""
    df = sample.make_sample()["tables"][2]
    df = canonical_frame(2, df[df["ejer"] == "Aarhus Kommune"])
    fig = plots.task_chart(df, 2, reference_date="2026-11-06")
    assert isinstance(fig.canvas, canvas._Canvas)
    ours = pixels(fig)
    laid_out = [ax.get_position().bounds for ax in fig.axes]
    FigureCanvasAgg(fig)
    theirs = pixels(fig)
    assert [ax.get_position().bounds for ax in fig.axes] == laid_out  # the same layout, exactly
    assert ours.shape == theirs.shape
    # Text is placed on whole pixels (as before matplotlib 3.11), so a glyph may sit up to half
    # a pixel from where matplotlib puts it: every dark pixel of one image is within a pixel of
    # something drawn in the other, and there are about as many.
    dark, their_dark = ((image[..., :3] < 128).any(axis=2) for image in (ours, theirs))
    drawn, their_drawn = ((image[..., :3] < 250).any(axis=2) for image in (ours, theirs))
    assert dark.sum() > 1000
    assert not (dark & ~grown(their_drawn)).any() and not (their_dark & ~grown(drawn)).any()
    assert abs(int(dark.sum()) - int(their_dark.sum())) < 0.03 * dark.sum()


def grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` and every pixel next to it (diagonals included)."""
    padded = np.pad(mask, 1)
    rows, columns = mask.shape
    return np.logical_or.reduce(
        [
            padded[1 + dy : 1 + dy + rows, 1 + dx : 1 + dx + columns]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ]
    )
