"""The `rewrite_endpoints` action: service endpoints of the target partition."""

from __future__ import annotations

import bisect
import fnmatch
from typing import Any, ClassVar

from ...model.edits import Edit, EditLog
from ...model.text_span import PartEditor
from ...model.walk import JoinViews, in_arn, is_service_principal, is_sub_template, is_text_field, join_parts_across
from ...partitions.bucket_names import region_of_bucket_name
from ...partitions.hosts import HostContext, HostMatch, decide, find_hosts, in_principal_text
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
    another region, services the target partition lacks. Values built from `${AWS::URLSuffix}`
    are left alone.
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
        candidates = log.strings_containing(*suffixes)
        seen = {path for path, _ in candidates}  # and the Join parts a suffix runs across, looked at the same way
        candidates += [entry for entry in join_parts_across(log.mappings_with("Fn::Join"), suffixes) if entry[0] not in seen]
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
            for host in hosts:
                if not part_start < host.end <= part_end or in_arn(text, host.start) or in_principal_text(text, host.start):
                    continue
                whole = view is None and host.start == 0 and host.end == len(text)
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


_AFTER = 1024


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
    for reference in find_references(model):
        if any(fnmatch.fnmatchcase(reference.bucket, glob) for glob in globs):
            region = region_of_bucket_name(reference.bucket)
            if region:
                regions.add(region)
    return regions.pop() if len(regions) == 1 else ""
