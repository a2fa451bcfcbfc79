"""Decode template text into a CloudFormation model, remembering where everything is.

Why two views: rules want plain long-form data (dicts, lists, strings) in which `!Ref X`
and `{"Ref": "X"}` are equal; rendering wants the exact source span of every node so that
an edit changes only the characters it must.  YAML is composed once with libyaml (the C
parser, ~10x faster than a ruamel.yaml round trip) and the model is built from the node
tree, which is kept for rendering.  JSON is loaded by the `json` module (exact JSON number
semantics); its node tree is composed with libyaml only if an edit needs rendering.
"""

from __future__ import annotations

import bisect
import json
import operator
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in typeshed
from pathlib import Path
from typing import Any, Literal

import yaml

from .._gc import collector_paused
from ..errors import TemplateError
from ..files import read_limited
from ..limits import Limits
from .intrinsics import SHORT_TAGS, long_name_of_tag, split_getatt

Format = Literal["yaml", "json"]
JsonPath = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_INT = "tag:yaml.org,2002:int"
_NATIVE_SCALARS = {
    "tag:yaml.org,2002:int": "construct_yaml_int",
    "tag:yaml.org,2002:float": "construct_yaml_float",
    "tag:yaml.org,2002:bool": "construct_yaml_bool",
    "tag:yaml.org,2002:null": "construct_yaml_null",
}
#: Standard tags whose scalars are read as their text.  CloudFormation has no date type:
#: `AWSTemplateFormatVersion: 2010-09-09` is a string.
TEXT_TAGS = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})


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
                    self._root = _compose(self.text, self.source)
                except TemplateError:  # valid JSON that libyaml refuses (a key over 1,024 characters)
                    self._root = compose_json(self.text, self.source)
            else:
                self._root = _compose(self.text, self.source)
        return self._root


def read_template(path: str | Path, *, limits: Limits | None = None) -> Template:
    """Read and decode the template at `path` (`-`: standard input); any problem is a `TemplateError`.

    Only a regular file or standard input is read, and never more than the input limit
    (files.read_limited): `/dev/zero` or a FIFO is refused instead of read forever.
    """
    limits = limits or Limits()
    name = "<stdin>" if str(path) == "-" else str(path)
    data = read_limited(path, limits.max_input_bytes, error=TemplateError, name=name, what="template file")
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
    with collector_paused():
        return _decode_text(text, source, limits, trusted=False)


def decode_text(text: str, *, source: str = "<input>", limits: Limits | None = None, trusted: bool = False) -> Template:
    """Decode template text (YAML or JSON, told apart by content) into a `Template`.

    `trusted` skips the size check and the nesting pre-scan, for text this library
    rendered itself from a template that passed them.
    """
    limits = limits or Limits()
    if not trusted:
        _check_size(text, source, limits)
    with collector_paused():
        return _decode_text(text, source, limits, trusted)


def yaml_decodes_to(text: str, model: dict[str, Any], *, source: str = "<input>", limits: Limits | None = None) -> bool:
    """True when YAML `text` is shown to decode to exactly `model`, without building its model.

    Why: the render check re-parses every rendered template whole.  Building a second
    model only to compare it with the planned one, and freeing it, took about 2.5 ms more
    of a 1 MB transform (benchmark ratio 2.07 against 2.01 with this): the comparison
    walked both models in memory the decode had left cold.  Here the node tree is
    compared with `model` in place.

    True means what `decode_text(text, trusted=True).model == model` means: the text
    parses, passes the same limits and template checks, and loads equal.  False is no
    verdict: text that would be decoded as JSON, and any mapping whose keys are not in
    `model`'s order, are left to a full decode, which also says what differs.
    """
    limits = limits or Limits()
    if text.startswith("\ufeff") or _first_character(text) in _JSON_STARTS:
        return False
    with collector_paused():
        try:
            root = _compose(text, source)
        except TemplateError:
            return False
        builder = _ModelBuilder(source, limits)
        try:
            if not builder.matches(root, model, 1):
                return False
            _check_is_template(model, source, root)
        except (TemplateError, RecursionError):
            return False
        finally:
            builder.constructor.dispose()
    return True


def _check_size(text: str, source: str, limits: Limits) -> None:
    """`max_input_bytes` for text: its UTF-8 size, encoded only when the character count cannot decide.

    An ASCII text (`isascii` reads a flag) has as many bytes as characters.
    """
    size, exact = len(text), text.isascii()
    if not exact and size <= limits.max_input_bytes < 4 * size:
        size, exact = len(text.encode("utf-8", "surrogatepass")), True
    if size > limits.max_input_bytes:
        at_least = "" if exact else "at least "
        raise TemplateError(f"input is {at_least}{size:,} bytes, over the {limits.max_input_bytes:,}-byte input limit", file=source)


def _decode_text(text: str, source: str, limits: Limits, trusted: bool) -> Template:
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or len(text)] else "\n"
    first = _first_character(text)
    if not first:
        raise TemplateError("empty file, not a template", file=source)
    if first in _JSON_STARTS:
        template = _decode_json(text, source, limits)
        if template is not None:
            template.bom, template.newline, template.limits = bom, newline, limits
            return template
    if not trusted:
        guard_nesting(text, source, limits)
    root = _compose(text, source)
    builder = _ModelBuilder(source, limits, record_strings=True)
    model = builder.build(root)
    _check_is_template(model, source, root)
    return Template(source, text, "yaml", model, bom, newline, root, limits, builder.recorded_strings())


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
        raise TemplateError(f"nesting deeper than {limits.max_depth} levels (raise the limit with --max-depth N)", file=source) from None
    except ValueError as exc:  # not a syntax error: a number Python refuses (over 4,300 digits)
        digits = _LONG_NUMBER.search(text)
        line, column = (_line_column(text, digits.start()) if digits else (None, None))
        raise TemplateError(f"number not supported: {_number_problem(exc)}", file=source, line=line, column=column) from None
    _check_depth(model, source, limits.max_depth)
    _check_is_template(model, source, None)
    return Template(source, text, "json", model, limits=limits)


def _is_plain_decimal(text: str) -> bool:
    """Digits only, no leading zero (YAML 1.1 reads `0777` as octal), short enough for any int conversion."""
    return text.isascii() and text.isdigit() and (text[0] != "0" or text == "0") and len(text) < 4000


class _DuplicateKey(Exception):
    pass


_LONG_NUMBER = re.compile(r"\d{4301,}")


def _line_column(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _number_problem(exc: ValueError) -> str:
    message = str(exc)
    match = re.search(r"value has (\d+) digits", message)
    if "Exceeds the limit" in message and match:
        return f"an integer of {int(match.group(1)):,} digits (more than the 4,300 digits Python converts)"
    return message.splitlines()[0] if message else type(exc).__name__


_BRACKETS = re.compile(r"[\[\]{}]")
_INDENT = re.compile(r"^[ ]{1000,}", re.MULTILINE)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_CHUNK = 512  # brackets per step of the cheap depth bound: what the bound may exceed the depth by
_SLICE = 1 << 16  # characters encoded at a time to find the brackets


def guard_nesting(text: str, source: str, limits: Limits) -> None:
    """Refuse absurd nesting before libyaml composes it.

    libyaml's composer recurses in C: tens of thousands of nested brackets overflow the
    C stack and kill the process (no exception to catch).  Bracket depth (quotes
    ignored, so an over-estimate) and indentation bound the real depth cheaply.

    Cheap first: the depth inside a stretch of text is at most the depth where it starts
    plus the opening brackets in it, and both are counts in C, over the brackets alone.
    Only when that bound exceeds the limit are the brackets walked one by one (for the
    exact depth and its line).
    """
    guard = max(5000, limits.max_depth)
    if _bracket_bound(text) > guard:  # only a bound: the exact depth may still be within the limit
        _deepest_bracket(text, source, guard)
    if " " * (4 * guard + 1) in text:  # only then can a line be indented that deep
        for match in _INDENT.finditer(text):
            if len(match.group(0)) > 4 * guard:
                line = text.count("\n", 0, match.start()) + 1
                raise TemplateError(f"indentation deeper than {4 * guard:,} columns (raise the limit with --max-depth N)", file=source, line=line)


def _bracket_bound(text: str) -> int:
    """An upper bound of the bracket depth anywhere in `text` (no closing bracket below zero), at most `_CHUNK` above it.

    The brackets are first taken out in their order (`bytes.translate` deletes every other
    byte in one pass in C; UTF-8 writes other characters without these bytes), a slice of
    the text at a time: one encoding of a whole 1 MB text is fresh memory on every call,
    whose page faults cost as much as the pass.  That and the counts over the few bytes
    left take a third of the time of four counts over the text (0.45 against 1.47 ms).
    """
    brackets = b"".join([text[start:start + _SLICE].encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
                         for start in range(0, len(text), _SLICE)])
    depth = bound = 0
    for start in range(0, len(brackets), _CHUNK):
        end = start + _CHUNK
        opening = brackets.count(b"[", start, end) + brackets.count(b"{", start, end)
        bound = max(bound, depth + opening)
        depth = max(0, depth + opening - brackets.count(b"]", start, end) - brackets.count(b"}", start, end))
    return bound


def _deepest_bracket(text: str, source: str, guard: int) -> None:
    """Walk the brackets; raise at the first one deeper than `guard`."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group(0) in "[{" else -1
        if depth > guard:
            line = text.count("\n", 0, match.start()) + 1
            raise TemplateError(f"nesting deeper than {guard:,} levels (raise the limit with --max-depth N)", file=source, line=line)


_LEADING_SPACE = re.compile(r"\s*")  # the whitespace `str.strip` removes (the same characters as `str.isspace`)
_JSON_STARTS = ("{", "[")  # a text whose content starts so is read as JSON first


def _first_character(text: str) -> str:
    """The first character after leading whitespace ("" for whitespace alone): `text.lstrip()[:1]` without copying the text.

    Why: a 1 MB copy is fresh memory, and its page faults cost as much as the copy; the
    decode and the render check each ask this of a whole template.
    """
    start = _LEADING_SPACE.match(text).end()  # type: ignore[union-attr]  # `\s*` always matches
    return text[start : start + 1]
_RESOLVED_BY_FIRST_CHARACTER = frozenset(key for key in yaml.resolver.Resolver.yaml_implicit_resolvers if key)
_COLLECTION_TAGS: dict[type[yaml.Node], str] = {yaml.MappingNode: _MAP, yaml.SequenceNode: _SEQ}


class _Loader(yaml.CSafeLoader):
    """libyaml's loader with a faster implicit-tag resolver; the same tags as `CSafeLoader`.

    Why: libyaml composes in C but asks Python for the tag of every plain scalar, and
    PyYAML's resolver builds a list and tries regular expressions each time: about a
    sixth of a compose.  A plain scalar whose first character starts no implicit type
    (most keys and strings) is a string; the others are resolved as PyYAML does, once
    per distinct text.  A collection without a tag gets PyYAML's default tag directly,
    and the path-resolver hooks libyaml calls around every node do nothing, in C
    (tests/test_hostile.py compares the trees with CSafeLoader's on the corpus and on
    generated scalars and collections).
    """

    def __init__(self, stream: str | _Pieces) -> None:
        super().__init__(stream)
        self._resolved: dict[str, str] = {}

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool],
                _scalar: type[yaml.Node] = yaml.ScalarNode, _first: frozenset[str] = _RESOLVED_BY_FIRST_CHARACTER, _str: str = _STR,
                _collections: dict[type[yaml.Node], str] = _COLLECTION_TAGS) -> str:
        # the constants are bound as defaults: libyaml calls this for every scalar of the decode and of
        # the render check (about 28,000 calls for a 1 MB template), and their lookups were a quarter of it
        if kind is _scalar and value is not None:
            if not implicit[0] or (value and value[0] not in _first):
                return _str
            tag = self._resolved.get(value)
            if tag is None:
                tag = self._resolved[value] = super().resolve(kind, value, (True, False))  # type: ignore[no-untyped-call]
            return tag
        # a mapping or a sequence without a tag: PyYAML's default, as its resolver gives it with no path resolvers
        return _collections.get(kind) or super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    # libyaml calls these two around every node (about 15,000 times per compose of a 1 MB template) to
    # track path resolvers.  None are registered, so there is nothing to track: a C function that does
    # nothing and returns (`operator.is_`, `tuple`) costs a third of the call of a Python method.
    descend_resolver = staticmethod(operator.is_)  # type: ignore[assignment]  # (current_node, current_index); its value is ignored
    ascend_resolver = staticmethod(tuple)  # type: ignore[assignment]  # (); its value is ignored


class _Pieces:
    """`text` as the file libyaml's reader asks for: `read(size)` gives its next `size` characters."""

    name = "<unicode string>"  # the name libyaml's marks and errors give a text read whole

    def __init__(self, text: str) -> None:
        self._text = text
        self._position = 0

    def read(self, size: int = -1) -> str:
        start = self._position
        self._position = start + size if size >= 0 else len(self._text)
        return self._text[start : self._position]


def compose_yaml(text: str) -> yaml.Node | None:
    """libyaml's node tree of `text` (None for an empty stream), as `yaml.compose` with `CSafeLoader` gives it.

    libyaml reads the text through `_Pieces`, a piece at a time: given the text whole, it
    would first copy all of it as UTF-8, which for a 1 MB template is fresh memory on
    every call (its page faults cost about half a millisecond, twice per transform).
    """
    loader = _Loader(_Pieces(text))
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _compose(text: str, source: str) -> yaml.Node:
    try:
        root = compose_yaml(text)
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
    """No value of a loaded JSON model deeper than `max_depth` (the root is at depth 1).

    A container at the limit with any child is too deep, whatever the child (most values
    are strings, and this walk runs on every JSON decode): only containers are visited.
    Recursive, a third of the time of a walk with a stack; a limit deeper than Python's
    recursion allows falls back to the stack.
    """
    try:
        if type(value) is dict or type(value) is list:
            _check_depth_below(value, 1, source, max_depth)
            return
    except RecursionError:
        pass
    _check_depth_with_stack(value, source, max_depth)  # and a scalar, at depth 1


def _check_depth_below(node: Any, depth: int, source: str, max_depth: int) -> None:
    """`_check_depth`'s recursive walk (a module function: a closure calling itself is a reference cycle)."""
    if depth >= max_depth and (node or depth > max_depth):
        raise TemplateError(f"nesting deeper than {max_depth} levels (raise the limit with --max-depth N)", file=source)
    for child in node.values() if type(node) is dict else node:
        if type(child) is dict or type(child) is list:  # json.loads makes no subclasses
            _check_depth_below(child, depth + 1, source, max_depth)


def _check_depth_with_stack(value: Any, source: str, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if depth >= max_depth and (depth > max_depth or children):
            raise TemplateError(f"nesting deeper than {max_depth} levels (raise the limit with --max-depth N)", file=source)
        stack.extend([(child, depth + 1) for child in children if isinstance(child, (dict, list))])


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


#: A top-level key only a template has: at the start of a line in YAML, anywhere as a JSON key.
_YAML_TEMPLATE_KEY = re.compile(rb"""^["']?(?:AWSTemplateFormatVersion|Resources)["']?[ \t]*:""", re.MULTILINE)
_JSON_TEMPLATE_KEY = re.compile(rb'"(?:AWSTemplateFormatVersion|Resources)"\s*:')


def looks_like_template(data: bytes) -> bool:
    """Whether `data` claims to be a CloudFormation template, even if it does not decode.

    True when it has a top-level `Resources` or `AWSTemplateFormatVersion` key: written at
    the start of a line in YAML (an indented one belongs to another format, such as the
    `resources:` block of a Serverless Framework file), anywhere in JSON.  `--check` over
    many files skips a file that does not decode and does not claim to be a template (a
    README, a Helm chart), and fails on one that does (a template with a syntax error).

    >>> looks_like_template(b"# Title\\n\\nSome: text [\\n"), looks_like_template(b"Resources:\\n  R: [x\\n")
    (False, True)
    >>> looks_like_template(b'{"AWSTemplateFormatVersion": "2010-09-09", }')
    True
    """
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    pattern = _JSON_TEMPLATE_KEY if body.startswith(b"{") else _YAML_TEMPLATE_KEY
    return pattern.search(body) is not None


def _check_is_template(model: Any, source: str, root: yaml.Node | None) -> None:
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


class _ModelBuilder:
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
        self.max_depth, self.max_nodes = limits.max_depth, limits.max_nodes  # read for every node

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
        tag = node.tag
        if tag[:1] == "!":
            return self.intrinsic(node, tag, depth)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, tag)
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
        tag, a number) is built by `value` and compared with `==`.  False also when unsure:
        a mapping whose keys are in another order than `expected`'s, or a limit reached
        (`value` would raise there, or a full decode finds the difference).

        The mapping and sequence loops are written out apart, as in `mapping` and `items`:
        one loop over the values after a pass over the keys took a fifth longer (1 ms of a
        1 MB transform).
        """
        if depth > self.max_depth:
            return False
        node_class = node.__class__
        if node.tag[:1] == "!" or (node_class is yaml.ScalarNode and node.tag != _STR):
            return bool(self.value(node, depth) == expected)
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
                if inline and value_node.__class__ is yaml.ScalarNode and value_node.tag == _STR:
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
                if inline and item.__class__ is yaml.ScalarNode and item.tag == _STR:
                    self.count += 1
                    if self.count > limit or item.value != value:
                        return False
                elif not self.matches(item, value, depth + 1):
                    return False
            return True
        return False  # a plain string here is a document of one string (never a template) or past the depth limit

    def too_many(self, node: yaml.Node) -> TemplateError:
        return self.error(node, f"document expands to more than {self.limits.max_nodes:,} values (an alias bomb? raise the limit with --max-nodes N)")

    def scalar(self, node: yaml.ScalarNode, tag: str) -> Any:
        if tag == _STR or tag in TEXT_TAGS:
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
                raise self.error(node, f"number not supported: {_number_problem(exc)}") from None
            raise self.error(node, f"{_shorten(node.value)!r} is not a valid {kind} (tag !!{kind})") from None

    def mapping(self, node: yaml.MappingNode, depth: int, _scalar: type[yaml.Node] = yaml.ScalarNode, _str: str = _STR) -> dict[str, Any]:
        """The entries of a mapping; a plain string value (most of a template) is taken inline.

        The inline path does exactly what `value` does for such a node (count it, check
        the limits) without the call: it is most of the decode's Python time.  So the count
        is kept in a local between the calls, and the constants are bound as defaults.
        """
        result: dict[str, Any] = {}
        inline = depth < self.max_depth
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

    def items(self, node: yaml.Node, depth: int, _scalar: type[yaml.Node] = yaml.ScalarNode, _str: str = _STR) -> list[Any]:
        """The items of a sequence (plain strings inline, as in `mapping`)."""
        result: list[Any] = []
        inline = depth < self.max_depth
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


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def compose_json(text: str, source: str) -> yaml.Node:
    """The node tree libyaml would compose for valid JSON `text`, built without libyaml.

    Why: libyaml refuses a mapping key longer than 1,024 characters (YAML's limit on
    implicit keys), so valid JSON with such a key could not be rendered.  The nodes here
    have the same tags (YAML 1.1 resolution, as libyaml's loader uses), styles and
    marks as libyaml's (tests/model/test_decode.py compares them on every corpus JSON
    template).  Iterative, so nesting depth costs no Python stack.  `text` must already
    be known to be valid JSON (json.loads accepted it).
    """
    line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]  # libyaml's line breaks, for equal marks
    resolver = yaml.SafeLoader("")

    def mark(index: int) -> yaml.Mark:
        line = bisect.bisect_right(line_starts, index) - 1
        return yaml.Mark("<unicode string>", index, line, index - line_starts[line], None, None)  # type: ignore[arg-type]  # as libyaml's

    def scalar(index: int) -> tuple[yaml.ScalarNode, int]:
        if text[index] == '"':
            value, end = scanstring(text, index + 1)
            return yaml.ScalarNode(_STR, value, mark(index), mark(end), style='"'), end
        for literal in ("true", "false", "null"):
            if text.startswith(literal, index):
                value, end = literal, index + len(literal)
                break
        else:
            number = _JSON_NUMBER.match(text, index)
            assert number is not None, "compose_json needs valid JSON"
            value, end = number.group(0), number.end()
        tag: str = resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        return yaml.ScalarNode(tag, value, mark(index), mark(end), style=""), end

    def space(index: int) -> int:
        found = _JSON_SPACE.match(text, index)
        return found.end() if found else index

    root: yaml.Node | None = None
    open_nodes: list[tuple[yaml.CollectionNode, list[yaml.Node]]] = []  # node, [pending key]
    index = space(0)
    want_value = True
    while True:
        if want_value:
            if open_nodes and isinstance(open_nodes[-1][0], yaml.MappingNode) and not open_nodes[-1][1]:
                key, index = scalar(index)
                index = space(space(index) + 1)  # the ':'
                open_nodes[-1][1].append(key)
            node: yaml.Node
            if text[index] in "{[":
                collection: yaml.CollectionNode
                if text[index] == "{":
                    collection = yaml.MappingNode(_MAP, [], mark(index), None, flow_style=True)
                else:
                    collection = yaml.SequenceNode(_SEQ, [], mark(index), None, flow_style=True)
                _attach(open_nodes, collection)
                root = root or collection
                open_nodes.append((collection, []))
                index = space(index + 1)
                want_value = text[index] not in "}]"
                continue
            node, index = scalar(index)
            _attach(open_nodes, node)
            root = root or node
            index = space(index)
            want_value = False
            continue
        if not open_nodes:
            break
        if text[index] == ",":
            index = space(index + 1)
            want_value = True
            continue
        finished, _pending = open_nodes.pop()  # '}' or ']'
        finished.end_mark = mark(index + 1)
        index = space(index + 1)
    assert root is not None
    return root


def _attach(open_nodes: list[tuple[yaml.CollectionNode, list[yaml.Node]]], node: yaml.Node) -> None:
    if not open_nodes:
        return
    parent, pending = open_nodes[-1]
    if isinstance(parent, yaml.MappingNode):
        parent.value.append((pending.pop(), node))
    else:
        parent.value.append(node)
