"""The command line: `python -m panther_cn_transform` and `panther-cn-transform`.

Thin by design: it parses arguments, calls the library and writes files at the edge.
Exit codes: 0 success, 1 `--check` found changes, 2 any error (one line on stderr),
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from ._gc import collector_paused
from .errors import BlockedError, InputError, OutputError, TemplateError, TransformError, VerificationError
from .files import STDIO, Outputs, check_apart, check_targets, check_writable, read_limited
from .limits import MAX_ASSET_BYTES, Limits
from .partitions.bucket_names import bucket_name_problem

if TYPE_CHECKING:
    from .model.decode import Template
    from .release.release_run import RunOutcome
    from .report.json_report import ReportFormat
    from .ruleset.rule_files import RuleSet

# The library is imported by the command that uses it, not here: `--help` and argument errors should not pay
# for YAML, JSON Schema, botocore or the process pool (docs/performance.md, "Start-up"; tests/test_startup.py).

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
REPORT_FORMATS = ["text", "markdown", "json", "sarif"]
REPORT_SUFFIXES = {".json": "json", ".md": "markdown", ".sarif": "sarif"}
REPORT_FORMAT_HELP = ("sarif: SARIF 2.1.0 for code scanning, each warning and blocker at its line (docs/projects.md); "
                      "default: by --report's extension (.json, .md, .sarif), else text")
DEFAULT_S3_TIMEOUT = 60.0  # release.s3common.DEFAULT_TIMEOUT, not imported: --help should not load botocore's side
DEFAULT_BRIDGE_DEADLINE = 60.0  # release.connect.DEFAULT_DEADLINE (a test keeps them equal), for the same reason
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` cleans up (like Ctrl-C's KeyboardInterrupt)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, with its errors in the one-line form of every other error (docs/limits.md)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("panther-cn-transform").strip()
        _say("error", f"<command line>: {command + ': ' if command else ''}{message} ({self.prog} --help lists what it takes)")
        raise SystemExit(EXIT_ERROR)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _one_line(text: str) -> str:
    """`text` with its control characters escaped (`\\n`, `\\x1b`, ...).

    A newline in a file name or a value must not split the one line an error is, nor an
    escape sequence reach the terminal.
    """
    return _CONTROL.sub(lambda m: _ESCAPES.get(m[0]) or (f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}"), text)


def _say(kind: str, text: str) -> None:
    """One line on stderr: `error: ...`, `warning: ...` or `note: ...`, its control characters escaped."""
    print(f"{kind}: {_one_line(text)}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="panther-cn-transform", description="Port CloudFormation templates to AWS China.")
    commands = parser.add_subparsers(dest="command", metavar="{transform,release,connect,deploy,rules}", required=True,
                                     parser_class=_ArgumentParser)

    run = commands.add_parser(
        "transform", help="transform one template, or a project of templates into --out-dir",
        description="One template: written to -o (default: stdout).  Several, or folders and globs (project mode, "
                    "docs/projects.md): nested stacks are found among them (relative TemplateURLs, S3 URLs whose key ends "
                    "in a file of the set, Quick Start Fn::Sub URLs), children are transformed first, the same tree is "
                    "written under --out-dir all or nothing, and one report covers the set.  With --bucket, the buckets "
                    "the nested templates are read from become --bucket, keys unchanged (upload the out-dir under the "
                    "key prefix the report names); relative paths (a `package` layout) stay relative.  The pack applies "
                    "to every template.  -o is for one template; --patch then holds one JSON Patch per template.")
    run.add_argument("input", nargs="+", metavar="INPUT",
                     help="template file (YAML or JSON, told apart by content; - for stdin), folder or glob (quoted); "
                          "several, a folder or a glob: project mode with --out-dir, or --check")
    run.add_argument("-o", "--output", help="write the result here (default and -: stdout); one template only")
    run.add_argument("--out-dir", help="project mode: write the transformed templates here, at their paths relative "
                                       "to the inputs' common folder (never a pattern)")
    run.add_argument("--force", action="store_true", help="project mode: replace a non-empty --out-dir")
    run.add_argument("--jobs", type=int, metavar="N", help="project mode: worker processes (default: as release)")
    _add_rule_options(run)
    run.add_argument("--report", help="write a report of every change here (- for stdout)")
    run.add_argument("--report-format", choices=REPORT_FORMATS, help=REPORT_FORMAT_HELP)
    run.add_argument("--patch", help="write the RFC 6902 JSON Patch here (- for stdout)")
    run.add_argument("--check", action="store_true",
                     help="write nothing but the --report; exit 1 if any template would change (listing them); "
                          "an input that is not a CloudFormation template is skipped with a note (docs/projects.md)")
    _add_limit_options(run)

    release = commands.add_parser("release", help="transform a whole release (and copy it bucket to bucket) for China")
    release.add_argument("source_dir", metavar="SOURCE",
                         help="s3://BUCKET, or a local mirror of it (the bucket's name tells the source region)")
    release.add_argument("--release", required=True, help="release folder, e.g. v1.16.0 (root: <release>/panther.yml)")
    release.add_argument("--out-dir", help="folder to write the new bucket layout to (default with --upload: in the cache)")
    _add_rule_options(release)
    release.add_argument("--report", help="write the operator's report, with every object left behind, here (- for stdout)")
    release.add_argument("--report-format", choices=REPORT_FORMATS, help=REPORT_FORMAT_HELP)
    release.add_argument("--jobs", type=int, metavar="N",
                         help="worker processes and transfers (default: transforms in this process, unless one nesting "
                              "depth has several templates of 512 KB or more and CPUs are idle (workers cost more than "
                              "they save on smaller ones, docs/performance.md); cfn-lint verification on every CPU; "
                              "8 transfers)")
    release.add_argument("--force", action="store_true", help="replace a non-empty --out-dir")
    release.add_argument("--check", action="store_true",
                         help="do everything but write (and upload); with --upload, list what would be uploaded")
    s3 = release.add_argument_group("S3 (docs/release.md)")
    s3.add_argument("--upload", action="store_true", help="copy the finished release to s3://<--bucket>/ (the manifest's keys, the root last)")
    s3.add_argument("--verify", action=argparse.BooleanOptionalAction, default=None,
                    help="stop on cfn-lint errors the input did not have (default: on with --upload)")
    s3.add_argument("--accept-blockers", action="store_true",
                    help="upload even when the report lists blockers the global release does not have (a failed --verify "
                         "still stops)")
    s3.add_argument("--replace-live-children", action="store_true",
                    help="upload over a nested template kept under its source key (its TemplateURL spelled in pieces) "
                         "that the bucket holds with other bytes, though the live root reads it until the new root is "
                         "written (docs/release.md, \"Keys\")")
    s3.add_argument("--cache-dir", help="where objects from an S3 SOURCE are kept between runs (default: the user cache dir)")
    s3.add_argument("--source-profile", metavar="PROFILE", help="AWS profile for an S3 SOURCE (global partition)")
    s3.add_argument("--target-profile", metavar="PROFILE", help="AWS profile for --upload (the China account)")
    s3.add_argument("--max-asset-bytes", type=int, default=MAX_ASSET_BYTES, metavar="N",
                    help=f"largest asset downloaded from an S3 SOURCE (default {MAX_ASSET_BYTES:,}; docs/limits.md)")
    s3.add_argument("--s3-timeout", type=float, default=DEFAULT_S3_TIMEOUT, metavar="SECONDS",
                    help=f"connect and read timeout of every S3 request, and the base of its deadline (default {DEFAULT_S3_TIMEOUT:g})")
    _add_limit_options(release)

    connect = commands.add_parser("connect", help="store the China bridge's URL and API key as the web region's secret (docs/release.md)")
    connect.add_argument("--china-stack", required=True, help="the China stack (deployed from a release made with the panther pack)")
    connect.add_argument("--china-region", required=True, help="its region, e.g. cn-north-1")
    connect.add_argument("--china-profile", help="AWS profile for the China account (default: the usual credential chain)")
    connect.add_argument("--web-region", required=True, help="the web half's region, e.g. ap-southeast-1")
    connect.add_argument("--web-profile", help="AWS profile for the web half's account")
    connect.add_argument("--secret-id", default="panther/china", help="the secret the web stack's SecretID names (default panther/china)")
    connect.add_argument("--test", action="store_true", help='first POST {"listIntegrations": {}} through the bridge and require an answer')
    connect.add_argument("--timeout", type=float, default=DEFAULT_BRIDGE_DEADLINE, metavar="SECONDS",
                         help="--test's whole exchange with the bridge, from connecting to the last byte, ends within this "
                              f"(default {DEFAULT_BRIDGE_DEADLINE:g})")

    _add_deploy_parser(commands)

    rules = commands.add_parser("rules", help="check or show rule files")
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="{check,show,docs}", required=True,
                                         parser_class=_ArgumentParser)
    check = rule_commands.add_parser("check", help="validate rule files")
    check.add_argument("files", nargs="+")
    show = rule_commands.add_parser("show", help="print the effective rules after `extends` as YAML")
    show.add_argument("--rules", action="append", default=[], metavar="FILE_OR_PACK")
    rule_commands.add_parser("docs", help="print docs/rules.md, generated from the actions and packs")
    rule_commands.add_parser("schema", help="print rules/schema.json, generated from the actions")
    return parser


def _add_deploy_parser(commands: Any) -> None:
    deploy = commands.add_parser("deploy", help="deploy the China half, the web half or both, through change sets (docs/release.md)")
    steps = deploy.add_subparsers(dest="deploy_command", metavar="{all,china,web,rotate-key}", required=True,
                                  parser_class=_ArgumentParser)
    helps = {
        "all": "the whole guide: China half, connect (or the key rotation of an upgrade), web half, the web half's values "
               "into the China stack on a first install, the end-to-end check",
        "china": "the China half's stack, from the root template in --bucket",
        "web": "the web half's stack, from the root template in --web-bucket, with SecretID",
        "rotate-key": "a new bridge key with no outage: the idle key slot regenerated, checked, put in the secret, then in use",
    }
    for name, text in helps.items():
        step = steps.add_parser(name, help=text, description=text)
        china = step.add_argument_group("China half")
        china.add_argument("--china-region", required=True, help="e.g. cn-north-1")
        china.add_argument("--china-profile", metavar="PROFILE", help="AWS profile of the China account (default: the usual credential chain)")
        china.add_argument("--stack", default="panther", help="the China stack (default panther)")
        if name in ("all", "china"):
            china.add_argument("--bucket", required=True, help="the China bucket the release was uploaded to")
        web = step.add_argument_group("web half")
        web.add_argument("--web-region", required=True, help="ap-southeast-1 or ap-southeast-2")
        web.add_argument("--web-profile", metavar="PROFILE", help="AWS profile of the web half's account")
        web.add_argument("--web-stack", default="panther", help="the web half's stack (default panther)")
        if name in ("all", "web"):
            web.add_argument("--web-bucket", required=True, help="the web half's bucket (release ... --rules panther-web-proxy --upload)")
        elif name == "china":
            web.add_argument("--web-bucket", help="the web half's bucket, to tell which China parameters come from it "
                                                  "before the web half exists")
        web.add_argument("--secret-id", default="panther/china", help="the web region's secret with the bridge (default panther/china)")
        if name != "rotate-key":
            step.add_argument("--release", required=True, help="the release folder in the buckets, e.g. v1.18.1")
            step.add_argument("--first-user-email", help="FirstUserEmail for a first install (kept from the stack on an update)")
            step.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                              help="a root parameter's value, for each half whose root declares it")
        run = step.add_argument_group("running")
        run.add_argument("--yes", action="store_true", help="execute each change set without asking (required when stdin is not a terminal)")
        run.add_argument("--plan", action="store_true", help="show the change sets and the later steps, change nothing (the change sets are deleted)")
        if name != "rotate-key":
            run.add_argument("--accept-blockers", action="store_true",
                             help="deploy even when the upload recorded blockers the global release does not have "
                                  "(release ... --upload --accept-blockers)")


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    group = parser.add_argument_group("limits (docs/limits.md)")
    group.add_argument("--max-input-bytes", type=int, default=defaults.max_input_bytes, metavar="N", help=f"largest template read (default {defaults.max_input_bytes:,})")
    group.add_argument("--max-depth", type=int, default=defaults.max_depth, metavar="N", help=f"deepest nesting (default {defaults.max_depth})")
    group.add_argument("--max-nodes", type=int, default=defaults.max_nodes, metavar="N", help=f"values after alias expansion (default {defaults.max_nodes:,})")
    group.add_argument("--max-alias-values", type=int, default=defaults.max_alias_values, metavar="N",
                       help=f"values that aliases of lists and mappings repeat (default {defaults.max_alias_values:,})")


def _limits(args: argparse.Namespace) -> Limits:
    for name in ("max_input_bytes", "max_depth", "max_nodes", "max_alias_values"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1", file="<command line>")
    return Limits(max_input_bytes=args.max_input_bytes, max_depth=args.max_depth, max_nodes=args.max_nodes,
                  max_alias_values=args.max_alias_values)


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", required=True, help="target region, e.g. cn-north-1 or cn-northwest-1")
    parser.add_argument("--bucket", help="the customer's China asset bucket (variable ${bucket})")
    parser.add_argument("--rules", action="append", default=[], metavar="FILE_OR_PACK", help="rule file or built-in pack (default: panther)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="variables", help="set a rule variable")


def _variables(args: argparse.Namespace) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in args.variables:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"--set expects NAME=VALUE, got {item!r}", file="<command line>")
        values[name] = value
    if args.bucket is not None:
        values["bucket"] = args.bucket
    if "bucket" in values:
        problem = bucket_name_problem(values["bucket"])
        if problem:
            given = "--bucket" if args.bucket is not None else "--set bucket="
            raise InputError(f"{given} {values['bucket']!r} is not a valid S3 bucket name: it {problem}", file="<command line>")
    return values


def _report_format(args: argparse.Namespace) -> ReportFormat:
    if args.report_format:
        return cast("ReportFormat", args.report_format)
    suffix = Path(args.report or "").suffix
    return cast("ReportFormat", REPORT_SUFFIXES.get(suffix, "text"))


def _positions(args: argparse.Namespace) -> bool:
    """Whether the report needs the line and column of each warning and blocker (SARIF does; they cost time for JSON)."""
    return bool(args.report) and _report_format(args) == "sarif"


def _print_warnings(report: dict[str, Any]) -> None:
    """Every warning of the report on stderr, once each: `warning: file:pointer: message [rule]`."""
    seen: set[str] = set()
    for template in report["templates"]:
        for warning in template["warnings"]:
            line = f"{template['source']}:{warning['path']}: {warning['message']} [{warning['rule']}]"
            if line not in seen:
                seen.add(line)
                _say("warning", line)


def _report_on_screen(report: str | None) -> bool:
    """Whether `--report` goes where the warnings would: standard output or error (`-`, `/dev/stdout`, ...).

    The report holds every warning, so they are then not printed on stderr as well (once each).
    """
    if not report:
        return False
    if report == STDIO:
        return True
    try:
        target = os.stat(report)
    except OSError:
        return False
    for stream in (sys.stdout, sys.stderr):
        try:
            shown = os.fstat(stream.fileno())
        except (OSError, ValueError, AttributeError):
            continue
        if (target.st_dev, target.st_ino) == (shown.st_dev, shown.st_ino):
            return True
    return False


def _load_rules(names: Sequence[str], limits: Limits | None = None) -> RuleSet:
    from .ruleset.rule_files import load_rules

    return load_rules(*names, limits=limits)


def _report_text(args: argparse.Namespace, report: dict[str, Any], rules: RuleSet) -> str:
    from .report.json_report import format_report

    return format_report(report, _report_format(args), rules=rules)


def _write_report(args: argparse.Namespace, report: dict[str, Any], rules: RuleSet) -> None:
    """The report to `--report` (a file written whole, or `-` for stdout), if asked for."""
    if args.report:
        outputs = Outputs()
        outputs.add("--report", args.report, _report_text(args, report, rules))
        outputs.write()


def cmd_transform(args: argparse.Namespace) -> int:
    from .report.json_report import build_report
    from .transform import transform_file

    if args.out_dir or (_names_a_project(args.input) and STDIO not in args.input):
        return _project(args)
    if len(args.input) > 1 and not args.check:
        raise InputError(f"{len(args.input)} templates given: several are transformed together with --out-dir "
                         "(project mode), or checked with --check", file="<command line>")
    if args.input.count(STDIO) > 1:
        raise InputError("standard input (-) given more than once", file="<command line>")
    targets = [("--patch", args.patch), ("--report", args.report), ("-o", args.output or STDIO)]
    if args.check:
        if args.report:
            check_writable(args.report)  # the one thing --check writes
    else:
        check_targets([(option, target) for option, target in targets if target])
        for option, target in targets:
            if target:
                check_writable(target)
    limits = _limits(args)
    rules = _load_rules(args.rules, limits)
    if not args.check:
        inputs = [("the template", name) for name in args.input] + [("the rule file", name) for name in rules.paths]
        check_apart([(option, target) for option, target in targets if target], inputs=inputs)
    if args.check:
        return _check(args, rules, limits)
    (path,) = args.input
    result = transform_file(path, rules, region=args.region, variables=_variables(args), limits=limits)
    report = build_report([(result, args.output)], region=args.region, bucket=args.bucket, positions=_positions(args))
    warn = not _report_on_screen(args.report)
    outputs = Outputs()
    if args.patch:
        outputs.add("--patch", args.patch, json.dumps(result.patch_operations, indent=2, ensure_ascii=False) + "\n")
    if args.report:
        outputs.add("--report", args.report, _report_text(args, report, rules))
    outputs.add("-o", args.output or STDIO, result.text)
    outputs.write()  # all or nothing: a failure leaves no output file at all, and its one line is all that is printed
    if warn:
        _print_warnings(report)
    return EXIT_OK


def _names_a_project(inputs: Sequence[str]) -> bool:
    """Whether the inputs are more than plain files: a folder, or a pattern that names no file as it is."""
    import glob

    return any(os.path.isdir(name) or (not os.path.exists(name) and glob.has_magic(name)) for name in inputs)


def _project(args: argparse.Namespace) -> int:
    """`transform` over a project: nested stacks found among the inputs, children first, into `--out-dir`."""
    from .release.project import ProjectResult, expand_inputs, transform_project

    if STDIO in args.input:
        raise InputError("standard input cannot be part of a project (give files, folders or globs)", file="<command line>")
    if args.output:
        raise InputError("-o is for one template: with several, --out-dir holds the outputs", file="<command line>")
    if not args.out_dir and not args.check:
        raise InputError("several templates, a folder or a glob: give --out-dir (project mode) or --check",
                         file="<command line>")
    if args.jobs is not None and args.jobs < 1:
        raise InputError("--jobs must be at least 1", file="<command line>")
    for target in (args.report, None if args.check else args.patch):  # --check writes only its report
        if target:
            check_writable(target)
    limits = _limits(args)
    rules = _load_rules(args.rules, limits)
    written = [(option, target) for option, target in (("--report", args.report), ("--patch", args.patch)) if target]
    if written:  # never over one of the templates, or the rule file, read
        _base, files = expand_inputs(args.input)
        check_apart(written, inputs=[("the template", str(file.path)) for file in files] +
                    [("the rule file", name) for name in rules.paths])
    outputs = Outputs()
    staged: list[ProjectResult] = []

    def stage(result: ProjectResult) -> None:
        """The report and patch staged (streams written) before the out-dir is swapped in: all or nothing."""
        staged.append(result)
        if args.report:
            outputs.add("--report", args.report, _report_text(args, result.report, rules))
        if args.patch and not args.check:
            patches = {entry["place"]: entry["patch"] for entry in result.report["templates"]}
            outputs.add("--patch", args.patch, json.dumps(patches, indent=2, ensure_ascii=False) + "\n")
        outputs.stage()
        outputs.stream()

    try:
        result = transform_project(args.input, rules=rules, region=args.region, bucket=args.bucket,
                                   out_dir=args.out_dir, variables=_variables(args), jobs=args.jobs, force=args.force,
                                   check=args.check, limits=limits, notice=_notice, before_publish=stage)
        if not staged:  # --check: nothing was published, the report is all this run writes
            stage(result)
        try:
            outputs.commit()
        except OutputError as exc:
            if not args.check:
                exc.message += f"; the project was written to {args.out_dir}, only this output is missing"
                exc.args = (exc.message,)
            raise
    finally:
        outputs.discard()
    if not _report_on_screen(args.report):
        _print_warnings(result.report)
    for name in result.skipped:
        print(f"note: {name}: not a CloudFormation template, skipped", file=sys.stderr)
    project = result.report["project"]
    for key in result.changed if args.check else ():
        print(f"{key}: would change", file=sys.stderr)
    summary = result.report["summary"]
    where = "nothing written (--check)" if args.check else f"written to {args.out_dir}"
    print(f"project: {summary['templates']} template(s) ({len(project['roots'])} root(s)), {len(result.changed)} changed, "
          f"{summary['warnings']} warning(s), {summary['blockers']} blocker(s); {where}", file=sys.stderr)
    if args.bucket and not args.check:
        for prefix in project["upload_prefixes"]:
            print(f"upload: aws s3 cp --recursive {args.out_dir} s3://{args.bucket}/{prefix}", file=sys.stderr)
    return EXIT_CHANGES if args.check and result.changed else EXIT_OK


def _check(args: argparse.Namespace, rules: RuleSet, limits: Limits) -> int:
    """`transform --check` over one or more inputs: exit 1 if any template would change, listing them.

    An input that is not a CloudFormation template is skipped with a note (`_template_to_check`),
    so that a pre-commit hook or a CI job can give every file of a folder.  One report covers
    the templates checked; it is all that is written.  (Transforming several templates into
    an out-dir is project mode's, issue 28; this is `--check` alone.)
    """
    from .report.json_report import build_report
    from .transform import transform

    variables = _variables(args)
    results = []
    for path in args.input:
        template = _template_to_check(path, limits)
        if template is not None:
            results.append(transform(template, rules, region=args.region, variables=variables))
    output = args.output if len(args.input) == 1 else None
    report = build_report([(result, output) for result in results], region=args.region, bucket=args.bucket,
                          positions=_positions(args))
    _write_report(args, report, rules)
    if not _report_on_screen(args.report):
        _print_warnings(report)
    changed = [result for result in results if result.changed]
    for result in changed:
        print(f"{result.template.source}: would change ({len(result.edits)} change(s))", file=sys.stderr)
    if len(args.input) > 1:
        skipped = len(args.input) - len(results)
        print(f"{len(changed)} of {len(results)} template(s) would change" + (f"; {skipped} file(s) skipped, not templates" if skipped else ""),
              file=sys.stderr)
    return EXIT_CHANGES if changed else EXIT_OK


def _template_to_check(path: str, limits: Limits) -> Template | None:
    """The decoded template at `path`, or None (with a note) for a file that is not a CloudFormation template.

    Not a template: a file that decodes to something without a Resources section, or that
    does not decode and has no top-level `Resources` or `AWSTemplateFormatVersion` key
    (`looks_like_template`: a README, a Helm chart).  A file that cannot be read, or a
    template that does not decode, is still an error.
    """
    from .model.decode import decode_bytes, looks_like_template

    name = "<stdin>" if path == STDIO else path
    data = read_limited(path, limits.max_input_bytes, error=TemplateError, name=name, what="template file")
    try:
        return decode_bytes(data, source=name, limits=limits)
    except TemplateError as exc:
        if looks_like_template(data):
            raise
        _notice(f"{name}: skipped, not a CloudFormation template ({exc.message.removeprefix('not a CloudFormation template: ')})")
        return None


def cmd_release(args: argparse.Namespace) -> int:
    """`release`: the report is staged before the out-dir is published, so an error writing it publishes nothing."""
    from .release.pipeline import ReleaseResult
    from .release.release_run import ReleaseRun

    if not args.bucket:
        raise InputError("release needs --bucket (the customer's China bucket)", file="<command line>")
    if args.jobs is not None and args.jobs < 1:
        raise InputError("--jobs must be at least 1", file="<command line>")
    if not args.out_dir and not (args.upload or args.check):
        raise InputError("release needs --out-dir (or --upload, which keeps the release in the cache)", file="<command line>")
    limits = _limits(args)
    if args.max_asset_bytes < 1:
        raise InputError("--max-asset-bytes must be at least 1", file="<command line>")
    if not args.s3_timeout > 0:
        raise InputError("--s3-timeout must be more than 0 seconds", file="<command line>")
    rules = _load_rules(args.rules, limits)
    run = ReleaseRun(
        source=args.source_dir, release=args.release, region=args.region, bucket=args.bucket,
        rules=rules, variables=_variables(args), limits=limits, out_dir=args.out_dir, positions=_positions(args),
        jobs=args.jobs, force=args.force, check=args.check, upload=args.upload,
        verify=args.upload if args.verify is None else args.verify, cache_dir=args.cache_dir,
        source_profile=args.source_profile, target_profile=args.target_profile, notice=_notice,
        accept_blockers=args.accept_blockers, replace_live_children=args.replace_live_children,
        outputs=(("--report", args.report),) if args.report else (),
        max_asset_bytes=args.max_asset_bytes, s3_timeout=args.s3_timeout,
    )
    run.check_places()  # the report apart from the inputs, the source, the out-dir and the cache
    if args.report:
        check_writable(args.report)  # before the release is written, not after
    outputs = Outputs()
    staged: list[ReleaseResult] = []

    def stage(result: ReleaseResult) -> None:
        """The report written beside its target before the out-dir is swapped in (streams too, unless an upload follows)."""
        staged.append(result)
        if args.report:
            outputs.add("--report", args.report, _report_text(args, result.report, rules))
        outputs.stage()
        if not args.upload:
            if not _report_on_screen(args.report):
                _print_warnings(result.report)
            outputs.stream()

    run.before_publish = stage
    try:
        outcome = run.execute(sys.stderr)
    except VerificationError as exc:
        outputs.discard()
        if isinstance(exc.result, ReleaseResult):
            _write_report(args, exc.result.report, rules)
        if not args.report:  # the errors are in a report nobody asked for: say how to see them
            exc.message = exc.message.replace("(the report lists them", "(--report report.md lists them")
        if isinstance(exc, BlockedError):
            exc.message += "; --accept-blockers uploads anyway"
        exc.args = (exc.message,)
        raise
    except KeyboardInterrupt:
        outputs.discard()
        if not args.upload:
            raise
        _say("error", "interrupted; run the same command again to resume (what reached the cache or the bucket is "
             "skipped; the root template is uploaded last)")
        return EXIT_INTERRUPTED
    except BaseException:
        outputs.discard()
        raise
    try:
        _finish_release(args, outcome, outputs, rules, staged=bool(staged))
    except (KeyboardInterrupt, Terminated) as exc:  # the release is out: "no output was written" would be untrue
        stopped = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated (SIGTERM)"
        _say("error", f"{stopped}; the release was {outcome.where}, the report was not written")
        return EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_TERMINATED
    finally:
        outputs.discard()
    return EXIT_OK


def _finish_release(args: argparse.Namespace, outcome: RunOutcome, outputs: Outputs, rules: RuleSet, *, staged: bool) -> None:
    """After the release is published (and uploaded): the staged report put in place, then the summary line.

    Whatever fails now fails after something was published, and the error line says what was.
    """
    try:
        if not staged:  # --check: nothing was published, the report is all this run writes
            if not _report_on_screen(args.report):
                _print_warnings(outcome.report)
            _write_report(args, outcome.report, rules)
        else:
            if args.upload:
                if not _report_on_screen(args.report):
                    _print_warnings(outcome.report)
                outputs.stream()
            outputs.commit()
    except OutputError as exc:
        if staged:
            exc.message += f"; the release was {outcome.where}, only the report is missing"
            exc.args = (exc.message,)
        raise
    for line in outcome.plan_lines:
        print(line, file=sys.stderr)
    print(outcome.summary_line(), file=sys.stderr)


def cmd_connect(args: argparse.Namespace) -> int:
    from .release.connect import connect

    if not 0 < args.timeout < float("inf"):
        raise InputError("--timeout must be more than 0 seconds, and finite", file="<command line>")
    for line in connect(china_stack=args.china_stack, china_region=args.china_region, china_profile=args.china_profile,
                        web_region=args.web_region, web_profile=args.web_profile, secret_id=args.secret_id, test=args.test,
                        timeout=args.timeout):
        print(line, file=sys.stderr)
    return EXIT_OK


def cmd_deploy(args: argparse.Namespace) -> int:
    from .release.deploy import Deployment, DeployOptions, Half
    from .release.deploy_inputs import parse_assignments

    if args.yes and args.plan:
        raise InputError("--plan changes nothing and --yes executes: give one of them", file="<command line>")
    options = DeployOptions(
        china=Half("China", args.china_region, args.stack, args.china_profile, getattr(args, "bucket", None)),
        web=Half("web", args.web_region, args.web_stack, args.web_profile, getattr(args, "web_bucket", None)),
        release=getattr(args, "release", None), secret_id=args.secret_id,
        first_user_email=getattr(args, "first_user_email", None), parameters=parse_assignments(getattr(args, "parameter", [])),
        yes=args.yes, plan=args.plan, accept_blockers=getattr(args, "accept_blockers", False),
    )
    deployment = Deployment(options, sys.stderr, confirm=_ask if sys.stdin.isatty() else None)
    run = {"all": deployment.deploy_all, "china": deployment.deploy_china, "web": deployment.deploy_web,
           "rotate-key": deployment.rotate_key}[args.deploy_command]
    run()
    return EXIT_OK


def _ask(question: str) -> bool:
    """A yes or no from the terminal (anything but y or yes is a no)."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _stdout() -> TextIO:
    """Standard output, or an `OutputError` when the command was started with it closed (`>&-`)."""
    if sys.stdout is None:
        raise OutputError("cannot write: standard output is closed", file="<stdout>")
    return sys.stdout


def _notice(message: str) -> None:
    _say("note", message)


def cmd_rules(args: argparse.Namespace) -> int:
    if args.rules_command == "check":
        for name in args.files:
            _load_rules([name], Limits())
            print(f"{name}: ok")
        return EXIT_OK
    if args.rules_command == "docs":
        from .report.rule_docs import render_rules_doc

        _stdout().write(render_rules_doc())
        return EXIT_OK
    if args.rules_command == "schema":
        from .ruleset.rule_schema import render_schema

        _stdout().write(render_schema())
        return EXIT_OK
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(_load_rules(args.rules).to_data(), _stdout())
    return EXIT_OK


def collector_held() -> AbstractContextManager[None]:
    """Keep Python's cyclic garbage collector off for one command, then restore what it was.

    Why: the library pauses the collector while it builds a template's model and restores it
    when the transform returns (`_gc.py`); the command then builds the report and the patch
    while that result is alive, and every full collection re-scanned the whole result (4.4 s
    of a 10 MB transform).  A command is short-lived and makes little cyclic garbage (about 800
    objects for a whole release, measured with `gc.collect()` after it), so reference counting
    alone frees enough; the library itself stays pure and restores the state it found.
    bench/bench_cli_gc.py measures it.
    """
    return collector_paused()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    with collector_held():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"transform": cmd_transform, "release": cmd_release, "connect": cmd_connect, "deploy": cmd_deploy, "rules": cmd_rules}
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return handlers[args.command](args)
    except TransformError as exc:
        _say("error", str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("error", "interrupted; no output was written")
        return EXIT_INTERRUPTED
    except Terminated:
        _say("error", "terminated (SIGTERM); no output was written")
        return EXIT_TERMINATED
    except BrokenPipeError:
        return EXIT_ERROR
    except MemoryError:
        _say("error", "out of memory; no output was written (lower the limits, docs/limits.md)")
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - a bug, not the user's input: still one line, never a traceback
        detail = str(exc).splitlines()[0] if str(exc) else ""
        _say("error", f"internal error ({type(exc).__name__}: {detail}); no output was written; please report it")
        return EXIT_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


def main_exit() -> None:
    """Console-script (and `python -m`) entry point.

    After Ctrl-C or SIGTERM the process ends at once (`os._exit`), once the command has
    cleaned up in its `finally` blocks and printed its one line: a normal interpreter exit
    joins the threads of a process pool whose workers were just killed, and a worker killed
    while it was sending a result leaves one of them waiting for the rest of that message
    forever (seen under load: the release printed its error and never ended).  A process
    ended by the signal itself would skip the interpreter's exit handlers too.
    """
    code = main()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said there
                pass
        os._exit(code)
    sys.exit(code)
