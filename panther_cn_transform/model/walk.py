"""Traversals of the long-form model that every action shares."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .paths import JsonPath


def mentions(value: Any, text: str) -> bool:
    """Whether a string inside `value` (not a mapping key) contains `text`; stops at the first.

    Why: several rules ask only whether some string of a property names a bucket or `s3`
    at all before they look closer; this answers without building the paths.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if text in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def iter_strings(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every string value (not mapping keys) with its path, in document order."""
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, str):
            yield here, item
        elif isinstance(item, dict):
            stack.extend(reversed([(here + (key,), child) for key, child in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(here + (index,), child) for index, child in enumerate(item)]))


def strings_and_mappings(value: Any) -> tuple[list[tuple[JsonPath, str]], list[tuple[JsonPath, dict[str, Any]]]]:
    """Every string value (as `iter_strings`) and every mapping with its path, both in document order.

    One walk for both, and a recursive one (half the time of the stack walk); a model
    nested deeper than Python's recursion allows is walked with the stack instead.
    """
    strings: list[tuple[JsonPath, str]] = []
    mappings: list[tuple[JsonPath, dict[str, Any]]] = []
    if isinstance(value, str):
        strings.append(((), value))
    elif isinstance(value, (dict, list)):
        try:
            _visit(value, (), strings.append, mappings.append)
        except RecursionError:
            strings = list(iter_strings(value))
            mappings = [(path, node) for path, node in _iter_nodes(value) if isinstance(node, dict)]
    return strings, mappings


def _visit(node: Any, path: JsonPath, add_string: Callable[[tuple[JsonPath, str]], None],
           add_mapping: Callable[[tuple[JsonPath, dict[str, Any]]], None]) -> None:
    """`strings_and_mappings`' walk below `node`.

    A module function, not a closure: a closure that calls itself is a reference cycle,
    which kept both lists (and every mapping they name) alive until the cyclic collector
    ran, and the command line holds the collector off until it exits.
    """
    if isinstance(node, dict):
        add_mapping((path, node))
        pairs: Any = node.items()
    else:
        pairs = enumerate(node)
    for key, child in pairs:
        kind = type(child)  # the exact types first (all a decoded model holds): an eighth of the walk
        if kind is not str and kind is not dict and kind is not list:
            if not isinstance(child, (str, dict, list)):
                continue  # a number, a boolean, null
            kind = str if isinstance(child, str) else dict  # a subclass is walked as its base
        if kind is str:
            add_string((path + (key,), child))
        else:
            _visit(child, path + (key,), add_string, add_mapping)


def _iter_nodes(value: Any) -> list[tuple[JsonPath, Any]]:
    found: list[tuple[JsonPath, Any]] = []
    stack: list[tuple[JsonPath, Any]] = [((), value)]
    while stack:
        here, item = stack.pop()
        found.append((here, item))
        if isinstance(item, dict):
            stack.extend(reversed([(here + (key,), child) for key, child in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(here + (index,), child) for index, child in enumerate(item)]))
    return found


def is_sub_template(path: JsonPath) -> bool:
    """True when the string at `path` is the template string of an `Fn::Sub`."""
    return bool(path) and (path[-1] == "Fn::Sub" or (len(path) > 1 and path[-2] == "Fn::Sub" and path[-1] == 0))


#: Intrinsics whose arguments are logical names or keys, never free text to rewrite.
NAME_ARGUMENTS = frozenset({"Ref", "Fn::GetAtt", "Condition", "Fn::FindInMap"})


def under_name_argument(path: JsonPath) -> bool:
    """True when the path goes through an intrinsic whose arguments are names (Ref, GetAtt...)."""
    return any(part in NAME_ARGUMENTS for part in path if isinstance(part, str))


#: An AWS region name (`us-west-1`, `cn-northwest-1`, `us-gov-east-1`, `us-isob-east-1`), as a regex fragment.
REGION_PATTERN = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"
_REGION = re.compile(f"^{REGION_PATTERN}$")


def is_region(text: str) -> bool:
    """True when `text` is a region name such as `us-west-1`."""
    return bool(_REGION.match(text))


def semantic_path(path: JsonPath) -> JsonPath:
    """`path` without intrinsic-function steps: where the value sits in the template's meaning.

    `(..., "Service", 0, "Fn::Join", 1, 2)` becomes `(..., "Service", 0)`, so that a rule
    asks "is this a service principal?" the same way for plain strings, Subs and Joins.
    """
    kept: list[str | int] = []
    skipping = False
    for part in path:
        if isinstance(part, str) and part.startswith("Fn::"):
            skipping = True
            continue
        if skipping and isinstance(part, int):
            continue
        skipping = False
        kept.append(part)
    return tuple(kept)


_PRINCIPAL_CONDITION_KEYS = frozenset({"iam:PassedToService", "aws:PrincipalServiceName", "iam:AWSServiceName"})


def is_service_principal(path: JsonPath) -> bool:
    """True where a string names a service principal, not an endpoint.

    Trust and resource policies (`Principal: {Service: ...}`), a Lambda permission's
    `Principal`, a service-linked role's `AWSServiceName`, and condition values of
    `iam:PassedToService` and friends.
    """
    keys = meaning_keys(path)[-2:]
    if not keys:
        return False
    last = keys[-1]
    if last in ("Principal", "AWSServiceName", "ServicePrincipal") or last in _PRINCIPAL_CONDITION_KEYS:
        return True
    return last == "Service" and len(keys) > 1 and keys[-2] == "Principal"


def meaning_keys(path: JsonPath) -> list[str]:
    """The mapping keys of `semantic_path(path)`: its string steps that do not name an intrinsic.

    Why: most questions about where a string sits ask only for keys; this skips building
    the semantic path (its list indexes are not keys, and it keeps every other key).
    """
    return [part for part in path if isinstance(part, str) and not part.startswith("Fn::")]


_TEXT_KEYS = frozenset({"Description", "ConstraintDescription"})


def is_text_field(path: JsonPath) -> bool:
    """True for prose CloudFormation never interprets: descriptions and the template's Metadata.

    Such text may be rewritten for consistency, but what it mentions is never a finding.
    """
    if path and path[0] == "Metadata":
        return True
    return last_meaning(path) in _TEXT_KEYS


def last_meaning(path: JsonPath) -> str | int | None:
    """`semantic_path(path)[-1]` (None when it is empty), read from the end of `path`.

    Why: rules ask it of most strings they look at; the whole semantic path is not needed.
    An int is an intrinsic's argument index (dropped) when the nearest key before it
    names an intrinsic, else a list index (kept).
    """
    index = len(path) - 1
    while index >= 0:
        part = path[index]
        if isinstance(part, str):
            if not part.startswith("Fn::"):
                return part
            index -= 1
            continue
        before = index - 1
        while before >= 0 and isinstance(path[before], int):
            before -= 1
        if before < 0 or not str(path[before]).startswith("Fn::"):
            return part
        index = before - 1  # the ints after that intrinsic are all its arguments, and it is no meaning either
    return None


def leading_meaning(path: JsonPath, length: int) -> JsonPath:
    """`semantic_path(path)[:length]`, read from the start of `path`.

    Why: a rule that asks where a string sits (a resource property: `Resources`, id,
    `Properties`, name) needs only the first steps, and the path's own first steps are
    their meaning when none of them names an intrinsic (the semantic path drops nothing
    before the first one).
    """
    head = path[:length]
    for part in head:
        if isinstance(part, str) and part.startswith("Fn::"):
            return semantic_path(path)[:length]
    return head


def in_mapping_for_elsewhere(path: JsonPath, regions: Iterable[str], partition: str, partitions: Iterable[str]) -> bool:
    """True inside a Mapping entry keyed by a region outside `regions` or by another partition.

    `!FindInMap [M, !Ref AWS::Region, K]` never reads such an entry in the target
    partition: it is data for elsewhere, neither ported nor reported.
    """
    if len(path) < 3 or path[0] != "Mappings":
        return False
    keys = [key for key in path[2:4] if isinstance(key, str)]
    here = set(regions)
    return any((is_region(key) and key not in here) or (key in partitions and key != partition) for key in keys)


@dataclass(frozen=True)
class JoinView:
    """The whole string an `Fn::Join` part belongs to, intrinsic parts written as `${...}` placeholders."""

    text: str
    start: int  # where this part starts in `text`
    end: int


def join_view(model: Any, path: JsonPath) -> JoinView | None:
    """The `JoinView` of the string at `path`, or None when it is not a literal part of an `Fn::Join`."""
    if len(path) < 3 or path[-3] != "Fn::Join" or path[-2] != 1 or not isinstance(path[-1], int):
        return None
    node = model
    for part in path[:-3]:
        node = node[part]
    args = node.get("Fn::Join") if isinstance(node, dict) else None
    if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], list):
        return None
    delimiter, parts = args
    texts = [part if isinstance(part, str) else _placeholder(part) for part in parts]
    if not 0 <= path[-1] < len(texts):
        return JoinView(delimiter.join(texts), 0, 0)
    start = sum(map(len, texts[: path[-1]])) + len(delimiter) * path[-1]
    return JoinView(delimiter.join(texts), start, start + len(texts[path[-1]]))


class JoinViews:
    """`join_view` for many parts of the same `Fn::Join`s: each Join's text and part offsets are built once.

    Why: a view per part rebuilt the whole joined text, so looking at every part of one
    Join was quadratic in its parts (a 150,000-line UserData written as a Join of lines).
    Valid for one model: a rule makes one over the model it reads before it edits.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._joins: dict[JsonPath, tuple[str, list[int], list[int]] | None] = {}

    def view(self, path: JsonPath) -> JoinView | None:
        """What `join_view(model, path)` gives."""
        if len(path) < 3 or path[-3] != "Fn::Join" or path[-2] != 1 or not isinstance(path[-1], int):
            return None
        key = path[:-2]
        if key not in self._joins:
            self._joins[key] = self._build(key[:-1])
        built = self._joins[key]
        if built is None:
            return None
        text, starts, ends = built
        index = path[-1]
        if not 0 <= index < len(starts):
            return JoinView(text, 0, 0)
        return JoinView(text, starts[index], ends[index])

    def _build(self, holder: JsonPath) -> tuple[str, list[int], list[int]] | None:
        node = self.model
        for part in holder:
            node = node[part]
        args = node.get("Fn::Join") if isinstance(node, dict) else None
        if not isinstance(args, list) or len(args) != 2 or not isinstance(args[0], str) or not isinstance(args[1], list):
            return None
        delimiter, parts = args
        texts = [part if isinstance(part, str) else _placeholder(part) for part in parts]
        starts, ends, offset = [], [], 0
        for text in texts:
            starts.append(offset)
            ends.append(offset + len(text))
            offset += len(text) + len(delimiter)
        return delimiter.join(texts), starts, ends


def join_parts_across(joins: Iterable[tuple[JsonPath, Any]], needles: Iterable[str]) -> list[tuple[JsonPath, str]]:
    """The literal parts, with their paths, of each `Fn::Join` among `joins` in whose text a needle runs across parts.

    Why: rules find hosts and principals among the strings that contain a DNS suffix, and
    a suffix cut by a Join's parts (`[..., 'amazonaws', 'com']`) is in none of them: such a
    value was missed without a word.  A rule looks at these parts as at the others, through
    `join_view`, and handles a value in the part it ends in.  `joins`: `(path, mapping)`
    of the mappings with an `Fn::Join` key (`EditLog.mappings_with("Fn::Join")`).  An
    intrinsic part holds no needle's text (`${...}` placeholders), so it counts as nothing.
    """
    wanted = list(needles)
    found: list[tuple[JsonPath, str]] = []
    for path, mapping in joins:
        args = mapping.get("Fn::Join") if isinstance(mapping, dict) else None
        if not (isinstance(args, list) and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], list)):
            continue
        delimiter, items = args
        text = delimiter.join(item if isinstance(item, str) else "\x00" for item in items)
        pieces = [item for item in items if isinstance(item, str)] + [delimiter] * (len(items) - 1)  # every literal part and delimiter
        if sum(text.count(needle) for needle in wanted) > sum(piece.count(needle) for piece in pieces for needle in wanted):
            # an occurrence runs across a part boundary
            found += [(path + ("Fn::Join", 1, index), item) for index, item in enumerate(items) if isinstance(item, str)]
    return found


def _placeholder(value: Any) -> str:
    """How an intrinsic inside a Join reads as text: `${Name}`, `${Name.Attr}`, or `${Fn::Intrinsic}`."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return "${" + arg + "}"
        if key == "Fn::GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
            return "${" + ".".join(arg) + "}"
    return "${Fn::Intrinsic}"


def in_comment_line(value: str, index: int) -> bool:
    """True when `value[index]` lies on a comment line of a script or inline code (`# ...`, `// ...`, not `#!`).

    Why: a comment is prose, as a Description is: an example ARN or host it names is no
    resource the stack uses, so it is neither rewritten by halves nor reported.  Only whole
    comment lines count (a `#` later in a line may be part of a URL or a string).
    """
    line = value[value.rfind("\n", 0, index) + 1 : index].lstrip()
    return (line.startswith("#") and not line.startswith("#!")) or line.startswith("//")


_ARN_REACH = 4096  # the longest ARN looked back for (AWS ARNs are at most 2,048 characters)


def in_arn(value: str, index: int) -> bool:
    """True when `value[index]` lies inside an ARN (`arn:...` up to the next space or quote)."""
    start = value.rfind("arn:", max(0, index - _ARN_REACH), index)  # bounded: a host per line of a long script
    if start < 0:
        return False
    return not any(ch in value[start:index] for ch in " \t\n\"',")


def same_value(got: Any, want: Any) -> bool:
    """`got == want` with every value's type compared too: `1`, `1.0` and `True` are three values.

    Why: `==` lets them pass for one another (`True == 1 == 1.0`), so a check built on it
    would take a text that writes `1.0` for `1`, or `1` for `true`, for the planned model;
    CloudFormation and the next decode would not.  `==` runs first, in C, and answers
    nearly every difference; after it, only what `==` cannot see is walked: the containers
    and the leaves that are not strings (a string equal to another value is a string).
    """
    return bool(got == want) and _types_alike(got, want)


def _types_alike(got: Any, want: Any) -> bool:
    """Whether two values already known equal (`==`) have the same types throughout.

    A string is passed without a look at the other side (equal to a string, it is one);
    the other side is indexed only for containers and other leaves.
    """
    stack = [(got, want)]
    pop, push = stack.pop, stack.append
    while stack:
        a, b = pop()
        kind = a.__class__
        if kind is not b.__class__:
            return False
        if kind is dict:
            for key, value in a.items():
                inner = value.__class__
                if inner is str:
                    continue
                if inner is dict or inner is list:
                    push((value, b[key]))
                elif inner is not b[key].__class__:
                    return False
        elif kind is list:
            for index, value in enumerate(a):
                inner = value.__class__
                if inner is str:
                    continue
                if inner is dict or inner is list:
                    push((value, b[index]))
                elif inner is not b[index].__class__:
                    return False
    return True


def first_difference(got: Any, want: Any, path: str = "") -> str:
    """JSON Pointer of the first place where two models differ, types included ("/" for the root)."""
    if type(got) is not type(want):
        return path or "/"
    if isinstance(want, dict):
        for key in sorted(set(got) | set(want), key=str):
            if key not in got or key not in want:
                return f"{path}/{key}"
            if not same_value(got[key], want[key]):
                return first_difference(got[key], want[key], f"{path}/{key}")
    if isinstance(want, list) and len(got) == len(want):
        for index, (a, b) in enumerate(zip(got, want)):
            if not same_value(a, b):
                return first_difference(a, b, f"{path}/{index}")
    return path or "/"


class LastChildFirst:
    """Sort keys for the order in which a depth-first walk that takes the last child first reaches paths.

    Why: the index-based finders (s3urls.object_references, asset_flow.indexed_asset_values)
    give their findings in the order of the stack walks they replace, so findings come in
    the same order either way.  A mapping's key positions are read once per mapping, not
    once per path (a list index was a scan of the mapping's keys for every path).  The
    model must not change while one instance is in use.
    """

    def __init__(self) -> None:
        self._positions: dict[int, dict[Any, int]] = {}

    def rank(self, node: Any, steps: Iterable[str | int]) -> list[int]:
        """Where the walk from `node` reaches the value `steps` below it: compare ranks of one node's paths."""
        rank = []
        for part in steps:
            if isinstance(node, dict):
                positions = self._positions.get(id(node))
                if positions is None:
                    positions = self._positions[id(node)] = {key: index for index, key in enumerate(node)}
                rank.append(-positions[part])
            else:
                rank.append(-int(part))
            node = node[part]
        return rank
