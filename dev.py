#!/usr/bin/env python3
"""Set up a local virtual environment and run the project's two main jobs.

Usage::

    python3 dev.py demo   # create .venv if needed, then render the reports of the sample months
    python3 dev.py test   # create .venv if needed, then run ruff and the whole test suite

Only the standard library is used here, so this works on a fresh machine with Python 3.11+.
The environment is reinstalled whenever ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".soredi-nb-installed"
MONTHS = ROOT / "build" / "udtraek"
"""Six monthly sample extracts; the newest is the one the demo reports on."""
REPORTS = ROOT / "build" / "reports"
DEMO_ORG = "Aarhus"


def run(*args: str | Path) -> None:
    """Run a command from the repository root, stopping on failure."""
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv() -> None:
    """Create ``.venv`` and install the package with its test extras when missing or stale."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[test]")
    run(PYTHON, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3")
    STAMP.write_text(wanted)


def demo() -> None:
    """Generate six months of sample extracts, show summaries and the history, and render
    every report set of the newest month to HTML, with the others as its history."""
    run(PYTHON, "-m", "soredi_nb", "sample", MONTHS, "--months", "6", "--force")
    newest = max(MONTHS.glob("*.xlsx"))  # named by period: the last is the newest
    run(PYTHON, "-m", "soredi_nb", "summary", newest)
    run(PYTHON, "-m", "soredi_nb", "summary", newest, "--org", DEMO_ORG)
    run(PYTHON, "-m", "soredi_nb", "history", MONTHS, "--org", DEMO_ORG)
    run(PYTHON, "-m", "soredi_nb", "render", newest, "--all", "--history", MONTHS, "--out", REPORTS)


def test() -> None:
    """Lint and run the whole test suite."""
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "-m", "ruff", "format", "--check", ".")
    run(PYTHON, "-m", "pytest", *sys.argv[2:])


def main() -> None:
    jobs = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in jobs:
        sys.exit(f"usage: python3 {Path(__file__).name} {{{'|'.join(jobs)}}} [pytest args]")
    ensure_venv()
    jobs[sys.argv[1]]()


if __name__ == "__main__":
    main()
