"""The `rewrite_endpoints` action: service endpoints of the target partition."""

from __future__ import annotations

import bisect
import fnmatch
from typing import Any, ClassVar

from ...model.edits import Edit, EditLog, JsonPath
from ...model.text_span import PartEditor
from ...model.walk import JoinViews, in_arn, is_service_principal, is_sub_template, is_text_field, join_parts_across
from ...partitions.bucket_names import region_of_bucket_name
from ...partitions.hosts import (
    URL_SUFFIX_PSEUDO,
    HostContext,
    HostMatch,
    decide,
    decide_pattern,
    find_hosts,
    getatt_subjects,
    in_principal_text,
    pattern_tool,
)
from ...partitions.s3urls import find_references
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class RewriteEndpoints:
    """Rewrites a host on the source partition's domain only when the data says what it is: a
    service endpoint in botocore's endpoint data (moved to the same endpoint of the target
    partition, if the target has it), or the host of one of the stack's own resources
    (`${Bucket}.s3...`, `${Api}.execute-api...`, listed in the partition files). A host naming
    the source region (`source_region`, or the region in the name of the template's asset
    buckets matching `source_region_from`) moves to the target region. Everything else is left
    as it is and reported with the reason: download sites, other owners' buckets, hosts in
    another region, services the target partition lacks. A host built with `${AWS::URLSuffix}`
    in an `Fn::Sub` is evaluated for the target: one the target lacks (`s3.${AWS::URLSuffix}`,
    China's S3 endpoints being regional) is rewritten to the form the data gives
    (`s3.${AWS::Region}.${AWS::URLSuffix}`) or reported. A host inside a pattern (`sed`,
    `grep`, `awk`, a regular expression) is not an endpoint: it follows what the resource
    attribute it is matched against holds in the target (`GetAtt Bucket.DomainName` is
    `<bucket>.s3.amazonaws.com.cn` in China), and is reported where no data says which.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_endpoints",
        why=(
            "`sqs.us-west-1.amazonaws.com` does not resolve from China; the same endpoint there is "
            "`sqs.cn-north-1.amazonaws.com.cn`, and China has no global S3 endpoint. But a host that is not a "
            "service endpoint (`awscli.amazonaws.com`, a bucket of another owner) does not exist under the China "
            "domain, so rewriting it would break the template."
        ),
        safety=(
            "Changes host names only. Service principals (in policies, JSON-string policies, inline code) are "
            "never touched; nothing outside botocore's data and the partition files is rewritten; text fields "
            "(descriptions, Metadata) are never reported."
        ),
        params=(
            Param("source_region", "Region the template was built for; its endpoints move to the target region", {"type": "string"}),
            Param(
                "source_region_from",
                "Bucket globs whose names end in the source region, used when source_region is empty",
                {"type": "array", "items": {"type": "string"}},
                default=[],
            ),
        ),
        example=(
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Lambda::Function\n"
            "    Properties:\n"
            "      Environment:\n"
            "        Variables:\n"
            "          QUEUE: !Sub https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/q\n"
            "          SITE: !Sub https://${Site}.s3.amazonaws.com/index.html\n"
            "          CLI: https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip\n"
            "          TRUST: '{\"Principal\": {\"Service\": \"states.amazonaws.com\"}}'\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        source_region = str(rule.params.get("source_region") or context.variables.get("source_region") or "")
        if not source_region:
            source_region = _region_of_buckets(log.original, rule.params["source_region_from"])
        suffixes = {context.source_partition.dns_suffix, context.partition.dns_suffix}
        edits: list[Edit] = []
        findings: list[Finding] = []
        # and the hosts written with ${AWS::URLSuffix}, evaluated for the target (hosts.decide)
        candidates = log.strings_containing(*suffixes, "${AWS::URLSuffix}")
        seen = {path for path, _ in candidates}  # and the Join parts a suffix runs across, looked at the same way
        candidates += [entry for entry in join_parts_across(log.mappings_with("Fn::Join"), suffixes) if entry[0] not in seen]
        seen = {path for path, _ in candidates}  # and the parts a Ref to AWS::URLSuffix follows (a neutral host a Join builds)
        before_suffix = _parts_before_url_suffix(log.mappings_with("Fn::Join"))
        candidates += [entry for entry in before_suffix if entry[0] not in seen]
        followed_by_suffix = {path for path, _ in before_suffix}
        views = JoinViews(log.model)
        joined_hosts: dict[int, tuple[list[HostMatch], list[int]]] = {}  # id of a Join's text (kept by views) -> its hosts, their ends
        for path, value in candidates:
            if is_service_principal(path) or context.partition.elsewhere(path):
                continue
            view = views.view(path)
            text, part_start, part_end = (view.text, view.start, view.end) if view else (value, 0, len(value))
            if view is None:
                hosts = list(find_hosts(text, context.source_partition, context.partition))
            else:  # the hosts of a Join's text found once, those ending in this part taken by their ends
                found = joined_hosts.get(id(text))
                if found is None:
                    every = list(find_hosts(text, context.source_partition, context.partition))
                    found = joined_hosts[id(text)] = (every, [host.end for host in every])
                every, ends = found
                hosts = every[bisect.bisect_right(ends, part_start) : bisect.bisect_right(ends, part_end)]
            host_context = HostContext(
                source=context.source_partition,
                target=context.partition,
                region=context.region,
                source_region=source_region,
                in_sub=is_sub_template(path),
                whole_value=False,
            )
            quiet = is_text_field(path)
            part = PartEditor(text, part_start, part_end)
            notes: list[str] = []
            if view is not None and not quiet and path in followed_by_suffix:
                # a host that ends in the `Ref: AWS::URLSuffix` right after this part (a bounded look past the part)
                after = every[bisect.bisect_right(ends, part_end) : bisect.bisect_right(ends, part_end + _SUFFIX_REACH)]
                for host in after:
                    if (_ends_in_url_suffix_ref(log.model, path, host, part_end) and not in_arn(text, host.start)
                            and not in_principal_text(text, host.start)):
                        findings += _neutral_join_host(path, host, text, host_context, rule.id)
            for host in hosts:
                if not part_start < host.end <= part_end or in_arn(text, host.start) or in_principal_text(text, host.start):
                    continue
                whole = view is None and host.start == 0 and host.end == len(text)
                tool = pattern_tool(text, host.start)
                if tool is not None:  # matched against a value, not called: it follows what the value holds
                    decision = decide_pattern(host, host_context, tool, getatt_subjects(text, _resource_types(log.model)))
                else:
                    # what follows, for a path-style bucket: a bounded slice (a bucket name is at most 63 characters)
                    decision = decide(host, _with_whole(host_context, whole), text[host.end : host.end + _AFTER])
                if decision.kind == "warn":
                    if not quiet:
                        findings.append(Finding(path, f"{host.text}: {decision.reason}; left as is", rule.id, about=decision.about))
                    continue
                if decision.kind != "rewrite":
                    continue
                if not part.replace(host.start, host.text, decision.new):
                    if not quiet:
                        findings.append(Finding(path, f"{host.text}: should be {decision.new} ({decision.reason}), but it is built "
                                                "with Fn::Join across parts; rewrite it by hand", rule.id))
                    continue
                notes.append(f"{decision.new} ({decision.reason})")
            if part.fragments and part.value != value:
                reason = "endpoint rewritten: " + "; ".join(dict.fromkeys(notes))
                edits.append(Edit(path, "replace", rule.id, reason, value=part.value, old=value, fragments=tuple(part.fragments)))
        for edit in edits:
            log.apply(edit)
        return findings


def _parts_before_url_suffix(joins: list[tuple[JsonPath, Any]]) -> list[tuple[JsonPath, str]]:
    """The literal Join parts a `{"Ref": "AWS::URLSuffix"}` part follows: where a neutral host a Join builds ends its labels."""
    found: list[tuple[JsonPath, str]] = []
    for path, mapping in joins:
        args = mapping.get("Fn::Join") if isinstance(mapping, dict) else None
        if not (isinstance(args, list) and len(args) == 2 and isinstance(args[1], list)):
            continue
        items = args[1]
        found += [(path + ("Fn::Join", 1, index), item) for index, item in enumerate(items[:-1])
                  if isinstance(item, str) and items[index + 1] == {"Ref": "AWS::URLSuffix"}]
    return found


def _ends_in_url_suffix_ref(model: Any, path: JsonPath, host: HostMatch, part_end: int) -> bool:
    """Whether `host` (in the Join view of the part at `path`) ends in the `Ref: AWS::URLSuffix` part right after it."""
    if host.suffix != URL_SUFFIX_PSEUDO or not host.start < part_end:
        return False
    node = model
    for key in path[:-2]:
        node = node[key]
    delimiter, items = node[0], node[1]
    index = path[-1]
    return (isinstance(index, int) and index + 1 < len(items) and items[index + 1] == {"Ref": "AWS::URLSuffix"}
            and host.end == part_end + len(delimiter) + len(URL_SUFFIX_PSEUDO))


def _neutral_join_host(path: JsonPath, host: HostMatch, text: str, context: HostContext, rule_id: str) -> list[Finding]:
    """A neutral host a Join builds around `Ref: AWS::URLSuffix`: evaluated as in an Fn::Sub, reported, never written
    into the parts (a `${AWS::Region}` in a Join part would stay text)."""
    decision = decide(host, HostContext(context.source, context.target, context.region, context.source_region, True, False),
                      text[host.end :])
    if decision.kind == "rewrite":
        return [Finding(path, f"{host.text}: should be {decision.new} ({decision.reason}), but it is built with Fn::Join; "
                              "rewrite it by hand (an Fn::Sub writes it in one string)", rule_id)]
    if decision.kind == "warn":
        return [Finding(path, f"{host.text}: {decision.reason}; left as is", rule_id, about=decision.about)]
    return []


def _resource_types(model: Any) -> dict[str, str]:
    """Logical id -> resource type, for the GetAtt references a pattern is matched against."""
    resources = model.get("Resources") if isinstance(model, dict) else None
    if not isinstance(resources, dict):
        return {}
    return {name: body["Type"] for name, body in resources.items() if isinstance(body, dict) and isinstance(body.get("Type"), str)}


_AFTER = 1024
_SUFFIX_REACH = 256  # how far past a Join part a host ending in the Ref to AWS::URLSuffix after it is looked for


def _with_whole(context: HostContext, whole: bool) -> HostContext:
    return context if context.whole_value == whole else HostContext(
        context.source, context.target, context.region, context.source_region, context.in_sub, whole
    )


def _region_of_buckets(model: Any, globs: list[str]) -> str:
    """The region in the name of the template's asset buckets (`panther-enterprise-us-west-1`).

    Read from the template as it was (an earlier rule may already have rewritten the
    buckets); empty when none or more than one region is found.
    """
    if not globs:
        return ""  # nothing to match: no walk of the template
    regions = set()
    buckets = {reference.bucket for reference in find_references(model)}  # few names, each read many times
    for bucket in buckets:
        if any(fnmatch.fnmatchcase(bucket, glob) for glob in globs):
            region = region_of_bucket_name(bucket)
            if region:
                regions.add(region)
    return regions.pop() if len(regions) == 1 else ""
