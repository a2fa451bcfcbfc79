"""`replace_text`: regular-expression replacements inside string values."""

from __future__ import annotations

import fnmatch
from typing import ClassVar

from ...model.edits import Edit, EditLog, to_pointer
from ...model.walk import is_service_principal
from ..findings import Finding
from ..patterns import Deadline, PatternTimeout, compile_replacement
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class ReplaceText:
    """Apply each `{pattern, replace}` of `replacements` to every string value.

    With `paths` (JSON Pointer globs, e.g. `/Mappings/Constants/*/Version`), only to the
    strings at those places; with `root_only`, only in a release's root template.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="replace_text",
        why=(
            'Some China differences are plain text facts, such as the console living at `console.amazonaws.cn`. '
            'The replacement runs on each string value of the model (never on the raw file), so comments, keys '
            'and layout are untouched.'
        ),
        safety='Changes only the text the patterns match, in the strings `paths` selects; service principals are never touched.',
        params=(
            Param('replacements', 'Regular-expression replacements applied to every string value', {'type': 'array', 'minItems': 1, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['pattern', 'replace'], 'properties': {'pattern': {'title': 'Python regular expression', 'type': 'string', 'format': 'regex'}, 'replace': {'title': 'Replacement (\\\\1 for groups)', 'type': 'string'}}}}, required=True),
            Param('paths', 'Only strings at these JSON Pointers (globs, e.g. /Mappings/Constants/*/Version)', {'type': 'array', 'items': {'type': 'string', 'pattern': '^/'}}),
            Param('root_only', "Only a release's root template", {'type': 'boolean'}, default=False),
        ),
        example=(
            'Outputs:\n'
            '  Console:\n'
            '    Value: https://us-west-2.console.aws.amazon.com/cloudformation/home\n'
            'Resources:\n'
            '  T:\n'
            '    Type: AWS::SNS::Topic\n'
        ),
        example_params={'replacements': [{'pattern': 'https://(?:[a-z0-9-]+\\.)?console\\.aws\\.amazon\\.com', 'replace': 'https://console.amazonaws.cn'}]},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        # compiled and tested when the rule file was loaded (patterns.py); cached, so this is a lookup
        replacements = [compile_replacement(str(r["pattern"]), str(r["replace"])) for r in rule.params.get("replacements", [])]
        paths = [str(p) for p in rule.params.get("paths") or []]
        if not replacements or (rule.params.get("root_only") and not context.is_root):
            return []
        deadline = Deadline()  # one budget for this rule over this template: a slow pattern cannot hang the run
        edits: list[Edit] = []
        # Text every match contains: a string without any of them cannot match and is not
        # searched, so no time is spent on it.  The budget is checked before the first
        # string (a budget already spent is named there) and by every search.
        needles = [r.needle for r in replacements]
        strings = log.strings()
        candidates = log.strings_containing(*needles) if all(needles) else strings  # type: ignore[arg-type]
        try:
            if strings:
                deadline.remaining(replacements[0].pattern.pattern)
        except PatternTimeout as exc:
            raise exc.at(to_pointer(strings[0][0])) from None
        for path, value in candidates:
            if paths and not any(fnmatch.fnmatchcase(to_pointer(path), glob) for glob in paths):
                continue
            try:
                if is_service_principal(path) or not any(r.search(value, deadline) for r in replacements):
                    continue
                new = value
                fragments: list[tuple[str, str]] = []
                for replacement in replacements:
                    for pair in replacement.fragments(new, deadline):
                        if pair[0] != pair[1] and pair not in fragments:
                            fragments.append(pair)
                    new = replacement.sub(new, deadline)
            except PatternTimeout as exc:
                raise exc.at(to_pointer(path)) from None
            if new != value:
                edits.append(Edit(path, "replace", rule.id, rule.description.split(".")[0], value=new, fragments=tuple(fragments)))
        for edit in edits:
            log.apply(edit)
        return []
