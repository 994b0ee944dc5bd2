"""The cleanup guide as data: the seven tasks, their actions, markdown and YAML checks."""

import copy

import pytest
import yaml

from soredi_nb import schema, tasks


@pytest.fixture
def raw():
    """A fresh copy of the parsed tasks.yaml, to break in tests."""
    from importlib.resources import files

    return yaml.safe_load(files("soredi_nb").joinpath("data/tasks.yaml").read_text("utf-8"))


def test_all_seven_tasks_with_content():
    all_tasks = tasks.all_tasks()
    assert [t.number for t in all_tasks] == [1, 2, 3, 4, 5, 6, 7]
    for t in all_tasks:
        assert t.goal and t.question and t.actions
        assert all(a.label and a.text for a in t.all_actions())


def test_all_tasks_is_cached():
    assert tasks.task(1) is tasks.all_tasks()[0]


def test_number_slug_name_come_from_schema():
    for t in tasks.all_tasks():
        assert t.table == schema.table(t.number)
        assert (t.slug, t.name) == (schema.table(t.number).slug, schema.table(t.number).name)


def test_unknown_task():
    with pytest.raises(KeyError):
        tasks.task(8)


def test_table_1_options_and_best_practice():
    t = tasks.task(1)
    assert [a.key for a in t.all_actions()] == ["a", "a.1", "a.2", "b", "c"]
    assert [a.key for a in t.action("a").children] == ["a.1", "a.2"]
    assert t.best_practice and "ikke-aktivt" in t.best_practice
    assert [a.key for a in t.leaf_actions()] == ["a.1", "a.2", "b", "c"]
    assert t.action_choices() == [
        "Fjern it-systemoplysninger på enheden – SOR-administrator",
        "Luk lokationsnummeret (luk SOR-enheden) – SOR-administrator",
        "Markér til intern brug – SOR-administrator",
        "Tilføj meddelelsestyper – SOR-EDI-administrator",
    ]
    assert tasks.task(2).action_choices() == [
        "Kontakt afsender – Afsender",
        "Undersøg negativ kvittering – It-leverandør",
    ]


def test_table_3_and_5_yes_no_branches():
    for n in (3, 5):
        t = tasks.task(n)
        assert t.clarify
        assert [a.key for a in t.actions] == ["hvis-ja", "hvis-nej"]
        assert [a.when for a in t.actions] == ["Hvis ja", "Hvis nej"]
    assert len(tasks.task(5).causes) == 2


def test_table_4_remarks_and_link():
    t = tasks.task(4)
    assert any("national aftale" in r for r in t.remarks)
    assert any("uanset format" in r for r in t.remarks)
    assert [lk.url for lk in t.links] == ["https://medcom.dk/standarder/godkendte-systemer/"]


def test_tables_6_and_7_review_questions_and_causes():
    for n in (6, 7):
        t = tasks.task(n)
        assert all(a.text.endswith("?") for a in t.actions)
        assert len(t.causes) == 3


def test_action_choices_distinct_per_task():
    for t in tasks.all_tasks():
        choices = t.action_choices()
        assert choices and len(set(choices)) == len(choices)


def test_unknown_action_key():
    with pytest.raises(KeyError):
        tasks.task(1).action("d")


def test_to_markdown():
    md = tasks.task(1).to_markdown()
    assert md.startswith("### Tabel 1: Aktive lokationsnumre uden indgående meddelelsestyper\n")
    assert tasks.task(1).question in md
    assert tasks.task(1).goal in md
    assert "- [ ] **a. Lokationsnummeret skal lukkes** – *Skal" in md
    assert "\n  - [ ] **a.1 Fjern it-systemoplysninger på enheden** – " in md
    # Who does each action, and where; a choice between alternatives (a) has no role itself.
    assert "knyttet til enheden. *Udføres af: SOR-administrator (i SOR).*\n" in md
    assert "ejertype og it-system. *Udføres af: SOR-EDI-administrator (i SOR-EDI).*" in md
    assert md.count("Udføres af") == 4
    assert "**Best practice:**" in md
    md3 = tasks.task(3).to_markdown(level=2)
    assert md3.startswith("## Tabel 3")
    assert "- [ ] **Opret aktiv SOR-enhed med lokationsnummer** – *Hvis ja:* Opret" in md3
    assert "*Udføres af: Oprettelse af lokationsnummer (i SOR).*" in md3
    assert "lukket i SOR. *Udføres af: It-leverandør.*" in md3
    md4 = tasks.task(4).to_markdown()
    assert "**Bemærkninger**" in md4
    assert "(https://medcom.dk/standarder/godkendte-systemer/)" in md4
    assert "**Mulige årsager**\n\n- " in tasks.task(2).to_markdown()


def test_intro_and_links():
    intro = tasks.intro()
    assert "filtrere" in intro.steps[0]
    assert "ingen oprydningsopgave" in intro.no_task
    urls = {lk.url for lk in intro.links}
    assert "https://statistik.medcom.dk/export/county_organisations" in urls
    assert {"sor_ansvarlige_regioner", "sor_ansvarlige_kommuner"} <= set(tasks.links())
    md = intro.to_markdown()
    assert md.startswith("## ") and intro.no_task in md


def test_yaml_as_shipped_builds(raw):
    built, _, _ = tasks._build(raw)
    assert list(built) == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r["tasks"].pop(7),
        lambda r: r["tasks"][2].pop("goal"),
        lambda r: r["tasks"][2].update(questoin="typo"),
        lambda r: r["tasks"][4].update(actions=[]),
        lambda r: r["tasks"][1]["actions"][0]["children"][0].pop("label"),
        lambda r: r["tasks"][1]["actions"][1].update(label="Tilføj meddelelsestyper"),
        lambda r: r["tasks"][4].update(links=["no_such_link"]),
        lambda r: r["tasks"][6].update(question="  "),
        lambda r: r["intro"].pop("no_task"),
        lambda r: r["tasks"][2]["actions"][0].pop("role"),
        lambda r: r["tasks"][2]["actions"][0].update(role="sor_admin"),
        lambda r: r["tasks"][1]["actions"][0].update(role="sor_administrator"),
    ],
)
def test_yaml_mistakes_fail_loudly(raw, breakage):
    broken = copy.deepcopy(raw)
    breakage(broken)
    with pytest.raises(ValueError, match="tasks.yaml"):
        tasks._build(broken)
