"""Error codes of negative receipts: SOR-EDI or not, and the share of tables 6-7 they explain."""

import pandas as pd
import pytest
from factories import AARHUS, make_extract, rows

from soredi_nb import errorcodes
from soredi_nb.exceptions import ExtractError
from soredi_nb.load import load_extract
from soredi_nb.sample import make_sample, write_extract
from soredi_nb.summary import summarise


def test_packaged_codes_follow_medcoms_acknowledgement_codes():
    c = errorcodes.classification()
    assert {k for k, v in c.items() if v} == {
        "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
        "MSG_RECEIVER_IDENTIFIER_UNKNOWN",
        "MSG_RECEIVER_IDENTIFIER_MISSING",
    }
    assert c["MSG_DUPLICATE_ID"] is False


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("MSG_Receiver_Identifier_UNKNOWN", "MSG_RECEIVER_IDENTIFIER_UNKNOWN"),
        ("  msg_duplicate_id: modtaget før", "MSG_DUPLICATE_ID"),
        ("", None),
        (None, None),
        (pd.NA, None),
    ],
)
def test_code_of(cell, code):
    assert errorcodes.code_of(cell) == code


def test_causes_count_receipts_not_rows():
    df = pd.DataFrame(
        {
            "antal": [10, 3, 5, 2, 1],
            "fejlkode": [
                "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
                "msg_receiver_identifier_unknown",
                "MSG_DUPLICATE_ID",
                None,
                "MSG_SOMETHING_NEW",
            ],
        }
    )
    got = errorcodes.causes(df, errorcodes.classification())
    assert (got.total, got.sor_edi, got.other, got.unclassified) == (21, 13, 5, 3)
    assert got.share == pytest.approx(100 * 13 / 21)


def test_without_error_codes_the_share_cannot_be_computed():
    classes = errorcodes.classification()
    for df in (pd.DataFrame({"antal": [4, 2]}), pd.DataFrame({"antal": [4], "fejlkode": [None]})):
        got = errorcodes.causes(df, classes)
        assert got.sor_edi is None and got.share is None and got.unclassified == got.total


def test_the_alias_file_extends_and_overrides(tmp_path):
    aliases = tmp_path / "aliaser.yaml"
    aliases.write_text(
        "lokationsnummer: [Lok]\n"
        "fejlkoder:\n"
        "  sor_edi: [MSG_Mailbox_Out_Of_Operation]\n"
        "  andre: [msg_receiver_identifier_missing]\n",
        encoding="utf-8",
    )
    c = errorcodes.classification(aliases)
    assert c["MSG_MAILBOX_OUT_OF_OPERATION"] is True
    assert c["MSG_RECEIVER_IDENTIFIER_MISSING"] is False
    assert c["MSG_DUPLICATE_ID"] is False  # the packaged list is still there


@pytest.mark.parametrize(
    "section",
    ["fejlkoder: [MSG_X]\n", "fejlkoder:\n  sor_edi: {a: 1}\n", "fejlkoder:\n  ja: [MSG_X]\n"],
)
def test_a_bad_section_is_a_danish_error(tmp_path, section):
    aliases = tmp_path / "aliaser.yaml"
    aliases.write_text(section, encoding="utf-8")
    with pytest.raises(ExtractError, match="Afsnittet 'fejlkoder' i aliasfilen"):
        errorcodes.classification(aliases)


def test_summary_shows_the_share_per_table():
    extract = make_extract(
        {
            6: rows(AARHUS, "5790000123117", antal=6, fejlkode="MSG_Receiver_Identifier_UNKNOWN")
            + rows(AARHUS, "5790000160921", antal=2, fejlkode="MSG_DUPLICATE_ID"),
            7: rows(AARHUS, "5790000123117", antal=3),
        }
    )
    s = summarise(extract, "Aarhus")
    t6, t7 = s.tasks[5], s.tasks[6]
    assert (t6.messages, t6.sor_edi_receipts, t6.unclassified_receipts) == (8, 6, 0)
    assert t6.causes_text() == (
        "Tabel 6: 6 af 8 negative kvitteringer (75 %) skyldes ifølge fejlkoden SOR-EDI "
        "(forkert registrering eller brug)."
    )
    assert t7.sor_edi_receipts is None and "kan ikke beregnes" in t7.causes_text()
    assert s.tasks[1].causes_text() is None  # table 2 counts messages, not receipts
    assert s.to_dict()["tasks"][5]["sor_edi_receipts"] == 6


def test_the_user_file_reaches_the_summary(tmp_path):
    sample = make_sample(seed=0)
    path = write_extract(sample, tmp_path / "u.xlsx")
    aliases = tmp_path / "aliaser.yaml"
    aliases.write_text("fejlkoder:\n  sor_edi: [MSG_VALUESET_VALUE_UNKNOWN]\n", encoding="utf-8")
    plain = summarise(load_extract(path, cache=False)).tasks[5]
    extended = summarise(load_extract(path, aliases, cache=False)).tasks[5]
    t6 = sample["tables"][6]
    moved = int(t6.loc[t6["fejlkode"] == "MSG_VALUESET_VALUE_UNKNOWN", "antal"].sum())
    assert moved > 0
    assert extended.sor_edi_receipts == plain.sor_edi_receipts + moved


def test_an_edited_alias_file_is_read_again(tmp_path):
    """A long-lived kernel (JupyterLab) sees the user's edit, as it sees an edited extract."""
    aliases = tmp_path / "aliaser.yaml"
    aliases.write_text("fejlkoder:\n  sor_edi: [MSG_X]\n", encoding="utf-8")
    assert errorcodes.classification(aliases)["MSG_X"] is True
    aliases.write_text("fejlkoder:\n  andre: [MSG_X, MSG_Y]\n", encoding="utf-8")
    assert errorcodes.classification(aliases)["MSG_X"] is False
