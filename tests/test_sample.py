"""The sample extract generator: determinism, realism of the values, and the written layouts."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import re
import time
import zipfile
from importlib.resources import files
from itertools import combinations
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soredi_nb import messagetypes, reference, sample, schema
from soredi_nb.compare import finding_key, match_findings
from soredi_nb.exceptions import SorediError
from soredi_nb.validate import is_valid_gln

SOR_ID = re.compile(r"\d{4,9}1000016\d{3}")
ERROR_CODES = {
    "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
    "MSG_Receiver_Identifier_UNKNOWN",
    "MSG_Receiver_Identifier_MISSING",
}
MUNICIPALITIES = reference.municipalities()
REGIONS = set(reference.regions()["region"])
TYPES = reference.message_types().set_index("kode")


@pytest.fixture(scope="module")
def small() -> dict:
    return sample.make_sample()


@pytest.fixture(scope="module")
def national() -> dict:
    return sample.make_sample("national")


def all_rows(s: dict) -> pd.DataFrame:
    """Every table's rows in one frame (columns a table lacks are missing)."""
    return pd.concat(s["tables"].values(), ignore_index=True)


def assert_invariants(s: dict) -> None:
    """What must hold for every scale and seed."""
    tables, info = s["tables"], s["info"]
    extract_date = pd.Timestamp(info["Udtræksdato"])
    assert set(tables) == set(schema.TABLE_NUMBERS)
    for n, df in tables.items():
        assert list(df.columns) == schema.table(n).columns
    rows = all_rows(s)
    assert rows["lokationsnummer"].map(is_valid_gln).all()
    assert rows["lokationsnummer"].str.startswith("579").all()
    counterparts = rows["modpart_lokationsnummer"].dropna()
    assert counterparts.map(is_valid_gln).all() and counterparts.str.startswith("579").all()
    assert rows["sor_kode"].str.fullmatch(SOR_ID).all()
    assert rows["sor_kode"].str.len().between(11, 16).all()
    for n in schema.TABLE_NUMBERS:
        for org in (sample.DEMO_ORGANISATION, sample.DEMO_REGION):
            assert (tables[n]["ejer"] == org).any(), (n, org)
    for n in (2, 3):
        df = tables[n]
        assert (df["seneste"] > df["lukket_dato"]).all()
        assert (df["lukket_dato"] < extract_date).all() and (df["seneste"] <= extract_date).all()
    for n in (6, 7):
        assert (tables[n]["antal_i_alt"] >= tables[n]["antal"]).all()
    for n in (2, 3, 5, 6, 7):
        assert (tables[n]["antal"] >= 1).all()
    # The demo municipality's findings are linked as in reality: a closed location number with
    # traffic both ways, and an unregistered type that it also rejects.
    is_demo = {n: df["ejer"] == sample.DEMO_ORGANISATION for n, df in tables.items()}
    demo = {n: set(tables[n].loc[mask, "lokationsnummer"]) for n, mask in is_demo.items()}
    assert demo[2] & demo[3] and demo[5] & demo[7]
    no_findings = set(sample.NO_FINDINGS)
    short = {m.removesuffix(" Kommune") for m in no_findings}
    assert not rows["ejer"].isin(no_findings).any()
    assert not rows["kommune"].isin(short).any()
    assert not rows["modpart"].dropna().str.contains("|".join(no_findings)).any()


# -- linked tables and plausible traffic ------------------------------------------------------

KEY = ["lokationsnummer", "modpart_lokationsnummer", "meddelelsestype"]
SWAP = {"lokationsnummer": "modpart_lokationsnummer", "modpart_lokationsnummer": "lokationsnummer"}
# Message direction per table: True when the row's location number sent the messages.
SENDS = {2: False, 3: True, 5: False, 6: True, 7: False}
HOSPITAL_ADVICE = {"Sygehusadvis", "Advis om sygehusophold"}
GP_SYSTEMS = {"XMO", "Novax", "EG Clinea", "WinPLC", "MultiMed Web"}
ALL_LETTERS = {"DIS91", "XDIS91", "FDIS91"}


def reporting_month(s: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``Periode``, the latest month of tables 6-7."""
    start = pd.Timestamp(f"{s['info']['Periode']}-01")
    return start, start + pd.offsets.MonthEnd(0)


def matched(receipts: pd.DataFrame, traffic: pd.DataFrame) -> pd.DataFrame:
    """Receipts summed per key beside the traffic summed per key; every receipt key must match."""
    got = receipts.groupby(KEY)[["antal", "antal_i_alt"]].sum()
    traffic = traffic.groupby(KEY).agg(trafik=("antal", "sum"), seneste=("seneste", "max"))
    both = got.join(traffic, how="left")
    assert both["trafik"].notna().all(), both[both["trafik"].isna()]
    return both


def assert_linked_figures_agree(s: dict) -> None:
    """Tables 6-7 agree with the traffic of tables 2, 3 and 5 and with each other."""
    t = s["tables"]
    start, end = reporting_month(s)
    closed2, closed3 = set(t[2]["lokationsnummer"]), set(t[3]["lokationsnummer"])
    t5 = t[5].assign(seneste=pd.NaT)
    # A closed number gets receipts only for what it sent (table 3), and sends receipts only for
    # what it received (table 2).
    assert not set(t[6]["lokationsnummer"]) & (closed2 - closed3)
    assert not set(t[7]["lokationsnummer"]) & (closed3 - closed2)
    links = [
        (t[6][t[6]["lokationsnummer"].isin(closed3)], t[3]),
        # The sender to a closed number: its receipts are the closed number's table 2 traffic.
        (t[6][t[6]["modpart_lokationsnummer"].isin(closed2 | closed3)].rename(columns=SWAP), t[2]),
        (t[7][t[7]["lokationsnummer"].isin(closed2)], t[2]),
        (t[7][t[7]["lokationsnummer"].isin(set(t5["lokationsnummer"]))], t5),
    ]
    for receipts, traffic in links:
        both = matched(receipts, traffic)
        # Never more messages in the latest month than the traffic table counts in all.
        assert (both["antal"] <= both["antal_i_alt"]).all()
        assert (both["antal_i_alt"] <= both["trafik"]).all(), both[
            both["antal_i_alt"] > both["trafik"]
        ]
        # A closed number's traffic reached into that month.
        dated = both["seneste"].notna()
        assert (both.loc[dated, "seneste"] >= start).all()
    # One set of receipts, seen by the sender of the messages (6) and by the rejecter (7).
    seen = t[6].merge(t[7].rename(columns=SWAP), on=KEY, suffixes=("_6", "_7"))
    for col in ("antal", "antal_i_alt", "fejlkode"):
        assert seen[f"{col}_6"].equals(seen[f"{col}_7"]), col


def codes(text: str) -> set[str]:
    """The codes a ``meddelelsestype`` can be: its code, or every code carrying its name."""
    parsed = messagetypes.parse(text)
    return {parsed.code} if parsed.code else set(parsed.candidates)


def directed(s: dict) -> pd.DataFrame:
    """Every traffic and receipt row as (afsender, modtager, meddelelsestype, table)."""
    out = []
    for n, sends in SENDS.items():
        df = s["tables"][n]
        me, cp = df["lokationsnummer"], df["modpart_lokationsnummer"]
        frame = {"afsender": me if sends else cp, "modtager": cp if sends else me}
        out.append(pd.DataFrame({**frame, "meddelelsestype": df["meddelelsestype"], "tabel": n}))
    return pd.concat(out, ignore_index=True)


def assert_flows_plausible(s: dict, kinds: dict[str, str]) -> None:
    """Each message goes between kinds of unit that exchange that type (``flows``)."""
    allowed = {
        (code, a, b)
        for code, senders, receivers, _ in sample._flows(sample._config())
        for a in senders
        for b in receivers
    }
    rows = directed(s)
    pairs = rows.assign(
        fra=rows["afsender"].map(kinds), til=rows["modtager"].map(kinds)
    ).drop_duplicates(["fra", "til", "meddelelsestype"])
    assert pairs[["fra", "til"]].notna().all().all()
    for r in pairs.itertuples():
        assert any((c, r.fra, r.til) in allowed for c in codes(r.meddelelsestype)), r


def test_small_linked_figures_agree(small):
    assert_linked_figures_agree(small)
    assert_flows_plausible(small, sample._generate("small", 0)[2])


def test_national_linked_figures_agree(national):
    assert_linked_figures_agree(national)
    assert_flows_plausible(national, sample._generate("national", 0)[2])
    t = national["tables"]
    # The links are there to check, in every direction.
    closed3 = t[6]["lokationsnummer"].isin(t[3]["lokationsnummer"])
    to_closed = t[6]["modpart_lokationsnummer"].isin(t[2]["lokationsnummer"])
    assert closed3.sum() > 100 and to_closed.sum() > 100
    assert t[7]["lokationsnummer"].isin(t[2]["lokationsnummer"]).sum() > 100
    assert len(t[6].merge(t[7].rename(columns=SWAP), on=KEY)) > 10


def test_a_closed_number_gets_receipts_for_no_more_than_it_sent():
    """Not, as once: 54 messages in October from a number closed in September that sent 2."""
    s = sample.make_sample("national")
    t3, t6 = s["tables"][3], s["tables"][6]
    start, _ = reporting_month(s)
    sent = t3.groupby(KEY).agg(antal=("antal", "sum"), seneste=("seneste", "max"))
    got = t6[t6["lokationsnummer"].isin(t3["lokationsnummer"])].groupby(KEY)["antal_i_alt"].sum()
    sent = sent.loc[got.index]
    assert (got <= sent["antal"]).all()
    # Closed before the month and silent in it: no receipts in it.
    silent = sent[sent["seneste"] < start].index
    assert silent.empty


def test_table1_rows_all_have_an_it_system(small, national):
    for s in (small, national):
        t1 = s["tables"][1]
        for col in ("it_system", "it_leverandoer"):
            assert t1[col].notna().all() and (t1[col].str.strip() != "").all(), col


def parties(s: dict) -> pd.DataFrame:
    """Name, owner type and whether at a hospital, of each number in the traffic tables.

    A counterpart that is nowhere a row's own location number is known by its label only: a
    municipal unit's label ends in its municipality, a hospital unit's names the hospital.
    """
    hospitals = [h[0] for hs in sample._config()["hospitals"].values() for h in hs]
    regional = "|".join(re.escape(h) for h in [*hospitals, *REGIONS])

    def owner_type(label: str) -> str:
        if label.endswith(" Kommune"):
            return "Kommune"
        return "Region" if re.search(regional, label) else "Privat"

    tables = [s["tables"][n] for n in SENDS]
    own = pd.concat(t[["lokationsnummer", "enhedsnavn", "ejertype"]] for t in tables)
    own = own.set_axis(["gln", "navn", "ejertype"], axis=1)
    cps = pd.concat(t[["modpart_lokationsnummer", "modpart"]] for t in tables)
    cps = cps.set_axis(["gln", "navn"], axis=1).assign(ejertype=lambda d: d["navn"].map(owner_type))
    out = pd.concat([own, cps]).drop_duplicates("gln").set_index("gln")
    wards = "|".join(re.escape(h) for h in hospitals)
    return out.assign(sygehus=out["navn"].str.contains(wards))


def test_hospital_messages_go_from_hospital_wards_to_municipal_care(national):
    rows, who = directed(national), parties(national)
    name = rows["meddelelsestype"].map(lambda t: messagetypes.parse(t).name)
    care = HOSPITAL_ADVICE | {"Plejeforløbsplan", "Udskrivningsrapport"}
    advice = rows[name.isin(care)]
    assert len(advice) > 100
    senders, receivers = who.loc[advice["afsender"]], who.loc[advice["modtager"]]
    assert (senders["ejertype"] == "Region").all() and senders["sygehus"].all()
    assert not senders["navn"].str.contains("Laboratori|Biokemi|Mikrobiologi|Røntgen").any()
    assert (receivers["ejertype"] == "Kommune").all()
    assert not receivers["navn"].str.contains("Tand").any()


def test_no_correspondence_between_hospital_wards_and_dental_clinics(national):
    rows, who = directed(national), parties(national)
    letters = rows[rows["meddelelsestype"].map(codes).map(lambda c: c <= ALL_LETTERS)]
    assert len(letters) > 1000
    ends = {w: who.loc[letters[w]].reset_index(drop=True) for w in ("afsender", "modtager")}
    dental = {w: e["navn"].str.contains("Tand") for w, e in ends.items()}
    ward = {w: e["sygehus"] for w, e in ends.items()}
    assert dental["afsender"].any() and ward["afsender"].any()
    assert not (dental["afsender"] & ward["modtager"]).any()
    assert not (ward["afsender"] & dental["modtager"]).any()


def test_municipal_units_exchange_messages_within_their_municipality(small, national):
    for s in (small, national):
        rows = pd.concat(s["tables"][n] for n in SENDS)
        both = rows[rows["ejertype"].eq("Kommune") & rows["modpart"].str.endswith(" Kommune")]
        assert len(both) > 10
        own = [m.endswith(f", {e}") for m, e in zip(both["modpart"], both["ejer"], strict=True)]
        assert all(own)


def test_flows_data_is_consistent():
    cfg = sample._config()
    flows = sample._flows(cfg)
    kinds = set(cfg["kinds"])
    received = {k: {c for c, _, r, _ in flows if k in r} for k in kinds}
    sent = {k: {c for c, s, _, _ in flows if k in s} for k in kinds}
    for _, senders, receivers, weight in flows:
        assert set(senders) | set(receivers) <= set(cfg["counterpart_kinds"]) == kinds
        assert weight > 0
    # Every kind both sends and receives, so each can be in every table.
    assert all(received[k] and sent[k] for k in kinds)
    # A type registered wrongly (table 4) is one the kind never receives.
    for kind, wrong in cfg["wrong_types"].items():
        assert not set(wrong) & received[kind], kind
    assert set(cfg["table_kinds"][4]) <= set(cfg["wrong_types"])
    known = set(TYPES.index)
    assert {c for c, *_ in flows} <= known
    assert {c for wrong in cfg["wrong_types"].values() for c in wrong} <= known


def test_guide_message_types_are_known():
    assert messagetypes.parse("Plejeforløbsplan").code == "XDIS21"
    assert TYPES.loc["XDIS21", "syntaks"] == "OIOXML"
    assert set(messagetypes.parse("Sygehusadvis").candidates) == {"XDIS17", "XDIS20"}
    assert messagetypes.parse("FDIS20").name == "Advis om sygehusophold"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_table4_holds_the_guides_examples(seed):
    t4 = sample.make_sample(seed=seed)["tables"][4]
    name = t4["meddelelsestype"].map(lambda t: messagetypes.parse(t).name)
    # A GP clinic registered to receive care plans.
    gp = t4["ejertype"].eq("Privat") & t4["enhedsnavn"].str.contains("Læge")
    assert (gp & name.eq("Plejeforløbsplan")).any()
    # A GP system at a municipal addiction centre registered for hospital notifications: the
    # demo municipality's own table 4 finding.
    addiction = t4["enhedsnavn"].str.contains("Misbrug|Rusmid|Alkohol")
    example = addiction & t4["it_system"].isin(GP_SYSTEMS) & name.isin(HOSPITAL_ADVICE)
    assert (example & t4["ejer"].eq(sample.DEMO_ORGANISATION)).any()


def test_same_seed_gives_identical_frames():
    a, b = sample.make_sample(seed=7), sample.make_sample(seed=7)
    sample._generate.cache_clear()  # a fresh run, not the cached one
    c = sample.make_sample(seed=7)
    assert a["info"] == b["info"] == c["info"]
    for n in schema.TABLE_NUMBERS:
        pd.testing.assert_frame_equal(a["tables"][n], c["tables"][n])


def test_different_seeds_give_different_extracts(small):
    other = sample.make_sample(seed=1)
    assert any(not small["tables"][n].equals(other["tables"][n]) for n in schema.TABLE_NUMBERS)
    assert set(small["tables"][2]["lokationsnummer"]) != set(other["tables"][2]["lokationsnummer"])


def test_callers_get_copies(small):
    s = sample.make_sample()
    s["tables"][1].loc[0, "ejer"] = "Ændret"
    assert sample.make_sample()["tables"][1].loc[0, "ejer"] != "Ændret"


def test_small_invariants(small):
    assert_invariants(small)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_invariants_hold_for_any_seed(seed):
    s = sample.make_sample(seed=seed)
    assert_invariants(s)
    assert_linked_figures_agree(s)
    assert_flows_plausible(s, sample._generate("small", seed)[2])


def test_small_is_a_few_hundred_rows(small):
    sizes = {n: len(df) for n, df in small["tables"].items()}
    assert 200 <= sum(sizes.values()) <= 800
    assert all(size > 0 for size in sizes.values())


def test_national_is_large_and_plausibly_distributed(national):
    assert_invariants(national)
    sizes = {n: len(df) for n, df in national["tables"].items()}
    assert sum(sizes.values()) >= 50_000
    assert min(sizes[n] for n in (2, 3, 5, 6, 7)) > max(sizes[1], sizes[4])
    owners = all_rows(national).query("ejertype == 'Kommune'").groupby("ejer").size()
    # Every municipality but the ones without findings has some; the largest have the most.
    assert len(owners) == len(MUNICIPALITIES) - len(sample.NO_FINDINGS)
    top = set(owners.nlargest(6).index)
    assert {"Københavns Kommune", "Aarhus Kommune", "Aalborg Kommune"} <= top
    assert owners.median() < owners["Aarhus Kommune"] / 5


def test_owners_and_geography_are_consistent(small, national):
    region_of = dict(zip(MUNICIPALITIES["kommune"], MUNICIPALITIES["region"], strict=True))
    short_name = dict(zip(MUNICIPALITIES["navn"], MUNICIPALITIES["kommune"], strict=True))
    official = set(short_name)
    for s in (small, national):
        rows = all_rows(s)
        assert set(rows["ejertype"]) == {"Kommune", "Region", "Privat"}
        assert rows["kommune"].isin(region_of).all()
        assert (rows["kommune"].map(region_of) == rows["region"]).all()
        municipal = rows[rows["ejertype"] == "Kommune"]
        assert (municipal["ejer"].map(short_name) == municipal["kommune"]).all()
        regional = rows[rows["ejertype"] == "Region"]
        assert (
            regional["ejer"].isin(REGIONS).all() and (regional["ejer"] == regional["region"]).all()
        )
        private = rows[rows["ejertype"] == "Privat"]
        assert not private["ejer"].isin(official | REGIONS).any()
        # One location number, one owner; one SOR-ID, one unit.
        assert (rows.groupby("lokationsnummer")["ejer"].nunique() == 1).all()
        assert (rows.groupby("sor_kode")["enhedsnavn"].nunique() == 1).all()
        assert (rows.groupby("sor_kode")["lokationsnummer"].nunique() == 1).all()


def test_names_use_danish_letters_and_known_systems(national):
    rows = all_rows(national)
    assert rows["enhedsnavn"].str.contains("[æøåÆØÅ]").any()
    assert rows["ejer"].str.contains("Læge").any()
    systems = set(rows["it_system"].dropna())
    assert {"KMD Nexus", "Cura", "XMO", "Novax", "Sundhedsplatformen", "Columna CIS"} <= systems
    assert rows["it_leverandoer"].notna().sum() == rows["it_system"].notna().sum()


def test_shared_location_numbers(small, national):
    for s in (small, national):
        tables = {n: set(df["lokationsnummer"]) for n, df in s["tables"].items()}
        assert any(tables[a] & tables[b] for a, b in combinations(tables, 2))
    # Several SOR units inherit one location number.
    units = all_rows(national).groupby("lokationsnummer")["sor_kode"].nunique()
    assert (units > 1).sum() > 100


def test_message_types_resolve_and_formats_match(national):
    rows = all_rows(national)
    names = set(TYPES["navn"])

    def code(text: str) -> str | None:
        first = text.split(" ", 1)[0]
        return first if first in TYPES.index else None

    types = rows["meddelelsestype"].dropna()
    codes = types.map(code)
    assert (codes.notna() | types.isin(names)).all()
    assert codes.isna().any() and (types == codes).any() and types.str.contains(" ").any()
    t4 = national["tables"][4]
    t4_codes = t4["meddelelsestype"].map(code)
    known = t4_codes.notna()
    assert (t4.loc[known, "format"] == t4_codes[known].map(TYPES["syntaks"])).all()
    assert set(t4["format"]) <= {"EDIFACT", "OIOXML", "FHIR"}


def test_receipts(national):
    for n in (6, 7):
        df = national["tables"][n]
        errors = df["fejlkode"]
        assert errors.isna().any()
        assert set(errors.dropna()) >= ERROR_CODES
        assert errors.dropna().str.startswith("MSG_").all()
        assert (df["antal_i_alt"] > df["antal"]).any() and (df["antal_i_alt"] == df["antal"]).any()


def test_counts_are_skewed(national):
    antal = all_rows(national)["antal"].dropna()
    assert antal.median() <= 5
    assert (antal >= 100).sum() > 100
    assert antal.max() < 10_000


def test_dates(small):
    info = small["info"]
    extract_date = info["Udtræksdato"]
    assert isinstance(extract_date, dt.date)
    last_month = extract_date.replace(day=1) - dt.timedelta(days=1)
    assert info["Periode"] == last_month.strftime("%Y-%m")
    created = small["tables"][1]["oprettet"]
    assert created.max() <= pd.Timestamp(extract_date)
    assert created.dt.year.nunique() > 3


def test_unknown_scale_is_a_user_error(tmp_path):
    with pytest.raises(SorediError, match="national"):
        sample.make_sample("huge")
    with pytest.raises(SorediError):
        sample.sample_path("huge")


# -- written layouts -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return sample.write_sample(tmp_path_factory.mktemp("xlsx") / "nested" / "udtraek.xlsx")


def test_workbook_sheets_and_headers(workbook, small):
    wb = openpyxl.load_workbook(workbook)
    names = wb.sheetnames
    assert names[-1] == "Info" and len(names) == 8
    for n, name in zip(schema.TABLE_NUMBERS, names, strict=False):
        assert name.startswith(f"{n} ") and len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert header == list(schema.table(n).headers.values())
        assert ws.max_row == len(small["tables"][n]) + 1


def test_workbook_cell_types(workbook, small):
    wb = openpyxl.load_workbook(workbook)
    ws = wb[sample.sheet_name(2)]
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    first = small["tables"][2].iloc[0]
    for row in ws.iter_rows(min_row=2, max_row=20):
        for h in ("Lokationsnummer", "SOR-kode", "Afsender lokationsnummer"):
            assert row[col[h]].data_type == "s" and row[col[h]].value.isdigit()
        assert row[col["Lukket dato"]].is_date and row[col["Seneste meddelelse"]].is_date
        assert isinstance(row[col["Antal meddelelser"]].value, int)
    cells = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
    assert cells[col["Lokationsnummer"]] == first["lokationsnummer"]
    assert cells[col["Lukket dato"]] == first["lukket_dato"].to_pydatetime()
    info = dict(wb["Info"].iter_rows(values_only=True))
    assert info["Udtræksdato"].date() == small["info"]["Udtræksdato"]
    assert info["Periode"] == small["info"]["Periode"]


def test_write_is_atomic_and_replaces(tmp_path):
    path = tmp_path / "udtraek.xlsx"
    path.write_bytes(b"old")
    sample.write_sample(path, seed=3)
    assert openpyxl.load_workbook(path).sheetnames[0].startswith("1 ")
    assert [p.name for p in tmp_path.iterdir()] == ["udtraek.xlsx"]


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory) -> Path:
    return sample.write_sample(tmp_path_factory.mktemp("csv") / "udtraek", csv=True)


def test_csv_folder_files_and_dialect(csv_folder, small):
    names = sorted(p.name for p in csv_folder.iterdir())
    expected = sorted([f"{n}_{schema.table(n).slug}.csv" for n in schema.TABLE_NUMBERS])
    assert names == sorted([*expected, "Info.csv"])
    for n in schema.TABLE_NUMBERS:
        raw = (csv_folder / sample.csv_name(n)).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
        with (csv_folder / sample.csv_name(n)).open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh, delimiter=";"))
        assert rows[0] == list(schema.table(n).headers.values())
        assert len(rows) == len(small["tables"][n]) + 1
        df = small["tables"][n]
        assert rows[1][0] == df["lokationsnummer"].iloc[0]
    text = (csv_folder / sample.csv_name(3)).read_text("utf-8-sig")
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    closed = rows[0].index("Lukket dato")
    assert all(re.fullmatch(r"\d{2}-\d{2}-\d{4}", r[closed]) for r in rows[1:])
    info = (csv_folder / "Info.csv").read_text("utf-8-sig").splitlines()
    date = small["info"]["Udtræksdato"].strftime("%d-%m-%Y")
    assert info == [f"Udtræksdato;{date}", f"Periode;{small['info']['Periode']}"]


def test_csv_folder_replaced_only_if_ours(tmp_path):
    first = sample.write_sample(tmp_path / "a" / "udtraek", csv=True)
    again = sample.write_sample(first, seed=1, csv=True)
    assert len(list(again.iterdir())) == 8
    assert [p.name for p in again.parent.iterdir()] == ["udtraek"]  # no temporary left behind
    foreign = tmp_path / "dokumenter"
    foreign.mkdir()
    (foreign / "notat.docx").write_bytes(b"x")
    with pytest.raises(SorediError, match="dokumenter"):
        sample.write_sample(foreign, csv=True)
    assert [p.name for p in foreign.iterdir()] == ["notat.docx"]


def test_sample_path_is_cached_by_scale_seed_and_version(tmp_path, monkeypatch):
    monkeypatch.setenv("SOREDI_NB_CACHE", str(tmp_path / "cache"))
    path = sample.sample_path()
    assert path.parent == tmp_path / "cache" and path.is_file()
    assert f"v{sample.GENERATOR_VERSION}" in path.name and "small" in path.name
    assert "seed0" in path.name
    stamp = path.stat().st_mtime_ns
    assert sample.sample_path() == path and path.stat().st_mtime_ns == stamp
    assert sample.sample_path(seed=2) != path


# -- round trip through the loader -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_round_trip_through_loader(kind, workbook, csv_folder, small):
    from soredi_nb.load import load_extract

    path = workbook if kind == "xlsx" else csv_folder
    extract = load_extract(path, cache=False)
    assert extract.warnings == []
    assert extract.info.extract_date == small["info"]["Udtræksdato"]
    assert extract.info.period == small["info"]["Periode"]
    for n, expected in small["tables"].items():
        got = extract.tables[n][expected.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)


# -- byte-identical output -------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(path: Path) -> dict[str, str]:
    """The sha256 of a workbook (as ``"."``), or of every file in a CSV folder, by name."""
    files = [path] if path.is_file() else sorted(path.iterdir())
    return {p.relative_to(path).as_posix(): sha256(p) for p in files}


@pytest.fixture(scope="module")
def written_twice(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """The small sample written as workbook and as CSV folder, then again a second later."""
    root = tmp_path_factory.mktemp("twice")
    first = {k: sample.write_sample(root / f"a.{k}", csv=k == "csv") for k in ("xlsx", "csv")}
    # Past the one-second resolution of the workbook's timestamps, so the clock would show.
    time.sleep(1.1)
    second = {k: sample.write_sample(root / f"b.{k}", csv=k == "csv") for k in ("xlsx", "csv")}
    return {k: (first[k], second[k]) for k in first}


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_same_seed_writes_identical_bytes(kind, written_twice):
    a, b = written_twice[kind]
    expected = 1 if kind == "xlsx" else len(schema.TABLE_NUMBERS) + 1
    assert len(digests(a)) == expected
    assert digests(a) == digests(b)


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_different_seeds_write_different_bytes(kind, written_twice, tmp_path):
    other = sample.write_sample(tmp_path / f"seed1.{kind}", seed=1, csv=kind == "csv")
    mine, theirs = digests(written_twice[kind][0]), digests(other)
    assert mine.keys() == theirs.keys()
    assert all(h not in mine.values() for h in theirs.values())


def test_workbook_is_dated_by_the_extract_date(written_twice, small):
    path = written_twice["xlsx"][0]
    midnight = dt.datetime.combine(small["info"]["Udtræksdato"], dt.time())
    props = openpyxl.load_workbook(path).properties
    assert props.created == midnight and props.modified == midnight
    assert props.creator == props.lastModifiedBy == "soredi-nb"
    with zipfile.ZipFile(path) as zf:
        entries = zf.infolist()
    assert {e.date_time for e in entries} == {midnight.timetuple()[:6]}
    assert {e.compress_type for e in entries} == {zipfile.ZIP_DEFLATED}
    # The parts in the order openpyxl writes them.
    names = [e.filename for e in entries]
    assert names[:2] == ["docProps/app.xml", "docProps/core.xml"]
    assert names[-1] == "[Content_Types].xml"


def test_deterministic_workbook_loads_with_all_rows(written_twice, small):
    from soredi_nb.load import load_extract

    extract = load_extract(written_twice["xlsx"][1], cache=False)
    assert extract.warnings == []
    assert extract.info.extract_date == small["info"]["Udtræksdato"]
    counts = {n: len(extract.tables[n]) for n in schema.TABLE_NUMBERS}
    assert counts == {n: len(df) for n, df in small["tables"].items()}


def test_zip_dates_are_clamped_to_1980(tmp_path, small):
    old = {**small, "info": {**small["info"], "Udtræksdato": dt.date(1975, 6, 1)}}
    path = sample.write_extract(old, tmp_path / "gammel.xlsx")
    assert openpyxl.load_workbook(path).properties.created == dt.datetime(1975, 6, 1)
    with zipfile.ZipFile(path) as zf:
        assert {e.date_time for e in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_document_time_without_an_extract_date():
    noon = pd.Timestamp("2026-11-05 12:30")
    assert sample._document_time({"Udtræksdato": noon}) == dt.datetime(2026, 11, 5)
    for info in ({}, {"Udtræksdato": None}, {"Udtræksdato": pd.NaT}, {"Udtræksdato": "ukendt"}):
        assert sample._document_time(info) == sample._FALLBACK_TIME


def test_write_extract_refuses_an_existing_workbook_unless_told(tmp_path, small):
    path = tmp_path / "udtraek.xlsx"
    path.write_bytes(b"old")
    with pytest.raises(SorediError) as err:
        sample.write_extract(small, path, overwrite=False)
    assert str(err.value) == (
        f"Filen '{path}' findes allerede og overskrives ikke. Brug --force for at erstatte den, "
        "eller angiv et andet filnavn."
    )
    assert path.read_bytes() == b"old"
    dangling = tmp_path / "link.xlsx"
    dangling.symlink_to(tmp_path / "findes-ikke.xlsx")
    with pytest.raises(SorediError, match="link.xlsx"):
        sample.write_extract(small, dangling, overwrite=False)
    assert dangling.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xlsx", "udtraek.xlsx"]


@pytest.mark.parametrize("name", ["udtraek.ods", "udtraek.xls", "udtraek.xlsx.tmp", "udtraek"])
def test_write_extract_writes_only_xlsx(tmp_path, small, name):
    with pytest.raises(SorediError) as err:
        sample.write_extract(small, tmp_path / "ny" / name)
    assert str(err.value) == (
        "Eksempeludtrækket skrives som Excel-projektmappe og skal have endelsen .xlsx, ikke "
        f"'{tmp_path / 'ny' / name}'. Angiv et filnavn, der ender på .xlsx, eller brug --csv for "
        "en mappe med CSV-filer."
    )
    assert list(tmp_path.iterdir()) == []


def test_csv_folder_is_kept_when_the_swap_fails(tmp_path, monkeypatch):
    folder = sample.write_sample(tmp_path / "udtraek", csv=True)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_rename, calls = Path.rename, []

    def rename(self, target):
        # Moving the old folder away works; moving the new one in fails (the first rename to
        # `folder`); putting the old one back works.
        if Path(target) == folder and not calls:
            calls.append(self)
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(SorediError) as err:
        sample.write_sample(folder, seed=1, csv=True)
    assert str(err.value) == (
        f"Kunne ikke skrive '{folder}': ingen adgang (tjek rettighederne til filen eller mappen)."
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["udtraek"]


# -- months: a history of extracts ---------------------------------------------------------------

ALL_TABLES = set(schema.TABLE_NUMBERS)


@pytest.fixture(scope="module")
def history() -> list[dict]:
    return sample.make_history(months=6)


def keys_of(s: dict, n: int) -> pd.Series:
    """The finding keys of table ``n`` of an extract."""
    return finding_key(s["tables"][n], n)


def test_history_ends_with_the_sample(history, small):
    assert len(history) == 6
    assert history[-1]["info"] == small["info"]
    assert history[-1]["tables"].keys() == small["tables"].keys()
    for n, df in small["tables"].items():
        pd.testing.assert_frame_equal(history[-1]["tables"][n], df)


def test_history_months_are_consecutive(history, small):
    assert small["info"]["Udtræksdato"] == dt.date(2026, 11, 8)
    assert [s["info"]["Udtræksdato"] for s in history] == [
        dt.date(2026, m, 8) for m in range(6, 12)
    ]
    assert [s["info"]["Periode"] for s in history] == [f"2026-{m:02d}" for m in range(5, 11)]
    january = sample.make_history(months=12)
    assert [s["info"]["Periode"] for s in january[:3]] == ["2025-11", "2025-12", "2026-01"]
    assert january[2]["info"]["Udtræksdato"] == dt.date(2026, 2, 8)


@pytest.mark.parametrize(("months", "lacking"), [(1, None), (2, 0), (3, 1), (6, 1)])
def test_exactly_one_earlier_month_lacks_table_5(months, lacking):
    tables = [set(s["tables"]) for s in sample.make_history(months=months)]
    expected = [ALL_TABLES - {5} if i == lacking else ALL_TABLES for i in range(months)]
    assert tables == expected


def test_one_month_is_the_sample(small):
    (only,) = sample.make_history(months=1)
    assert only["info"] == small["info"]
    for n, df in small["tables"].items():
        pd.testing.assert_frame_equal(only["tables"][n], df)


def test_history_rows_are_valid_for_their_month(history, small):
    for s in history:
        date = pd.Timestamp(s["info"]["Udtræksdato"])
        t = s["tables"]
        for n, df in t.items():
            assert list(df.columns) == schema.table(n).columns
            assert df.dtypes.equals(small["tables"][n].dtypes), n
        rows = all_rows(s)
        assert rows["lokationsnummer"].map(is_valid_gln).all()
        assert rows["modpart_lokationsnummer"].dropna().map(is_valid_gln).all()
        assert rows["sor_kode"].str.fullmatch(SOR_ID).all()
        assert (t[1]["oprettet"] <= date).all()
        for n in (2, 3):
            assert (t[n]["lukket_dato"] < date).all()
            assert (t[n]["seneste"] > t[n]["lukket_dato"]).all() and (t[n]["seneste"] <= date).all()
        for n in (2, 3, 5, 6, 7):
            if n in t:
                assert (t[n]["antal"] >= 1).all()
        for n in (6, 7):
            assert (t[n]["antal_i_alt"] >= t[n]["antal"]).all()
        assert_receipts_agree(t, 0)
        # A location number is one unit (or one group of units sharing it) in every month.
        units = rows.drop_duplicates(["lokationsnummer", "sor_kode"])
        assert not units.duplicated("sor_kode").any()
        assert not set(rows["ejer"]) & set(sample.NO_FINDINGS)


def assert_receipts_agree(t: dict, at_least: int) -> None:
    """One set of receipts, seen by its sender (6) and its rejecter (7), has the same numbers."""
    seen = t[6].merge(t[7].rename(columns=SWAP), on=KEY, suffixes=("_6", "_7"))
    assert len(seen) >= at_least
    for col in ("antal", "antal_i_alt", "fejlkode"):
        assert seen[f"{col}_6"].equals(seen[f"{col}_7"]), col


def test_national_history_receipts_agree_in_every_month():
    months = sample.make_history("national", months=3)
    for s in months:
        assert_receipts_agree(s["tables"], 10)
    # They are other numbers than the month after.
    old, new = (s["tables"][7] for s in months[-2:])
    pairs = match_findings(old, new, 7)
    counts = [df["antal"].iloc[pairs[side]].to_numpy() for df, side in ((old, "old"), (new, "new"))]
    assert 0.2 < (counts[0] != counts[1]).mean() < 1


def test_history_changes_at_realistic_rates(history):
    """Month to month, counted as ``compare`` counts: most persist, some resolved, a few new."""
    for old, new in zip(history, history[1:], strict=False):
        common = sorted(set(old["tables"]) & set(new["tables"]))
        persisting = sum(len(match_findings(old["tables"][n], new["tables"][n], n)) for n in common)
        before = sum(len(old["tables"][n]) for n in common)
        after = sum(len(new["tables"][n]) for n in common)
        month = new["info"]["Periode"]
        assert 0.80 <= persisting / before <= 0.92, month
        assert 0.08 <= 1 - persisting / before <= 0.20, month
        assert 0.02 <= 1 - persisting / after <= 0.12, month


def test_findings_last_come_and_go(history):
    months = range(len(history))
    back = 0
    for n in (1, 2, 3, 4, 6, 7):
        present = [set(keys_of(s, n)) for s in history]
        long_standing = set.intersection(*present)
        assert len(long_standing) >= 0.25 * len(present[-1]), n
        # Resolved, then back: there in one month, gone the next, there again later.
        back += len(
            {
                k
                for i, j, m in combinations(months, 3)
                for k in present[i] & present[m]
                if k not in present[j]
            }
        )
    assert back >= 5
    # The receipts of a persisting finding change from month to month (many counts are 1-3).
    old, new = history[-2]["tables"][6], history[-1]["tables"][6]
    pairs = match_findings(old, new, 6)
    counts = [df["antal"].iloc[pairs[side]].to_numpy() for df, side in ((old, "old"), (new, "new"))]
    assert 0.2 < (counts[0] != counts[1]).mean() < 1


def test_history_is_deterministic_and_longer_reaches_further_back(history):
    again = sample.make_history(months=6)
    longer = sample.make_history(months=9)
    for a, b, c in zip(history, again, longer[3:], strict=True):
        assert a["info"] == b["info"] == c["info"]
        for n, df in a["tables"].items():
            pd.testing.assert_frame_equal(df, b["tables"][n])
            pd.testing.assert_frame_equal(df, c["tables"][n])
    assert sample.make_history(seed=1, months=2)[0]["info"] != history[-2]["info"]


@pytest.mark.parametrize("months", [0, -1, 61, 2.5, True, "3"])
def test_history_months_must_be_1_to_60(months):
    with pytest.raises(SorediError, match=f"helt tal fra 1 til 60, ikke '{months}'"):
        sample.make_history(months=months)


@pytest.fixture(scope="module")
def history_folder(tmp_path_factory) -> Path:
    return sample.write_history(tmp_path_factory.mktemp("months") / "udtraek", months=3)[0].parent


def test_write_history_writes_one_workbook_per_month(history_folder):
    names = sorted(p.name for p in history_folder.iterdir())
    assert names == [f"kvalitetsudtraek-2026-{m}.xlsx" for m in ("08", "09", "10")]
    assert [sample.history_period(history_folder / n) for n in names] == [
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    assert sample.history_period("sample.xlsx") is None


def test_history_loads_without_new_warnings(history_folder):
    from soredi_nb.load import load_extract

    expected = sample.make_history(months=3)
    for path, s in zip(sorted(history_folder.iterdir()), expected, strict=True):
        extract = load_extract(path, cache=False)
        missing = sorted(ALL_TABLES - set(s["tables"]))
        assert [w.message for w in extract.warnings] == [
            f"Tabel {n} mangler i udtrækket og kan ikke vurderes." for n in missing
        ]
        assert extract.info.period == s["info"]["Periode"]
        assert extract.info.extract_date == s["info"]["Udtræksdato"]
        assert {n: len(df) for n, df in extract.tables.items()} == {
            n: len(df) for n, df in s["tables"].items()
        }


@pytest.mark.parametrize("csv", [False, True])
def test_write_history_is_byte_identical_on_rerun(tmp_path, csv):
    first = sample.write_history(tmp_path / "a", months=3, csv=csv)
    time.sleep(1.1)
    second = sample.write_history(tmp_path / "b", months=3, csv=csv)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert digests(a) == digests(b)
    # The newest month is the one-month sample, byte for byte.
    single = sample.write_sample(tmp_path / ("single" if csv else "single.xlsx"), csv=csv)
    assert digests(first[-1]) == digests(single)
    if csv:
        assert sorted(p.name for p in first[1].iterdir()) == sorted(
            [sample.csv_name(n) for n in ALL_TABLES - {5}] + ["Info.csv"]
        )


def test_write_history_replaces_earlier_months_only_when_told(tmp_path):
    folder = tmp_path / "udtraek"
    sample.write_history(folder, months=3)
    before = digests(folder)
    with pytest.raises(SorediError, match="indeholder allerede månedlige eksempeludtræk"):
        sample.write_history(folder, months=2)
    assert digests(folder) == before
    sample.write_history(folder, months=2, overwrite=True)
    # The month the new run does not have is gone: the folder holds one run's months.
    assert sorted(p.name for p in folder.iterdir()) == [
        "kvalitetsudtraek-2026-09.xlsx",
        "kvalitetsudtraek-2026-10.xlsx",
    ]
    empty = tmp_path / "tom"
    empty.mkdir()
    assert len(sample.write_history(empty, months=2)) == 2


def test_write_history_never_touches_other_files(tmp_path):
    folder = tmp_path / "udtraek"
    sample.write_history(folder, months=2)
    (folder / "noter.txt").write_text("mine")
    with pytest.raises(SorediError, match="indeholder 'noter.txt', som ikke er et månedligt"):
        sample.write_history(folder, months=2, overwrite=True)
    assert (folder / "noter.txt").read_text() == "mine"
    # A month's CSV folder with a file of the user's in it is not ours either.
    csv = tmp_path / "csv"
    (month,) = sample.write_history(csv, months=2, csv=True)[:1]
    (month / "noter.txt").write_text("mine")
    with pytest.raises(SorediError, match=f"indeholder '{month.name}'"):
        sample.write_history(csv, months=2, csv=True, overwrite=True)
    file = tmp_path / "fil"
    file.write_text("x")
    with pytest.raises(SorediError, match="er en fil, ikke en mappe"):
        sample.write_history(file, months=2)
    with pytest.raises(SorediError, match="ender på .xlsx"):
        sample.write_history(tmp_path / "udtraek.xlsx", months=2)
    assert not (tmp_path / "udtraek.xlsx").exists()


def test_sample_months_command(run_cli, tmp_path):
    folder = tmp_path / "udtraek"
    code, out, err = run_cli("sample", folder, "--months", "3")
    rows = sum(len(df) for df in sample.make_sample()["tables"].values())
    assert (code, err) == (0, "")
    assert out == (
        f"3 månedlige eksempeludtræk skrevet i {folder} (2026-08 … 2026-10), {rows} rækker i det"
        " seneste.\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        f"kvalitetsudtraek-2026-{m}.xlsx" for m in ("08", "09", "10")
    ]
    code, out, err = run_cli("sample", folder, "--months", "3")
    assert (code, out) == (1, "")
    assert err.startswith(f"Fejl: Mappen '{folder}' indeholder allerede månedlige eksempeludtræk")
    code, out, _ = run_cli("sample", folder, "--months", "2", "--force", "--csv")
    assert code == 0 and out.startswith("2 månedlige eksempeludtræk skrevet i")
    assert sorted(p.name for p in folder.iterdir()) == [
        "kvalitetsudtraek-2026-09",
        "kvalitetsudtraek-2026-10",
    ]


def test_sample_months_1_is_todays_command(run_cli, tmp_path):
    code, out, _ = run_cli("sample", tmp_path / "a.xlsx", "--months", "1")
    assert code == 0 and out.startswith("Eksempeludtræk skrevet til")
    plain = sample.write_sample(tmp_path / "b.xlsx")
    assert digests(tmp_path / "a.xlsx") == digests(plain)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--months", "0"],
            "Fejl: Antallet af måneder skal være et helt tal fra 1 til 60, ikke '0'.\n",
        ),
        (
            ["--months", "mange"],
            "Fejl i kommandoen: --months: ugyldig værdi: 'mange'. Se 'soredi-nb sample --help'.\n",
        ),
    ],
)
def test_sample_months_bad_input_is_a_danish_error(run_cli, tmp_path, argv, expected):
    code, out, err = run_cli("sample", tmp_path / "udtraek", *argv)
    assert (code, out, err) == (1, "", expected)
    assert not (tmp_path / "udtraek").exists()


def test_sample_months_into_a_workbook_name_is_refused(run_cli, tmp_path):
    code, _, err = run_cli("sample", tmp_path / "udtraek.xlsx", "--months", "2")
    assert code == 1
    assert err.startswith("Fejl: Med flere måneder skrives udtrækkene i en mappe")
    assert list(tmp_path.iterdir()) == []


def test_package_yaml_reads_alike_with_either_parser():
    """The package's YAML files are parsed with libyaml where PyYAML has it: the same data."""
    data = files("soredi_nb").joinpath("data")
    names = [p.name for p in data.iterdir() if p.name.endswith(".yaml")]
    names += [f"texts/{p.name}" for p in data.joinpath("texts").iterdir()]
    assert {"tasks.yaml", "roles.yaml", "texts/notebook.yaml"} <= set(names)
    for name in names:
        assert reference.package_yaml(name) == yaml.safe_load(
            data.joinpath(name).read_text("utf-8")
        ), name
