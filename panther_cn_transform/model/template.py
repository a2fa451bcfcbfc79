"""`Template`, what a decode gives: the text, its format, the long-form model and (composed on first use for JSON) its node tree.

Why its own module: the decode's entry points and the JSON reader both return one, and
the model builder makes its `RecordedStrings`; kept apart from all three, none of them
imports another for it (the import contract allows no circle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from ..errors import TemplateError
from ..limits import Limits
from .json_compose import compose_json
from .yaml_compose import compose

Format = Literal["yaml", "json"]


@dataclass(frozen=True)
class RecordedStrings:
    """The scalar node of each string of a decoded YAML model, in document order, and which of them sit in a flow collection.

    `nodes[i]` is the node of the i-th string of the model (None for the two strings of a
    scalar `!GetAtt A.b`, which one node holds); `in_flow` holds the places of the strings
    inside a flow collection (`[...]`, `{...}`), where a new value must be written flow-safe.
    """

    nodes: list[yaml.ScalarNode | None]
    in_flow: set[int]


@dataclass
class Template:
    """One decoded template: its text, format, long-form model and (lazily) its nodes.

    `text` is the source without a UTF-8 byte-order mark (`bom` records whether it had
    one); libyaml's marks are character offsets into exactly this text.
    """

    source: str
    text: str
    format: Format
    model: dict[str, Any]
    bom: bool = False
    newline: str = "\n"
    _root: yaml.Node | None = field(default=None, repr=False)
    limits: Limits = field(default_factory=Limits, repr=False)  # what it was decoded under; the render check reuses them
    #: the node of each string of `model`, in document order (as `walk.strings_and_mappings` lists them); None for
    #: JSON and for YAML with aliases.  The renderer reaches a changed string's node by its place here.
    string_nodes: RecordedStrings | None = field(default=None, repr=False)

    @property
    def root(self) -> yaml.Node:
        """The libyaml node tree of `text`, composed on first use for JSON."""
        if self._root is None:
            if self.format == "json":
                try:
                    self._root = compose(self.text, self.source)
                except TemplateError:  # valid JSON that libyaml refuses (a key over 1,024 characters)
                    self._root = compose_json(self.text, self.source)
            else:
                self._root = compose(self.text, self.source)
        return self._root
