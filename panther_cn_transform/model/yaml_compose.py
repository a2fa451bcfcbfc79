"""YAML text to libyaml's node tree, and the nesting guard that must run before libyaml composes untrusted text.

Why one module: composing is the step the decode, the render check and the nesting guard
of rule files share, and the step a transform's speed rests on.  libyaml composes in C
(~10x faster than a ruamel.yaml round trip); here it reads the text a piece at a time,
with a tag resolver and path-resolver hooks cut down to what it needs (`_Loader`: the
same tags as `CSafeLoader`).  The guard lives beside the composer it protects: libyaml
recurses in C, and absurd nesting would overflow the C stack and kill the process.
`first_character` tells a JSON text from a YAML one without copying it.
"""

from __future__ import annotations

import operator
import re

import yaml

from ..errors import TemplateError
from ..limits import Limits

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"


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
JSON_STARTS = ("{", "[")  # a text whose content starts so is read as JSON first


def first_character(text: str) -> str:
    """The first character after leading whitespace ("" for whitespace alone): `text.lstrip()[:1]` without copying the text.

    Why: a 1 MB copy is fresh memory, and its page faults cost as much as the copy; the
    decode and the render check each ask this of a whole template.
    """
    start = _LEADING_SPACE.match(text).end()  # type: ignore[union-attr]  # `\s*` always matches
    return text[start : start + 1]


_RESOLVED_BY_FIRST_CHARACTER = frozenset(key for key in yaml.resolver.Resolver.yaml_implicit_resolvers if key)
_COLLECTION_TAGS: dict[type[yaml.Node], str] = {yaml.MappingNode: MAP, yaml.SequenceNode: SEQ}


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
                _scalar: type[yaml.Node] = yaml.ScalarNode, _first: frozenset[str] = _RESOLVED_BY_FIRST_CHARACTER, _str: str = STR,
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


def compose(text: str, source: str) -> yaml.Node:
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
