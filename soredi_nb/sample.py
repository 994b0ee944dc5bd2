"""A realistic, invented SOR-EDI quality extract for demos, tests and benchmarks.

The generator builds SOR units (municipal, regional and private), gives them valid location
numbers and SOR-IDs, and lets them send and receive MedCom message types as real units do: each
message type goes between the kinds of unit that exchange it (see ``data/sample.yaml`` for every
name pool, message flow and proportion). The seven tables then hold the kinds of findings the
guide describes, linked the way they are in reality: a closed location number that still
receives messages (table 2) also rejects them (table 7), its senders get the negative receipts
(table 6), a closed number that still sends (table 3) gets receipts for what it sent, and a unit
that is sent a type it is not registered for (table 5) rejects it (table 7). Linked figures
agree: the receipts of the latest month (tables 6-7) are for messages of that month, never more
than the traffic tables count for the same pair and type, and one set of receipts has the same
numbers seen from its sender (table 6) and from its receiver (table 7).

`make_history` adds the months before the sample, with findings resolved, new and persisting as
from one real month to the next.

Output is deterministic for a given ``scale`` and ``seed``: one ``numpy`` generator drives every
choice, and nothing depends on the clock or on set ordering.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import numbers
import os
import re
import shutil
import zipfile
from bisect import bisect
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import platformdirs
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from soredi_nb import reference, schema
from soredi_nb.exceptions import SorediError
from soredi_nb.files import atomic_path, reason, temporary_name
from soredi_nb.texts import text
from soredi_nb.validate import gln_check_digit

GENERATOR_VERSION = 2
"""Bump whenever the output for a given scale and seed changes (it names the cached sample)."""

DEMO_ORGANISATION = "Aarhus Kommune"
"""The municipality notebooks show by default: it has findings in every table."""

DEMO_REGION = "Region Midtjylland"
"""A region with findings in every table too: a second organisation, of the other kind."""

NO_FINDINGS = (
    "Dragør Kommune",
    "Fanø Kommune",
    "Læsø Kommune",
    "Samsø Kommune",
    "Ærø Kommune",
)
"""Municipalities with no findings at all: no rows as owner, as geography or as counterpart."""

SCALES = ("small", "national")

_DTYPES = {"date": "datetime64[us]", "int": "Int64"}
EXCEL_DATE = "dd-mm-yyyy"
"""Number format of date cells written for Danish Excel (the sample, worklists)."""
_CSV_DATE = "%d-%m-%Y"
_AUTHOR = "soredi-nb"
_FALLBACK_TIME = dt.datetime(2026, 1, 1)
"""Workbook and zip entry time when the extract has no ``Udtræksdato``."""
# The range a zip entry's (MS-DOS) date can hold.
_ZIP_TIMES = (dt.datetime(1980, 1, 1), dt.datetime(2107, 12, 31, 23, 59, 58))
_UNABLE = "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"
_UNKNOWN = "MSG_Receiver_Identifier_UNKNOWN"


@cache
def _config() -> dict:
    """Parse ``data/sample.yaml`` once."""
    return reference.package_yaml("sample.yaml")


def _flows(cfg: dict) -> list[tuple[str, tuple[str, ...], tuple[str, ...], float]]:
    """Every (code, sender kinds, receiver kinds, weight): ``flows``, then ``correspondence``."""
    out = [(c, tuple(s), tuple(r), float(w)) for c, s, r, w in cfg["flows"]]
    codes = cfg["correspondence"]["codes"]
    total = sum(codes.values())
    for a, b, weight in cfg["correspondence"]["pairs"]:
        for code, w in codes.items():
            share = weight * w / total
            out += [(code, tuple(a), tuple(b), share), (code, tuple(b), tuple(a), share)]
    return out


class _Weighted:
    """Weighted choice among fixed keys, with one uniform draw per pick (fast for many picks)."""

    def __init__(self, weights: dict) -> None:
        self.keys = list(weights)
        self.cum = list(accumulate(float(w) for w in weights.values()))

    def pick(self, rng: np.random.Generator):
        """One key, drawn with probability proportional to its weight."""
        return self.keys[bisect(self.cum, rng.random() * self.cum[-1])]


def _one(rng: np.random.Generator, items: list | tuple):
    """One item of a sequence, uniformly."""
    return items[int(rng.random() * len(items))]


@dataclass(frozen=True)
class _Group:
    """A location number and the SOR units that share it (the first one owns it)."""

    gln: str
    kind: str
    units: tuple[tuple, ...]
    """Identity columns (``schema.identity_columns()`` order) of each unit."""
    label: str
    """How a counterpart sees it: unit name, with the municipality for municipal units."""
    region: str
    closed: dt.date | None = None
    created: dt.date | None = None


@dataclass(frozen=True)
class _Traffic:
    """Messages of one type between a location number and one counterpart (tables 2, 3, 5)."""

    code: str
    cp: _Group
    text: str
    """The type as written in the row; rows linked to this one repeat it."""
    antal: int
    latest: dt.date | None = None


class _Generator:
    """The state of one generation run: random source, organisations, pools and used ids."""

    def __init__(self, scale: str, seed: int) -> None:
        cfg = _config()
        if scale not in cfg["scales"]:
            raise SorediError(text("sample.unknown_scale", scale=scale, choices=", ".join(SCALES)))
        self.cfg, self.sizes = cfg, cfg["scales"][scale]
        self.rng = rng = np.random.default_rng(seed)
        # A fixed month, not today: the sample must not depend on the clock.
        self.date = dt.date(2026, 11, 2 + int(rng.integers(0, 8)))
        self.glns: set[str] = set()
        self.sors: set[str] = set()
        self.names: set[tuple[str, str]] = set()
        self.care: dict[str, str] = {}
        self.kind_of: dict[str, str] = {}
        """Location number -> kind of unit, for tests of the message flows."""
        self.required: dict[str, list[str]] = {}
        """Location number -> table 4 types it must have (the guide's examples)."""
        self.forced: set[str] = set()
        self.colleagues: dict[tuple[str, str], list[_Group]] = {}
        """(kind, municipality) -> the municipal counterparts made for it, see `colleague`."""
        """Location numbers of the forced organisations and the guide's examples."""
        self.receipts: dict[tuple[str, str, str], tuple] = {}
        """(sender, receiver, code) -> the latest month's negative receipts, see `receipt`."""
        # The reporting month ("seneste måned" of tables 6-7): the month before the extract.
        end = self.date.replace(day=1) - dt.timedelta(days=1)
        self.period = (end.replace(day=1), end)

        munis = reference.municipalities()
        munis = munis[~munis["navn"].isin(NO_FINDINGS)]
        self.muni = {m.navn: (m.kommune, m.region) for m in munis.itertuples()}
        # Jitter the unlisted (smaller) municipalities so that which of them stand out varies
        # with the seed, while the listed large ones keep their share.
        jitter = rng.lognormal(0.0, 0.5, len(self.muni))
        weights = cfg["municipality_weights"]
        self.pick_muni = _Weighted(
            {n: weights.get(n, j) for n, j in zip(self.muni, jitter, strict=True)}
        )
        # Municipalities not yet given a location number, for the scale's `coverage`.
        self.uncovered = [str(m) for m in rng.permutation(list(self.muni))]
        self.pick_region = _Weighted(cfg["region_weights"])
        self.kinds = cfg["kinds"]
        self.systems = {k: _Weighted(v["systems"]) for k, v in self.kinds.items()}
        self.care_systems = _Weighted(cfg["care_systems"])
        self.region_systems = {r: _Weighted(w) for r, w in cfg["region_systems"].items()}
        self.table_kinds = {int(n): _Weighted(w) for n, w in cfg["table_kinds"].items()}
        self.error_codes = _Weighted(cfg["error_codes"])

        types = reference.message_types().set_index("kode")
        self.type_names = types["navn"].to_dict()
        self.type_syntax = types["syntaks"].to_dict()
        cp_weights = cfg["counterpart_kinds"]
        flows = _flows(cfg)
        self.flows_in: dict[str, _Weighted] = {}
        self.flows_out: dict[str, _Weighted] = {}
        for kind in self.kinds:
            ins: dict[tuple, float] = {}
            outs: dict[tuple, float] = {}
            for c, s, r, w in flows:
                if kind in r:
                    ins[(c, s)] = ins.get((c, s), 0.0) + w
                if kind in s:
                    outs[(c, r)] = outs.get((c, r), 0.0) + w
            self.flows_in[kind], self.flows_out[kind] = _Weighted(ins), _Weighted(outs)
        # The counterpart's kind is one of those the picked flow lists: the message type decides.
        self.cp_kinds = {
            ks: _Weighted({k: cp_weights[k] for k in ks}) for _, s, r, _ in flows for ks in (s, r)
        }
        self.pool = self._counterpart_pool(self.sizes["counterparts"], cp_weights)

    # -- identifiers and values ---------------------------------------------------------------

    def gln(self) -> str:
        """A new valid GLN-13 in the Danish healthcare range (5790000…, 5790001…, 5790002…)."""
        while True:
            body = f"579000{int(self.rng.integers(0, 300_000)):06d}"
            if body not in self.glns:
                self.glns.add(body)
                return body + str(gln_check_digit(body))

    def sor(self) -> str:
        """A new SOR-ID: 4-6 digits, then ``1000016`` and 3 digits, as real unit IDs look."""
        while True:
            width = _one(self.rng, (4, 5, 5, 6, 6, 6))
            head = int(self.rng.integers(10 ** (width - 1), 10**width))
            sor = f"{head}1000016{int(self.rng.integers(0, 1000)):03d}"
            if sor not in self.sors:
                self.sors.add(sor)
                return sor

    def count(self) -> int:
        """A message count: mostly 1-5, now and then hundreds (heavy-tailed)."""
        n = int(self.rng.pareto(1.2) * 1.5) + 1
        return n if n <= 3000 else int(self.rng.integers(300, 3000))

    def message_type(self, code: str) -> str:
        """The type as MedCom writes it: mostly code and name, sometimes only one of them."""
        r = self.rng.random()
        if r < 0.75:
            return f"{code} {self.type_names[code]}"
        return code if r < 0.92 else self.type_names[code]

    def closed_date(self) -> dt.date:
        """When a location number was closed: before the extract date, mostly the last years."""
        days = 14 + int(self.rng.exponential(350))
        return max(self.date - dt.timedelta(days=days), dt.date(2012, 1, 2))

    def latest(self, closed: dt.date, in_period: bool = False) -> dt.date:
        """Date of the latest message: after ``closed``, at the latest on the extract date.

        ``in_period``: in the reporting month (a closed number's ``closed`` is always before
        its end, see `closed_date`).
        """
        if in_period:
            start, end = max(closed + dt.timedelta(days=1), self.period[0]), self.period[1]
            return start + dt.timedelta(days=int(self.rng.integers(0, (end - start).days + 1)))
        gap = (self.date - closed).days
        return self.date - dt.timedelta(days=min(int(self.rng.exponential(45)), gap - 1))

    def created(self) -> dt.date:
        """When a location number became valid: years back, or recently (being prepared)."""
        if self.rng.random() < 0.25:
            return self.date - dt.timedelta(days=int(self.rng.integers(0, 150)))
        start = dt.date(2008, 1, 2)
        span = (self.date - start).days - 150
        return start + dt.timedelta(days=int(self.rng.integers(0, span)))

    # -- organisations and units --------------------------------------------------------------

    def fill(self, template: str, town: str = "") -> str:
        """Fill a name template's placeholders from the name pools."""
        c, rng = self.cfg, self.rng
        return template.format(
            town=town,
            area=_one(rng, c["areas"]),
            place=_one(rng, c["places"]),
            street=_one(rng, c["streets"]),
            person=f"{_one(rng, c['first_names'])} {_one(rng, c['last_names'])}",
        )

    def unique(self, scope: str, make, qualify) -> str:
        """A name not yet used in ``scope``: ``make()``, else ``qualify(make())``, else numbered."""
        for attempt in range(30):
            name = make() if attempt < 10 else qualify(make())
            if (scope, name) not in self.names:
                break
        base, k = name, 2
        while (scope, name) in self.names:
            name, k = f"{base} {k}", k + 1
        self.names.add((scope, name))
        return name

    def municipality(self) -> str:
        """An owning municipality: by weight, or one without findings yet (see `coverage`)."""
        if self.uncovered and self.rng.random() < self.sizes["coverage"]:
            return self.uncovered.pop()
        return self.pick_muni.pick(self.rng)

    def town(self, short: str) -> str:
        """A town in the municipality with this short name."""
        return _one(self.rng, self.cfg["towns"].get(short, [short]))

    def system(self, kind: str, owner: str, region: str) -> str:
        """The IT system of a unit: the municipality's care system, the region's EPJ, or a pick."""
        name = self.systems[kind].pick(self.rng)
        if name == "$care":
            if owner not in self.care:
                self.care[owner] = self.care_systems.pick(self.rng)
            return self.care[owner]
        return self.region_systems[region].pick(self.rng) if name == "$epj" else name

    def municipal_unit(self, kind: str, owner: str | None) -> tuple[str, str, str, str, str]:
        """Owner, region, municipality, unit name and counterpart label of a municipal unit."""
        ejer = owner or self.municipality()
        kommune, region = self.muni[ejer]
        town, templates = self.town(kommune), self.kinds[kind]["names"]
        name = self.unique(
            ejer,
            lambda: self.fill(_one(self.rng, templates), town),
            lambda n: f"{n}, {_one(self.rng, self.cfg['member_suffixes'])}",
        )
        return ejer, region, kommune, name, f"{name}, {ejer}"

    def regional_unit(self, kind: str, owner: str | None) -> tuple[str, str, str, str, str]:
        """Owner, region, municipality, unit name and label of a hospital or regional unit."""
        cfg, rng, spec = self.cfg, self.rng, self.kinds[kind]
        region = owner or self.pick_region.pick(rng)
        department = _one(rng, cfg[spec["departments"]])
        if spec["at"] == "seat":
            kommune, base = cfg["region_seats"][region], f"{department}, {region}"
        else:
            # A psychiatric hospital's entry has a third field, `psych`.
            psychiatric = spec["at"] == "psychiatric"
            hospitals = [h for h in cfg["hospitals"][region] if (len(h) > 2) == psychiatric]
            hospital, kommune, *_ = _one(rng, hospitals)
            base = f"{department}, {hospital}"
        name = self.unique(
            region,
            lambda: base,
            lambda n: (
                f"{_one(rng, cfg['sections'])} {_one(rng, 'ABCDEFGHK')}{_one(rng, '1234567')}, {n}"
            ),
        )
        return region, region, kommune, name, name

    def private_unit(self, kind: str) -> tuple[str, str, str, str, str]:
        """Owner, region, municipality, unit name and label of a private practice."""
        geo = self.municipality()
        kommune, region = self.muni[geo]
        town, templates = self.town(kommune), self.kinds[kind]["names"]
        # A practice is its own owner; owners must be unique nationally, so add the town if needed.
        name = self.unique(
            "", lambda: self.fill(_one(self.rng, templates), town), lambda n: f"{n}, {town}"
        )
        return name, region, kommune, name, name

    def group(
        self, kind: str, owner: str | None = None, closed: bool = False, system: str | None = None
    ) -> _Group:
        """A new location number of this kind with its unit(s); ``owner``, ``system`` forced."""
        rng, spec = self.rng, self.kinds[kind]
        owner_type = spec["owner"]
        if owner_type == "Kommune":
            ejer, region, kommune, name, label = self.municipal_unit(kind, owner)
        elif owner_type == "Region":
            ejer, region, kommune, name, label = self.regional_unit(kind, owner)
        else:
            ejer, region, kommune, name, label = self.private_unit(kind)
        it_system = system or self.system(kind, ejer, region)
        ident = (ejer, owner_type, region, kommune, it_system, self.cfg["vendors"][it_system])
        names = [name]
        if rng.random() < spec["shared"]:
            # Units below the owning unit inherit its location number in SOR.
            extra = 1 + int(rng.random() * 3)
            if owner_type == "Privat":
                names += [self.fill(spec["members"]) for _ in range(extra)]
            elif owner_type == "Kommune":
                names += [
                    f"{name}, {s}" for s in rng.permutation(self.cfg["member_suffixes"])[:extra]
                ]
            else:
                names += [f"{s}, {name}" for s in rng.permutation(self.cfg["sections"])[:extra]]
        gln = self.gln()
        self.kind_of[gln] = kind
        units = tuple((gln, self.sor(), n, *ident) for n in dict.fromkeys(names))
        if closed:
            return _Group(gln, kind, units, label, region, closed=self.closed_date())
        return _Group(gln, kind, units, label, region, created=self.created())

    def _counterpart_pool(self, size: int, weights: dict) -> dict[str, dict[str | None, list]]:
        """Active units that send to and receive from the units with findings, by kind/region."""
        total = sum(weights.values())
        pool: dict[str, dict[str | None, list]] = {}
        for kind, w in weights.items():
            groups = [self.group(kind) for _ in range(max(2, round(size * w / total)))]
            by_region: dict[str | None, list] = {None: groups}
            for g in groups:
                by_region.setdefault(g.region, []).append(g)
            pool[kind] = by_region
        return pool

    def counterpart(self, kinds: tuple[str, ...], me: _Group) -> _Group:
        """A counterpart of one of ``kinds``, mostly from the same region, never ``me``.

        Municipal units exchange messages with other units of their own municipality only.
        """
        while True:
            kind = self.cp_kinds[kinds].pick(self.rng)
            if me.units[0][4] == "Kommune" == self.kinds[kind]["owner"]:
                g = self.colleague(kind, me.units[0][3])
            else:
                by_region = self.pool[kind]
                local = self.rng.random() < 0.7 and me.region in by_region
                g = _one(self.rng, by_region[me.region if local else None])
            if g.gln != me.gln:
                return g

    def colleague(self, kind: str, owner: str) -> _Group:
        """A unit of ``kind`` in municipality ``owner``: one of a few, made when first needed."""
        units = self.colleagues.setdefault((kind, owner), [])
        if len(units) < 3 and (not units or self.rng.random() < 0.3):
            units.append(self.group(kind, owner))
            return units[-1]
        return _one(self.rng, units)

    def traffic(self, g: _Group, incoming: bool, n: int) -> list[tuple[str, _Group]]:
        """Up to ``n`` distinct (message type, counterpart) pairs ``g`` receives or sends."""
        flows = (self.flows_in if incoming else self.flows_out)[g.kind]
        out: dict[tuple[str, str], tuple[str, _Group]] = {}
        for _ in range(3 * n):
            code, kinds = flows.pick(self.rng)
            cp = self.counterpart(kinds, g)
            out.setdefault((code, cp.gln), (code, cp))
            if len(out) == n:
                break
        return list(out.values())

    def rows_per(self, mean: float) -> int:
        """How many rows one location number gets in a table: 1 or more, skewed."""
        return int(self.rng.geometric(1 / mean))

    def rejected_share(self, error: str) -> float:
        """The share of the messages of one type to one counterpart that ``error`` rejects."""
        r = self.rng
        if error == _UNABLE:
            return 1.0 if r.random() < 0.6 else r.uniform(0.5, 1.0)  # every message bounces
        if error.startswith("MSG_Receiver"):
            return r.uniform(0.2, 1.0)
        return max(r.beta(1.0, 8.0), 0.002)  # technical errors hit a few messages

    def receipt(
        self, sender: _Group, receiver: _Group, code: str, text: str, error: str, total=None
    ) -> tuple[str, int, int, str]:
        """The latest month's negative receipts for ``sender``'s ``code`` messages to ``receiver``.

        Returns (type as written, receipts, messages in all, error code). ``total`` is the number
        of messages when another table fixes it; without it, both numbers are drawn. The first
        call for a (sender, receiver, code) decides: table 6 (the sender's view) and table 7 (the
        receiver's view) then show the same receipts.
        """
        key = (sender.gln, receiver.gln, code)
        if key not in self.receipts:
            if total is None:
                antal = self.count()
                total = max(antal, round(antal / self.rejected_share(error)))
            else:
                antal = max(1, min(total, round(total * self.rejected_share(error))))
            self.receipts[key] = (text, antal, total, error)
        return self.receipts[key]

    def in_period(self, t: _Traffic, closed: dt.date) -> int:
        """How many of a closed location number's messages ``t`` fall in the reporting month.

        Table 2 or 3 counts messages since the closing date (``closed``); the latest one is on
        ``t.latest``, the others are taken as spread evenly between the two dates.
        """
        start, end = self.period
        n = int(start <= t.latest <= end)
        overlap = (min(t.latest, end + dt.timedelta(days=1)) - max(closed, start)).days
        if overlap > 0:
            n += round((t.antal - 1) * overlap / (t.latest - closed).days)
        return n

    def recent(self, g: _Group, pairs: list[_Traffic]) -> list[tuple[_Traffic, int]]:
        """The traffic of closed ``g`` with messages in the reporting month, and how many."""
        counted = [(t, self.in_period(t, g.closed)) for t in pairs]
        return [(t, n) for t, n in counted if n > 0]

    def selection(
        self,
        number: int,
        closed: bool,
        sources: dict[int | str, float] | None = None,
        picked: dict | None = None,
    ) -> list[tuple[_Group, int | str | None]]:
        """The location numbers of table ``number``: forced ones, reused ones, new ones.

        ``sources`` maps a key of ``picked`` (an earlier table's number, or another list of
        location numbers) to the share of this table's location numbers taken from it. Each pick
        is returned with the key it came from, or ``None`` for a new location number. The forced
        organisations and the guide's examples (``forced``, ``examples``) come first.
        """
        n = self.sizes["tables"][number]
        sources, picked = sources or {}, picked or {}
        out: list[tuple[_Group, int | str | None]] = []
        forced = [(o, kinds[number]) for o, kinds in self.cfg["forced"].items() if number in kinds]
        forced += [(None, spec) for spec in self.cfg["examples"].get(number, [])]
        for owner, spec in forced:
            spec = spec if isinstance(spec, dict) else {"kind": spec}
            kind = spec["kind"]
            # Reusing a forced location number of a source table links the tables for the demo.
            reuse = [
                (g, s)
                for s in sources
                for g in picked[s]
                if owner is not None and g.units[0][3] == owner and g.kind == kind
            ]
            if not reuse:
                reuse = [(self.group(kind, owner, closed, spec.get("system")), None)]
            out.append(reuse[0])
            self.forced.add(reuse[0][0].gln)
            if "types" in spec:
                self.required[reuse[0][0].gln] = spec["types"]
        used = {g.gln for g, _ in out}
        for source, share in sources.items():
            candidates = [g for g in picked[source] if g.gln not in used]
            k = min(round(n * share), len(candidates))
            for i in sorted(self.rng.choice(len(candidates), k, replace=False)):
                out.append((candidates[i], source))
                used.add(candidates[i].gln)
        while len(out) < n:
            out.append((self.group(self.table_kinds[number].pick(self.rng), closed=closed), None))
        return out


# -- the seven tables ----------------------------------------------------------------------------
# Each returns its rows (identity columns, then the table's own) and the groups it used.


def _table1(gen: _Generator) -> tuple[list, list]:
    """Active location numbers without incoming message types: every unit sharing one."""
    rows, groups = [], []
    # Every row has its IT system: a location number whose IT-system details are removed (the
    # guide's action a.1) is no longer registered in SOR-EDI, so it is not in the table.
    for g, _ in gen.selection(1, closed=False):
        groups.append(g)
        rows += [(*u, g.created) for u in g.units]
    return rows, groups


def _closed(gen: _Generator, number: int, incoming: bool, **select) -> tuple[list, list, dict]:
    """Rows of table 2 or 3, the location numbers used, and the traffic of each."""
    rows, groups, traffic = [], [], {}
    for g, _ in gen.selection(number, closed=True, **select):
        groups.append(g)
        traffic[g.gln] = pairs = []
        for i, (code, cp) in enumerate(gen.traffic(g, incoming, gen.rows_per(2.7))):
            # The demo follows a forced closed number into tables 6-7, which count the latest
            # month only: its first traffic reaches into that month.
            recent = i == 0 and g.gln in gen.forced
            latest = gen.latest(g.closed, in_period=recent)
            t = _Traffic(code, cp, gen.message_type(code), gen.count(), latest)
            pairs.append(t)
            rows.append((*g.units[0], g.closed, t.text, cp.gln, cp.label, t.antal, t.latest))
    return rows, groups, traffic


def _table2(gen: _Generator) -> tuple[list, list, dict]:
    """Closed location numbers that still receive messages."""
    return _closed(gen, 2, incoming=True)


def _table3(gen: _Generator, picked: dict) -> tuple[list, list, dict]:
    """Closed location numbers that still send messages; some also receive (table 2)."""
    return _closed(gen, 3, incoming=False, sources={2: 0.35}, picked=picked)


def _table4(gen: _Generator) -> tuple[list, list]:
    """Incoming message types the unit's IT system cannot handle, for every unit sharing one."""
    rows, groups = [], []
    for g, _ in gen.selection(4, closed=False):
        groups.append(g)
        wrong = gen.cfg["wrong_types"][g.kind]
        # The first types listed are the typical mistakes, so they are the likeliest.
        weights = np.array([1 / (i + 1) for i in range(len(wrong))])
        k = min(gen.rows_per(1.5), len(wrong))
        codes = [wrong[i] for i in gen.rng.choice(len(wrong), k, False, weights / weights.sum())]
        codes = list(dict.fromkeys([*gen.required.get(g.gln, []), *codes]))
        for u in g.units:
            rows += [(*u, gen.message_type(c), gen.type_syntax[c]) for c in codes]
    return rows, groups


def _table5(gen: _Generator, picked: dict) -> tuple[list, list, dict]:
    """Message types received without being registered; returns the traffic for table 7."""
    rows, groups, traffic = [], [], {}
    for g, _ in gen.selection(5, closed=False, sources={4: 0.15}, picked=picked):
        groups.append(g)
        traffic[g.gln] = pairs = []
        for code, cp in gen.traffic(g, True, gen.rows_per(2.6)):
            t = _Traffic(code, cp, gen.message_type(code), gen.count())
            pairs.append(t)
            rows.append((*g.units[0], t.text, cp.gln, cp.label, t.antal))
    return rows, groups, traffic


def _receipt_row(
    gen: _Generator,
    g: _Group,
    cp: _Group,
    code: str,
    text: str,
    error: str,
    *,
    sent: bool,
    total: int | None = None,
) -> tuple:
    """One row of table 6 (``sent``: ``g`` sent the rejected messages) or of table 7."""
    sender, receiver = (g, cp) if sent else (cp, g)
    text, antal, total, error = gen.receipt(sender, receiver, code, text, error, total)
    return (*g.units[0], text, cp.gln, cp.label, antal, total, error or None)


def _table6(gen: _Generator, picked: dict, t2: dict, t3: dict) -> list:
    """Negative receipts received: by closed senders (3), by senders to closed numbers (2)."""
    # A closed number gets receipts only for what it sent in the latest month, and for no more
    # messages than table 3 counts; so it is picked only if it sent something that month.
    recent3 = {g.gln: gen.recent(g, t3[g.gln]) for g in picked[3]}
    # Whoever sent to a closed location number that month gets "receiver unknown" back.
    senders: dict[str, list] = {}
    for g in picked[2]:
        for t, n in gen.recent(g, t2[g.gln]):
            senders.setdefault(t.cp.gln, [t.cp, []])[1].append((g, t, n))
    choices = {
        3: [g for g in picked[3] if recent3[g.gln]],
        "senders": [cp for cp, _ in senders.values()],
    }
    rows = []
    sources = {3: 0.2, "senders": 0.15}
    for g, source in gen.selection(6, closed=False, sources=sources, picked=choices):
        if source == 3:
            for t, n in recent3[g.gln]:
                error = gen.error_codes.pick(gen.rng)
                rows.append(_receipt_row(gen, g, t.cp, t.code, t.text, error, sent=True, total=n))
        elif source == "senders":
            for closed, t, n in senders[g.gln][1]:
                row = _receipt_row(gen, g, closed, t.code, t.text, _UNKNOWN, sent=True, total=n)
                rows.append(row)
        else:
            for code, cp in gen.traffic(g, False, gen.rows_per(2.6)):
                error = gen.error_codes.pick(gen.rng)
                rows.append(
                    _receipt_row(gen, g, cp, code, gen.message_type(code), error, sent=True)
                )
    return rows


def _table7(gen: _Generator, picked: dict, t2: dict, t5: dict) -> list:
    """Negative receipts sent: for unregistered types (5) and by closed numbers (2)."""
    # A closed number rejects only what it received in the latest month (table 2).
    recent2 = {g.gln: gen.recent(g, t2[g.gln]) for g in picked[2]}
    choices = {5: picked[5], 2: [g for g in picked[2] if recent2[g.gln]]}
    rows = []
    for g, source in gen.selection(7, closed=False, sources={5: 0.3, 2: 0.1}, picked=choices):
        if source == 5:
            for t in t5[g.gln]:
                # Table 7 covers only the latest month, table 5 a longer period.
                total = 1 + int(gen.rng.random() * t.antal)
                rows.append(
                    _receipt_row(gen, g, t.cp, t.code, t.text, _UNABLE, sent=False, total=total)
                )
        elif source == 2:
            for t, n in recent2[g.gln]:
                rows.append(
                    _receipt_row(gen, g, t.cp, t.code, t.text, _UNKNOWN, sent=False, total=n)
                )
        else:
            for code, cp in gen.traffic(g, True, gen.rows_per(2.6)):
                error = gen.error_codes.pick(gen.rng)
                rows.append(
                    _receipt_row(gen, g, cp, code, gen.message_type(code), error, sent=False)
                )
    return rows


def _frame(number: int, rows: list) -> pd.DataFrame:
    """Rows as a typed frame with the table's canonical columns, sorted as a report would be."""
    cols = schema.columns()
    df = pd.DataFrame.from_records(rows, columns=schema.table(number).columns)
    for name in df.columns:
        df[name] = df[name].astype(_DTYPES.get(cols[name].type, "str"))
    order = df.sort_values(["ejer", "lokationsnummer", "enhedsnavn"], kind="stable").index
    return df.loc[order].reset_index(drop=True)


@lru_cache(maxsize=2)
def _generate(scale: str, seed: int) -> tuple[dict[int, pd.DataFrame], dt.date, dict[str, str]]:
    """The tables, extract date and kind of each location number (cached: callers copy)."""
    gen = _Generator(scale, seed)
    picked: dict[int, list] = {}
    rows1, picked[1] = _table1(gen)
    rows2, picked[2], t2 = _table2(gen)
    rows3, picked[3], t3 = _table3(gen, picked)
    rows4, picked[4] = _table4(gen)
    rows5, picked[5], t5 = _table5(gen, picked)
    rows6 = _table6(gen, picked, t2, t3)
    rows7 = _table7(gen, picked, t2, t5)
    rows = [rows1, rows2, rows3, rows4, rows5, rows6, rows7]
    return {n: _frame(n, r) for n, r in enumerate(rows, start=1)}, gen.date, gen.kind_of


def make_sample(scale: str = "small", seed: int = 0) -> dict:
    """Generate a sample extract in memory.

    Parameters
    ----------
    scale : {"small", "national"}
        ``"small"``: a few hundred rows, for demos and tests. ``"national"``: over 50,000 rows,
        distributed over all municipalities and regions as in a national extract.
    seed : int
        Seed of the random generator; the same scale and seed always give the same extract.

    Returns
    -------
    dict
        ``{"tables": {n: DataFrame}, "info": {"Udtræksdato": date, "Periode": "YYYY-MM"}}``.
        Each table has exactly the canonical columns ``schema.table(n).columns``: text as
        ``str`` (location numbers and SOR-IDs as digit text), dates as ``datetime64[us]``,
        counts as ``Int64``. ``Periode`` is the month before the extract date.

    Raises
    ------
    SorediError
        If ``scale`` is not one of ``SCALES``.
    """
    tables, date, _ = _generate(scale, int(seed))
    period = (date.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return {
        "tables": {n: df.copy() for n, df in tables.items()},
        "info": {"Udtræksdato": date, "Periode": period},
    }


# -- months: a history of extracts ---------------------------------------------------------------

MAX_MONTHS = 60
"""The most months `make_history` goes back (five years; the generator's dates start in 2008)."""

HISTORY_MISSING_TABLE = 5
"""The table one earlier month of a history lacks, as a real month's extract now and then does."""

_RESOLVED = (0.09, 0.12)
"""Range of the share of a month's findings that the next month no longer has (drawn per month)."""
_NEW = (0.05, 0.07)
"""Range of the share of a month's findings that the month before did not have."""
_REAPPEAR = 0.3
"""At most this share of a month's resolved findings are ones that were resolved before, too."""
_LONG_STANDING = 0.25
"""Share of the latest findings never dropped at random going back: the long-standing ones."""
_KEY = "_key"
"""Internal column: the finding's key (`soredi_nb.compare.finding_key`) while building months."""
_COUNTS = {"antal": "_antal", "antal_i_alt": "_antal_i_alt"}
"""Internal columns of tables 6-7: the counts as the sample made them, which each month varies."""


def make_history(scale: str = "small", seed: int = 0, months: int = 6) -> list[dict]:
    """Generate ``months`` consecutive monthly extracts in memory, oldest first.

    The newest is exactly ``make_sample(scale, seed)``; each earlier one is the extract of the
    month before, made by going back in time from the newer one. Per month, 9-12 % of the
    findings were resolved by the next month, 5-7 % are new since the month before (more where
    dates force it), and the rest persist, keyed as :func:`soredi_nb.compare.finding_key` keys
    them. A quarter of the newest
    findings are never new going back, so they are in every month (long-standing); findings that
    were resolved can come back. Dates follow the month: a location number created or closed
    after an earlier extract date is not in that extract, and a closed number's latest message
    and message count (tables 2-3) are those up to that date. The receipts of the latest month
    (tables 6-7) vary from month to month, the same for one set of receipts seen from both
    sides. Findings resolved before the newest month are taken from samples of other seeds.
    Exactly one earlier month lacks table ``HISTORY_MISSING_TABLE``: the second-oldest with three
    months or more, else the oldest.

    Parameters
    ----------
    scale : {"small", "national"}
        Size of each extract, see :func:`make_sample`.
    seed : int
        Seed of the newest extract and of every change going back.
    months : int, default 6
        How many extracts, 1 to ``MAX_MONTHS``. The months a history has in common with a longer
        one of the same scale and seed are the same, apart from the month without a table.

    Returns
    -------
    list of dict
        ``months`` extracts in :func:`make_sample`'s shape, oldest first; the extract dates are
        one calendar month apart on the same day, and each ``Periode`` is the month before its
        extract date.

    Raises
    ------
    SorediError
        If ``scale`` is not one of ``SCALES``, or ``months`` is not a whole number from 1 to
        ``MAX_MONTHS``.
    """
    _check_months(months)
    latest = make_sample(scale, seed)
    if months == 1:
        return [latest]
    # Imported here: comparing pulls in most of the package, which writing a sample never needs.
    from soredi_nb.compare import finding_key

    keyed = {n: _keyed(df, n, finding_key) for n, df in latest["tables"].items()}
    date = latest["info"]["Udtræksdato"]
    history = _History(scale, int(seed), date, keyed, finding_key)
    out = [latest]
    for step in range(months - 1):
        date = _month_before(date)
        tables = history.step(step, date)
        out.append({"tables": tables, "info": _info(date)})
    out.reverse()
    del out[1 if months >= 3 else 0]["tables"][HISTORY_MISSING_TABLE]
    return out


def _keyed(df: pd.DataFrame, number: int, key) -> pd.DataFrame:
    """``df`` with the internal columns: its findings' keys, and (6-7) the counts as made."""
    df = df.assign(**{_KEY: key(df, number)})
    if number in (6, 7):
        df = df.assign(**{_COUNTS[c]: df[c] for c in _COUNTS})
    return df


def _check_months(months: object) -> None:
    """Refuse a number of months that is not a whole number from 1 to ``MAX_MONTHS``."""
    whole = isinstance(months, numbers.Integral) and not isinstance(months, bool)
    if not whole or not 1 <= months <= MAX_MONTHS:
        raise SorediError(text("sample.months_range", months=months, most=MAX_MONTHS))


def _month_before(date: dt.date) -> dt.date:
    """The same day a calendar month earlier (the sample's extract days are all below 29)."""
    return date.replace(year=date.year - (date.month == 1), month=(date.month - 2) % 12 + 1)


def _info(date: dt.date) -> dict:
    """The ``Info`` values of an extract dated ``date``: ``Periode`` is the month before."""
    period = (date.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return {"Udtræksdato": date, "Periode": period}


def _uniform(values: pd.Series, salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per value, fixed by the value and ``salt`` (not by row order)."""
    # pandas' hash has a fixed key, so the numbers are the same in every run and process.
    hashed = pd.util.hash_array((salt + "|" + values.astype("str")).to_numpy(dtype=object))
    return (hashed >> np.uint64(11)).astype("float64") / float(1 << 53)


class _History:
    """Going back one month at a time from the newest extract (see `make_history`)."""

    def __init__(
        self, scale: str, seed: int, date: dt.date, latest: dict[int, pd.DataFrame], key
    ) -> None:
        self.scale, self.seed, self.date, self.key = scale, seed, date, key
        self.tables = latest
        """The month last made, each table with its `_KEY` column."""
        self.dormant = {n: df.iloc[:0].assign(gone=0) for n, df in latest.items()}
        """Findings dropped going back, with the step that dropped them: they may come back."""
        self.pool = {n: df.iloc[:0] for n, df in latest.items()}
        """Findings of other seeds' samples, in random order, not yet used."""
        self.pools = 0
        self.claimed = self._identifiers(latest)
        """Location numbers and SOR-IDs in use: another sample's findings must not reuse one."""
        # Long-standing: these findings of the newest month are never new going back.
        self.protected = {n: set(df.loc[self._long(df), _KEY]) for n, df in latest.items()}

    def _long(self, df: pd.DataFrame) -> np.ndarray:
        """Which rows' findings are long-standing."""
        return _uniform(df[_KEY], f"{self.seed}|long") < _LONG_STANDING

    @staticmethod
    def _identifiers(tables: dict[int, pd.DataFrame]) -> set[str]:
        """Every location number (own and counterpart) and SOR-ID in ``tables``."""
        out: set[str] = set()
        for df in tables.values():
            for col in ("lokationsnummer", "modpart_lokationsnummer", "sor_kode"):
                if col in df:
                    out.update(df[col].dropna())
        return out

    def step(self, step: int, date: dt.date) -> dict[int, pd.DataFrame]:
        """The month before the last one made, dated ``date``: the output frames."""
        rng = np.random.default_rng([self.seed, step, 12])
        resolved, new = rng.uniform(*_RESOLVED), rng.uniform(*_NEW)
        later = {n: self.tables[n] for n in sorted(self.tables)}
        kept = {n: _fit(df, n, date, rng) for n, df in later.items()}
        # About `new` of the later month's findings are new: first those that could not be there
        # yet (dates), then others at random, where the dates left fewer than the share.
        short = {n: max(0.0, new * len(df) - (len(df) - len(kept[n]))) for n, df in later.items()}
        forced = sum(len(df) - len(kept[n]) for n, df in later.items())
        budget = max(0.0, new * sum(map(len, later.values())) - forced)
        scale = budget / sum(short.values()) if sum(short.values()) else 0.0
        out = {}
        for n in later:
            kept[n], dropped = self._drop(n, kept[n], round(short[n] * scale), rng)
            dropped = dropped.assign(gone=step)
            self.dormant[n] = pd.concat([self.dormant[n], dropped], ignore_index=True)
            wanted = round(resolved / (1 - resolved) * len(kept[n]))
            added = self._resolved(n, step, date, wanted, rng)
            df = pd.concat([kept[n], added], ignore_index=True)
            if n in (6, 7):
                df = _vary_receipts(df, n, f"{self.seed}|{step}")
            self.tables[n] = df
            order = df.sort_values(["ejer", "lokationsnummer", "enhedsnavn"], kind="stable").index
            internal = [c for c in df.columns if c.startswith("_")]
            out[n] = df.loc[order].drop(columns=internal).reset_index(drop=True)
        return out

    def _drop(
        self, n: int, df: pd.DataFrame, rows: int, rng: np.random.Generator
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Drop whole findings (all rows of a key) until about ``rows`` rows are gone."""
        keys = df[_KEY].drop_duplicates()
        keys = keys[~_isin(keys, self.protected[n])].to_numpy()
        if rows <= 0 or not len(keys):
            return df, df.iloc[:0]
        sizes = df[_KEY].value_counts()
        order = keys[rng.permutation(len(keys))]
        total = np.cumsum(sizes.loc[order].to_numpy())
        gone = set(order[: int(np.searchsorted(total, rows)) + 1])
        mask = _isin(df[_KEY], gone)
        return df[~mask], df[mask]

    def _resolved(
        self, n: int, step: int, date: dt.date, rows: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        """About ``rows`` rows of findings that were there at ``date`` and resolved later."""
        parts = []
        # Findings dropped at least one month before come back (going back: were there before).
        # One that cannot be there at ``date`` cannot be in any earlier month either.
        dormant = self.dormant[n]
        dormant = dormant[_isin(dormant[_KEY], _fit(dormant, n, date, rng, adjust=False)[_KEY])]
        back = dormant[dormant["gone"] < step].drop(columns="gone")
        take = self._take(back, round(rows * _REAPPEAR * rng.uniform(0.5, 1)), rng)
        if len(take):
            parts.append(_fit(take, n, date, rng))
            rows -= len(take)
        self.dormant[n] = dormant[~_isin(dormant[_KEY], take[_KEY])]
        shift = pd.Timedelta(days=(self.date - date).days)
        while rows > 0:
            if self.pool[n].empty:
                self._refill()
            fits = _fit(_shift_dates(self.pool[n], shift), n, date, rng, adjust=False)
            take = self._take(fits, rows, None)
            if len(take):
                parts.append(_fit(take, n, date, rng))
                rows -= len(take)
            self.pool[n] = self.pool[n].loc[fits.index[~_isin(fits[_KEY], take[_KEY])]]
        if not parts:
            return self.tables[n].iloc[:0]
        return pd.concat(parts, ignore_index=True)

    @staticmethod
    def _take(df: pd.DataFrame, rows: int, rng: np.random.Generator | None) -> pd.DataFrame:
        """Whole findings of ``df``, about ``rows`` rows: in random order, or in order (no rng)."""
        if rows <= 0 or df.empty:
            return df.iloc[:0]
        keys = df[_KEY].drop_duplicates().to_numpy()
        if rng is not None:
            keys = keys[rng.permutation(len(keys))]
        total = np.cumsum(df[_KEY].value_counts().loc[keys].to_numpy())
        chosen = set(keys[: int(np.searchsorted(total, rows)) + 1])
        return df[_isin(df[_KEY], chosen)]

    def _refill(self) -> None:
        """Add the findings of one more sample (another seed) to the pool, in random order."""
        self.pools += 1
        seed = 1_000_003 * self.pools + self.seed
        # Uncached: the cache keeps the samples tests and notebooks ask for.
        tables, date, _ = _generate.__wrapped__(self.scale, seed)
        rng = np.random.default_rng([self.seed, seed])
        # Its dates as if it had been made on the newest extract's date.
        shift = pd.Timedelta(days=(date - self.date).days)
        for n, df in tables.items():
            # A finding whose location numbers or SOR-IDs are in use would be another unit's.
            ok = pd.Series(True, index=df.index)
            for col in ("lokationsnummer", "modpart_lokationsnummer", "sor_kode"):
                if col in df:
                    ok &= ~_isin(df[col], self.claimed)
            df = _keyed(_shift_dates(df[ok], shift), n, self.key)
            keys = df[_KEY].drop_duplicates().to_numpy()
            rank = pd.Series(rng.permutation(len(keys)), index=keys)
            df = df.iloc[np.argsort(rank.loc[df[_KEY]].to_numpy(), kind="stable")]
            self.pool[n] = pd.concat([self.pool[n], df], ignore_index=True)
        self.claimed |= self._identifiers(tables)


def _isin(values: pd.Series, among) -> np.ndarray:
    """Which of the texts ``values`` are ``among`` (a set or a Series of texts).

    As objects: pandas' Arrow-backed ``isin`` makes a scalar of each of ``among`` first, which
    took most of the time of a national year.
    """
    return pd.Series(values.to_numpy(dtype=object), dtype=object).isin(list(among)).to_numpy()


def _shift_dates(df: pd.DataFrame, shift: pd.Timedelta) -> pd.DataFrame:
    """``df`` with every date column ``shift`` earlier."""
    types = schema.columns()
    cols = [c for c in df.columns if c in types and types[c].type == "date"]
    return df.assign(**{c: df[c] - shift for c in cols})


def _fit(
    df: pd.DataFrame,
    number: int,
    date: dt.date,
    rng: np.random.Generator,
    adjust: bool = True,
) -> pd.DataFrame:
    """The rows of ``df`` that can be in an extract dated ``date``, their dates fitted to it.

    A location number created (table 1) or closed (tables 2-3) after ``date`` has no finding
    yet. A closed number's latest message after ``date`` becomes an earlier one, after the
    closing; its count shrinks in proportion to the time since the closing (``adjust``).
    """
    day = pd.Timestamp(date)
    if number == 1:
        return df[df["oprettet"] <= day]
    if number not in (2, 3):
        return df
    df = df[df["lukket_dato"] < day]
    late = (df["seneste"] > day).to_numpy()
    if not adjust or not late.any():
        return df
    closed, latest = df.loc[late, "lukket_dato"], df.loc[late, "seneste"]
    gap = (day - closed).dt.days.to_numpy()
    # As the generator dates a latest message: mostly within weeks of the extract date.
    back = np.minimum(rng.exponential(45, len(gap)).astype("int64"), gap - 1)
    seneste = pd.Series(day - pd.to_timedelta(back, unit="D"), index=closed.index)
    share = (seneste - closed).dt.days / (latest - closed).dt.days
    antal = (df.loc[late, "antal"].astype("float64") * share).round().clip(lower=1)
    df = df.copy()
    df.loc[late, "seneste"] = seneste.astype(df["seneste"].dtype)
    df.loc[late, "antal"] = antal.astype("Int64")
    return df


def _vary_receipts(df: pd.DataFrame, number: int, salt: str) -> pd.DataFrame:
    """The receipts of the month ``salt`` names: the counts as made, times 0.6-1.6.

    The factor is fixed by the month, sender, receiver and type, so table 6 (the sender's view)
    and table 7 (the receiver's) show the same receipts in every month.
    """
    own, other = df["lokationsnummer"], df["modpart_lokationsnummer"].fillna("")
    sender, receiver = (own, other) if number == 6 else (other, own)
    u = _uniform(sender + "|" + receiver + "|" + df["meddelelsestype"].fillna(""), salt)
    factor = np.exp(u - 0.5)
    antal = (df["_antal"].astype("float64") * factor).round().clip(lower=1)
    total = np.maximum((df["_antal_i_alt"].astype("float64") * factor).round(), antal)
    return df.assign(antal=antal.astype("Int64"), antal_i_alt=total.astype("Int64"))


# -- writing -------------------------------------------------------------------------------------


def sheet_name(number: int) -> str:
    """The sheet name of table ``number`` in the sample workbook (Danish, at most 31 chars)."""
    return text("sample.sheets")[number]


def csv_name(number: int) -> str:
    """The CSV file name of table ``number``: ``"1_aktive-uden-meddelelsestyper.csv"`` etc."""
    return f"{number}_{schema.table(number).slug}.csv"


def _excel_columns(ws, df: pd.DataFrame) -> list[list]:
    """The columns as cell values: text, ``int``, date cells, and ``None`` where missing."""
    types = schema.columns()
    out = []
    for name in df.columns:
        col, kind = df[name], types[name].type
        if kind == "date":
            values = [None if pd.isna(d) else _date_cell(ws, d.date()) for d in col]
        elif kind == "int":
            values = [None if pd.isna(v) else int(v) for v in col]
        else:
            values = [None if pd.isna(v) else v for v in col]
        out.append(values)
    return out


def _date_cell(ws, value: dt.date) -> WriteOnlyCell:
    """A real Excel date cell, shown the Danish way."""
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = EXCEL_DATE
    return cell


def _write_xlsx(sample: dict, path: Path) -> None:
    """Write the workbook in the reference layout to ``path`` (not atomic on its own)."""
    # Write-only mode streams rows to disk: the national sample writes in seconds.
    wb = openpyxl.Workbook(write_only=True)
    for number, df in sample["tables"].items():
        ws = wb.create_sheet(sheet_name(number))
        headers = list(schema.table(number).headers.values())
        for i, header in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(12, len(header) + 2)
        ws.append(headers)
        for row in zip(*_excel_columns(ws, df), strict=True):
            ws.append(row)
    info_name, keys = schema.info_sheet()
    ws = wb.create_sheet(info_name)
    for key in keys:
        value = sample["info"][key]
        ws.append([key, _date_cell(ws, value) if isinstance(value, dt.date) else value])
    when = _document_time(sample["info"])
    props = wb.properties
    props.creator = props.lastModifiedBy = _AUTHOR
    props.created = props.modified = when
    raw = temporary_name(path)
    try:
        # `ExcelWriter` rather than `wb.save`, which would stamp the clock into the properties
        # and deflate every part that `_rewrite_zip` deflates again (half a second, nationally).
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            ExcelWriter(wb, archive).save()
        _rewrite_zip(raw, path, when)
    finally:
        raw.unlink(missing_ok=True)


def _document_time(info: dict) -> dt.datetime:
    """The extract date at midnight (or a fixed time without one): the workbook's timestamp."""
    value = info.get("Udtræksdato")
    if isinstance(value, dt.date) and not pd.isna(value):
        return dt.datetime(value.year, value.month, value.day)
    return _FALLBACK_TIME


def _rewrite_zip(source: Path, target: Path, when: dt.datetime) -> None:
    """Copy zip ``source`` to ``target`` deflated, in the same order, every entry dated ``when``."""
    # Reuse of unchanged report pages is keyed by the extract's sha256, so a re-run of the demo
    # must produce the same file; zip entries otherwise carry the time they were written.
    date_time = min(max(when, _ZIP_TIMES[0]), _ZIP_TIMES[1]).timetuple()[:6]
    with (
        zipfile.ZipFile(source) as src,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dst,
    ):
        for entry in src.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # as `writestr` gives; the file's mode may vary
            dst.writestr(info, src.read(entry))


def _write_csv(sample: dict, folder: Path) -> None:
    """Write one CSV per table plus ``Info.csv`` in the Danish Excel dialect into ``folder``."""
    options = dict(sep=";", encoding="utf-8-sig", lineterminator="\r\n", index=False)
    for number, df in sample["tables"].items():
        out = df.rename(columns=schema.table(number).headers)
        out.to_csv(folder / csv_name(number), date_format=_CSV_DATE, **options)
    info_name, keys = schema.info_sheet()
    values = [sample["info"][k] for k in keys]
    values = [v.strftime(_CSV_DATE) if isinstance(v, dt.date) else v for v in values]
    pd.DataFrame({"key": list(keys), "value": values}).to_csv(
        folder / f"{info_name}.csv", header=False, **options
    )


def write_sample(
    path: str | os.PathLike,
    scale: str = "small",
    seed: int = 0,
    csv: bool = False,
    overwrite: bool = True,
) -> Path:
    """Write the sample extract of ``scale`` and ``seed``; see :func:`write_extract`."""
    return write_extract(make_sample(scale, seed), path, csv=csv, overwrite=overwrite)


def write_extract(
    sample: dict, path: str | os.PathLike, csv: bool = False, overwrite: bool = True
) -> Path:
    """Write an extract in the reference layout, from frames (e.g. ``make_sample``'s, edited).

    The file (or folder) appears complete or not at all: it is written under a temporary name in
    the same folder and then renamed. Missing parent folders are created. The same frames always
    give the same bytes: the workbook and its zip entries are dated by the extract date
    (``Udtræksdato``, at midnight), not by the clock.

    Parameters
    ----------
    sample : dict
        ``{"tables": {n: canonical DataFrame}, "info": {"Udtræksdato": date, "Periode": str}}``
        as :func:`make_sample` returns it; tables left out are missing from the written extract.
    path : str or os.PathLike
        The ``.xlsx`` file to write, or with ``csv=True`` the folder to write the CSV files to.
        An existing folder is replaced only if it holds nothing but the files of a sample
        extract.
    csv : bool
        Write a folder of CSV files (one per table, ``1_aktive-uden-meddelelsestyper.csv`` …,
        plus ``Info.csv``; ``;``-separated, UTF-8 with BOM, dates ``dd-mm-yyyy``) instead of a
        workbook with one sheet per table and an ``Info`` sheet.
    overwrite : bool, default True
        Replace an existing workbook at ``path``; ``False`` refuses it (``sample`` without
        ``--force``). Not used with ``csv=True``, whose folder rule is above.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    SorediError
        In Danish, naming ``path``, before anything is written: a workbook name that does not
        end in ``.xlsx`` (only that format is written), an existing workbook without
        ``overwrite``, a folder where the workbook should be, a file or a folder with other
        files where the CSV folder should be. After that, any operating-system error (no access,
        disk full, ...), with nothing left behind.
    """
    path = Path(path)
    if not csv:
        _check_workbook_target(path, overwrite)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SorediError(
            text("files.folder_failed", path=path.parent, reason=reason(err))
        ) from err
    if csv:
        _replace_folder(path, lambda tmp: _write_csv(sample, tmp))
    else:
        with atomic_path(path) as tmp:
            _write_xlsx(sample, tmp)
    return path


def _check_workbook_target(path: Path, overwrite: bool) -> None:
    """Refuse a workbook name that is not ``.xlsx``, a folder, or (unless told) an existing file."""
    # The bytes are always a workbook: `x.ods` or `x.csv` would be a file no program reads as
    # what its name says.
    if path.suffix.lower() != ".xlsx":
        raise SorediError(text("sample.out_suffix", path=path))
    if path.is_dir():
        raise SorediError(text("sample.out_is_folder", path=path))
    # lexists: a dangling link is an existing name too, and replacing it would lose it.
    if not overwrite and os.path.lexists(path):
        raise SorediError(text("sample.out_exists", path=path))


def _csv_names() -> set[str]:
    """The names of the files in a CSV extract folder that `write_extract` writes."""
    return {csv_name(n) for n in schema.TABLE_NUMBERS} | {f"{schema.info_sheet()[0]}.csv"}


def _check_csv_folder(path: Path) -> None:
    """Refuse a file, or a folder holding anything but a sample's CSV files, at ``path``."""
    if os.path.lexists(path) and not path.is_dir():
        raise SorediError(text("sample.folder_is_file", path=path))
    ours = _csv_names()
    if path.is_dir() and any(p.name not in ours for p in path.iterdir()):
        raise SorediError(text("sample.folder_not_empty", path=path))


def _replace_folder(path: Path, write, check=_check_csv_folder) -> None:
    """Fill a new temporary folder with ``write(folder)``, then swap it in for ``path``.

    ``check(path)`` runs first and raises when ``path`` must not be replaced.
    """
    tmp, old = temporary_name(path), temporary_name(path)
    try:
        check(path)
        tmp.mkdir()
        write(tmp)
        if path.is_dir():
            path.rename(old)
        tmp.rename(path)
    except OSError as err:
        if old.is_dir() and not os.path.lexists(path):
            with contextlib.suppress(OSError):
                old.rename(path)  # put the earlier folder back rather than lose it
        # The error names a temporary folder or one CSV file in it; the user knows `path`.
        raise SorediError(text("files.write_failed", path=path, reason=reason(err))) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


# -- writing months ------------------------------------------------------------------------------

HISTORY_PREFIX = "kvalitetsudtraek"
"""File names of a history's extracts: ``kvalitetsudtraek-2026-10.xlsx`` (the ``Periode``)."""
_PARALLEL_ROWS = 100_000
"""`write_extracts` writes workbooks in parallel processes above this many rows in all."""
_HISTORY_NAME = re.compile(rf"{HISTORY_PREFIX}-\d{{4}}-\d{{2}}(\.xlsx)?")


def history_name(period: str, csv: bool = False) -> str:
    """The name of the month ``period``'s extract in a history folder.

    ``"kvalitetsudtraek-2026-10.xlsx"``, or with ``csv`` the CSV folder
    ``"kvalitetsudtraek-2026-10"``: the reporting month, so the names sort by time.
    """
    return f"{HISTORY_PREFIX}-{period}" + ("" if csv else ".xlsx")


def write_history(
    folder: str | os.PathLike,
    scale: str = "small",
    seed: int = 0,
    months: int = 6,
    csv: bool = False,
    overwrite: bool = False,
) -> list[Path]:
    """Write the ``months`` extracts of :func:`make_history`; see :func:`write_extracts`.

    ``folder`` is checked before the months are generated, so a refusal comes at once.
    """
    _check_months(months)
    _check_history_folder(Path(folder), overwrite)
    return write_extracts(make_history(scale, seed, months), folder, csv=csv, overwrite=overwrite)


def history_period(path: str | os.PathLike) -> str | None:
    """The month (``"2026-10"``) in the name of an extract written by :func:`write_extracts`.

    ``None`` for a name :func:`history_name` does not give.
    """
    name = Path(path).name
    if not _HISTORY_NAME.fullmatch(name):
        return None
    return name.removeprefix(f"{HISTORY_PREFIX}-").removesuffix(".xlsx")


def write_extracts(
    history: list[dict], folder: str | os.PathLike, csv: bool = False, overwrite: bool = False
) -> list[Path]:
    """Write monthly extracts into one folder, each named by its month (:func:`history_name`).

    The folder appears complete or not at all: it is filled under a temporary name next to it
    and then swapped in, so a reader never sees a mix of two runs' months. The same extracts
    always give the same bytes (see :func:`write_extract`).

    Parameters
    ----------
    history : list of dict
        Extracts in :func:`make_sample`'s shape, e.g. from :func:`make_history`; each needs its
        own ``Periode``.
    folder : str or os.PathLike
        The folder to write. It may be missing or empty; one holding only earlier extracts
        written this way is replaced if ``overwrite``; one holding anything else is never
        touched.
    csv : bool
        Write one CSV folder per month instead of one workbook per month.
    overwrite : bool, default False
        Replace the extracts of an earlier run (``sample --months`` with ``--force``).

    Returns
    -------
    list of pathlib.Path
        The extracts written, in the order of ``history``.

    Raises
    ------
    SorediError
        In Danish, naming ``folder``, before anything is written: a folder name ending in
        ``.xlsx``, a file where the folder should be, a folder with other files, or earlier
        extracts without ``overwrite``. After that, any operating-system error, with the folder
        as it was.
    ValueError
        If two extracts have the same ``Periode`` (a programming error).
    """
    folder = Path(folder)
    names = [history_name(s["info"]["Periode"], csv) for s in history]
    if len(set(names)) != len(names):
        raise ValueError(f"two extracts of the same month: {names}")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SorediError(
            text("files.folder_failed", path=folder.parent, reason=reason(err))
        ) from err

    def write(tmp: Path) -> None:
        targets = [tmp / name for name in names]
        if csv:
            for sample, target in zip(history, targets, strict=True):
                target.mkdir()
                _write_csv(sample, target)
            return
        rows = sum(len(df) for sample in history for df in sample["tables"].values())
        jobs = min(len(history), os.cpu_count() or 1) if rows > _PARALLEL_ROWS else 1
        if jobs == 1:
            for sample, target in zip(history, targets, strict=True):
                _write_xlsx(sample, target)
            return
        # openpyxl spends about 9 s of one core on a national workbook; a year of them is
        # minutes, so the months are written side by side (the bytes do not depend on it).
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_write_xlsx, history, targets))

    _replace_folder(folder, write, check=lambda path: _check_history_folder(path, overwrite))
    return [folder / name for name in names]


def _check_history_folder(path: Path, overwrite: bool) -> None:
    """Refuse a file, a folder with other files, or (unless told) earlier months at ``path``."""
    # `x.xlsx` as a folder is a mistake: one workbook was meant (``--months 1``).
    if path.suffix.lower() == ".xlsx":
        raise SorediError(text("sample.history_suffix", path=path))
    if os.path.lexists(path) and not path.is_dir():
        raise SorediError(text("sample.history_is_file", path=path))
    if not path.is_dir():
        return
    entries = list(path.iterdir())
    csv_files = _csv_names()
    for entry in entries:
        # A month's CSV folder is ours only while it holds nothing but an extract's files.
        ours = _HISTORY_NAME.fullmatch(entry.name) and (
            entry.is_file()
            if entry.suffix == ".xlsx"
            else entry.is_dir() and all(p.name in csv_files for p in entry.iterdir())
        )
        if not ours:
            raise SorediError(text("sample.history_not_ours", path=path, name=entry.name))
    if entries and not overwrite:
        raise SorediError(text("sample.history_exists", path=path))


def cache_dir() -> Path:
    """The folder of cached samples: ``$SOREDI_NB_CACHE`` or the user cache folder."""
    return Path(os.environ.get("SOREDI_NB_CACHE") or platformdirs.user_cache_dir("soredi-nb"))


def sample_path(scale: str = "small", seed: int = 0) -> Path:
    """The bundled sample workbook, generated into the cache folder on first use.

    Notebooks use it as their default extract. The file name carries scale, seed and
    ``GENERATOR_VERSION``, so a new generator never reuses an old file.

    Parameters
    ----------
    scale : {"small", "national"}
        Size of the extract, see `make_sample`.
    seed : int
        Seed of the random generator.

    Returns
    -------
    pathlib.Path
        The ``.xlsx`` file, in ``$SOREDI_NB_CACHE`` if set, else in
        ``platformdirs.user_cache_dir("soredi-nb")``.

    Raises
    ------
    SorediError
        If ``scale`` is not one of ``SCALES``.
    """
    if scale not in SCALES:
        raise SorediError(text("sample.unknown_scale", scale=scale, choices=", ".join(SCALES)))
    path = cache_dir() / f"sample-{scale}-seed{int(seed)}-v{GENERATOR_VERSION}.xlsx"
    if not path.is_file():
        write_sample(path, scale, seed)
    return path
