"""Port AWS CloudFormation templates to the AWS China partition (aws-cn).

Parse once, let declarative rules plan edits, render the edits into the template's own
text, and report every change as an RFC 6902 JSON Patch plus a readable account.

    >>> from panther_cn_transform import load_rules, transform_text
    >>> result = transform_text(
    ...     "Resources:\\n  R:\\n    Type: AWS::IAM::Role\\n    Properties:\\n"
    ...     "      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\\n",
    ...     load_rules("china"),
    ...     region="cn-north-1",
    ... )
    >>> print(result.text, end="")
    Resources:
      R:
        Type: AWS::IAM::Role
        Properties:
          ManagedPolicyArns: [arn:aws-cn:iam::aws:policy/ReadOnlyAccess]
"""

from .decode import Template, decode_bytes, decode_text, read_template
from .edits import Edit, to_pointer
from .errors import (
    EditConflict,
    InputError,
    OutputError,
    RegionError,
    ReleaseError,
    RenderError,
    RuleFileError,
    TemplateError,
    TransformError,
)
from .findings import Finding
from .limits import Limits
from .release import ReleaseResult, check_manifest, transform_release
from .report import build_report, format_report
from .ruleset import Rule, RuleSet, builtin_packs, load_rules
from .transform import TransformResult, transform, transform_file, transform_text

#: The former name of `Finding`, kept because the public API exported it (it shadows the builtin; prefer `Finding`).
Warning = Finding

__all__ = [
    "Edit",
    "EditConflict",
    "Finding",
    "InputError",
    "Limits",
    "OutputError",
    "RegionError",
    "ReleaseError",
    "ReleaseResult",
    "RenderError",
    "Rule",
    "RuleFileError",
    "RuleSet",
    "Template",
    "TemplateError",
    "TransformError",
    "TransformResult",
    "Warning",
    "build_report",
    "builtin_packs",
    "check_manifest",
    "decode_bytes",
    "decode_text",
    "format_report",
    "load_rules",
    "read_template",
    "to_pointer",
    "transform",
    "transform_file",
    "transform_release",
    "transform_text",
]
