import datetime as dt
import re
import sys
import types

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from factories import AARHUS  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from soredi_nb.extract import ExtractInfo, canonical_frame  # noqa: E402
from soredi_nb.texts import text  # noqa: E402
from soredi_nb.widgets import FilterPanel  # noqa: E402

ALL, NOT_GIVEN = "Alle", "(ikke angivet)"
KORR = "XDIS91 – Korrespondancemeddelelse"

TABLE_2 = [
    dict(
        AARHUS,
        lokationsnummer="5790000123117",
        enhedsnavn="Hjemmeplejen Nord",
        meddelelsestype="XDIS91",
        antal=5,
    ),
    dict(
        AARHUS,
        lokationsnummer="5790000123117",
        enhedsnavn="Hjemmeplejen Nord",
        meddelelsestype="XDIS20 Sygehusadvis",
        antal=3,
    ),
    dict(
        AARHUS,
        lokationsnummer="5790000160921",
        enhedsnavn="Tandplejen Aarhus",
        it_system="Cura",
        meddelelsestype="XDIS91 Korrespondancemeddelelse",
        antal=7,
    ),
    dict(
        AARHUS,
        lokationsnummer="5790002407314",
        enhedsnavn="Sundhedsplejen",
        meddelelsestype="FDIS20",
        antal=1,
    ),
    dict(
        AARHUS,
        lokationsnummer="5790000126330",
        enhedsnavn="Ældrecenter Øst",
        it_system=None,
        meddelelsestype="xdis91",
        antal=2,
    ),
]


def bar_count(fig: Figure) -> int:
    """Bars drawn in the figure (one per category, however the chart is oriented)."""
    bars = [p for ax in fig.axes for p in ax.patches]
    widths = {round(p.get_width(), 9) for p in bars}
    pos = (lambda p: p.get_x()) if len(widths) == 1 else (lambda p: p.get_y())
    return len({round(pos(p), 9) for p in bars})


@pytest.fixture
def charts(monkeypatch):
    """Stand-in for ``plots.task_chart``: one bar per location number; records what it got."""
    calls = []

    def task_chart(df, number, ax=None, reference_date=None):
        calls.append((df.copy(), number))
        fig = Figure()
        ax = fig.subplots()
        groups = df.groupby("lokationsnummer")
        sums = groups["antal"].sum() if "antal" in df else groups.size()
        ax.barh(list(sums.index), [float(v) for v in sums])
        return fig

    monkeypatch.setitem(
        sys.modules, "soredi_nb.plots", types.SimpleNamespace(task_chart=task_chart)
    )
    return calls


@pytest.fixture
def panel(charts):
    return FilterPanel(canonical_frame(2, pd.DataFrame(TABLE_2)), 2)


def locations(df):
    return sorted(set(df["lokationsnummer"]))


def html(output) -> str:
    return "".join(o["data"].get("text/html", "") for o in output.outputs)


def test_options_come_from_the_data_in_danish_order(panel):
    assert panel.it_system.options == (ALL, "Cura", "KMD Nexus", NOT_GIVEN)
    assert panel.message_type.options == (
        ALL,
        "FDIS20 – Advis om sygehusophold",
        "XDIS20 – Sygehusadvis",
        KORR,
    )
    assert panel.unit.options == (
        ALL,
        "Hjemmeplejen Nord",
        "Sundhedsplejen",
        "Tandplejen Aarhus",
        "Ældrecenter Øst",
    )
    assert (panel.it_system.description, panel.message_type.description) == (
        "It-system",
        "Meddelelsestype",
    )
    assert (panel.unit.description, panel.search.description) == ("Enhed", "Søg")
    assert panel.it_system.value == panel.unit.value == ALL


def test_initial_state_shows_everything(panel, charts):
    assert len(panel.filtered()) == 5
    assert panel.figures() == (5, 4, 18)
    assert panel.figures_html.value == (
        "<b>5 fund</b> · <b>4 lokationsnumre</b> · <b>18 meddelelser</b>"
    )
    assert len(charts) == 1 and len(charts[0][0]) == 5
    assert "5790000126330" in html(panel.table_output)
    assert panel.chart_output.outputs[0]["data"]["image/png"]


def test_it_system_filter_updates_rows_figures_table_and_chart(panel, charts):
    panel.it_system.value = "KMD Nexus"
    rows = panel.filtered()
    assert locations(rows) == ["5790000123117", "5790002407314"]
    assert panel.figures() == (3, 2, 9)
    assert bar_count(panel.chart()) == rows["lokationsnummer"].nunique() == 2
    assert charts[-1][0].equals(rows) and charts[-1][1] == 2
    table = html(panel.table_output)
    assert "5790002407314" in table and "5790000160921" not in table
    assert panel.figures_html.value == (
        "<b>3 fund</b> · <b>2 lokationsnumre</b> · <b>9 meddelelser</b>"
        " <i>(filtreret; 5 fund i alt)</i>"
    )


def test_message_type_filter_joins_spellings_of_one_type(panel):
    panel.message_type.value = KORR
    assert panel.filtered()["antal"].tolist() == [5, 7, 2]
    assert panel.figures() == (3, 3, 14)
    assert bar_count(panel.chart()) == 3


def test_not_given_keeps_rows_without_a_value(panel):
    panel.it_system.value = NOT_GIVEN
    assert locations(panel.filtered()) == ["5790000126330"]
    assert panel.figures() == (1, 1, 2)
    assert "<b>1 lokationsnummer</b> ·" in panel.figures_html.value


def test_filters_combine_and_alle_restores_everything(panel):
    panel.it_system.value = "KMD Nexus"
    panel.unit.value = "Sundhedsplejen"
    assert panel.figures() == (1, 1, 1)
    panel.unit.value = "Tandplejen Aarhus"
    assert panel.figures() == (0, 0, 0)
    assert panel.figures_html.value == "Ingen fund med de valgte filtre."
    assert panel.table_output.outputs == () and panel.chart_output.outputs == ()
    panel.it_system.value = ALL
    panel.unit.value = ALL
    assert panel.filtered().equals(panel.df)
    assert panel.figures() == (5, 4, 18)
    assert bar_count(panel.chart()) == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0921", ["5790000160921"]),
        ("579000012", ["5790000123117", "5790000126330"]),
        ("tandPLEJEN", ["5790000160921"]),
        ("plejen", ["5790000123117", "5790000160921", "5790002407314"]),
        ("aeldrecenter", ["5790000126330"]),
        ("ØST", ["5790000126330"]),
        ("  ", ["5790000123117", "5790000126330", "5790000160921", "5790002407314"]),
        ("findes ikke", []),
    ],
)
def test_search_on_location_number_and_unit_name(panel, query, expected):
    panel.search.value = query
    assert locations(panel.filtered()) == expected


def test_search_combines_with_dropdowns(panel):
    panel.search.value = "plejen"
    panel.it_system.value = "Cura"
    assert panel.figures() == (1, 1, 7)


def test_refresh_rerenders_outputs(panel, charts):
    table_before, chart_before = panel.table_output.outputs, panel.chart_output.outputs
    figures_before = panel.figures_html.value
    panel.message_type.value = "FDIS20 – Advis om sygehusophold"
    assert panel.table_output.outputs != table_before
    assert panel.chart_output.outputs != chart_before
    assert panel.figures_html.value != figures_before
    assert len(charts) == 2 and locations(charts[-1][0]) == ["5790002407314"]
    assert "5790000123117" not in html(panel.table_output)


def test_widget_is_assembled(panel):
    filters, figures, table, chart = panel.widget.children
    assert list(filters.children) == [panel.it_system, panel.message_type, panel.unit, panel.search]
    assert (figures, table, chart) == (panel.figures_html, panel.table_output, panel.chart_output)


def test_table_without_message_types_and_counts(charts):
    df = canonical_frame(1, pd.DataFrame([dict(AARHUS, lokationsnummer="5790000123117")] * 2))
    panel = FilterPanel(df, 1)
    assert panel.message_type is None
    assert panel.message_type not in panel.widget.children[0].children
    assert panel.figures() == (2, 1, None)
    assert panel.figures_html.value == "<b>2 fund</b> · <b>1 lokationsnummer</b>"


def test_negative_receipts_are_named_as_such(charts):
    df = canonical_frame(6, pd.DataFrame([dict(AARHUS, lokationsnummer="5790000123117", antal=1)]))
    assert FilterPanel(df, 6).figures_html.value == (
        "<b>1 fund</b> · <b>1 lokationsnummer</b> · <b>1 negativ kvittering</b>"
    )


def test_missing_and_empty_tables(charts):
    missing = FilterPanel(None, 3)
    assert missing.figures() == (0, 0, None)
    assert missing.figures_html.value == "Tabel 3 mangler i udtrækket og kan ikke vurderes."
    assert missing.table_output.outputs == () and missing.chart_output.outputs == ()
    assert missing.widget.children[0] is missing.figures_html
    empty = FilterPanel(canonical_frame(5, pd.DataFrame()), 5)
    assert empty.it_system.options == (ALL,)
    assert empty.figures() == (0, 0, 0)
    assert empty.figures_html.value == "Ingen fund i denne tabel."
    assert charts == []


def test_real_chart_has_one_bar_per_location_number():
    plots = pytest.importorskip("soredi_nb.plots")
    if not hasattr(plots, "task_chart"):
        pytest.skip("soredi_nb.plots has no task_chart yet")
    panel = FilterPanel(canonical_frame(2, pd.DataFrame(TABLE_2)), 2)
    panel.it_system.value = "KMD Nexus"
    fig = panel.chart()
    assert isinstance(fig, Figure)
    assert bar_count(fig) == panel.filtered()["lokationsnummer"].nunique() == 2


def test_table_is_danish_and_escapes_text_from_the_extract(charts):
    row = dict(AARHUS, lokationsnummer="5790000123117", enhedsnavn="Læger & Co <i>")
    table = html(FilterPanel(canonical_frame(4, pd.DataFrame([row])), 4).table_output)
    assert ">Læger &amp; Co &lt;i&gt;<" in table  # the static fallback, escaped exactly once
    assert "&lt;i&gt;" in table and "Co <i>" not in table
    assert '"search": "S\\u00f8g:"' in table  # DataTables' own labels in Danish
    # As the page's table: identifiers are text (left-aligned), and a one-row table only sorts.
    assert re.search(r'"columnDefs": \[{"targets": \[0, 1[^]]*\], "type": "string"', table)
    assert '"soredi-hint"' in table and "kolonneoverskrift for at sortere" in table
    assert '"topEnd": null' in table  # no search box on one row


def test_a_long_table_in_the_panel_has_no_search_box_of_its_own(charts):
    """The panel searches itself: a second search box on its table would only confuse."""
    rows = [dict(TABLE_2[0], lokationsnummer=f"57900001{i:05d}") for i in range(12)]
    table = html(FilterPanel(canonical_frame(2, pd.DataFrame(rows)), 2).table_output)
    assert '"topEnd": null' in table and '"search": "S\\u00f8g:"' in table  # labels stay
    assert "Klik p\\u00e5 en kolonneoverskrift for at sortere." in table
    assert '"bottomStart": "info"' in table  # it still says how many rows it has


def test_chart_counts_ages_from_the_extract_date_not_today():
    row = dict(lokationsnummer="5790000123117", it_system="Cura", oprettet=dt.datetime(2020, 1, 1))
    fig = FilterPanel(canonical_frame(1, pd.DataFrame([row])), 1, dt.date(2024, 7, 2)).chart()
    [legend] = fig.legends
    assert legend.get_title().get_text() == "Oprettet (regnet fra udtræksdatoen 2024-07-02)"


@pytest.mark.parametrize(
    ("extract_date", "period", "expected"),
    [
        (dt.date(2026, 11, 8), "2026-10", dt.date(2026, 11, 8)),
        (None, "2026-10", dt.date(2026, 10, 31)),
        (None, "2026-12", dt.date(2026, 12, 31)),
        (None, "2024-02", dt.date(2024, 2, 29)),
        (None, None, None),
    ],
)
def test_reference_date_is_the_extract_date_else_the_periods_last_day(
    extract_date, period, expected
):
    info = ExtractInfo("x.xlsx", "0" * 64, period, extract_date)
    assert info.reference_date == expected


def test_a_page_without_findings_says_so_where_the_filters_would_be():
    from soredi_nb.notebook import TaskPage

    page = TaskPage(5, "Odense")
    assert page.empty and not page.missing
    assert page.panel().data == text("widgets.no_findings") == "Ingen fund i denne tabel."


def test_an_owner_alone_of_its_type_is_compared_with_nobody(monkeypatch):
    """The clinic is the extract's only private owner: its page says there is no one to compare
    with, rather than a standing and medians over itself."""
    from factories import small_extract

    from soredi_nb import notebook

    monkeypatch.setattr(notebook, "open_extract", lambda *a, **k: small_extract())
    shown = []
    monkeypatch.setattr(notebook, "display", lambda obj: shown.append(getattr(obj, "data", obj)))
    notebook.TaskPage(4, "Lægerne Søndergade", extract_path="x.xlsx").key_figures()
    assert (
        shown[0] == text("notebook.compare.alone", organisation="Lægerne Søndergade", rows=3)
        and "ingen andre ejere af samme type" in shown[0]
    )
    shown.clear()
    notebook.TaskPage(1, "Aarhus", extract_path="x.xlsx").key_figures()
    assert "flest blandt kommunerne" in shown[0]
