"""Small extracts built in code, for tests of the pure functions (no Excel involved)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from soredi_nb.extract import Extract, ExtractInfo, Problem, canonical_frame
from soredi_nb.sample import make_sample

AARHUS = dict(
    ejer="Aarhus Kommune",
    ejertype="Kommune",
    region="Region Midtjylland",
    kommune="Aarhus",
    it_system="KMD Nexus",
)
ODENSE = dict(
    ejer="Odense Kommune",
    ejertype="Kommune",
    region="Region Syddanmark",
    kommune="Odense",
    it_system="Cura",
)
REGION = dict(
    ejer="Region Midtjylland",
    ejertype="Region",
    region="Region Midtjylland",
    kommune="Aarhus",
    it_system="Columna CIS",
)
CLINIC = dict(
    ejer="Lægerne Søndergade",
    ejertype="Privat",
    region="Region Midtjylland",
    kommune="Aarhus",
    it_system="XMO",
)


def rows(owner: dict, gln: str, n: int = 1, **extra) -> list[dict]:
    """``n`` rows of one owner and location number."""
    return [dict(owner, lokationsnummer=gln, **extra) for _ in range(n)]


def make_extract(tables: dict[int, list[dict]], warnings: list[Problem] | None = None) -> Extract:
    """An Extract of the given rows per table; tables not given are missing."""
    frames = {n: canonical_frame(n, pd.DataFrame(r)) for n, r in tables.items()}
    sheets = {n: f"{n} Tabel" for n in tables}
    info = ExtractInfo(file="test.xlsx", sha256="0" * 64, period="2026-10")
    return Extract(info, frames, sheets, warnings or [])


def small_extract() -> Extract:
    """Aarhus in tables 1, 2 and 6, Odense in 2, a region in 6, a clinic in 4; table 7 missing."""
    return make_extract(
        {
            1: rows(AARHUS, "5790000123117", enhedsnavn="Hjemmeplejen Nord")
            + rows(AARHUS, "5790000160921", enhedsnavn="Tandplejen"),
            2: rows(AARHUS, "5790000123117", 2, antal=5)
            + rows(ODENSE, "5790002407314", 1, antal=40),
            3: [],
            4: rows(CLINIC, "5790000126330", 3, meddelelsestype="XDIS20"),
            5: [],
            6: rows(AARHUS, "5790000123117", antal=7) + rows(REGION, "5790000135837", antal=2),
        },
        warnings=[
            Problem("1 Tabel", 2, "Lokationsnummer", "5790000123117", "x"),
            Problem("2 Tabel", 4, "Lokationsnummer", "5790002407314", "y"),
            Problem(None, None, None, None, "Tabel 7 mangler i udtrækket og kan ikke vurderes."),
        ],
    )


OWNER = "Aarhus Kommune"
NEW_GLN = "5790009999997"  # valid check digit, outside the sample's range
GONE_T1 = "5790001570781"  # the Aarhus location number fixed in table 1


def changed_sample() -> dict:
    """``make_sample(seed=0)`` a month later: some findings fixed, some new, table 7 missing."""
    sample = make_sample(seed=0)
    t = sample["tables"]
    own = {n: df.index[df["ejer"] == OWNER] for n, df in t.items()}
    assert t[1].loc[own[1][0], "lokationsnummer"] == GONE_T1
    t[1] = t[1].drop(own[1][0])
    t[2] = _append(t[2], t[2].loc[[own[2][0]]].assign(modpart_lokationsnummer=NEW_GLN))
    # The same finding, with the message type written as a bare code this time.
    assert t[3].loc[own[3][0], "meddelelsestype"] == "FDIS91 Korrespondancemeddelelse"
    t[3].loc[own[3][0], "meddelelsestype"] = "FDIS91"
    # Same finding, other IT system: the worklist's pre-filled Ansvarlig must follow it (MedCom
    # administers TK2's message types at a municipality, the vendor Novax's).
    assert t[5].loc[own[5][2], "it_system"] == "TK2"
    t[5].loc[own[5][2], ["it_system", "it_leverandoer"]] = ["Novax", "Tril"]
    added = t[5].loc[[own[5][1]]].assign(meddelelsestype="XDIS20 Sygehusadvis")
    t[5] = _append(t[5].drop(own[5][0]), added)
    t[6] = _append(t[6], t[6].loc[[own[6][0]]])  # the same key twice
    del t[7]
    sample["info"] = {"Udtræksdato": dt.date(2026, 12, 7), "Periode": "2026-11"}
    return sample


def _append(df: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, extra], ignore_index=True)


def front_page_rows(html: str) -> list[list[str]]:
    """The cells' text of a report site's front page organisation table, header first, as a
    reader without JavaScript sees it (itables' plain table)."""
    tables = re.findall(r'<div id="itables_\w+_fallback">(.*?)</table>', html, flags=re.DOTALL)
    [table] = [t for t in tables if ">Vurdering</th>" in t]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.DOTALL)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.DOTALL) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]
