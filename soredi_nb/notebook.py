"""What the report notebooks call: one method per section, each displaying Danish output.

The notebooks stay thin (a heading and a line or two per section); everything they show is built
here from the pure functions in ``findings``, ``summary``, ``plots``, ``tasks`` and ``roles``, so
the same page reads the same live in JupyterLab and exported to HTML. Text from the extract is
data: it is escaped before it reaches Markdown or HTML.
"""

from __future__ import annotations

import html
import re
import uuid
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown, display

from soredi_nb import danish, findings, plots, roles, schema, tasks, warmup
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract
from soredi_nb.files import stamp
from soredi_nb.history import History, TableHistory, candidates, read_history
from soredi_nb.organisations import Organisation, filter_extract, list_organisations, resolve
from soredi_nb.summary import Summary, comparison_note, standing_text, summarise
from soredi_nb.templates import PAGE_TEMPLATES, notebook_name
from soredi_nb.texts import text

RECORD_MIMETYPE = "application/vnd.soredi.page+json"
"""The output that carries ``Page.record``; ``render`` reads and removes it."""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(value: object) -> str:
    """Escape extract text for Markdown that may render HTML: HTML first, then Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value)))


def open_extract(
    extract_path: str | Path | None = None,
    aliases_path: str | Path | None = None,
    use_cache: bool = True,
) -> Extract:
    """Load an extract as the command line would with the same options.

    ``None`` means the bundled sample, generated on first use. ``aliases_path`` and ``use_cache``
    are ``--aliases`` and the opposite of ``--no-cache``. A render reuses one kernel for many
    pages of the same extract, so the parsed extract is also kept in memory for as long as the
    file (and the alias file) is unchanged: same size and modification time.
    """
    from soredi_nb.sample import sample_path

    paths = [Path(sample_path() if extract_path is None else extract_path)]
    if aliases_path is not None:
        paths.append(Path(aliases_path))
    # A missing file is stamped too: the loader reports it.
    return _load_once(tuple(stamp(p) for p in paths), bool(use_cache))


def open_history(
    history_path: str | Path, aliases_path: str | Path | None = None, use_cache: bool = True
) -> History:
    """Read a history folder as ``soredi-nb history`` would, kept in memory like an extract.

    Every page of a render reads the same folder; it is read again only when an extract in it
    (or the alias file) changes size or modification time, or one is added or removed.
    """
    folder = Path(history_path).resolve()
    files = [folder, *([Path(aliases_path).resolve()] if aliases_path else [])]
    if folder.is_dir():
        for path in candidates(folder):
            files += sorted(path.iterdir()) if path.is_dir() else [path]
    aliases = str(Path(aliases_path).resolve()) if aliases_path else None
    return _history_once(str(folder), aliases, bool(use_cache), tuple(stamp(p) for p in files))


@lru_cache(maxsize=2)
def _history_once(folder: str, aliases: str | None, use_cache: bool, stamp: tuple) -> History:
    """Read the history at ``folder``; ``stamp`` (sizes and times) only keys the memo."""
    history = read_history(folder, aliases, cache=use_cache)
    warmup.settle()
    return history


@lru_cache(maxsize=2)
def _load_once(stamp: tuple, use_cache: bool) -> Extract:
    """Load the extract (and alias file) named in ``stamp``; sizes and times only key the memo."""
    from soredi_nb.load import load_extract

    aliases = stamp[1][0] if len(stamp) > 1 else None
    extract = load_extract(stamp[0][0], aliases, cache=use_cache)
    warmup.settle()
    return extract


PAGE_LENGTH = 10
"""Rows of a table short enough to need no search box, filters or scrolling box."""


def datatables_options(
    df: pd.DataFrame | None = None,
    filters: tuple[str, ...] = (),
    search: bool = True,
    sort_by: dict[str, str] | None = None,
) -> dict:
    """itables options of every interactive table: the notebooks', the widget's, the index's.

    Parameters
    ----------
    df : pandas.DataFrame, optional
        The table to show. Up to ``PAGE_LENGTH`` rows it gets no search box, row count, filter
        panes or scrolling box: they would only be clutter on a table that fits on the screen.
    filters : tuple of str
        Column labels of ``df`` to offer a filter pane for (DataTables' SearchPanes, in the
        offline bundle), where the column has more than one value.
    search : bool
        Whether a long table gets a search box; not where the table has a search of its own
        around it (the live filter panel).
    sort_by : dict, optional
        Column label -> label of the column that sorts it, for a text column whose order as
        text says nothing ("12 fund – …" before "3 fund – …").

    Returns
    -------
    dict
        Keyword arguments for ``itables.show`` and ``itables.to_html_datatable``.
    """
    long = df is None or len(df) > PAGE_LENGTH
    kinds = _column_kinds(df) if df is not None else []
    columns = list(df.columns) if df is not None else []
    # Each column's place among those itables shows (the index first, where it shows it).
    at = {c: i + len(kinds) - len(columns) for i, c in enumerate(columns)}
    panes = [at[c] for c in columns if long and c in filters and df[c].nunique(dropna=True) > 1]
    # How to use the controls, said by DataTables itself: a reader without JavaScript gets a
    # plain table, which neither sorts nor searches, and no such hint.
    search = search and long
    hint = "filter" if panes else "search" if search else "sort"
    hint = {"div": {"text": text(f"notebook.table_hint.{hint}"), "className": "soredi-hint"}}
    layout = {"topStart": hint, "topEnd": "search" if search else None}
    layout |= {"bottomStart": "info" if long else None, "bottomEnd": None}
    options = {
        "maxBytes": 0,  # never downsample: a report must keep every row of the organisation
        "language": text("notebook.datatables"),
        "classes": "display compact",
        "display_logo_when_loading": False,
        # The whole heading sorts (itables would leave that to a 12 px arrow, so that the
        # heading's text can be selected).
        "text_in_header_can_be_selected": False,
        # No paging: every row is in the page, so that the plain table itables puts there for
        # readers without JavaScript has them all too. A long table scrolls in a box instead.
        "paging": False,
        # A wide table scrolls sideways inside its own box, with a visible scrollbar, rather
        # than spilling out of the page where its last columns cannot be reached.
        "scrollX": True,
        "style": {"width": "100%", "margin": "0"},
        "layout": layout,
    }
    if long:
        options |= {"scrollY": "70vh", "scrollCollapse": True}
    if df is not None:
        # Location numbers and SOR codes are digits, and DataTables would take them for
        # numbers (right-aligned): a text column is text.
        texts = [i for i, kind in enumerate(kinds) if kind == "text"]
        defs = [{"type": "string", "targets": texts}] if texts else []
        defs += [{"targets": at[c], "orderData": at[by]} for c, by in (sort_by or {}).items()]
        if defs:
            options["columnDefs"] = defs
    if panes:
        options["layout"] = {"top1": "searchPanes"} | layout
        options["searchPanes"] = {"initCollapsed": True, "cascadePanes": True, "columns": panes}
    return options


def show_table(
    df: pd.DataFrame,
    page: Page | None = None,
    filters: tuple[str, ...] = (),
    html_escaped: bool = False,
    sort_by: dict[str, str] | None = None,
) -> None:
    """Show a table: interactive (sort; search and filter panes when long) and offline, with
    all its rows (no paging), also as a plain table for readers without JavaScript.

    The DataTables bundle (~1 MB; a render's kernels load a stand-in, ``site.DATATABLES_STUB``)
    is embedded once per page: pass the ``page`` so a second table on it reuses the first one's.
    ``filters`` are column labels to offer filter panes for. ``html_escaped`` says the caller
    has escaped every text cell itself and put HTML (links) in some; otherwise itables escapes
    every cell. ``sort_by`` as :func:`datatables_options`.
    """
    import itables

    if page is None or not page.itables_ready:
        itables.init_notebook_mode(all_interactive=False, connected=False)
        # The tables' layout (text left, numbers right, visible scrollbar) in JupyterLab too;
        # the page template has the same file for exported pages.
        css = (PAGE_TEMPLATES / "soredi" / "tables.css").read_text("utf-8")
        display(HTML(f"<style>{css}</style>"))
        if page is not None:
            page.itables_ready = True
    # itables escapes cell text itself (allow_html is off), so extract text stays data.
    options = datatables_options(df, filters, sort_by=sort_by) | {"allow_html": html_escaped}
    table_id = "itables_" + str(uuid.uuid4()).replace("-", "_")  # as itables names its own
    html = itables.to_html_datatable(findings.for_web(df), table_id=table_id, **options)
    display(HTML(_numbers_right(df, table_id) + html))


def _column_kinds(df: pd.DataFrame) -> list[str]:
    """``"number"``, ``"text"`` or ``"other"`` (dates, yes/no) for each column itables shows
    of ``df``, its index first where itables shows it (a named or non-default one)."""
    columns = [df[c] for c in df.columns]
    if df.index.name is not None or not isinstance(df.index, pd.RangeIndex):
        columns.insert(0, df.index.to_series())
    kinds = []
    for values in columns:
        if pd.api.types.is_bool_dtype(values):
            kinds.append("other")
        elif pd.api.types.is_numeric_dtype(values):
            kinds.append("number")
        elif pd.api.types.is_string_dtype(values):
            kinds.append("text")
        else:
            kinds.append("other")
    return kinds


def _numbers_right(df: pd.DataFrame, table_id: str) -> str:
    """CSS that right-aligns the number columns of itables' plain table for readers without
    JavaScript (which has no column types of its own for a style sheet to go by)."""
    columns = [i + 1 for i, kind in enumerate(_column_kinds(df)) if kind == "number"]
    if not columns:
        return ""
    cells = ", ".join(
        f"#{table_id}_fallback {cell}:nth-child({i})" for i in columns for cell in ("th", "td")
    )
    return f"<style>{cells} {{ text-align: right; }}</style>"


def _md(key: str, **fields) -> None:
    """Display a Danish Markdown text."""
    display(Markdown(text(f"notebook.{key}", **fields)))


class Page:
    """One organisation's view of an extract: the shared state of every report page.

    Parameters
    ----------
    organisation : str, int or None
        Anything ``organisations.resolve`` accepts; ``None`` for the whole extract. ``render``
        passes ``Organisation.selector``, which names exactly one organisation.
    previous_extract_path : str, Path or None
        An earlier extract to show the progress since.
    history_path : str, Path or None
        A folder of earlier extracts (``history.read_history``) to show the development over
        their periods and since when each finding has been in the extract.
    extract_path : str, Path or None
        The extract; ``None`` for the bundled sample.
    aliases_path : str, Path or None
        Extra header spellings (``--aliases``), for this extract and the previous one.
    use_cache : bool
        Read and write the parse cache (``--no-cache`` is ``False``).
    **filters
        Optional narrowing filters (``region``, ``kommune``, ``it_system``, ``sor_kode``,
        ``enhedsnavn``); ``None`` values are ignored.
    """

    def __init__(
        self,
        organisation=None,
        previous_extract_path=None,
        history_path=None,
        *,
        extract_path=None,
        aliases_path=None,
        use_cache=True,
        **filters,
    ) -> None:
        self.source = {"aliases_path": aliases_path, "use_cache": use_cache}
        self.extract = open_extract(extract_path, **self.source)
        self.previous_extract_path = previous_extract_path
        self.history_path = history_path
        self.filters = {k: v for k, v in filters.items() if v is not None}
        self.organisation: Organisation | None = (
            resolve(organisation, self.extract) if organisation is not None else None
        )
        self.selected = filter_extract(self.extract, self.organisation, **self.filters)
        self.summary: Summary = summarise(self.extract, self.organisation, **self.filters)
        self.itables_ready = False

    @cached_property
    def comparison(self):
        """What changed since ``previous_extract_path`` (``None`` when none was given)."""
        if self.previous_extract_path is None:
            return None
        from soredi_nb.compare import compare

        previous = open_extract(self.previous_extract_path, **self.source)
        return compare(previous, self.extract, self.organisation, **self.filters)

    @cached_property
    def history(self) -> History | None:
        """The history of ``history_path`` with this extract as its latest period."""
        if self.history_path is None:
            return None
        return open_history(self.history_path, **self.source).with_current(self.extract)

    def table_history(self, number: int) -> TableHistory:
        """Table ``number`` of this page's selection through the periods of :attr:`history`."""
        return self.history.table(number, self.organisation, **self.filters)

    @property
    def who(self) -> str:
        """The organisation's name, escaped, or "hele udtrækket"."""
        if self.organisation is None:
            return text("summary.national")
        return escape(self.organisation.name)

    @property
    def peers(self) -> str:
        """The national comparison group in words, e.g. "pr. kommune"."""
        kind = self.organisation.kind if self.organisation else "Kommune"
        return text(f"summary.peer_group.{kind}")

    def record(self) -> dict:
        """What this page was made from: extract, alias file, organisation identity, filters.

        ``meta`` puts it in the notebook as data (not shown); ``render`` checks it against what
        it asked for before it writes the page.
        """
        info = self.extract.info
        return {
            "extract_sha256": info.sha256,
            "aliases": info.aliases,
            "organisation": self.organisation.identity if self.organisation else None,
            "filters": self.filters,
        }

    def empty_note(self) -> None:
        """Say, in the guide's words, that the selection has no findings (if it has none)."""
        note = self.summary.empty_note(who=self.who)
        if note is not None:
            display(Markdown(f"**{note}**"))

    def meta(self) -> None:
        """Organisation, period, extract date, file and narrowing filters."""
        display({RECORD_MIMETYPE: self.record()}, raw=True)
        info = self.extract.info
        unknown = text("notebook.unknown")
        _md(
            "meta",
            organisation=self.who,
            period=escape(info.period or unknown),
            date=info.extract_date or unknown,
            file=escape(Path(info.file).name),
        )
        if self.filters:
            names = text("notebook.filter_names")
            parts = [f"{names[k]} = {escape(v)}" for k, v in self.filters.items()]
            _md("narrowed", filters=", ".join(parts))
        if self.organisation is not None:
            self.empty_note()


class TaskPage(Page):
    """The page of one cleanup task (table 1-7) for an organisation."""

    def __init__(self, number: int, organisation=None, *args, **kwargs):
        super().__init__(organisation, *args, **kwargs)
        self.number = number
        self.task = tasks.task(number)
        self.df = self.selected.table(number)
        self.figures = self.summary.tasks[number - 1]

    @property
    def missing(self) -> bool:
        """True when the table is not in the extract."""
        return self.df is None

    @property
    def empty(self) -> bool:
        """True when there is nothing to show: the table is missing or has no findings here."""
        return self.missing or self.df.empty

    def _empty_note(self) -> bool:
        """Say once, under the key figures, why there is nothing to show; True if so.

        A page without findings is one statement: the other sections show nothing (the page
        export drops their headings too), and the guide's checklist is folded away.
        """
        if self.missing:
            _md("missing_table", missing=text("common.missing_table", number=self.number))
        elif self.df.empty and not (self.organisation is not None and self.summary.empty):
            # An organisation with no findings at all: the page's first lines (``meta``) have
            # said so already, in the guide's words.
            _md("no_findings", organisation=self.who)
        return self.empty

    def key_figures(self) -> None:
        """Rows, location numbers and messages against the national median (and since the
        previous extract, when one is given)."""
        if self.comparison is not None:
            t = self.comparison.task(self.number)
            if t.comparable:
                _md("progress_task", new=t.new, resolved=t.resolved, persisting=t.persisting)
            else:
                _md(
                    "progress_not_comparable",
                    note=text(
                        "compare.not_comparable.new"
                        if self.missing
                        else "compare.not_comparable.old"
                    ),
                )
        if self._empty_note():
            return
        t = self.figures
        if self.organisation is None:
            _md("compare.national", rows=t.rows, location_numbers=t.location_numbers)
            self._causes()
            return
        if t.peers_fewer is None:  # the only owner of its type: nobody to stand among
            _md("compare.alone", organisation=self.who, rows=t.rows)
        else:
            _md(
                "compare.standing",
                organisation=self.who,
                rows=t.rows,
                standing=standing_text(t.peers_fewer, self.organisation.kind),
                per=self.peers,
                median=danish.number(t.median_rows),
                typical=danish.number(t.median_with_findings),
            )
        labels = text("notebook.key_table")
        lines = [
            (labels["rows"], t.rows, t.median_rows),
            (labels["location_numbers"], t.location_numbers, t.median_location_numbers),
        ]
        if t.messages is not None:
            # Named for what it counts: tables 6-7 count negative receipts, not messages.
            noun = labels[schema.table(self.number).counts]
            lines.append((noun, t.messages, t.median_messages))
        median = labels["median"].format(peers=self.peers)
        rows = "\n".join(f"| {a} | {danish.number(b)} | {danish.number(c)} |" for a, b, c in lines)
        display(Markdown(f"| {labels['figure']} | {self.who} | {median} |\n|---|--:|--:|\n{rows}"))
        self._causes()

    def _causes(self) -> None:
        """Tables 6-7: how many negative receipts the error codes blame on SOR-EDI."""
        line = self.figures.causes_text()
        if line is not None:
            display(Markdown(line))

    def guidance(self) -> None:
        """The guide's goal, question, actions (checklist), causes and best practice; folded
        away (one click to open) when there are no findings here."""
        guide = self.task.to_markdown(level=None)
        if self.empty:
            summary = text("notebook.guidance_folded", number=self.number)
            guide = f"<details><summary>{summary}</summary>\n\n{guide}\n</details>"
        display(Markdown(guide))

    def contacts(self) -> None:
        """Who does each of this table's actions for these findings, and what the roles are."""
        if self.empty:
            return
        _md("contacts_intro")
        show_plain(findings.task_responsibilities(self.df, self.number))
        _roles_legend(a.role for a in self.task.leaf_actions())

    def findings(self) -> None:
        """The findings table: Danish labels, interactive offline, in the order its intro names
        (``findings.longest_first``)."""
        if self.empty:
            return
        df = self.df
        if self.history is not None:
            df = self.table_history(self.number).current
        table = findings.display_table(df, self.number)
        order = text(
            "notebook.findings_order.oldest"
            if findings.longest_first(df)
            else "notebook.findings_order.biggest"
        )
        _md("findings_intro", rows=len(table), order=order)
        if self.history is not None:
            periods = self.history.periods
            oldest = int((df["first_seen"] == periods[0]).sum())
            _md(
                f"history_findings.{'some' if oldest else 'none'}",
                count=len(periods),
                first=periods[0],
                last=periods[-1],
                oldest=oldest,
            )
        show_table(table, self, findings.filter_labels(self.number))

    def charts(self) -> None:
        """The chart(s) answering this table's question; with a history, how the findings went
        over the periods, also where none are left now but there were before (what was
        resolved to get there)."""
        if not self.empty:
            when = self.extract.info.reference_date
            display(plots.task_chart(self.df, self.number, reference_date=when))
        if self.history is None or self.missing:
            return
        transitions = self.table_history(self.number).transitions()
        if not self.empty or transitions["rows"].fillna(0).gt(0).any():
            display(plots.history_chart(transitions))

    def panel(self):
        """Live filters (JupyterLab only): the panel widget, or a note when there is nothing."""
        from soredi_nb.widgets import FilterPanel

        if self.empty:
            # Nothing to filter: said under the heading, rather than leaving it bare.
            if self.missing:
                return Markdown(text("common.missing_table", number=self.number))
            return Markdown(text("widgets.no_findings"))
        return FilterPanel(self.df, self.number, self.extract.info.reference_date).widget


class OverviewPage(Page):
    """The overview page: every task at a glance for an organisation, or the whole extract.

    Parameters
    ----------
    by : {"ejer", "it_system"}
        For the whole extract: list the organisations per owner or per IT system.
    report_sets : dict, optional
        For the whole extract, the report site's front page: identity -> ``{"href": link to
        its overview or None, "failed": a Danish line per page that failed}``, as ``render``
        passes it.
    **kwargs
        As :class:`Page`.
    """

    def __init__(
        self,
        organisation=None,
        *args,
        by: str = "ejer",
        report_sets: dict | None = None,
        **kwargs,
    ):
        if by not in ("ejer", "it_system"):
            raise SorediError(text("notebook.bad_by", value=by))
        super().__init__(organisation, *args, **kwargs)
        self.by, self.report_sets = by, report_sets

    @property
    def _has_task_pages(self) -> bool:
        """Whether this overview has task pages beside it: not for the whole extract."""
        return self.organisation is not None or bool(self.filters)

    def organisations(self) -> None:
        """For the whole extract: who has work to do, per organisation and table.

        Every municipality and region, those without findings as having no cleanup task; with
        ``report_sets`` each name links to its report. Shows nothing for one organisation.
        """
        if self.organisation is not None or self.filters:
            return
        from soredi_nb import national

        display(Markdown("## " + text("notebook.headings.organisations")))
        table = national.organisation_table(self.extract, self.by, self.report_sets or ())
        table = national.work_first(table)
        _md(f"organisations_intro.{self.by}")
        grouped = table.loc[table["identity"].isna(), "organisation"]
        if len(grouped):
            _md("organisations_last", rows=danish.enumeration(escape(n) for n in grouped))
        if any(self._report(i).get("href") for i in table["identity"]):
            _md(f"organisations_links.{self.by}")
        if self.comparison is not None:
            table["change"] = national.changes(self.comparison, table, self.by)
        change_labels = {}
        if self.history is not None and len(self.history.periods) > 1:
            periods, extracts = self.history.periods, self.history.extracts
            own = self.report_sets or ()
            for column, i in (("since_first", 0), ("since_last", -2)):
                then = national.organisation_table(extracts[i], self.by, own)
                table[column] = national.change_since(then, table)
                change_labels[column] = text("national.change_since", period=periods[i])
        failures = {i: f for i in table["identity"] if (f := self._report(i).get("failed"))}
        if failures:
            table["failed"] = [
                text("national.failed", count=len(failures[i])) if i in failures else ""
                for i in table["identity"]
            ]
        shown = table.drop(columns=["identity", "owners"])
        # itables shows these cells as HTML (for the links): every text is escaped here.
        for column in shown.columns:
            if not pd.api.types.is_numeric_dtype(shown[column]):
                shown[column] = shown[column].map(lambda v: html.escape(str(v)))
        links = [self._report(i).get("href") for i in table["identity"]]
        shown["organisation"] = [
            f'<a href="{html.escape(href)}">{name}</a>' if href else name
            for href, name in zip(links, shown["organisation"], strict=True)
        ]
        missing = text("common.missing_cell")
        for n in self.extract.missing:
            shown[f"tabel_{n}"] = missing
        labels = text("national.columns") | change_labels
        if self.by == "it_system":
            shown = shown.drop(columns="ejertype")
            labels = labels | {"organisation": text("national.it_system")}
        # The assessment ("12 fund – flest blandt kommunerne") sorts by the findings it counts.
        by_total = {labels["status"]: labels["i_alt"]}
        show_table(shown.rename(columns=labels), self, html_escaped=True, sort_by=by_total)
        legend = [
            "- " + text("notebook.organisations_table", number=n, name=schema.table(n).name)
            for n in schema.TABLE_NUMBERS
        ]
        display(Markdown(text("notebook.organisations_legend") + "\n\n" + "\n".join(legend)))
        # Every row of the table, the owners grouped by type too: the bars add up to its total.
        display(plots.organisations_chart(table))
        if failures:
            display(Markdown("### " + text("notebook.headings.failed_pages")))
            lines = [
                f"- {escape(name)}: {escape(line)}"
                for identity, name in zip(table["identity"], table["organisation"], strict=True)
                for line in failures.get(identity, [])
            ]
            display(Markdown("\n".join(lines)))

    def _report(self, identity) -> dict:
        """What ``report_sets`` says of ``identity`` (nothing for a grouped row)."""
        return (self.report_sets or {}).get(identity) or {}

    def intro(self) -> None:
        """The guide's opening instructions and the appendix links; for one organisation, that
        its first step, filtering the extract to it, is done."""
        display(Markdown(tasks.intro().to_markdown(level=None)))
        if self.organisation is not None:
            _md("intro_filtered", organisation=self.who)

    def status(self) -> None:
        """Per-task counts with a status colour, and for an organisation the chart against
        what is typical among its peers with findings."""
        frame = findings.task_overview(self.summary)
        # Each task's name leads to its page (its notebook in JupyterLab); the whole extract
        # has no task pages, and a missing table's page has nothing to show.
        links = {
            t.name: notebook_name(t.number) + ".ipynb"
            for t in self.summary.tasks
            if not t.missing and self._has_task_pages
        }
        show_plain(
            frame,
            colours=findings.task_overview_colours(self.summary),
            links={text("summary.columns.name"): links},
        )
        if self.organisation is not None:
            labels = text("summary.columns")
            median = text("findings.labels.median")  # the columns as the table above labels them
            shown = (median, labels["peers_with_findings"], labels["median_with_findings"])
            note = comparison_note(self.organisation.kind, *(f"*{c}*" for c in shown))
            display(Markdown(note + " " + text("notebook.status_note")))
        causes = [line for t in self.summary.tasks if (line := t.causes_text())]
        if causes:
            display(Markdown("\n".join(f"- {line}" for line in causes)))
        if self.organisation is not None:
            display(plots.overview_chart(pd.DataFrame([t.__dict__ for t in self.summary.tasks])))

    def development(self) -> None:
        """Over the periods of ``history_path``: findings per task and period, the peers'
        median, and what has been resolved since the first period.

        Shows nothing without a history, so the section has its own heading.
        """
        if self.history is None:
            return
        from soredi_nb import history

        display(Markdown("## " + text("notebook.headings.development")))
        periods = self.history.periods
        figures = history.period_figures(self.history, self.organisation, **self.filters)
        resolved = new = 0
        for n in schema.TABLE_NUMBERS:
            presence = self.table_history(n).presence
            if periods[0] in presence and periods[-1] in presence:
                first, now = presence[periods[0]], presence[periods[-1]]
                resolved += int((first & ~now).sum())
                new += int((now & ~first).sum())
        _md(
            "development_intro",
            count=len(periods),
            first=periods[0],
            last=periods[-1],
            resolved=resolved,
            new=new,
        )
        table = figures.pivot(index="period", columns="number", values="rows")
        table.columns = [f"tabel_{n}" for n in table.columns]
        table["i_alt"] = table.sum(axis=1, min_count=1)
        if self.organisation is not None:
            medians = figures.pivot(index="period", columns="number", values="median")
            table["median"] = medians.sum(axis=1, min_count=1)
        labels = text("national.columns") | {"median": text("notebook.development_median")}
        shown = table.astype(object).where(table.notna(), text("common.missing_cell"))
        show_plain(shown.rename(columns=labels).rename_axis(labels["period"]).reset_index())
        # A period's sums leave out the tables its extract lacks, as the chart's label says.
        lines = [
            "- " + text("notebook.development_missing", period=p, numbers=danish.enumeration(n))
            for p, n in plots.lacking_tables(table).items()
        ]
        if lines:
            display(Markdown("\n".join(lines)))
        if self.organisation is not None:
            _md("development_median_note", peers=text(f"summary.peers.{self.organisation.kind}"))
        display(plots.development_chart(table, median_label=labels["median"]))

    def progress(self) -> None:
        """Since the previous extract: findings per task then and now, resolved and new findings.

        Shows nothing without ``previous_extract_path``, so the section has its own heading.
        """
        cmp = self.comparison
        if cmp is None:
            return
        display(Markdown("## " + text("notebook.headings.progress")))
        info = cmp.old_info
        totals = cmp.counts()[["new", "resolved", "persisting"]].sum()
        _md(
            "progress_intro",
            file=escape(Path(info.file).name),
            period=escape(info.period or "–"),
            new=int(totals["new"]),
            resolved=int(totals["resolved"]),
            persisting=int(totals["persisting"]),
        )
        if cmp.reversed_order:
            display(Markdown(text("compare.reversed")))
        show_plain(cmp.frame())
        display(plots.progress_chart(cmp.counts()))
        for t in cmp.tasks:
            for key, frame in (("resolved", cmp.resolved(t.number)), ("new", cmp.new(t.number))):
                if frame is not None and not frame.empty:
                    display(
                        Markdown(
                            "### " + text(f"notebook.{key}_heading", number=t.number, name=t.name)
                        )
                    )
                    show_table(findings.display_table(frame, t.number), self)

    def by_it_system(self) -> None:
        """Findings per IT system."""
        counts = list_organisations(self.selected, by="it_system")
        counts["organisation"] = counts["organisation"].fillna(
            text("organisations.no_value.it_system")
        )
        if counts.empty:
            self.empty_note()
            return
        display(plots.it_system_chart(counts))

    def repeats(self) -> None:
        """Location numbers found in several tables: fix these first."""
        df = findings.repeat_locations_display(self.selected)
        if df.empty:
            _md("repeats_none")
            return
        show_table(df, self)

    def contacts(self) -> None:
        """Who must do something about the findings, over all tables, and what the roles are."""
        frames = {n: df for n, df in self.selected.tables.items() if not df.empty}
        if not frames:
            self.empty_note()
            return
        _md("contacts_intro_overview")
        table = findings.overview_responsibilities(frames)
        show_plain(table)
        _roles_legend(k for n in frames for k in (a.role for a in tasks.task(n).leaf_actions()))

    def warnings(self) -> None:
        """Data-quality warnings from loading (e.g. invalid check digits)."""
        if not self.selected.warnings:
            _md("warnings_none")
            return
        _md("warnings_intro", count=len(self.selected.warnings))
        df = pd.DataFrame([w.to_dict() for w in self.selected.warnings])
        show_table(df.rename(columns=text("notebook.warnings_columns")), self)

    def links(self) -> None:
        """Links to the seven task pages (relative, same folder).

        The whole extract has no task pages of its own: it points to the organisations' reports.
        """
        if not self._has_task_pages:
            _md("task_links_whole")
            return
        lines = []
        for t in self.summary.tasks:
            if t.missing:
                lines.append(
                    "- " + text("notebook.task_link_missing", number=t.number, name=t.name)
                )
            else:
                href = notebook_name(t.number) + ".ipynb"
                lines.append(
                    "- "
                    + text(
                        "notebook.task_link", number=t.number, name=t.name, href=href, rows=t.rows
                    )
                )
        display(Markdown("\n".join(lines)))


def _roles_legend(keys) -> None:
    """What each of these roles does, once each, in the order of ``data/roles.yaml``."""
    wanted = set(keys)
    lines = [
        f"- **{r.heading}:** {r.description}" for k, r in roles.all_roles().items() if k in wanted
    ]
    display(Markdown(text("notebook.roles_intro") + "\n\n" + "\n".join(lines)))


def readable_on(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (``#rrggbb``; WCAG 2).

    The status colours are chosen for what they say; the text on them must still be legible
    (WCAG AA asks 4.5:1), which black on a strong red is not.
    """

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    bg = luminance(background)
    return "#000000" if (bg + 0.05) / 0.05 >= 1.05 / (bg + 0.05) else "#ffffff"


def show_plain(
    df: pd.DataFrame, colours: list[str] | None = None, links: dict[str, dict] | None = None
) -> None:
    """Show a small table as static HTML: escaped, Danish numbers, optional status colours.

    ``colours`` gives one CSS colour per row for the last column (the status). ``links`` maps
    a column to ``{cell text: href}``: those cells become links (their text still escaped).
    """
    styler = df.style.hide(axis="index").format(_cell, na_rep="–", escape="html")
    for column, hrefs in (links or {}).items():
        # The formatter receives the cell text already escaped (``escape`` runs first).
        escaped = {html.escape(k): html.escape(v) for k, v in hrefs.items()}
        styler = styler.format(
            lambda v, e=escaped: f'<a href="{e[v]}">{v}</a>' if v in e else v,
            subset=[column],
            na_rep="–",
            escape="html",
        )
    # Jupyter's table CSS right-aligns every cell; text reads better left-aligned. A column of
    # numbers with "mangler" for a missing table is still a column of numbers.
    missing = text("common.missing_cell")
    text_columns = [
        c
        for c in df.columns
        if not pd.api.types.is_numeric_dtype(df[c])
        and not all(isinstance(v, int | float) or v == missing for v in df[c].dropna().map(_python))
    ]
    styler = styler.set_properties(subset=text_columns, **{"text-align": "left"})
    styler = styler.map_index(
        lambda label: "text-align: left" if label in text_columns else "", axis="columns"
    )
    if colours:
        last = len(df.columns) - 1
        css = [
            f"background-color: {c}; color: {readable_on(c)}; font-weight: bold" for c in colours
        ]
        styler = styler.apply(lambda col: css, subset=[df.columns[last]], axis=0)
    display(HTML(styler.set_table_attributes('class="soredi"').to_html()))


def _python(value: object) -> object:
    """A NumPy scalar as the Python value it holds (anything else as it is)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def _cell(value: object) -> str:
    """A table cell as text: numbers in Danish notation."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return danish.number(value)
    return str(value)
