"""Measure a port against a hand port: what the authors changed for China, and what we did.

Why this exists: the corpus holds global/China template pairs ported by hand by their
authors.  What they changed is a floor for the tool (not ground truth: they also forget
things, and mix in changes that have nothing to do with China).  Counting tokens such as
`arn:aws-cn:` misjudges authors who wrote `${AWS::Partition}`, and says nothing about
changes that are not partition tokens (a bucket default, a region, a removed resource).
So the comparison works on values:

1. `author_changes` diffs the two parsed models into *changes*: a value that differs
   (a multi-line string is split into changed line hunks), a key that was removed or
   added, a list that was reshaped.  Each has a JSON Pointer into the global template.
2. `is_china_relevant` says whether a change is about China, from the markers it adds or
   drops (partitions, domains, regions, well-known global buckets, CloudFront/ACM/EDGE
   facts); a reviewed expectations file overrides it either way, with a reason.
3. `classify` compares each relevant change with the tool's output: **reproduced** (our
   value equals theirs up to equivalences: `${AWS::Partition}` is `aws-cn`,
   `${AWS::URLSuffix}` is `amazonaws.com.cn`, any China region or `${AWS::Region}` is "the
   China region", a literal Fn::Sub is its string), **warned** (a warning at that place
   or at a place that sets it), or **missed**.
4. `tool_extras` lists each edit the tool made where the authors changed nothing; the
   expectations file judges each (`needed` or `wrong`).

`bench/fidelity.py` prints the tables; `tests/report/test_fidelity.py` holds the suite to the
reviewed expectations (`bench/fidelity_expectations.yml`).
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ..model.decode import read_template
from ..model.edits import Edit
from ..model.paths import to_pointer
from ..model.walk import REGION_PATTERN
from ..partitions.region_data import load_region_data
from ..ruleset.rule_files import RuleSet
from ..transform import transform

Outcome = Literal["reproduced", "warned", "missed"]

_CHINA_REGION = "{china-region}"
_CHINA_REGION_RE = re.compile(r"\bcn-(?:north|northwest)-1\b")
_GLOBAL_REGION_RE = re.compile(r"\b(?!cn-)" + REGION_PATTERN + r"\b")
_PSEUDO_VALUES = {
    "AWS::Partition": "aws-cn",
    "AWS::URLSuffix": "amazonaws.com.cn",
    "AWS::Region": _CHINA_REGION,
}
#: Text that a China port adds (or a global template has and a port drops).
_CHINA_MARKERS = re.compile(
    r"aws-cn|amazonaws\.com\.cn|amazonaws\.cn|\bcn-(?:north|northwest)-1\b|AWS::Partition|AWS::URLSuffix|"
    r"AWS::Region|\.cloudfront\.cn|Z3RFFRIM2A3IF5|REGIONAL|IamCertificateId|IsChina|China"
)
_GLOBAL_MARKERS = re.compile(
    r"arn:aws:|amazonaws\.com(?!\.cn)|aws\.amazon\.com|aws-quickstart|solutions-|Z2FDTNDATAQYW2|\bEDGE\b|"
    r"AcmCertificateArn|LambdaFunctionAssociations|PriceClass_(?:100|200)|" + _GLOBAL_REGION_RE.pattern
)


@dataclass(frozen=True)
class Change:
    """One thing the authors changed: `before` in the global template, `after` in theirs.

    `pointer` is a JSON Pointer into the global template; a hunk of a multi-line string
    adds `#L<first line>` (1-based, in the global string).  `kind` is `value` (changed),
    `removed` (a key or item they deleted) or `added` (a key they added; `before` is None).
    """

    pointer: str
    kind: Literal["value", "removed", "added"]
    before: Any
    after: Any

    @property
    def value_pointer(self) -> str:
        """The pointer without the line suffix."""
        return self.pointer.split("#", 1)[0]


@dataclass
class PairReport:
    """The outcome of one pair: each relevant change classified, and the tool's extra edits."""

    name: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    changes: dict[str, Change] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    extras: list[Edit] = field(default_factory=list)
    judged_extras: dict[str, tuple[str, str]] = field(default_factory=dict)
    removed_but_kept: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for value in self.outcomes.values() if value == outcome)

    @property
    def relevant(self) -> int:
        return len(self.outcomes)


def author_changes(before: Any, after: Any) -> list[Change]:
    """Every change between the global model `before` and the hand-ported model `after`."""
    found: list[Change] = []
    _diff(before, after, (), found)
    return found


def _diff(before: Any, after: Any, path: tuple[Any, ...], found: list[Change]) -> None:
    if _is_intrinsic(before) and _is_intrinsic(after) and before.keys() != after.keys():
        found.append(Change(to_pointer(path), "value", before, after))  # one function replaced by another
    elif isinstance(before, dict) and isinstance(after, dict):
        for key, value in before.items():
            if key not in after:
                found.append(Change(to_pointer(path + (key,)), "removed", value, None))
            else:
                _diff(value, after[key], path + (key,), found)
        for key, value in after.items():
            if key not in before:
                found.append(Change(to_pointer(path + (key,)), "added", None, value))
    elif isinstance(before, list) and isinstance(after, list):
        _diff_list(before, after, path, found)
    elif isinstance(before, str) and isinstance(after, str) and before != after and "\n" in before.strip():
        _diff_lines(before, after, path, found)
    elif before != after or type(before) is not type(after):
        found.append(Change(to_pointer(path), "value", before, after))


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value)


def _diff_list(before: list[Any], after: list[Any], path: tuple[Any, ...], found: list[Change]) -> None:
    if len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            _diff(old, new, path + (index,), found)
        return
    keys_before = [json.dumps(item, sort_keys=True, default=str) for item in before]
    keys_after = [json.dumps(item, sort_keys=True, default=str) for item in after]
    matcher = difflib.SequenceMatcher(a=keys_before, b=keys_after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and a2 - a1 == b2 - b1:
            for offset in range(a2 - a1):
                _diff(before[a1 + offset], after[b1 + offset], path + (a1 + offset,), found)
        elif a2 > a1:
            found.append(Change(to_pointer(path + (a1,)), "removed" if b2 == b1 else "value",
                                before[a1:a2], after[b1:b2]))
        else:
            found.append(Change(to_pointer(path + (a1,)) + "#insert", "added", None, after[b1:b2]))


def _diff_lines(before: str, after: str, path: tuple[Any, ...], found: list[Change]) -> None:
    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "equal":
            found.append(Change(f"{to_pointer(path)}#L{a1 + 1}", "value", "\n".join(old[a1:a2]),
                                "\n".join(new[b1:b2])))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def is_china_relevant(change: Change) -> bool:
    """True when the change adds a China marker or drops a global one (see module docstring)."""
    old, new = _text(change.before) if change.before is not None else "", _text(change.after) if change.after is not None else ""
    added = set(_CHINA_MARKERS.findall(new)) - set(_CHINA_MARKERS.findall(old))
    dropped = set(_GLOBAL_MARKERS.findall(old)) - set(_GLOBAL_MARKERS.findall(new))
    return bool(added or dropped)


#: JSON Pointers a warning's message names (the assets a bucket parameter feeds, say)
_POINTERS = re.compile(r"(/(?:Resources|Parameters|Conditions|Mappings|Outputs)/[^\s,;()]+)")

#: What a value says in China when a Fn::If's branch is `AWS::NoValue`.
ABSENT = "<absent>"


def china_conditions(model: Mapping[str, Any], region: str) -> dict[str, bool]:
    """The template's Conditions that are decided in `region` without knowing any Parameter.

    Why: authors often port by condition (`IsChina: !Equals [!Ref AWS::Partition, aws-cn]`
    and `!If [IsChina, <China value>, <global value>]`); in China such a value *is* its
    China branch, and that is what the tool's output is compared with.
    """
    definitions = model.get("Conditions")
    if not isinstance(definitions, dict):
        return {}
    pseudo = {"AWS::Partition": "aws-cn", "AWS::Region": region, "AWS::URLSuffix": "amazonaws.com.cn"}
    decided: dict[str, bool] = {}

    def evaluate(expression: Any, depth: int) -> bool | None:
        if depth > 50 or not isinstance(expression, dict) or len(expression) != 1:
            return None
        (function, argument), = expression.items()
        if function == "Condition" and isinstance(argument, str):
            return evaluate(definitions.get(argument), depth + 1)
        if function == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            left, right = resolve(argument[0]), resolve(argument[1])
            return None if left is None or right is None else left == right
        if function == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
            inner = evaluate(argument[0], depth + 1)
            return None if inner is None else not inner
        if function in ("Fn::And", "Fn::Or") and isinstance(argument, list):
            values = [evaluate(item, depth + 1) for item in argument]
            wanted: bool = function == "Fn::Or"
            if wanted in values:
                return wanted
            return None if None in values else not wanted
        return None

    def resolve(side: Any) -> str | None:
        if isinstance(side, (str, int, float, bool)) and not isinstance(side, bool):
            text = str(side)
            return None if "${" in text else text
        if isinstance(side, dict) and len(side) == 1 and isinstance(side.get("Ref"), str):
            return pseudo.get(side["Ref"])
        return None

    for name, expression in definitions.items():
        value = evaluate(expression, 0)
        if value is not None:
            decided[str(name)] = value
    return decided


def normalize(value: Any, conditions: Mapping[str, bool] | None = None) -> Any:
    """`value` with the equivalences of a China port applied (see module docstring).

    `conditions` (from `china_conditions`) picks the China branch of a decided Fn::If.
    """
    truth = conditions or {}
    if isinstance(value, str):
        for name, meaning in _PSEUDO_VALUES.items():
            value = value.replace("${" + name + "}", meaning)
        return _CHINA_REGION_RE.sub(_CHINA_REGION, value)
    if isinstance(value, list):
        return [normalize(item, truth) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref" and argument in _PSEUDO_VALUES:
                return _PSEUDO_VALUES[argument]
            if key == "Ref" and argument == "AWS::NoValue":
                return ABSENT
            if key == "Fn::If" and isinstance(argument, list) and len(argument) == 3 and argument[0] in truth:
                return normalize(argument[1] if truth[argument[0]] else argument[2], truth)
            if key == "Fn::Sub" and isinstance(argument, str):
                return normalize(argument, truth)  # what a Sub of pseudo parameters says is its text
            if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
                parts = _merge_literals(str(argument[0]), normalize(argument[1], truth))
                return parts[0] if len(parts) == 1 and isinstance(parts[0], str) else {"Fn::Join": [argument[0], parts]}
        return {key: item for key, item in ((k, normalize(v, truth)) for k, v in value.items()) if item != ABSENT}
    return value


def _merge_literals(delimiter: str, parts: list[Any]) -> list[Any]:
    """Adjacent literal parts of a Fn::Join joined: `["arn:", "aws-cn", ":s3"]` says `arn:aws-cn:s3`."""
    merged: list[Any] = []
    for part in parts:
        if part == ABSENT:
            continue
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + delimiter + part
        else:
            merged.append(part)
    return merged


def value_at(model: Any, pointer: str) -> tuple[bool, Any]:
    """(found, value) at a JSON Pointer of `model`."""
    if not pointer:
        return True, model
    node = model
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


@dataclass(frozen=True)
class Sides:
    """The two ports being compared, with the conditions each decides in China."""

    ours: Any
    theirs: Any
    our_conditions: Mapping[str, bool] = field(default_factory=dict)
    their_conditions: Mapping[str, bool] = field(default_factory=dict)

    def same_at(self, pointer: str) -> bool:
        """Whether both ports say the same thing at `pointer` (an absent value is ABSENT)."""
        found_ours, mine = value_at(self.ours, pointer)
        found_theirs, theirs = value_at(self.theirs, pointer)
        mine = normalize(mine, self.our_conditions) if found_ours else ABSENT
        theirs = normalize(theirs, self.their_conditions) if found_theirs else ABSENT
        return bool(mine == theirs)

    def same_markers_at(self, pointer: str) -> bool:
        """Whether both ports hold the same China and global markers at `pointer`."""
        mine = _text(normalize(value_at(self.ours, pointer)[1], self.our_conditions))
        theirs = _text(normalize(value_at(self.theirs, pointer)[1], self.their_conditions))
        return all(
            sorted(pattern.findall(mine)) == sorted(pattern.findall(theirs)) for pattern in (_CHINA_MARKERS, _GLOBAL_MARKERS)
        )


def classify(change: Change, sides: Sides, warning_pointers: Iterable[str], *, markers_only: bool = False) -> Outcome:
    """Reproduced, warned or missed: how the tool's output treats one author change.

    A value counts as reproduced when it is equivalent at the change's place or at an
    enclosing intrinsic function (an `arn:` part of a Fn::Join, a Fn::If branch).  With
    `markers_only` (a value the authors also changed for other reasons) only the China
    markers are compared: ours must add the ones they added and drop the ones they dropped.
    """
    if markers_only:
        if sides.same_markers_at(change.value_pointer):
            return "reproduced"
    elif "#L" in change.pointer:
        found, mine = value_at(sides.ours, change.value_pointer)
        if found and isinstance(mine, str) and _lines_reproduced(change, mine):
            return "reproduced"
    elif any(sides.same_at(pointer) for pointer in _enclosing_values(change.value_pointer)):
        return "reproduced"
    if any(_related(change.value_pointer, where) for where in warning_pointers):
        return "warned"
    return "missed"


def _enclosing_values(pointer: str) -> Iterator[str]:
    """`pointer`, then each ancestor while the steps are intrinsic functions and their arguments."""
    yield pointer
    parts = pointer.split("/")
    while len(parts) > 2:
        last = parts.pop()
        if not (last.startswith("Fn::") or last.isdigit() or last == "Ref"):
            return
        yield "/".join(parts)


def _lines_reproduced(change: Change, mine: str) -> bool:
    ours = [normalize(line).strip() for line in mine.splitlines()]
    theirs = [normalize(line).strip() for line in str(change.after).splitlines()]
    dropped = [normalize(line).strip() for line in str(change.before).splitlines()]
    return all(line in ours for line in theirs) and not any(line in ours for line in dropped if line not in theirs)


def _related(pointer: str, warned: str) -> bool:
    """A warning is at the change's place when one pointer contains the other."""
    return pointer == warned or pointer.startswith(warned + "/") or warned.startswith(pointer + "/")


def tool_extras(edits: Sequence[Edit], changes: Iterable[Change]) -> list[Edit]:
    """The tool's edits at places where the authors changed nothing."""
    touched = {change.value_pointer for change in changes}
    return [edit for edit in edits if not any(_related(edit.pointer, where) for where in touched)]


def matches(rule: Mapping[str, Any], edit: Edit) -> bool:
    """Whether an expectations `extras` entry (rule id and/or pointer glob) covers `edit`."""
    if "rule" in rule and rule["rule"] != edit.rule:
        return False
    return fnmatch.fnmatchcase(edit.pointer, str(rule.get("pointer", "*")))


def iter_outcomes(reports: Iterable[PairReport]) -> Iterator[tuple[str, str, Outcome]]:
    """(pair, pointer, outcome) for every relevant change of every pair."""
    for report in reports:
        for pointer, outcome in report.outcomes.items():
            yield report.name, pointer, outcome


@dataclass(frozen=True)
class PairExpectations:
    """The reviewed judgements for one pair (see `bench/fidelity_expectations.yml`).

    * **region** - the China region the port targets (the authors' own, where they chose one).
    * **not_china** - pointer -> why an author change the markers flag is not about China.
    * **china** - pointer -> why an author change the markers miss is about China.
    * **mixed** - pointer -> what else the authors changed in a value that also holds a China
      change; only its China part (the partition, domain and region markers) is compared.
    * **known_misses** - pointer -> why the tool neither reproduces nor warns about it yet.
    * **extras** - judgements of the tool's own changes: `rule` and/or `pointer` glob,
      `judgement` (`needed` or `wrong`) and `reason`; the first entry that matches wins.
    """

    region: str = "cn-north-1"
    not_china: Mapping[str, str] = field(default_factory=dict)
    china: Mapping[str, str] = field(default_factory=dict)
    mixed: Mapping[str, str] = field(default_factory=dict)
    known_misses: Mapping[str, str] = field(default_factory=dict)
    extras: Sequence[Mapping[str, Any]] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> PairExpectations:
        data = data or {}
        return cls(
            region=str(data.get("region", "cn-north-1")),
            not_china=dict(data.get("not_china") or {}),
            china=dict(data.get("china") or {}),
            mixed=dict(data.get("mixed") or {}),
            known_misses=dict(data.get("known_misses") or {}),
            extras=tuple(data.get("extras") or ()),
        )


def compare(
    name: str,
    global_model: Mapping[str, Any],
    china_model: Mapping[str, Any],
    ours: Mapping[str, Any],
    edits: Sequence[Edit],
    warning_pointers: Iterable[str],
    expectations: PairExpectations,
    lacks: Callable[[str], bool] | None = None,
) -> PairReport:
    """Classify every China-relevant author change of one pair, and judge the tool's extras.

    `lacks(resource_type)` says whether the target region lacks a type (resources the tool
    removed but the authors kept count against the tool only when the region has the type).
    """
    region = expectations.region
    report = PairReport(name)
    warned = list(warning_pointers)
    sides = Sides(ours, china_model, china_conditions(ours, region), china_conditions(china_model, region))
    changes = author_changes(global_model, china_model)
    for change in changes:
        pointer = change.pointer
        if pointer in expectations.not_china:
            report.excluded[pointer] = expectations.not_china[pointer]
            continue
        if not (pointer in expectations.china or is_china_relevant(change)):
            continue
        report.changes[pointer] = change
        report.outcomes[pointer] = classify(change, sides, warned, markers_only=pointer in expectations.mixed)
    report.extras = tool_extras(edits, changes)
    for edit in report.extras:
        for rule in expectations.extras:
            if matches(rule, edit):
                report.judged_extras[edit.pointer] = (str(rule["judgement"]), str(rule.get("reason", "")))
                break
    theirs = china_model.get("Resources") or {}
    mine = ours.get("Resources") or {}
    for logical_id, resource in (global_model.get("Resources") or {}).items():
        if logical_id in theirs and logical_id not in mine:
            kind = resource.get("Type", "") if isinstance(resource, dict) else ""
            if lacks is None or not lacks(kind):
                report.removed_but_kept.append(logical_id)
    return report


def run_pair(pair: Path, rules: RuleSet, expectations: PairExpectations) -> PairReport:
    """Port `pair/global.*` with `rules` and compare it with the authors' `pair/china.*`."""
    global_template = read_template(next(pair.glob("global.*")))
    china_model = read_template(next(pair.glob("china.*"))).model
    result = transform(global_template, rules, region=expectations.region)
    region = load_region_data(expectations.region)
    return compare(
        pair.name,
        global_template.model,
        china_model,
        result.model,
        result.edits,
        [where for warning in result.warnings for where in (warning.pointer, *_POINTERS.findall(warning.message))],
        expectations,
        lacks=region.lacks,
    )


def load_expectations(path: Path) -> dict[str, PairExpectations]:
    """Pair name -> its reviewed expectations, from the YAML file at `path`."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    return {name: PairExpectations.from_data(entry) for name, entry in (data.get("pairs") or {}).items()}
