"""Who a render makes report sets for: organisations by identity, or IT systems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from soredi_nb.danish import fold
from soredi_nb.exceptions import SorediError
from soredi_nb.extract import Extract
from soredi_nb.organisations import list_organisations, organisations_in, resolve
from soredi_nb.texts import text

KINDS_ALL = ("Kommune", "Region")
"""Owner types ``--all`` renders; ``--include-private`` adds the others."""
IT_SYSTEM = "it_system"
"""The ``kind`` of a report set made for an IT system (the vendor's view)."""


@dataclass(frozen=True)
class Target:
    """One report set: an organisation (or an IT system) and the notebook parameters naming it.

    Attributes
    ----------
    label : str
        Display name.
    kind : str
        Owner type (``"Kommune"``, ``"Region"``, ``"Privat"``, ``"Stat"``) or ``IT_SYSTEM``.
    identity : str
        What tells it from every other report set (``Organisation.identity``); its folder name
        is assigned once per identity and kept in the site's manifest.
    parameters : dict
        ``organisation`` (``Organisation.selector``, which names exactly one organisation) and
        any narrowing filter, as the notebooks take them.
    """

    label: str
    kind: str
    identity: str
    parameters: dict = field(default_factory=dict)

    @property
    def organisation(self) -> str | None:
        """The ``organisation`` parameter (``None`` for an IT system's report set)."""
        return self.parameters.get("organisation")

    @property
    def filters(self) -> dict:
        """The narrowing filters among the parameters (e.g. ``it_system``)."""
        return {k: v for k, v in self.parameters.items() if k != "organisation" and v}

    @property
    def expected(self) -> dict:
        """What the page's record (``notebook.Page.record``) must say about who it is for."""
        organisation = None if self.organisation is None else self.identity
        return {"organisation": organisation, "filters": self.filters}


def targets(
    extract: Extract,
    organisations: Iterable[str] = (),
    *,
    all_: bool = False,
    by: str = "ejer",
    include_private: bool = False,
) -> list[Target]:
    """The report sets to render, resolved before any work starts.

    Parameters
    ----------
    extract : Extract
    organisations : iterable of str
        Names or codes (``--org``); each must resolve to exactly one organisation, or a
        ``SorediError`` is raised (naming the candidates when a name fits several).
    all_ : bool
        Every municipality and region in the extract (``--all``).
    by : {"ejer", "it_system"}
        With ``all_``: one report set per owner (default) or per IT system (the vendor's view).
    include_private : bool
        With ``all_`` and ``by="ejer"``: private and state owners too.

    Returns
    -------
    list of Target
        In display order, each identity once.
    """
    found = []
    for query in organisations:
        org = resolve(query, extract)
        found.append(Target(org.name, org.kind, org.identity, {"organisation": org.selector}))
    if all_ and by == IT_SYSTEM:
        for name in list_organisations(extract, by=IT_SYSTEM)["organisation"].dropna():
            params = {"organisation": None, "it_system": name}
            found.append(Target(name, IT_SYSTEM, f"{IT_SYSTEM}:{fold(name)}", params))
    elif all_:
        orgs = organisations_in(extract)
        for identity in list_organisations(extract)["identity"].dropna():
            org = orgs[identity]
            if org.kind in KINDS_ALL or include_private:
                found.append(Target(org.name, org.kind, identity, {"organisation": org.selector}))
    unique: dict[str, Target] = {}
    for t in found:
        unique.setdefault(t.identity, t)
    out = list(unique.values())
    if not out:
        raise SorediError(text("render.no_targets"))
    return out
