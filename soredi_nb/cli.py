"""The ``soredi-nb`` command line: sample, orgs, validate, summary.

Errors a user can cause are printed as one Danish paragraph without a traceback (exit 1).
"""

from __future__ import annotations

import argparse
import json
import numbers
import os
import sys
from pathlib import Path

import pandas as pd

from soredi_nb import danish, schema
from soredi_nb.exceptions import ExtractError, SorediError
from soredi_nb.extract import Extract, Problem
from soredi_nb.texts import text

MAX_WARNINGS_SHOWN = 100

# Characters that make a terminal act instead of show: C0 and C1 controls and DEL (escape
# sequences recolour, move the cursor, retitle the window or hide what follows; a carriage return
# overwrites the line), and the BiDi controls that reorder the text after them.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_DEL, _C1 = 0x7F, range(0x80, 0xA0)
_VISIBLE = (
    {i: chr(0x2400 + i) for i in range(0x20)}
    | {_DEL: "\u2421"}
    | {i: "\ufffd" for i in [*_C1, *map(ord, _BIDI)]}
)
"""C0 controls as their Control Pictures (ESC shows as ␛), DEL as ␡, C1 and BiDi as �."""
_JSON_ESCAPES = {i: f"\\u{i:04x}" for i in [_DEL, *_C1, *map(ord, _BIDI)]}
"""What ``json.dumps(ensure_ascii=False)`` leaves raw, as JSON escapes (C0 it escapes itself)."""


def visible(value: object) -> str:
    """``value`` as text with every terminal control character replaced by a visible sign.

    Parameters
    ----------
    value : object
        Anything printed; text from the extract may hold escape sequences.

    Returns
    -------
    str
        ``str(value)`` with C0 controls (newline and tab included) as their Control Pictures
        (``\\x1b`` becomes ``␛``), DEL as ``␡``, and C1 controls and BiDi controls as ``�``.
    """
    return str(value).translate(_VISIBLE)


def _say(line: object = "", *, err: bool = False) -> None:
    """Print a line of text output: the one way this module prints, so no text from the extract
    reaches the terminal raw (our own line breaks are kept)."""
    safe = "\n".join(visible(part) for part in str(line).split("\n"))
    print(safe, file=sys.stderr if err else sys.stdout)


def _danish_argparse() -> None:
    """Translate argparse's own messages (headings, ``-h``, usage errors) into Danish.

    argparse marks them for gettext and calls its module-level ``_`` when it builds a parser and
    when it reports an error, so replacing that function is its translation hook; a gettext
    catalogue would need a compiled ``.mo`` file for a handful of strings. Messages argparse
    only forms with ``ngettext`` ("expected %s arguments") need options this command line
    does not have.
    """
    table = text("cli.argparse")
    argparse._ = lambda s: table.get(s, s)  # type: ignore[attr-defined]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 1 with a Danish message."""

    commands: dict[str, argparse.ArgumentParser]
    """Each command's parser by name: argparse reports an unknown argument from the program's
    parser, whose help does not list the command's options (see :func:`main`)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        # The help of the command typed ("soredi-nb render --help") is where the fix is.
        self.exit(1, text("cli.usage_error", message=message, prog=self.prog) + "\n")


def _parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    h, mv = text("cli.help"), text("cli.metavar")
    p = _Parser(prog="soredi-nb", description=text("cli.description"))
    sub = p.add_subparsers(
        title=text("cli.commands"),
        dest="command",
        metavar=mv["command"],
        required=True,
        parser_class=_Parser,
    )
    p.commands = sub.choices

    s = sub.add_parser("sample", help=h["sample"], description=h["sample"])
    s.add_argument("out", type=Path, metavar=mv["out"], help=h["sample_out"])
    s.add_argument("--scale", choices=["small", "national"], default="small", help=h["scale"])
    s.add_argument("--seed", type=int, default=0, metavar=mv["seed"], help=h["seed"])
    s.add_argument("--csv", action="store_true", help=h["csv"])
    s.add_argument("--force", action="store_true", help=h["sample_force"])
    s.add_argument("--months", type=int, default=1, metavar=mv["months"], help=h["months"])

    def with_extract(name: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=h[name], description=h[name])
        c.add_argument("extract", type=Path, metavar=mv["extract"], help=h["extract"])
        c.add_argument("--json", action="store_true", help=h["json"])
        c.add_argument("--aliases", type=Path, metavar=mv["aliases"], help=h["aliases"])
        c.add_argument("--no-cache", action="store_true", help=h["no_cache"])
        return c

    o = with_extract("orgs")
    o.add_argument(
        "--by", choices=["ejer", "it_system", "region", "kommune"], default="ejer", help=h["by"]
    )
    with_extract("validate")
    m = with_extract("summary")
    for flag in ("org", "region", "kommune", "it_system", "sor_kode", "enhedsnavn"):
        m.add_argument("--" + flag.replace("_", "-"), dest=flag, metavar=mv[flag], help=h[flag])

    w = sub.add_parser("worklist", help=h["worklist"], description=h["worklist"])
    w.add_argument("extract", type=Path, metavar=mv["extract"], help=h["extract"])
    w.add_argument(
        "--out", type=Path, required=True, metavar=mv["worklist_out"], help=h["worklist_out"]
    )
    w.add_argument("--previous", type=Path, metavar=mv["previous"], help=h["previous"])
    w.add_argument("--history", type=Path, metavar=mv["folder"], help=h["worklist_history"])
    c = sub.add_parser("compare", help=h["compare"], description=h["compare"])
    c.add_argument("old", type=Path, metavar=mv["old"], help=h["old"])
    c.add_argument("new", type=Path, metavar=mv["new"], help=h["new"])
    c.add_argument("--json", action="store_true", help=h["json"])
    y = sub.add_parser("history", help=h["history"], description=h["history"])
    y.add_argument("folder", type=Path, metavar=mv["folder"], help=h["history_folder"])
    y.add_argument("--json", action="store_true", help=h["json"])
    for q in (w, c, y):
        q.add_argument("--aliases", type=Path, metavar=mv["aliases"], help=h["aliases"])
        q.add_argument("--no-cache", action="store_true", help=h["no_cache"])
        for flag in ("org", *_FILTERS):
            q.add_argument(
                "--" + flag.replace("_", "-"),
                dest=flag,
                metavar=mv[flag],
                help=h[flag],
                required=q is w and flag == "org",
            )

    r = sub.add_parser("render", help=h["render"], description=h["render"])
    r.add_argument("extract", type=Path, metavar=mv["extract"], help=h["extract"])
    who = r.add_mutually_exclusive_group(required=True)
    who.add_argument("--org", action="append", metavar=mv["org"], help=h["render_org"])
    who.add_argument("--all", action="store_true", help=h["render_all"])
    r.add_argument("--by", choices=["ejer", "it_system"], default="ejer", help=h["render_by"])
    r.add_argument("--include-private", action="store_true", help=h["include_private"])
    r.add_argument("--out", type=Path, required=True, metavar=mv["folder"], help=h["render_out"])
    r.add_argument("--jobs", type=int, metavar=mv["seed"], help=h["jobs"])
    r.add_argument("--force", action="store_true", help=h["force"])
    r.add_argument("--keep-ipynb", action="store_true", help=h["keep_ipynb"])
    r.add_argument("--standalone", action="store_true", help=h["standalone"])
    r.add_argument("--quiet", action="store_true", help=h["quiet"])
    r.add_argument("--scheduler", metavar=mv["scheduler"], help=h["scheduler"])
    r.add_argument("--previous", type=Path, metavar=mv["extract"], help=h["render_previous"])
    r.add_argument("--history", type=Path, metavar=mv["folder"], help=h["render_history"])
    r.add_argument("--aliases", type=Path, metavar=mv["aliases"], help=h["aliases"])
    r.add_argument("--no-cache", action="store_true", help=h["no_cache"])
    r.add_argument("--notebooks", type=Path, metavar=mv["folder"], help=h["render_notebooks"])

    n = sub.add_parser("notebooks", help=h["notebooks"], description=h["notebooks"])
    n.add_argument("out", type=Path, metavar=mv["folder"], help=h["notebooks_out"])
    n.add_argument("--extract", type=Path, metavar=mv["extract"], help=h["notebooks_extract"])
    n.add_argument("--org", metavar=mv["org"], help=h["notebooks_org"])
    n.add_argument("--aliases", type=Path, metavar=mv["aliases"], help=h["aliases"])
    n.add_argument("--no-cache", action="store_true", help=h["no_cache"])
    n.add_argument("--force", action="store_true", help=h["notebooks_force"])
    return p


def _load(args: argparse.Namespace) -> Extract:
    """Load the extract named on the command line."""
    from soredi_nb.load import load_extract

    return load_extract(args.extract, aliases=args.aliases, cache=not args.no_cache)


def _cell(value: object) -> str:
    """A table cell as shown: numbers the Danish way (``1.234``), anything else visible."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return danish.number(value)
    return visible(value)


def _print_table(df: pd.DataFrame, left: tuple[str, ...]) -> None:
    """Print a DataFrame as a plain table: ``left`` columns left-aligned, the rest right."""
    # Made visible per cell, so a line break in a name neither breaks the row nor the widths.
    cells = [[visible(c) for c in df.columns]] + [[_cell(v) for v in row] for row in df.values]
    widths = [max(len(r[i]) for r in cells) for i in range(len(df.columns))]
    for row in cells:
        padded = zip(row, widths, df.columns, strict=True)
        _say("  ".join(v.ljust(w) if c in left else v.rjust(w) for v, w, c in padded).rstrip())


def _print_json(data: object) -> None:
    """Print JSON with Danish letters as they are, and control characters escaped.

    ``json.dumps`` escapes C0 controls but leaves C1 and BiDi controls raw; escaping them too
    keeps the output exact (it decodes to the same strings) and harmless in a terminal.
    """
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str).translate(_JSON_ESCAPES))


def _where(p: Problem) -> str:
    """Where a problem is, in Danish: sheet, row, column, value."""
    parts = []
    if p.sheet is not None:
        parts.append(text("cli.where_sheet", sheet=p.sheet))
    if p.row is not None:
        parts.append(text("cli.where_row", row=p.row))
    if p.column is not None:
        parts.append(text("cli.where_column", column=p.column))
    if p.value is not None:
        parts.append(text("cli.where_value", value=visible(p.value)))
    return ", ".join(parts) or text("cli.where_workbook")


def _print_warnings(warnings: list[Problem]) -> None:
    """Print warnings, at most MAX_WARNINGS_SHOWN of them."""
    _say(text("cli.warnings_heading", count=len(warnings)))
    for p in warnings[:MAX_WARNINGS_SHOWN]:
        _say(text("cli.warning_line", where=_where(p), message=p.message))
    if len(warnings) > MAX_WARNINGS_SHOWN:
        _say(text("cli.more_warnings", count=len(warnings) - MAX_WARNINGS_SHOWN))


def _header(extract: Extract) -> None:
    """Print which extract this is."""
    info = extract.info
    unknown = text("cli.unknown")
    _say(text("cli.extract_line", file=info.file))
    _say(text("cli.period_line", period=info.period or unknown, date=info.extract_date or unknown))


def cmd_sample(args: argparse.Namespace) -> int:
    """``soredi-nb sample``."""
    from soredi_nb.sample import history_period, make_sample, write_history, write_sample

    if args.months == 1:
        path = write_sample(
            args.out, scale=args.scale, seed=args.seed, csv=args.csv, overwrite=args.force
        )
        rows = sum(len(df) for df in make_sample(args.scale, args.seed)["tables"].values())
        _say(text("cli.sample_written", path=path, rows=rows))
        return 0
    # OUT is then a folder with one extract per month (see `write_extracts`).
    paths = write_history(
        args.out, args.scale, args.seed, args.months, csv=args.csv, overwrite=args.force
    )
    # The newest month is the one-month sample (cached by now).
    latest = make_sample(args.scale, args.seed)
    _say(
        text(
            "cli.history_written",
            count=len(paths),
            folder=args.out,
            first=history_period(paths[0]),
            last=history_period(paths[-1]),
            rows=sum(len(df) for df in latest["tables"].values()),
        )
    )
    return 0


def cmd_orgs(args: argparse.Namespace) -> int:
    """``soredi-nb orgs``."""
    from soredi_nb.organisations import list_organisations, organisations_in

    extract = _load(args)
    df = list_organisations(extract, by=args.by)
    if "identity" in df:
        # What names each owner exactly (for --org), instead of the internal identity.
        orgs = organisations_in(extract)
        df["selector"] = [orgs[i].selector if i in orgs else None for i in df.pop("identity")]
    if args.json:
        _print_json(df.to_dict(orient="records"))
        return 0
    _header(extract)
    if df.empty:
        _say(text("cli.no_orgs"))
        return 0
    # The rows without an owner (or other value) are the last group; name it.
    df["organisation"] = df["organisation"].fillna(text(f"organisations.no_value.{args.by}"))
    df = df.astype(object).where(df.notna(), "–")
    labels = text("cli.orgs_columns")
    rename = {c: labels["table_prefix"] + c.removeprefix("tabel_") for c in df if "tabel_" in c}
    left = (labels["organisation"], labels["ejertype"], labels["selector"])
    _print_table(df.rename(columns=rename | labels), left)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``soredi-nb validate``: exit 1 when the extract cannot be read at all."""
    try:
        extract = _load(args)
    except ExtractError as err:
        if not args.json:
            raise
        error = Problem(None, None, None, None, str(err)).to_dict()
        _print_json({"tables": [], "errors": [error], "warnings": []})
        return 1
    tables = [
        {
            "number": n,
            "sheet": extract.sheets.get(n),
            "rows": len(extract.tables[n]) if n in extract.tables else 0,
            "missing": n not in extract.tables,
        }
        for n in schema.TABLE_NUMBERS
    ]
    if args.json:
        warnings = [w.to_dict() for w in extract.warnings]
        _print_json({"tables": tables, "errors": [], "warnings": warnings})
        return 0
    _header(extract)
    _say(text("cli.validate_ok"))
    _say(text("cli.tables_heading"))
    for t in tables:
        if t["missing"]:
            line = text("common.missing_table", number=t["number"])
        else:
            line = text("cli.table_line", number=t["number"], sheet=t["sheet"], rows=t["rows"])
        _say("  " + line)
    if extract.warnings:
        _print_warnings(extract.warnings)
    else:
        _say(text("cli.no_warnings"))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """``soredi-nb summary``."""
    from soredi_nb.summary import comparison_note, summarise

    extract = _load(args)
    filters = {
        k: getattr(args, k)
        for k in ("region", "kommune", "it_system", "sor_kode", "enhedsnavn")
        if getattr(args, k) is not None
    }
    summary = summarise(extract, args.org, **filters)
    if args.json:
        _print_json(summary.to_dict())
        return 0
    _header(extract)
    org = summary.organisation
    _print_organisation(org)
    _say()
    labels = text("summary.columns")
    _print_table(_summary_table(summary), (labels["number"], labels["name"]))
    _say()
    for line in filter(None, (t.causes_text() for t in summary.tasks)):
        _say(line)
    missing = [t.number for t in summary.tasks if t.missing]
    if missing:
        _say(text("common.missing_table", number=danish.enumeration(missing)))
    if org is not None:
        quoted = [
            f'"{labels[c]}"' for c in ("median_rows", "peers_with_findings", "median_with_findings")
        ]
        fewer = text("cli.fewer_note", fewer=f'"{labels["peers_fewer"]}"')
        _say(comparison_note(org.kind, *quoted) + " " + fewer)
        if summary.empty:
            _say(summary.empty_note())
    if summary.warnings:
        _say(text("cli.warnings_line", count=len(summary.warnings), file=args.extract))
    else:
        _say(text("cli.no_warnings"))
    return 0


def _summary_table(summary) -> pd.DataFrame:
    """The summary as printed: missing tables marked, no median but that of the findings."""
    df = summary.frame()
    labels = text("summary.columns")
    missing = df.pop(labels["missing"])
    df = df.drop(
        columns=[
            labels["median_location_numbers"],
            labels["median_messages"],
            labels["median_negative_receipts"],
            labels["unclassified_receipts"],
        ],
        errors="ignore",
    )
    df = df.astype(object).where(df.notna(), "–")
    for col in df.columns[2:]:
        df.loc[missing, col] = text("common.missing_cell")
    return df


_FILTERS = ("region", "kommune", "it_system", "sor_kode", "enhedsnavn")


def _filters(args: argparse.Namespace) -> dict[str, str]:
    """The narrowing filters given on the command line."""
    return {k: getattr(args, k) for k in _FILTERS if getattr(args, k) is not None}


def _print_organisation(org) -> None:
    """Print which organisation (or the whole extract) the output is for."""
    if org is None:
        _say(text("cli.national_line"))
    else:
        code = text("cli.code_suffix", code=org.code) if org.code else ""
        _say(text("cli.organisation_line", name=org.name, kind=org.kind, code=code))


def cmd_worklist(args: argparse.Namespace) -> int:
    """``soredi-nb worklist``: write an organisation's worklist, carrying notes over."""
    from soredi_nb.summary import no_findings_text
    from soredi_nb.worklist import write_worklist

    extract = _load(args)
    result = write_worklist(
        args.out, extract, args.org, args.previous, _history(args), **_filters(args)
    )
    _header(extract)
    _print_organisation(result.organisation)
    _say()
    labels = text("summary.columns")
    carried = text("worklist.carried")
    missing = text("common.missing_cell")
    table = pd.DataFrame(
        {
            labels["number"]: list(schema.TABLE_NUMBERS),
            labels["name"]: [schema.table(n).name for n in schema.TABLE_NUMBERS],
            labels["rows"]: [result.rows.get(n, missing) for n in schema.TABLE_NUMBERS],
            carried: [result.carried.get(n, "–") for n in schema.TABLE_NUMBERS],
        }
    )
    if args.previous is None:
        table = table.drop(columns=carried)
    _print_table(table, (labels["number"], labels["name"]))
    _say()
    if result.organisation is not None and result.rows_total == 0:
        _say(no_findings_text(result.organisation.name, _filters(args), result.missing))
    for warning in result.warnings:
        _say(text("worklist.warning_line", message=warning))
    _say(
        text(
            "cli.worklist_written",
            path=result.path,
            rows=result.rows_total,
            sheets=len(result.rows),
        )
    )
    if args.previous is not None:
        _say(text("cli.worklist_carried", file=args.previous, count=result.carried_total))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``soredi-nb compare``: new, resolved and persisting findings between two extracts."""
    from soredi_nb.compare import compare
    from soredi_nb.load import load_extract

    old, new = (
        load_extract(p, aliases=args.aliases, cache=not args.no_cache) for p in (args.old, args.new)
    )
    result = compare(old, new, args.org, **_filters(args))
    if args.json:
        _print_json(result.to_dict())
        return 0
    for label, extract in (("cli.compare_old", old), ("cli.compare_new", new)):
        _say(text(label))
        _header(extract)
    _print_organisation(result.organisation)
    _say()
    labels = text("summary.columns") | text("compare.columns")
    table = result.frame()
    if all(t.comparable for t in result.tasks):
        table = table.drop(columns=labels["note"])
    table = table.astype(object).where(table.notna(), "–")
    _print_table(table, (labels["number"], labels["name"], labels["note"]))
    _say()
    comparable = [t for t in result.tasks if t.comparable]
    totals = {k: sum(getattr(t, k) for t in comparable) for k in ("new", "resolved", "persisting")}
    _say(text("cli.compare_totals", **totals))
    _say(text("compare.explanation"))
    if result.reversed_order:
        _say(text("compare.reversed"))
    return 0


def _history(args: argparse.Namespace):
    """The ``--history`` folder read (its notes said), or ``None`` without one."""
    if args.history is None:
        return None
    from soredi_nb.history import read_history

    past = read_history(args.history, args.aliases, cache=not args.no_cache)
    for note in past.notes:
        _say(note, err=True)
    return past


def cmd_history(args: argparse.Namespace) -> int:
    """``soredi-nb history``: an organisation's findings per period and table."""
    from soredi_nb import history
    from soredi_nb.organisations import resolve

    past = history.read_history(args.folder, args.aliases, cache=not args.no_cache)
    org = resolve(args.org, past.extracts[-1]) if args.org is not None else None
    figures = history.period_figures(past, org, **_filters(args))
    if args.json:
        _print_json(history.to_dict(past, figures, org))
        return 0
    _say(
        text(
            "cli.history_line",
            count=len(past.periods),
            folder=args.folder,
            first=past.periods[0],
            last=past.periods[-1],
        )
    )
    for note in past.notes:
        _say(note)
    _print_organisation(org)
    labels = text("cli.history_columns")
    missing = text("common.missing_cell")
    for number, rows in figures.groupby("number", sort=True):
        _say()
        _say(text("cli.history_table", number=number, name=rows["name"].iloc[0]))
        shown = ["period", "rows", "location_numbers", "messages", "median", "new", "resolved"]
        table = rows[shown]
        if org is None:
            table = table.drop(columns="median")
        if table["messages"].isna().all():
            table = table.drop(columns="messages")
        table = table.astype(object).where(table.notna(), "–")
        table.loc[rows["missing"].to_numpy(), table.columns[1:]] = missing
        _print_table(table.rename(columns=labels), (labels["period"],))
    _say()
    _say(text("cli.history_explanation"))
    if org is not None:
        _say(text("cli.median_note", peers=text(f"summary.peer_group.{org.kind}")))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """``soredi-nb render``: exit 1 if any page failed (the others are still written)."""
    from soredi_nb.render import render, summary_lines, workers
    from soredi_nb.targets import targets

    if args.jobs is not None and args.jobs < 1:
        raise SorediError(text("cli.bad_jobs"))
    extract = _load(args)
    previous = None
    if args.previous is not None:
        from soredi_nb.load import load_extract

        previous = load_extract(args.previous, aliases=args.aliases, cache=not args.no_cache)
    history = _history(args)
    chosen = targets(
        extract, args.org or (), all_=args.all, by=args.by, include_private=args.include_private
    )
    if args.jobs and args.scheduler is None and workers(args.jobs, args.jobs, None) < args.jobs:
        jobs = workers(args.jobs, args.jobs, None)
        _say(text("render.jobs_capped", requested=args.jobs, jobs=jobs), err=True)
    result = render(
        extract,
        chosen,
        args.out,
        jobs=args.jobs,
        force=args.force,
        keep_ipynb=args.keep_ipynb,
        notebooks=args.notebooks,
        progress=not args.quiet,
        scheduler=args.scheduler,
        previous=previous,
        standalone=args.standalone,
        history=history,
    )
    for line in summary_lines(result):
        _say(line, err=bool(result.failures) and line.startswith("  "))
    return 1 if result.failures else 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    """``soredi-nb notebooks``: working copies of the notebooks for one extract and organisation."""
    from soredi_nb.templates import write_working_copies

    values: dict = {"use_cache": not args.no_cache}
    if args.aliases is not None:
        values["aliases_path"] = str(args.aliases.resolve())
    extract = None
    if args.extract is not None:
        extract = _load(args)  # it must be readable with these options, or nothing is written
        values["extract_path"] = str(Path(extract.info.file).resolve())
    if args.org is not None:
        from soredi_nb.organisations import resolve

        values["organisation"] = resolve(args.org, extract).selector
    paths = write_working_copies(args.out, values, force=args.force)
    _say(text("templates.written", count=len(paths), folder=args.out))
    return 0


COMMANDS = {
    "sample": cmd_sample,
    "orgs": cmd_orgs,
    "validate": cmd_validate,
    "summary": cmd_summary,
    "worklist": cmd_worklist,
    "compare": cmd_compare,
    "history": cmd_history,
    "render": cmd_render,
    "notebooks": cmd_notebooks,
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``soredi-nb`` console script."""
    _danish_argparse()
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse reports them from the program; the typed command's help has the fix
        unknown = text("cli.argparse")["unrecognized arguments: %s"] % " ".join(extra)
        parser.commands[args.command].error(unknown)
    try:
        code = COMMANDS[args.command](args)
    except BrokenPipeError:
        # Output piped into e.g. `head`, which stopped reading: not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except SorediError as err:
        _say(text("cli.error", message=err), err=True)
        code = 1
    except OSError as err:
        from soredi_nb.files import reason

        # Never Python's English strerror: the reason in Danish, with the path when there is one
        # (a full disk while writing, for one, names no file).
        if err.filename is None:
            message = text("cli.os_error_no_file", reason=reason(err))
        else:
            message = text("cli.os_error", file=err.filename, reason=reason(err))
        _say(message, err=True)
        code = 1
    except KeyboardInterrupt:
        _say(text("cli.interrupted"), err=True)
        code = 130
    sys.exit(code)
