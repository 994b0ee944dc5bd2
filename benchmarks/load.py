"""Benchmark the loader on a national-size extract: first load per engine vs a cached load.

Usage::

    python benchmarks/load.py [--repeats N] [--keep DIR]

Writes a national sample (``soredi_nb.sample.write_sample``, or a built-in generator of the same
size when that is not available) to a temporary folder, then times side by side: a first load
with python-calamine and with openpyxl (cache disabled), and a cached load after one warm-up
write. The machine may be noisy, so each figure is the best of its repeats. Then it measures the
peak memory of a first load per engine, each in a fresh Python: before the load (interpreter and
imports) and after it. Exits 1 if a cached load is not at least ``TARGET`` times faster than the
first calamine load, or if a load needs more than ``MEMORY_LIMIT`` times the memory it needed
before bounded reading (``MEMORY_BEFORE_MB``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arguments import positive

from soredi_nb import schema
from soredi_nb.load import load_extract

TARGET = 20.0
"""Required speed-up of a cached load over a first load with calamine."""
NATIONAL_ROWS = 52_000
MEMORY_BEFORE_MB = {"calamine": 158, "openpyxl": 143}
"""Memory a first load of the national sample took (peak minus the interpreter and imports)
before bounded reading (issue 9), measured with ``peak_memory`` on a 2-CPU Linux machine."""
MEMORY_LIMIT = 2.0
"""A first load may need at most this many times ``MEMORY_BEFORE_MB``."""

# Run in a fresh Python, so that the peak belongs to one load and nothing else. On Linux the
# peak is VmHWM: ru_maxrss of a child starts at its parent's peak (the memory it forked from).
_MEASURE = """
import json, resource, sys
from soredi_nb.load import load_extract

def peak():
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS
        return rss / 2**20

before = peak()
load_extract(sys.argv[1], engine=sys.argv[2], cache=False)
print(json.dumps([before, peak()]))
"""


def make_workbook(path: Path) -> Path:
    """A national-size workbook: the sample generator's if it exists, else a built-in one."""
    try:
        from soredi_nb.sample import write_sample
    except ImportError:
        return _generate(path)
    return write_sample(path, scale="national", seed=0)


def _generate(path: Path, rows: int = NATIONAL_ROWS, seed: int = 0) -> Path:
    """Write ``rows`` rows over the seven tables, with the cell types real workbooks have."""
    import openpyxl

    rng = random.Random(seed)
    glns = [_gln(rng) for _ in range(4000)]
    owners = ["Aarhus Kommune", "Odense Kommune", "Region Midtjylland", "Lægehuset Åbyhøj"]
    wb = openpyxl.Workbook(write_only=True)
    for number, table in schema.tables().items():
        ws = wb.create_sheet(f"{number} {table.name}"[:31].strip())
        ws.append([f"Tabel {number}: {table.name}"])
        ws.append([])
        ws.append(list(table.headers.values()))
        for _ in range(rows // 7):
            ws.append([_cell(name, rng, glns, owners) for name in table.columns])
    ws = wb.create_sheet("Info")
    ws.append(["Udtræksdato", dt.datetime(2024, 7, 2)])
    ws.append(["Periode", "2024-06"])
    wb.save(path)
    return path


def _gln(rng: random.Random) -> int:
    """A random valid GLN as a number, as Excel often stores it."""
    from soredi_nb.validate import gln_check_digit

    first12 = f"579{rng.randrange(10**9):09d}"
    return int(first12 + str(gln_check_digit(first12)))


def _cell(name: str, rng: random.Random, glns: list[int], owners: list[str]):
    """One cell value of a canonical column."""
    kind = schema.columns()[name].type
    if kind == "gln":
        return rng.choice(glns) if rng.random() < 0.5 else str(rng.choice(glns))
    if kind == "sor":
        return str(rng.randrange(10**14, 10**15))
    if kind == "date":
        day = dt.datetime(2020, 1, 1) + dt.timedelta(days=rng.randrange(1500))
        return day if rng.random() < 0.8 else day.strftime("%d-%m-%Y")
    if kind == "int":
        return rng.randrange(1, 5000)
    if name == "ejer":
        return rng.choice(owners)
    return f"{name} {rng.randrange(200)}"


def _best(fn, repeats: int) -> float:
    """Best wall-clock seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(workbook: Path, engine: str) -> tuple[float, float]:
    """Peak resident memory in MB of a fresh Python before and after a first load.

    Parameters
    ----------
    workbook : Path
        The workbook to load.
    engine : str
        ``"calamine"`` or ``"openpyxl"``.

    Returns
    -------
    tuple of float
        The peak after importing the loader, and the peak after loading ``workbook`` once
        without the cache.
    """
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(workbook), engine],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = json.loads(done.stdout)
    return before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive, default=5, help="repeats of the cached load")
    parser.add_argument("--keep", type=Path, help="use/keep the workbook in this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        workbook = folder / "national.xlsx"
        if not workbook.exists():
            make_workbook(workbook)
        cache_dir = Path(tmp) / "cache"

        first = load_extract(workbook, engine="calamine", cache=False)
        rows = sum(len(df) for df in first.tables.values())
        size = workbook.stat().st_size / 1e6
        print(f"Workbook: {rows} rows, {size:.1f} MB ({workbook})")

        calamine = _best(lambda: load_extract(workbook, engine="calamine", cache=False), 2)
        openpyxl = _best(lambda: load_extract(workbook, engine="openpyxl", cache=False), 1)
        load_extract(workbook, cache_dir=cache_dir)  # warm-up: parse and write the cache
        cached = _best(lambda: load_extract(workbook, cache_dir=cache_dir), args.repeats)
        memory = {engine: peak_memory(workbook, engine) for engine in MEMORY_BEFORE_MB}

    ratio = calamine / cached
    print(f"first load, calamine : {calamine:8.3f} s")
    print(f"first load, openpyxl : {openpyxl:8.3f} s  ({openpyxl / calamine:.1f}x calamine)")
    print(f"cached load          : {cached:8.3f} s  ({ratio:.0f}x faster than calamine)")
    fast = ratio >= TARGET
    print(
        f"{_verdict(fast)}: cached load must be >= {TARGET:.0f}x faster than a first calamine load"
    )
    for engine, (before, after) in memory.items():
        load, then = after - before, MEMORY_BEFORE_MB[engine]
        print(
            f"peak memory, {engine:<8} : {before:4.0f} MB before the load, {after:4.0f} MB after"
            f"  (the load {load:.0f} MB; {then} MB before bounded reading: {load / then:.2f}x)"
        )
    lean = all(
        after - before <= MEMORY_LIMIT * MEMORY_BEFORE_MB[e]
        for e, (before, after) in memory.items()
    )
    print(f"{_verdict(lean)}: a first load may need at most {MEMORY_LIMIT:.0f}x its memory before")
    return 0 if fast and lean else 1


def _verdict(passed: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if passed else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
