"""The warm kernels of a render: one per worker, reused page after page without leaking."""

from __future__ import annotations

import gc

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from soredi_nb import execute, site, warmup


def write(path, *sources: str):
    """A notebook with a ``parameters`` cell (``x = 1``) and one code cell per source."""
    cells = [new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
    nb = new_notebook(cells=cells + [new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def printed(nb) -> str:
    """What the notebook's last cell printed."""
    return "".join(o.get("text", "") for o in nb.cells[-1].outputs)


@pytest.fixture
def fresh_kernels():
    execute.shutdown_kernels()
    yield
    execute.shutdown_kernels()


def test_a_reused_kernel_starts_each_page_with_nothing_of_the_previous_one(tmp_path, fresh_kernels):
    first = write(
        tmp_path / "a.ipynb",
        "import json\nleak = 'previous page'",
        "leak  # an output the kernel keeps as Out[n] and _",
    )
    second = write(
        tmp_path / "b.ipynb",
        "shown = globals().get('_') == 'previous page'\n"
        "print('leak' in globals(), 'json' in globals(), len(Out), shown, x)",
    )
    executed = execute.execute(execute.prepare(first), {"x": 2})
    assert executed.cells[-1].outputs[0]["data"]["text/plain"] == "'previous page'"
    km = execute.kernel()
    nb = execute.execute(execute.prepare(second), {"x": 3})
    assert execute.kernel() is km  # the same kernel, warm
    assert printed(nb).split() == ["False", "False", "0", "False", "3"]


def test_a_warm_kernel_has_what_pages_use_imported_and_frozen(tmp_path, fresh_kernels):
    probe = write(
        tmp_path / "probe.ipynb",
        "import gc, sys\n"
        f"print(all(m in sys.modules for m in {warmup.PRELOADED!r}), gc.get_freeze_count())",
    )
    loaded, frozen = printed(execute.execute(execute.prepare(probe), {})).split()
    assert loaded == "True"
    # The imports' objects are out of the collector's way (every page's reset collects).
    assert int(frozen) > 100_000


def test_an_extract_read_in_a_warm_kernel_is_frozen_too(tmp_path, fresh_kernels):
    probe = write(
        tmp_path / "probe.ipynb",
        "import gc\n"
        "from soredi_nb import notebook\n"
        "before = gc.get_freeze_count()\n"
        "notebook.open_extract(None)\n"
        "print(gc.get_freeze_count() - before)",
    )
    # The extract stays for the kernel's life: no page's collection walks it again.
    assert int(printed(execute.execute(execute.prepare(probe), {}))) > 1_000


def test_a_warm_kernel_sends_a_stand_in_for_the_datatables_bundle(tmp_path, fresh_kernels):
    page = write(
        tmp_path / "table.ipynb",
        "import pandas as pd\n"
        "from soredi_nb.notebook import show_table\n"
        "show_table(pd.DataFrame({'a': range(3)}))",
    )
    nb = execute.execute(execute.prepare(page), {})
    sent = "".join(o.get("data", {}).get("text/html", "") for o in nb.cells[-1].outputs)
    # A few KB rather than the 1 MB bundle, which the page export puts in (site.put_bundle).
    assert site.datatables_script(site.DATATABLES_STUB) in sent
    assert site.datatables_script() not in sent
    assert len(sent) < 20_000


def test_settle_leaves_an_analysts_kernel_alone():
    before = gc.get_freeze_count()
    warmup.settle()  # this process never preloaded: it may read many extracts and drop them
    assert gc.get_freeze_count() == before


def test_a_failing_cell_keeps_the_kernel_and_its_client_for_the_next_page(tmp_path, fresh_kernels):
    failing = write(tmp_path / "fail.ipynb", "raise ValueError('boom')")
    fine = write(tmp_path / "fine.ipynb", "print(x * 2)")
    with pytest.raises(execute.PageFailed, match="boom") as failed:
        execute.run(failing, {"x": 2}, {})
    assert failed.value.cell == 2  # the template's own numbering: parameters cell, then this
    km = execute.kernel()
    assert printed(execute.execute(execute.prepare(fine), {"x": 21})) == "42\n"
    assert execute.kernel() is km
