"""A regular (non-editable) install renders: the notebooks and templates ship in the wheel.

Builds the wheel, installs it into a fresh virtual environment outside the checkout and renders
one organisation of the sample there. The fresh environment borrows this one's dependencies
through a ``.pth`` line (so no download of pandas & co.), but not soredi-nb itself: this project
is installed in editable mode, which a plain path on ``sys.path`` does not pick up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The Python of a fresh virtual environment with the built wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp / "dist", ROOT)
    [wheel] = (tmp / "dist").glob("soredi_nb-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps = Path(purelib.stdout.strip()) / "_soredi_test_deps.pth"
    deps.write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel)
    # A kernel spec of the fresh environment, so the pages' kernels run its Python too.
    run(python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3")
    return python


def test_wheel_contains_the_notebooks_and_renders_eight_pages(installed, tmp_path):
    # The borrowed dependencies' data files (nbconvert's templates) are where they were
    # installed; offer those alone, as a full install would have them in the fresh environment
    # (the whole data folder would also offer this environment's kernel).
    data = tmp_path / "jupyter"
    (data / "nbconvert").mkdir(parents=True)
    (data / "nbconvert" / "templates").symlink_to(
        Path(sys.prefix) / "share" / "jupyter" / "nbconvert" / "templates"
    )
    env = os.environ | {
        "SOREDI_NB_CACHE": str(tmp_path / "cache"),
        "JUPYTER_PREFER_ENV_PATH": "1",
        "JUPYTER_PATH": str(data),
    }
    env.pop("PYTHONPATH", None)
    kernel = run(
        installed,
        "-c",
        "from jupyter_client.kernelspec import KernelSpecManager as K;"
        "print(K().get_kernel_spec('python3').argv[0])",
        env=env,
    )
    assert Path(kernel.stdout.strip()).parent == installed.parent  # the pages' kernels, too
    where = run(
        installed, "-c", "import soredi_nb; print(soredi_nb.__file__)", cwd=tmp_path, env=env
    )
    package = Path(where.stdout.strip())
    assert installed.parent.parent in package.parents, package  # not the checkout
    assert len(list((package.parent / "notebooks").glob("*.ipynb"))) == 8

    run(installed, "-m", "soredi_nb", "sample", "udtraek.xlsx", cwd=tmp_path, env=env)
    done = run(
        installed,
        "-m",
        "soredi_nb",
        "render",
        "udtraek.xlsx",
        "--org",
        "aarhus",
        "--out",
        "rapporter",
        "--quiet",
        cwd=tmp_path,
        env=env,
    )
    assert "Færdig: 8 sider lavet, 0 uændrede sider genbrugt, 0 sider fejlede." in done.stdout
    folder = tmp_path / "rapporter" / "aarhus-kommune"
    pages = sorted(p.name for p in folder.glob("*.html"))
    assert len(pages) == 8 and "index.html" in pages
    overview = (folder / "index.html").read_text(encoding="utf-8")
    assert "Aarhus Kommune" in overview and "Ingen oprydningsopgave" not in overview
    assert (folder / "arbejdsliste.xlsx").exists()
