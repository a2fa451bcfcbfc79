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
from .errors import InputError, OutputError, TransformError, VerificationError
from .files import STDIO, Outputs, check_apart, check_targets, check_writable
from .limits import MAX_ASSET_BYTES, Limits
from .partitions.bucket_names import bucket_name_problem

if TYPE_CHECKING:
    from .report.json_report import ReportFormat
    from .ruleset.rule_files import RuleSet

# The library is imported by the command that uses it, not here: `--help` and argument errors should not pay
# for YAML, JSON Schema, botocore or the process pool (docs/performance.md, "Start-up"; tests/test_startup.py).

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
DEFAULT_S3_TIMEOUT = 60.0  # release.s3common.DEFAULT_TIMEOUT, not imported: --help should not load botocore's side
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
    commands = parser.add_subparsers(dest="command", metavar="{transform,release,connect,rules}", required=True,
                                     parser_class=_ArgumentParser)

    run = commands.add_parser("transform", help="transform one template")
    run.add_argument("input", help="template file (YAML or JSON, told apart by content; - for stdin)")
    run.add_argument("-o", "--output", help="write the result here (default and -: stdout)")
    _add_rule_options(run)
    run.add_argument("--report", help="write a report of every change here (- for stdout)")
    run.add_argument("--report-format", choices=["text", "markdown", "json"], help="default: by --report's extension, else text")
    run.add_argument("--patch", help="write the RFC 6902 JSON Patch here (- for stdout)")
    run.add_argument("--check", action="store_true", help="write nothing; exit 1 if the template would change")
    _add_limit_options(run)

    release = commands.add_parser("release", help="transform a whole release (and copy it bucket to bucket) for China")
    release.add_argument("source_dir", metavar="SOURCE",
                         help="s3://BUCKET, or a local mirror of it (the bucket's name tells the source region)")
    release.add_argument("--release", required=True, help="release folder, e.g. v1.16.0 (root: <release>/panther.yml)")
    release.add_argument("--out-dir", help="folder to write the new bucket layout to (default with --upload: in the cache)")
    _add_rule_options(release)
    release.add_argument("--report", help="write the operator's report, with every object left behind, here (- for stdout)")
    release.add_argument("--report-format", choices=["text", "markdown", "json"], help="default: by --report's extension, else text")
    release.add_argument("--jobs", type=int, metavar="N",
                         help="worker processes and transfers (default: transforms in this process, unless one nesting "
                              "depth has several templates of 512 KB or more and CPUs are idle (workers cost more than "
                              "they save on smaller ones, docs/performance.md); cfn-lint verification on every CPU; "
                              "8 transfers)")
    release.add_argument("--force", action="store_true", help="replace a non-empty --out-dir")
    release.add_argument("--check", action="store_true",
                         help="do everything but write (and upload); with --upload, list what would be uploaded")
    s3 = release.add_argument_group("S3 (docs/release.md)")
    s3.add_argument("--upload", action="store_true", help="copy the finished release to s3://<--bucket>/ under the same keys")
    s3.add_argument("--verify", action=argparse.BooleanOptionalAction, default=None,
                    help="stop on cfn-lint errors the input did not have (default: on with --upload)")
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


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    group = parser.add_argument_group("limits (docs/limits.md)")
    group.add_argument("--max-input-bytes", type=int, default=defaults.max_input_bytes, metavar="N", help=f"largest template read (default {defaults.max_input_bytes:,})")
    group.add_argument("--max-depth", type=int, default=defaults.max_depth, metavar="N", help=f"deepest nesting (default {defaults.max_depth})")
    group.add_argument("--max-nodes", type=int, default=defaults.max_nodes, metavar="N", help=f"values after alias expansion (default {defaults.max_nodes:,})")


def _limits(args: argparse.Namespace) -> Limits:
    for name in ("max_input_bytes", "max_depth", "max_nodes"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1", file="<command line>")
    return Limits(max_input_bytes=args.max_input_bytes, max_depth=args.max_depth, max_nodes=args.max_nodes)


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
    return cast("ReportFormat", {".json": "json", ".md": "markdown"}.get(suffix, "text"))


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


def _report_text(args: argparse.Namespace, report: dict[str, Any]) -> str:
    from .report.json_report import format_report

    return format_report(report, _report_format(args))


def _write_report(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """The report to `--report` (a file written whole, or `-` for stdout), if asked for."""
    if args.report:
        outputs = Outputs()
        outputs.add("--report", args.report, _report_text(args, report))
        outputs.write()


def cmd_transform(args: argparse.Namespace) -> int:
    from .report.json_report import build_report
    from .transform import transform_file

    targets = [("--patch", args.patch), ("--report", args.report), ("-o", args.output or STDIO)]
    if not args.check:
        check_targets([(option, target) for option, target in targets if target])
        for option, target in targets:
            if target:
                check_writable(target)
    limits = _limits(args)
    rules = _load_rules(args.rules, limits)
    if not args.check:
        inputs = [("the template", args.input)] + [("the rule file", name) for name in rules.paths]
        check_apart([(option, target) for option, target in targets if target], inputs=inputs)
    result = transform_file(args.input, rules, region=args.region, variables=_variables(args), limits=limits)
    report = build_report([(result, args.output)], region=args.region, bucket=args.bucket)
    warn = not _report_on_screen(args.report)
    if args.check:
        if warn:
            _print_warnings(report)
        if result.changed:
            print(f"{args.input}: would change ({len(result.edits)} change(s))", file=sys.stderr)
        return EXIT_CHANGES if result.changed else EXIT_OK
    outputs = Outputs()
    if args.patch:
        outputs.add("--patch", args.patch, json.dumps(result.patch.patch, indent=2, ensure_ascii=False) + "\n")
    if args.report:
        outputs.add("--report", args.report, _report_text(args, report))
    outputs.add("-o", args.output or STDIO, result.text)
    outputs.write()  # all or nothing: a failure leaves no output file at all, and its one line is all that is printed
    if warn:
        _print_warnings(report)
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
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
    run = ReleaseRun(
        source=args.source_dir, release=args.release, region=args.region, bucket=args.bucket,
        rules=_load_rules(args.rules, limits), variables=_variables(args), limits=limits, out_dir=args.out_dir,
        jobs=args.jobs, force=args.force, check=args.check, upload=args.upload,
        verify=args.upload if args.verify is None else args.verify, cache_dir=args.cache_dir,
        source_profile=args.source_profile, target_profile=args.target_profile, notice=_notice,
        outputs=(("--report", args.report),) if args.report else (),
        max_asset_bytes=args.max_asset_bytes, s3_timeout=args.s3_timeout,
    )
    run.check_places()  # the report apart from the inputs, the source, the out-dir and the cache
    if args.report:
        check_writable(args.report)  # before the release is written, not after
    try:
        outcome = run.execute(sys.stderr)
    except VerificationError as exc:
        if isinstance(exc.result, ReleaseResult):
            _write_report(args, exc.result.report)
        if not args.report:  # the errors are in a report nobody asked for: say how to see them
            exc.message = exc.message.replace("(the report lists them)", "(--report report.md lists them)")
            exc.args = (exc.message,)
        raise
    except KeyboardInterrupt:
        if not args.upload:
            raise
        _say("error", "interrupted; run the same command again to resume (what reached the cache or the bucket is "
             "skipped; the root template is uploaded last)")
        return EXIT_INTERRUPTED
    if not _report_on_screen(args.report):
        _print_warnings(outcome.report)
    _write_report(args, outcome.report)
    for line in outcome.plan_lines:
        print(line, file=sys.stderr)
    print(outcome.summary_line(), file=sys.stderr)
    return EXIT_OK


def cmd_connect(args: argparse.Namespace) -> int:
    from .release.connect import connect

    for line in connect(china_stack=args.china_stack, china_region=args.china_region, china_profile=args.china_profile,
                        web_region=args.web_region, web_profile=args.web_profile, secret_id=args.secret_id, test=args.test):
        print(line, file=sys.stderr)
    return EXIT_OK


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
    handlers = {"transform": cmd_transform, "release": cmd_release, "connect": cmd_connect, "rules": cmd_rules}
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
