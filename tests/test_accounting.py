"""Every row accounted for: per table, the organisations' rows plus the rows without an owner are
exactly the data rows of the sheet, whatever the owner cells hold."""

from __future__ import annotations

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soredi_nb.load import load_extract
from soredi_nb.organisations import filter_extract, list_organisations, organisations_in
from soredi_nb.sample import make_sample, sheet_name, write_extract
from soredi_nb.summary import summarise

ROWS = 6  # per table: small, so that an example writes and reads in a fraction of a second
BLANK = (None, "", "   ", "\u00a0")
OWNERS = (
    *BLANK,
    "Aarhus Kommune",
    "AARHUS  KOMMUNE",
    " aarhus kommune ",
    "Aarhus",
    "0751",
    "Region Midtjylland",
    "Lægehuset Nord",
    "LÆGEHUSET NORD",
    "Laegehuset Nord",
    "Klinik: Syd",
)
TYPES = (None, "", "Kommune", "kommunal", "Region", "Privat", "Praksis", "Stat")


def sheet_rows(path, number: int) -> int:
    """Data rows of a table's sheet, counted in the workbook itself (header in row 1)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = sum(1 for row in wb[sheet_name(number)].iter_rows(min_row=2) if any(row))
    wb.close()
    return rows


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rows_of_all_organisations_and_without_owner_add_up(tmp_path_factory, data):
    sample = make_sample()
    blank = {}
    for number, df in sample["tables"].items():
        df = df.head(ROWS).copy()
        owners = data.draw(st.lists(st.sampled_from(OWNERS), min_size=ROWS, max_size=ROWS))
        types = data.draw(st.lists(st.sampled_from(TYPES), min_size=ROWS, max_size=ROWS))
        df["ejer"], df["ejertype"] = owners, types
        sample["tables"][number] = df
        blank[number] = sum(o in BLANK for o in owners)
    path = write_extract(sample, tmp_path_factory.mktemp("rows") / "udtraek.xlsx")
    extract = load_extract(path, cache=False)

    counts = list_organisations(extract)
    without = counts[counts["identity"].isna()]
    orgs = organisations_in(extract)
    national = summarise(extract)
    for number in sample["tables"]:
        column = f"tabel_{number}"
        in_sheet = sheet_rows(path, number)
        assert in_sheet == ROWS
        # Every row is in exactly one group: an organisation, or the group without an owner.
        assert int(counts[column].sum()) == in_sheet
        assert int(without[column].sum()) == blank[number]
        assert national.tasks[number - 1].rows == in_sheet
        # What each organisation's page and summary would show is its row in `orgs`.
        for row in counts.dropna(subset=["identity"]).itertuples():
            selected = filter_extract(extract, orgs[row.identity]).tables[number]
            assert len(selected) == getattr(row, column)
