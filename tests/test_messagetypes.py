"""Message types written as code, name or both: parsing and display."""

import pandas as pd
import pytest

from soredi_nb import messagetypes as mt

XDIS91 = "XDIS91 – Korrespondancemeddelelse"


@pytest.mark.parametrize(
    "written",
    [
        "XDIS91",
        "xdis91",
        " XDIS91 ",
        "XDIS91 Korrespondancemeddelelse",
        "XDIS91 - Korrespondancemeddelelse",
        "XDIS91 – Korrespondancemeddelelse",
        "XDIS91: Korrespondancemeddelelse",
        "XDIS91-Korrespondancemeddelelse",
        "XDIS91 (Korrespondancemeddelelse)",
        "xdis91 korrespondancemeddelelse",
        "XDIS91\u00a0Korrespondancemeddelelse",
    ],
)
def test_code_alone_or_with_name(written):
    parsed = mt.parse(written)
    assert (parsed.code, parsed.name, parsed.syntax) == (
        "XDIS91",
        "Korrespondancemeddelelse",
        "OIOXML",
    )
    assert parsed.known
    assert mt.code_of(written) == "XDIS91"
    assert mt.syntax_of(written) == "OIOXML"
    assert mt.display(written) == XDIS91


@pytest.mark.parametrize(
    ("written", "code", "syntax", "shown"),
    [
        ("FDIS20", "FDIS20", "FHIR", "FDIS20 – Advis om sygehusophold"),
        ("DIS91", "DIS91", "EDIFACT", "DIS91 – Korrespondancemeddelelse"),
        ("fctl", "FCTL", "FHIR", "FCTL – Kvittering"),
        ("MEDRPT Laboratoriesvar", "MEDRPT", "EDIFACT", "MEDRPT – Laboratoriesvar"),
        # A name carried by one code only resolves to it.
        ("Advis om sygehusophold", "FDIS20", "FHIR", "FDIS20 – Advis om sygehusophold"),
        ("advis om  sygehusophold", "FDIS20", "FHIR", "FDIS20 – Advis om sygehusophold"),
    ],
)
def test_known_codes(written, code, syntax, shown):
    assert mt.code_of(written) == code
    assert mt.syntax_of(written) == syntax
    assert mt.display(written) == shown


def test_a_code_wins_over_a_wrong_name():
    assert mt.display("XDIS91 Sygehusadvis") == XDIS91


@pytest.mark.parametrize(
    ("written", "candidates"),
    [
        ("Korrespondancemeddelelse", ("DIS91", "XDIS91", "FDIS91")),
        ("korrespondancemeddelelse ", ("DIS91", "XDIS91", "FDIS91")),
        ("Sygehusadvis", ("XDIS17", "XDIS20")),
    ],
)
def test_ambiguous_name_keeps_text(written, candidates):
    parsed = mt.parse(written)
    assert parsed.code is None and parsed.syntax is None and not parsed.known
    assert parsed.candidates == candidates
    assert parsed.text == written.strip()
    assert mt.code_of(written) is None
    assert mt.display(written) == written.strip()


def test_unknown_text():
    parsed = mt.parse("  Noget helt andet ")
    assert (parsed.text, parsed.code, parsed.name, parsed.candidates) == (
        "Noget helt andet",
        None,
        "Noget helt andet",
        (),
    )
    assert mt.display("  Noget helt andet ") == "Noget helt andet"
    assert mt.syntax_of("Noget helt andet") is None


def test_unknown_code_is_kept_but_not_resolved():
    parsed = mt.parse("xref99 - Ny henvisning")
    assert (parsed.code, parsed.name, parsed.syntax, parsed.known) == (
        "XREF99",
        "Ny henvisning",
        None,
        False,
    )
    assert mt.display("xref99 - Ny henvisning") == "xref99 - Ny henvisning"


@pytest.mark.parametrize("missing", [None, pd.NA, float("nan"), "", "   "])
def test_missing(missing):
    assert mt.parse(missing) is None
    assert mt.code_of(missing) is None
    assert mt.syntax_of(missing) is None
    assert mt.display(missing) == ""


@pytest.mark.parametrize("dtype", ["str", object])
def test_display_series(dtype):
    s = pd.Series(
        ["XDIS91", None, "Korrespondancemeddelelse", "fdis20", "Ukendt"],
        index=[10, 11, 12, 13, 14],
        name="meddelelsestype",
        dtype=dtype,
    )
    out = mt.display_series(s)
    assert out.dtype == "str"
    assert out.name == "meddelelsestype" and out.index.tolist() == s.index.tolist()
    assert out.isna().tolist() == [False, True, False, False, False]
    assert out.dropna().tolist() == [
        XDIS91,
        "Korrespondancemeddelelse",
        "FDIS20 – Advis om sygehusophold",
        "Ukendt",
    ]
    codes = mt.code_series(s)
    assert codes.dtype == "str"
    assert codes.isna().tolist() == [False, True, True, False, True]
    assert codes.dropna().tolist() == ["XDIS91", "FDIS20"]


def test_display_series_empty_and_all_missing():
    assert mt.display_series(pd.Series([], dtype="str")).empty
    assert mt.display_series(pd.Series([None, pd.NA], dtype=object)).isna().all()
