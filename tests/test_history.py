"""A history of extracts: each finding's past, counted exactly across three months."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from factories import front_page_rows

from soredi_nb import history as h
from soredi_nb.exceptions import SorediError
from soredi_nb.load import load_extract
from soredi_nb.organisations import resolve
from soredi_nb.sample import DEMO_ORGANISATION, make_sample, write_extract
from soredi_nb.texts import text
from soredi_nb.validate import gln_check_digit

NEW_GLN = "579000099990"
NEW_GLN += str(gln_check_digit(NEW_GLN))


def month(sample: dict, period: str) -> dict:
    """``sample`` dated to ``period`` (extract date: the 8th of the month after)."""
    year, mon = (int(p) for p in period.split("-"))
    date = dt.date(year + mon // 12, mon % 12 + 1, 8)
    return {"tables": sample["tables"], "info": {"Udtræksdato": date, "Periode": period}}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Months 1-3. Aarhus in table 2: finding X (a closed location number of its own) in months
    1 and 3 but not 2, the first row A0 gone in month 2 only; table 5 is missing from month 2."""
    folder = tmp_path_factory.mktemp("historik")
    base = make_sample()
    t2 = base["tables"][2]
    aarhus = t2.index[t2["ejer"] == DEMO_ORGANISATION]
    x = t2.loc[aarhus[:1]].assign(lokationsnummer=NEW_GLN)
    with_x = pd.concat([t2, x], ignore_index=True)
    m1 = {n: df for n, df in base["tables"].items()} | {2: with_x}
    m2 = {n: df for n, df in base["tables"].items() if n != 5} | {2: t2.drop(aarhus[:1])}
    m3 = dict(m1)
    # Any file names, in any order: the period decides.
    write_extract(month({"tables": m3}, "2026-10"), folder / "seneste.xlsx")
    write_extract(month({"tables": m1}, "2026-08"), folder / "a.xlsx")
    write_extract(month({"tables": m2}, "2026-09"), folder / "udtraek september", csv=True)
    return folder, len(aarhus)


def test_periods_ordered_by_period_not_by_name(three):
    folder, _ = three
    history = h.read_history(folder)
    assert history.periods == ["2026-08", "2026-09", "2026-10"]
    assert [e.info.file.rsplit("/", 1)[-1] for e in history.extracts] == [
        "a.xlsx",
        "udtraek september",
        "seneste.xlsx",
    ]


def test_gone_in_month_two_is_resolved_then_new_again(three):
    folder, n = three
    history = h.read_history(folder)
    aarhus = resolve(DEMO_ORGANISATION, history.extracts[-1])
    t2 = history.table(2, aarhus)
    tr = t2.transitions().set_index("period")
    assert tr.loc["2026-08", ["rows", "comparable"]].tolist() == [n + 1, False]
    assert tr.loc["2026-09", ["rows", "new", "resolved", "persisting"]].tolist() == [
        n - 1,
        0,
        2,
        n - 1,
    ]
    assert tr.loc["2026-10", ["rows", "new", "resolved", "persisting"]].tolist() == [
        n + 1,
        2,
        0,
        n - 1,
    ]
    current = t2.current
    assert len(current) == n + 1
    back = current["lokationsnummer"].eq(NEW_GLN)
    back.iloc[0] = True  # A0, the first Aarhus row, came back too
    assert (current.loc[back, ["first_seen", "extracts"]].values.tolist()) == [["2026-10", 1]] * 2
    assert (current.loc[~back, "first_seen"] == "2026-08").all()
    assert (current.loc[~back, "extracts"] == 3).all()


def test_a_missing_table_is_not_comparable_and_does_not_break_a_run(three):
    folder, _ = three
    history = h.read_history(folder)
    aarhus = resolve(DEMO_ORGANISATION, history.extracts[-1])
    t5 = history.table(5, aarhus)
    tr = t5.transitions().set_index("period")
    assert tr["comparable"].tolist() == [False, False, False]
    assert tr["resolved"].isna().all() and pd.isna(tr.loc["2026-09", "rows"])
    assert (t5.current["first_seen"] == "2026-08").all() and (t5.current["extracts"] == 2).all()
    assert len(t5.current) == int((make_sample()["tables"][5]["ejer"] == DEMO_ORGANISATION).sum())


def test_whole_table_codes_follow_each_selection_as_its_own_keys_do(three):
    # A render's kernel codes whole tables once (from its second selection on); one
    # organisation's history keys its own rows. Both must follow every finding alike.
    folder, n = three
    shared = h.read_history(folder)
    latest = shared.extracts[-1]
    names = ["Region Midtjylland", DEMO_ORGANISATION, "Odense", "Region Syddanmark"]
    for name in names:
        org = resolve(name, latest)
        for number in (2, 5, 6):
            alone = h.read_history(folder).table(number, org)
            kept = shared.table(number, org)
            pd.testing.assert_frame_equal(kept.transitions(), alone.transitions())
            pd.testing.assert_frame_equal(kept.current, alone.current)
    assert shared.memo["selections"] == len(names) and ("codes", 2) in shared.memo
    aarhus = shared.table(2, resolve(DEMO_ORGANISATION, latest)).transitions()
    assert aarhus.set_index("period").loc["2026-09", "resolved"] == 2 and n > 0


def test_period_figures_and_json_agree_with_summary(three):
    from soredi_nb.summary import summarise

    folder, n = three
    history = h.read_history(folder)
    aarhus = resolve(DEMO_ORGANISATION, history.extracts[-1])
    figures = h.period_figures(history, aarhus)
    assert len(figures) == 3 * 7
    for period, extract in zip(history.periods, history.extracts, strict=True):
        for t in summarise(extract, aarhus).tasks:
            row = figures[(figures["period"] == period) & (figures["number"] == t.number)].iloc[0]
            assert bool(row["missing"]) == t.missing
            if not t.missing:
                assert (row["rows"], row["median"]) == (t.rows, t.median_rows)
    data = json.loads(json.dumps(h.to_dict(history, figures, aarhus)))
    assert data["organisation"] == DEMO_ORGANISATION
    september = data["periods"][1]["tables"]
    assert september[4] == {
        "number": 5,
        "missing": True,
        "rows": None,
        "location_numbers": None,
        "messages": None,
        "median": None,
        "new": None,
        "resolved": None,
        "persisting": None,
    }
    assert september[1]["resolved"] == 2 and data["periods"][2]["tables"][1]["new"] == 2


def test_two_extracts_of_one_period_are_refused_naming_both(three, tmp_path):
    folder, _ = three
    twin = tmp_path / "twin"
    twin.mkdir()
    for name in ("a.xlsx", "seneste.xlsx"):
        (twin / name).write_bytes((folder / name).read_bytes())
    (twin / "kopi.xlsx").write_bytes((folder / "a.xlsx").read_bytes())
    with pytest.raises(SorediError) as err:
        h.read_history(twin)
    message = str(err.value)
    assert "samme periode (2026-08)" in message
    assert str(twin / "a.xlsx") in message and str(twin / "kopi.xlsx") in message


def without_info(folder, *keys: str) -> None:
    """Take lines out of a CSV extract's ``Info.csv`` (a file from before the sheet had them)."""
    info = folder / "Info.csv"
    lines = info.read_text(encoding="utf-8-sig").splitlines()
    kept = [line for line in lines if not line.startswith(keys)]
    info.write_text("\n".join(kept) + "\n", encoding="utf-8-sig")


def test_period_from_the_extract_date_is_said_and_none_is_an_error(tmp_path):
    folder = tmp_path / "h"
    march = {"Udtræksdato": dt.date(2026, 3, 2), "Periode": "2026-02"}
    write_extract(make_sample() | {"info": march}, folder / "x", csv=True)
    without_info(folder / "x", "Periode")
    history = h.read_history(folder)
    assert history.periods == ["2026-02"]
    assert history.notes == [
        "x har ingen periode; den er sat til 2026-02, måneden før udtræksdatoen 2026-03-02."
    ]
    write_extract(make_sample() | {"info": march}, folder / "y", csv=True)
    without_info(folder / "y", "Periode", "Udtræksdato")
    with pytest.raises(SorediError, match="hverken periode"):
        h.read_history(folder)


def test_an_empty_folder_and_a_file_are_clear_errors(tmp_path):
    (tmp_path / "noter.txt").write_text("ikke et udtræk")
    with pytest.raises(SorediError, match="ingen udtræk i"):
        h.read_history(tmp_path)
    with pytest.raises(SorediError, match="er ikke en mappe"):
        h.read_history(tmp_path / "noter.txt")


def test_current_replaces_its_period_and_must_be_the_latest(three):
    folder, _ = three
    history = h.read_history(folder)
    latest = history.extracts[-1]
    assert (
        h.History(history.periods[:2], history.extracts[:2]).with_current(latest).periods
        == history.periods
    )
    with pytest.raises(SorediError, match="historikken har et nyere"):
        history.with_current(history.extracts[0])


def test_history_command_in_danish_and_as_json(three, run_cli):
    folder, n = three
    code, out, err = run_cli("history", folder, "--org", "aarhus")
    assert code == 0, err
    assert f"Historik: 3 udtræk i {folder}, perioderne 2026-08 til 2026-10." in out
    block = out.split("Tabel 2: ")[1].split("\n\n")[0].splitlines()
    assert block[1].split() == [
        "Periode",
        "Fund",
        "Lokationsnumre",
        "Antal",
        "Median",
        "Nye",
        "Løste",
    ]
    assert block[3].split()[:2] == ["2026-09", str(n - 1)] and block[3].split()[-2:] == ["0", "2"]
    september = out.split("Tabel 5: ")[1].splitlines()[3].split()
    assert september == ["2026-09"] + ["mangler"] * 6
    code, out, err = run_cli("history", folder, "--org", "aarhus", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [p["period"] for p in data["periods"]] == ["2026-08", "2026-09", "2026-10"]
    assert data["periods"][2]["tables"][1]["rows"] == n + 1
    code, out, err = run_cli("history", folder / "a.xlsx")
    assert code == 1 and "er ikke en mappe" in err


def test_render_with_history_pages_front_page_and_worklist(three, tmp_path):
    """Every page knows the earlier extracts: since when a finding is there (task page and
    worklist), and the front page's change since the first and the last period."""
    import openpyxl

    from soredi_nb import render as r
    from soredi_nb.targets import targets
    from soredi_nb.templates import NOTEBOOKS, notebook_name

    folder, n = three
    extract = load_extract(folder / "seneste.xlsx")
    notebooks = [NOTEBOOKS / f"{notebook_name(k)}.ipynb" for k in (0, 2)]
    result = r.render(
        extract,
        targets(extract, ["Aarhus"]),
        tmp_path / "out",
        notebooks=notebooks,
        history=h.read_history(folder),
        progress=False,
    )
    assert result.failures == []
    task = (tmp_path / "out" / "aarhus-kommune" / f"{notebook_name(2)}.html").read_text("utf-8")
    assert "I udtrækket siden" in task and "Fund pr. periode – nye, løste og uændrede" in task
    assert f"{n - 1} fund har været med siden 2026-08" in task
    assert "sorteret efter, hvor længe de har været i udtrækket – længst først" in task
    assert "største problemer først" not in task
    # Table 5 is missing in September: that month's sums are said to leave it out.
    overview = (tmp_path / "out" / "aarhus-kommune" / "index.html").read_text("utf-8")
    note = "2026-09: tabel 5 mangler i periodens udtræk og er ikke talt med i rækkens summer."
    assert overview.count(note) == 1 and "2026-08: tabel" not in overview
    front = (tmp_path / "out" / "index.html").read_text("utf-8")
    rows = {row[0]: row for row in front_page_rows(front)}
    header = front_page_rows(front)[0]
    since_first = header.index("Ændring siden 2026-08")
    since_last = header.index("Ændring siden 2026-09")
    # Since August: the same findings. Since September: X and A0 back; table 5 (missing in
    # September) is not counted as change.
    assert rows["Aarhus Kommune"][since_first] == "0"
    assert rows["Aarhus Kommune"][since_last] == "2"
    book = openpyxl.load_workbook(tmp_path / "out" / "aarhus-kommune" / "arbejdsliste.xlsx")
    sheet = next(ws for ws in book.worksheets if ws.title.startswith("2 "))
    head = [c.value for c in sheet[1]]
    since = head.index("I udtrækket siden")
    values = [row[since] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(values) == ["2026-08"] * (n - 1) + ["2026-10"] * 2
    assert values == sorted(values)  # longest in the extract first, as the sheet says:
    lines = [c for c in book["Oversigt"]["A"] if c.value and str(c.value).startswith("1. ")]
    assert lines[0].value.endswith(text("worklist.order.longest"))


def test_a_task_page_without_findings_now_shows_what_was_resolved(tmp_path):
    """Every finding of table 2 resolved since last month: the page says there are none, and
    its chart shows the month before and that they were resolved."""
    from soredi_nb import render as r
    from soredi_nb.targets import targets
    from soredi_nb.templates import NOTEBOOKS, notebook_name

    base = make_sample()
    t2 = base["tables"][2]
    gone = int((t2["ejer"] == DEMO_ORGANISATION).sum())
    now = dict(base["tables"]) | {2: t2[t2["ejer"] != DEMO_ORGANISATION]}
    folder = tmp_path / "historik"
    folder.mkdir()
    write_extract(month(base, "2026-09"), folder / "september.xlsx")
    write_extract(month({"tables": now}, "2026-10"), tmp_path / "oktober.xlsx")
    extract = load_extract(tmp_path / "oktober.xlsx")
    past = h.read_history(folder).with_current(extract)
    aarhus = resolve(DEMO_ORGANISATION, extract)
    tr = past.table(2, aarhus).transitions().set_index("period")
    assert tr.loc["2026-10", ["rows", "new", "resolved"]].tolist() == [0, 0, gone] and gone > 0
    result = r.render(
        extract,
        targets(extract, ["Aarhus"]),
        tmp_path / "out",
        notebooks=[NOTEBOOKS / f"{notebook_name(2)}.ipynb"],
        history=h.read_history(folder),
        progress=False,
    )
    assert result.failures == []
    page = (tmp_path / "out" / "aarhus-kommune" / f"{notebook_name(2)}.html").read_text("utf-8")
    assert "har ingen rækker i denne tabel" in page
    assert 'alt="Diagram: Fund pr. periode – nye, løste og uændrede' in page
    assert page.count("<img") == 1  # the history, and no chart of today's (no) findings


def test_a_task_page_whose_findings_are_all_newer_than_the_history_says_none_are_old(tmp_path):
    from soredi_nb import render as r
    from soredi_nb.targets import targets
    from soredi_nb.templates import NOTEBOOKS, notebook_name

    base = make_sample()
    t2 = base["tables"][2]
    before = base["tables"] | {2: t2[t2["ejer"] != DEMO_ORGANISATION]}
    write_extract(month({"tables": before}, "2026-09"), tmp_path / "h" / "sep.xlsx")
    write_extract(month(base, "2026-10"), tmp_path / "h" / "okt.xlsx")
    extract = load_extract(tmp_path / "h" / "okt.xlsx")
    result = r.render(
        extract,
        targets(extract, ["Aarhus"]),
        tmp_path / "out",
        notebooks=[NOTEBOOKS / f"{notebook_name(2)}.ipynb"],
        history=h.read_history(tmp_path / "h"),
        progress=False,
    )
    assert result.failures == []
    task = (tmp_path / "out" / "aarhus-kommune" / f"{notebook_name(2)}.html").read_text("utf-8")
    assert "står øverst; ingen af dem har været med siden 2026-09." in task
    assert "0 fund" not in task


def test_render_refuses_an_extract_older_than_its_history(three, tmp_path, run_cli):
    folder, _ = three
    code, _, err = run_cli(
        "render", folder / "a.xlsx", "--org", "aarhus", "--history", folder, "--out", tmp_path
    )
    assert code == 1 and "historikken har et nyere (2026-10)" in err
