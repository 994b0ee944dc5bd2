"""In a real browser: rendered reports work in headless Chromium with the network blocked.

The reports are read offline, opened straight from disk, so this drives Debian's ``chromium``
(with Playwright) over ``file://`` pages and fails on anything a reader would notice: a script
error, a request to the network, a table that does not initialise or filter, a chart that does
not decode, a broken link, extract text that runs as HTML.

CI installs Chromium (``.ci/run``) and sets ``CI``, so there a missing browser fails the tests;
elsewhere they skip and say what to install. ``SOREDI_NB_CHROMIUM=/path/to/chromium`` picks
another executable (a missing path shows the skip).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from soredi_nb import national, reference, schema
from soredi_nb import render as r
from soredi_nb.files import slugify
from soredi_nb.load import load_extract
from soredi_nb.sample import make_sample, write_extract
from soredi_nb.targets import targets
from soredi_nb.templates import NOTEBOOKS, notebook_name
from soredi_nb.texts import text

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture: skip locally, fail in CI
    sync_playwright = None
if TYPE_CHECKING:
    from playwright.sync_api import Page

# Two report sets keep it fast and still cover both kinds of page: Aarhus has few findings per
# table (each fits on one DataTables page), Region Sjælland has 11 in table 2 (paging, search).
AARHUS, REGION = "Aarhus Kommune", "Region Sjælland"
TASKS = (2, 5)
AARHUS_SLUG, REGION_SLUG = slugify(AARHUS), slugify(REGION)
PAGES = ["index.html"] + [
    f"{slug}/{name}"
    for slug in (AARHUS_SLUG, REGION_SLUG)
    for name in ["index.html"] + [f"{notebook_name(n)}.html" for n in TASKS]
]
"""Every page of the report set, relative to its root."""
HOSTILE = "<img src=x onerror=alert(1)></script><script>alert(2)</script>"
"""Unit name on every Aarhus row: it must show as text, never load ``x`` or open a dialog."""
PAGE_LENGTH = 10  # DataTables' default page length (itables does not change it)
DATATABLES = text("notebook.datatables")
# English a reader must never meet: itables' notes to notebook users, DataTables' defaults.
ENGLISH = (
    "init_notebook_mode",
    "JavaScript not allowed",
    "not shown",
    "Loading ITables",
    "Activate to sort",
    "Showing",
    "entries",
    "No description has been provided",
)
MISSING_BROWSER = (
    "Chromium findes ikke: installér Debian-pakken 'chromium' (apt-get install chromium) "
    "for at køre browsertesten"
)
MISSING_PLAYWRIGHT = (
    "Playwright findes ikke: installér testafhængighederne (pip install -e '.[test]') "
    "for at køre browsertesten"
)
# We run as root on a machine without network: no sandbox, no GPU, and none of Chromium's own
# background traffic (updates, sync, QUIC probes), so only the pages' requests are seen.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(message: str):
    """Skip, or fail in CI: CI installs the browser, so a missing one there is a real error."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def chromium_executable() -> str | None:
    """Debian's Chromium, or the executable named by ``SOREDI_NB_CHROMIUM``."""
    wanted = os.environ.get("SOREDI_NB_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    return shutil.which("chromium")


def sample_rows(org: str, number: int):
    """The organisation's rows of table ``number`` in the sample the reports are built from."""
    df = make_sample()["tables"][number]
    return df[df["ejer"] == org]


def has_charts(relative: str) -> bool:
    """Every overview (the front page too) has charts, a task page only with findings."""
    if relative == "index.html":
        return True
    slug, name = relative.split("/")
    if name == "index.html":
        return True
    org = AARHUS if slug == AARHUS_SLUG else REGION
    return len(sample_rows(org, int(name[:2]))) > 0


def task_file(number: int) -> str:
    """File name of the task page for table ``number``."""
    return f"{notebook_name(number)}.html"


def most_to_do(site: Path) -> str:
    """The organisation with the most findings in the extract ``site`` was made from."""
    extract = load_extract(site.parent / "udtraek.xlsx")
    return national.work_first(national.organisation_table(extract))["organisation"][0]


HINTS = text("notebook.table_hint")
"""How to use a table's controls: shown by DataTables, so never above a plain table."""


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, shared by the module (starting it takes a second)."""
    if sync_playwright is None:
        unavailable(MISSING_PLAYWRIGHT)
    executable = chromium_executable()
    if executable is None:
        unavailable(MISSING_BROWSER)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory) -> Path:
    """The rendered report set (overview and two task pages per organisation).

    Asks for ``browser`` first so that a missing browser skips before the slow render.
    """
    root = tmp_path_factory.mktemp("browser")
    sample = make_sample()
    for df in sample["tables"].values():
        df.loc[df["ejer"] == AARHUS, "enhedsnavn"] = HOSTILE
    notebooks = [NOTEBOOKS / f"{notebook_name(n)}.ipynb" for n in (0, *TASKS)]
    # A module fixture runs before conftest's per-test cache isolation: isolate it here, so
    # neither this process nor the kernels touch the user's cache.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOREDI_NB_CACHE", str(root / "cache"))
        extract = load_extract(write_extract(sample, root / "udtraek.xlsx"))
        result = r.render(
            extract,
            targets(extract, [AARHUS, REGION]),
            root / "out",
            jobs=2,
            notebooks=notebooks,
            progress=False,
        )
    assert result.failures == [], "\n".join(r.summary_lines(result))
    return result.out_dir


@dataclass
class Tab:
    """A browser page with a record of everything a reader should never see happen."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        """Load a page from disk, as a reader opens a downloaded report."""
        self.page.goto(path.as_uri())

    def assert_clean(self) -> None:
        """No script errors, no dialogs, no attempt to reach the network."""
        assert self.errors == []
        assert self.dialogs == []
        assert self.blocked == []


@pytest.fixture
def tab(browser):
    """A fresh page (own context: no cache or history shared) with the network blocked."""
    context = browser.new_context()
    page = context.new_page()
    tab = Tab(page)

    def offline(route):
        # Pages are opened from disk and must carry everything they need; data: URLs are inline.
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            tab.blocked.append(f"{route.request.resource_type} {url}")
            route.abort()

    def console(message):
        if message.type == "error":
            tab.errors.append(message.text)

    def dialog(d):
        tab.dialogs.append(d.message)
        d.dismiss()  # with a listener, Playwright leaves the dialog open and the page blocked

    context.route("**/*", offline)
    page.on("console", console)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    page.on("dialog", dialog)
    page.on("request", lambda req: tab.requests.append(req.url))
    yield tab
    context.close()


def wait_for_tables(page) -> None:
    """Wait until DataTables has initialised every itables table (it does so asynchronously)."""
    expect(page.locator("table[id^='itables_']:not(.dataTable)")).to_have_count(0)


def findings_table(page):
    """The findings table once DataTables has initialised it (identified by its header)."""
    # With sideways scrolling DataTables draws the header in a table of its own: the table of
    # the rows is the one itables gave an id.
    table = page.locator(
        "table.dataTable[id^='itables_']", has=page.locator("th", has_text="Lokationsnummer")
    )
    expect(table).to_be_visible()
    return table


def container(page, table):
    """The DataTables wrapper around ``table``: its search box and row info live there."""
    return page.locator("div.dt-container", has=table)


def info(start: int, end: int, total: int, filtered_from: int | None = None) -> str:
    """DataTables' row info as the Danish texts word it."""
    line = (
        DATATABLES["info"]
        .replace("_START_", str(start))
        .replace("_END_", str(end))
        .replace("_TOTAL_", str(total))
    )
    if filtered_from is not None:
        line += " " + DATATABLES["infoFiltered"].replace("_MAX_", str(filtered_from))
    return line


@pytest.mark.parametrize("relative", PAGES)
def test_page_loads_offline_without_errors(site, tab, relative):
    tab.open(site / relative)
    wait_for_tables(tab.page)  # before judging the console: initialising may still fail
    images = tab.page.locator("img")
    if has_charts(relative):
        expect(images.first).to_be_visible()
    for i in range(images.count()):
        image = images.nth(i)
        expect(image).to_be_visible()
        assert image.get_attribute("src").startswith("data:image/png;base64,")
        assert image.evaluate("img => img.complete && img.naturalWidth") > 0  # it decoded
    tab.assert_clean()


@pytest.mark.parametrize(
    ("org", "number"),
    [(AARHUS, 2), (AARHUS, 5), (REGION, 2)],
    ids=["aarhus-2", "aarhus-5", "region-2"],
)
def test_findings_table_has_every_row_of_the_organisation(site, tab, org, number):
    expected = len(sample_rows(org, number))
    assert expected > 0
    tab.open(site / slugify(org) / task_file(number))
    table = findings_table(tab.page)
    # Every row is in the page (no paging); a long table says how many in its row info.
    expect(table.locator("tbody tr")).to_have_count(expected)
    if expected > PAGE_LENGTH:
        expect(container(tab.page, table).locator(".dt-info")).to_have_text(
            info(1, expected, expected)
        )
    else:  # no search box or filter panes on a short table: it only sorts, and says so
        expect(container(tab.page, table).locator(".soredi-hint")).to_have_text(HINTS["sort"])
    tab.assert_clean()


@pytest.mark.parametrize("relative", ["index.html", f"{REGION_SLUG}/{task_file(2)}"])
def test_every_row_without_javascript(site, browser, relative):
    """With scripts off, the front page lists every organisation and a task page every row."""
    context = browser.new_context(java_script_enabled=False)
    context.route(
        "**/*",
        lambda route: (
            route.abort()
            if "://" in route.request.url and not route.request.url.startswith("file:")
            else route.continue_()
        ),
    )
    page = context.new_page()
    page.goto((site / relative).as_uri())
    text = page.locator("body").inner_text()
    # A plain table neither sorts nor searches: no page tells its reader to click a heading.
    assert "kolonneoverskrift" not in text
    assert not [hint for hint in HINTS.values() if hint in text]
    if relative == "index.html":
        for org in (AARHUS, REGION):
            expect(page.get_by_role("link", name=org, exact=True)).to_be_visible()
        every = [*reference.municipalities()["navn"], *reference.regions()["region"]]
        assert all(name in text for name in every)
        # Who has the most to do comes first, also without JavaScript; the lines that are no
        # one organisation come last, as the text above the table says.
        rows = page.locator('div[id$="_fallback"] table').first.locator("tbody tr")
        expect(rows.first.locator("td").first).to_have_text(most_to_do(site))
        last = rows.last
        grouped = "Øvrige ejere af typen Privat"
        expect(last.locator("td").first).to_contain_text(grouped)
        assert "Nederst står de linjer, der ikke er én organisation: " + grouped in text
    else:
        for gln in sample_rows(REGION, 2)["modpart_lokationsnummer"]:
            assert gln in text
        # The plain table reads as the interactive one: text left, numbers right.
        plain = page.locator('div[id$="_fallback"] table').first
        headings = plain.locator("th").all_inner_texts()
        count = headings.index(schema.table(2).headers["antal"]) + 1
        align = "e => getComputedStyle(e).textAlign"
        for column, side in ((2, ("left", "start")), (count, ("right", "end"))):
            for cell in (f"th:nth-child({column})", f"tbody td:nth-child({column})"):
                assert plain.locator(cell).first.evaluate(align) in side, (cell, headings)
    for phrase in ENGLISH:
        assert phrase not in text, phrase
    context.close()


def test_search_box_filters_the_rows_to_a_location_number(site, tab):
    rows = sample_rows(REGION, 2)
    counts = rows["lokationsnummer"].value_counts()
    wanted = counts.idxmin()  # the rarest of the region's own location numbers: a real filter
    # DataTables searches every column, so count the rows where the number occurs anywhere.
    hits = int(
        rows.astype(str).apply(lambda c: c.str.contains(wanted, regex=False)).any(axis=1).sum()
    )
    assert 0 < hits < len(rows)
    tab.open(site / REGION_SLUG / task_file(2))
    table = findings_table(tab.page)
    box = container(tab.page, table).get_by_label(DATATABLES["search"])
    box.press_sequentially(wanted)  # typed key by key, as a reader would
    expect(table.locator("tbody tr")).to_have_count(hits)
    for row in table.locator("tbody tr").all():
        expect(row).to_contain_text(wanted)
    expect(container(tab.page, table).locator(".dt-info")).to_have_text(
        info(1, hits, hits, filtered_from=len(rows))
    )
    tab.assert_clean()


def test_a_standalone_page_works_alone(site, tab, tmp_path):
    """A page made with --standalone, copied away from its site, still has a working table."""
    extract = load_extract(site.parent / "udtraek.xlsx")
    notebooks = [NOTEBOOKS / f"{notebook_name(2)}.ipynb"]
    chosen = targets(extract, [REGION])
    result = r.render(
        extract, chosen, tmp_path / "out", notebooks=notebooks, standalone=True, progress=False
    )
    assert result.failures == [], "\n".join(r.summary_lines(result))
    alone = tmp_path / "mailed.html"  # as a reader keeps one page from a mail
    shutil.copy(tmp_path / "out" / REGION_SLUG / task_file(2), alone)
    tab.open(alone)
    table = findings_table(tab.page)
    rows = len(sample_rows(REGION, 2))
    expect(table.locator("tbody tr")).to_have_count(rows)
    expect(container(tab.page, table).locator(".dt-info")).to_have_text(info(1, rows, rows))
    tab.assert_clean()


def test_index_links_lead_to_the_overview_and_on_to_a_task_page(site, tab):
    tab.open(site / "index.html")
    table = tab.page.locator(
        "table.dataTable[id^='itables_']", has=tab.page.locator("th", has_text="Vurdering")
    )
    expect(table).to_be_visible()
    for org in (AARHUS, REGION):
        link = table.get_by_role("link", name=org, exact=True)
        expect(link).to_have_attribute("href", f"{slugify(org)}/index.html")
    # Who has the most to do first, and how to find someone else: the table says so itself.
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text(most_to_do(site))
    box = container(tab.page, table)
    expect(box.locator(".soredi-hint")).to_have_text(HINTS["search"])
    # The assessment sorts by the findings it counts, not as text ("1 fund" before "Ingen").
    head = box.locator("div.dt-scroll-head th", has_text="Vurdering")
    # A screen reader hears the heading and then what clicking it does, as two phrases.
    expect(
        head.get_by_role("button", name="Vurdering: sortér efter denne kolonne")
    ).to_be_attached()
    head.click()
    expect(table.locator("tbody tr").first.locator("td").last).to_have_text(
        text("national.status_none")
    )
    head.click()
    whole = national.organisation_table(load_extract(site.parent / "udtraek.xlsx"))
    biggest = whole.loc[whole["i_alt"].idxmax(), "organisation"]  # a grouped row, here too
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text(biggest)
    table.get_by_role("link", name=AARHUS, exact=True).click()
    expect(tab.page).to_have_url((site / AARHUS_SLUG / "index.html").as_uri())
    expect(tab.page).to_have_title(re.compile(f" – {AARHUS}$"))
    tab.page.get_by_role("link", name="Tabel 2:").click()
    expect(tab.page).to_have_url((site / AARHUS_SLUG / task_file(2)).as_uri())
    findings_table(tab.page)
    tab.assert_clean()


def test_hostile_unit_name_is_shown_as_text(site, tab):
    for name in ["index.html"] + [task_file(n) for n in TASKS]:
        tab.open(site / AARHUS_SLUG / name)
        wait_for_tables(tab.page)
    # The last page opened is table 5: the name is in its findings table, cell for cell.
    table = findings_table(tab.page)
    cells = table.locator("td", has_text=HOSTILE)
    expect(cells).to_have_count(len(sample_rows(AARHUS, 5)))
    expect(cells.first).to_have_text(HOSTILE)
    assert table.locator("img, script").count() == 0  # nothing in the table became an element
    assert not [u for u in tab.requests if u.rsplit("/", 1)[-1] == "x"], tab.requests
    tab.assert_clean()  # in particular: no alert() dialog


def test_wide_table_scrolls_sorts_by_heading_and_filters(site, tab):
    """At a laptop's 1366 px every column can be reached, a heading sorts, a pane filters."""
    tab.page.set_viewport_size({"width": 1366, "height": 768})
    tab.open(site / REGION_SLUG / task_file(2))
    wait_for_tables(tab.page)
    table = findings_table(tab.page)
    box = container(tab.page, table)
    rows = sample_rows(REGION, 2)
    assert len(rows) > 10  # long enough for search and filter panes

    # The last column is reachable: the table scrolls sideways with a scrollbar always shown.
    body = table.locator("xpath=..")  # DataTables' scrolling box around the rows
    head = table.locator("xpath=../../div[contains(@class, 'dt-scroll-head')]")
    assert body.evaluate("e => getComputedStyle(e).overflowX") == "scroll"
    body.evaluate("e => { e.scrollLeft = e.scrollWidth; e.dispatchEvent(new Event('scroll')); }")
    body.evaluate("e => e.scrollIntoView({block: 'center'})")  # the window scrolls, not the box
    last = head.locator("th").last
    expect(last).to_be_in_viewport()
    left, right = last.evaluate(
        "e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]"
    )
    assert left >= 0 and right <= 1366

    # Clicking the heading itself sorts the column, both ways.
    counts_header = head.locator("th", has_text="Antal meddelelser")
    column = [t.strip() for t in head.locator("th").all_inner_texts()].index("Antal meddelelser")

    def shown_counts() -> list[int]:
        cells = table.locator(f"tbody tr td:nth-child({column + 1})").all_inner_texts()
        return [int(c) for c in cells]

    # Text left (a location number is digits, but not a number), numbers right.
    align = "e => getComputedStyle(e).textAlign"
    first_row = table.locator("tbody tr").first
    assert first_row.locator("td").nth(0).evaluate(align) in ("left", "start")
    assert first_row.locator("td").nth(column).evaluate(align) in ("right", "end")

    counts_header.click()
    expect(counts_header).to_have_attribute("aria-sort", "ascending")
    ascending = shown_counts()
    counts_header.click()
    expect(counts_header).to_have_attribute("aria-sort", "descending")
    descending = shown_counts()
    every = sorted(rows["antal"].astype(int))  # every row is in the page: no paging
    assert (ascending, descending) == (every, every[::-1])

    # A filter pane narrows the rows to one unit; the table says how to use it.
    expect(box.locator(".soredi-hint")).to_have_text(HINTS["filter"])
    unit = rows["enhedsnavn"].value_counts().index[0]
    box.get_by_text(DATATABLES["searchPanes"]["showMessage"]).click()
    pane = box.locator("div.dtsp-searchPane", has=tab.page.get_by_placeholder("Enhedsnavn"))
    pane.locator("tbody tr", has=tab.page.get_by_text(unit, exact=True)).first.click()
    wanted = int((rows["enhedsnavn"] == unit).sum())
    expect(box.locator(".dt-info")).to_have_text(info(1, wanted, wanted, filtered_from=len(rows)))
    # What a screen reader or a tooltip says of the panes' buttons and search boxes is Danish.
    said = box.evaluate(
        "e => [...e.querySelectorAll('[aria-label], [title], [placeholder]')].flatMap("
        "n => ['aria-label', 'title', 'placeholder'].map(a => n.getAttribute(a) || ''))"
    )
    assert "Søg i Enhedsnavn" in said and "Sortér efter antal" in said
    for phrase in ("Search", "Clear", "Order by", "Collapse"):
        assert not [s for s in said if phrase in s], phrase
    tab.assert_clean()


@pytest.mark.parametrize(
    "relative", ["index.html", f"{AARHUS_SLUG}/index.html", f"{REGION_SLUG}/{task_file(2)}"]
)
def test_no_serious_accessibility_violations(site, tab, relative):
    """axe-core (bundled by axe-playwright-python) on the front page, an overview, a task page."""
    from axe_playwright_python.sync_playwright import Axe

    tab.open(site / relative)
    wait_for_tables(tab.page)
    # Before axe runs: axe itself reads the stylesheets by XMLHttpRequest, which a file:// page
    # refuses with a console error that is axe's, not the page's.
    tab.assert_clean()
    violations = Axe().run(tab.page).response["violations"]
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
