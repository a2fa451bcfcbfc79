"""`add_fragment`: add resources, outputs or other entries a China deployment needs."""

from __future__ import annotations

import fnmatch
from typing import Any, ClassVar

from ...model.edits import Edit, EditLog, JsonPath
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

_SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs")


class AddFragment:
    """Add each entry of `fragment` (a mapping of template sections) to the template.

    With `root_only`, only a release's root template gets it; with `when_resources`,
    only a template that has all those logical ids (globs).  An entry that already
    exists with the same value is left alone (so a second run changes nothing); one
    that exists with another value is a warning, unless `merge` is set: then the
    fragment's mapping keys that the entry lacks are added and its list items that the
    entry lacks are appended (so a fragment can add `DependsOn` entries or a nested
    stack's parameter to an existing resource), and only a differing scalar is a warning.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="add_fragment",
        why=(
            "Some China ports need something the global template does not have (Panther's backend in China needs "
            'a bridge API that its web application, which stays in a global region, can call). The fragment is '
            'declared in the rule file, in long form.'
        ),
        safety='Adds entries; an existing one is never overwritten (with `merge`, only its missing keys and list items are added); a conflict is reported.',
        params=(
            Param('root_only', "Only a release's root template gets the fragment", {'type': 'boolean'}, default=False),
            Param('when_resources', 'Only templates that have all these logical ids (globs)', {'type': 'array', 'items': {'type': 'string'}}),
            Param('merge', 'Merge into existing entries: add missing keys, append missing list items (a differing scalar is a warning)', {'type': 'boolean'}, default=False),
            Param('fragment', 'Template sections to add, in long form', {'type': 'object', 'additionalProperties': False, 'minProperties': 1, 'properties': {'Parameters': {'type': 'object'}, 'Mappings': {'type': 'object'}, 'Conditions': {'type': 'object'}, 'Resources': {'type': 'object'}, 'Outputs': {'type': 'object'}}}, required=True),
        ),
        example="Resources:\n  Core:\n    Type: AWS::SNS::Topic\n",
        example_params={'when_resources': ['Core'], 'fragment': {'Outputs': {'CoreTopic': {'Value': {'Ref': 'Core'}}}}},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        if rule.params.get("root_only") and not context.is_root:
            return []
        resources = log.model.get("Resources") or {}
        for pattern in rule.params.get("when_resources") or []:
            if not any(fnmatch.fnmatchcase(logical_id, pattern) for logical_id in resources):
                return []
        warnings: list[Finding] = []
        fragment: dict[str, Any] = rule.params.get("fragment") or {}
        for section in _SECTIONS:
            entries = fragment.get(section)
            if not entries:
                continue
            if section not in log.model:
                log.apply(Edit((section,), "add", rule.id, f"{section} added for {rule.description.split('.')[0].lower()}", value=dict(entries)))
                continue
            for name, value in entries.items():
                existing = log.model[section].get(name)
                if existing == value:
                    continue
                if existing is not None and rule.params.get("merge"):
                    warnings += _merge(log, (section, name), existing, value, rule)
                    continue
                if existing is not None:
                    warnings.append(Finding((section, name), f"{section[:-1].lower()} {name} already exists and differs from the rule's; kept", rule.id))
                    continue
                log.apply(Edit((section, name), "add", rule.id, rule.description.split(".")[0], value=value))
        return warnings


def _merge(log: EditLog, path: JsonPath, existing: Any, wanted: Any, rule: BoundRule) -> list[Finding]:
    """Add what `existing` lacks of `wanted`: missing keys, missing list items; differing scalars are warnings."""
    if existing == wanted:
        return []
    if isinstance(existing, dict) and isinstance(wanted, dict):
        warnings: list[Finding] = []
        for key, value in wanted.items():
            if key in existing:
                warnings += _merge(log, path + (key,), existing[key], value, rule)
            else:
                log.apply(Edit(path + (key,), "add", rule.id, rule.description.split(".")[0], value=value))
        return warnings
    if isinstance(wanted, list) and (isinstance(existing, list) or (path[-1] == "DependsOn" and isinstance(existing, str))):
        present = existing if isinstance(existing, list) else [existing]
        missing = [item for item in wanted if item not in present]
        if missing:
            log.apply(Edit(path, "replace", rule.id, rule.description.split(".")[0], value=[*present, *missing]))
        return []
    where = "/".join(str(p) for p in path)
    return [Finding(path, f"{where} already exists and differs from the rule's; kept", rule.id)]
