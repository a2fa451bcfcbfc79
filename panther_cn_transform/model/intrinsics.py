"""CloudFormation intrinsic functions: the short YAML tags and their long forms.

Rules must see `!Ref X` and `{"Ref": "X"}` as the same thing, so the loader turns every
short-form tag into its long form.  This module is the single table of that mapping and
the small helpers that recognise an intrinsic in the long-form model.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: Short YAML tag -> long-form key, as CloudFormation documents them.
SHORT_TAGS: Mapping[str, str] = MappingProxyType(
    {
        "!Ref": "Ref",
        "!Condition": "Condition",
        "!GetAtt": "Fn::GetAtt",
        "!Sub": "Fn::Sub",
        "!Join": "Fn::Join",
        "!Select": "Fn::Select",
        "!Split": "Fn::Split",
        "!If": "Fn::If",
        "!Equals": "Fn::Equals",
        "!And": "Fn::And",
        "!Or": "Fn::Or",
        "!Not": "Fn::Not",
        "!FindInMap": "Fn::FindInMap",
        "!Base64": "Fn::Base64",
        "!Cidr": "Fn::Cidr",
        "!ImportValue": "Fn::ImportValue",
        "!GetAZs": "Fn::GetAZs",
        "!Transform": "Fn::Transform",
        "!ToJsonString": "Fn::ToJsonString",
        "!Length": "Fn::Length",
        # Rule-specific functions, valid in a template's `Rules` section.
        "!Contains": "Fn::Contains",
        "!EachMemberEquals": "Fn::EachMemberEquals",
        "!EachMemberIn": "Fn::EachMemberIn",
        "!RefAll": "Fn::RefAll",
        "!ValueOf": "Fn::ValueOf",
        "!ValueOfAll": "Fn::ValueOfAll",
    }
)

#: Long-form key -> short tag (the inverse table), used when rendering new values.
LONG_TO_SHORT: Mapping[str, str] = MappingProxyType({v: k for k, v in SHORT_TAGS.items()})

#: Every key that makes a one-key mapping an intrinsic function.
INTRINSIC_KEYS = frozenset(SHORT_TAGS.values()) | {"Fn::ForEach"}


def long_name_of_tag(tag: str) -> str | None:
    """The long-form key for a YAML tag, or None for a tag CloudFormation does not know.

    A namespaced tag such as `!Rain::Embed` belongs to a pre-processing tool (Rain); it is
    kept as the opaque one-key mapping `{"!Rain::Embed": value}` so that such templates
    load and round-trip, and the tool that owns the tag can still expand it.
    """
    if tag in SHORT_TAGS:
        return SHORT_TAGS[tag]
    if tag.startswith("!") and "::" in tag and tag[1:2].isalpha():
        return tag
    return None


def intrinsic_name(value: Any) -> str | None:
    """The intrinsic's long name if `value` is a one-key intrinsic mapping, else None."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in INTRINSIC_KEYS:
            return str(key)
    return None


def split_getatt(value: str) -> list[str]:
    """`!GetAtt A.B.C` means resource `A`, attribute `B.C` (split on the first dot)."""
    return value.split(".", 1)
