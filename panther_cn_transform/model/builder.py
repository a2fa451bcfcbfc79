"""The long-form model built from a libyaml node tree, and the checks that make a model a CloudFormation template.

Why: rules want plain long-form data (dicts, lists, strings) in which `!Ref X` and
`{"Ref": "X"}` are equal; building it from the node tree the renderer keeps parses the
YAML once.  The builder enforces the limits as it builds (depth, and values after alias
expansion, so that an alias bomb stops), records the node of every string for the
renderer, and compares a node tree with a model in place for the render check
(`ModelBuilder.matches`).  Its inner loops are most of the decode's Python time and are
written for speed (their docstrings say how).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import TemplateError
from ..limits import Limits
from .intrinsics import SHORT_TAGS, long_name_of_tag, split_getatt
from .template import RecordedStrings
from .walk import same_value
from .yaml_compose import MAP as _MAP
from .yaml_compose import SEQ as _SEQ
from .yaml_compose import STR

_INT = "tag:yaml.org,2002:int"
#: tags compared in place by `matches`; any other (an intrinsic, a number, `!!set`) is built by `value`
_PLAIN_TAGS = frozenset({STR, _MAP, _SEQ})
_NATIVE_SCALARS = {
    "tag:yaml.org,2002:int": "construct_yaml_int",
    "tag:yaml.org,2002:float": "construct_yaml_float",
    "tag:yaml.org,2002:bool": "construct_yaml_bool",
    "tag:yaml.org,2002:null": "construct_yaml_null",
}
#: Standard tags whose scalars are read as their text.  CloudFormation has no date type:
#: `AWSTemplateFormatVersion: 2010-09-09` is a string.
TEXT_TAGS = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})


def _is_plain_decimal(text: str) -> bool:
    """Digits only, no leading zero (YAML 1.1 reads `0777` as octal), short enough for any int conversion."""
    return text.isascii() and text.isdigit() and (text[0] != "0" or text == "0") and len(text) < 4000


def number_problem(exc: ValueError) -> str:
    message = str(exc)
    match = re.search(r"value has (\d+) digits", message)
    if "Exceeds the limit" in message and match:
        return f"an integer of {int(match.group(1)):,} digits (more than the 4,300 digits Python converts)"
    return message.splitlines()[0] if message else type(exc).__name__


_MAPPING_SECTIONS = ("Parameters", "Mappings", "Conditions", "Outputs", "Metadata", "Rules")


def _kind_of_value(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"the single value {_shorten(str(value))!r}"


def _key_line(root: yaml.Node | None, *keys: str) -> int | None:
    """1-based line of the mapping key at `keys` in a YAML node tree (None for JSON, which has none yet)."""
    node, line = root, None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return line
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                node, line = value_node, key_node.start_mark.line + 1
                break
        else:
            return line
    return line


def check_is_template(model: Any, source: str, root: yaml.Node | None) -> None:
    line = root.start_mark.line + 1 if root is not None else None
    if not isinstance(model, dict):
        kind = "a list" if isinstance(model, list) else "a single value"
        raise TemplateError(f"not a CloudFormation template: the document is {kind}, not a mapping", file=source, line=line)
    if "Resources" not in model:
        raise TemplateError("not a CloudFormation template: no Resources section", file=source, line=line)
    resources = model["Resources"]
    if not isinstance(resources, dict):
        raise TemplateError("Resources must be a mapping of logical ids to resources", file=source, line=_key_line(root, "Resources") or line)
    for section in _MAPPING_SECTIONS:
        value = model.get(section)
        if value is not None and not isinstance(value, dict):
            raise TemplateError(f"{section} must be a mapping, not {_kind_of_value(value)}", file=source, line=_key_line(root, section))
    for section in ("Parameters", "Outputs"):
        for name, entry in (model.get(section) or {}).items():
            if str(name).startswith("Fn::ForEach::"):
                continue  # a loop of the AWS::LanguageExtensions transform, as in Resources
            if entry is not None and not isinstance(entry, dict):
                where = _key_line(root, section, name)
                raise TemplateError(f"{section[:-1].lower()} {name!r} must be a mapping, not {_kind_of_value(entry)}", file=source, line=where)
    for logical_id, resource in resources.items():
        if str(logical_id).startswith("Fn::ForEach::"):
            continue  # a loop of the AWS::LanguageExtensions transform: [name, collection, body]
        if not isinstance(resource, dict):
            raise TemplateError(f"resource {logical_id!r} must be a mapping", file=source)
        if "Type" not in resource:
            raise TemplateError(f"resource {logical_id!r} has no Type", file=source)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ModelBuilder:
    """Builds the long-form model from a libyaml node tree.

    Aliases are shared node objects in the tree; the built value is reused, and the
    expanded size is counted so that an alias bomb stops at `limits.max_nodes`.
    """

    def __init__(self, source: str, limits: Limits, *, record_strings: bool = False) -> None:
        self.source = source
        self.limits = limits
        # the node of each string built, in order (None: not asked, or given up: an alias repeats a value)
        self.string_nodes: list[yaml.ScalarNode | None] | None = [] if record_strings else None
        self.strings_in_flow: set[int] = set()
        self.in_flow = False  # inside a flow collection
        self.constructor = yaml.SafeLoader("")  # for YAML 1.1 int/float/bool scalars
        self.memo: dict[int, tuple[Any, int]] = {}
        self.count = 0
        self.aliased = 0  # values repeated by aliases (`Limits.max_alias_values`)
        self.max_depth, self.max_nodes = limits.max_depth, limits.max_nodes  # read for every node
        self.inline_depth = self.max_depth  # plain strings are taken inline above this depth
        self.scalars_seen: set[int] | None = None  # the scalar nodes built, when aliases of scalars are counted

    def count_scalar_aliases(self) -> None:
        """Count aliases of scalars against `max_alias_values` too (each repeats one value).

        Why only on request: an alias of a scalar costs at least two bytes of text, like
        any value, but each repeated ARN is an edit, a patch operation and a report line
        (100,000 aliases in 400 KB took 12 s).  Telling an alias needs the node's identity,
        which the inline path for plain strings skips; the decode asks for this only when
        the text holds more `*` than the limit, so templates without such aliases keep it.
        """
        self.scalars_seen = set()
        self.inline_depth = 0

    def recorded_strings(self) -> RecordedStrings | None:
        """What `record_strings` collected, when each string of the model has its place in it."""
        return None if self.string_nodes is None else RecordedStrings(self.string_nodes, self.strings_in_flow)

    def record(self, node: yaml.ScalarNode | None) -> None:
        """`node` holds the next string of the model (None: it is not a string's own node)."""
        if self.string_nodes is not None:
            if self.in_flow:
                self.strings_in_flow.add(len(self.string_nodes))
            self.string_nodes.append(node)

    def error(self, node: yaml.Node, message: str) -> TemplateError:
        return TemplateError(message, file=self.source, line=node.start_mark.line + 1, column=node.start_mark.column + 1)

    def build(self, root: yaml.Node) -> Any:
        try:
            return self.value(root, 1)
        except RecursionError:
            raise self.error(root, "nesting too deep to load") from None
        finally:
            self.constructor.dispose()  # a PyYAML loader holds bound methods of itself: a cycle until disposed

    def value(self, node: yaml.Node, depth: int) -> Any:
        if depth > self.max_depth:
            raise self.error(node, f"nesting deeper than {self.max_depth} levels (raise the limit with --max-depth N)")
        self.count += 1
        if self.count > self.max_nodes:
            raise self.too_many(node)
        if self.scalars_seen is not None and isinstance(node, yaml.ScalarNode):
            self.scalar_seen(node)
        tag = node.tag
        if tag[:1] == "!":
            return self.intrinsic(node, tag, depth)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, tag)
        if tag != (_MAP if isinstance(node, yaml.MappingNode) else _SEQ):
            # `!!set`, `!!omap`, `!!python/...` on a mapping or list: CloudFormation has no such value
            raise self.error(node, f"unsupported YAML tag {tag!r}")
        key = id(node)
        cached = self.memo.get(key)
        if cached is not None:
            # the value is built once and appears again: its strings have one node for two places, so recording
            # stops (a mapping or list being built may still append to the list given up; it is not used)
            self.string_nodes = None
            value, size = cached
            self.count += size
            if self.count > self.max_nodes:
                raise self.too_many(node)
            self.aliased += size
            if self.aliased > self.limits.max_alias_values:
                raise self.too_many_aliased(node)
            return value
        before = self.count
        if isinstance(node, yaml.MappingNode):
            value = self.mapping(node, depth)
        else:
            value = self.items(node, depth)
        self.memo[key] = (value, self.count - before)
        return value

    def matches(self, node: yaml.Node, expected: Any, depth: int) -> bool:
        """Whether `self.value(node, depth)` would return a value equal to `expected`, without building it.

        Plain mappings, sequences and strings (nearly all of a template) are compared in
        place, counted against the same limits as `value`; any other node (an intrinsic's
        tag, a number) is built by `value` and compared with `walk.same_value`: type and value, so
        that `1`, `1.0` and `true` do not pass for one another.  False also when unsure:
        a mapping whose keys are in another order than `expected`'s, or a limit reached
        (`value` would raise there, or a full decode finds the difference).

        The mapping and sequence loops are written out apart, as in `mapping` and `items`:
        one loop over the values after a pass over the keys took a fifth longer (1 ms of a
        1 MB transform).
        """
        if depth > self.max_depth:
            return False
        node_class = node.__class__
        if node.tag not in _PLAIN_TAGS or (node_class is yaml.ScalarNode and node.tag != STR):
            return same_value(self.value(node, depth), expected)  # `1` is not `1.0` nor `true`
        self.count += 1
        if self.count > self.max_nodes:
            return False
        inline = depth < self.max_depth
        limit = self.max_nodes
        if node_class is yaml.MappingNode:
            pairs = node.value
            if not isinstance(expected, dict) or len(pairs) != len(expected):
                return False
            for (key_node, value_node), (key, value) in zip(pairs, expected.items()):
                if key_node.__class__ is not yaml.ScalarNode or key_node.value != key:
                    return False  # keys in their order exclude a duplicate key (the model's keys are distinct)
                if inline and value_node.__class__ is yaml.ScalarNode and value_node.tag == STR:
                    self.count += 1
                    if self.count > limit or value_node.value != value:
                        return False
                elif not self.matches(value_node, value, depth + 1):
                    return False
            return True
        if node_class is yaml.SequenceNode:
            items = node.value
            if not isinstance(expected, list) or len(items) != len(expected):
                return False
            for item, value in zip(items, expected):
                if inline and item.__class__ is yaml.ScalarNode and item.tag == STR:
                    self.count += 1
                    if self.count > limit or item.value != value:
                        return False
                elif not self.matches(item, value, depth + 1):
                    return False
            return True
        return False  # a plain string here is a document of one string (never a template) or past the depth limit

    def scalar_seen(self, node: yaml.ScalarNode) -> None:
        seen = self.scalars_seen
        assert seen is not None
        if id(node) in seen:
            self.aliased += 1
            if self.aliased > self.limits.max_alias_values:
                raise self.too_many_aliased(node)
        else:
            seen.add(id(node))

    def too_many_aliased(self, node: yaml.Node) -> TemplateError:
        return self.error(node, f"aliases repeat more than {self.limits.max_alias_values:,} values "
                                "(an alias bomb? raise the limit with --max-alias-values N)")

    def too_many(self, node: yaml.Node) -> TemplateError:
        return self.error(node, f"document expands to more than {self.limits.max_nodes:,} values (an alias bomb? raise the limit with --max-nodes N)")

    def scalar(self, node: yaml.ScalarNode, tag: str) -> Any:
        if tag == STR or tag in TEXT_TAGS:
            self.record(node)
            return node.value
        if tag == _INT and _is_plain_decimal(node.value):
            return int(node.value)  # what construct_yaml_int gives, without its detours
        method = _NATIVE_SCALARS.get(tag)
        if method is None:
            raise self.error(node, f"unsupported YAML tag {tag!r}")
        try:
            return getattr(self.constructor, method)(node)
        except (ValueError, KeyError, TypeError, OverflowError, yaml.YAMLError) as exc:
            kind = tag.rsplit(":", 1)[-1]
            if isinstance(exc, ValueError) and "Exceeds the limit" in str(exc):
                raise self.error(node, f"number not supported: {number_problem(exc)}") from None
            raise self.error(node, f"{_shorten(node.value)!r} is not a valid {kind} (tag !!{kind})") from None

    def mapping(self, node: yaml.MappingNode, depth: int, _scalar: type[yaml.Node] = yaml.ScalarNode, _str: str = STR) -> dict[str, Any]:
        """The entries of a mapping; a plain string value (most of a template) is taken inline.

        The inline path does exactly what `value` does for such a node (count it, check
        the limits) without the call: it is most of the decode's Python time.  So the count
        is kept in a local between the calls, and the constants are bound as defaults.
        """
        result: dict[str, Any] = {}
        inline = depth < self.inline_depth
        limit = self.max_nodes
        count = self.count
        nodes, outer_flow = self.string_nodes, self.in_flow
        in_flow = self.in_flow = outer_flow or node.flow_style is True
        for key_node, value_node in node.value:
            if key_node.__class__ is not _scalar:
                raise self.error(key_node, "a mapping key must be a plain value, not a list or mapping")
            key = key_node.value
            if key in result:
                raise self.duplicate(node, key_node)
            if inline and value_node.__class__ is _scalar and value_node.tag == _str:
                count += 1
                if count > limit:
                    self.count = count
                    raise self.too_many(value_node)
                result[key] = value_node.value
                if nodes is not None:
                    if in_flow:
                        self.strings_in_flow.add(len(nodes))
                    nodes.append(value_node)
            else:
                self.count = count
                result[key] = self.value(value_node, depth + 1)
                count = self.count
        self.count, self.in_flow = count, outer_flow
        return result

    def items(self, node: yaml.Node, depth: int, _scalar: type[yaml.Node] = yaml.ScalarNode, _str: str = STR) -> list[Any]:
        """The items of a sequence (plain strings inline, as in `mapping`)."""
        result: list[Any] = []
        inline = depth < self.inline_depth
        limit = self.max_nodes
        count = self.count
        nodes, outer_flow = self.string_nodes, self.in_flow
        in_flow = self.in_flow = outer_flow or node.flow_style is True  # type: ignore[attr-defined]  # a SequenceNode
        for item in node.value:
            if inline and item.__class__ is _scalar and item.tag == _str:
                count += 1
                if count > limit:
                    self.count = count
                    raise self.too_many(item)
                result.append(item.value)
                if nodes is not None:
                    if in_flow:
                        self.strings_in_flow.add(len(nodes))
                    nodes.append(item)  # type: ignore[arg-type]  # a ScalarNode (its class was tested)
            else:
                self.count = count
                result.append(self.value(item, depth + 1))
                count = self.count
        self.count, self.in_flow = count, outer_flow
        return result

    def duplicate(self, node: yaml.MappingNode, key_node: yaml.Node) -> TemplateError:
        first = next(k for k, _ in node.value if k.__class__ is yaml.ScalarNode and k.value == key_node.value)
        return self.error(key_node, f"duplicate key {key_node.value!r} (first at line {first.start_mark.line + 1})")

    def intrinsic(self, node: yaml.Node, tag: str, depth: int) -> dict[str, Any]:
        long_name = long_name_of_tag(tag)
        if long_name is None:
            raise self.error(node, f"unknown tag {tag} (CloudFormation knows {', '.join(sorted(SHORT_TAGS))})")
        if isinstance(node, yaml.ScalarNode):
            if long_name == "Fn::GetAtt":
                parts = split_getatt(node.value)
                if len(parts) != 2 or not all(parts):
                    raise self.error(node, f"!GetAtt needs Resource.Attribute, got {node.value!r}")
                self.record(None)  # two strings from one scalar: neither is the node's own value
                self.record(None)
                return {long_name: parts}
            self.record(node)
            return {long_name: node.value}
        if isinstance(node, yaml.MappingNode):
            return {long_name: self.mapping(node, depth + 1)}
        return {long_name: self.items(node, depth)}
