"""`warn_scripts`: what a script inside the template needs in China, warned at its line."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from typing import ClassVar

from ...model.edits import Edit, EditLog
from ...model.walk import is_sub_template
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
            'written, and three habits of global scripts break there:\n\n* `aws s3 ...` without `--region`: China '
            'has no global S3 endpoint, so the CLI must be told the region (the hand ports add `--region '
            "${AWS::Region}`);\n* a hard-coded global region (`region_name='us-east-1'`, `--region us-west-2`): "
            'the call goes to a region the China account cannot use (the Support API, say, is in cn-north-1);\n* a '
            'host built from shell variables that ends in `amazonaws.com` (`$FS.efs.$region.amazonaws.com`): no '
            "rule can tell which service it is, and China's suffix is `amazonaws.com.cn`.\n\nEach is a warning "
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
        for path, value in log.strings_under(*_SCRIPT_KEYS):  # a script key holds the string
            shell = shell_host if shell_host is not None and source.dns_suffix in value else None  # it ends in the suffix
            lines = _lines_with_matches(value, [*searched, shell] if shell else searched)
            fixed = value
            for number, line in lines:
                for command in _AWS_S3.finditer(line) if no_global_s3 else ():
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
