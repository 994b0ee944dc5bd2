"""Tests of the parquet cache behind ``load_extract``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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
        meta.write_text(meta.read_text().replace(f'"format": {cache.FORMAT}', '"format": 0'))

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


# -- an entry of the right name but the wrong content ----------------------------------------


def reseal(entry):
    """Make ``meta.json`` agree with the entry's files again, as a writer of another version
    (or a person who knows the layout) would: the table digests and the checksum."""
    meta = json.loads((entry / "meta.json").read_text("utf-8"))
    meta.pop("checksum", None)
    if isinstance(meta["tables"], dict):
        meta["tables"] = {
            n: hashlib.sha256((entry / f"table_{n}.parquet").read_bytes()).hexdigest()
            for n in meta["tables"]
        }
        text = json.dumps(meta, sort_keys=True, ensure_ascii=False)
        meta["checksum"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    (entry / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def edit_meta(entry, change):
    """Apply ``change`` to the parsed ``meta.json`` and write it back as it is."""
    meta = json.loads((entry / "meta.json").read_text("utf-8"))
    change(meta)
    (entry / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def first_tables(tables, k=3):
    """The first ``k`` tables of meta's table list (or table -> digest mapping)."""
    return tables[:k] if isinstance(tables, list) else dict(list(tables.items())[:k])


def other_tables_columns(entry, resealed):
    shutil.copy(entry / "table_1.parquet", entry / "table_3.parquet")
    if resealed:
        reseal(entry)


def float_counts(entry):
    df = pd.read_parquet(entry / "table_2.parquet")
    df["antal"] = df["antal"].astype("float64")
    df.to_parquet(entry / "table_2.parquet")
    reseal(entry)


def text_dates(entry):
    df = pd.read_parquet(entry / "table_3.parquet")
    df["lukket_dato"] = df["lukket_dato"].dt.strftime("%d-%m-%Y").astype("str")
    df.to_parquet(entry / "table_3.parquet")
    reseal(entry)


def shortened_table_list(entry, resealed):
    edit_meta(entry, lambda m: m.update(tables=first_tables(m["tables"])))
    edit_meta(entry, lambda m: m.update(sheets=first_tables(list(m["sheets"].items()))))
    edit_meta(entry, lambda m: m.update(sheets=dict(m["sheets"])))
    if resealed:
        reseal(entry)


def one_warning_less(entry):
    edit_meta(entry, lambda m: m["warnings"].pop(0))


def sheet_unnamed(entry):
    edit_meta(entry, lambda m: m["sheets"].pop("3"))
    reseal(entry)


CORRUPTIONS = {
    "another table's parquet": lambda e: other_tables_columns(e, resealed=False),
    "another table's columns, resealed": lambda e: other_tables_columns(e, resealed=True),
    "counts as float": float_counts,
    "dates as text": text_dates,
    "shortened table list": lambda e: shortened_table_list(e, resealed=False),
    "shortened table list, resealed": lambda e: shortened_table_list(e, resealed=True),
    "a warning removed": one_warning_less,
    "a sheet name removed, resealed": sheet_unnamed,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_an_entry_with_the_wrong_content_is_parsed_again(
    rich_workbook, tmp_path, monkeypatch, corrupt
):
    fresh = load_extract(rich_workbook, cache=False)
    load_extract(rich_workbook, cache_dir=tmp_path / "c")
    [entry] = entries(tmp_path / "c")
    corrupt(entry)
    parsed = []
    real_parse = load._parse
    monkeypatch.setattr(load, "_parse", lambda *a: parsed.append(a) or real_parse(*a))

    again = load_extract(rich_workbook, cache_dir=tmp_path / "c")

    assert len(parsed) == 1
    assert again.tables.keys() == fresh.tables.keys() == {1, 2, 3, 4, 5, 6}
    for n, df in fresh.tables.items():
        pd.testing.assert_frame_equal(again.tables[n], df, check_exact=True)
    assert again.sheets == fresh.sheets
    assert again.warnings == fresh.warnings
    assert again.missing == [7]
    # The rebuilt entry is sound: the next load comes from it, unchanged.
    forbid_parsing(monkeypatch)
    cached = load_extract(rich_workbook, cache_dir=tmp_path / "c")
    for n, df in fresh.tables.items():
        pd.testing.assert_frame_equal(cached.tables[n], df, check_exact=True)


def test_a_stray_file_in_an_entry_means_a_rebuild(rich_workbook, tmp_path, monkeypatch):
    load_extract(rich_workbook, cache_dir=tmp_path / "c")
    [entry] = entries(tmp_path / "c")
    shutil.copy(entry / "table_1.parquet", entry / "table_7.parquet")
    parsed = []
    real_parse = load._parse
    monkeypatch.setattr(load, "_parse", lambda *a: parsed.append(a) or real_parse(*a))
    again = load_extract(rich_workbook, cache_dir=tmp_path / "c")
    assert len(parsed) == 1
    assert again.missing == [7]
    assert sorted(p.name for p in entries(tmp_path / "c")[0].iterdir()) == [
        "meta.json",
        *(f"table_{n}.parquet" for n in range(1, 7)),
    ]


def test_fits_schema_wants_canonical_columns_dtypes_and_text_extras(rich_workbook):
    fresh = load_extract(rich_workbook, cache=False)
    t2 = fresh.tables[2]
    assert cache.fits_schema(2, t2)
    assert not cache.fits_schema(1, t2)
    assert not cache.fits_schema(8, t2)
    assert not cache.fits_schema(2, t2.drop(columns="excel_row"))
    assert not cache.fits_schema(2, t2[[*t2.columns[1:2], t2.columns[0], *t2.columns[2:]]])
    assert not cache.fits_schema(2, t2.assign(antal=t2["antal"].astype("float64")))
    assert not cache.fits_schema(2, t2.assign(Bemærkning=1))
    assert not cache.fits_schema(2, t2.iloc[::-1])
    assert cache.fits_schema(2, t2.assign(Ekstra=pd.Series(["x", None], dtype="str")))


def test_an_extract_that_does_not_fit_is_not_cached(rich_workbook, tmp_path):
    fresh = load_extract(rich_workbook, cache=False)
    fresh.tables[2] = fresh.tables[2].drop(columns="antal")
    cache.write(cache.folder(tmp_path / "c"), "0" * 64, fresh)
    assert entries(tmp_path / "c") == []
