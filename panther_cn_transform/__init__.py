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

import importlib as _importlib
import sys as _sys
import types as _types
import typing as _typing

if _typing.TYPE_CHECKING:
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
    from .limits import Limits
    from .model.decode import Template, decode_bytes, decode_text, read_template
    from .model.edits import Edit, to_pointer
    from .release.manifest import check_manifest
    from .release.pipeline import ReleaseResult, transform_release
    from .report.json_report import build_report, format_report
    from .ruleset.findings import Finding
    from .ruleset.rule_files import Rule, RuleSet, builtin_packs, load_rules
    from .transform import TransformResult, transform, transform_file, transform_text

    #: The former name of `Finding`, kept because the public API exported it (it shadows the builtin; prefer `Finding`).
    Warning = Finding

# Where each public name lives.  The names are imported on first use (PEP 562), not with the package: the
# command line imports the package, and `--help` should not pay for YAML, JSON Schema, botocore and the
# process pool it never uses (docs/performance.md, "Start-up").
_EXPORTS: dict[str, tuple[str, str]] = {
    **{name: (".model.decode", name) for name in ("Template", "decode_bytes", "decode_text", "read_template")},
    **{name: (".model.edits", name) for name in ("Edit", "to_pointer")},
    **{name: (".errors", name) for name in (
        "EditConflict", "InputError", "OutputError", "RegionError", "ReleaseError", "RenderError", "RuleFileError",
        "TemplateError", "TransformError",
    )},
    "Finding": (".ruleset.findings", "Finding"),
    "Warning": (".ruleset.findings", "Finding"),
    "Limits": (".limits", "Limits"),
    "check_manifest": (".release.manifest", "check_manifest"),
    **{name: (".release.pipeline", name) for name in ("ReleaseResult", "transform_release")},
    **{name: (".report.json_report", name) for name in ("build_report", "format_report")},
    **{name: (".ruleset.rule_files", name) for name in ("Rule", "RuleSet", "builtin_packs", "load_rules")},
    **{name: (".transform", name) for name in ("TransformResult", "transform", "transform_file", "transform_text")},
}


def __getattr__(name: str) -> _typing.Any:
    """Import a public name on first use and keep it in the package namespace."""
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module_name, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


class _Package(_types.ModuleType):
    """The package module, keeping its public names when a submodule of the same name is imported.

    Importing `panther_cn_transform.transform` (the module) binds the package attribute `transform` to that
    module; with the names imported lazily nothing would rebind it to the function, so the binding is kept
    as the export.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, _types.ModuleType) and name in _EXPORTS:
            value = getattr(value, _EXPORTS[name][1])
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package

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
