"""Every Danish text a user reads, looked up by key from the files in ``data/texts/``."""

from __future__ import annotations

import string
from functools import cache
from importlib.resources import files
from typing import Any

from soredi_nb import danish
from soredi_nb.reference import package_yaml


@cache
def _texts() -> dict[str, Any]:
    """Parse every ``data/texts/*.yaml`` once; each file is the section named by its stem."""
    folder = files("soredi_nb").joinpath("data/texts")
    return {
        f.name.removesuffix(".yaml"): package_yaml(f"texts/{f.name}")
        for f in folder.iterdir()
        if f.name.endswith(".yaml")
    }


class _Formatter(string.Formatter):
    """``str.format`` plus one form of our own: ``{n:one|other}`` is a count with its noun."""

    def format_field(self, value: Any, format_spec: str) -> str:
        # "{pages:side|sider}" -> "1 side" / "2 sider": the one place a count meets its noun, so
        # no text says "1 sider" and large numbers are written 1.234 everywhere.
        if "|" in format_spec:
            one, other = format_spec.split("|", 1)
            return danish.count(value, one, other)
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def text(key: str, **fields: Any) -> Any:
    """Return the Danish text for a dotted ``key``, with ``fields`` filled in.

    Parameters
    ----------
    key : str
        ``"<file>.<key>[.<subkey>...]"``, e.g. ``"load.file_missing"`` for the key
        ``file_missing`` in ``data/texts/load.yaml``.
    **fields
        Values for the ``{placeholders}`` of the text. A placeholder written
        ``{name:one|other}`` takes a number and gives it with the noun in agreement,
        e.g. ``"Fejl i {count:side|sider}"`` gives "Fejl i 1 side" and "Fejl i 2 sider", and
        "1.234" for large numbers (:func:`soredi_nb.danish.count`).

    Returns
    -------
    str or list or dict
        The text, formatted when ``fields`` are given; lists and mappings are returned as stored.

    Raises
    ------
    KeyError
        If the key does not exist (a programming error, not a user error).
    """
    node: Any = _texts()
    for part in key.split("."):
        node = node[part]
    return _FORMATTER.format(node, **fields) if fields else node
