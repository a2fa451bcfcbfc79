"""The `map_principals` action: the few service principals that differ."""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ...model.edits import Edit, EditLog
from ...model.text_span import PartEditor
from ...model.walk import (
    REGION_PATTERN,
    is_region,
    is_service_principal,
    is_sub_template,
    is_text_field,
    join_parts_across,
    join_view,
)
from ...partitions.hosts import REGION_PSEUDO, URL_SUFFIX_PSEUDO, in_principal_text
from ...partitions.partition import Partition
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, RuleContext


@functools.cache
def _principal_pattern(suffixes: tuple[str, ...]) -> re.Pattern[str]:
    """`<svc>[.<region> | .${AWS::Region}].<suffix>` where suffix is a partition's DNS suffix or `${AWS::URLSuffix}`."""
    alternatives = "|".join(re.escape(s) for s in sorted(suffixes, key=len, reverse=True))
    return re.compile(
        r"(?<![\w.$/-])(?P<svc>[a-z0-9-]+(?:\.[a-z0-9-]+)*?)"
        rf"(?P<region>\.(?:{REGION_PATTERN}|\$\{{AWS::Region\}}))?"
        rf"\.(?P<suffix>{alternatives}|\$\{{AWS::URLSuffix\}})(?![\w-]|\.[A-Za-z0-9])"
    )


class MapPrincipals:
    """Rewrites the service principals that the target partition's `principals` table names (a
    partition file fact): `regional` is `<svc>.<region>.<dns suffix>`, `global` is `<svc>.<dns
    suffix>`. It finds them wherever a principal is written: policy objects, `Fn::Sub` strings
    and `Fn::Join` parts, and text that names them as principals (a JSON-string policy, a
    `Principal=` in inline code). Services in the partition's `uncertain_principals` are kept
    and reported; a principal written with `${AWS::URLSuffix}` is left alone, and reported when
    it evaluates to something else than the table says.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="map_principals",
        why=(
            "In China almost every service keeps `<svc>.amazonaws.com` as its principal, so a blanket rewrite to "
            "`.amazonaws.com.cn` breaks trust policies (mapbox/cloudfriend#56, aws-cdk#2198). A handful differ "
            "(logs, codedeploy: regional `.com.cn`; elasticmapreduce, ec2: `.com.cn`). The table is partition "
            "data, not code."
        ),
        safety=(
            "Changes only the principals the table names; every other principal keeps its form. A principal with "
            "a hard-coded region outside the partition is reported, never half-rewritten."
        ),
        example=(
            "Resources:\n"
            "  Role:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      AssumeRolePolicyDocument:\n"
            "        Statement:\n"
            "          - Effect: Allow\n"
            "            Principal:\n"
            "              Service: [ec2.amazonaws.com, lambda.amazonaws.com]\n"
            "            Action: sts:AssumeRole\n"
            "  Legacy:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      AssumeRolePolicyDocument: '{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
            "\"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}'\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        source, target = context.source_partition, context.partition
        pattern = _principal_pattern((source.dns_suffix, target.dns_suffix))
        edits: list[Edit] = []
        findings: list[Finding] = []
        candidates = log.strings_containing(source.dns_suffix, target.dns_suffix, "URLSuffix")
        seen = {path for path, _ in candidates}  # and the Join parts a suffix runs across, looked at the same way
        suffixes = (source.dns_suffix, target.dns_suffix)
        candidates += [entry for entry in join_parts_across(log.mappings_with("Fn::Join"), suffixes) if entry[0] not in seen]
        for path, value in candidates:
            structural = is_service_principal(path)
            if not structural and is_text_field(path) or target.elsewhere(path):
                continue
            view = join_view(log.model, path) if structural else None
            text, part_start, part_end = (view.text, view.start, view.end) if view else (value, 0, len(value))
            pseudo = is_sub_template(path)
            part = PartEditor(text, part_start, part_end)
            reasons: list[str] = []
            for match in pattern.finditer(text):
                whole = match.start() == 0 and match.end() == len(text)
                if structural and not whole or not structural and not in_principal_text(text, match.start()):
                    continue
                if not part_start < match.end() <= part_end:
                    continue
                wanted, problem = _wanted(match, source, target, context.region, pseudo or view is not None)
                if problem:
                    findings.append(Finding(path, f"service principal {match.group(0)!r}: {problem}", rule.id))
                    continue
                if wanted is None or wanted == match.group(0):
                    continue
                if not part.replace(match.start(), match.group(0), wanted):
                    findings.append(Finding(path, f"service principal built with Fn::Join should be {wanted}; rewrite it by hand", rule.id))
                    continue
                reasons.append(f"service principal {match.group('svc')} is {wanted} in {target.name} ({target.facts.principals[match.group('svc')]})")
            if part.fragments and part.value != value:
                edits.append(Edit(path, "replace", rule.id, "; ".join(dict.fromkeys(reasons)), value=part.value, old=value, fragments=tuple(part.fragments)))
        for edit in edits:
            log.apply(edit)
        return findings


def _wanted(match: re.Match[str], source: Partition, target: Partition, region: str, pseudo: bool) -> tuple[str | None, str | None]:
    """(the principal to write or None to keep it, or a problem to report)."""
    service, suffix = match.group("svc"), match.group("suffix")
    written_region = (match.group("region") or "")[1:]
    if service in target.facts.uncertain_principals:
        return None, target.facts.uncertain_principals[service]
    region_text = written_region or (REGION_PSEUDO if pseudo else region)
    expected = target.principal(service, region_text)
    if suffix == URL_SUFFIX_PSEUDO:
        evaluated = f"{service}.{written_region + '.' if written_region else ''}{target.dns_suffix}"
        usual = expected or f"{service}.{written_region + '.' if written_region else ''}{source.dns_suffix}"
        if evaluated != usual:
            return None, f"evaluates to {evaluated} in {target.name}, where the principal is {usual}; left as is"
        return None, None
    if expected is None:
        return None, None
    if suffix != source.dns_suffix and suffix == target.dns_suffix:
        return None, None  # written for the target partition already
    if written_region and is_region(written_region) and not target.has_region(written_region):
        return None, f"hard-coded region {written_region} is outside {target.name} (there it would be {expected}); left as is"
    if target.facts.principals.get(service) == "global" and written_region:
        return None, None  # a regional form of a global principal: not what the table describes
    return expected, None
