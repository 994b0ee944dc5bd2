"""Every Danish text a user reads, looked up by key from the files in ``data/texts/``."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def _texts() -> dict[str, Any]:
    """Parse every ``data/texts/*.yaml`` once; each file is the section named by its stem."""
    folder = files("soredi_nb").joinpath("data/texts")
    return {
        f.name.removesuffix(".yaml"): yaml.safe_load(f.read_text("utf-8"))
        for f in folder.iterdir()
        if f.name.endswith(".yaml")
    }


def text(key: str, **fields: Any) -> Any:
    """Return the Danish text for a dotted ``key``, with ``fields`` filled in.

    Parameters
    ----------
    key : str
        ``"<file>.<key>[.<subkey>...]"``, e.g. ``"load.file_missing"`` for the key
        ``file_missing`` in ``data/texts/load.yaml``.
    **fields
        Values for the ``{placeholders}`` of the text.

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
    return node.format(**fields) if fields else node
