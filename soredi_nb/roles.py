"""Who does each of the guide's actions, for a finding's owner type, IT system and counterpart.

The guide's appendix makes this a function of the unit's owner type and IT system: regions do
everything themselves; in municipalities the SOR-administrators are the municipality's own, new
location numbers come from Sundhedsdatastyrelsen after clarification with MedCom, and MedCom
administers the message types of a list of IT systems (the IT vendor those of the others);
private units go to Sundhedsdatastyrelsen and their IT vendor. The guide has no rule for state
units, and a finding says so rather than guessing. Which role each action needs is data
(``data/tasks.yaml``); the roles, their Danish texts and the system list with its spellings
live in ``data/roles.yaml``; the matching is here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import pandas as pd

from soredi_nb.danish import LETTERS
from soredi_nb.reference import package_yaml

_GROUP_KEYS = ["ejertype", "it_system", "it_leverandoer"]


@dataclass(frozen=True)
class Role:
    """A role of the guide's appendix: who does an action, and in which register.

    Attributes
    ----------
    key : str
        Identifier, as actions in ``data/tasks.yaml`` name it (``"sor_edi_administrator"``).
    label : str
        Danish name (``"SOR-EDI-administrator"``).
    where : str or None
        The register the work is done in, ``"SOR"`` or ``"SOR-EDI"``; ``None`` for work outside
        the registers (contacting a sender, the IT vendor).
    description : str
        What the role does and who has it, per owner type, in Danish (Markdown).
    """

    key: str
    label: str
    where: str | None
    description: str

    @property
    def heading(self) -> str:
        """The label with the register: ``"SOR-administrator (i SOR)"``."""
        return f"{self.label} (i {self.where})" if self.where else self.label


def role(key: str) -> Role:
    """The role ``key`` (``KeyError`` if there is none)."""
    return _roles()[key]


def all_roles() -> dict[str, Role]:
    """Every role by key, in the order of ``data/roles.yaml``."""
    return dict(_roles())


def responsible(
    role_key: str,
    ejertype: str | None = None,
    it_system: str | None = None,
    it_leverandoer: str | None = None,
    modpart: str | None = None,
) -> str:
    """Who has role ``role_key`` for a finding, in Danish.

    Parameters
    ----------
    role_key : str
        A key of :func:`all_roles`.
    ejertype : str or None
        Owner type as written in the extract: ``"Kommune"``, ``"Region"``, ``"Privat"`` or
        ``"Stat"`` in any case (also ``"kommunal"``, ``"Privat praksis"``, ...). ``None``, NA or
        an unknown value follows the private rules, as the loader derives a missing owner type
        as ``"Privat"``.
    it_system : str or None
        The unit's IT system in SOR-EDI, in any spelling (``"KMD Nexus"``, ``"nexus (KMD)"``).
        Only a municipal unit on one of the systems the guide lists has MedCom as
        SOR-EDI-administrator.
    it_leverandoer : str or None, optional
        The IT vendor, if known, to name it.
    modpart : str or None, optional
        The counterpart of the finding (name, location number), to name the sender or receiver;
        ``None`` gives a pointer to the finding's counterpart instead.

    Returns
    -------
    str
        E.g. ``"MedCom (sor@medcom.dk)"``, ``"Kommunens egne SOR-administratorer"``,
        ``"Leverandøren af XMO"``; for a state unit and a role that depends on the owner type,
        the guide's lack of a rule (``"Vejledningen har ingen regel for statslige enheder – …"``).
    """
    return _responsible(
        role_key,
        owner_type(ejertype),
        _clean(it_system),
        _clean(it_leverandoer),
        _clean(modpart),
    )


@cache
def _responsible(
    role_key: str,
    owner: str | None,
    system: str | None,
    vendor: str | None,
    modpart: str | None,
) -> str:
    """:func:`responsible` on cleaned values (memoised: a worklist asks per finding)."""
    cfg = _config()
    who = cfg["roles"][role_key]["who"]
    rule = cfg["rules"][owner] if owner else cfg["unknown"]
    fields = {
        "email": cfg["email"],
        "system": medcom_system(system),
        "it_system": system,
        "leverandoer": vendor,
        "modpart": modpart,
    }
    if "any" in who:
        key = "named" if modpart and "named" in who else "any"
    elif rule is None and _by_owner(who):
        return cfg["no_rule"].format(**fields)
    elif rule in who:
        key = rule
    elif rule == "Kommune" and "medcom" in who and fields["system"]:
        key = "medcom"
    elif rule == "Kommune" and "no_system" in who and system is None:
        key = "no_system"
    else:
        key = "vendor_named" if vendor else "vendor_of_system" if system else "vendor"
    return who[key].format(**fields)


def _by_owner(who: dict) -> bool:
    """True when who has a role depends on the owner type (not only on the IT system)."""
    return bool(who.keys() & {"Kommune", "Region", "Privat", "medcom"})


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


def responsibilities(df: pd.DataFrame, actions: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Who does each action, for every finding of a set.

    Parameters
    ----------
    df : pandas.DataFrame
        Findings with the canonical columns ``lokationsnummer`` (required), ``ejertype``,
        ``it_system`` and ``it_leverandoer`` (each optional: a missing column counts as empty).
        Each finding's own owner type counts, so findings of several owners (an IT system's
        report, the whole extract) each get their own rule.
    actions : sequence of (str, str)
        ``(action, role key)`` pairs; ``action`` is any label.

    Returns
    -------
    pandas.DataFrame
        One row per finding and action, actions in the given order: ``action``, ``role`` (the
        role's key), ``who`` (:func:`responsible`, pointing to the finding's counterpart rather
        than naming it) and ``lokationsnummer``.
    """
    owners = list(zip(*(df[c] if c in df else [None] * len(df) for c in _GROUP_KEYS), strict=True))
    parts = [
        pd.DataFrame(
            {
                "action": action,
                "role": key,
                "who": [responsible(key, *owner) for owner in owners],
                "lokationsnummer": df["lokationsnummer"].to_numpy(),
            },
            index=range(len(df)),
        )
        for action, key in actions
    ]
    columns = ["action", "role", "who", "lokationsnummer"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


@cache
def _config() -> dict:
    """Parse ``data/roles.yaml`` once and index the system spellings."""
    cfg = package_yaml("roles.yaml")
    cfg["spellings"] = {
        "".join(_words(spelling)): name
        for name, spellings in cfg["medcom_systems"].items()
        for spelling in [name, *spellings]
    }
    return cfg


@cache
def _roles() -> dict[str, Role]:
    """The roles of ``data/roles.yaml``, their descriptions filled in."""
    cfg = _config()
    *first, last = cfg["medcom_systems"]
    fields = {"systems": f"{', '.join(first)} og {last}", "email": cfg["email"]}
    return {
        key: Role(key, node["label"], node.get("where"), node["description"].format(**fields))
        for key, node in cfg["roles"].items()
    }


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
