"""Host names in template strings: find each one and decide what it is, from partition data.

A host is rewritten only when the data says what it is: a service endpoint botocore lists
for the source partition (moved to the same endpoint of the target partition, if the
target has it), or a host AWS gives one of the stack's own resources (`${Bucket}.s3...`,
`${Api}.execute-api...`, listed in the partition files).  Everything else on the source
partition's domain is left as it is: download sites (`awscli.amazonaws.com`), buckets
and APIs of other owners, hosts in another region, hosts the target partition lacks;
each is reported with the reason, unless the target partition shares the source's DNS
suffix (GovCloud), where such a host keeps working.

Service principals look like hosts (`events.amazonaws.com`) but are not: a host in a
principal position, or in text that names it as a principal (`"Service": ...` in a
JSON-string policy, `Principal=...` in inline code) is never an endpoint, and a bare
`<service>.amazonaws.com` without a scheme or path is taken for a principal too.

A host inside a pattern (a `sed` expression, a `grep` or `awk` argument, a regular
expression) is not an endpoint either: it must match what the value it is matched against
holds in the target partition.  Where that value is a resource attribute the partition
files describe (`GetAtt Bucket.DomainName`: `<bucket>.s3.amazonaws.com.cn` in China, no
region), the pattern follows it; otherwise it is reported, never rewritten as an endpoint.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..model.walk import REGION_PATTERN, is_region
from .endpoint_data import REGION_SLOT, SUFFIX_SLOT, Endpoint
from .partition import Partition

REGION_PSEUDO = "${AWS::Region}"
URL_SUFFIX_PSEUDO = "${AWS::URLSuffix}"

# a label is letters, digits and dashes, or ${Variable}s among those (`s3-website-${AWS::Region}`,
# `web-${AWS::Region}-${AWS::AccountId}`: a Join's references between its parts, read as placeholders)
_LABEL = r"(?:(?:[A-Za-z0-9-]*\$\{[A-Za-z0-9:._!-]+\})+[A-Za-z0-9-]*|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)"
_EMBEDDED_REGION = re.compile(rf"-{REGION_PATTERN}$")
_PRINCIPAL_KEY = re.compile(
    r"(?i:\b(?:service|principal|serviceprincipal|awsservicename|passedtoservice|principalservicename)\b)[\"']?\s*[:=(]"
)
# between a principal key and the host: list punctuation and other principal-like tokens only
_PRINCIPAL_TAIL = re.compile(r"^(?:[\s\[\](){},\"']|-(?=\s))*(?:(?:[A-Za-z0-9.\-]|\$\{[^}\s]*\})+(?:[\s\[\](){},\"']|-(?=\s))+)*$")
# what reads a pattern: sed, grep and awk (the last on the line before the host), or a regular-expression call
_PATTERN_TOOL = re.compile(
    r"(?P<tool>\b(?:sed|grep|egrep|fgrep|awk|gawk)\b|\bre\.(?:sub|subn|match|fullmatch|search|compile|findall|finditer|split)\s*\(|\bRegExp\s*\()"
)
# what ends a shell command before the host: a pipe or list operator (with spaces, as scripts write them)
_COMMAND_END = re.compile(r"\s(?:\||\|\||&&|;)\s|;\s*$|;\s")
# a sed substitution's opening: `s/`, `s|`, `s#`, `s,` after a space, a quote or `-e`
_SED_SUBSTITUTE = re.compile(r"(?:^|[\s\"'])s(?P<delimiter>[/|#,:])")
# a sed address opening (`'/` or `"/`, after a space), when the command has no s expression before the host
_SED_ADDRESS = re.compile(r"\s[\"']/[^/]*$")
# `${Name.Attribute}`: a GetAtt in an Fn::Sub string (or a Join view)
_GETATT_PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z0-9]+)\.(?P<attribute>[A-Za-z0-9.]+)\}")
_S3_PATH_BUCKET = re.compile(r"^/(?P<bucket>(?:[a-z0-9.-]|\$\{[A-Za-z0-9:._-]+\})+)(?=/|$|[\s\"'])")


@dataclass(frozen=True)
class HostMatch:
    """One host found in a string: where it is and what it is made of."""

    start: int
    end: int
    text: str
    labels: tuple[str, ...]  # the labels before the DNS suffix
    suffix: str  # the DNS suffix as written (or ${AWS::URLSuffix})
    url: bool  # written with a scheme, or followed by a path or port
    glued: bool  # built at run time: glued to an identifier or shell variable before it


@dataclass(frozen=True)
class Decision:
    """What to do with one host: `keep` it silently, `rewrite` it to `new`, or `warn` with `reason`."""

    kind: str  # "keep" | "rewrite" | "warn"
    new: str = ""
    reason: str = ""
    about: str | None = None  # the thing a warning is about (`bucket NAME`), see Finding.about


KEEP = Decision("keep")


@dataclass(frozen=True)
class HostContext:
    """Everything a decision depends on besides the host."""

    source: Partition
    target: Partition
    region: str  # the target region
    source_region: str  # the region the template was built for ("" when unknown)
    in_sub: bool  # the text is an Fn::Sub template (or a Join view), so ${AWS::Region} can be written
    whole_value: bool  # the host is the whole string value (a structured property), not part of text


@functools.cache
def host_pattern(suffixes: tuple[str, ...]) -> re.Pattern[str]:
    """Hosts ending in one of `suffixes` (longest first) or in `${AWS::URLSuffix}`."""
    alternatives = "|".join(re.escape(s) for s in sorted(suffixes, key=len, reverse=True))
    return re.compile(
        rf"(?P<labels>(?:{_LABEL}\.)*)(?P<suffix>{alternatives}|\$\{{AWS::URLSuffix\}})(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
    )


def find_hosts(text: str, source: Partition, target: Partition) -> Iterator[HostMatch]:
    """Every host on the source's or target's DNS suffix (or `${AWS::URLSuffix}`) in `text`."""
    for match in host_pattern((source.dns_suffix, target.dns_suffix)).finditer(text):
        labels = tuple(label for label in match.group("labels").split(".") if label)
        start, end = match.start(), match.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        url = text.endswith("://", 0, start) or after in ("/", ":")
        glued = bool(before) and (before.isalnum() or before in "_$}") or (not labels and before == ".")
        yield HostMatch(start, end, match.group(0), labels, match.group("suffix"), url, glued)


def in_principal_text(text: str, start: int) -> bool:
    """True when the text before `start` names what follows as a principal (`"Service": [...`)."""
    window = text[max(0, start - 400) : start]
    if window.isascii():  # (the regex folds case the Unicode way too: `ſ` is an `s` to it)
        lowered = window.lower()
        if "service" not in lowered and "principal" not in lowered:
            return False  # every principal key holds one of the two words: most hosts end here, without the scan
    last = None
    for last in _PRINCIPAL_KEY.finditer(window):
        pass
    return last is not None and bool(_PRINCIPAL_TAIL.match(window[last.end() :]))


def _bare(host: HostMatch) -> bool:
    """No region and no placeholders among the labels: the shape of a service principal."""
    return host.suffix != URL_SUFFIX_PSEUDO and not any(
        "${" in label or is_region(label) or _EMBEDDED_REGION.search(label) for label in host.labels
    )


def principal_shaped(host: HostMatch, source: Partition) -> bool:
    """A bare host whose labels name a service (`delivery.logs.amazonaws.com`): a principal, not a site."""
    return _bare(host) and any(label in source.endpoints.by_service for label in host.labels)


def decide(host: HostMatch, context: HostContext, after: str = "") -> Decision:
    """What to do with `host` (`after` is the text that follows it, for S3 path-style buckets)."""
    source, target = context.source, context.target
    same_suffix = source.dns_suffix == target.dns_suffix
    if host.suffix == URL_SUFFIX_PSEUDO:
        return _decide_neutral(host, context)
    if host.suffix != source.dns_suffix:
        return KEEP  # written for the target partition already
    if host.glued:
        return KEEP  # built at run time (`$FS.efs.$REGION.amazonaws.com`): no data says what it is; warn_scripts reports it
    if not host.url and _bare(host) and (context.whole_value or principal_shaped(host, source)):
        return KEEP  # `<service>.amazonaws.com` without scheme or path: a principal, an event source
    region_index, region_value = _region_slot(host.labels)
    endpoint, aliased_region = _endpoint(host, source, region_index)
    if endpoint is not None:
        region_value = region_value or aliased_region
        if endpoint.service == "s3" and host.url:
            bucket = _S3_PATH_BUCKET.match(after)
            in_target = region_value is not None and target.has_region(region_value)
            if bucket and "${" not in bucket.group("bucket") and not in_target:
                return _foreign_resource(f"bucket {bucket.group('bucket')}", context, about=f"bucket {bucket.group('bucket')}")
        return _move_endpoint(host, endpoint, region_value, context)
    resource = _resource_host(host, source)
    if resource is not None:
        name, owner, region = resource
        if owner is not None and "${" not in owner:
            if region is not None and target.has_region(region):
                return KEEP if same_suffix else _move_resource(host, name, owner, region, context)
            return _foreign_resource(f"{name} host of {owner}", context,
                                     about=f"bucket {owner}" if name.startswith("s3") else None)
        return _move_resource(host, name, owner or "", region, context)
    if same_suffix:
        return KEEP
    return Decision(
        "warn",
        reason=f"not a service endpoint in botocore's data for {source.name}, nor a resource host the partition files list "
        f"(a download site or another owner's host); check that {target.name} can reach it",
    )


def _decide_neutral(host: HostMatch, context: HostContext) -> Decision:
    """A host written with `${AWS::URLSuffix}`, evaluated for the target partition.

    Partition-neutral is not always right: `s3.${AWS::URLSuffix}` is `s3.amazonaws.com`
    in the global partition, its S3 endpoint, but `s3.amazonaws.com.cn` in China, which
    botocore's data does not list (China's S3 endpoints are regional).  The host is read
    as the source partition's (what the author tested), and moved as a literal host would
    be: kept when the target has the same form, rewritten to the form the data gives
    (`s3.${AWS::Region}.${AWS::URLSuffix}`, still neutral), or reported when the target
    lacks it.  What the data does not know is left as written, silently, as before: a
    neutral host was written on purpose, and only data can say it is wrong.  Only where
    the pseudo parameter is substituted (an `Fn::Sub` string); a region chosen by another
    parameter (`${S3Region}`) is the author's choice and is kept.
    """
    source, target = context.source, context.target
    if not context.in_sub or source.dns_suffix == target.dns_suffix or host.glued:
        return KEEP
    if not host.url and not any("${" in label or is_region(label) for label in host.labels):
        return KEEP  # `ec2.${AWS::URLSuffix}`: a principal's shape (map_principals decides those)
    region_index, region_value = _region_slot(host.labels)
    if region_value is not None and region_value.startswith("${") and region_value != REGION_PSEUDO:
        return KEEP
    text = ".".join((*host.labels, source.dns_suffix))
    concrete = HostMatch(host.start, host.end, text, host.labels, source.dns_suffix, host.url, host.glued)
    endpoint, aliased_region = _endpoint(concrete, source, region_index)
    if endpoint is not None:
        decision = _move_endpoint(concrete, endpoint, region_value or aliased_region, context)
    else:
        resource = _resource_host(concrete, source)
        if resource is None:
            return KEEP
        name, owner, region = resource
        decision = _move_resource(concrete, name, owner or "", region, context)
    evaluated = ".".join((*host.labels, target.dns_suffix))
    if decision.kind == "warn":
        return Decision("warn", reason=f"{URL_SUFFIX_PSEUDO} makes it {evaluated} in {target.name}: {decision.reason}", about=decision.about)
    if decision.kind != "rewrite" or not decision.new.endswith("." + target.dns_suffix):
        return KEEP
    new = decision.new[: -len(target.dns_suffix)] + URL_SUFFIX_PSEUDO
    if new == host.text:
        return KEEP
    return Decision("rewrite", new=new, reason=f"{URL_SUFFIX_PSEUDO} makes it {evaluated} in {target.name}, which neither "
                    f"botocore's data nor the partition file lists; {decision.reason}")


def pattern_tool(text: str, start: int) -> str | None:
    """The tool whose pattern the host at `start` is written in (`sed`, `grep`, `awk`, `re.sub(`...), or None.

    A tool counts when it is the last one named on the host's line before it, with no pipe or
    command list between; in a `sed` command only the pattern half of an `s` expression is a
    pattern (its replacement is text written out), and in a regular-expression call only the
    first argument.
    """
    line = text[text.rfind("\n", 0, start) + 1 : start]
    last = None
    for last in _PATTERN_TOOL.finditer(line):
        pass
    if last is None:
        return None
    between = line[last.end() :]
    if _COMMAND_END.search(between):
        return None
    tool = last.group("tool")
    if tool.endswith("("):
        return "regular expression" if "," not in between else None
    if tool == "sed":
        opening = None
        for opening in _SED_SUBSTITUTE.finditer(between):
            pass
        if opening is None:  # an address (`'/s3.amazonaws.com/d'`) is a pattern too
            return "sed" if _SED_ADDRESS.search(between) else None
        delimiter = opening.group("delimiter")
        inside = between[opening.end() :].replace("\\" + delimiter, "")
        return "sed" if delimiter not in inside else None  # the pattern half, before the second delimiter
    return tool


def getatt_subjects(text: str, resource_types: Mapping[str, str]) -> tuple[str, ...]:
    """`Type.Attribute` of each `${Name.Attribute}` in `text` whose `Name` is a resource of `resource_types`."""
    found = []
    for match in _GETATT_PLACEHOLDER.finditer(text):
        kind = resource_types.get(match.group("name"))
        if kind:
            found.append(f"{kind}.{match.group('attribute')}")
    return tuple(dict.fromkeys(found))


def decide_pattern(host: HostMatch, context: HostContext, tool: str, subjects: tuple[str, ...]) -> Decision:
    """What to do with a host inside a pattern: follow the attribute it is matched against, or report it.

    `subjects` are the resource attributes the script reads (`AWS::S3::Bucket.DomainName`);
    the host is the tail of one of them (`s3.amazonaws.com` of `<bucket>.s3.amazonaws.com`)
    or the whole of it.  It becomes the same part of what that attribute holds in the
    target partition (`s3.amazonaws.com.cn`: DomainName has no region), as the partition
    files' `attribute_hosts` say; when no attribute the files describe explains it, or two
    explain it differently, it is reported and left as it is.
    """
    source, target = context.source, context.target
    if host.suffix != source.dns_suffix:
        return KEEP  # the target's suffix, or ${AWS::URLSuffix}: it follows the value by itself
    if source.dns_suffix == target.dns_suffix:
        return KEEP
    followed: dict[str, str] = {}
    for subject in subjects:
        source_form, target_form = source.facts.attribute_hosts.get(subject), target.facts.attribute_hosts.get(subject)
        if not source_form or not target_form:
            continue
        for prefix in ("", "{resource}."):
            if not (source_form.startswith(prefix) and target_form.startswith(prefix)):
                continue
            match = _template_regex(source_form[len(prefix) :], source.dns_suffix).match(host.text)
            if match is None:
                continue
            groups = match.groupdict()
            region_value = groups.get("region")
            region = _concrete_region(region_value, context) if "{region}" in target_form else context.region
            if isinstance(region, Decision):
                return Decision("warn", reason=f"inside a {tool} pattern matched against {subject}: {region.reason}")
            region_text = REGION_PSEUDO if context.in_sub and region_value in (None, REGION_PSEUDO) else region
            followed[subject] = target_form[len(prefix) :].format(
                resource=groups.get("resource", ""), region=region_text, dns_suffix=target.dns_suffix)
            break
    if len(set(followed.values())) == 1:
        (subject, new), *_ = followed.items()
        if new == host.text:
            return KEEP
        return Decision("rewrite", new=new, reason=f"inside a {tool} pattern matched against {subject}, which is "
                        f"{target.facts.attribute_hosts[subject].format(resource='<name>', region='<region>', dns_suffix=target.dns_suffix)} "
                        f"in {target.name}")
    return Decision(
        "warn",
        reason=f"inside a {tool} pattern, not an endpoint: make it match what the value it is matched against holds in "
        f"{target.name} (no attribute the partition files describe says which)",
    )


def _region_slot(labels: tuple[str, ...]) -> tuple[int | None, str | None]:
    for index, label in enumerate(labels):
        if is_region(label) or label == REGION_PSEUDO:
            return index, label
    for index, label in enumerate(labels):
        if index and label.startswith("${") and label != REGION_PSEUDO:
            return index, label  # a region chosen by a parameter, perhaps; decided by the shape lookup
    return None, None


def _shape(labels: tuple[str, ...], region_index: int | None) -> str:
    parts = [REGION_SLOT if index == region_index else label for index, label in enumerate(labels)]
    return ".".join([*parts, SUFFIX_SLOT])


def _endpoint(host: HostMatch, source: Partition, region_index: int | None) -> tuple[Endpoint | None, str | None]:
    """The source partition's endpoint this host is, by its shape, and the region an older host form
    (`s3-us-west-1`, a `host_aliases` entry) names inside a label."""
    shapes = [_shape(host.labels, region_index)] if region_index is not None else []
    shapes.append(_shape(host.labels, None))
    for shape in shapes:
        found = source.endpoints.with_shape(shape)
        if found:
            return found[0], None
    concrete = ".".join(host.labels) + "." + source.dns_suffix
    for alias, canonical in source.facts.host_aliases.items():
        match = _template_regex(alias, source.dns_suffix).match(concrete)
        if match:
            found = source.endpoints.with_shape(canonical)
            if found:
                region = match.groupdict().get("region")
                return Endpoint(found[0].service, concrete, canonical, region, False), region
    return None, None


def _move_endpoint(host: HostMatch, endpoint: Endpoint, region_value: str | None, context: HostContext) -> Decision:
    target, source = context.target, context.source
    service = endpoint.service
    if REGION_SLOT not in endpoint.shape and region_value is None or endpoint.partition_wide:
        wide = target.endpoints.partition_endpoint(service)
        if wide is not None:
            return _rewrite(host, wide.hostname, f"{service} endpoint of {target.name}")
        regional = target.endpoints.regional(service, context.region)
        if regional is None:
            return Decision("warn", reason=f"{service} has no endpoint in {context.region} (botocore's data for {target.name})")
        return _rewrite(host, _with_region(regional.hostname, context.region, context.in_sub), f"{service} has no global endpoint in {target.name}")
    region = _concrete_region(region_value, context)
    if isinstance(region, Decision):
        return region
    if region == region_value and target.has_region(region) and source.dns_suffix == target.dns_suffix:
        return KEEP
    regional = target.endpoints.regional(service, region, endpoint.shape)
    if regional is None:
        return Decision("warn", reason=f"{service} has no endpoint of this form in {region} (botocore's data for {target.name})")
    written = _with_region(regional.hostname, region, region_value == REGION_PSEUDO)
    return _rewrite(host, written, f"{service} endpoint of {target.name}")


def _concrete_region(region_value: str | None, context: HostContext) -> str | Decision:
    """The target region a host's region slot stands for, or the warning why it cannot be moved."""
    if region_value is None or region_value == REGION_PSEUDO:
        return context.region
    if region_value.startswith("${"):
        return Decision("warn", reason=f"its region comes from {region_value}; if that is a {context.target.name} region, "
                        f"write the host with ${{AWS::URLSuffix}}")
    if context.target.has_region(region_value):
        return region_value
    if region_value == context.source_region:
        return context.region
    return Decision("warn", reason=f"hard-coded region {region_value} is outside {context.target.name}")


def _resource_host(host: HostMatch, source: Partition) -> tuple[str, str | None, str | None] | None:
    """(host name in the partition file, the resource label(s) or None, the region or None) for a host the
    partition files list: one AWS gives a resource, or a regional host botocore does not list."""
    concrete = ".".join(host.labels) + "." + source.dns_suffix
    for name, templates in source.facts.resource_hosts.items():
        for template in templates:
            match = _template_regex(template, source.dns_suffix).match(concrete)
            if match:
                return name, match.groupdict().get("resource"), match.groupdict().get("region")
    return None


def _move_resource(host: HostMatch, name: str, owner: str, region_value: str | None, context: HostContext) -> Decision:
    templates = context.target.facts.resource_hosts.get(name)
    if not templates:
        return Decision("warn", reason=f"{context.target.name} has no {name} hosts in its partition file")
    region = _concrete_region(region_value, context)
    if isinstance(region, Decision):
        return region
    region_text = REGION_PSEUDO if region_value == REGION_PSEUDO or (region_value is None and context.in_sub) else region
    new = templates[0].format(resource=owner, region=region_text, dns_suffix=context.target.dns_suffix)
    return _rewrite(host, new, f"{name} host in {context.target.name}")


def _foreign_resource(what: str, context: HostContext, *, about: str | None = None) -> Decision:
    return Decision(
        "warn", about=about,
        reason=f"{what} belongs to the {context.source.name} partition and does not exist in {context.target.name}; "
        "copy it there (or map the bucket in rewrite_s3_assets)",
    )


def _rewrite(host: HostMatch, new_host: str, reason: str) -> Decision:
    if new_host == host.text:
        return KEEP
    return Decision("rewrite", new=new_host, reason=reason)


def _with_region(hostname: str, region: str, as_pseudo: bool) -> str:
    """`hostname` with its region label written as `${AWS::Region}` when `as_pseudo`."""
    if not as_pseudo:
        return hostname
    return ".".join(REGION_PSEUDO if label == region else label for label in hostname.split("."))


@functools.cache
def _template_regex(template: str, dns_suffix: str) -> re.Pattern[str]:
    """A partition-file host template (`{resource}.s3.{region}.{dns_suffix}`) as a regex."""
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape("{resource}"), r"(?P<resource>.+?)")
    pattern = pattern.replace(re.escape("{region}"), rf"(?P<region>{REGION_PATTERN}|{re.escape(REGION_PSEUDO)}|\$\{{[A-Za-z0-9:._-]+\}})")
    pattern = pattern.replace(re.escape("{dns_suffix}"), re.escape(dns_suffix))
    return re.compile(f"^{pattern}$")


__all__ = [
    "Decision", "HostContext", "HostMatch", "decide", "decide_pattern", "find_hosts", "getatt_subjects", "in_principal_text",
    "pattern_tool", "principal_shaped",
]
