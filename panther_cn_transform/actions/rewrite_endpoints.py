"""`rewrite_endpoints`: AWS endpoints in China end in `amazonaws.com.cn`."""

from __future__ import annotations

import fnmatch
import re
from typing import Any, ClassVar

from ..edits import Edit, EditLog
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext
from ..s3urls import find_references
from ..walk import REGION_PATTERN, in_arn, is_region, is_service_principal, is_sub_template

# a label is letters, digits and dashes, or a ${Variable} after any of those (`s3-website-${AWS::Region}`)
_HOST = re.compile(r"(?P<host>(?:(?:[A-Za-z0-9-]*\$\{[A-Za-z0-9:._-]+\}|[A-Za-z0-9-]+)\.)*)amazonaws\.com(?![A-Za-z0-9-]|\.cn)")
_BARE_SERVICE = re.compile(rf"^(?!.*-{REGION_PATTERN}\.)[a-z0-9-]+(?:\.(?!{REGION_PATTERN}\.)[a-z0-9-]+)?\.amazonaws\.com$")
# S3's legacy dashed hosts (`s3-us-west-1`, `s3-website-us-east-1`); China has only the dotted forms
_DASHED = re.compile(r"^(s3-website|s3)-(.+)$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION_SUFFIX = re.compile(f"-({REGION_PATTERN})$")


class RewriteEndpoints:
    """Rewrite endpoint host names to the China domain and the target region.

    A host naming the source region (`source_region`, or the region in the name of the
    template's asset buckets matching `source_region_from`) moves to the target region;
    any other hard-coded region outside China is a warning and is left as it is.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_endpoints",
        why=(
            '`sqs.us-west-1.amazonaws.com` does not resolve from China; the same endpoint is '
            '`sqs.cn-north-1.amazonaws.com.cn`. China has no global S3 endpoint, so a global S3 host gets the '
            'target region. Service principals are not endpoints and are left to `map_principals`; a bare '
            '`<svc>.amazonaws.com` with no region, scheme or path is almost always a principal in a property this '
            'tool does not know, so it is left alone too.'
        ),
        safety='Changes host names only; endpoints in other global regions or accounts are reported, not rewritten.',
        params=(
            Param('source_region', 'Region the template was built for; its endpoints move to the target region', {'type': 'string'}),
            Param('source_region_from', 'Bucket globs whose names end in the source region, used when source_region is empty', {'type': 'array', 'items': {'type': 'string'}}),
        ),
        example=(
            'Resources:\n'
            '  Fn:\n'
            '    Type: AWS::Lambda::Function\n'
            '    Properties:\n'
            '      Environment:\n'
            '        Variables:\n'
            '          QUEUE: !Sub https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/q\n'
            '          DOCS: https://b.s3.amazonaws.com/readme.txt\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        source_region = str(rule.params.get("source_region") or context.variables.get("source_region") or "")
        if not source_region:
            source_region = _region_of_buckets(log.original, rule.params.get("source_region_from") or [])
        edits: list[Edit] = []
        warnings: list[Finding] = []
        for path, value in log.strings():
            if "amazonaws.com" not in value or is_service_principal(path):
                continue
            if _BARE_SERVICE.match(value):
                continue
            sub = is_sub_template(path)
            pieces: list[str] = []
            fragments: list[tuple[str, str]] = []
            position = 0
            notes: list[str] = []
            for match in _HOST.finditer(value):
                if in_arn(value, match.start()):
                    continue
                old = match.group(0)
                new, problem = self._rewrite_host(match.group("host"), context.region, source_region, sub)
                if problem:
                    warnings.append(Finding(path, f"{old}: {problem}; left as is", rule.id))
                    continue
                pieces.append(value[position : match.start()] + new)
                position = match.end()
                if (old, new) not in fragments:
                    fragments.append((old, new))
                notes.append(new)
            if not fragments:
                continue
            pieces.append(value[position:])
            new_value = "".join(pieces)
            hosts = ", ".join(dict.fromkeys(notes))
            edits.append(
                Edit(path, "replace", rule.id, f"endpoint rewritten for China: {hosts}", value=new_value, fragments=tuple(fragments))
            )
        for edit in edits:
            log.apply(edit)
        return warnings

    @staticmethod
    def _rewrite_host(host: str, region: str, source_region: str, sub: bool) -> tuple[str, str | None]:
        labels = host.split(".")[:-1] if host else []
        out: list[str] = []
        for label in labels:
            if _ACCOUNT.match(label):
                return "", f"endpoint of account {label} in the global partition cannot be reached from China"
            dashed = _DASHED.match(label)
            candidate = label
            if dashed and (is_region(dashed.group(2)) or dashed.group(2) == "${AWS::Region}"):
                out.append(dashed.group(1))  # `s3-website-us-east-1` is `s3-website.<region>` in China
                candidate = dashed.group(2)
                if candidate == "${AWS::Region}":
                    out.append(candidate)
                    continue
            if is_region(candidate):
                if candidate.startswith("cn-"):
                    out.append(candidate)
                elif candidate == source_region:
                    out.append(region)
                else:
                    return "", f"hard-coded region {candidate} is outside China"
                continue
            if label == "s3-external-1":
                out.append("s3")
                out.append("${AWS::Region}" if sub else region)
                continue
            out.append(label)
        if out and out[-1] == "s3":  # global S3 endpoint: China has only regional ones
            out.append("${AWS::Region}" if sub else region)
        return "".join(label + "." for label in out) + "amazonaws.com.cn", None


def _region_of_buckets(model: Any, globs: list[str]) -> str:
    """The region in the name of the template's asset buckets (`panther-enterprise-us-west-1`).

    Read from the template as it was (an earlier rule may already have rewritten the
    buckets); empty when none or more than one region is found.
    """
    regions = set()
    for reference in find_references(model):
        if any(fnmatch.fnmatchcase(reference.bucket, glob) for glob in globs):
            match = _REGION_SUFFIX.search(reference.bucket)
            if match:
                regions.add(match.group(1))
    return regions.pop() if len(regions) == 1 else ""
