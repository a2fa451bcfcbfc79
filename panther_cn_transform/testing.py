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

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import jsonpatch
import yaml
from hypothesis import strategies as st

from .decode import decode_text
from .edits import Edit, original_paths, to_pointer
from .graph import build_graph
from .intrinsics import LONG_TO_SHORT
from .region_data import load_region_data
from .walk import first_difference, iter_strings

__all__ = [
    "assert_layout_preserved",
    "assert_no_dangling_references",
    "assert_patch_consistent",
    "assert_region_ready",
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
])


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
    list) and Outputs with Exports.
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


def _yaml_flow_or_block(value: Any, indent: int, short: bool, flow: bool) -> str:
    """Our own small YAML writer so that short tags and styles can vary per node."""
    pad = " " * indent
    if isinstance(value, dict) and len(value) == 1 and short:
        (key, arg), = value.items()
        tag = LONG_TO_SHORT.get(key)
        if tag and not (isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)) in LONG_TO_SHORT):
            if key == "Fn::GetAtt" and isinstance(arg, str):
                return f"{tag} {arg}"
            return f"{tag} " + json.dumps(arg)  # JSON is valid YAML flow
    if isinstance(value, (dict, list)) and (flow or not value):
        return json.dumps(value)
    if isinstance(value, dict):
        return "\n" + "\n".join(f"{pad}{json.dumps(k) if ':' in k else k}: {_yaml_flow_or_block(v, indent + 2, short, flow)}".rstrip() for k, v in value.items())
    if isinstance(value, list):
        return "\n" + "\n".join(f"{pad}- {_yaml_flow_or_block(v, indent + 2, short, flow).lstrip()}" for v in value)
    if isinstance(value, str):
        if "\n" in value and not value.startswith(" "):
            return "|" + ("" if value.endswith("\n") else "-") + "\n" + "\n".join(pad + line if line else "" for line in value.rstrip("\n").split("\n"))
        return yaml.safe_dump(value, default_style=None, width=10**6).rstrip("\n").removesuffix("\n...").strip() if not value.isalnum() else value
    return json.dumps(value)


@st.composite
def yaml_texts(draw: st.DrawFn, template: dict[str, Any]) -> str:
    """`template` as YAML in a drawn layout: short or long tags, block or flow, comments, CRLF."""
    short = draw(st.booleans())
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# generated template")
    for key, value in template.items():
        flow = draw(st.booleans()) and key not in ("Resources",)
        lines.append(f"{key}: {_yaml_flow_or_block(value, 2, short, flow)}".rstrip())
        if draw(st.booleans()):
            lines.append("")
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "  # note\n", 1) if text.startswith("AWSTemplateFormatVersion") else text
    if draw(st.integers(0, 5)) == 0:
        text = text.replace("\n", "\r\n")
    return text


@st.composite
def json_texts(draw: st.DrawFn, template: dict[str, Any]) -> str:
    """`template` as JSON with a drawn indentation (compact, 2, 4 or tab)."""
    indent = draw(st.sampled_from([None, 2, 4, "\t"]))
    return json.dumps(template, indent=indent) + ("\n" if draw(st.booleans()) else "")


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
    known = set(already)
    for finding in dangling_references(model):
        if finding not in known:
            raise AssertionError(finding)


_GLOBAL_ENDPOINT = re.compile(r"https?://[^\s\"']*\.amazonaws\.com(?!\.cn)(?![\w-])")


def assert_region_ready(
    model: dict[str, Any], region: str, *, asset_buckets: Iterable[str] = (), warned: Iterable[str] = ()
) -> None:
    """No type the region lacks, no global-partition ARN, endpoint URL or asset bucket.

    `warned` are JSON Pointers the transform reported as warnings: what it could not
    translate is allowed to remain, as long as it was reported.
    """
    exempt = set(warned)
    data = load_region_data(region)
    for logical_id, resource in (model.get("Resources") or {}).items():
        if isinstance(resource, dict) and isinstance(resource.get("Type"), str) and data.lacks(resource["Type"]):
            raise AssertionError(f"/Resources/{logical_id}: {resource['Type']} does not exist in {region}")
    buckets = list(asset_buckets)
    for path, value in iter_strings(model):
        if to_pointer(path) in exempt:
            continue
        if "arn:aws:" in value:
            raise AssertionError(f"{to_pointer(path)}: global-partition ARN in {value!r}")
        if _GLOBAL_ENDPOINT.search(value):
            raise AssertionError(f"{to_pointer(path)}: global endpoint in {value!r}")
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

    A removal also touches the line before it, where a JSON or flow separator may go.
    """
    template = decode_text(input_text)
    touched: set[int] = set()
    for path, edit in zip(original_paths(template.model, edits), edits):
        lines = _lines_of(template.root, path, template.text)
        if edit.op == "remove" and lines:
            lines.add(min(lines) - 1)  # the separator before it: `a,` becomes `a` when the last item goes
        touched |= lines
    before = template.text.splitlines()
    after = iter(output_text.lstrip("\ufeff").splitlines())
    # every untouched input line must appear in the output, in the same order
    for number, line in enumerate(before, start=1):
        if number in touched:
            continue
        if not any(candidate == line for candidate in after):
            raise AssertionError(f"line {number} changed or moved but no edit touches it: {line!r}")


def _lines_of(root: yaml.Node, path: tuple[Any, ...], text: str) -> set[int]:
    """Source lines (1-based) of the node at `path`, or of its nearest ancestor that has one."""
    node, first = root, root.start_mark.line
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child, first = value, key.start_mark.line
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            first = child.start_mark.line
        if child is None:
            break  # a long-form key inside a short tag, or an added key: the ancestor's lines
        node = child
    return set(range(first + 1, node.end_mark.line + 2))
