"""Danish folding and number formats: the one home every module uses."""

from __future__ import annotations

import pytest

from soredi_nb.danish import fold, number


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
