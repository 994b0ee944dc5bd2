"""Danish folding, numbers, counts and lists: the one home every module uses."""

from __future__ import annotations

import datetime as dt
import re
from importlib.resources import files

import pytest

from soredi_nb import danish
from soredi_nb.danish import count, enumeration, fold, number
from soredi_nb.texts import text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (12, "12"),
        (1234, "1.234"),
        (1234567, "1.234.567"),
        (2.5, "2,5"),
        (1.25, "1,2"),
        (1234.5, "1.234,5"),
        (None, "–"),
    ],
)
def test_danish_numbers(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ærø Kommune", "aeroe  kommune"),
        ("KØBENHAVNS KOMMUNE", "koebenhavns kommune"),
        ("Lægehuset\u00a0Nord", "laegehuset nord"),
        ("Straße", "strasse"),
    ],
)
def test_fold_makes_spellings_of_one_name_equal(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 sider"), (1, "1 side"), (2, "2 sider"), (1234, "1.234 sider"), (1.5, "1,5 sider")],
)
def test_a_count_agrees_with_its_noun(n, expected):
    assert count(n, "side", "sider") == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], ""), ([7], "7"), ([1, 3], "1 og 3"), ([1, 3, 7], "1, 3 og 7")],
)
def test_enumeration_is_danish(items, expected):
    assert enumeration(items) == expected


@pytest.mark.parametrize(
    ("key", "fields", "expected"),
    [
        ("national.failed", {"count": 1}, "Fejl i 1 side"),
        ("national.failed", {"count": 2}, "Fejl i 2 sider"),
        ("national.failed", {"count": 12345}, "Fejl i 12.345 sider"),
        (
            "cli.compare_totals",
            {"new": 1, "resolved": 2, "persisting": 1},
            "I alt i de tabeller, der kan sammenlignes: 1 nyt, 2 løste og 1 uændret fund.",
        ),
        ("cli.warnings_heading", {"count": 1}, "1 advarsel:"),
        ("cli.warnings_heading", {"count": 3}, "3 advarsler:"),
        (
            "common.missing_table",
            {"number": enumeration([1, 3])},
            "Tabel 1 og 3 mangler i udtrækket og kan ikke vurderes.",
        ),
    ],
)
def test_texts_put_counts_in_agreement(key, fields, expected):
    """``{n:one|other}`` in a text is the one way a count meets its noun."""
    assert text(key, **fields) == expected


def test_no_text_puts_a_bare_count_before_a_counted_noun():
    """Every count in the texts goes through ``{n:one|other}``: no "{count} sider" is left."""
    nouns = "sider|rækker|advarsler|lokationsnumre|organisationer|notesbøger|cifre|meddelelser"
    pattern = re.compile(r"\{[a-z_]+\}\s+(?:\w+\s+)?(?:" + nouns + r")\b")
    folder = files("soredi_nb").joinpath("data/texts")
    found = [
        (f.name, m.group(0))
        for f in folder.iterdir()
        if f.name.endswith(".yaml")
        for m in pattern.finditer(f.read_text("utf-8"))
    ]
    assert found == []


def test_excel_date_format_is_the_pages_format(monkeypatch):
    assert danish.excel_date_format() == "yyyy-mm-dd"
    assert dt.date(2026, 7, 17).strftime(text("common.date_format")) == "2026-07-17"
    # A code Excel has no counterpart for here is refused, not written into a workbook.
    danish.excel_date_format.cache_clear()
    monkeypatch.setattr("soredi_nb.texts.text", lambda key, **_: "%d. %B %Y")
    with pytest.raises(ValueError, match="%B"):
        danish.excel_date_format()
    danish.excel_date_format.cache_clear()
