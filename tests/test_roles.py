"""Who to contact: SOR-/SOR-EDI-administrator by owner type and IT system."""

import pandas as pd
import pytest

from soredi_nb import roles

MEDCOM = "sor@medcom.dk"


def test_municipality_on_medcom_system():
    c = roles.contacts("Kommune", "KMD Nexus")
    assert c.medcom_administered
    assert c.email == MEDCOM
    assert c.medcom_system == "KMD Nexus"
    assert c.sor_edi_contact == f"MedCom ({MEDCOM})"
    assert "MedCom" in c.sor_edi_administrator and MEDCOM in c.sor_edi_administrator
    assert "Sundhedsdatastyrelsen" in c.sor_administrator
    assert [lk.key for lk in c.links] == ["sor_ansvarlige_kommuner", "county_organisations"]


def test_municipality_on_other_system_goes_to_vendor():
    c = roles.contacts("Kommune", "XMO")
    assert not c.medcom_administered and c.email is None
    assert "It-leverandøren" in c.sor_edi_administrator
    assert c.sor_edi_contact == "Leverandøren af XMO"
    assert roles.contacts("Kommune", "XMO", "Netcompany").sor_edi_contact == (
        "It-leverandøren (Netcompany)"
    )


@pytest.mark.parametrize("system", ["KMD Nexus", "XMO", "Cura", None, "Sundhedsplatformen"])
def test_region_has_own_sor_edi_administrators(system):
    c = roles.contacts("Region", system)
    assert c.ejertype == "Region"
    assert not c.medcom_administered and c.email is None
    assert c.sor_edi_contact == "Regionens SOR-EDI-administratorer"
    assert c.sor_edi_administrator.startswith("Regionens egne SOR-EDI-administratorer")
    assert "selv" in c.sor_administrator
    assert [lk.key for lk in c.links] == ["sor_ansvarlige_regioner"]


def test_private_unit_goes_to_vendor_and_sundhedsdatastyrelsen():
    c = roles.contacts("Privat", "EG Clinea")
    assert not c.medcom_administered and c.email is None
    assert "It-leverandøren" in c.sor_edi_administrator and "kunder" in c.sor_edi_administrator
    assert "Sundhedsdatastyrelsen" in c.sor_administrator
    assert c.links == ()


@pytest.mark.parametrize("ejertype", ["Stat", "STAT", None, "", float("nan"), pd.NA, "Ukendt"])
def test_state_and_unknown_follow_private_rules(ejertype):
    c, private = roles.contacts(ejertype, "KMD Nexus"), roles.contacts("Privat", "KMD Nexus")
    assert not c.medcom_administered
    assert c.sor_edi_administrator == private.sor_edi_administrator
    assert c.sor_administrator == private.sor_administrator


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
    assert roles.contacts("Kommune", written).medcom_administered


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
    assert not roles.contacts("Kommune", written).medcom_administered


def test_municipality_without_it_system_mentions_both():
    c = roles.contacts("Kommune", None)
    assert not c.medcom_administered and c.email is None
    assert MEDCOM in c.sor_edi_administrator and "it-leverandøren" in c.sor_edi_administrator


def test_medcom_systems_lists_the_guide():
    systems = roles.medcom_systems()
    assert len(systems) == 13
    assert systems[0] == "KMD Nexus" and "TM-Care" in systems


def test_contacts_table_counts_distinct_location_numbers():
    df = pd.DataFrame(
        {
            "lokationsnummer": [
                "5790000123117",
                "5790000123117",
                "5790000160921",
                "5790002407314",
                "5790000126330",
                "5790000135837",
            ],
            "ejertype": ["Kommune", "kommune", "Kommune", "Kommune", "Region", None],
            "it_system": ["KMD Nexus", "KMD Nexus", " KMD Nexus ", "XMO", "Cura", None],
            "it_leverandoer": ["KMD", "KMD", "KMD", "Netcompany", "Systematic", None],
        }
    )
    t = roles.contacts_table(df)
    assert list(t.columns) == [
        "ejertype",
        "it_system",
        "it_leverandoer",
        "medcom_system",
        "medcom_administered",
        "sor_edi_contact",
        "email",
        "sor_edi_administrator",
        "sor_administrator",
        "locations",
    ]
    assert t["locations"].tolist() == [2, 1, 1, 1]
    first = t.iloc[0]
    assert (first["ejertype"], first["it_system"], first["it_leverandoer"]) == (
        "Kommune",
        "KMD Nexus",
        "KMD",
    )
    assert bool(first["medcom_administered"]) and first["email"] == MEDCOM
    rest = t.iloc[1:].set_index("it_system", drop=False)
    assert rest.loc["XMO", "sor_edi_contact"] == "It-leverandøren (Netcompany)"
    assert rest.loc["Cura", "sor_edi_contact"] == "Regionens SOR-EDI-administratorer"
    unknown = t[t["it_system"].isna()].iloc[0]
    assert pd.isna(unknown["ejertype"]) and pd.isna(unknown["email"])
    assert t["medcom_administered"].dtype == bool
    assert t["locations"].dtype == "int64"


def test_contacts_table_without_optional_columns_and_empty():
    df = pd.DataFrame({"lokationsnummer": ["5790000123117", "5790000160921"]})
    t = roles.contacts_table(df)
    assert len(t) == 1 and t.loc[0, "locations"] == 2
    assert t.loc[0, "sor_edi_contact"] == "It-leverandøren"
    assert roles.contacts_table(df.iloc[:0]).empty
