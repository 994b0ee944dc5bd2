"""The charts of the notebooks and HTML reports: one chart per table, in one shared style.

Each chart answers its table's question from the guide: which closed location numbers are still
in use (tables 2-3), which message types are wrongly registered or received (4-5), where negative
receipts come from (6-7), and what the active location numbers without message types are
(table 1). Two more compare an organisation with the national median and split the findings by
IT system.

Every function takes a canonical table (see ``Extract.tables``) and an optional ``ax``, and
returns the :class:`~matplotlib.figure.Figure` it drew on. An empty table gives a figure that says
"Ingen fund". Figures are made with ``Figure()``, not ``pyplot``: nothing is registered in pyplot,
so a papermill run does not pile up open figures and Jupyter never shows a figure twice.

How callers show a figure:

- Notebook: make it the last expression of a cell, or call ``IPython.display.display(fig)``. The
  chart functions register the PNG display of figures with IPython when it is running, because a
  bare ``Figure`` only shows as an image once pyplot's inline backend has been loaded.
- Script or report: ``fig.savefig(path, bbox_inches="tight")``; figures are 9 inches wide at
  100 dpi, sized for a report ~900 px wide.

The style (``data/plotstyle.mplstyle``) is applied inside each function: importing this module
changes no rcParams. Every text on a chart comes from ``data/texts/plots.yaml``.

Every text a chart draws is drawn as written: names from the extract (units, IT systems,
counterparts, message types) may hold ``$``, which matplotlib would otherwise read as mathtext
(``$x^2$`` drawn as x², ``$\\frac{1}{$`` failing the figure). One place sees to it, the decorator
every chart function has (:func:`_literal`), so no label, title, legend or annotation needs to
remember it.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import re
import sys
import weakref
from collections.abc import Callable, Sequence
from functools import wraps
from importlib.resources import files

import numpy as np
import pandas as pd
from matplotlib import colormaps, style
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from soredi_nb import canvas, danish, messagetypes, schema
from soredi_nb.texts import text

MAX_BARS = 15
"""Most bars (or matrix rows) in one chart; the rest are summed into one "Øvrige (N)" bar."""
MAX_COLUMNS = 12
"""Most message-type columns in the matrix of tables 4-5; the rest are summed likewise."""
LABEL_WIDTH = 45
"""Longest bar label in characters; longer ones are cut with "…"."""
WIDTH = 9.0
"""Figure width in inches: 900 px at the style's 100 dpi, the width of a report."""

_STYLE = str(files("soredi_nb").joinpath("data/plotstyle.mplstyle"))
# Recent use is the urgent case (the number is still in daily use), so it gets the strongest red.
_RECENCY = {"recent": "#b2182b", "month": "#e6744f", "older": "#f4b393", "unknown": "#c8c8c8"}
# Light = new (probably being set up: add types), dark = old (probably close or mark internal).
_AGE = {"new": "#9ecae1", "middle": "#4a90c2", "old": "#1c4f80", "unknown": "#c8c8c8"}
_MATRIX_CMAP = ListedColormap(colormaps["Blues"](np.linspace(0.2, 0.9, 256))).with_extremes(
    bad="white"
)
_MUTED = "#666666"
_OWN_FIGURES: weakref.WeakSet[Figure] = weakref.WeakSet()
"""The figures :func:`_new_figure` made (and :func:`png` may draw once)."""
_LAYOUTS: dict[tuple, tuple] = {}
"""Layouts constrained layout found, by the texts around the axes (:func:`_same_layout`)."""
_LAYOUT_KEYS: weakref.WeakKeyDictionary[Figure, tuple] = weakref.WeakKeyDictionary()
"""Figures whose layout is to be kept once drawn, with their key."""
_DIGITS = re.compile(r"\d")

Ax = Axes | None


# -- shared helpers ------------------------------------------------------------------------------


def _styled(chart: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a chart function inside the shared style, its texts literal, its figure displayable."""
    signature = inspect.signature(chart)

    @wraps(chart)
    def wrapper(*args, **kwargs) -> Figure:
        ax = signature.bind(*args, **kwargs).arguments.get("ax")
        # A caller's figure may hold axes of its own, whose texts are not ours to change. The
        # parent is kept now: tables 6-7 remove the caller's axes and split its place in two.
        parent = ax.figure if ax is not None else None
        before = set(parent.axes) if parent is not None else set()
        with style.context(_STYLE):
            fig = chart(*args, **kwargs)
        for drawn in [fig] if parent is None else parent.axes:
            if drawn is ax or drawn not in before:
                _literal(drawn)
        _register_display()
        return fig

    return wrapper


def _literal(artist: Figure | Axes) -> None:
    """Make every text in ``artist`` draw as written: no mathtext, no LaTeX.

    Done on the finished chart rather than through ``rcParams["text.parse_math"]``: a caller's
    axes may already have its tick labels, made outside our style, and those are where names
    from the extract go. Our own texts need no math either (``%`` is plain text in any case).
    A caller's ``text.usetex`` would hand the names to LaTeX, where ``$`` is math again.
    """
    for t in artist.findobj(Text):
        t.set_parse_math(False)
        t.set_usetex(False)


def _layout_key(fig: Figure) -> tuple:
    """What constrained layout looks at: the figure's size, titles and legends, and each axes'
    labels, titles and shown tick labels, with whether a tick label sits at an end of its axis
    (there it sticks out). Digits count as one: every digit is as wide as the others in the
    style's fonts, so "0–14" takes the room "0–16" does. Along the side axis the order of the
    labels does not matter either: the widest decides."""
    parts: list = [tuple(fig.get_size_inches()), fig.dpi, fig.get_suptitle()]
    parts += [tuple(t.get_text() for t in legend.get_texts()) for legend in fig.legends]
    for ax in fig.axes:
        titles = [ax.get_title(loc) for loc in ("left", "center", "right")]
        parts.append((ax.get_xlabel(), ax.get_ylabel(), *titles))
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            locations = axis.get_major_locator()()
            labels = axis.get_major_formatter().format_ticks(locations)
            low, high = sorted(limits)
            shown = [(v, _DIGITS.sub("0", t)) for v, t in zip(locations, labels, strict=True)]
            shown = [(v, t) for v, t in shown if low <= v <= high]
            ends = (
                bool(shown) and shown[0][0] in (low, high),
                bool(shown) and shown[-1][0] in (low, high),
            )
            texts = [t for _, t in shown]
            parts.append((tuple(texts) if axis is ax.xaxis else tuple(sorted(set(texts))), ends))
    return tuple(parts)


def _same_layout(fig: Figure) -> None:
    """Lay ``fig`` out as the last figure with the same texts around its axes, if any.

    Constrained layout measures every text of a figure several times: about a third of a
    chart's time. A chart that a render draws on hundreds of pages with the same periods,
    legend and axis labels is laid out once (when :func:`png` first draws it) and its axes
    and title placed the same way after that. Only for charts whose texts inside the axes stay
    inside them (the layout looks at those too).
    """
    key = _layout_key(fig)
    if key not in _LAYOUTS:
        _LAYOUT_KEYS[fig] = key
        return
    axes, title = _LAYOUTS[key]
    fig.set_layout_engine("none")
    for ax, position in zip(fig.axes, axes, strict=True):
        ax.set_position(position)
    if fig._suptitle is not None:  # where the layout put it (there is no public getter)
        fig._suptitle.set_position(title)


def _keep_layout(fig: Figure) -> None:
    """After ``fig`` is drawn: keep its layout for :func:`_same_layout`, if it asked to."""
    key = _LAYOUT_KEYS.pop(fig, None)
    if key is None:
        return
    if len(_LAYOUTS) > 1000:  # a kernel's lifetime of pages; never a memory concern
        _LAYOUTS.clear()
    title = fig._suptitle.get_position() if fig._suptitle is not None else None
    _LAYOUTS[key] = ([ax.get_position() for ax in fig.axes], title)


def describe(fig: Figure) -> str:
    """A Danish text alternative for a chart: what it shows, from its titles and axes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
        E.g. "Diagram: Aktive lokationsnumre uden meddelelsestyper. Vandret akse: Antal fund."
        for a screen reader and wherever the image is not shown.
    """
    parts = [fig.get_suptitle()]
    legends = list(fig.legends)
    for ax in fig.axes:
        parts += [ax.get_title(loc) for loc in ("left", "center", "right")]
        parts += [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
        parts += [text("plots.alt_axis", label=label) for label in [ax.get_xlabel()] if label]
        legends.append(ax.get_legend())
    parts += [lg.get_title().get_text() for lg in legends if lg is not None]
    shown = [p.strip().rstrip(".") for p in dict.fromkeys(parts) if p and p.strip()]
    return text("plots.alt", parts=". ".join(shown) or text("plots.alt_none"))


def _register_display() -> None:
    """Let IPython show a ``Figure`` as PNG with a text alternative (``describe``).

    Replaces the inline backend's formatter for figures, which gives the image no description;
    the page template puts the description in the image's ``alt``.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    png = shell.display_formatter.formatters.get("image/png") if shell is not None else None
    if png is None or png.for_type(Figure) is _png_with_alt:
        return
    png.for_type(Figure, _png_with_alt)


def _png_with_alt(fig: Figure) -> tuple[bytes | None, dict]:
    """The figure as PNG (as the inline backend draws it), and its description as metadata."""
    return png(fig), {"alt": describe(fig)}


def png(fig: Figure) -> bytes | None:
    """The figure as PNG, cut to what is drawn as the inline backend does, but drawn once.

    The inline backend's ``print_figure(fig, bbox_inches="tight")`` draws a figure twice with a
    layout engine (once to lay it out and find the drawn area, once more to print that area),
    and finding the area measures every text again: a chart is the larger part of a page's
    time. A chart's own figure (:func:`_new_figure`: its layout engine keeps every text
    inside) is drawn once here, and the image is cut to its drawn pixels with the backend's
    padding (``savefig.pad_inches``): the same picture, give or take a few pixels of margin
    where a text's box is taller than its letters. Any other figure (a caller's, pyplot's) may
    be drawn beyond its edges, which only the backend's image (grown to hold it) shows: the
    backend prints it, as it does a chart drawn up to its edge.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    bytes or None
        ``None`` for a figure without axes, which the inline backend does not show either.
    """
    from IPython.core.pylabtools import print_figure
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if not fig.axes and not fig.lines:
        return None
    if fig not in _OWN_FIGURES:  # a caller's: anything may be drawn anywhere (and pyplot's
        return print_figure(fig, fmt="png", bbox_inches="tight")  # canvas is pyplot's)
    agg = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else canvas.attach(fig).canvas
    agg.draw()
    _keep_layout(fig)
    pixels = np.asarray(agg.buffer_rgba())
    background = np.array([round(255 * c) for c in fig.get_facecolor()], dtype=np.uint8)
    # One comparison per pixel: its four bytes as one number.
    drawn = pixels.view(np.uint32)[..., 0] != background.view(np.uint32)[0]
    rows, columns = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    height, width = drawn.shape
    if not rows.size or rows[0] == 0 or columns[0] == 0:
        return print_figure(fig, fmt="png", bbox_inches="tight")
    if rows[-1] == height - 1 or columns[-1] == width - 1:
        return print_figure(fig, fmt="png", bbox_inches="tight")
    pad = round(rcParams["savefig.pad_inches"] * fig.dpi)
    top, left = rows[0] - pad, columns[0] - pad
    size = (int(columns[-1] + 1 + pad - left), int(rows[-1] + 1 + pad - top))
    # An opaque figure needs no alpha channel: a quarter less to compress, and to send.
    mode = "RGB" if background[3] == 255 and (pixels[..., 3] == 255).all() else "RGBA"
    image = Image.frombuffer("RGBA", (width, height), agg.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = Image.new(mode, size, tuple(int(c) for c in background[: len(mode)]))
    # The padding may reach beyond the figure: there the image has the figure's background.
    out.paste(image.convert(mode) if mode == "RGB" else image, (int(-left), int(-top)))
    buffer = io.BytesIO()
    # zlib's fastest level: charts are large flat areas, which it packs as small as the default
    # level does (6 % smaller on a national sample's task charts) in half the time.
    out.save(buffer, format="png", dpi=(fig.dpi, fig.dpi), compress_level=1)
    return buffer.getvalue()


def _percent(share: float) -> str:
    """Danish percentage of a share: ``0.123`` -> ``"12 %"``; ``"0,4 %"`` rather than ``"0 %"``."""
    pct = share * 100
    if 0 < pct < 1:
        return f"{pct:.1f} %".replace(".", ",")
    return f"{danish.number(round(pct))} %"


def _date(value: pd.Timestamp) -> str:
    """A date as every page writes it (``common.date_format``: ``2026-11-06``)."""
    return value.strftime(text("common.date_format"))


def _truncate(label: str, width: int = LABEL_WIDTH) -> str:
    """Cut a label to ``width`` characters, ending in "…" when cut."""
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def _unit_labels(df: pd.DataFrame) -> pd.Series:
    """Per row: "enhedsnavn (lokationsnummer)", one name per location number, name cut to fit."""
    gln = df["lokationsnummer"].fillna(text("plots.unknown"))
    named = pd.DataFrame({"gln": gln, "name": df["enhedsnavn"]}).dropna().drop_duplicates()
    names = named.groupby("gln")["name"].agg(["first", "size"])

    def label(g: str) -> str:
        if g not in names.index:
            return g
        name, count = names.loc[g]
        # Units share their parent's location number: name the first and say there are more.
        name = text("plots.shared_name", name=name) if count > 1 else name
        return f"{_truncate(name, LABEL_WIDTH - len(g) - 3)} ({g})"

    return gln.map({g: label(g) for g in gln.unique()})


def _biggest_first(frame: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Rows by ``key`` descending; ties keep their (alphabetical) order."""
    return frame.iloc[np.argsort(-key.to_numpy(dtype=float), kind="stable")]


def _sum(rest: pd.DataFrame) -> pd.Series:
    """Column sums that stay missing where every value is missing."""
    return rest.sum(min_count=1)


def _fold(
    frame: pd.DataFrame, limit: int = MAX_BARS, agg: Callable[[pd.DataFrame], pd.Series] = _sum
) -> pd.DataFrame:
    """Keep the first ``limit - 1`` rows and aggregate the rest into one row "Øvrige (N)"."""
    if len(frame) <= limit:
        return frame
    rest = frame.iloc[limit - 1 :]
    others = pd.DataFrame([agg(rest)], index=[text("plots.others", count=danish.number(len(rest)))])
    return pd.concat([frame.iloc[: limit - 1], others]).astype(frame.dtypes.to_dict())


def _height(rows: int, extra: float = 0.0) -> float:
    """Figure height in inches for ``rows`` bars, within what a report page shows at once."""
    return min(max(2.4, 1.2 + 0.3 * rows), 6.5) + extra


def _new_figure(height: float) -> Figure:
    """A report-width figure on the text-caching canvas, not registered in pyplot."""
    fig = canvas.attach(Figure(figsize=(WIDTH, height), layout="constrained"))
    _OWN_FIGURES.add(fig)
    return fig


def _axes(ax: Ax, height: float) -> tuple[Figure, Axes, bool]:
    """The caller's axes and its (root) figure, or a new report-width figure with one axes.

    The flag says whether the figure is new (ours to title), see :func:`_finish`.
    """
    if ax is not None:
        return ax.figure.figure, ax, False
    fig = _new_figure(height)
    return fig, fig.add_subplot(), True


def _finish(
    ax: Axes,
    own: bool,
    title: str,
    handles: list | None = None,
    legend_title: str | None = None,
) -> None:
    """Title and legend: across the top of our own figure, inside the caller's axes otherwise.

    The title of our own figure starts at the figure's left edge, not the axes' (which long bar
    labels push to the middle), and the legend goes under the chart, where it never hides a bar.
    """
    legend = handles is not None or bool(ax.get_legend_handles_labels()[0])
    if not own:
        ax.set_title(title)
        if legend:
            ax.legend(handles=handles, title=legend_title, loc="best")
        return
    fig = ax.figure
    fig.suptitle(title, x=0.01, ha="left")
    if legend:
        count = len(handles) if handles is not None else len(ax.get_legend_handles_labels()[0])
        fig.legend(
            handles=handles,
            title=legend_title,
            loc="outside lower left",
            ncols=count,
            alignment="left",
        )


def _message(ax: Ax, title: str, message: str) -> Figure:
    """A figure with ``title`` and a centred message instead of a chart."""
    fig, ax, own = _axes(ax, 1.8)
    _finish(ax, own, title)
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=12,
        color=_MUTED,
    )
    return fig


def _empty(ax: Ax, title: str) -> Figure:
    """The "Ingen fund" figure of a table without findings."""
    return _message(ax, title, text("plots.no_findings"))


def _bar_layout(ax: Axes, labels: Sequence[str], xlabel: str | None, margin: float = 0.14) -> None:
    """Label horizontal bars top-down, with a Danish integer x axis and room for bar labels."""
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: danish.number(x)))
    # Bar labels are drawn outside the bars; the layout engine does not make room for them.
    ax.margins(x=margin)
    if xlabel:
        ax.set_xlabel(xlabel)


def _stacked(ax: Axes, frame: pd.DataFrame, colours: Sequence[str], labels: Sequence[str]) -> None:
    """Stacked horizontal bars, one segment per column, with the row total after each bar."""
    y = np.arange(len(frame))
    left = np.zeros(len(frame))
    bars = None
    for column, colour, label in zip(frame.columns, colours, labels, strict=True):
        width = frame[column].to_numpy(dtype=float)
        bars = ax.barh(y, width, left=left, color=colour, label=label, height=0.7)
        if left.any():
            # Only the axis start is a hard edge: segment starts would stop the right margin.
            for bar in bars:
                bar.sticky_edges.x.clear()
        left += width
    ax.bar_label(bars, labels=[danish.number(t) for t in left], padding=3)


def _row_notes(ax: Axes, positions: Sequence[float], note: str) -> None:
    """Write an italic note on bar rows that have no bars (e.g. "mangler i udtrækket")."""
    for position in positions:
        ax.text(
            0.01,
            position,
            note,
            transform=ax.get_yaxis_transform(),
            va="center",
            color=_MUTED,
            style="italic",
        )


def _check(number: int, allowed: tuple[int, ...]) -> None:
    """Refuse a table number the chart is not made for (a programming error)."""
    if number not in allowed:
        raise ValueError(f"this chart is for tables {allowed}, not table {number!r}")


# -- table charts --------------------------------------------------------------------------------


@_styled
def active_without_types_chart(
    df: pd.DataFrame, ax: Ax = None, *, reference_date: dt.date | str | None = None
) -> Figure:
    """Table 1: active location numbers without message types, per IT system and age.

    The age since ``oprettet`` points at the action: a number created within the last year is
    probably being set up (add message types, or mark it inactive until it goes live), an old one
    is probably unused (close it or mark it for internal use). The IT system says who registers
    message types.

    Parameters
    ----------
    df : pandas.DataFrame
        Table 1 in canonical columns (``lokationsnummer``, ``it_system``, ``oprettet``).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.
    reference_date : date or str, optional
        The extract date, which ages are counted from; the legend names it as such. Default
        today, and the legend says so.

    Returns
    -------
    matplotlib.figure.Figure
        Stacked horizontal bars: location numbers per IT system (biggest first, at most
        ``MAX_BARS``), one segment per age group, the total after each bar.
    """
    title = text("plots.active.title")
    if df.empty:
        return _empty(ax, title)
    ref = pd.Timestamp(dt.date.today() if reference_date is None else reference_date)
    # A location number shared by several units is one number to clean up.
    one = df.drop_duplicates("lokationsnummer")
    created = one["oprettet"]
    age = np.select(
        [
            created.isna(),
            created > ref - pd.DateOffset(years=1),
            created > ref - pd.DateOffset(years=5),
        ],
        ["unknown", "new", "middle"],
        "old",
    )
    system = one["it_system"].fillna(text("plots.active.no_system")).map(_truncate)
    counts = pd.crosstab(system.to_numpy(), age)
    counts = counts[[k for k in _AGE if k in counts.columns]]
    counts = _fold(_biggest_first(counts, counts.sum(axis=1)))
    fig, ax, own = _axes(ax, _height(len(counts)))
    buckets = text("plots.active.buckets")
    _stacked(ax, counts, [_AGE[k] for k in counts.columns], [buckets[k] for k in counts.columns])
    _bar_layout(ax, list(counts.index), text("plots.active.xlabel"))
    legend = "plots.active.legend" if reference_date is not None else "plots.active.legend_today"
    _finish(ax, own, title, legend_title=text(legend, date=_date(ref)))
    return fig


@_styled
def closed_traffic_chart(
    df: pd.DataFrame,
    number: int,
    ax: Ax = None,
    *,
    reference_date: dt.date | str | None = None,
) -> Figure:
    """Tables 2 and 3: messages per closed location number, coloured by how recently.

    Parameters
    ----------
    df : pandas.DataFrame
        Table 2 or 3 in canonical columns (``lokationsnummer``, ``enhedsnavn``, ``antal``,
        ``seneste``).
    number : {2, 3}
        The table: 2 incoming messages to, 3 outgoing messages from, closed location numbers.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.
    reference_date : date or str, optional
        The extract date, which "days since the latest message" are counted from; the legend
        names it as such. Default the latest ``seneste`` in ``df``, and the legend says so.

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars of the summed ``antal`` per location number, labelled
        "enhedsnavn (lokationsnummer)", biggest first (at most ``MAX_BARS``; the rest summed as
        "Øvrige (N)", coloured by the latest use among them). Colour: days from the latest
        message to the reference date (within 7, 8-30, over 30, unknown).
    """
    _check(number, (2, 3))
    title = text(f"plots.closed.title.{number}")
    if df.empty:
        return _empty(ax, title)
    seneste = df["seneste"]
    ref = pd.Timestamp(reference_date) if reference_date is not None else seneste.max()
    data = pd.DataFrame({"antal": df["antal"].fillna(0), "seneste": seneste})
    per = data.groupby(_unit_labels(df)).agg(antal=("antal", "sum"), seneste=("seneste", "max"))
    per = _fold(
        _biggest_first(per, per["antal"]), agg=lambda r: r.agg({"antal": "sum", "seneste": "max"})
    )
    days = (ref - per["seneste"]).dt.days
    keys = np.select([days.isna(), days <= 7, days <= 30], ["unknown", "recent", "month"], "older")

    fig, ax, own = _axes(ax, _height(len(per)))
    bars = ax.barh(
        np.arange(len(per)),
        per["antal"].to_numpy(dtype=float),
        height=0.7,
        color=[_RECENCY[k] for k in keys],
    )
    ax.bar_label(bars, labels=[danish.number(v) for v in per["antal"]], padding=3)
    _bar_layout(ax, list(per.index), text("plots.closed.xlabel"))
    buckets = text("plots.closed.buckets")
    handles = [Patch(color=c, label=buckets[k]) for k, c in _RECENCY.items() if k in keys]
    date = _date(ref) if pd.notna(ref) else text("plots.unknown")
    legend = "plots.closed.legend" if reference_date is not None else "plots.closed.legend_latest"
    _finish(ax, own, title, handles, text(legend, date=date))
    return fig


@_styled
def type_matrix_chart(df: pd.DataFrame, number: int, ax: Ax = None) -> Figure:
    """Tables 4 and 5: location numbers against message types, as an annotated matrix.

    Parameters
    ----------
    df : pandas.DataFrame
        Table 4 or 5 in canonical columns (``lokationsnummer``, ``enhedsnavn``,
        ``meddelelsestype``, and ``antal`` for table 5).
    number : {4, 5}
        Table 4: types registered that the IT system is not approved for (a cell is ✓ where the
        type is registered). Table 5: types received but not registered (a cell is the summed
        ``antal``).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One row per location number ("enhedsnavn (lokationsnummer)"), one column per message
        type code (the text when there is no code), both ordered biggest first. At most
        ``MAX_BARS`` rows and ``MAX_COLUMNS`` columns; the rest are summed as "Øvrige (N)",
        whose cells in table 4 count registrations instead of showing ✓.
    """
    _check(number, (4, 5))
    title = text(f"plots.matrix.title.{number}")
    if df.empty:
        return _empty(ax, title)
    # The code where there is one, else the text as written.
    types = messagetypes.code_series(df["meddelelsestype"])
    types = types.fillna(messagetypes.display_series(df["meddelelsestype"]))
    types = types.fillna(text("plots.unknown"))
    keys = [_unit_labels(df), types]
    if number == 5:
        matrix = df["antal"].astype(float).groupby(keys).sum(min_count=1).unstack()
    else:
        matrix = pd.Series(1.0, index=df.index).groupby(keys).max().unstack()
    shape = matrix.shape
    matrix = _fold(_biggest_first(matrix, matrix.sum(axis=1)))
    matrix = _fold(_biggest_first(matrix.T, matrix.sum(axis=0)), MAX_COLUMNS).T
    values = matrix.to_numpy(dtype=float, na_value=np.nan)
    # The "Øvrige" row and column (last, when folded) count registrations: no ✓ there.
    folded = (shape[0] > MAX_BARS, shape[1] > MAX_COLUMNS)
    last = (values.shape[0] - 1, values.shape[1] - 1)

    columns = [_truncate(str(c), 18) for c in matrix.columns]
    # Cell width in inches: what the row labels leave of the report width, at most 0.9.
    cell = min(0.9, 5.2 / len(columns))
    tilt = max(map(len, columns)) * 0.075 > cell

    # No minimum height: the fixed cell size below follows from the rows' share of it.
    fig, ax, own = _axes(ax, 0.3 * len(matrix) + (1.7 if tilt else 1.2))
    # Table 4 cells are mostly 1 (registered): mid blue, darker where "Øvrige" counts more.
    vmax = float(np.nanmax(values, initial=0.0))
    norm = Normalize(vmin=0, vmax=max(vmax, 2.0) if number == 4 else vmax)
    ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=_MATRIX_CMAP, norm=norm)
    presence = text("plots.matrix.presence")
    for (i, j), value in np.ndenumerate(values):
        if np.isnan(value):
            continue
        counted = (folded[0] and i == last[0]) or (folded[1] and j == last[1])
        label = presence if number == 4 and not counted else danish.number(value)
        colour = "white" if norm(value) > 0.55 else "#1a1a1a"
        ax.text(j, i, label, ha="center", va="center", color=colour)
    ax.set_xticks(
        np.arange(len(columns)),
        columns,
        rotation=35 if tilt else 0,
        ha="right" if tilt else "center",
        rotation_mode="anchor",
    )
    ax.set_yticks(np.arange(values.shape[0]), list(matrix.index))
    # White lines between cells; the style's grid would cross the cells.
    ax.grid(False)
    ax.set_xticks(np.arange(values.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(values.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0)
    ax.spines[:].set_visible(False)
    ax.set_xlabel(text(f"plots.matrix.xlabel.{number}"))
    if own:
        # Cells of one size next to their labels, rather than stretched over the report width.
        ax.set_box_aspect(0.3 * len(matrix) / (cell * len(columns)))
        ax.set_anchor("NW")
    _finish(ax, own, title)
    return fig


def _receipts(df: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Negative receipts per ``key``, with the messages they are a share of where known."""
    known = df["antal_i_alt"].notna()
    data = pd.DataFrame(
        {
            "antal": df["antal"].astype(float),
            "known": df["antal"].astype(float).where(known),
            "i_alt": df["antal_i_alt"].astype(float),
        }
    )
    per = data.groupby(key.to_numpy()).sum(min_count=1)
    per["antal"] = per["antal"].fillna(0.0)
    return _fold(_biggest_first(per, per["antal"]))


def _has_share(total: float) -> bool:
    """Whether a bar's receipts get a share: the messages they are of are known and not 0."""
    return bool(pd.notna(total) and total > 0)


def _receipt_label(row: pd.Series) -> str:
    """Bar label "12 (8 %)": receipts and their share of the messages, when that is known."""
    if not _has_share(row["i_alt"]):
        return danish.number(row["antal"])
    return f"{danish.number(row['antal'])} ({_percent(row['known'] / row['i_alt'])})"


def _two_panels(ax: Ax, sizes: list[int]) -> tuple[Figure, list[Axes]]:
    """Two stacked panels sharing x, sized by their bar counts: a new figure or ``ax`` split."""
    ratios = [max(n, 1) + 1.5 for n in sizes]
    if ax is None:
        fig = _new_figure(min(max(3.6, 2.0 + 0.26 * sum(sizes)), 9.0))
        return fig, list(fig.subplots(2, 1, sharex=True, height_ratios=ratios))
    spec = ax.get_subplotspec()
    if spec is None:
        raise ValueError("ax must come from add_subplot or subplots: its place is split in two")
    parent = ax.figure
    ax.remove()
    grid = spec.subgridspec(2, 1, height_ratios=ratios)
    top = parent.add_subplot(grid[0])
    return parent.figure, [top, parent.add_subplot(grid[1], sharex=top)]


@_styled
def negative_receipts_chart(df: pd.DataFrame, number: int, ax: Ax = None) -> Figure:
    """Tables 6 and 7: negative receipts per message type and per counterpart.

    Parameters
    ----------
    df : pandas.DataFrame
        Table 6 or 7 in canonical columns (``meddelelsestype``, ``modpart``,
        ``modpart_lokationsnummer``, ``antal``, optionally ``antal_i_alt``).
    number : {6, 7}
        Table 6: receipts received (the counterpart rejected the messages); table 7: receipts
        sent (the counterpart's messages were rejected).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure: the axes is replaced by the two panels in its
        place.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels of horizontal bars, biggest first (at most ``MAX_BARS`` each, the rest summed
        as "Øvrige (N)"): per message type (code and name) and per counterpart (``modpart``,
        else its location number). Each bar is labelled "12 (8 %)" when ``antal_i_alt`` is
        known: the share of all messages of the same rows, counted over the rows where it is
        known; otherwise just "12".
    """
    _check(number, (6, 7))
    title = text(f"plots.receipts.title.{number}")
    if df.empty:
        return _empty(ax, title)
    types = messagetypes.display_series(df["meddelelsestype"])
    types = types.fillna(text("plots.receipts.unknown_type")).map(_truncate)
    parts = df["modpart"].fillna(df["modpart_lokationsnummer"])
    parts = parts.fillna(text("plots.receipts.unknown_counterpart")).map(_truncate)
    frames = [_receipts(df, types), _receipts(df, parts)]
    subtitles = [text("plots.receipts.by_type"), text(f"plots.receipts.by_counterpart.{number}")]

    fig, axes = _two_panels(ax, [len(f) for f in frames])
    if ax is None:
        fig.suptitle(title, x=0.01, ha="left")
    else:
        # The caller's figure keeps its own title: ours goes above the top panel's title.
        place = {"xycoords": "axes fraction", "xytext": (0, 24), "textcoords": "offset points"}
        axes[0].annotate(title, (0, 1), **place, fontsize="large", fontweight="bold")
    for panel, per, subtitle in zip(axes, frames, subtitles, strict=True):
        bars = panel.barh(np.arange(len(per)), per["antal"], height=0.7, color="C3")
        panel.bar_label(bars, labels=[_receipt_label(r) for _, r in per.iterrows()], padding=3)
        _bar_layout(panel, list(per.index), None, margin=0.2)
        panel.set_title(subtitle, fontsize=10, fontweight="normal")
    # Where a bar shows a share ("12 (8 %)", see _receipt_label), the axis says of what.
    shares = any(per["i_alt"].map(_has_share).any() for per in frames)
    axes[-1].set_xlabel(text("plots.receipts.xlabel_share" if shares else "plots.receipts.xlabel"))
    # Shared x: the top panel's tick labels would repeat the bottom's.
    axes[0].tick_params(axis="x", labelbottom=False)
    return fig


@_styled
def task_chart(
    df: pd.DataFrame | None,
    number: int,
    ax: Ax = None,
    *,
    reference_date: dt.date | str | None = None,
) -> Figure:
    """The chart of table ``number``: what the notebooks and the widget panel show.

    Parameters
    ----------
    df : pandas.DataFrame or None
        The table in canonical columns, usually filtered to one organisation; ``None`` when the
        table is missing from the extract (the figure then says so).
    number : int
        Table number, 1-7.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.
    reference_date : date or str, optional
        The date ages (table 1) and days since the latest message (tables 2-3) are counted
        from, e.g. the extract date; ignored for the other tables. Defaults: see the charts.

    Returns
    -------
    matplotlib.figure.Figure
        See :func:`active_without_types_chart` (table 1), :func:`closed_traffic_chart` (2-3),
        :func:`type_matrix_chart` (4-5) and :func:`negative_receipts_chart` (6-7).
    """
    _check(number, tuple(schema.TABLE_NUMBERS))
    if df is None:
        title = text("tasks.title", number=number, name=schema.table(number).name)
        return _message(ax, title, text("common.missing_table", number=number))
    if number == 1:
        return active_without_types_chart(df, ax, reference_date=reference_date)
    if number in (2, 3):
        return closed_traffic_chart(df, number, ax, reference_date=reference_date)
    chart = type_matrix_chart if number in (4, 5) else negative_receipts_chart
    return chart(df, number, ax)


# -- overview charts -----------------------------------------------------------------------------


@_styled
def overview_chart(tasks: pd.DataFrame, ax: Ax = None) -> Figure:
    """Findings per table against what is typical among the peers that have findings there.

    Most peers have no findings in a table, so their median is 0 and a comparison with it says
    nothing; the status of the overview's table compares with the median among the others
    that have findings (``TaskSummary.median_with_findings``), and so does this chart.

    Parameters
    ----------
    tasks : pandas.DataFrame
        One row per table with columns ``number``, ``rows``, ``median_rows``,
        ``median_with_findings`` and ``missing`` (as
        ``pd.DataFrame([t.__dict__ for t in summary.summarise(...).tasks])`` gives).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped horizontal bars per table ("Tabel N", table 1 on top): the organisation's
        findings and the typical figure, labelled as the status table's column is. Tables
        missing from the extract have no bars and say "mangler i udtrækket". Without any
        typical figure only the findings are drawn: an owner alone of its type (``rows``
        with ``median_rows``, "Jeres fund") or the whole extract (no medians).
    """
    title = text("plots.overview.title")
    if tasks.empty:
        return _empty(ax, title)
    t = tasks.sort_values("number")
    y = np.arange(len(t))
    present = ~t["missing"].astype(bool).to_numpy()
    rows = t["rows"].to_numpy(dtype=float)
    typical = pd.to_numeric(t["median_with_findings"]).to_numpy(dtype=float, na_value=np.nan)
    with_typical = present & ~np.isnan(typical)
    compare = bool(with_typical.any())
    # One organisation's summary has medians (an owner alone of its type has no others to
    # find a typical figure among); the whole extract's has none.
    own_summary = "median_rows" in t and bool(t["median_rows"].notna().any())

    fig, ax, own = _axes(ax, _height(len(t) * (2 if compare else 1)))
    height = 0.38 if compare else 0.65
    shift = height / 2 if compare else 0.0
    own_label = text("plots.overview.own" if own_summary else "plots.overview.national")
    bars = ax.barh(y[present] - shift, rows[present], height=height, color="C0", label=own_label)
    ax.bar_label(bars, labels=[danish.number(v) for v in rows[present]], padding=3)
    if compare:
        label = text("summary.columns.median_with_findings")
        others = ax.barh(
            y[with_typical] + shift, typical[with_typical], height=height, color="C7", label=label
        )
        ax.bar_label(others, labels=[danish.number(v) for v in typical[with_typical]], padding=3)
    _row_notes(ax, y[~present], text("plots.overview.missing"))
    labels = [text("plots.overview.table", number=n) for n in t["number"]]
    _bar_layout(ax, labels, text("plots.overview.xlabel"))
    _finish(ax, own, title if compare else text("plots.overview.title_national"))
    return fig


@_styled
def progress_chart(counts: pd.DataFrame, ax: Ax = None) -> Figure:
    """Findings per table in the previous extract and now.

    Parameters
    ----------
    counts : pandas.DataFrame
        ``compare.Comparison.counts()``: ``number``, ``old_rows``, ``new_rows``, ``comparable``.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped horizontal bars per table ("Tabel N", table 1 on top): then (grey) and now
        (blue). Tables that cannot be compared have no bars and say so.
    """
    title = text("plots.progress.title")
    if counts.empty:
        return _empty(ax, title)
    t = counts.sort_values("number")
    y = np.arange(len(t))
    ok = t["comparable"].astype(bool).to_numpy()
    fig, ax, own = _axes(ax, _height(len(t) * 2))
    for column, colour, shift in (("old_rows", "C7", -0.19), ("new_rows", "C0", 0.19)):
        values = pd.to_numeric(t[column]).to_numpy(dtype=float, na_value=0.0)
        label = text(f"plots.progress.{column}")
        bars = ax.barh(y[ok] + shift, values[ok], height=0.38, color=colour, label=label)
        ax.bar_label(bars, labels=[danish.number(v) for v in values[ok]], padding=3)
    _row_notes(ax, y[~ok], text("plots.progress.not_comparable"))
    labels = [text("plots.overview.table", number=n) for n in t["number"]]
    _bar_layout(ax, labels, text("plots.overview.xlabel"))
    _finish(ax, own, title)
    return fig


@_styled
def it_system_chart(counts: pd.DataFrame, ax: Ax = None) -> Figure:
    """Findings per IT system, stacked by table.

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts per IT system in columns ``tabel_1`` ... ``tabel_7`` (those present), indexed by
        IT system, or with the IT system in an ``organisation`` column: the output of
        ``organisations.list_organisations(extract, by="it_system")`` as it is. Other columns
        (``i_alt``, ``lokationsnumre``) are ignored.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars of findings per IT system, biggest first (at most ``MAX_BARS``, the rest
        summed as "Øvrige (N)"), one segment per table in the table's colour, the total after
        each bar. IT systems without findings are left out.
    """
    return _by_table(counts, ax, text("plots.it_system.title"))


@_styled
def organisations_chart(counts: pd.DataFrame, ax: Ax = None) -> Figure:
    """Findings per organisation, stacked by table: the whole extract's "who has work to do".

    Parameters
    ----------
    counts : pandas.DataFrame
        As :func:`it_system_chart` takes, one row per organisation (e.g.
        ``national.organisation_table``, whose rows of owners grouped by type are bars too).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        As :func:`it_system_chart`, per organisation.
    """
    return _by_table(counts, ax, text("plots.organisations.title"))


def _table_columns(frame: pd.DataFrame) -> list[str]:
    """The ``tabel_N`` columns of ``frame`` (findings per table), in table order."""
    return sorted(c for c in frame.columns if re.fullmatch(r"tabel_[1-7]", str(c)))


def _by_table(counts: pd.DataFrame, ax: Ax, title: str) -> Figure:
    """Bars per row of ``counts``, a segment per table (see :func:`it_system_chart`)."""
    frame = counts.set_index("organisation") if "organisation" in counts.columns else counts
    columns = _table_columns(frame)
    frame = frame[columns].astype(float).fillna(0)
    frame = frame[frame.sum(axis=1) > 0]
    if frame.empty:
        return _empty(ax, title)
    frame.index = [_truncate(str(i)) for i in frame.index]
    frame = frame.sort_index(key=lambda i: i.str.casefold())
    frame = _fold(_biggest_first(frame, frame.sum(axis=1)))
    numbers = [int(c.removeprefix("tabel_")) for c in columns]
    fig, ax, own = _axes(ax, _height(len(frame)))
    labels = [text("plots.it_system.table", number=n) for n in numbers]
    _stacked(ax, frame, [f"C{n - 1}" for n in numbers], labels)
    _bar_layout(ax, list(frame.index), text("plots.it_system.xlabel"))
    _finish(ax, own, title)
    return fig


def _period_layout(ax: Axes, periods: Sequence[str], ylabel: str) -> None:
    """Vertical bars per period: periods along the bottom, a Danish integer axis up the side."""
    tilted = {"rotation": 45, "ha": "right", "rotation_mode": "anchor"}  # ends at its tick
    ax.set_xticks(np.arange(len(periods)), periods, **(tilted if len(periods) > 8 else {}))
    ax.grid(axis="x", visible=False)
    ax.grid(axis="y", visible=True)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: danish.number(v)))
    ax.set_ylabel(ylabel)
    ax.margins(y=0.15)  # room for the totals above the bars
    # The axis ends on the first tick above the room for the totals, whatever the counts: its
    # top label then sits at the top edge in every such chart, so charts of the same periods
    # and legend share a layout (_same_layout), and the totals stay inside the axes.
    low, high = ax.get_ylim()
    ticks = ax.yaxis.get_major_locator().tick_values(low, high)
    ax.set_ylim(low, min((t for t in ticks if t >= high), default=high))


@_styled
def history_chart(transitions: pd.DataFrame, ax: Ax = None) -> Figure:
    """New, resolved and persisting findings per period: is the number going down?

    Parameters
    ----------
    transitions : pandas.DataFrame
        ``history.TableHistory.transitions()``: ``period``, ``rows``, ``new``, ``resolved``,
        ``persisting``, ``comparable``.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Per period (oldest left) a bar of its findings, split into those still there from the
        period before and the new ones, and beside it a bar of those resolved since then. A
        period that cannot be compared (the first, or a missing table) shows its findings in
        one colour; a period without the table says so.
    """
    title = text("plots.history.title")
    t = transitions.reset_index(drop=True)
    if t.empty:
        return _empty(ax, title)
    fig, ax, own = _axes(ax, 3.6)
    x = np.arange(len(t))
    width = 0.38
    rows = pd.to_numeric(t["rows"]).to_numpy(dtype=float, na_value=np.nan)
    comparable = t["comparable"].astype(bool).to_numpy()
    persisting = pd.to_numeric(t["persisting"]).to_numpy(dtype=float, na_value=0.0)
    new = pd.to_numeric(t["new"]).to_numpy(dtype=float, na_value=0.0)
    resolved = pd.to_numeric(t["resolved"]).to_numpy(dtype=float, na_value=0.0)
    present = ~np.isnan(rows)
    whole = present & ~comparable
    labels = text("plots.history.legend")
    # A series without a bar gets no legend entry (it would show a colour found nowhere).
    if whole.any():
        ax.bar(x[whole] - width / 2, rows[whole], width, color="C7", label=labels["rows"])
    if comparable.any():
        left = x[comparable] - width / 2
        kept = persisting[comparable]
        ax.bar(left, kept, width, color="#4a90c2", label=labels["persisting"])
        ax.bar(left, new[comparable], width, bottom=kept, color="#d6604d", label=labels["new"])
        right = x[comparable] + width / 2
        ax.bar(right, resolved[comparable], width, color="#4dac26", label=labels["resolved"])
    for i in np.flatnonzero(present):
        ax.annotate(
            danish.number(rows[i]),
            (x[i] - width / 2, rows[i]),
            ha="center",
            va="bottom",
            xytext=(0, 2),
            textcoords="offset points",
        )
    for i in np.flatnonzero(~present):
        ax.text(
            x[i],
            0,
            text("plots.history.missing"),
            rotation=90,
            ha="center",
            va="bottom",
            color=_MUTED,
            style="italic",
        )
    _period_layout(ax, list(t["period"]), text("plots.history.ylabel"))
    _finish(ax, own, title)
    if own:
        _same_layout(fig)
    return fig


def lacking_tables(table: pd.DataFrame) -> dict:
    """The tables each row of ``table`` lacks: ``{period: [5]}`` for the rows (periods) whose
    ``tabel_N`` columns hold NA, in table order; rows lacking none are left out."""
    columns = _table_columns(table)
    missing = table[columns].isna()
    return {
        period: [int(c.removeprefix("tabel_")) for c in columns if row[c]]
        for period, row in missing.iterrows()
        if row.any()
    }


@_styled
def development_chart(
    table: pd.DataFrame, ax: Ax = None, *, median_label: str | None = None
) -> Figure:
    """Findings per period, stacked by table, against the peers' median.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per period (the index, oldest first), one column ``tabel_N`` per table
        (NA where the table is missing that period) and optionally ``median``: the sum over the
        tables of the peers' median.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of in a new figure.
    median_label : str, optional
        The legend of the median line.

    Returns
    -------
    matplotlib.figure.Figure
        A bar per period, one segment per table in the table's colour, the total above it, and
        the median as a dashed line. A period missing tables says which under it ("(uden tabel
        5)").
    """
    title = text("plots.development.title")
    if table.empty:
        return _empty(ax, title)
    fig, ax, own = _axes(ax, 3.6)
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    columns = _table_columns(table)
    # A period without a table has a lower bar for that alone: said under it.
    lacking = lacking_tables(table)
    periods = [
        f"{p}\n" + text("plots.development.missing", numbers=danish.enumeration(lacking[p]))
        if p in lacking
        else str(p)
        for p in table.index
    ]
    for column in columns:
        n = int(column.removeprefix("tabel_"))
        values = pd.to_numeric(table[column]).to_numpy(dtype=float, na_value=0.0)
        ax.bar(
            x,
            values,
            0.6,
            bottom=bottom,
            color=f"C{n - 1}",
            label=text("plots.it_system.table", number=n),
        )
        bottom += values
    for i, total in enumerate(bottom):
        ax.annotate(
            danish.number(total),
            (x[i], total),
            ha="center",
            va="bottom",
            xytext=(0, 2),
            textcoords="offset points",
        )
    if "median" in table and table["median"].notna().any():
        ax.plot(
            x,
            pd.to_numeric(table["median"]).to_numpy(dtype=float, na_value=np.nan),
            color="#1a1a1a",
            linestyle="--",
            marker="o",
            label=median_label,
        )
    _period_layout(ax, periods, text("plots.overview.xlabel"))
    _finish(ax, own, title)
    if own:
        _same_layout(fig)
    return fig
