"""Charts: the bars, cells and labels drawn match the data; Danish texts; no pyplot state."""

from __future__ import annotations

import datetime as dt
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import ConstrainedLayoutEngine  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from soredi_nb import messagetypes, organisations, plots, reference, sample, summary  # noqa: E402
from soredi_nb.extract import Extract, ExtractInfo, canonical_frame  # noqa: E402
from soredi_nb.texts import text  # noqa: E402

GLN_A, GLN_B, GLN_C = "5790000123117", "5790000160921", "5790002407314"
AARHUS = {"ejer": "Aarhus Kommune", "it_system": "KMD Nexus"}


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """Every chart leaves pyplot's figure registry as it found it."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def table(number: int, rows: list[dict]) -> pd.DataFrame:
    """A canonical table of hand-made rows."""
    return canonical_frame(number, pd.DataFrame([AARHUS | r for r in rows]))


def title_of(fig: Figure) -> str:
    """The figure's title: the suptitle of a figure the chart made, else the first axes' title."""
    return fig.get_suptitle() or axes_title(fig.axes[0])


def axes_title(ax) -> str:
    """An axes' title (the shared style puts titles on the left)."""
    return ax.get_title("left")


def yticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def xticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


def texts(ax) -> list[str]:
    """Every text drawn in the axes: bar labels, cell annotations, messages."""
    return [t.get_text() for t in ax.texts]


def legend_colours(fig: Figure) -> dict[str, str]:
    """Legend label -> colour (hex) of the figure's legend."""
    legend = fig.legends[0] if fig.legends else fig.axes[0].get_legend()
    return {
        t.get_text(): to_hex(h.get_facecolor())
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }


# -- number format and helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.123, "12 %"), (0.08, "8 %"), (1.0, "100 %"), (0.004, "0,4 %"), (0, "0 %")],
)
def test_danish_percent(share, expected):
    assert plots._percent(share) == expected


def test_long_labels_are_cut_with_ellipsis_keeping_the_location_number():
    df = table(
        2, [{"lokationsnummer": GLN_A, "enhedsnavn": "Rehabiliteringscenter " * 4, "antal": 1}]
    )
    [label] = yticks(plots.closed_traffic_chart(df, 2).axes[0])
    assert label.endswith(f"… ({GLN_A})") and len(label) <= plots.LABEL_WIDTH


def test_units_sharing_a_location_number_are_one_bar():
    df = table(
        2,
        [
            {"lokationsnummer": GLN_A, "enhedsnavn": "Sundhed og Omsorg", "antal": 2},
            {"lokationsnummer": GLN_A, "enhedsnavn": "Hjemmeplejen Nord", "antal": 3},
        ],
    )
    ax = plots.closed_traffic_chart(df, 2).axes[0]
    assert yticks(ax) == [f"Sundhed og Omsorg m.fl. ({GLN_A})"]
    assert [p.get_width() for p in ax.patches] == [5]


# -- tables 2-3 ----------------------------------------------------------------------------------


def closed_rows() -> list[dict]:
    return [
        {"lokationsnummer": GLN_A, "enhedsnavn": "Tandplejen", "antal": 5, "seneste": "2024-06-01"},
        {"lokationsnummer": GLN_A, "enhedsnavn": "Tandplejen", "antal": 7, "seneste": "2024-05-01"},
        {
            "lokationsnummer": GLN_B,
            "enhedsnavn": "Bostedet",
            "antal": 1234,
            "seneste": "2024-05-20",
        },
        {
            "lokationsnummer": GLN_C,
            "enhedsnavn": "Hjemmeplejen",
            "antal": 3,
            "seneste": "2024-03-01",
        },
    ]


def test_closed_traffic_bars_biggest_first_coloured_by_recency():
    fig = plots.closed_traffic_chart(table(2, closed_rows()), 2)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.closed.title.2")
    assert yticks(ax) == [f"Bostedet ({GLN_B})", f"Tandplejen ({GLN_A})", f"Hjemmeplejen ({GLN_C})"]
    assert [p.get_width() for p in ax.patches] == [1234, 12, 3]
    assert texts(ax) == ["1.234", "12", "3"]
    # Reference date: the latest message (2024-06-01). B is 12 days old, A 0, C 92.
    buckets = text("plots.closed.buckets")
    colours = legend_colours(fig)
    expected = [buckets["month"], buckets["recent"], buckets["older"]]
    assert [to_hex(p.get_facecolor()) for p in ax.patches] == [colours[b] for b in expected]
    # Without an extract date the legend says what the days are counted from instead.
    legend = fig.legends[0].get_title().get_text()
    assert legend == "Seneste meddelelse (dage før den seneste i tabellen, 2024-06-01)"
    assert ax.get_xlabel() == text("plots.closed.xlabel")


def test_closed_traffic_reference_date_and_outgoing_title():
    fig = plots.closed_traffic_chart(table(3, closed_rows()), 3, reference_date="2024-07-15")
    assert title_of(fig) == text("plots.closed.title.3")
    assert list(legend_colours(fig)) == [text("plots.closed.buckets.older")]
    legend = fig.legends[0].get_title().get_text()
    assert legend == "Seneste meddelelse (dage før udtræksdatoen 2024-07-15)"


def test_bars_beyond_the_limit_are_summed_as_others():
    rows = [
        {"lokationsnummer": f"57900001{i:05d}", "enhedsnavn": f"Enhed {i:02d}", "antal": i}
        for i in range(1, 21)
    ]
    ax = plots.closed_traffic_chart(table(2, rows), 2).axes[0]
    assert len(ax.patches) == plots.MAX_BARS
    widths = [p.get_width() for p in ax.patches]
    assert widths[:-1] == list(range(20, 6, -1))
    assert widths[-1] == sum(range(1, 7))
    assert yticks(ax)[-1] == "Øvrige (6)"


# -- tables 4-5 ----------------------------------------------------------------------------------


def test_received_types_matrix_sums_messages():
    df = table(
        5,
        [
            {
                "lokationsnummer": GLN_A,
                "enhedsnavn": "Misbrugscenter",
                "meddelelsestype": "XDIS91",
                "antal": 3,
            },
            {
                "lokationsnummer": GLN_A,
                "enhedsnavn": "Misbrugscenter",
                "meddelelsestype": "xdis91 - Korrespondancemeddelelse",
                "antal": 4,
            },
            {
                "lokationsnummer": GLN_A,
                "enhedsnavn": "Misbrugscenter",
                "meddelelsestype": "FDIS20 Advis om sygehusophold",
                "antal": 2,
            },
            {
                "lokationsnummer": GLN_B,
                "enhedsnavn": "Tandreguleringen",
                "meddelelsestype": "Korrespondancemeddelelse",
                "antal": 1,
            },
        ],
    )
    fig = plots.type_matrix_chart(df, 5)
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.matrix.title.5")
    assert yticks(ax) == [f"Misbrugscenter ({GLN_A})", f"Tandreguleringen ({GLN_B})"]
    # A name shared by several codes has no code: the column is the text as written.
    assert xticks(ax) == ["XDIS91", "FDIS20", "Korrespondancemed…"]
    cells = ax.images[0].get_array()
    np.testing.assert_array_equal(cells.filled(np.nan), [[7, 2, np.nan], [np.nan, np.nan, 1]])
    assert sorted(texts(ax)) == ["1", "2", "7"]
    assert ax.get_xlabel() == text("plots.matrix.xlabel.5")


def test_registered_types_matrix_marks_presence_and_folds_columns():
    codes = list(reference.message_types()["kode"][:14])
    rows = [
        {"lokationsnummer": GLN_A, "enhedsnavn": "Alkoholbehandlingen", "meddelelsestype": c}
        for c in codes
    ]
    rows.append(rows[0] | {"format": "OIOXML"})  # a duplicate registration is still one ✓
    fig = plots.type_matrix_chart(table(4, rows), 4)
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.matrix.title.4")
    columns = xticks(ax)
    assert len(columns) == plots.MAX_COLUMNS and columns[-1] == "Øvrige (3)"
    assert columns[:-1] == sorted(codes)[:11]  # equal totals: alphabetical
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1] * 11 + [3]])
    assert texts(ax) == [text("plots.matrix.presence")] * 11 + ["3"]


# -- tables 6-7 ----------------------------------------------------------------------------------


def receipts_rows() -> list[dict]:
    return [
        {
            "lokationsnummer": GLN_A,
            "meddelelsestype": "XDIS91",
            "modpart": "Odense Kommune",
            "modpart_lokationsnummer": GLN_C,
            "antal": 4,
            "antal_i_alt": 40,
        },
        {
            "lokationsnummer": GLN_A,
            "meddelelsestype": "XDIS91",
            "modpart_lokationsnummer": GLN_B,
            "antal": 2,
        },
        {
            "lokationsnummer": GLN_A,
            "meddelelsestype": "FDIS20",
            "modpart": "Odense Kommune",
            "modpart_lokationsnummer": GLN_C,
            "antal": 6,
            "antal_i_alt": 20,
        },
    ]


def test_negative_receipts_per_type_and_counterpart_with_share():
    fig = plots.negative_receipts_chart(table(6, receipts_rows()), 6)
    assert title_of(fig) == text("plots.receipts.title.6")
    by_type, by_counterpart = fig.axes
    assert axes_title(by_type) == text("plots.receipts.by_type")
    assert axes_title(by_counterpart) == text("plots.receipts.by_counterpart.6")
    # Equal counts keep alphabetical order. Shares count only rows whose total is known.
    assert yticks(by_type) == [messagetypes.display("FDIS20"), messagetypes.display("XDIS91")]
    assert [p.get_width() for p in by_type.patches] == [6, 6]
    assert texts(by_type) == ["6 (30 %)", "6 (10 %)"]
    assert yticks(by_counterpart) == ["Odense Kommune", GLN_B]
    assert [p.get_width() for p in by_counterpart.patches] == [10, 2]
    assert texts(by_counterpart) == ["10 (17 %)", "2"]
    # What the percentages are of, on the axis (and so in the chart's text alternative).
    assert by_counterpart.get_xlabel() == text("plots.receipts.xlabel_share")
    assert "andel af meddelelserne" in plots.describe(fig)
    # Without any known total there are no percentages to explain.
    unknown = [{k: v for k, v in r.items() if k != "antal_i_alt"} for r in receipts_rows()]
    fig = plots.negative_receipts_chart(table(6, unknown), 6)
    xlabel = fig.axes[-1].get_xlabel()
    assert xlabel == text("plots.receipts.xlabel") == "Antal negative kvitteringer"


def test_negative_receipts_sent_title_and_split_of_a_callers_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.negative_receipts_chart(table(7, receipts_rows()), 7, ax=ax) is fig
    assert len(fig.axes) == 2 and ax not in fig.axes
    assert text("plots.receipts.title.7") in texts(fig.axes[0]) and not fig.get_suptitle()
    assert axes_title(fig.axes[1]) == text("plots.receipts.by_counterpart.7")


# -- table 1 -------------------------------------------------------------------------------------


def test_active_without_types_by_it_system_and_age():
    df = table(
        1,
        [
            {"lokationsnummer": GLN_A, "oprettet": "2024-03-01"},
            {"lokationsnummer": GLN_A, "oprettet": "2024-03-01", "enhedsnavn": "Samme nummer"},
            {"lokationsnummer": GLN_B, "oprettet": "2015-01-01"},
            {"lokationsnummer": GLN_C, "it_system": None},
        ],
    )
    fig = plots.active_without_types_chart(df, reference_date="2024-06-01")
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.active.title")
    assert yticks(ax) == ["KMD Nexus", text("plots.active.no_system")]
    buckets = text("plots.active.buckets")
    segments = {c.get_label(): [p.get_width() for p in c] for c in ax.containers}
    assert segments == {buckets["new"]: [1, 0], buckets["old"]: [1, 0], buckets["unknown"]: [0, 1]}
    assert texts(ax) == ["2", "1"]
    # The age is counted from the extract date, and the legend says so and shows it.
    legend = fig.legends[0].get_title().get_text()
    assert legend == "Oprettet (regnet fra udtræksdatoen 2024-06-01)"


def test_active_without_an_extract_date_counts_from_today():
    df = table(1, [{"lokationsnummer": GLN_A, "oprettet": "2024-03-01"}])
    fig = plots.active_without_types_chart(df)
    today = dt.date.today().strftime("%Y-%m-%d")
    assert fig.legends[0].get_title().get_text() == f"Oprettet (regnet fra i dag, {today})"


# -- overview charts -----------------------------------------------------------------------------


def test_overview_against_what_is_typical_with_a_missing_table():
    """The comparison is the typical figure among the peers with findings, not the median,
    which is 0 wherever most peers have none."""
    tasks = pd.DataFrame(
        {
            "number": [1, 2, 3],
            "name": ["a", "b", "c"],
            "rows": [3, 0, 0],
            "median_rows": [0.0, 0.0, None],
            "median_with_findings": [1.5, 2.0, None],
            "missing": [False, False, True],
        }
    )
    fig = plots.overview_chart(tasks)
    ax = fig.axes[0]
    assert title_of(fig) == "Fund pr. tabel sammenlignet med det typiske blandt de andre med fund"
    assert yticks(ax) == ["Tabel 1", "Tabel 2", "Tabel 3"]
    own, typical = ax.containers
    assert own.get_label() == "Jeres fund"
    assert typical.get_label() == "Typisk blandt de andre med fund"  # as the status table says
    assert [p.get_width() for p in own] == [3, 0]
    assert [p.get_width() for p in typical] == [1.5, 2.0]
    assert texts(ax) == ["3", "0", "1,5", "2", text("plots.overview.missing")]


def test_overview_of_an_owner_alone_of_its_type_compares_with_nobody():
    """No other owner of its type: its own findings, no typical bar, not "the whole extract"."""
    tasks = pd.DataFrame(
        {
            "number": [1, 2],
            "rows": [3, 0],
            "median_rows": [3.0, 0.0],
            "median_with_findings": [None, None],
            "missing": [False, False],
        }
    )
    fig = plots.overview_chart(tasks)
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.overview.title_national")
    assert [c.get_label() for c in ax.containers] == ["Jeres fund"]
    assert [p.get_width() for p in ax.patches] == [3, 0]


def test_overview_without_medians_is_the_whole_extract():
    tasks = pd.DataFrame(
        {
            "number": [2, 1],
            "rows": [5, 1234],
            "median_with_findings": [None, None],
            "missing": [False] * 2,
        }
    )
    fig = plots.overview_chart(tasks)
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.overview.title_national")
    assert [c.get_label() for c in ax.containers] == [text("plots.overview.national")]
    assert [p.get_width() for p in ax.patches] == [1234, 5]
    assert texts(ax) == ["1.234", "5"]


def test_it_system_chart_accepts_list_organisations_output():
    counts = pd.DataFrame(
        {
            "organisation": ["Cura", "KMD Nexus", "Tomt"],
            "tabel_1": [0, 2, 0],
            "tabel_2": [1, 3, 0],
            "i_alt": [1, 5, 0],
            "lokationsnumre": [1, 4, 0],
        }
    )
    for frame in (counts, counts.set_index("organisation")[["tabel_1", "tabel_2"]]):
        fig = plots.it_system_chart(frame)
        ax = fig.axes[0]
        assert title_of(fig) == text("plots.it_system.title")
        assert yticks(ax) == ["KMD Nexus", "Cura"]
        segments = {c.get_label(): [p.get_width() for p in c] for c in ax.containers}
        assert segments == {"Tabel 1": [2, 0], "Tabel 2": [3, 1]}
        assert texts(ax) == ["5", "1"]


def test_it_system_chart_folds_small_systems():
    counts = pd.DataFrame({"tabel_3": range(1, 21)}, index=[f"System {i:02d}" for i in range(20)])
    ax = plots.it_system_chart(counts).axes[0]
    assert yticks(ax)[-1] == "Øvrige (6)" and len(yticks(ax)) == plots.MAX_BARS
    assert ax.patches[-1].get_width() == sum(range(1, 7))


# -- empty, missing, dispatch, state -------------------------------------------------------------


@pytest.mark.parametrize("number", range(1, 8))
def test_empty_table_says_no_findings(number):
    fig = plots.task_chart(canonical_frame(number, pd.DataFrame()), number)
    assert isinstance(fig, Figure)
    assert text("plots.no_findings") in texts(fig.axes[0])


@pytest.mark.parametrize(
    "chart",
    [
        lambda: plots.overview_chart(
            pd.DataFrame(columns=["number", "rows", "median_with_findings"])
        ),
        lambda: plots.it_system_chart(pd.DataFrame({"organisation": ["Cura"], "tabel_1": [0]})),
    ],
)
def test_empty_overviews_say_no_findings(chart):
    assert text("plots.no_findings") in texts(chart().axes[0])


def test_missing_table_says_so():
    fig = plots.task_chart(None, 4)
    assert texts(fig.axes[0]) == ["Tabel 4 mangler i udtrækket og kan ikke vurderes."]


def test_task_chart_dispatches_and_refuses_unknown_tables():
    assert title_of(plots.task_chart(table(2, closed_rows()), 2)) == text("plots.closed.title.2")
    assert title_of(plots.task_chart(table(6, receipts_rows()), 6)) == text(
        "plots.receipts.title.6"
    )
    with pytest.raises(ValueError):
        plots.task_chart(table(2, closed_rows()), 8)
    with pytest.raises(ValueError):
        plots.closed_traffic_chart(table(2, closed_rows()), 4)


def test_draws_into_a_callers_axes_without_changing_rcparams():
    before = dict(matplotlib.rcParams)
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.closed_traffic_chart(table(2, closed_rows()), 2, ax=ax) is fig
    assert axes_title(ax) == text("plots.closed.title.2") and not fig.get_suptitle()
    assert dict(matplotlib.rcParams) == before


def test_figures_display_as_png_in_ipython(monkeypatch):
    """A bare Figure shows as an image in a notebook even before pyplot is used."""
    IPython = pytest.importorskip("IPython")
    from IPython.core.formatters import DisplayFormatter

    class Shell:
        display_formatter = DisplayFormatter()

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell)
    fig = plots.task_chart(table(2, closed_rows()), 2)
    data, _ = Shell.display_formatter.format(fig)
    assert data["image/png"][:4] == b"\x89PNG"


def _image(data: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def _ink(image) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) of what is drawn on a white image."""
    return image.point(lambda v: 255 - v).getbbox()


@pytest.mark.parametrize("number", [1, 2, 4, 6])
def test_chart_png_is_what_the_inline_backend_prints(number):
    """Drawn once, a chart's PNG shows what ``bbox_inches="tight"``'s shows, nothing cut off."""
    from IPython.core.pylabtools import print_figure

    df = table(2, closed_rows()) if number == 2 else None
    if number != 2:
        df = sample.make_sample()["tables"][number]
        df = canonical_frame(number, df[df["ejer"] == "Aarhus Kommune"])
    ours = _image(plots.png(plots.task_chart(df, number, reference_date="2026-11-06")))
    inline = _image(print_figure(plots.task_chart(df, number, reference_date="2026-11-06")))
    # The same drawing: its extent differs by a few pixels at most (the backend's second draw,
    # in the area it cut out, sets a legend outside the axes a few pixels apart).
    (left, top, right, bottom), (l2, t2, r2, b2) = _ink(ours), _ink(inline)
    assert abs((right - left) - (r2 - l2)) <= 8 and abs((bottom - top) - (b2 - t2)) <= 8
    # The backend's padding around it, to the pixel; the image is the drawing and its margin.
    pad = round(matplotlib.rcParams["savefig.pad_inches"] * 100)
    assert (left, top) == (pad, pad) and ours.size == (right + pad, bottom + pad)
    assert abs(ours.size[0] - inline.size[0]) <= 10 and abs(ours.size[1] - inline.size[1]) <= 10


def test_png_of_a_figure_drawn_beyond_its_edges_grows_to_show_it():
    """Text outside the figure is kept, as the inline backend keeps it: the image grows."""
    fig = Figure(figsize=(4, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_ylabel("a label pushed out of the figure", labelpad=200)
    image = _image(plots.png(fig))
    assert image.size[0] > 4 * fig.dpi
    assert plots.png(Figure()) is None  # nothing to show, as in the inline backend


# -- the sample --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_extract() -> Extract:
    tables = {n: canonical_frame(n, df) for n, df in sample.make_sample()["tables"].items()}
    return Extract(ExtractInfo("sample.xlsx", "0" * 64), tables)


@pytest.mark.parametrize("number", range(1, 8))
def test_sample_charts_for_aarhus(sample_extract, number):
    df = sample_extract.tables[number]
    fig = plots.task_chart(df[df["ejer"] == "Aarhus Kommune"], number, reference_date="2026-11-06")
    assert isinstance(fig, Figure)
    assert fig.get_size_inches()[0] == plots.WIDTH and fig.dpi == 100
    assert all(len(yticks(ax)) <= plots.MAX_BARS for ax in fig.axes)


def test_sample_overviews(sample_extract):
    s = summary.summarise(sample_extract, "Aarhus Kommune")
    tasks = pd.DataFrame([t.__dict__ for t in s.tasks])
    fig = plots.overview_chart(tasks)
    own, typical = fig.axes[0].containers
    assert [p.get_width() for p in own] == list(tasks["rows"])
    assert [p.get_width() for p in typical] == list(tasks["median_with_findings"])
    counts = organisations.list_organisations(sample_extract, by="it_system")
    fig = plots.it_system_chart(counts)
    assert len(fig.axes[0].containers) == 7


# -- names from the extract are drawn as written ------------------------------------------------

# A name mathtext would draw as x², and one it cannot parse at all (the figure would fail).
MATH_NAMES = ["$x^2$", r"$\frac{1}{$"]


def drawn_dollar_texts(fig: Figure) -> list[Text]:
    """Draw ``fig`` to PNG (it must not fail) and return its texts holding a ``$``."""
    fig.savefig(io.BytesIO(), format="png")
    return [t for t in fig.findobj(Text) if "$" in t.get_text()]


def hostile_tables(name: str) -> dict[int, pd.DataFrame]:
    """Tables 1-7 with ``name`` as unit, IT system, counterpart and message type."""
    base = {"lokationsnummer": GLN_A, "enhedsnavn": name, "it_system": name, "antal": 3}
    extra = {
        2: {"seneste": "2024-06-01"},
        3: {"seneste": "2024-06-01"},
        4: {"meddelelsestype": name},
        5: {"meddelelsestype": name},
        6: {"meddelelsestype": name, "modpart": name, "modpart_lokationsnummer": GLN_B},
        7: {"meddelelsestype": name, "modpart": name, "modpart_lokationsnummer": GLN_B},
    }
    return {n: table(n, [base | extra.get(n, {})]) for n in range(1, 8)}


@pytest.mark.parametrize("name", MATH_NAMES)
@pytest.mark.parametrize("number", range(1, 8))
def test_extract_names_are_drawn_as_written(name, number):
    fig = plots.task_chart(hostile_tables(name)[number], number, reference_date="2024-06-01")
    drawn = drawn_dollar_texts(fig)
    labels = [label for ax in fig.axes for label in yticks(ax) + xticks(ax)]
    expected = {
        1: [name],
        2: [f"{name} ({GLN_A})"],
        3: [f"{name} ({GLN_A})"],
        4: [f"{name} ({GLN_A})", name],
        5: [f"{name} ({GLN_A})", name],
        6: [name, name],
        7: [name, name],
    }[number]
    assert [label for label in labels if "$" in label] == expected
    assert drawn and all(t.get_parse_math() is False for t in drawn)


@pytest.mark.parametrize("name", MATH_NAMES)
def test_overview_names_are_drawn_as_written(name):
    counts = pd.DataFrame({"organisation": [name, "Cura"], "tabel_1": [2, 1]})
    fig = plots.it_system_chart(counts)
    assert yticks(fig.axes[0]) == [name, "Cura"]
    drawn = drawn_dollar_texts(fig)
    assert drawn and all(t.get_parse_math() is False for t in drawn)


def test_names_are_literal_in_a_callers_axes_and_the_callers_math_is_kept():
    """Tick labels the caller's axes had before (made outside our style) are made literal too."""
    fig = Figure()
    theirs, ours = fig.subplots(1, 2)
    theirs.set_title("$\\alpha$")
    ours.tick_params(labelsize=8)  # creates the tick labels, with the caller's rcParams
    plots.task_chart(hostile_tables(MATH_NAMES[1])[2], 2, ax=ours)
    drawn = drawn_dollar_texts(fig)
    assert [t.get_text() for t in drawn if t.get_parse_math()] == ["$\\alpha$"]
    assert yticks(ours) == [f"{MATH_NAMES[1]} ({GLN_A})"]


def test_describe_says_what_a_chart_shows():
    """The text alternative of a chart: title, panels, axis and legend, in Danish."""
    df = pd.DataFrame(
        {
            "lokationsnummer": ["5790000123117"] * 2,
            "meddelelsestype": ["XDIS91", "XDIS20"],
            "modpart": ["OUH", "AUH"],
            "modpart_lokationsnummer": ["5790000000005", "5790000000012"],
            "antal": [3, 1],
            "antal_i_alt": [10, 4],
        }
    )
    alt = plots.describe(plots.task_chart(df, 6))
    assert alt == (
        "Diagram: Modtagne negative kvitteringer, seneste måned. Pr. meddelelsestype. "
        "Pr. modpart, der har afvist meddelelserne. Vandret akse: Antal negative kvitteringer "
        "(i parentes: deres andel af meddelelserne)."
    )
    assert plots.describe(Figure()) == "Diagram: uden titel."


def test_history_chart_splits_each_period_into_kept_new_and_resolved():
    transitions = pd.DataFrame(
        {
            "period": ["2026-08", "2026-09", "2026-10"],
            "rows": pd.array([5, None, 4], dtype="Int64"),
            "new": pd.array([None, None, None], dtype="Int64"),
            "resolved": pd.array([None, None, None], dtype="Int64"),
            "persisting": pd.array([None, None, None], dtype="Int64"),
            "comparable": [False, False, False],
        }
    )
    transitions.loc[2, ["new", "resolved", "persisting"]] = [1, 2, 3]
    transitions.loc[2, "comparable"] = True
    fig = plots.history_chart(transitions)
    ax = fig.axes[0]
    assert title_of(fig) == text("plots.history.title")
    legend = text("plots.history.legend")
    heights = {c.get_label(): [p.get_height() for p in c] for c in ax.containers}
    # The first period cannot be compared (one bar); September lacks the table (no bar, a note);
    # October: 3 kept + 1 new, and 2 resolved beside them.
    assert heights == {
        legend["rows"]: [5],
        legend["persisting"]: [3],
        legend["new"]: [1],
        legend["resolved"]: [2],
    }
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-08", "2026-09", "2026-10"]
    assert text("plots.history.missing") in texts(ax) and "5" in texts(ax) and "4" in texts(ax)
    assert plots.describe(fig).startswith("Diagram: " + text("plots.history.title"))


def _transitions(rows: list[int]) -> pd.DataFrame:
    """Transitions of a table over as many months as ``rows``, every month comparable."""
    n = len(rows)
    return pd.DataFrame(
        {
            "period": [f"2026-{m:02d}" for m in range(1, n + 1)],
            "rows": pd.array(rows, dtype="Int64"),
            "new": pd.array([1] * n, dtype="Int64"),
            "resolved": pd.array([2] * n, dtype="Int64"),
            "persisting": pd.array([r - 1 for r in rows], dtype="Int64"),
            "comparable": [True] * n,
        }
    )


def test_history_chart_names_only_the_series_it_draws():
    fig = plots.history_chart(_transitions([3, 2, 2]).assign(comparable=[False, True, True]))
    legend = text("plots.history.legend")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        legend[k] for k in ("rows", "persisting", "new", "resolved")
    ]
    # Every period compared with the one before: no bar (and no legend entry) of the first kind.
    fig = plots.history_chart(_transitions([3, 2, 2]))
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        legend[k] for k in ("persisting", "new", "resolved")
    ]


def test_a_chart_with_the_same_texts_around_it_reuses_the_layout_and_looks_the_same():
    plots._LAYOUTS.clear()
    first = plots.history_chart(_transitions([12, 11, 9, 10]))
    assert isinstance(first.get_layout_engine(), ConstrainedLayoutEngine)
    image = plots.png(first)
    # Other counts, the same tick labels, legend and titles: laid out as the first, not again.
    again = plots.history_chart(_transitions([12, 11, 9, 10]))
    assert not isinstance(again.get_layout_engine(), ConstrainedLayoutEngine)
    assert [a.get_position().bounds for a in again.axes] == [
        a.get_position().bounds for a in first.axes
    ]
    assert plots.png(again) == image  # byte for byte
    # Other counts, tick labels of the same shape (0-16 against 0-14): the same layout too.
    other = plots.history_chart(_transitions([13, 11, 9, 10]))
    plots.png(other)
    assert yticks(other.axes[0])[-1] == "16" and yticks(first.axes[0])[-1] == "14"
    assert not isinstance(other.get_layout_engine(), ConstrainedLayoutEngine)
    # The axis ends on a tick, so the top label sits at the top edge in every such chart.
    assert other.axes[0].get_ylim()[1] == 16
    # The first tick above the room for the totals: one finding gets an axis up to 2, not 1.
    ones = _transitions([1, 1, 1]).assign(resolved=pd.array([0, 0, 0], dtype="Int64"))
    assert plots.history_chart(ones).axes[0].get_ylim() == (0, 2)
    # Four-digit counts need a wider axis: a layout of their own, nothing cut off.
    wide = plots.history_chart(_transitions([1200, 1100, 900, 1000]))
    assert isinstance(wide.get_layout_engine(), ConstrainedLayoutEngine)
    assert wide.axes[0].get_position().x0 > first.axes[0].get_position().x0
    # Another period, another layout.
    longer = plots.history_chart(_transitions([12, 11, 9, 10, 8]))
    assert isinstance(longer.get_layout_engine(), ConstrainedLayoutEngine)


def test_development_and_organisations_charts_stack_the_tables():
    table = pd.DataFrame(
        {"tabel_1": [2, 1], "tabel_5": [pd.NA, 3], "median": [1.0, 1.5]},
        index=["2026-09", "2026-10"],
    )
    fig = plots.development_chart(table, median_label="Sum af medianer")
    ax = fig.axes[0]
    bars = {c.get_label(): [p.get_height() for p in c] for c in ax.containers}
    assert bars == {"Tabel 1": [2, 1], "Tabel 5": [0, 3]}
    # The period without table 5 says so: its lower bar is not an improvement.
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-09\n(uden tabel 5)", "2026-10"]
    assert [t for t in texts(ax) if t.isdigit()] == ["2", "4"]  # the totals above the bars
    [line] = ax.get_lines()
    assert list(line.get_ydata()) == [1.0, 1.5] and line.get_label() == "Sum af medianer"
    counts = pd.DataFrame(
        {"organisation": ["Aarhus Kommune", "Tom"], "tabel_1": [2, 0], "tabel_2": [1, 0]}
    )
    fig = plots.organisations_chart(counts)
    assert title_of(fig) == text("plots.organisations.title")
    assert yticks(fig.axes[0]) == ["Aarhus Kommune"]  # without findings: left out


def test_front_page_chart_counts_every_row_of_the_organisation_table(tmp_path, monkeypatch):
    """The whole extract's overview charts every row of its organisation table, the owners
    grouped by type ("Øvrige ejere af typen Privat") too: its bars add up to the table's total."""
    from soredi_nb import national, notebook

    path = sample.write_sample(tmp_path / "udtraek.xlsx")
    charted = []
    chart = plots.organisations_chart
    monkeypatch.setattr(plots, "organisations_chart", lambda t: charted.append(t) or chart(t))
    page = notebook.OverviewPage(extract_path=path)
    page.organisations()
    [table] = charted
    whole = national.organisation_table(page.extract)
    assert table["i_alt"].sum() == whole["i_alt"].sum() > 0
    assert table["identity"].isna().any()  # a grouped row is among them
    ax = chart(table).axes[0]
    assert sum(p.get_width() for c in ax.containers for p in c) == whole["i_alt"].sum()
