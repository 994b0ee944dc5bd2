"""Who does each action: the appendix's roles by owner type, IT system and counterpart."""

import pandas as pd
import pytest

from soredi_nb import roles, tasks

MEDCOM = "sor@medcom.dk"


NO_RULE = f"Vejledningen har ingen regel for statslige enheder – kontakt MedCom ({MEDCOM})"
MUNICIPAL_SOR = "Kommunens egne SOR-administratorer"
REGIONAL_SOR = "Regionens egne SOR-administratorer"
SDS = "Sundhedsdatastyrelsen (på enhedens henvendelse)"

# The appendix, role by role: (role, owner type, IT system, vendor) -> who. Read against the
# guide's "Adgange og roller": regions do everything themselves; municipalities have their own
# SOR-administrators, location numbers from Sundhedsdatastyrelsen after MedCom, message types by
# MedCom for the listed systems and else by the vendor; private units go to
# Sundhedsdatastyrelsen and their vendor; state units have no rule.
APPENDIX = [
    ("sor_administrator", "Kommune", "Cura", None, MUNICIPAL_SOR),
    ("sor_administrator", "Kommune", "XMO", None, MUNICIPAL_SOR),
    ("sor_administrator", "Region", "Cosmic", None, REGIONAL_SOR),
    ("sor_administrator", "Privat", "XMO", None, SDS),
    ("sor_administrator", "Stat", "XMO", None, NO_RULE),
    ("sor_administrator", None, None, None, SDS),
    (
        "lokationsnummer",
        "Kommune",
        "Cura",
        None,
        f"Sundhedsdatastyrelsen efter afklaring med MedCom ({MEDCOM})",
    ),
    ("lokationsnummer", "Region", "Cosmic", None, REGIONAL_SOR),
    ("lokationsnummer", "Privat", "XMO", None, SDS),
    ("lokationsnummer", "Stat", None, None, NO_RULE),
    ("sor_edi_administrator", "Kommune", "Cura", "Systematic", f"MedCom ({MEDCOM})"),
    ("sor_edi_administrator", "kommunal", "nexus (KMD)", None, f"MedCom ({MEDCOM})"),
    ("sor_edi_administrator", "Kommune", "XMO", None, "Leverandøren af XMO"),
    ("sor_edi_administrator", "Kommune", "XMO", "Netcompany", "It-leverandøren (Netcompany)"),
    ("sor_edi_administrator", "Region", "Cura", None, "Regionens egne SOR-EDI-administratorer"),
    ("sor_edi_administrator", "Region", None, None, "Regionens egne SOR-EDI-administratorer"),
    # A private unit on a system MedCom administers for municipalities: still its vendor.
    ("sor_edi_administrator", "Privat", "Cura", None, "Leverandøren af Cura"),
    ("sor_edi_administrator", "Privat", "EG Clinea", "EG A/S", "It-leverandøren (EG A/S)"),
    ("sor_edi_administrator", "Privat", None, None, "It-leverandøren"),
    ("sor_edi_administrator", "Stat", "Cura", None, NO_RULE),
    ("sor_edi_administrator", pd.NA, "XMO", None, "Leverandøren af XMO"),
    # The IT vendor and the counterparts do not depend on the owner type, not even for the state.
    ("it_leverandoer", "Kommune", "Cura", "Systematic", "It-leverandøren (Systematic)"),
    ("it_leverandoer", "Stat", "XMO", None, "Leverandøren af XMO"),
    ("it_leverandoer", "Region", None, None, "It-leverandøren"),
    ("afsender", "Stat", "XMO", None, "Afsenderen (se fundets modpart)"),
    ("modtager", "Region", "Cosmic", None, "Modtageren (se fundets modpart)"),
    ("gennemgang", "Privat", None, None, "Den, der gennemgår udtrækket"),
]


@pytest.mark.parametrize(("key", "ejertype", "system", "vendor", "expected"), APPENDIX)
def test_responsible_follows_the_appendix(key, ejertype, system, vendor, expected):
    assert roles.responsible(key, ejertype, system, vendor) == expected


def test_municipality_without_it_system_mentions_both():
    who = roles.responsible("sor_edi_administrator", "Kommune", None)
    assert MEDCOM in who and "It-leverandøren" in who and "ikke angivet" in who


def test_counterparts_are_named_when_known():
    who = roles.responsible("afsender", "Kommune", "Cura", modpart="AUH (5790000000005)")
    assert who == "AUH (5790000000005)"
    assert roles.responsible("modtager", modpart="  ") == "Modtageren (se fundets modpart)"


def test_every_action_has_a_role_with_its_register():
    where = {
        (n, a.key): (a.role, a.who.where) for n in range(1, 8) for a in tasks.task(n).leaf_actions()
    }
    assert where == {
        (1, "a.1"): ("sor_administrator", "SOR"),
        (1, "a.2"): ("sor_administrator", "SOR"),
        (1, "b"): ("sor_administrator", "SOR"),
        (1, "c"): ("sor_edi_administrator", "SOR-EDI"),
        (2, "kontakt-afsender"): ("afsender", None),
        (2, "negativ-kvittering"): ("it_leverandoer", None),
        (3, "hvis-ja"): ("lokationsnummer", "SOR"),
        (3, "hvis-nej"): ("it_leverandoer", None),
        (4, "fjern-meddelelsestyper"): ("sor_edi_administrator", "SOR-EDI"),
        (5, "hvis-ja"): ("sor_edi_administrator", "SOR-EDI"),
        (5, "hvis-nej"): ("afsender", None),
        (6, "aarsag"): ("gennemgang", None),
        (6, "kan-ikke-modtage"): ("modtager", None),
        (7, "aarsag"): ("gennemgang", None),
        (7, "kan-ikke-modtage"): ("sor_edi_administrator", "SOR-EDI"),
    }


def test_role_texts():
    r = roles.role("sor_edi_administrator")
    assert r.heading == "SOR-EDI-administrator (i SOR-EDI)"
    assert "KMD Nexus, Cura" in r.description and "og TM-Care" in r.description
    assert MEDCOM in r.description
    assert roles.role("afsender").heading == "Afsender"
    with pytest.raises(KeyError):
        roles.role("ukendt")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("kommune", "Kommune"),
        (" KOMMUNE ", "Kommune"),
        ("Kommunal", "Kommune"),
        ("region", "Region"),
        ("Privat praksis", "Privat"),
        ("stat", "Stat"),
        ("Statslig", "Stat"),
        ("Ukendt", None),
        (None, None),
        ("", None),
    ],
)
def test_owner_type(written, expected):
    assert roles.owner_type(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("KMD Nexus", "KMD Nexus"),
        ("Nexus", "KMD Nexus"),
        ("nexus (KMD)", "KMD Nexus"),
        ("KMDNexus", "KMD Nexus"),
        ("Cura (Systematic)", "Cura"),
        ("Systematic Columna Cura", "Cura"),
        ("TM Sund", "TM Sund"),
        ("TM-Sund", "TM Sund"),
        ("TMSund", "TM Sund"),
        ("tm  sund", "TM Sund"),
        ("TK2", "TK2"),
        ("TK 2", "TK2"),
        ("Solteq Tand", "Solteq Tand"),
        ("JOSA", "JOSA"),
        ("Modulus", "Modulus"),
        ("Fælles forløb", "Fælles forløb/OS2korrespondance"),
        ("faelles forloeb", "Fælles forløb/OS2korrespondance"),
        ("OS2korrespondance", "Fælles forløb/OS2korrespondance"),
        ("OS2 Korrespondance", "Fælles forløb/OS2korrespondance"),
        ("Fælles forløb/OS2korrespondance", "Fælles forløb/OS2korrespondance"),
        ("Sofus", "Dagbogsprogrammet (Sofus)"),
        ("Dagbogsprogrammet", "Dagbogsprogrammet (Sofus)"),
        ("Dagbogsprogrammet (Sofus)", "Dagbogsprogrammet (Sofus)"),
        ("HD-eKJ", "HD-eKJ"),
        ("hd ekj", "HD-eKJ"),
        ("Kingo", "Kingo"),
        ("MultiMed Beskedagent", "MultiMed Beskedagent"),
        ("Multimed beskedagent", "MultiMed Beskedagent"),
        ("TM-Care", "TM-Care"),
        ("TM Care", "TM-Care"),
        ("TMCare", "TM-Care"),
        ("\u00a0KMD Nexus\u00a0", "KMD Nexus"),
    ],
)
def test_medcom_system_spellings(written, expected):
    assert roles.medcom_system(written) == expected
    assert roles.responsible("sor_edi_administrator", "Kommune", written) == f"MedCom ({MEDCOM})"


@pytest.mark.parametrize(
    "written",
    [
        "XMO",
        "Sundhedsplatformen",
        "EG Clinea",
        "Curalink",
        "Nexusplus",
        "MultiMed",
        "TM",
        "Care",
        "Tand",
        "Solteq",
        "KMD",
        "",
        "   ",
        None,
        pd.NA,
        float("nan"),
    ],
)
def test_no_over_matching(written):
    assert roles.medcom_system(written) is None
    who = roles.responsible("sor_edi_administrator", "Kommune", written)
    assert who != f"MedCom ({MEDCOM})" and who.startswith(("Leverandøren af", "It-leverandøren"))


def test_medcom_systems_lists_the_guide():
    systems = roles.medcom_systems()
    assert len(systems) == 13
    assert systems[0] == "KMD Nexus" and "TM-Care" in systems


def test_responsibilities_use_each_findings_own_owner():
    df = pd.DataFrame(
        {
            "lokationsnummer": ["5790000123117", "5790000123117", "5790000126330", "579000013583"],
            "ejertype": ["Kommune", "kommune", "Region", "Stat"],
            "it_system": ["Cura", "Cura", "Cura", "Cura"],
        }
    )
    long = roles.responsibilities(df, [("c", "sor_edi_administrator"), ("b", "sor_administrator")])
    assert list(long.columns) == ["action", "role", "who", "lokationsnummer"]
    assert long["who"].tolist() == [
        f"MedCom ({MEDCOM})",
        f"MedCom ({MEDCOM})",
        "Regionens egne SOR-EDI-administratorer",
        NO_RULE,
        MUNICIPAL_SOR,
        MUNICIPAL_SOR,
        REGIONAL_SOR,
        NO_RULE,
    ]
    assert long["action"].tolist() == ["c"] * 4 + ["b"] * 4
    assert roles.responsibilities(df.iloc[:0], [("c", "sor_edi_administrator")]).empty
