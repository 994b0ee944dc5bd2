"""Per-task summary of an extract or of one organisation, with the national comparison."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from soredi_nb import danish, errorcodes, organisations, schema
from soredi_nb.extract import Extract, ExtractInfo, Problem
from soredi_nb.organisations import Organisation, filter_extract, resolve
from soredi_nb.texts import text


@dataclass(frozen=True)
class TaskSummary:
    """The figures of one task (table) for the selection.

    ``messages`` is the sum of ``antal`` for tables that count messages, else ``None``. The
    ``median_rows``, ``median_location_numbers`` and ``median_messages`` figures are the
    national median per organisation of the same owner type (``None`` for a national summary or
    a missing table); ``peers_fewer``, ``peers_with_findings`` and ``median_with_findings``
    compare with the *other* organisations of that type (``None`` also for an owner alone of
    its type). For the tables of negative receipts
    (6-7), ``sor_edi_receipts`` counts those whose error code points at SOR-EDI (``None`` when
    the table has no error codes, or for other tables) and ``unclassified_receipts`` those
    without a known error code (see :mod:`soredi_nb.errorcodes`).
    """

    number: int
    name: str
    rows: int
    location_numbers: int
    messages: int | None
    missing: bool
    median_rows: float | None = None
    median_location_numbers: float | None = None
    median_messages: float | None = None
    peers_fewer: int | None = None
    """Percentage of the other peers (as for the medians) with fewer findings in this table."""
    peers_with_findings: int | None = None
    """Percentage of the other peers with findings in this table (those :attr:`median_with_findings`
    is the median of)."""
    median_with_findings: float | None = None
    """Median of findings among the other peers that have any in this table: what is typical
    where there is something to clean up, when most peers have nothing and the median is 0."""
    sor_edi_receipts: int | None = None
    unclassified_receipts: int | None = None

    @property
    def sor_edi_share(self) -> float | None:
        """``sor_edi_receipts`` as a percentage of all negative receipts, when it can be known."""
        if self.sor_edi_receipts is None or not self.messages:
            return None
        return 100 * self.sor_edi_receipts / self.messages

    def causes_text(self) -> str | None:
        """The share of negative receipts caused by SOR-EDI, in Danish (tables 6-7 only).

        The guide's goal for these tables is that this share is low. ``None`` for other tables,
        a missing table and a table without findings.
        """
        if self.unclassified_receipts is None or not self.rows:
            return None
        if self.sor_edi_receipts is None:
            return text("summary.causes.unknown", number=self.number)
        line = text(
            "summary.causes.share",
            number=self.number,
            sor_edi=danish.number(self.sor_edi_receipts),
            total=self.messages,
            share=danish.number(round(self.sor_edi_share, 1)),
        )
        if self.unclassified_receipts:
            count = danish.number(self.unclassified_receipts)
            line += " " + text("summary.causes.unclassified", count=count)
        return line

    def to_dict(self) -> dict:
        """The JSON shape of one task in ``summary --json``: every figure a page shows of it,
        the comparison with the peers included (``null`` for the whole extract)."""
        keys = ("number", "name", "rows", "location_numbers", "messages", "missing")
        keys += ("sor_edi_receipts", "unclassified_receipts")
        keys += ("median_rows", "median_location_numbers", "median_messages")
        keys += ("peers_fewer", "peers_with_findings", "median_with_findings")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class Summary:
    """Summary of an extract for one organisation (or the whole extract)."""

    organisation: Organisation | None
    info: ExtractInfo
    tasks: list[TaskSummary]
    warnings: list[Problem] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    """The narrowing filters the summary was made with."""

    @property
    def missing(self) -> list[int]:
        """Numbers of the tables missing from the extract."""
        return [t.number for t in self.tasks if t.missing]

    @property
    def empty(self) -> bool:
        """True when the selection has no finding in any table present."""
        return all(t.rows == 0 for t in self.tasks)

    @property
    def no_cleanup_task(self) -> bool:
        """The guide's rule: no finding in any of the seven tables, all seven in the extract, and
        no narrowing filter (a filter or a missing table only says there is nothing *here*)."""
        return self.empty and not self.filters and not self.missing

    def empty_note(self, who: str | None = None) -> str | None:
        """What to say when the selection has no findings, in Danish; ``None`` when it has some.

        ``who`` is the organisation as the caller shows it (e.g. escaped for Markdown).
        """
        if not self.empty:
            return None
        if who is None:
            who = self.organisation.name if self.organisation else text("summary.national")
        return no_findings_text(who, self.filters, self.missing)

    def to_dict(self) -> dict:
        """The ``summary --json`` shape."""
        return {
            "organisation": self.organisation.name if self.organisation else None,
            "extract": self.info.to_dict(),
            "no_cleanup_task": self.no_cleanup_task,
            "tasks": [t.to_dict() for t in self.tasks],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def frame(self) -> pd.DataFrame:
        """The task figures as a DataFrame with Danish column labels, for display.

        Counts are in two columns named for what they count: messages (tables 2, 3 and 5) and
        negative receipts (tables 6 and 7), the latter followed by those the error codes blame
        on SOR-EDI.
        """
        df = split_counts(pd.DataFrame([t.__dict__ for t in self.tasks]))
        # The receipts blamed on SOR-EDI next to all negative receipts.
        causes = df.pop("sor_edi_receipts")
        df.insert(df.columns.get_loc("negative_receipts") + 1, "sor_edi_receipts", causes)
        if self.organisation is None:  # no peers to compare with
            peers = [c for c in df.columns if c.startswith(("median_", "peers_"))]
            df = df.drop(columns=peers)
        return df.rename(columns=text("summary.columns"))


def split_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Split ``messages`` (and ``median_messages``) by what each table counts.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per task, with ``number`` and ``messages`` (``median_messages`` optional).

    Returns
    -------
    pandas.DataFrame
        ``messages`` only for tables counting messages, and beside it ``negative_receipts`` for
        tables counting negative receipts (likewise ``median_negative_receipts``); NA elsewhere.
    """
    receipts = df["number"].map(lambda n: schema.table(n).counts == "negative_receipts")
    out = df.copy()
    for col, new in (
        ("messages", "negative_receipts"),
        ("median_messages", "median_negative_receipts"),
    ):
        if col in out:
            out.insert(out.columns.get_loc(col) + 1, new, out[col].where(receipts))
            out[col] = out[col].where(~receipts)
    return out


def no_findings_text(who: str, filters: dict, missing: list[int]) -> str:
    """The guide's words for a selection without findings, the same in every output.

    Parameters
    ----------
    who : str
        The organisation as shown.
    filters : dict
        The narrowing filters in force: then there is only nothing *with these filters*.
    missing : list of int
        Tables missing from the extract: then there is only nothing *in the tables present*.

    Returns
    -------
    str
        "Ingen oprydningsopgave …" only when neither applies.
    """
    if filters:
        return text("common.no_findings_filtered", organisation=who)
    if missing:
        numbers = danish.enumeration(missing)
        return text("common.no_findings_missing", organisation=who, numbers=numbers)
    return text("common.no_cleanup_task", organisation=who)


def task_figures(df: pd.DataFrame | None, number: int) -> tuple[int, int, int | None]:
    """Rows, distinct location numbers and message count of one table (0, 0, None if missing)."""
    counts = schema.table(number).counts
    if df is None:
        return 0, 0, None
    messages = int(df["antal"].sum()) if counts else None
    return len(df), int(df["lokationsnummer"].nunique()), messages


def peer_medians(
    extract: Extract, kind: str
) -> dict[int, tuple[float, float, float | None, pd.Series]]:
    """National median per organisation of one owner type, per table present.

    The peer group of a municipality is all 98 municipalities and of a region all 5 regions, so
    those without findings count as zero; for private and state owners it is the owners of that
    type that appear in the extract. Per table: the medians of findings, location numbers and
    messages, and every peer's number of findings by identity (for where an organisation
    stands among the others).
    """
    if kind in ("Kommune", "Region"):
        known = organisations.known(kind)
        peers = {o.identity for o in known}
    else:
        peers = {i for i, o in organisations.organisations_in(extract).items() if o.kind == kind}
    out = {}
    for number, df in extract.tables.items():
        keys = organisations.table_identities(extract, number)
        groups = df[keys.isin(peers)].groupby(keys)
        per = pd.DataFrame(
            {"rows": groups.size(), "lok": groups["lokationsnummer"].nunique()}
            | ({"msg": groups["antal"].sum()} if schema.table(number).counts else {})
        ).reindex(sorted(peers), fill_value=0)
        # An empty peer group (no private owners at all) has median 0, not NaN.
        med = per.median().fillna(0.0) if peers else pd.Series(0.0, index=per.columns)
        msg = float(med["msg"]) if "msg" in med else None
        out[number] = (float(med["rows"]), float(med["lok"]), msg, per["rows"])
    return out


def medians_for(extract: Extract, organisation: Organisation | None) -> dict:
    """:func:`peer_medians` of the organisation's owner type (none for the whole extract),
    computed once per extract in memory: every page of a render asks again."""
    if organisation is None:
        return {}
    key = ("peer_medians", organisation.kind)
    if key not in extract.memo:
        extract.memo[key] = peer_medians(extract, organisation.kind)
    return extract.memo[key]


def _standing(
    rows: int, peers: pd.Series | None, identity: str | None
) -> tuple[int | None, int | None, float | None]:
    """Where ``rows`` findings stand among the *other* peers (``peers`` less the organisation,
    found by its ``identity``): the percentage with fewer (:func:`share_fewer`), the percentage
    with findings, and the median among those (0 when none has); all ``None`` without others.
    The organisation is left out: an organisation alone with findings would otherwise be
    typical of itself, and the one with the most would have more than 98 % of the
    municipalities rather than all the others.
    """
    others = peers.drop(identity, errors="ignore").to_numpy() if peers is not None else []
    if not len(others):  # alone of its type (or no peers at all): nobody to compare with
        return None, None, None
    with_findings = others[others > 0]
    typical = float(np.median(with_findings)) if len(with_findings) else 0.0
    return share_fewer(rows, others), _percent(len(with_findings), len(others)), typical


def share_fewer(count: int, others) -> int | None:
    """The percentage of ``others`` (the other peers' counts) below ``count``, rounded down but
    at least 1 when any is below: 0 means none has fewer and 100 that all have. ``None`` when
    there are no others."""
    others = np.asarray(others)
    return _percent(int((others < count).sum()), len(others))


def _percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in whole percent, rounded down but at least 1 when ``part`` is not
    0 (so 0 and 100 are only said when true); ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return max(100 * part // whole, 1 if part else 0)


def comparison_note(kind: str, median: str, share: str, typical: str) -> str:
    """What the comparison columns say, in Danish, for an organisation of owner type ``kind``;
    ``median``, ``share`` and ``typical`` are the columns' labels as the caller shows them."""
    peers = text(f"summary.peers.{kind}")
    return text("summary.comparison_note", peers=peers, median=median, share=share, typical=typical)


def standing_text(share: int, kind: str) -> str:
    """Where an organisation stands among its peers (``share_fewer``), in Danish: "flere end
    80 % af kommunerne", "flest blandt kommunerne", "ingen af kommunerne har færre"."""
    key = "most" if share == 100 else "fewest" if share == 0 else "ranked"
    return text(f"summary.standing.{key}", share=share, peers=text(f"summary.peers.{kind}"))


def summarise(
    extract: Extract, organisation: str | int | Organisation | None = None, **filters
) -> Summary:
    """Summarise an extract per task, for one organisation or nationally.

    Parameters
    ----------
    extract : Extract
        The whole extract (the national comparison needs it unfiltered).
    organisation : str, int or Organisation, optional
        The owner to summarise; ``None`` for the whole extract.
    **filters
        Narrowing filters passed to :func:`organisations.filter_extract` (``region``,
        ``kommune``, ``sor_kode``, ``enhedsnavn``, ``it_system``).

    Returns
    -------
    Summary
    """
    org = organisation
    if org is not None and not isinstance(org, Organisation):
        org = resolve(org, extract)
    selected = filter_extract(extract, org, **filters) if (org or filters) else extract
    medians = medians_for(extract, org)
    classes = errorcodes.classification(extract.info.aliases)
    tasks = []
    for number in schema.TABLE_NUMBERS:
        df = selected.table(number)
        rows, lok, msg = task_figures(df, number)
        med = medians.get(number, (None, None, None, None))
        identity = org.identity if org is not None else None
        standing = _standing(rows, med[3], identity) if df is not None else (None,) * 3
        causes = None
        if df is not None and schema.table(number).counts == "negative_receipts":
            causes = errorcodes.causes(df, classes)
        tasks.append(
            TaskSummary(
                number,
                schema.table(number).name,
                rows,
                lok,
                msg,
                missing=number not in extract.tables,
                median_rows=med[0],
                median_location_numbers=med[1],
                median_messages=med[2],
                peers_fewer=standing[0],
                peers_with_findings=standing[1],
                median_with_findings=standing[2],
                sor_edi_receipts=causes.sor_edi if causes else None,
                unclassified_receipts=causes.unclassified if causes else None,
            )
        )
    return Summary(org, extract.info, tasks, selected.warnings, filters)
