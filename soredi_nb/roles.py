"""Who to contact about a finding: SOR-administrator and SOR-EDI-administrator.

The guide's appendix makes this a function of the unit's owner type and IT system: regions do
everything themselves; for municipalities MedCom administers message types of a list of IT
systems and the IT vendor those of the others; private (and state) units go to
Sundhedsdatastyrelsen and their IT vendor. The Danish texts and the system list with its
spellings live in ``data/roles.yaml``; the matching is here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pandas as pd
import yaml

from soredi_nb.danish import LETTERS
from soredi_nb.tasks import Link, links

_GROUP_KEYS = ["ejertype", "it_system", "it_leverandoer"]


@dataclass(frozen=True)
class Contacts:
    """Who can fix a finding, for one owner type and IT system.

    Attributes
    ----------
    ejertype : str or None
        Canonical owner type: ``"Kommune"``, ``"Region"``, ``"Privat"`` or ``"Stat"``; ``None``
        when missing or unknown (then the private rules apply).
    sor_administrator : str
        Danish: who creates and closes SOR units, marks them active/inactive, and who creates
        location numbers.
    sor_edi_administrator : str
        Danish: who adds and removes message types in SOR-EDI.
    sor_edi_contact : str
        Danish, short, for a table column: ``"MedCom (sor@medcom.dk)"``,
        ``"It-leverandøren (EG A/S)"``, ``"Regionens SOR-EDI-administratorer"``.
    email : str or None
        ``"sor@medcom.dk"`` when MedCom administers the message types, else ``None``.
    medcom_administered : bool
        True when MedCom administers the message types (a municipal unit on a listed system).
    medcom_system : str or None
        The listed system the IT system was recognised as, spelled as in the guide
        (``"KMD Nexus"``), whatever the owner type; ``None`` when not one of them.
    links : tuple of Link
        The SOR-ansvarlige list (and, for municipalities, MedCom's overview of their location
        numbers, IT systems and message types).
    """

    ejertype: str | None
    sor_administrator: str
    sor_edi_administrator: str
    sor_edi_contact: str
    email: str | None
    medcom_administered: bool
    medcom_system: str | None
    links: tuple[Link, ...]


def contacts(
    ejertype: str | None, it_system: str | None, it_leverandoer: str | None = None
) -> Contacts:
    """Who to contact about a finding on a unit with this owner type and IT system.

    Parameters
    ----------
    ejertype : str or None
        Owner type as written in the extract: ``"Kommune"``, ``"Region"``, ``"Privat"`` or
        ``"Stat"`` in any case (also ``"kommunal"``, ``"Privat praksis"``, ...). ``None``, NA or
        an unknown value is treated like ``"Privat"``, the loader's default for owners that are
        neither a municipality nor a region. ``"Stat"`` is treated like ``"Privat"`` too.
    it_system : str or None
        The IT system registered in SOR-EDI, in any spelling (``"KMD Nexus"``, ``"nexus (KMD)"``,
        ``"TM-Sund"``). Only a municipal unit on one of the systems listed in the guide is
        administered by MedCom; anything else, including a missing system, is not.
    it_leverandoer : str or None, optional
        The IT vendor, if known; only used to name the vendor in ``sor_edi_contact``.

    Returns
    -------
    Contacts
    """
    cfg = _config()
    owner = owner_type(ejertype)
    rule = cfg["rules"][owner] if owner else cfg["unknown"]
    system, vendor = _clean(it_system), _clean(it_leverandoer)
    listed = medcom_system(system)
    medcom = rule == "Kommune" and listed is not None
    email = cfg["email"]
    if rule == "Region":
        edi, who = "Region", "Region"
    elif medcom:
        edi, who = "medcom", "medcom"
    else:
        edi = who = "Kommune_no_system" if rule == "Kommune" and system is None else rule
        if edi != "Kommune_no_system":
            who = "vendor_named" if vendor else "vendor_of_system" if system else "vendor"
    fields = {"email": email, "system": listed, "leverandoer": vendor, "it_system": system}
    return Contacts(
        ejertype=owner,
        sor_administrator=cfg["sor_administrator"][rule].strip(),
        sor_edi_administrator=cfg["sor_edi_administrator"][edi].format(**fields).strip(),
        sor_edi_contact=cfg["contact"][who].format(**fields),
        email=email if medcom else None,
        medcom_administered=medcom,
        medcom_system=listed,
        links=tuple(links()[k] for k in cfg["links"][rule]),
    )


def owner_type(ejertype: str | None) -> str | None:
    """Canonical owner type (``"Kommune"``, ``"Region"``, ``"Privat"``, ``"Stat"``) or ``None``.

    Parameters
    ----------
    ejertype : str or None
        As written in the extract; only the first word counts, in any case.

    Returns
    -------
    str or None
        ``None`` when missing or not recognised.
    """
    words = _words(_clean(ejertype))
    return _config()["owner_types"].get(words[0]) if words else None


def medcom_system(it_system: str | None) -> str | None:
    """The guide's name of the MedCom-administered system ``it_system`` is, or ``None``.

    Parameters
    ----------
    it_system : str or None
        An IT system name in any spelling.

    Returns
    -------
    str or None
        E.g. ``"KMD Nexus"`` for ``"nexus (KMD)"``, ``"TM Sund"`` for ``"TMSund"``. ``None`` for
        other systems (``"XMO"``, ``"Curalink"``), empty text and missing values.

    Notes
    -----
    A listed spelling matches when it equals a run of whole words of ``it_system`` once case,
    spaces and punctuation are ignored, so vendor names and brackets around it do not matter,
    but a longer word that merely starts with it (``"Curalink"``) does not match.
    """
    return _match(_clean(it_system) or "")


def medcom_systems() -> list[str]:
    """The municipal IT systems whose message types MedCom administers, as the guide names them."""
    return list(_config()["medcom_systems"])


def contacts_table(df: pd.DataFrame) -> pd.DataFrame:
    """Who to contact, per distinct owner type, IT system and IT vendor of a set of findings.

    Parameters
    ----------
    df : pandas.DataFrame
        Findings with the canonical columns ``lokationsnummer`` (required), ``ejertype``,
        ``it_system`` and ``it_leverandoer`` (each optional: a missing column counts as empty).

    Returns
    -------
    pandas.DataFrame
        One row per distinct (``ejertype``, ``it_system``, ``it_leverandoer``), most location
        numbers first. ``ejertype`` is canonical (see :func:`owner_type`, NA when unknown); the IT
        system and vendor are as written, trimmed (NA when empty). Then the :class:`Contacts`
        fields ``medcom_system``, ``medcom_administered``, ``sor_edi_contact``, ``email``,
        ``sor_edi_administrator``, ``sor_administrator``, and ``locations``: the number of
        distinct location numbers. The column names are canonical; the caller adds Danish labels.
    """
    keys = pd.DataFrame(
        {
            c: pd.Series(
                [_clean(v) for v in df[c]] if c in df else [None] * len(df),
                index=df.index,
                dtype="str",
            )
            for c in _GROUP_KEYS
        }
    )
    keys["ejertype"] = keys["ejertype"].map(owner_type).astype("str")
    counts = (
        keys.assign(lokationsnummer=df["lokationsnummer"])
        .groupby(_GROUP_KEYS, dropna=False, sort=False)["lokationsnummer"]
        .nunique()
        .rename("locations")
        .reset_index()
    )
    found = [
        contacts(*(None if pd.isna(v) else v for v in row))
        for row in counts[_GROUP_KEYS].itertuples(index=False)
    ]
    fields = [
        "medcom_system",
        "medcom_administered",
        "sor_edi_contact",
        "email",
        "sor_edi_administrator",
        "sor_administrator",
    ]
    out = counts[_GROUP_KEYS].copy()
    for f in fields:
        values = [getattr(c, f) for c in found]
        out[f] = pd.Series(values, dtype=bool if f == "medcom_administered" else "str")
    out["locations"] = counts["locations"].astype("int64")
    out = out.sort_values(
        ["locations", *_GROUP_KEYS],
        ascending=[False, True, True, True],
        na_position="last",
        kind="stable",
    )
    return out.reset_index(drop=True)


@cache
def _config() -> dict:
    """Parse ``data/roles.yaml`` once and index the system spellings."""
    cfg = yaml.safe_load(files("soredi_nb").joinpath("data/roles.yaml").read_text("utf-8"))
    cfg["spellings"] = {
        "".join(_words(spelling)): name
        for name, spellings in cfg["medcom_systems"].items()
        for spelling in [name, *spellings]
    }
    return cfg


@cache
def _match(it_system: str) -> str | None:
    """The listed system whose spelling equals a run of whole words of ``it_system``."""
    words, spellings = _words(it_system), _config()["spellings"]
    for start in range(len(words)):
        for stop in range(start + 1, len(words) + 1):
            name = spellings.get("".join(words[start:stop]))
            if name:
                return name
    return None


def _words(value: str | None) -> list[str]:
    """Lower-case ASCII words of ``value`` (æ/ø/å spelled ae/oe/aa; punctuation splits words)."""
    if not value:
        return []
    folded = unicodedata.normalize("NFKC", value).casefold().translate(LETTERS)
    return re.findall(r"[0-9a-z]+", folded)


def _clean(value: object) -> str | None:
    """Trimmed text, or ``None`` for missing values and blank text."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None
