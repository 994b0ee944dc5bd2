"""Tests of the parquet cache behind ``load_extract``."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
from conftest import (
    GLN_AARHUS,
    GLN_BAD,
    GLN_ODENSE,
    make_csv_folder,
    make_workbook,
    reference_header,
    reference_row,
    reference_sheets,
)

from soredi_nb import cache, load
from soredi_nb.load import load_extract


def entries(cache_dir):
    """The cache entries (folders named by key) under ``cache_dir``."""
    root = cache.folder(cache_dir)
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


@pytest.fixture
def rich_workbook(tmp_path):
    """A workbook whose parse has every dtype, NA values, unknown columns, warnings, an empty
    table and a missing one."""
    sheets = reference_sheets(2)
    del sheets[next(s for s in sheets if s.startswith("7 "))]
    sheets["Tabel 2"] = [
        [*reference_header(2), "Bemærkning"],
        [*reference_row(2, GLN_BAD, antal="mange", seneste=None), "Æøå"],
        [*reference_row(2, lukket_dato="1.2.2024"), None],
    ]
    del sheets[next(s for s in sheets if s.startswith("2 "))]
    sheets[next(s for s in sheets if s.startswith("4 "))] = [reference_header(4)]
    return make_workbook(tmp_path / "udtraek.xlsx", sheets)


def forbid_parsing(monkeypatch):
    """Make any attempt to read the workbook fail, to prove a load came from the cache."""

    def fail(*args, **kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(load, "_parse", fail)


def test_cached_load_equals_fresh_load_with_exact_dtypes(rich_workbook, tmp_path, monkeypatch):
    fresh = load_extract(rich_workbook, cache=False)
    load_extract(rich_workbook, cache_dir=tmp_path / "c")
    forbid_parsing(monkeypatch)
    cached = load_extract(rich_workbook, cache_dir=tmp_path / "c")

    assert cached.tables.keys() == fresh.tables.keys() == {1, 2, 3, 4, 5, 6}
    for n, df in fresh.tables.items():
        pd.testing.assert_frame_equal(cached.tables[n], df, check_exact=True)
        assert cached.tables[n].equals(df)
    assert cached.tables[4].empty and list(cached.tables[4].columns) == list(
        fresh.tables[4].columns
    )
    assert cached.tables[2]["Bemærkning"].tolist()[0] == "Æøå"
    assert cached.tables[2].dtypes["seneste"] == "datetime64[us]"
    assert cached.tables[2].dtypes["antal"] == "Int64"
    assert cached.info == fresh.info
    assert cached.info.extract_date == dt.date(2024, 7, 2)
    assert cached.sheets == fresh.sheets
    assert cached.warnings == fresh.warnings
    assert len(fresh.warnings) >= 3  # check digit, "mange", table 7 missing
    assert cached.missing == [7]


def test_a_cache_hit_reports_the_path_given_in_this_call(reference_workbook, tmp_path, monkeypatch):
    load_extract(reference_workbook, cache_dir=tmp_path / "c")
    copy = shutil.copy(reference_workbook, tmp_path / "kopi.xlsx")
    forbid_parsing(monkeypatch)
    ex = load_extract(copy, cache_dir=tmp_path / "c")
    assert ex.info.file == str(copy)
    assert ex.path == copy


def test_changed_content_is_parsed_again(tmp_path):
    path = tmp_path / "x.xlsx"
    make_workbook(path, {"Tabel 1": [reference_header(1), reference_row(1, GLN_AARHUS)]})
    first = load_extract(path, cache_dir=tmp_path / "c")
    make_workbook(path, {"Tabel 1": [reference_header(1), reference_row(1, GLN_ODENSE)]})
    second = load_extract(path, cache_dir=tmp_path / "c")
    assert first.tables[1]["lokationsnummer"].tolist() == [GLN_AARHUS]
    assert second.tables[1]["lokationsnummer"].tolist() == [GLN_ODENSE]
    assert first.info.sha256 != second.info.sha256
    assert len(entries(tmp_path / "c")) == 2


def test_changed_aliases_are_parsed_again(tmp_path):
    path = make_workbook(
        tmp_path / "x.xlsx", {"Tabel 5": [["Lokationsnummer", "Antal beskeder"], [GLN_AARHUS, 4]]}
    )
    aliases = tmp_path / "mine.yaml"
    aliases.write_text("antal: [Antal beskeder]\n", "utf-8")
    plain = load_extract(path, cache_dir=tmp_path / "c")
    with_aliases = load_extract(path, aliases=aliases, cache_dir=tmp_path / "c")
    assert plain.tables[5]["antal"].isna().all()
    assert plain.tables[5]["Antal beskeder"].tolist() == ["4"]
    assert with_aliases.tables[5]["antal"].tolist() == [4]
    assert "Antal beskeder" not in with_aliases.tables[5]


@pytest.mark.parametrize(
    "damage", ["truncate_parquet", "delete_parquet", "garbage_meta", "delete_meta", "old_format"]
)
def test_a_damaged_entry_is_ignored_and_rebuilt(reference_workbook, tmp_path, damage):
    fresh = load_extract(reference_workbook, cache_dir=tmp_path / "c")
    [entry] = entries(tmp_path / "c")
    parquet, meta = entry / "table_3.parquet", entry / "meta.json"
    if damage == "truncate_parquet":
        parquet.write_bytes(parquet.read_bytes()[:100])
    elif damage == "delete_parquet":
        parquet.unlink()
    elif damage == "garbage_meta":
        meta.write_text("{ikke json")
    elif damage == "delete_meta":
        meta.unlink()
    else:
        meta.write_text(meta.read_text().replace('"format": 1', '"format": 0'))

    again = load_extract(reference_workbook, cache_dir=tmp_path / "c")
    for n, df in fresh.tables.items():
        pd.testing.assert_frame_equal(again.tables[n], df)
    assert again.warnings == fresh.warnings
    [rebuilt] = entries(tmp_path / "c")
    assert (rebuilt / "meta.json").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(rebuilt / "table_3.parquet"), fresh.tables[3])


def test_a_leftover_temporary_folder_is_not_an_entry(reference_workbook, tmp_path):
    root = cache.folder(tmp_path / "c")
    (root / ".tmp-halvfaerdig").mkdir(parents=True)
    (root / ".tmp-halvfaerdig" / "meta.json").write_text("{")
    ex = load_extract(reference_workbook, cache_dir=tmp_path / "c")
    assert len(ex.tables) == 7
    assert len(entries(tmp_path / "c")) == 1


def test_no_cache_neither_reads_nor_writes(reference_workbook, tmp_path, monkeypatch):
    load_extract(reference_workbook, cache=False, cache_dir=tmp_path / "c")
    assert entries(tmp_path / "c") == []
    parsed = load_extract(reference_workbook, cache_dir=tmp_path / "c")
    calls = []
    monkeypatch.setattr(load, "_parse", lambda *a: calls.append(a) or parsed)
    assert load_extract(reference_workbook, cache=False, cache_dir=tmp_path / "c") is parsed
    assert len(calls) == 1 and parsed.info.use_cache is False


def test_cache_folder_from_environment(reference_workbook, tmp_path, monkeypatch):
    monkeypatch.setenv("SOREDI_NB_CACHE", str(tmp_path / "env"))
    load_extract(reference_workbook)
    assert len(entries(tmp_path / "env")) == 1
    assert cache.folder() == tmp_path / "env" / "extracts"
    assert cache.folder(tmp_path / "arg") == tmp_path / "arg" / "extracts"


def test_an_unwritable_cache_does_not_stop_loading(reference_workbook, tmp_path):
    blocker = tmp_path / "fil"
    blocker.write_text("ikke en mappe")
    ex = load_extract(reference_workbook, cache_dir=blocker)
    assert len(ex.tables) == 7


def test_csv_folder_is_cached_by_file_names_and_contents(tmp_path, monkeypatch):
    folder = make_csv_folder(
        tmp_path / "csv", {"1 Aktive.csv": [["Lokationsnummer"], [GLN_AARHUS]]}
    )
    first = load_extract(folder, cache_dir=tmp_path / "c")
    make_csv_folder(folder, {"1 Aktive.csv": [["Lokationsnummer"], [GLN_ODENSE]]})
    second = load_extract(folder, cache_dir=tmp_path / "c")
    (folder / "1 Aktive.csv").rename(folder / "Tabel 1.csv")
    third = load_extract(folder, cache_dir=tmp_path / "c")
    assert first.tables[1]["lokationsnummer"].tolist() == [GLN_AARHUS]
    assert second.tables[1]["lokationsnummer"].tolist() == [GLN_ODENSE]
    assert third.sheets[1] == "Tabel 1.csv"
    assert len({first.info.sha256, second.info.sha256, third.info.sha256}) == 3
    (folder / "noter.txt").write_text("ikke en del af udtrækket")
    forbid_parsing(monkeypatch)
    assert load_extract(folder, cache_dir=tmp_path / "c").sheets[1] == "Tabel 1.csv"


def test_old_entries_are_pruned_and_nothing_else_is_touched(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    root = cache.folder(tmp_path / "c")
    (root / "brugerens-mappe").mkdir(parents=True)
    for i in range(3):
        path = make_workbook(
            tmp_path / f"{i}.xlsx",
            {
                "Tabel 1": [reference_header(1), reference_row(1, GLN_AARHUS)],
                "Forside": [[f"udgave {i}"]],
            },
        )
        load_extract(path, cache_dir=tmp_path / "c")
    assert len([p for p in entries(tmp_path / "c") if p.name != "brugerens-mappe"]) == 2
    assert (root / "brugerens-mappe").is_dir()
