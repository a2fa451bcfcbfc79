"""`map_principals`: the few service principals that differ in China."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ..edits import Edit, EditLog, JsonPath
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext
from ..walk import REGION_PATTERN, is_service_principal, is_sub_template

# <svc>[.<region> | .${AWS::Region}].(amazonaws.com | ${AWS::URLSuffix})
_PRINCIPAL = re.compile(
    r"^(?P<svc>[a-z0-9-]+(?:\.[a-z0-9-]+)*?)"
    rf"(?P<region>\.(?:{REGION_PATTERN}|\$\{{AWS::Region\}}))?"
    r"\.(?P<suffix>amazonaws\.com(?:\.cn)?|\$\{AWS::URLSuffix\})$"
)


class MapPrincipals:
    """Rewrite service principals named in the rule's `principals` table.

    Each entry is `<service>: regional` (`<svc>.<region>.amazonaws.com.cn`) or
    `<service>: global` (`<svc>.amazonaws.com.cn`).  Services in `warn` are left as they
    are with the rule's message as a warning.  Applies to plain strings, `Fn::Sub`
    strings and `Fn::Join` parts wherever a service principal is expected.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="map_principals",
        why=(
            'In China almost every service keeps `<svc>.amazonaws.com` as its principal, so a blanket rewrite to '
            '`.amazonaws.com.cn` breaks trust policies (mapbox/cloudfriend#56, aws-cdk#2198). A handful differ '
            '(logs, codedeploy: regional `.com.cn`; elasticmapreduce, ec2: `.com.cn`). The table lives in the '
            'rule file, not in code.'
        ),
        safety='Changes only the principals the table names; everything else keeps `<svc>.amazonaws.com`.',
        params=(
            Param('principals', 'Service -> regional (<svc>.<region>.amazonaws.com.cn) or global (<svc>.amazonaws.com.cn)', {'type': 'object', 'additionalProperties': {'enum': ['regional', 'global']}}, required=True),
            Param('warn', 'Service -> warning message; the principal is kept', {'type': 'object', 'additionalProperties': {'type': 'string'}}),
        ),
        example=(
            'Resources:\n'
            '  Role:\n'
            '    Type: AWS::IAM::Role\n'
            '    Properties:\n'
            '      AssumeRolePolicyDocument:\n'
            '        Statement:\n'
            '          - Effect: Allow\n'
            '            Principal:\n'
            '              Service: [ec2.amazonaws.com, lambda.amazonaws.com]\n'
            '            Action: sts:AssumeRole\n'
        ),
        example_params={'principals': {'ec2': 'global'}},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        table: dict[str, str] = dict(rule.params.get("principals") or {})
        warn: dict[str, str] = dict(rule.params.get("warn") or {})
        edits: list[Edit] = []
        warnings: list[Finding] = []
        for path, value in log.strings():
            if "amazonaws.com" not in value and "URLSuffix" not in value or not is_service_principal(path):
                continue
            joined = _join_view(log.model, path)
            text = joined if joined is not None else value
            match = _PRINCIPAL.match(text)
            if not match:
                continue
            service = match.group("svc")
            if service in warn:
                warnings.append(Finding(path, f"service principal {text!r}: {warn[service]}", rule.id))
                continue
            style = table.get(service)
            if style is None:
                continue
            sub = is_sub_template(path) or joined is not None
            region = "${AWS::Region}" if sub else context.region
            wanted = f"{service}.{region}.amazonaws.com.cn" if style == "regional" else f"{service}.amazonaws.com.cn"
            if text == wanted or (style == "regional" and match.group("region") and match.group("suffix") == "amazonaws.com.cn"):
                continue
            reason = f"service principal {service} is {wanted} in China ({style})"
            if joined is None:
                edits.append(Edit(path, "replace", rule.id, reason, value=wanted))
            elif value.endswith("amazonaws.com") and text + ".cn" == wanted:
                edits.append(Edit(path, "replace", rule.id, reason, value=value + ".cn", fragments=(("amazonaws.com", "amazonaws.com.cn"),)))
            else:
                warnings.append(Finding(path, f"service principal built with Fn::Join should be {wanted}; rewrite it by hand", rule.id))
        for edit in edits:
            log.apply(edit)
        return warnings


def _join_view(model: Any, path: JsonPath) -> str | None:
    """The whole string an `Fn::Join` part belongs to, with Refs as `${...}`; None if not a Join part."""
    if len(path) < 3 or path[-3] != "Fn::Join" or path[-2] != 1:
        return None
    join = model
    for part in path[:-3]:
        join = join[part]
    delimiter, parts = join["Fn::Join"]
    if not isinstance(delimiter, str) or not isinstance(parts, list):
        return None
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and list(part) == ["Ref"] and isinstance(part["Ref"], str):
            texts.append("${" + part["Ref"] + "}")
        else:
            return None
    return delimiter.join(texts)
