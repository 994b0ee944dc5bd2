"""MedCom's cleanup guide as data: the seven tasks, their actions, the introduction and links.

The Danish guidance lives in ``data/tasks.yaml`` and is checked when first read, so a typo there
fails loudly. Table number, slug and name come from :mod:`soredi_nb.schema`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from soredi_nb import roles, schema
from soredi_nb.reference import package_yaml
from soredi_nb.texts import text

# Option keys the guide numbers itself ("a", "a.1") are shown in the checklist; other keys
# ("hvis-ja", "kontakt-afsender") are identifiers only.
_NUMBERED_KEY = re.compile(r"[a-z](\.\d+)*")


@dataclass(frozen=True)
class Link:
    """A link from the guide's appendix: ``key`` (identifier), Danish ``label`` and ``url``."""

    key: str
    label: str
    url: str

    def to_markdown(self) -> str:
        """``[label](url)``."""
        return f"[{self.label}]({self.url})"


@dataclass(frozen=True)
class Action:
    """One step of a task's checklist, possibly with sub-steps to choose between.

    Attributes
    ----------
    key : str
        Identifier, unique within the task: the guide's own numbering (``"a"``, ``"a.1"``) or a
        slug (``"hvis-ja"``, ``"kontakt-afsender"``).
    label : str
        Short Danish label, distinct within the task: the checklist heading and, for an action
        without children, a dropdown choice.
    text : str
        What to do, in full sentences.
    when : str or None
        The condition under which the action applies: a branch (``"Hvis ja"``) or a question.
    children : tuple of Action
        Alternatives to choose between (table 1, option a).
    role : str or None
        Who does it: a key of :func:`soredi_nb.roles.all_roles`. Every action without children
        has one; a choice between alternatives (table 1, option a) has none.
    """

    key: str
    label: str
    text: str
    when: str | None = None
    children: tuple[Action, ...] = ()
    role: str | None = None

    @property
    def who(self) -> roles.Role | None:
        """The role that does this action (``None`` for a choice between alternatives)."""
        return roles.role(self.role) if self.role else None

    def walk(self) -> Iterator[Action]:
        """This action, then its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def title(self) -> str:
        """The label, after the guide's own number when it has one (``"a.1 Fjern …"``)."""
        if not _NUMBERED_KEY.fullmatch(self.key):
            return self.label
        return f"{self.key} {self.label}" if "." in self.key else f"{self.key}. {self.label}"

    def to_markdown(self, indent: int = 0) -> str:
        """A ``- [ ]`` checklist item, children indented below it."""
        head = f"**{self.title}**"
        when = f" *{_with_stop(self.when)}*" if self.when else ""
        who = f" *{text('tasks.done_by', role=self.who.heading)}*" if self.who else ""
        lines = [f"{'  ' * indent}- [ ] {head} –{when} {self.text}{who}"]
        lines += [child.to_markdown(indent + 1) for child in self.children]
        return "\n".join(lines)


@dataclass(frozen=True)
class Task:
    """The guide's guidance for one table of the extract.

    Attributes
    ----------
    number : int
        Table number, 1-7. ``slug`` and ``name`` come from :func:`soredi_nb.schema.table`.
    goal : str
        The guide's "MÅL for SOR-EDI-kvalitet".
    question : str
        The task's opening question.
    clarify : str or None
        What to clarify before acting.
    actions : tuple of Action
        The checklist, in the guide's order.
    causes : tuple of str
        Possible causes of the findings.
    best_practice : str or None
    remarks : tuple of str
    links : tuple of Link
    """

    number: int
    goal: str
    question: str
    clarify: str | None
    actions: tuple[Action, ...]
    causes: tuple[str, ...] = ()
    best_practice: str | None = None
    remarks: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()

    @property
    def table(self) -> schema.Table:
        """The table of the extract this task is about."""
        return schema.table(self.number)

    @property
    def slug(self) -> str:
        """The table's slug, e.g. ``"aktive-uden-meddelelsestyper"``."""
        return self.table.slug

    @property
    def name(self) -> str:
        """The table's Danish name."""
        return self.table.name

    def all_actions(self) -> list[Action]:
        """Every action, depth first in the guide's order (``a, a.1, a.2, b, c`` for table 1)."""
        return [a for top in self.actions for a in top.walk()]

    def action(self, key: str) -> Action:
        """The action with this key; ``KeyError`` if there is none."""
        for a in self.all_actions():
            if a.key == key:
                return a
        raise KeyError(f"task {self.number} has no action {key!r}")

    def leaf_actions(self) -> list[Action]:
        """The actions a user can do, in the guide's order: those without children.

        Table 1 gives a.1, a.2, b and c: option a is a choice between a.1 and a.2, not an action.
        """
        return [a for a in self.all_actions() if not a.children]

    def action_choices(self) -> list[str]:
        """The actions a user can pick, with who does them, for a dropdown in a worklist.

        Returns
        -------
        list of str
            Per action of :meth:`leaf_actions`, its label and role, e.g. ``"Luk
            lokationsnummeret (luk SOR-enheden) – SOR-administrator"``; distinct within the task.
        """
        return [text("tasks.choice", action=a.label, role=a.who.label) for a in self.leaf_actions()]

    def to_markdown(self, level: int | None = 3) -> str:
        """The Danish guidance for this task as plain markdown, for a notebook.

        Parameters
        ----------
        level : int or None
            Heading level of the task's title (``###`` by default); ``None`` leaves the title
            out, for a page whose own heading already names the task.

        Returns
        -------
        str
            Title, goal, question, what to clarify, the actions as a ``- [ ]`` checklist, then
            possible causes, best practice, remarks and links when the guide has them.
        """
        h = _heading
        title = text("tasks.title", number=self.number, name=self.name)
        parts = [f"{'#' * level} {title}"] if level else []
        parts += [f"**{h('goal')}:** {self.goal}", f"**{h('question')}:** {self.question}"]
        if self.clarify:
            parts.append(f"**{h('clarify')}:** {self.clarify}")
        parts.append(f"**{h('actions')}**\n\n" + "\n".join(a.to_markdown() for a in self.actions))
        if self.causes:
            parts.append(f"**{h('causes')}**\n\n" + _bullets(self.causes))
        if self.best_practice:
            parts.append(f"**{h('best_practice')}:** {self.best_practice}")
        if self.remarks:
            parts.append(f"**{h('remarks')}**\n\n" + _bullets(self.remarks))
        if self.links:
            parts.append(f"**{h('links')}**\n\n" + _bullets(lk.to_markdown() for lk in self.links))
        return "\n\n".join(parts) + "\n"


@dataclass(frozen=True)
class Intro:
    """The guide's general introduction: steps before the tasks, and the appendix links.

    Attributes
    ----------
    steps : tuple of str
        First filter to your own organisation; who can change what.
    no_task : str
        If your unit is not in the extract, you have no cleanup task.
    links : tuple of Link
        The appendix links: SOR-ansvarlige lists, approved systems, the municipalities' overview.
    """

    steps: tuple[str, ...]
    no_task: str
    links: tuple[Link, ...]

    def to_markdown(self, level: int | None = 2) -> str:
        """The introduction as plain markdown: title, steps, the no-task note, links.

        ``level=None`` leaves the title out, for a page whose own heading already says it.
        """
        return (
            (f"{'#' * level} {_heading('intro_title')}\n\n" if level else "")
            + _bullets(self.steps)
            + f"\n\n**{self.no_task}**\n\n**{_heading('links')}**\n\n"
            + _bullets(lk.to_markdown() for lk in self.links)
            + "\n"
        )


def task(number: int) -> Task:
    """The guidance for table ``number``.

    Parameters
    ----------
    number : int
        Table number, 1-7.

    Returns
    -------
    Task

    Raises
    ------
    KeyError
        If there is no such table.
    """
    return _load()[0][number]


def all_tasks() -> list[Task]:
    """The seven tasks in table order (parsed once, then cached)."""
    return list(_load()[0].values())


def intro() -> Intro:
    """The guide's introduction and appendix links (see :class:`Intro`)."""
    return _load()[1]


def links() -> dict[str, Link]:
    """Every link of the guide's appendix by key, e.g. ``links()["sor_ansvarlige_kommuner"]``."""
    return dict(_load()[2])


# --- loading and checking data/tasks.yaml -----------------------------------------------------

_TASK_FIELDS = (
    {"goal", "question", "actions"},
    {"clarify", "causes", "best_practice", "remarks", "links"},
)
_ACTION_FIELDS = {"key", "label", "text"}, {"when", "children", "role"}


@cache
def _load() -> tuple[dict[int, Task], Intro, dict[str, Link]]:
    """Parse and check ``data/tasks.yaml`` once."""
    return _build(package_yaml("tasks.yaml"))


def _build(raw: object) -> tuple[dict[int, Task], Intro, dict[str, Link]]:
    """Check the parsed YAML and build the tasks, the intro and the links; ``ValueError`` if bad."""
    _fields(raw, {"links", "intro", "tasks"}, set(), "tasks.yaml")
    link_map = {}
    for key, node in raw["links"].items():
        where = f"link {key}"
        _fields(node, {"label", "url"}, set(), where)
        link_map[key] = Link(key, _str(node["label"], where), _str(node["url"], where))

    def refs(keys: list, where: str) -> tuple[Link, ...]:
        missing = [k for k in keys if k not in link_map]
        if missing:
            raise ValueError(f"tasks.yaml: {where} refers to unknown links {missing}")
        return tuple(link_map[k] for k in keys)

    node = raw["intro"]
    _fields(node, {"steps", "no_task", "links"}, set(), "intro")
    the_intro = Intro(
        _strs(node["steps"], "intro.steps"),
        _str(node["no_task"], "intro"),
        refs(node["links"], "intro"),
    )

    if sorted(raw["tasks"]) != list(schema.TABLE_NUMBERS):
        raise ValueError(f"tasks.yaml: expected tasks 1-7, found {sorted(raw['tasks'])}")
    out = {}
    for number, node in sorted(raw["tasks"].items()):
        where = f"task {number}"
        _fields(node, *_TASK_FIELDS, where)
        t = Task(
            number=number,
            goal=_str(node["goal"], where),
            question=_str(node["question"], where),
            clarify=_opt(node.get("clarify"), where),
            actions=tuple(_action(a, where) for a in node["actions"] or []),
            causes=_strs(node.get("causes", []), where),
            best_practice=_opt(node.get("best_practice"), where),
            remarks=_strs(node.get("remarks", []), where),
            links=refs(node.get("links", []), where),
        )
        keys = [a.key for a in t.all_actions()]
        labels = [a.label for a in t.all_actions()]
        if not keys:
            raise ValueError(f"tasks.yaml: {where} has no actions")
        if len(set(keys)) < len(keys) or len(set(labels)) < len(labels):
            raise ValueError(f"tasks.yaml: {where} repeats an action key or label")
        for a in t.all_actions():
            if bool(a.role) == bool(a.children) or (a.role and a.role not in roles.all_roles()):
                raise ValueError(
                    f"tasks.yaml: {where} action {a.key}: an action without children needs a "
                    f"role of roles.yaml (and one with children none), got {a.role!r}"
                )
        out[number] = t
    return out, the_intro, link_map


def _action(node: dict, where: str) -> Action:
    """Build one action (and its children) from YAML."""
    _fields(node, *_ACTION_FIELDS, where)
    where = f"{where} action {node['key']}"
    return Action(
        key=_str(node["key"], where),
        label=_str(node["label"], where),
        text=_str(node["text"], where),
        when=_opt(node.get("when"), where),
        children=tuple(_action(c, where) for c in node.get("children") or []),
        role=_opt(node.get("role"), where),
    )


def _fields(node: object, required: set[str], optional: set[str], where: str) -> None:
    """Fail unless ``node`` is a mapping with all ``required`` keys and no unknown ones."""
    if not isinstance(node, dict):
        raise ValueError(f"tasks.yaml: {where} must be a mapping")
    missing, unknown = required - node.keys(), node.keys() - required - optional
    if missing or unknown:
        problem = f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        raise ValueError(f"tasks.yaml: {where}: {problem}")


def _str(value: object, where: str) -> str:
    """A non-empty, whitespace-trimmed string, or fail."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"tasks.yaml: {where}: expected non-empty text, got {value!r}")
    return value.strip()


def _opt(value: object, where: str) -> str | None:
    """Like :func:`_str`, but ``None`` stays ``None``."""
    return None if value is None else _str(value, where)


def _strs(values: object, where: str) -> tuple[str, ...]:
    """A list of non-empty strings, or fail."""
    if not isinstance(values, list):
        raise ValueError(f"tasks.yaml: {where}: expected a list, got {values!r}")
    return tuple(_str(v, where) for v in values)


def _heading(key: str) -> str:
    """A Danish heading from ``data/texts/tasks.yaml``."""
    return text(f"tasks.{key}")


def _bullets(items) -> str:
    """Plain markdown bullets."""
    return "\n".join(f"- {item}" for item in items)


def _with_stop(condition: str) -> str:
    """End a condition with a colon unless it already ends a sentence (``?``, ``.``, ``:``)."""
    return condition if condition[-1] in "?.:" else f"{condition}:"
