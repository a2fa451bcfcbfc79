"""`warn_scripts`: what a script inside the template needs in China, warned at its line."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from typing import ClassVar

from ...model.edits import Edit, EditLog
from ...model.walk import is_sub_template
from ...partitions.partition import DownloadHost
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

#: keys whose string values are scripts or code
_SCRIPT_KEYS = frozenset({"UserData", "ZipFile", "InlineCode", "command", "content", "Content"})
# `aws` at a word boundary (`\baws`), written with the boundary after the literal so that
# the search skips to each `aws` in C instead of trying the pattern at every character
_AWS_S3 = re.compile(r"aws(?<!\waws)\s+s3(?:api)?\s+[a-z-]+\b[^\n;&|]*")
# A region name standing alone: `(?<![\w-])REGION_PATTERN(?![\w-])`, written to start at the
# dash after its two letters (which the lookbehind then checks), so that the search skips
# to each `-` in C instead of trying the pattern at every letter; a match starts two
# characters after the region (`_region_at`).  tests/ruleset/test_actions.py compares both forms.
_REGION_LITERAL = re.compile(r"-(?<=(?<![\w-])[a-z]{2}-)(?:gov-|iso[a-z]?-)?[a-z]+-\d(?![\w-])")


# The AWS CLI kept in a shell variable (`AWS=/usr/local/bin/aws`, `AWS="aws --profile x"`,
# `AWS=$(which aws)`) or an alias (`alias awscli='aws --output json'`): its `$AWS s3 ...`
# commands need --region as `aws s3 ...` does, unless the variable or alias carries it.
_CLI_VARIABLE = re.compile(
    r"""(?:^|(?<=[\s;&|(]))(?:(?:export|local|readonly|declare)\s+)?(?P<name>[A-Za-z_]\w*)=(?P<q>["']?)"""
    r"""(?P<value>(?:[^\s"'`;&|$]*/)?aws(?:\s+[^"'`\n;&|]*)?|\$\((?:which|command -v)\s+aws\)|`(?:which|command -v)\s+aws`)(?P=q)(?=[\s;]|$)""",
    re.MULTILINE,
)
_CLI_ALIAS = re.compile(r"""\balias\s+(?P<name>[A-Za-z_][\w-]*)=(?P<q>["'])(?P<value>(?:[^"'\s]*/)?aws(?:\s[^"'\n]*)?)(?P=q)""")
# a line that is a comment in a shell, Python, PowerShell or JavaScript script
_COMMENT = re.compile(r"^\s*(?:#|//|REM\b|::)")
# a command that downloads (the hosts are the partition's `download_hosts`)
_DOWNLOADER = re.compile(
    r"(?<![\w.-])(?:curl|wget|git|pip3?|npm|yarn|pnpm|docker|podman|helm|rpm|yum|dnf|apt-get|easy_install|go|"
    r"Invoke-WebRequest|iwr|Invoke-RestMethod|Start-BitsTransfer|urlopen|urlretrieve|requests\.get|fetch)(?![\w-])"
)
# options that name the source a package command downloads from
_SOURCE_OPTIONS = re.compile(r"(?:\s-i\s|--index-url|--extra-index-url|--find-links|--no-index|--registry|://)")


def _cli_commands(script: str) -> tuple[list[re.Pattern[str]], bool]:
    """Patterns of `s3` commands run through a variable or alias that holds the CLI without --region,
    and whether an alias named `aws` carries --region (then `aws s3 ...` has it)."""
    patterns: list[re.Pattern[str]] = []
    aws_has_region = False
    for match in _CLI_VARIABLE.finditer(script):
        if "--region" not in match.group("value"):
            name = re.escape(match.group("name"))
            patterns.append(re.compile(rf"(?:\$\{{!?{name}\}}|\${name}(?!\w))\s+s3(?:api)?\s+[a-z-]+\b[^\n;&|]*"))
    for match in _CLI_ALIAS.finditer(script):
        if "--region" in match.group("value"):
            aws_has_region |= match.group("name") == "aws"
        elif match.group("name") != "aws":
            name = re.escape(match.group("name"))
            patterns.append(re.compile(rf"(?<![\w$/.-]){name}\s+s3(?:api)?\s+[a-z-]+\b[^\n;&|]*"))
    return patterns, aws_has_region


@functools.cache
def _download_host_patterns(hosts: tuple[DownloadHost, ...]) -> tuple[tuple[DownloadHost, re.Pattern[str], re.Pattern[str] | None], ...]:
    """Per download host entry: a pattern for its hosts in a line, and one for its commands (if any)."""
    found = []
    for entry in hosts:
        named = "|".join(re.escape(host) for host in entry.hosts)
        host = re.compile(rf"(?<![\w.-])(?:{named})(?=[/:\s\"'`]|$)")
        commands = "|".join(re.escape(command).replace("\\ ", r"\s+") for command in entry.commands)
        command = re.compile(rf"(?<![\w.-])(?:{commands})(?![\w-])") if commands else None
        found.append((entry, host, command))
    return tuple(found)


def _downloads(script: str, hosts: tuple[DownloadHost, ...]) -> list[tuple[str, str, int, str]]:
    """(host, what it serves, first line, how) of each download host a script fetches from."""
    found: dict[str, tuple[str, str, int, str]] = {}
    if not any(text in script for entry in hosts for text in (*entry.hosts, *entry.commands)):
        return []  # most scripts name none: no line is looked at
    patterns = _download_host_patterns(hosts)
    for number, line in enumerate(script.splitlines(), 1):
        if _COMMENT.match(line) or not _DOWNLOADER.search(line):
            continue
        for entry, host, command in patterns:
            named = host.search(line)
            if named and named.group(0) not in found:
                found[named.group(0)] = (named.group(0), entry.name, number, "")
            elif command and entry.hosts[0] not in found and command.search(line) and not _SOURCE_OPTIONS.search(line):
                found[entry.hosts[0]] = (entry.hosts[0], entry.name, number, f", {command.search(line).group(0)} without an index")  # type: ignore[union-attr]
    return sorted(found.values(), key=lambda item: item[2])
#: a name that says its regions are left out (`EXCLUDED_REGIONS = [...]`, `deny_regions`, `--skip-region`)
_EXCLUDING_NAME = re.compile(r"(?i)exclu|deny|denied|skip|ignor|disallow|blacklist|blocklist")
#: a line that holds one list item and nothing else: `"us-east-1",`, `- eu-west-1`
_REGION_TEXT = r"[a-z]{2}-(?:gov-|iso[a-z]?-)?[a-z]+-\d"
#: two regions next to each other in a list: `"us-east-1", "eu-west-1"`, `us-east-1 us-west-2`
_REGION_LIST = re.compile(rf"""(?<![\w-]){_REGION_TEXT}["']?\s*[,\s]\s*["']?{_REGION_TEXT}(?![\w-])""")
_LIST_ITEM = re.compile(r"""^\s*(?:-\s+)?["']?(?:[a-z]{2}-(?:gov-|iso[a-z]?-)?[a-z]+-\d)["']?\s*,?\s*$""")


def _region_at(match: re.Match[str]) -> str:
    """The region a `_REGION_LITERAL` match stands in (it starts at the region's first dash)."""
    return match.string[match.start() - 2 : match.end()]


@functools.cache
def _shell_host(dns_suffix: str) -> re.Pattern[str]:
    """A host built from shell variables that ends in `dns_suffix` (and not in a longer suffix)."""
    return re.compile(rf"[\w.${{}}-]*\$\{{?[A-Za-z_][A-Za-z0-9_]*\}}?[\w.${{}}-]*\.{re.escape(dns_suffix)}(?![\w-]|\.[A-Za-z0-9])")


class WarnScripts:
    """Warn about scripts that need a region or a host suffix in China."""

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_scripts",
        why=(
            'UserData, cfn-init commands and files, lifecycle scripts and inline Lambda code run in China as '
            'written, and four habits of global scripts break there:\n\n* `aws s3 ...` without `--region`: China '
            'has no global S3 endpoint, so the CLI must be told the region (the hand ports add `--region '
            "${AWS::Region}`), also when the CLI is called through a variable or an alias (`AWS=/usr/local/bin/aws; "
            "$AWS s3 cp ...`);\n* a hard-coded global region (`region_name='us-east-1'`, `--region us-west-2`): "
            'the call goes to a region the China account cannot use (the Support API, say, is in cn-north-1);\n* a '
            'host built from shell variables that ends in `amazonaws.com` (`$FS.efs.$region.amazonaws.com`): no '
            "rule can tell which service it is, and China's suffix is `amazonaws.com.cn`;\n* a download from a host "
            "that is slow or unreachable from China (PyPI, GitHub, Docker Hub, npm: the partition file's "
            "`download_hosts`, with `pip install` and `npm install` counted as PyPI and npm unless the line names "
            "another index): the hand ports fetch from a mirror or a bucket in the region. One warning per script "
            "names the hosts and their first lines.\n\nEach other finding is a warning "
            'naming the line. With `fix_s3_region: true` the first is also fixed where it is safe: inside an '
            'Fn::Sub template string, `--region ${AWS::Region}` is appended to the `aws s3` command.'
        ),
        safety='Reports only, unless `fix_s3_region` is set: then it only appends `--region ${AWS::Region}` to `aws s3` commands inside `Fn::Sub` strings.',
        params=(
            Param('fix_s3_region', 'Append --region ${AWS::Region} to aws s3 commands inside Fn::Sub strings instead of only warning', {'type': 'boolean'}),
        ),
        example=(
            'Resources:\n'
            '  Host:\n'
            '    Type: AWS::EC2::Instance\n'
            '    Properties:\n'
            '      ImageId: ami-12345678\n'
            '      UserData:\n'
            '        Fn::Base64: !Sub |\n'
            '          #!/bin/bash\n'
            '          aws s3 cp s3://${AssetBucket}/setup.sh /tmp/setup.sh\n'
            '          aws ssm get-parameter --name /app/key --region us-east-1\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        fix = bool(rule.params.get("fix_s3_region"))
        partition, source = context.partition, context.source_partition
        no_global_s3 = partition.endpoints.partition_endpoint("s3") is None
        shell_host = _shell_host(source.dns_suffix) if source.dns_suffix != partition.dns_suffix else None
        warnings: list[Finding] = []
        edits: list[Edit] = []
        searched = [pattern for pattern in (_AWS_S3 if no_global_s3 else None, _REGION_LITERAL) if pattern is not None]
        download_hosts = partition.facts.download_hosts
        for path, value in log.strings_under(*_SCRIPT_KEYS):  # a script key holds the string
            shell = shell_host if shell_host is not None and source.dns_suffix in value else None  # it ends in the suffix
            clis, aws_has_region = _cli_commands(value) if no_global_s3 and "aws" in value else ([], False)
            commands = [*([] if aws_has_region else [_AWS_S3]), *clis] if no_global_s3 else []
            lines = _lines_with_matches(value, [*searched, *clis, *([shell] if shell else [])])
            fixed = value
            for number, line in lines:
                for command in (match for pattern in commands for match in pattern.finditer(line)):
                    if "--region" in command.group(0):
                        continue
                    if fix and is_sub_template(path):
                        fixed = fixed.replace(command.group(0), command.group(0).rstrip() + " --region ${AWS::Region}", 1)
                    else:
                        warnings.append(Finding(path, f"line {number}: `{command.group(0).strip()[:80]}` has no --region; "
                                                      f"{partition.name} has no global S3 endpoint, add --region with the stack's region", rule.id))
                for region in _hard_coded_regions(line, number, value):
                    if not partition.has_region(region):
                        warnings.append(Finding(path, f"line {number}: hard-coded region {region} in a script; "
                                                      f"in {partition.name} use the stack's region ({context.region})", rule.id))
                for match in shell.finditer(line) if shell else ():
                    warnings.append(Finding(path, f"line {number}: host {match.group(0)} is built from shell variables and "
                                                  f"ends in {source.dns_suffix}; {partition.name}'s suffix is {partition.dns_suffix}", rule.id))
            downloads = _downloads(value, download_hosts) if download_hosts else []
            if downloads:
                named = "; ".join(f"{host} ({what}, line {number}{how})" for host, what, number, how in downloads)
                warnings.append(Finding(path, f"downloads from {named}: slow or unreachable from {partition.name}'s regions; "
                                              "fetch from a mirror or a bucket in the stack's region", rule.id))
            if fixed != value:
                edits.append(Edit(path, "replace", rule.id, f"aws s3 commands told the stack's region ({partition.name} has no global S3 endpoint)", value=fixed))
        for edit in edits:
            log.apply(edit)
        return warnings


def _hard_coded_regions(line: str, number: int, value: str) -> list[str]:
    """The regions line `number` of `value` hard-codes: none in a comment, in a list of several regions
    (`["us-east-1", "eu-west-1"]`, `for r in us-east-1 us-west-2`, one item a line among others), or under a name that says they are
    left out (`EXCLUDED_REGIONS`): such regions are compared or skipped, never called."""
    if line.lstrip().startswith("#") or _EXCLUDING_NAME.search(line):
        return []
    if _REGION_LIST.search(line):
        return []
    regions = [_region_at(match) for match in _REGION_LITERAL.finditer(line)]
    if regions and _LIST_ITEM.match(line):
        lines = value.splitlines()
        neighbours = [lines[index] for index in (number - 2, number) if 0 <= index < len(lines)]
        if any(_LIST_ITEM.match(other) for other in neighbours):
            return []
    return regions


def _lines_with_matches(value: str, patterns: list[re.Pattern[str]]) -> list[tuple[int, str]]:
    """`(number, line)` of the lines of `value` (`str.splitlines`) that a match of a pattern touches.

    Why: a script is searched line by line (findings name their line), but most lines of
    most scripts match nothing; each pattern is searched once in the whole value instead,
    in C, and only the lines its matches start, end or cross in are looked at.  A match
    that a line holds is found in the whole value too, or a match found there crosses its
    line (none of the patterns is anchored), so no line with a match is left out.
    """
    spans = [match.span() for pattern in patterns for match in pattern.finditer(value)]
    if not spans:
        return []
    lines = value.splitlines()
    starts = list(itertools.accumulate(map(len, value.splitlines(keepends=True)), initial=0))
    touched = {index for start, end in spans
               for index in range(bisect.bisect_right(starts, start) - 1, bisect.bisect_right(starts, max(start, end - 1)))}
    return [(index + 1, lines[index]) for index in sorted(touched) if index < len(lines)]
