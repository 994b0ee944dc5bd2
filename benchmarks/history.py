"""Benchmark a history of twelve national-scale monthly extracts (issue 12).

Usage::

    .venv/bin/python benchmarks/history.py [--months N] [--keep DIR] [--render]

Writes ``--months`` (default 12) national sample months (``sample.write_history``) to a
temporary folder (or ``--keep DIR``, reused when it is there), parses each once into the parse
cache (``SOREDI_NB_CACHE`` in the same folder), then measures:

(a) one organisation's history, as ``soredi-nb history DIR --org Aarhus`` computes it: reading
    the folder from the parse cache, and the per-period figures (``history.period_figures``)
    once it is read, in a fresh ``History`` each time (nothing kept from an earlier round);
    best of ``--repeats``. Target: the figures within ``HISTORY_SECONDS`` once parsed.
(b) with ``--render``: a national render of the newest month (every municipality and region,
    8 pages each) without and with ``--history``, side by side in one run; target: with at
    most ``RENDER_RATIO`` times without. This takes two national renders.

Prints every figure with its target and exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from arguments import positive

HISTORY_SECONDS = 2.0
"""One organisation's history of twelve national months, once parsed."""
RENDER_RATIO = 1.3
"""A national render with the history may take at most this many times one without."""
ORGANISATION = "Aarhus"


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=positive, default=12)
    parser.add_argument("--repeats", type=positive, default=3)
    parser.add_argument("--keep", type=Path, help="folder for the months and the cache")
    parser.add_argument("--render", action="store_true", help="also the national render")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="soredi-history-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ["SOREDI_NB_CACHE"] = str(root / "cache")

    from soredi_nb import history
    from soredi_nb.load import load_extract
    from soredi_nb.organisations import resolve
    from soredi_nb.sample import write_history

    folder = root / "udtraek"
    if not folder.is_dir():
        print(f"writing {args.months} national months to {folder} ...", flush=True)
        seconds, _ = _timed(lambda: write_history(folder, "national", 0, args.months))
        print(f"  written in {seconds:.0f} s")
    paths = sorted(folder.glob("*.xlsx"))
    seconds, _ = _timed(lambda: [load_extract(p) for p in paths])
    print(f"{len(paths)} extracts parsed (or read from the cache) in {seconds:.0f} s")

    reads, figures = [], []
    for _ in range(args.repeats):
        read, past = _timed(lambda: history.read_history(folder))
        org = resolve(ORGANISATION, past.extracts[-1])
        seconds, table = _timed(lambda past=past, org=org: history.period_figures(past, org))
        reads.append(read)
        figures.append(seconds)
    rows = sum(len(df) for e in past.extracts for df in e.tables.values())
    print(
        f"history of {ORGANISATION}: {len(past.periods)} periods, {rows} rows in all;"
        f" read from the parse cache in {min(reads):.2f} s, figures in {min(figures):.2f} s"
        f" (best of {args.repeats}; {len(table)} period-table rows)"
    )
    ok = min(figures) <= HISTORY_SECONDS
    print(
        f"{'PASS' if ok else 'FAIL'}: one organisation's history once parsed in"
        f" {min(figures):.2f} s (target <= {HISTORY_SECONDS:.0f} s)"
    )
    if args.render:
        ok &= _render(root, past)
    return 0 if ok else 1


def _render(root: Path, past) -> bool:
    """A national render of the newest month without and with the history, side by side."""
    from soredi_nb import reference
    from soredi_nb.render import render
    from soredi_nb.targets import targets

    extract = past.extracts[-1]
    everyone = [*reference.municipalities()["navn"], *reference.regions()["region"]]
    chosen = targets(extract, everyone, all_=True)
    times, cpus = {}, {}
    for label, given in (("without", None), ("with", past)):
        out = root / f"site-{label}"
        before = os.times()
        seconds, result = _timed(
            lambda out=out, given=given: render(
                extract, chosen, out, force=True, progress=False, history=given
            )
        )
        after = os.times()  # the kernels have ended: their CPU time is the children's
        own = after.user + after.system - before.user - before.system
        kernels = sum(after[2:4]) - sum(before[2:4])
        times[label], cpus[label] = seconds, own + kernels
        pages = len(result.pages)
        print(
            f"national render {label} the history: {seconds / 60:.1f} min, {pages} pages,"
            f" {len(result.failures)} failed; CPU {own + kernels:.0f} s ({own:.0f} s this"
            f" process, {kernels:.0f} s the kernels)"
        )
        if result.failures:
            return False
    ratio = times["with"] / times["without"]
    ok = ratio <= RENDER_RATIO
    # CPU time varies less than wall time with what else the machine does: said beside it.
    print(
        f"{'PASS' if ok else 'FAIL'}: with the history {ratio:.2f} times the time without"
        f" (target <= {RENDER_RATIO}); in CPU time {cpus['with'] / cpus['without']:.2f} times"
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
