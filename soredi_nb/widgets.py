"""Live filters for a task page in JupyterLab: IT system, message type, unit and a search box.

The filtering is a pure method (:meth:`FilterPanel.filtered`), so it is tested without a browser;
the widgets only hold the current values and re-render key figures, table and chart when one
changes. Callbacks need a running kernel: notebooks put the panel after the static content, in a
cell the HTML export drops.
"""

from __future__ import annotations

import datetime as dt
import io

import ipywidgets as widgets
import itables
import pandas as pd
from IPython.display import HTML, Image
from matplotlib.figure import Figure

from soredi_nb import findings, messagetypes, schema, summary
from soredi_nb.danish import fold
from soredi_nb.extract import canonical_frame
from soredi_nb.notebook import datatables_options
from soredi_nb.texts import text

# Danish alphabetical order: æ, ø, å after z (code points would put å first).
_DANISH_ORDER = str.maketrans({"æ": "z{", "ø": "z|", "å": "z}"})


class FilterPanel:
    """Filters, key figures, findings table and chart of one task, kept in step.

    Parameters
    ----------
    df : pandas.DataFrame or None
        Canonical rows of table ``number`` for one organisation; ``None`` when the table is
        missing from the extract (the panel then says so and shows nothing else).
    number : int
        Table number (1-7).
    reference_date : date, optional
        The day the chart counts ages from (``ExtractInfo.reference_date``).

    Attributes
    ----------
    it_system, unit : ipywidgets.Dropdown
        Options ``"Alle"``, then the values in the data in Danish alphabetical order, then
        ``"(ikke angivet)"`` if some rows have none.
    message_type : ipywidgets.Dropdown or None
        As above, over message types as displayed (``"XDIS91 – Korrespondancemeddelelse"``, so
        spellings of the same type are one option); ``None`` for tables without message types.
    search : ipywidgets.Text
        Part of a location number or unit name; case, spaces and æ/ae spelling are ignored.
    figures_html : ipywidgets.HTML
        Key figures of the filtered rows, in Danish.
    table_output, chart_output : ipywidgets.Output
        The findings table (:func:`soredi_nb.findings.display_table`, as an interactive itables
        table) and the chart (``plots.task_chart``, as a PNG image) of the filtered rows.
    widget : ipywidgets.VBox
        Everything assembled: display this in the notebook.

    Examples
    --------
    >>> panel = FilterPanel(org.table(2), 2)  # doctest: +SKIP
    >>> panel.widget  # doctest: +SKIP
    """

    def __init__(
        self, df: pd.DataFrame | None, number: int, reference_date: dt.date | None = None
    ) -> None:
        self.number = number
        self.reference_date = reference_date
        self.missing = df is None
        self.df = canonical_frame(number, pd.DataFrame()) if df is None else df
        has_types = "meddelelsestype" in schema.table(number).columns
        # Displayed and folded values are computed once: every keystroke filters again.
        self._values = {
            "it_system": self.df["it_system"],
            "message_type": (
                messagetypes.display_series(self.df["meddelelsestype"]) if has_types else None
            ),
            "unit": self.df["enhedsnavn"],
        }
        self._search_in = [self._folded(self.df[c]) for c in ("lokationsnummer", "enhedsnavn")]

        self.it_system = self._dropdown("it_system")
        self.message_type = self._dropdown("message_type") if has_types else None
        self.unit = self._dropdown("unit")
        self.search = widgets.Text(
            value="",
            description=text("widgets.labels.search"),
            placeholder=text("widgets.search_placeholder"),
            style={"description_width": "initial"},
        )
        self.figures_html = widgets.HTML()
        self.table_output = widgets.Output()
        self.chart_output = widgets.Output()
        controls = [
            w for w in (self.it_system, self.message_type, self.unit, self.search) if w is not None
        ]
        for control in controls:
            control.observe(lambda _change: self.refresh(), names="value")
        filters = widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap"))
        parts = [self.figures_html] if self.missing else [filters, self.figures_html]
        self.widget = widgets.VBox([*parts, self.table_output, self.chart_output])
        self.refresh()

    def filtered(self) -> pd.DataFrame:
        """The canonical rows matching the current widget values.

        Returns
        -------
        pandas.DataFrame
            Rows of ``df`` in their original order and index; ``"Alle"`` and an empty search
            filter nothing, ``"(ikke angivet)"`` keeps rows without a value.
        """
        keep = pd.Series(True, index=self.df.index)
        for name in ("it_system", "message_type", "unit"):
            control = getattr(self, name)
            if control is not None:
                keep &= self._matches(self._values[name], control.value)
        query = fold(self.search.value)
        if query:
            hits = [s.str.contains(query, regex=False, na=False) for s in self._search_in]
            keep &= hits[0] | hits[1]
        return self.df[keep]

    def figures(self) -> tuple[int, int, int | None]:
        """Rows, distinct location numbers and messages of the filtered rows.

        Returns
        -------
        tuple
            As :func:`soredi_nb.summary.task_figures`; messages is ``None`` for tables that do
            not count messages, and the tuple is ``(0, 0, None)`` for a missing table.
        """
        return summary.task_figures(None if self.missing else self.filtered(), self.number)

    def chart(self) -> Figure:
        """The task's chart of the filtered rows (``plots.task_chart``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from soredi_nb.plots import task_chart  # on use: this module imports without plots

        return task_chart(self.filtered(), self.number, reference_date=self.reference_date)

    def refresh(self) -> None:
        """Re-render key figures, table and chart for the current widget values."""
        rows = self.filtered()
        self.figures_html.value = self._figures_text(rows)
        self.table_output.outputs = ()
        self.chart_output.outputs = ()
        if self.missing or rows.empty:
            return
        table = findings.display_table(rows, self.number)
        # Same settings as the static findings table: every row (no downsampling), Danish
        # labels, identifiers as text; the panel's own widgets filter and search, so the table
        # has no filter panes or search box of its own.
        # itables escapes the cell text itself (allow_html is off).
        options = datatables_options(table, search=False)
        table_html = itables.to_html_datatable(findings.for_web(table), **options)
        self.table_output.append_display_data(HTML(table_html))
        self.chart_output.append_display_data(Image(data=_png(self.chart()), format="png"))

    def _dropdown(self, name: str) -> widgets.Dropdown:
        """A dropdown over the distinct values of one filter column."""
        values = self._values[name]
        present = sorted(
            values.dropna().unique(), key=lambda v: v.casefold().translate(_DANISH_ORDER)
        )
        options = [text("widgets.all"), *present]
        if values.isna().any():
            options.append(text("widgets.not_given"))
        return widgets.Dropdown(
            options=options,
            value=options[0],
            description=text(f"widgets.labels.{name}"),
            style={"description_width": "initial"},
        )

    @staticmethod
    def _matches(values: pd.Series, choice: str) -> pd.Series:
        """Which rows a dropdown choice keeps."""
        if choice == text("widgets.all"):
            return pd.Series(True, index=values.index)
        if choice == text("widgets.not_given"):
            return values.isna()
        return values.eq(choice).fillna(False)

    @staticmethod
    def _folded(s: pd.Series) -> pd.Series:
        """Search keys: folded text, missing as empty."""
        return s.map(fold, na_action="ignore").astype("str").fillna("")

    def _figures_text(self, rows: pd.DataFrame) -> str:
        """The Danish key-figure line for ``rows``."""
        if self.missing:
            return text("common.missing_table", number=self.number)
        if self.df.empty:
            return text("widgets.no_findings")
        if rows.empty:
            return text("widgets.no_rows")
        n_rows, n_loc, n_msg = summary.task_figures(rows, self.number)
        out = text("widgets.figures", rows=n_rows, locations=n_loc)
        if n_msg is not None:
            counted = schema.table(self.number).counts
            out += text(f"widgets.figures_counted.{counted}", count=n_msg)
        if len(rows) < len(self.df):
            out += text("widgets.filtered", total=len(self.df))
        return out


def _png(fig: Figure) -> bytes:
    """Render a figure to PNG and release it, so repeated refreshes do not pile up figures."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
