"""Hypothesis strategies and invariant checks for property tests of China transforms.

Release tooling that imports this library can test its own pipelines with the same
generators and checks we use (docs/testing.md).  Importing this module needs hypothesis
but not pytest; every check raises a plain `AssertionError` that names the path.

    >>> from hypothesis import given
    >>> from panther_cn_transform import load_rules, transform_text
    >>> from panther_cn_transform.testing import templates, yaml_texts, assert_no_dangling_references
    >>> @given(templates().flatmap(yaml_texts))
    ... def test_transform(text):
    ...     result = transform_text(text, load_rules("china"), region="cn-north-1")
    ...     assert_no_dangling_references(result.model)
"""

from __future__ import annotations

import bisect
import copy
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import jsonpatch
import yaml
from hypothesis import strategies as st

from .model.decode import decode_text
from .model.edits import Edit, list_alignment, original_paths, to_pointer
from .model.graph import build_graph
from .model.intrinsics import LONG_TO_SHORT, long_name_of_tag
from .model.walk import first_difference, in_mapping_for_elsewhere, is_text_field, iter_strings
from .partitions.endpoint_data import dns_suffixes, partition_endpoints, partition_names, partition_of_region
from .partitions.region_data import load_region_data
from .render.aliases import AliasIndex, Anchor
from .render.emit import double_quoted, plain_ok, single_quoted
from .render.placement import Source

__all__ = [
    "assert_layout_preserved",
    "assert_no_dangling_references",
    "assert_patch_consistent",
    "assert_region_ready",
    "assert_values_preserved",
    "dangling_references",
    "json_texts",
    "templates",
    "yaml_texts",
]

_PSEUDO = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
           "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}


def _type_pools() -> tuple[list[str], list[str]]:
    """Real types from cfn-lint's data: present in both China regions, and missing from both."""
    north, northwest, east = (load_region_data(r).types for r in ("cn-north-1", "cn-northwest-1", "us-east-1"))
    common = sorted(t for t in north & northwest if t.startswith("AWS::") and not t.startswith("AWS::Serverless::"))
    missing = sorted(t for t in east - north - northwest if t.startswith("AWS::"))
    return common, missing


# -- strategies ------------------------------------------------------------------------------

_ASSET_URLS = [
    "https://{b}.s3.amazonaws.com/{k}", "https://{b}.s3.us-west-1.amazonaws.com/{k}", "https://{b}.s3-us-west-1.amazonaws.com/{k}",
    "https://s3.amazonaws.com/{b}/{k}", "https://s3.us-west-1.amazonaws.com/{b}/{k}", "https://s3-us-west-1.amazonaws.com/{b}/{k}",
    "s3://{b}/{k}",
]
_PLAIN_VALUES = st.sampled_from([
    "arn:aws:s3:::some-bucket/*", "arn:aws:iam::aws:policy/ReadOnlyAccess", "plain text", "yes", "0777", "a: b",
    "https://sqs.us-west-1.amazonaws.com/123456789012/q", "it's quoted", 'say "hi"', "multi\nline\n", 42, True, 1.5,
    511, 80, 10, 1.1, False, "a, b", "x\u2028y",
])
# Values placed at several places of a template (the same object, so YAML writes an
# anchor and aliases): plain data, ARNs the partition rule rewrites, and a principal
# that only the principal rule rewrites (so the anchor and an alias get different edits).
_SHARED_VALUES: list[Any] = [
    {"Mode": 511, "Enabled": True, "Ratio": 1.1, "Label": "0777"},
    {"Arn": "arn:aws:s3:::shared-bucket/*", "Count": 10},
    ["arn:aws:sns:us-west-1:123456789012:topic", 80, False],
    {"Service": "ec2.amazonaws.com"},
    {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
    511, True, 1.1, "arn:aws:s3:::scalar-shared",
]


def _reference(draw: st.DrawFn, target: str) -> Any:
    form = draw(st.sampled_from(["Ref", "GetAtt", "GetAttDot", "Sub", "SubAttr", "SubList", "Join"]))
    return {
        "Ref": {"Ref": target},
        "GetAtt": {"Fn::GetAtt": [target, "Arn"]},
        "GetAttDot": {"Fn::GetAtt": f"{target}.Arn"},
        "Sub": {"Fn::Sub": f"x-${{{target}}}-arn:aws:sns:${{AWS::Region}}:1:t"},
        "SubAttr": {"Fn::Sub": f"${{{target}.Arn}}/*"},
        "SubList": {"Fn::Sub": ["${V}-${!Literal}", {"V": {"Ref": target}}]},
        "Join": {"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": target}]]},
    }[form]


@st.composite
def templates(
    draw: st.DrawFn,
    *,
    min_resources: int = 1,
    max_resources: int = 8,
    unsupported: float = 0.3,
    assets: Sequence[str] = ("panther-enterprise-us-west-1", "panther-community-${AWS::Region}", "vendor-bucket"),
    sam: bool = True,
) -> dict[str, Any]:
    """A valid CloudFormation template with a random reference graph.

    **Parameters:**

    * **min_resources / max_resources** - how many resources.
    * **unsupported** - the share of resources whose type neither China region has
      (drawn from cfn-lint's region data), to exercise removals.
    * **assets** - bucket names that S3 asset references (in every URL form) point at.
    * **sam** - sometimes add the SAM transform and an `AWS::Serverless::Function`.

    Also drawn: a region-keyed Mapping read with `Fn::FindInMap`, `Fn::If` on a
    Condition, Allow and Deny policy statements, `SourceArn`, `DependsOn` (string and
    list), Outputs with Exports, and values shared by several resources (one object
    in several places: `yaml_texts` writes it once with an anchor, then aliases), some
    as a principal in one place and plain data in another.
    """
    common, missing = _type_pools()
    count = draw(st.integers(min_resources, max_resources))
    ids = [f"R{i}" for i in range(count)]
    types = {rid: draw(st.sampled_from(missing if draw(st.floats(0, 1)) < unsupported else common)) for rid in ids}
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
                                "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}, "Resources": {}}
    for rid in ids:
        others = [o for o in ids if o != rid]
        properties: dict[str, Any] = {}
        for slot in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["ref", "value", "if", "allow", "deny", "source", "asset"] if others else ["value", "asset"]))
            name = f"P{slot}"
            if kind == "ref":
                properties[name] = _reference(draw, draw(st.sampled_from(others)))
            elif kind == "value":
                properties[name] = draw(_PLAIN_VALUES)
            elif kind == "if":
                properties[name] = {"Fn::If": ["IsProd", _reference(draw, draw(st.sampled_from(others))), {"Ref": "AWS::NoValue"}]}
            elif kind in ("allow", "deny"):
                resources = [_reference(draw, t) for t in draw(st.lists(st.sampled_from(others), min_size=1, max_size=3))]
                resources.append("arn:aws:s3:::fixed/*")
                properties[name] = {"Statement": [{"Effect": kind.title(), "Action": "s3:GetObject", "Resource": resources},
                                                  {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}
            elif kind == "source":
                properties[name] = {"SourceArn": _reference(draw, draw(st.sampled_from(others)))}
            else:
                url = draw(st.sampled_from(_ASSET_URLS)).format(b=draw(st.sampled_from(list(assets))), k=draw(st.sampled_from(["a1b2", "v1.0/x.zip"])))
                properties[name] = {"Fn::Sub": url} if "${" in url else url
        resource: dict[str, Any] = {"Type": types[rid]}
        if properties:
            resource["Properties"] = properties
        add_depends: bool = draw(st.booleans())
        if others and add_depends:
            depends, as_string = draw(st.tuples(st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True), st.booleans()))
            resource["DependsOn"] = depends[0] if len(depends) == 1 and as_string else depends
        if draw(st.integers(0, 4)) == 0:
            resource["Condition"] = "IsProd"
        template["Resources"][rid] = resource
    for index in range(draw(st.integers(0, 2)) if len(ids) > 1 else 0):
        _share(draw, template["Resources"], ids, index)
    if sam and draw(st.booleans()):
        template["Transform"] = "AWS::Serverless-2016-10-31"
        url = draw(st.sampled_from(_ASSET_URLS)).format(b=draw(st.sampled_from(list(assets))), k="fn.zip")
        function: dict[str, Any] = {"Runtime": "python3.12", "Handler": "index.handler", "CodeUri": url if "${" not in url else {"Fn::Sub": url}}
        if ids:
            function["Environment"] = {"Variables": {"TARGET": _reference(draw, draw(st.sampled_from(ids)))}}
        template["Resources"]["Function"] = {"Type": "AWS::Serverless::Function", "Properties": function}
    if draw(st.booleans()):
        template["Mappings"] = {"Images": {r: {"Id": f"ami-{i}"} for i, r in enumerate(draw(st.lists(
            st.sampled_from(["us-east-1", "us-west-1", "cn-north-1", "cn-northwest-1"]), min_size=1, unique=True)))}}
        template["Resources"].setdefault(ids[0] if ids else "Function", {"Type": "AWS::SNS::Topic"}).setdefault("Metadata", {})["Image"] = {
            "Fn::FindInMap": ["Images", {"Ref": "AWS::Region"}, "Id"]}
    outputs = {}
    for index, rid in enumerate(draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))):
        output: dict[str, Any] = {"Value": _reference(draw, rid)}
        if draw(st.booleans()):
            output["Export"] = {"Name": {"Fn::Sub": f"${{AWS::StackName}}-O{index}"}}
        outputs[f"O{index}"] = output
    if outputs:
        template["Outputs"] = outputs
    return template


def _share(draw: st.DrawFn, resources: dict[str, Any], ids: list[str], index: int) -> None:
    """Put one value (one object) into two or three resources."""
    value = copy.deepcopy(draw(st.sampled_from(_SHARED_VALUES)))
    for rid in draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True)):
        resource = resources[rid]
        where = draw(st.sampled_from(["metadata", "property", "principal"] if isinstance(value, dict) and "Service" in value else ["metadata", "property"]))
        if where == "metadata":
            resource.setdefault("Metadata", {})[f"Shared{index}"] = value
        elif where == "property":
            resource.setdefault("Properties", {})[f"Shared{index}"] = value
        else:
            statement = {"Effect": "Allow", "Principal": value, "Action": "sts:AssumeRole"}
            resource.setdefault("Properties", {})[f"Trust{index}"] = {"Statement": [statement]}


def _yaml_forms(value: Any) -> list[str]:
    """Ways to write a YAML 1.1 int, float or bool that all read back as `value`."""
    if isinstance(value, bool):
        words = ["true", "True", "TRUE", "yes", "Yes", "on", "On", "ON"] if value else ["false", "False", "no", "No", "off", "OFF"]
        return words
    if isinstance(value, int):
        forms = [str(value), f"0{value:o}", f"0x{value:x}", f"0b{value:b}"]
        if value >= 60:
            forms.append(f"{value // 60}:{value % 60:02d}")  # sexagesimal
    else:
        forms = [repr(value), repr(value) + "0", repr(value) + "00"]
    return [form for form in forms if _reads_as(form, value)]


def _reads_as(text: str, value: Any) -> bool:
    loaded = yaml.load(text, Loader=yaml.CSafeLoader)
    return type(loaded) is type(value) and bool(loaded == value)


class _YamlWriter:
    """Writes a model as YAML in a drawn layout, one choice per node.

    Short or long intrinsic forms; block or flow collections, flow ones on one line or
    one entry a line with comments; quoting styles; YAML 1.1 spellings of numbers and
    booleans (`0777`, `8:31`, `1.10`, `on`); an anchor on a shared object's first
    occurrence and aliases after it (also on some equal numbers and booleans).
    """

    def __init__(self, draw: st.DrawFn, short: bool, shared: set[int]) -> None:
        self.draw = draw
        self.short = short
        self.shared = shared
        self.names: dict[Any, str] = {}

    def after_key(self, value: Any, indent: int) -> str:
        """Text after `key:` (or `-`) in block context; `indent` is the entry's column."""
        draw = self.draw
        head, alias = self.anchor(value)
        if alias:
            return " " + alias
        if isinstance(value, (dict, list)) and value and self.tag(value) is None and draw(st.integers(0, 3)) != 0:
            lines = self.block_lines(value, indent + 2)
            return (" " + head if head else "") + "\n" + "\n".join(lines)
        if isinstance(value, str) and "\n" in value and not value.startswith(" ") and "\u2028" not in value and draw(st.booleans()):
            pad = " " * (indent + 2)
            body = "\n".join(pad + line if line else "" for line in value.rstrip("\n").split("\n"))
            return " " + (head + " " if head else "") + ("|" if value.endswith("\n") else "|-") + "\n" + body
        text = self.flow(value, indent)
        comment = "  # note" if isinstance(value, (str, int, float)) and draw(st.integers(0, 4)) == 0 else ""
        return " " + (head + " " if head else "") + text + comment

    def block_lines(self, value: Any, indent: int) -> list[str]:
        pad = " " * indent
        lines: list[str] = []
        if isinstance(value, dict):
            for key, item in value.items():
                lines.append(f"{pad}{self.key(key)}:{self.after_key(item, indent)}")
        else:
            for item in value:
                lines.append(f"{pad}-{self.after_key(item, indent)}")
        return lines

    def flow(self, value: Any, indent: int) -> str:
        """`value` inside a flow context (or as a one-line block value)."""
        draw = self.draw
        tagged = self.tag(value)
        if tagged is not None:
            return tagged
        if isinstance(value, (dict, list)):
            entries = [f"{self.key(k)}: {self.flow_item(v, indent + 2)}" for k, v in value.items()] if isinstance(value, dict) \
                else [self.flow_item(v, indent + 2) for v in value]
            opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
            if len(entries) > 1 and draw(st.integers(0, 2)) == 0:
                pad = " " * (indent + 2)
                lines = [pad + entry + ("," if i < len(entries) - 1 else "") + ("  # entry" if draw(st.booleans()) else "")
                         for i, entry in enumerate(entries)]
                return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing
            return opening + ", ".join(entries) + closing
        return self.scalar(value, flow=True)

    def flow_item(self, value: Any, indent: int) -> str:
        head, alias = self.anchor(value)
        if alias:
            return alias
        return (head + " " if head else "") + self.flow(value, indent)

    def tag(self, value: Any) -> str | None:
        """A short-form intrinsic, when the layout uses them and the value is one."""
        if not (self.short and isinstance(value, dict) and len(value) == 1):
            return None
        (key, arg), = value.items()
        tag = LONG_TO_SHORT.get(key)
        if not tag or (isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)) in LONG_TO_SHORT):
            return None
        if key == "Fn::GetAtt" and isinstance(arg, str):
            return f"{tag} {arg}"
        return f"{tag} " + json.dumps(arg)  # JSON is valid YAML flow

    def key(self, key: str) -> str:
        return json.dumps(key) if ":" in key else key

    def scalar(self, value: Any, *, flow: bool) -> str:
        draw = self.draw
        if isinstance(value, (bool, int, float)):
            return draw(st.sampled_from(_yaml_forms(value)))
        text = str(value)
        styles = ["single", "double"] + (["plain"] if plain_ok(text, flow=flow) else [])
        style = draw(st.sampled_from(styles))
        if style == "plain":
            return text
        if style == "single" and single_quoted(text):
            return str(single_quoted(text))
        return double_quoted(text)

    def anchor(self, value: Any) -> tuple[str, str]:
        """(`&name` to write before the value, or `*name` to write instead of it)."""
        if isinstance(value, (dict, list)):
            if id(value) not in self.shared:
                return "", ""
            key: Any = id(value)
        elif isinstance(value, (bool, int, float)):
            key = (type(value), value)
        else:
            return "", ""
        name = self.names.get(key)
        if name is not None:
            return "", "*" + name
        if isinstance(value, (dict, list)) or self.draw(st.integers(0, 2)) == 0:
            name = self.names[key] = f"a{len(self.names)}"
            return "&" + name, ""
        return "", ""


def _shared_ids(value: Any) -> set[int]:
    """Ids of the collections that occur more than once in `value`."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                shared.add(id(item))
                continue
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return shared


@st.composite
def yaml_texts(draw: st.DrawFn, template: dict[str, Any]) -> str:
    """`template` as YAML in a drawn layout.

    Short or long tags, block or flow collections (flow ones sometimes one entry a line
    with comments), quoting styles, literal block scalars, YAML 1.1 spellings of numbers
    and booleans (`0777`, `8:31`, `1.10`, `on`), anchors and aliases for shared values
    and some equal numbers, comments, blank lines and sometimes CRLF line endings.
    """
    writer = _YamlWriter(draw, draw(st.booleans()), _shared_ids(template))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# generated template")
    for key, value in template.items():
        if key == "Resources" or draw(st.booleans()):
            lines.append(f"{key}:" + ("\n" + "\n".join(writer.block_lines(value, 2)) if isinstance(value, dict) and value else writer.after_key(value, 0)))
        else:
            lines.append(f"{key}: {writer.flow_item(value, 0)}")
        if draw(st.booleans()):
            lines.append("")
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "  # note\n", 1) if text.startswith("AWSTemplateFormatVersion") else text
    if draw(st.integers(0, 5)) == 0:
        text = text.replace("\n", "\r\n")
    if _getatt_as_list(decode_text(text).model) != _getatt_as_list(template):  # pragma: no cover - a bug in this writer
        raise AssertionError(f"generated YAML does not read back as the template:\n{text}")
    return text


def _getatt_as_list(value: Any) -> Any:
    """GetAtt in one form (`!GetAtt A.B` reads back as `["A", "B"]`, the long form as "A.B")."""
    if isinstance(value, dict):
        if list(value) == ["Fn::GetAtt"] and isinstance(value["Fn::GetAtt"], str):
            return {"Fn::GetAtt": value["Fn::GetAtt"].split(".", 1)}
        return {key: _getatt_as_list(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_getatt_as_list(item) for item in value]
    return value


@st.composite
def json_texts(draw: st.DrawFn, template: dict[str, Any]) -> str:
    """`template` as JSON with a drawn indentation (compact, 2, 4 or tab) and line ending."""
    indent = draw(st.sampled_from([None, 2, 4, "\t"]))
    text = json.dumps(template, indent=indent) + ("\n" if draw(st.booleans()) else "")
    return text.replace("\n", "\r\n") if draw(st.integers(0, 3)) == 0 else text


# -- invariants ------------------------------------------------------------------------------


def dangling_references(model: dict[str, Any]) -> list[str]:
    """Every Ref, GetAtt, Sub, DependsOn or Condition that names nothing, as `pointer: what`."""
    names = set(model.get("Resources") or {}) | set(model.get("Parameters") or {}) | _PSEUDO
    conditions = set(model.get("Conditions") or {})
    outputs = {f"Outputs/{name}" for name in model.get("Outputs") or {}}
    found = []
    for reference in build_graph(model).references:
        known = conditions if reference.kind in ("Condition", "If") else (outputs if reference.kind == "ImportValue" else names)
        if reference.target not in known:
            found.append(f"{to_pointer(reference.path)}: {reference.kind} to {reference.target!r}, which does not exist")
    return found


def assert_no_dangling_references(model: dict[str, Any], *, already: Iterable[str] = ()) -> None:
    """Every Ref, GetAtt, Sub, DependsOn and Condition names something that exists.

    `already` lists findings of `dangling_references` on the input that are not the
    transform's doing (SAM's generated `<Function>Role`, for example).
    """
    known = {_without_list_index(finding) for finding in already}
    for finding in dangling_references(model):
        if _without_list_index(finding) not in known:
            raise AssertionError(finding)


def _without_list_index(finding: str) -> str:
    """A DependsOn entry keeps its identity when entries before it were dropped."""
    return re.sub(r"/DependsOn/\d+:", "/DependsOn:", finding)


_URL_HOST = re.compile(r"https?://(?P<host>[A-Za-z0-9.${}:_-]+)")


def assert_region_ready(
    model: dict[str, Any], region: str, *, asset_buckets: Iterable[str] = (), warned: Iterable[str] = ()
) -> None:
    """No type the region lacks, no ARN or URL of another partition, no global asset bucket.

    `warned` are JSON Pointers the transform reported as warnings: what it could not
    translate is allowed to remain, as long as it was reported.  Text fields
    (descriptions, Metadata) and Mapping entries for other regions or partitions are
    never read in the region, so they are not checked.
    """
    exempt = set(warned)
    partition = partition_of_region(region) or "aws"
    regions = partition_endpoints(partition).regions
    suffix = partition_endpoints(partition).dns_suffix
    foreign_suffixes = [s for s in dns_suffixes() if s != suffix]
    data = load_region_data(region)
    for logical_id, resource in (model.get("Resources") or {}).items():
        if isinstance(resource, dict) and isinstance(resource.get("Type"), str) and data.lacks(resource["Type"]):
            raise AssertionError(f"/Resources/{logical_id}: {resource['Type']} does not exist in {region}")
    buckets = list(asset_buckets)
    for path, value in iter_strings(model):
        if to_pointer(path) in exempt or is_text_field(path) or in_mapping_for_elsewhere(path, regions, partition, partition_names()):
            continue
        if partition != "aws" and "arn:aws:" in value:
            raise AssertionError(f"{to_pointer(path)}: global-partition ARN in {value!r}")
        for url in _URL_HOST.finditer(value):
            host = url.group("host").split(":")[0] if "${" not in url.group("host") else url.group("host")
            if not host.endswith(suffix) and any(host.endswith("." + other) for other in foreign_suffixes):
                raise AssertionError(f"{to_pointer(path)}: endpoint of another partition in {value!r}")
        for bucket in buckets:
            if bucket in value:
                raise AssertionError(f"{to_pointer(path)}: global asset bucket {bucket} in {value!r}")


def assert_patch_consistent(input_model: Any, output_model: Any, patch: Any) -> None:
    """Applying `patch` (RFC 6902 list or JsonPatch) to the input gives exactly the output."""
    operations = patch.patch if hasattr(patch, "patch") else patch
    # A patch addresses a JSON tree.  A YAML alias makes two places share one object (and
    # `copy.deepcopy` keeps that sharing), so an edit through one place would show at both.
    patched = jsonpatch.apply_patch(_as_tree(input_model), operations, in_place=True)
    if patched != output_model:
        raise AssertionError(f"patch does not explain the output (first difference at {first_difference(patched, output_model)})")


def _as_tree(value: Any) -> Any:
    """A copy of `value` in which no two places share an object."""
    if isinstance(value, dict):
        return {key: _as_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_tree(item) for item in value]
    return value


def assert_layout_preserved(input_text: str, output_text: str, edits: Sequence[Edit]) -> None:
    """Only lines of values the edits touch differ; every other line survives, in order.

    Untouched lines must also stay together: a line inserted between two of them that no
    edit explains is a failure, and new lines must end like the template's (CRLF stays
    CRLF).  A removal also touches the line before it, where a JSON or flow separator may
    go; an edit of an anchored value (or of what contains it) also touches the lines of
    its aliases, which may receive a copy of it.
    """
    template = decode_text(input_text)
    touched, growing = _touched_lines(template, edits)
    before = template.text.splitlines()
    output = output_text.lstrip("\ufeff")
    after = output.splitlines()
    remaining = iter(after)
    # every untouched input line must appear in the output, in the same order
    for number, line in enumerate(before, start=1):
        if number in touched:
            continue
        if not any(candidate == line for candidate in remaining):
            raise AssertionError(f"line {number} changed or moved but no edit touches it: {line!r}")
    # ... each run of untouched lines stays one block, and between runs, where only
    # removals were made, text was only taken away
    problem = _place_untouched_runs(before, after, touched, growing)
    if problem is not None:
        raise AssertionError(f"output line {problem + 1} was inserted where no edit explains it: {after[problem]!r}")
    if "\r\n" in template.text and "\n" not in template.text.replace("\r\n", ""):
        bare = [n for n, line in enumerate(output.split("\n")[:-1], start=1) if not line.endswith("\r")]
        if bare:
            raise AssertionError(f"output line {bare[0]} ends in LF, but the template's lines end in CRLF")


def _only_deleted_from(before: str, after: str) -> bool:
    """True when `after` is `before` with some characters deleted (what a removal does).

    A collection that lost every entry is written `{}` or `[]`.
    """
    remaining = iter(before)
    return all(char in remaining for char in after.replace("{}", "").replace("[]", ""))


def _touched_lines(template: Any, edits: Sequence[Edit]) -> tuple[set[int], set[int]]:
    """Input lines (1-based) that the edits may change, and those where lines may be added.

    Additions, replacements and alias repairs may write more lines than they replace;
    a removal only takes text away.  Aliases of an edited or removed anchor are touched.
    """
    index = None
    if template.format == "yaml":
        index = AliasIndex.build(template.root, Source(template.text, template.newline, template.source))
    touched: set[int] = set()
    growing: set[int] = set()
    on_paths: list[Anchor] = []
    for path, edit in zip(original_paths(template.model, edits), edits):
        lines = _lines_of(template.root, path, template.text, index, on_paths)
        if edit.op == "remove" and lines:
            lines.add(min(lines) - 1)  # the separator before it: `a,` becomes `a` when the last item goes
        else:
            growing |= lines
        touched |= lines
    if index is not None:
        text = template.text
        aliases: dict[int, list[int]] = {}
        for alias in index.by_slot.values():
            aliases.setdefault(id(alias.anchor), []).append(text.count("\n", 0, alias.start) + 1)
        edited = {id(anchor) for anchor in on_paths}
        for anchor in index.anchors.values():
            line = text.count("\n", 0, anchor.position) + 1
            if line in touched or id(anchor) in edited:
                lines = {line, *aliases.get(id(anchor), ())}
                touched |= lines
                growing |= lines
    return touched, growing


def _lines_of(root: yaml.Node, path: tuple[Any, ...], text: str, index: AliasIndex | None, on_path: list[Anchor]) -> set[int]:
    """Source lines (1-based) of the node at `path`, or of its nearest ancestor that has one.

    A path through an alias ends there: the alias gets text of its own.  Anchored nodes
    the path passes through are added to `on_path`.
    """
    node, first = root, root.start_mark.line
    for part in path:
        child, slot = None, 0
        if isinstance(node, yaml.MappingNode):
            for number, (key, value) in enumerate(node.value):
                if key.value == part:
                    child, first, slot = value, key.start_mark.line, 2 * number + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child, slot = node.value[part], part
            first = child.start_mark.line
        if child is None:
            break  # a long-form key inside a short tag, or an added key: the ancestor's lines
        if index is not None:
            alias = index.by_slot.get((id(node), slot))
            if alias is not None:
                line = text.count("\n", 0, alias.start)
                return set(range(min(first, line) + 1, line + 2))
            anchor = index.anchors.get(id(child))
            if anchor is not None:
                on_path.append(anchor)
        node = child
    return set(range(first + 1, node.end_mark.line + 2))


def _untouched_runs(lines: list[str], touched: set[int]) -> list[tuple[int, list[str]]]:
    """Maximal runs of consecutive untouched lines, as (first line number, lines)."""
    runs: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if number in touched:
            continue
        if runs and runs[-1][0] + len(runs[-1][1]) == number:
            runs[-1][1].append(line)
        else:
            runs.append((number, [line]))
    return runs


def _place_untouched_runs(before: list[str], after: list[str], touched: set[int], growing: set[int]) -> int | None:
    """Find each run of untouched input lines as one block of output lines, in order.

    The output lines between two runs must be explained by the input lines between them:
    anything goes where an edit may add lines, only deletions where removals were made.
    Every placement of every run is tried (a blank line occurs in many places); for a
    placement it is enough to try the latest end of the previous run, since a shorter
    gap is explained whenever a longer one is.  Returns the first unexplained output line.
    """
    where: dict[str, list[int]] = {}
    for number, line in enumerate(after):
        where.setdefault(line, []).append(number)
    runs = [(first - 1, first - 1 + len(run), run) for first, run in _untouched_runs(before, touched)]
    runs.append((len(before), len(before), []))  # the end of the file
    ends, previous_in = [0], 0  # where the previous run may end in the output; its end in the input
    for in_start, in_end, run in runs:
        if not run:
            candidates = [len(after)]
        elif in_start == 0:
            candidates = [0]
        elif in_end == len(before):
            candidates = [len(after) - len(run)]
        else:
            candidates = where.get(run[0], [])
        gap = range(previous_in + 1, in_start + 1)  # input line numbers between the runs
        explained = "\n".join(before[number - 1] for number in gap)
        grows = not growing.isdisjoint(gap)
        reached = []
        for position in candidates:
            if position < 0 or after[position : position + len(run)] != run:
                continue
            index = bisect.bisect_right(ends, position) - 1
            if index >= 0 and (grows or _only_deleted_from(explained, "\n".join(after[ends[index] : position]))):
                reached.append(position + len(run))
        if not reached:
            if run and not any(after[p : p + len(run)] == run for p in candidates if p >= ends[0]):
                return _first_inserted(after, run, ends[0])
            gap_lines = set(explained.split("\n"))
            return next((k for k in range(ends[-1], len(after)) if after[k] not in gap_lines), min(ends[-1], len(after) - 1))
        ends, previous_in = reached, in_end
    return None


def _first_inserted(lines: list[str], block: list[str], start: int) -> int:
    """The first output line that breaks `block` apart (matching it line by line from `start`)."""
    position = start
    for number, line in enumerate(block):
        found = lines.index(line, position)
        if number and found != position:
            return position
        position = found + 1
    return min(position, len(lines) - 1)


def assert_values_preserved(input_text: str, output_text: str, edits: Sequence[Edit]) -> None:
    """Every value no edit touches is written exactly as before.

    Same characters, quoting and tag, `0777` still `0777` and `on` still `on`: also where
    an alias now stands for it or it was copied for an alias whose anchor went away.
    Only the indentation of a multi-line value's continuation lines may differ (a copy
    is re-indented to its new place).  Edit paths are mapped back to input coordinates.
    """
    before, after = decode_text(input_text), decode_text(output_text)
    paths = original_paths(before.model, edits)
    edited = set(paths)
    inside = {path[:length] for path in paths for length in range(len(path))}
    moved = {path: {source: final for final, source in enumerate(order) if source is not None}
             for path, order in list_alignment(before.model, edits).items()}
    for node, path in _scalars(before.root):
        if path in inside or any(path[:length] in edited for length in range(len(path) + 1)):
            continue
        out_path = _output_path(path, moved)
        found = _node_at(after.root, out_path) if out_path is not None else None
        if found is None:
            raise AssertionError(f"{to_pointer(path)}: an untouched value is missing from the output")
        old, new = _written(before.text, node), _written(after.text, found)
        if old != new:
            raise AssertionError(f"{to_pointer(path)}: untouched value written {old!r} is now {new!r}")


def _scalars(root: yaml.Node, limit: int = 200_000) -> Iterator[tuple[yaml.ScalarNode, tuple[Any, ...]]]:
    """Every scalar value with its model path, through aliases (keys are not values)."""
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        limit -= 1
        if limit < 0:
            raise AssertionError("document too large to check value by value")
        node, path = stack.pop()
        if node.tag.startswith("!"):
            path += (long_name_of_tag(node.tag),)
        if isinstance(node, yaml.ScalarNode):
            yield node, path
        elif isinstance(node, yaml.MappingNode):
            stack.extend((value, path + (key.value,)) for key, value in node.value)
        else:
            stack.extend((item, path + (number,)) for number, item in enumerate(node.value))


def _output_path(path: tuple[Any, ...], moved: dict[tuple[Any, ...], dict[int, int]]) -> tuple[Any, ...] | None:
    out: list[Any] = []
    for length, part in enumerate(path):
        if isinstance(part, int) and path[:length] in moved:
            if part not in moved[path[:length]]:
                return None
            part = moved[path[:length]][part]
        out.append(part)
    return tuple(out)


def _node_at(root: yaml.Node, path: tuple[Any, ...]) -> yaml.ScalarNode | None:
    node: yaml.Node | None = root
    parts = list(path)
    while node is not None:
        if node.tag.startswith("!") and (not parts or parts.pop(0) != long_name_of_tag(node.tag)):
            return None
        if not parts:
            return node if isinstance(node, yaml.ScalarNode) else None
        part = parts.pop(0)
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return None
    return None


def _written(text: str, node: yaml.ScalarNode) -> str:
    """A scalar as written (tag and characters, no anchor), continuation lines dedented."""
    source = Source(text, "\n", "")
    _, tag, start = source.properties(node)
    lines = text[start : node.end_mark.index].replace("\r\n", "\n").split("\n")
    rest = [line for line in lines[1:] if line.strip()]
    cut = min((len(line) - len(line.lstrip(" ")) for line in rest), default=0)
    written = "\n".join([lines[0]] + [line[cut:] for line in lines[1:]])
    return (text[tag[0] : tag[1]] + " " if tag else "") + written
