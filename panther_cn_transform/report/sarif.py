"""The report as a SARIF 2.1.0 log, for code scanning (GitHub's upload-sarif, editors, CI).

Every warning and every blocker of the JSON report is one result at its file, line and
column, with its rule id and level: `warning` for a warning, `error` for a blocker (a
stack that will not create).  The run's `tool.driver.rules` lists the rules that ran
(the rule set, in order) and the built-in ids the results use beyond them: the blockers
(`blocker-runtime`, ...) and the warnings the transform itself makes about nested stacks.

Help: a rule with a `source_url` has it as its `helpUri`.  The SARIF specification wants
an absolute URI there, and this project's documentation has no published address yet, so
a rule without a `source_url` has no `helpUri`; its `help` text (and the property `docs`)
name the section of docs/rules.md that documents its action (`docs/rules.md#<action>`).

Places: the JSON report gives each warning and blocker its `line` and `column` when it was
built with `positions=True` (`build_report`, `template_entry`); columns count characters
(`columnKind: unicodeCodePoints`).  A transform's file is its path as given (relative paths
stay relative: code scanning resolves them against the repository's root); a release's
templates are keys under the source bucket (`uriBaseId` SOURCE, `s3://<bucket>/`), and
cfn-lint's errors, found in the output, keys under the target bucket (TARGET).

Plain dictionaries: `sarif-om`, the Python object model, needs two more packages to
serialise and has no types; tests/report/test_sarif.py validates the log against the
SARIF 2.1.0 JSON schema instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import metadata
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, urlparse

from ..ruleset.nested import RULE as NESTED_OUTPUTS_UNCHECKED
from ..ruleset.rule_files import RuleSet

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "panther-cn-transform"
_BLOCKERS_DOC = "docs/api.md#reports"

#: Result ids the transform and the report make themselves: id -> (description, level, where it is documented)
BUILTIN_RULES: dict[str, tuple[str, str, str]] = {
    "nested-stack-outputs": (
        ("A reference to an output that the transform of a nested stack removed is repaired or removed "
         "(release mode transforms the children first)."), "warning", "docs/api.md#transforming",
    ),
    NESTED_OUTPUTS_UNCHECKED: (
        ("The template reads outputs of its nested stacks, which a template transformed alone cannot check; "
         "release mode transforms the children first and repairs what they lost."), "warning", "docs/api.md#transforming",
    ),
    "blocker-runtime": (
        "A Lambda runtime AWS no longer lets anyone create functions with: the stack will not create.", "error", _BLOCKERS_DOC,
    ),
    "blocker-foreign-region": (
        ("An ARN, host or region value names a region outside the target's partition: a resource that cannot be "
         "reached from there."), "error", _BLOCKERS_DOC,
    ),
    "blocker-global-bucket": (
        "An asset is still read from a bucket of the global partition: copy it to the target bucket.", "error", _BLOCKERS_DOC,
    ),
    "blocker-foreign-template": (
        ("A nested template is read from outside the release bucket (another bucket or host): the release neither "
         "copies nor ports it."), "error", _BLOCKERS_DOC,
    ),
    "blocker-foreign-asset": (
        ("An asset property reads an object from outside the release bucket (another bucket or host): the release "
         "does not copy it."), "error", _BLOCKERS_DOC,
    ),
    "blocker-user-pool": (
        ("Something needs a Cognito user pool (an authorizer, OpenSearch's Cognito options, AppSync or ALB "
         "authentication) where the target region has none: use IAM authorization, a Lambda authorizer, or an "
         "identity provider outside the partition."), "error", _BLOCKERS_DOC,
    ),
    "blocker-lint": (
        "cfn-lint finds an error in the output that the input did not have (release mode with verification).",
        "error", _BLOCKERS_DOC,
    ),
}


def sarif_log(report: dict[str, Any], rules: RuleSet | None = None) -> dict[str, Any]:
    """The SARIF 2.1.0 log of `report` (`build_report`, or a release's report); `rules`: the rules that ran."""
    release = "source_bucket" in report
    results = list(_results(report, release))
    descriptors = _descriptors(rules, [result["ruleId"] for result in results])
    index = {descriptor["id"]: number for number, descriptor in enumerate(descriptors)}
    for result in results:
        result["ruleIndex"] = index[result["ruleId"]]
    driver: dict[str, Any] = {"name": TOOL_NAME}
    version = _version()
    if version:
        driver["version"] = driver["semanticVersion"] = version
    driver["rules"] = descriptors
    run: dict[str, Any] = {"tool": {"driver": driver}}
    if release:
        run["originalUriBaseIds"] = {
            "SOURCE": {"uri": f"s3://{report['source_bucket']}/", "description": {"text": "the source bucket"}},
            "TARGET": {"uri": f"s3://{report['bucket']}/", "description": {"text": "the China bucket"}},
        }
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = results
    run["properties"] = {"region": report["region"]}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: dict[str, Any], rules: RuleSet | None = None) -> str:
    """`sarif_log` as JSON text."""
    return json.dumps(sarif_log(report, rules), indent=2, ensure_ascii=False) + "\n"


def _results(report: dict[str, Any], release: bool) -> Iterator[dict[str, Any]]:
    for entry in report["templates"]:
        source = entry["source"]
        for warning in entry["warnings"]:
            yield _result(warning["rule"], "warning", warning["message"], _location(source, release, "SOURCE", warning),
                          warning["path"])
        for blocker in entry["blockers"]:
            yield _result(f"blocker-{blocker['kind']}", "error", blocker["message"],
                          _location(source, release, "SOURCE", blocker), blocker["path"])
        for error in entry.get("lint", []):  # found in the output: the object written under the same key
            output = entry.get("output") or source
            yield _result("blocker-lint", "error", f"{error['rule']} {error['message']}",
                          _location(output, release, "TARGET", error), None)


def _result(rule: str, level: str, message: str, location: dict[str, Any], pointer: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": rule, "level": level, "message": {"text": message}, "locations": [location]}
    if pointer is not None:
        result["properties"] = {"pointer": pointer}
    return result


def _location(file: str, release: bool, base: str, place: dict[str, Any]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(file, base if release else None)}
    if isinstance(place.get("line"), int):
        region = {"startLine": place["line"]}
        if isinstance(place.get("column"), int):
            region["startColumn"] = place["column"]
        physical["region"] = region
    return {"physicalLocation": physical}


def _artifact(file: str, base: str | None) -> dict[str, Any]:
    """The artifact location of `file`: a relative URI (under `base`), a file URI, or standard input described."""
    if file == "<stdin>":
        return {"description": {"text": "standard input"}}
    if base is not None:
        return {"uri": quote(file, safe="/"), "uriBaseId": base}
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix(), safe="/")}


def _descriptors(rules: RuleSet | None, used: list[str]) -> list[dict[str, Any]]:
    """The rules that ran, then the other ids the results use (built-in ones, or a rule not in `rules`)."""
    descriptors = [_rule_descriptor(rule.id, rule.description, rule.action, rule.source_url) for rule in (rules.rules if rules else ())]
    known = {descriptor["id"] for descriptor in descriptors}
    for rule_id in dict.fromkeys(used):
        if rule_id in known:
            continue
        known.add(rule_id)
        builtin = BUILTIN_RULES.get(rule_id)
        if builtin is None:
            descriptors.append({"id": rule_id, "defaultConfiguration": {"level": "warning"}})
            continue
        description, level, docs = builtin
        descriptors.append({
            "id": rule_id, "shortDescription": {"text": description}, "fullDescription": {"text": description},
            "help": {"text": f"{description} See {docs}.", "markdown": f"{description} See `{docs}`."},
            "defaultConfiguration": {"level": level}, "properties": {"docs": docs},
        })
    return descriptors


def _rule_descriptor(rule_id: str, description: str, action: str, source_url: str | None) -> dict[str, Any]:
    text = " ".join(description.split())
    docs = f"docs/rules.md#{action}"
    help_text = f"{text} What its action, {action}, changes and why: {docs}."
    help_markdown = f"{text}\n\nWhat its action, `{action}`, changes and why: `{docs}`."
    if source_url:
        help_text += f" Source: {source_url}"
        help_markdown += f" Source: <{source_url}>"
    descriptor: dict[str, Any] = {
        "id": rule_id, "shortDescription": {"text": _first_sentence(text)}, "fullDescription": {"text": text},
    }
    if source_url and urlparse(source_url).scheme in ("http", "https"):
        descriptor["helpUri"] = source_url
    descriptor["help"] = {"text": help_text, "markdown": help_markdown}
    descriptor["defaultConfiguration"] = {"level": "warning"}
    descriptor["properties"] = {"action": action, "docs": docs}
    return descriptor


def _first_sentence(text: str) -> str:
    """The first sentence of `text` (up to the first `. ` outside of a parenthesis), or all of it."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        elif char == "." and depth == 0 and text[index + 1:index + 2] in (" ", ""):
            return text[:index + 1]
    return text


def _version() -> str | None:
    try:
        return metadata.version(TOOL_NAME)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None
