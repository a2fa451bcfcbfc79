"""Decode template text into a CloudFormation model, remembering where everything is.

Why two views: rules want plain long-form data (dicts, lists, strings) in which `!Ref X`
and `{"Ref": "X"}` are equal; rendering wants the exact source span of every node so that
an edit changes only the characters it must.  YAML is composed once with libyaml (the C
parser, ~10x faster than a ruamel.yaml round trip) and the model is built from the node
tree, which is kept for rendering.  JSON is loaded by the `json` module (exact JSON number
semantics); its node tree is composed with libyaml only if an edit needs rendering.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ._gc import collector_paused
from .errors import TemplateError
from .intrinsics import SHORT_TAGS, long_name_of_tag, split_getatt
from .limits import Limits

Format = Literal["yaml", "json"]
JsonPath = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NATIVE_SCALARS = {
    "tag:yaml.org,2002:int": "construct_yaml_int",
    "tag:yaml.org,2002:float": "construct_yaml_float",
    "tag:yaml.org,2002:bool": "construct_yaml_bool",
    "tag:yaml.org,2002:null": "construct_yaml_null",
}
# CloudFormation has no date type: `AWSTemplateFormatVersion: 2010-09-09` is a string.
_KEEP_AS_TEXT = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}


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
    #: the limits it was decoded under; rendering keeps to them too
    limits: Limits = field(default_factory=Limits, repr=False)

    @property
    def root(self) -> yaml.Node:
        """The libyaml node tree of `text`, composed on first use for JSON."""
        if self._root is None:
            self._root = _compose(self.text, self.source)
        return self._root


def read_template(path: str | Path, *, limits: Limits | None = None) -> Template:
    """Read and decode the template at `path`; any problem is a `TemplateError`."""
    limits = limits or Limits()
    name = str(path)
    try:
        size = Path(path).stat().st_size
        if size > limits.max_input_bytes:
            raise TemplateError(
                f"file is {size:,} bytes, over the {limits.max_input_bytes:,}-byte input limit "
                "(raise it with --max-input-bytes)",
                file=name,
            )
        data = Path(path).read_bytes()
    except TemplateError:
        raise
    except IsADirectoryError:
        raise TemplateError("is a directory, not a template file", file=name) from None
    except OSError as exc:
        raise TemplateError(f"cannot read: {exc.strerror or exc}", file=name) from None
    return decode_bytes(data, source=name, limits=limits)


def decode_bytes(data: bytes, *, source: str = "<input>", limits: Limits | None = None) -> Template:
    """Decode UTF-8 bytes (a byte-order mark is allowed) into a `Template`."""
    limits = limits or Limits()
    if len(data) > limits.max_input_bytes:
        raise TemplateError(
            f"input is {len(data):,} bytes, over the {limits.max_input_bytes:,}-byte input limit",
            file=source,
        )
    if b"\x00" in data[:8192]:
        raise TemplateError("binary data, not a template (contains NUL bytes)", file=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            file=source,
            line=line,
        ) from None
    return decode_text(text, source=source, limits=limits)


def decode_text(text: str, *, source: str = "<input>", limits: Limits | None = None, trusted: bool = False) -> Template:
    """Decode template text (YAML or JSON, told apart by content) into a `Template`.

    `trusted` skips the nesting pre-scan, for text this library rendered itself from a
    template that passed it.
    """
    with collector_paused():
        return _decode_text(text, source, limits or Limits(), trusted)


def _decode_text(text: str, source: str, limits: Limits, trusted: bool) -> Template:
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or len(text)] else "\n"
    if not text.strip():
        raise TemplateError("empty file, not a template", file=source)
    if text.lstrip()[:1] in ("{", "["):
        template = _decode_json(text, source, limits)
        if template is not None:
            template.bom, template.newline, template.limits = bom, newline, limits
            return template
    if not trusted:
        _guard_nesting(text, source, limits)
    root = _compose(text, source)
    model = _ModelBuilder(source, limits).build(root)
    _check_is_template(model, source, root)
    return Template(source, text, "yaml", model, bom, newline, root, limits)


def _decode_json(text: str, source: str, limits: Limits) -> Template | None:
    """Load JSON exactly; None when the text is not JSON but may still be YAML flow."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            raise _DuplicateKey()
        return result

    try:
        model = json.loads(text, object_pairs_hook=no_duplicates)
    except _DuplicateKey:
        # Compose with libyaml to name both lines of the duplicate key.
        _ModelBuilder(source, limits).build(_compose(text, source))
        raise TemplateError("duplicate key", file=source) from None  # pragma: no cover
    except json.JSONDecodeError as exc:
        try:
            yaml.compose(text, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, RecursionError):
            raise TemplateError(f"invalid JSON: {exc.msg}", file=source, line=exc.lineno, column=exc.colno) from None
        return None
    except RecursionError:
        raise TemplateError(f"nesting deeper than {limits.max_depth} levels (limit max_depth)", file=source) from None
    _check_depth(model, source, limits.max_depth)
    _check_is_template(model, source, None)
    return Template(source, text, "json", model)


class _DuplicateKey(Exception):
    pass


_BRACKETS = re.compile(r"[\[\]{}]")
_INDENT = re.compile(r"^[ ]{1000,}", re.MULTILINE)


def _guard_nesting(text: str, source: str, limits: Limits) -> None:
    """Refuse absurd nesting before libyaml composes it.

    libyaml's composer recurses in C: tens of thousands of nested brackets overflow the
    C stack and kill the process (no exception to catch).  Bracket depth (quotes
    ignored, so an over-estimate) and indentation bound the real depth cheaply.
    """
    guard = max(5000, limits.max_depth)
    if text.count("[") + text.count("{") <= guard and not _INDENT.search(text):
        return  # cannot nest deeper than the number of opening brackets
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group(0) in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > guard:
                line = text.count("\n", 0, match.start()) + 1
                raise TemplateError(f"nesting deeper than {guard:,} levels (limit max_depth)", file=source, line=line)
    for match in _INDENT.finditer(text):
        if len(match.group(0)) > 4 * guard:
            line = text.count("\n", 0, match.start()) + 1
            raise TemplateError(f"indentation deeper than {4 * guard:,} columns (limit max_depth)", file=source, line=line)


def _compose(text: str, source: str) -> yaml.Node:
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if mark is None:
            raise TemplateError(f"malformed YAML: {problem}", file=source) from None
        raise TemplateError(
            f"malformed YAML: {problem}", file=source, line=mark.line + 1, column=mark.column + 1
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters)
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise TemplateError(f"malformed YAML: {str(exc).splitlines()[0]}", file=source, line=line) from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"malformed YAML: {str(exc).splitlines()[0]}", file=source) from None
    except RecursionError:
        raise TemplateError("nesting too deep to parse", file=source) from None
    if root is None:
        raise TemplateError("empty document, not a template", file=source)
    return root


def _check_depth(value: Any, source: str, max_depth: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise TemplateError(f"nesting deeper than {max_depth} levels (limit max_depth)", file=source)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _check_is_template(model: Any, source: str, root: yaml.Node | None) -> None:
    line = root.start_mark.line + 1 if root is not None else None
    if not isinstance(model, dict):
        kind = "a list" if isinstance(model, list) else "a single value"
        raise TemplateError(f"not a CloudFormation template: the document is {kind}, not a mapping", file=source, line=line)
    if "Resources" not in model:
        raise TemplateError("not a CloudFormation template: no Resources section", file=source, line=line)
    resources = model["Resources"]
    if not isinstance(resources, dict):
        raise TemplateError("Resources must be a mapping of logical ids to resources", file=source, line=line)
    for logical_id, resource in resources.items():
        if str(logical_id).startswith("Fn::ForEach::"):
            continue  # a loop of the AWS::LanguageExtensions transform: [name, collection, body]
        if not isinstance(resource, dict):
            raise TemplateError(f"resource {logical_id!r} must be a mapping", file=source)
        if "Type" not in resource:
            raise TemplateError(f"resource {logical_id!r} has no Type", file=source)


class _ModelBuilder:
    """Builds the long-form model from a libyaml node tree.

    Aliases are shared node objects in the tree; the built value is reused, and the
    expanded size is counted so that an alias bomb stops at `limits.max_nodes`.
    """

    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.constructor = yaml.SafeLoader("")  # for YAML 1.1 int/float/bool scalars
        self.memo: dict[int, tuple[Any, int]] = {}
        self.count = 0

    def error(self, node: yaml.Node, message: str) -> TemplateError:
        return TemplateError(message, file=self.source, line=node.start_mark.line + 1, column=node.start_mark.column + 1)

    def build(self, root: yaml.Node) -> Any:
        try:
            return self.value(root, 1)
        except RecursionError:
            raise self.error(root, "nesting too deep to load") from None

    def value(self, node: yaml.Node, depth: int) -> Any:
        if depth > self.limits.max_depth:
            raise self.error(node, f"nesting deeper than {self.limits.max_depth} levels (limit max_depth)")
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise self.error(node, f"document expands to more than {self.limits.max_nodes:,} values (alias bomb? limit max_nodes)")
        tag = node.tag
        if tag.startswith("!"):
            return self.intrinsic(node, tag, depth)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, tag)
        key = id(node)
        cached = self.memo.get(key)
        if cached is not None:
            value, size = cached
            self.count += size
            if self.count > self.limits.max_nodes:
                raise self.error(node, f"document expands to more than {self.limits.max_nodes:,} values (alias bomb? limit max_nodes)")
            return value
        before = self.count
        if isinstance(node, yaml.MappingNode):
            value = self.mapping(node, depth)
        else:
            value = [self.value(item, depth + 1) for item in node.value]
        self.memo[key] = (value, self.count - before)
        return value

    def scalar(self, node: yaml.ScalarNode, tag: str) -> Any:
        if tag == _STR or tag in _KEEP_AS_TEXT:
            return node.value
        method = _NATIVE_SCALARS.get(tag)
        if method is None:
            raise self.error(node, f"unsupported YAML tag {tag!r}")
        return getattr(self.constructor, method)(node)

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, "a mapping key must be a plain value, not a list or mapping")
            key = key_node.value
            if key in result:
                raise self.error(key_node, f"duplicate key {key!r} (first at line {lines[key]})")
            lines[key] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, depth + 1)
        return result

    def intrinsic(self, node: yaml.Node, tag: str, depth: int) -> dict[str, Any]:
        long_name = long_name_of_tag(tag)
        if long_name is None:
            raise self.error(node, f"unknown tag {tag} (CloudFormation knows {', '.join(sorted(SHORT_TAGS))})")
        if isinstance(node, yaml.ScalarNode):
            if long_name == "Fn::GetAtt":
                parts = split_getatt(node.value)
                if len(parts) != 2 or not all(parts):
                    raise self.error(node, f"!GetAtt needs Resource.Attribute, got {node.value!r}")
                return {long_name: parts}
            return {long_name: node.value}
        if isinstance(node, yaml.MappingNode):
            return {long_name: self.mapping(node, depth + 1)}
        return {long_name: [self.value(item, depth + 1) for item in node.value]}
