"""Generate `rules/schema.json` from the actions' specs (never edited by hand).

The top level of a rule file is described here; each action's parameters come from its
`ActionSpec`, so adding an action or a parameter changes the schema with it.  A test
fails when the shipped schema differs from `render_schema()`; regenerate it with
`python -m panther_cn_transform rules schema > rules/schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from .actions import ACTIONS
from .rule_api import ActionSpec

_COMMON_RULE_KEYS = ("id", "description", "source_url", "action")


def build_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a rule file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/panther-labs/panther-cn-transform/rules/schema.json",
        "title": "panther-cn-transform rule file",
        "description": "Rules that port CloudFormation templates to another AWS partition. See docs/rules.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["rules"],
        "properties": {
            "version": {"title": "Rule file format version", "const": 1},
            "name": {"title": "Name of this rule pack", "type": "string"},
            "description": {"title": "What this pack is for", "type": "string"},
            "extends": {
                "title": "Packs or files whose rules run before this file's",
                "description": "A built-in pack name (china, panther) or a path relative to this file.",
                "oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string", "minLength": 1}}],
            },
            "variables": {
                "title": "Default values of ${variables}; the caller's values win",
                "type": "object",
                "propertyNames": {"pattern": "^[a-z_][a-z0-9_]*$"},
                "additionalProperties": {"type": "string"},
            },
            "assets": {
                "title": "Files this pack ships into a release: variable -> file in panther_cn_transform/ruleset/assets/",
                "description": "The file is zipped; the variable holds the zip's object key (its SHA-1), and release mode writes the object beside the release's assets.",
                "type": "object",
                "propertyNames": {"pattern": "^[a-z_][a-z0-9_]*$"},
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "disable": {"title": "Ids of extended rules to drop", "type": "array", "items": {"type": "string"}},
            "partition": {
                "title": "The partition the rules port to (its regions are the valid --region values)",
                "description": "A shipped partition (aws-cn, aws-us-gov), a path to a partition file relative to this file, or the facts inline.",
                "oneOf": [{"type": "string", "minLength": 1}, {"$ref": "#/$defs/partition"}],
            },
            "regions": {
                "title": "The regions this pack ports to (default: every region of its partition); --region must be one of them",
                "description": "A later file's list replaces the one of the pack it extends.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$"},
            },
            "source_partition": {
                "title": "The partition templates are written for (default: aws)",
                "oneOf": [{"type": "string", "minLength": 1}, {"$ref": "#/$defs/partition"}],
            },
            "rules": {"title": "The rules, in the order they run", "type": "array", "items": {"$ref": "#/$defs/rule"}},
        },
        "$defs": {
            "partition": _PARTITION,
            "rule": {
                "title": "One rule: an id, a description a reviewer can read, and one action",
                "type": "object",
                "required": ["id", "description", "action"],
                "properties": {
                    "id": {"title": "Rule id, unique in the effective rule set", "type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"},
                    "description": {"title": "What the rule changes and why the target partition needs it", "type": "string", "minLength": 1},
                    "source_url": {"title": "Where the fact behind this rule is documented", "type": "string", "format": "uri"},
                    "action": {"title": "What kind of change the rule makes", "enum": list(ACTIONS)},
                },
                "allOf": [_action_schema(action.spec) for action in ACTIONS.values()],
            },
        },
    }


_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
_HOST_TEMPLATE = {"type": "string", "pattern": "^[^/\\s]*\\{dns_suffix\\}$"}

#: A partition file (rules/partitions/<name>.yml) or a pack's inline `partition:` block: the
#: facts botocore's endpoint data does not hold (partition.py).
_PARTITION: dict[str, Any] = {
    "title": "Facts about one partition that botocore's endpoint data does not hold",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"title": "The partition's name in botocore (aws, aws-cn, aws-us-gov ...)", "type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "description": {"title": "What the partition is", "type": "string"},
        "source_urls": {"title": "Where these facts are documented", "type": "array", "items": {"type": "string", "format": "uri"}},
        "console_host": {"title": "Host of the management console (variable ${console_host})", "type": "string"},
        "signin_host": {"title": "Host of the console sign-in (variable ${signin_host})", "type": "string"},
        "principals": {
            "title": "Service principals that differ from <service>.amazonaws.com: regional (<svc>.<region>.<dns suffix>) or global (<svc>.<dns suffix>)",
            "type": "object",
            "additionalProperties": {"enum": ["regional", "global"]},
        },
        "uncertain_principals": {
            "title": "Service -> why its principal here is uncertain; kept and reported",
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        "vpc_endpoint_names": {
            "title": "How AWS::EC2::VPCEndpoint service names are formed: <prefix>.<region>.<service>[<suffix>]",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "default_prefix": {"title": "Prefix of gateway endpoints and unlisted services", "type": "string", "default": "com.amazonaws"},
                "interface_prefix": {"title": "Prefix of the interface endpoints listed in interface_services", "type": "string"},
                "interface_services": {
                    "title": "Region -> services whose interface endpoints take interface_prefix",
                    "type": "object",
                    "additionalProperties": _NAMES,
                },
                "interface_suffixes": {
                    "title": "Service -> suffix of its interface endpoint name",
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "resource_hosts": {
            "title": "Hosts botocore does not list (of resources, or regional hosts such as S3 website endpoints): name -> templates with {resource}, {region}, {dns_suffix}; the first is written",
            "type": "object",
            "additionalProperties": {"oneOf": [_HOST_TEMPLATE, {"type": "array", "minItems": 1, "items": _HOST_TEMPLATE}]},
        },
        "host_aliases": {
            "title": "Older host forms -> the endpoint shape botocore lists ({region}, {dns_suffix} slots)",
            "type": "object",
            "additionalProperties": {"type": "string"},
        },
        "download_hosts": {
            "title": "Hosts scripts download from that are slow or unreachable from this partition's regions (warned once per script)",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "hosts", "source_url"],
                "properties": {
                    "name": {"title": "What the hosts serve (PyPI, GitHub ...)", "type": "string", "minLength": 1},
                    "hosts": {"title": "Host names; a script that names one in a download command is warned", "type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[a-z0-9.-]+$"}},
                    "commands": {"title": "Commands that download from the first host unless the line names another (pip install, npm install)", "type": "array", "items": {"type": "string", "minLength": 1}},
                    "source_url": {"title": "Where the problem is reported", "type": "string", "format": "uri"},
                },
            },
        },
        "attribute_hosts": {
            "title": "What a resource attribute holds (Type.Attribute -> host template with {resource}, {region}, {dns_suffix}): "
                     "a host inside a pattern matched against it follows it",
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+\\.[A-Za-z0-9.]+$"},
            "additionalProperties": _HOST_TEMPLATE,
        },
    },
}


def _action_schema(spec: ActionSpec) -> dict[str, Any]:
    """`if action is <name> then only its parameters`, with titles and defaults from the spec."""
    properties: dict[str, Any] = {key: True for key in _COMMON_RULE_KEYS}
    for param in spec.params:
        schema: dict[str, Any] = {"title": param.title, **param.schema}
        if param.default is not None:
            schema["default"] = param.default
        properties[param.name] = schema
    then: dict[str, Any] = {"properties": properties, "additionalProperties": False}
    required = [param.name for param in spec.params if param.required]
    if required:
        then["required"] = required
    then.update(spec.schema_extra)
    return {"if": {"properties": {"action": {"const": spec.name}}}, "then": then}


def render_schema() -> str:
    """The text of `rules/schema.json`."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"
