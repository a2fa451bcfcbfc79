"""One `release` command from start to end: source, transform, verify, upload, summary.

The command line's `release` is this sequence; keeping it out of `cli.py` keeps the CLI
to arguments and exit codes, and release mode (`release.py`) free of S3.  The order is
what makes a copy safe:

1. the target bucket is checked first (exists, readable, in the target region), so a
   wrong bucket fails in a second, not after the download;
2. the source is read (a local mirror, or `s3://BUCKET` through the cache) and the release
   transformed and, when `verify`, linted: any error stops here, before anything is
   written or uploaded;
3. the release is written to its folder, then uploaded (or, with `check`, only planned).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import OutputError, TransformError
from ..files import check_apart
from ..limits import MAX_ASSET_BYTES, Limits
from ..report.guide import attach_next_steps
from ..ruleset.rule_files import RuleSet
from .display import ReleaseDisplay
from .keys import check_release_name
from .manifest import ReleaseObject
from .pipeline import ReleaseResult, blocker_places, transform_release
from .s3common import DEFAULT_TIMEOUT
from .s3source import DownloadStats, S3Source, default_cache_dir, parse_s3_url
from .source import ReleaseSource

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: parallel transfers when --jobs is not given (transfers wait on the network, not the CPU)
DEFAULT_TRANSFERS = 8


@dataclass
class RunOutcome:
    """What one run did, for the summary line and the report."""

    result: ReleaseResult
    where: str
    seconds: float
    downloads: DownloadStats | None = None
    uploaded: int | None = None
    skipped: int = 0
    uploaded_bytes: int = 0
    plan_lines: list[str] = field(default_factory=list)
    check: bool = False

    @property
    def report(self) -> dict[str, object]:
        return self.result.report

    def summary_line(self) -> str:
        """One line: what was downloaded, transformed, uploaded and skipped, bytes and time."""
        summary = self.result.summary
        parts = [
            (f"release {self.result.report['release']} for {self.result.report['region']}: "
            f"{summary['templates']} templates transformed, {summary['objects_copied']} objects copied"
            f"{_left_behind(summary)}, "
            f"{summary['removals']} resources removed, {summary['rewrites']} values rewritten, {summary['warnings']} warnings, "
            f"{_blockers(summary)}")
        ]
        if self.downloads is not None:
            parts.append(f"{self.downloads.downloaded} objects downloaded ({_size(self.downloads.bytes)}), "
                         f"{self.downloads.cached} already in the cache")
        if self.uploaded is not None:
            verb = "would upload" if self.check else "uploaded"
            parts.append(f"{self.uploaded} objects {verb} ({_size(self.uploaded_bytes)}), {self.skipped} skipped (already there)")
        parts.append(self.where)
        parts.append(f"{self.seconds:.1f} s")
        return "; ".join(parts)


@dataclass
class ReleaseRun:
    """The options of one run (see `panther-cn-transform release --help`)."""

    source: str
    release: str
    region: str
    bucket: str
    rules: RuleSet
    variables: dict[str, str]
    limits: Limits
    out_dir: str | None = None
    jobs: int | None = None
    force: bool = False
    check: bool = False
    upload: bool = False
    verify: bool = False
    cache_dir: str | None = None
    source_profile: str | None = None
    target_profile: str | None = None
    notice: Callable[[str], None] | None = None  # one line when stale staging folders are removed
    positions: bool = False  # the report's warnings and blockers with their line and column (for SARIF)
    accept_blockers: bool = False  # upload even with blockers the global release does not have (never a failed verify)
    replace_live_children: bool = False  # upload over nested templates under their source keys (s3target.LiveChildError)
    #: files the caller writes after the run, as (option, path): refused inside the source, the output
    #: folder (or its staging), the download cache, or on an input, before anything is read
    outputs: Sequence[tuple[str, str]] = ()
    max_asset_bytes: int = MAX_ASSET_BYTES  # largest asset downloaded from an S3 source
    s3_timeout: float = DEFAULT_TIMEOUT  # connect and read timeout of every S3 request, and the base of its deadline
    #: called with the result just before the out-dir is swapped in (`transform_release`'s `before_publish`): the
    #: caller stages its outputs then; with `upload`, it gets the report as it will read once the upload is done
    before_publish: Callable[[ReleaseResult], None] | None = None

    def execute(self, stream: TextIO) -> RunOutcome:
        """Run it, drawing progress on `stream` when that is a terminal."""
        started = time.monotonic()
        self.check_places()
        cache, out_dir = self._places()
        transfers = self.jobs or DEFAULT_TRANSFERS
        client = None
        self.rules.partitions(self.region)  # a region the rules do not port to: refused before any bucket is asked
        if self.upload:
            from .s3target import check_target, target_client

            client = target_client(self.target_profile, self.region, jobs=transfers, timeout=self.s3_timeout)
            check_target(client, self.bucket, self.region)
        with ReleaseDisplay(stream) as display, ExitStack() as resources:
            source: str | ReleaseSource = self.source
            s3_source = None
            bucket = parse_s3_url(self.source)
            if bucket:
                s3_source = resources.enter_context(S3Source(
                    bucket, cache_dir=cache, profile=self.source_profile, jobs=transfers,
                    on_bytes=display.downloaded if display.active else None, timeout=self.s3_timeout,
                    max_template_bytes=self.limits.max_input_bytes, max_asset_bytes=self.max_asset_bytes,
                ))
                source = s3_source
            result = transform_release(
                source, release=self.release, region=self.region, bucket=self.bucket, rules=self.rules,
                out_dir=out_dir, variables=self.variables, jobs=self.jobs, force=self.force or not self.out_dir,
                check=self.check, progress=display.transformed if display.active else None, limits=self.limits,
                verify=self.verify, notice=self.notice, source_label=self.source, positions=self.positions,
                stop_on_blockers=self.upload and not self.accept_blockers, before_publish=self._before_publish,
            )
            resources.close()
            where = "checked, nothing written" if self.check else f"written to {out_dir}"
            outcome = RunOutcome(result, where, 0.0, s3_source.stats if s3_source else None, check=self.check)
            if client is not None:
                self._upload(client, out_dir, result, outcome, display, transfers)
        outcome.seconds = time.monotonic() - started
        return outcome

    def _before_publish(self, result: ReleaseResult) -> None:
        if self.before_publish is None:
            return
        if self.upload and not self.check:  # the report as it reads after the upload: staged now, kept only if it succeeds
            report = {**result.report, "uploaded": True}
            attach_next_steps(report)
            result = ReleaseResult(result.out_dir, result.objects, report, result.summary, result.left_behind)
        self.before_publish(result)

    def _places(self) -> tuple[Path, Path]:
        """The download cache and the out-dir (by default in the cache)."""
        cache = Path(self.cache_dir) if self.cache_dir else default_cache_dir()
        return cache, Path(self.out_dir) if self.out_dir else cache / "releases" / self.bucket / self.release

    def check_places(self) -> None:
        """Nothing this run writes or replaces may be one of its inputs, its source or the download cache.

        `--force` replaces the out-dir whole, so an out-dir holding a rule file of this run,
        or the cache (or inside its objects), is refused; the caller's outputs (the report)
        may not land in the source, the out-dir, its staging folders or the cache.  Run by
        `execute` first; a caller that checks its outputs' folders itself calls it before.
        """
        check_release_name(self.release)  # it names the root's key and the default out-dir: never a way out of them
        cache, out_dir = self._places()
        given = str(out_dir)
        target = Path(os.path.realpath(out_dir))
        uses_cache = parse_s3_url(self.source) is not None or not self.out_dir or cache.exists()
        real_cache = Path(os.path.realpath(cache))
        for name in self.rules.paths:
            if Path(os.path.realpath(name)).is_relative_to(target):
                raise OutputError(f"the output folder holds the rule file {name}, an input of this run (--force would delete it); "
                                  "choose another folder", file=given)
        if uses_cache and real_cache.is_relative_to(target):
            raise OutputError(f"the output folder is or contains the download cache {cache}; choose another folder", file=given)
        if uses_cache and target.is_relative_to(real_cache) and not target.is_relative_to(real_cache / "releases"):
            raise OutputError(f"the output folder is inside the download cache {cache} (only its releases/ folder holds "
                              "outputs); choose another folder", file=given)
        if not self.outputs:
            return
        folders = [("the output folder", out_dir)]
        with contextlib.suppress(OSError):
            prefixes = (f".{target.name}.partial-", f".{target.name}.old-")
            folders += [("the output folder's staging", p) for p in target.parent.iterdir() if p.name.startswith(prefixes)]
        if parse_s3_url(self.source) is None:
            folders.append(("the source mirror", Path(self.source)))
        else:
            folders += [("the download cache", cache / "objects"), ("the download cache", cache / "state")]
        check_apart(self.outputs, inputs=[("the rule file", name) for name in self.rules.paths], folders=folders)

    def _upload(self, client: S3Client, out_dir: Path, result: ReleaseResult, outcome: RunOutcome,
                display: ReleaseDisplay, transfers: int) -> None:
        from .s3target import LiveChildError, upload_order, upload_release

        display.upload_started(len(result.objects))
        root = str(result.report["root"])
        sent: list[str] = []

        def uploaded(obj: ReleaseObject, put: bool) -> None:
            if put:
                sent.append(obj.key)
            display.uploaded(obj, put)

        try:
            done = upload_release(
                out_dir, result.objects, root=root, bucket=self.bucket, region=self.region, client=client,
                jobs=transfers, check=self.check, on_object=uploaded, root_metadata=blockers_metadata(result.report),
                replace_live_children=self.replace_live_children,
            )
        except LiveChildError as exc:  # refused before anything was sent
            if not self.check:
                exc.message += f"; the release was written to {out_dir}; the live root is unchanged; no report was written"
                exc.args = (exc.message,)
            raise
        except TransformError as exc:  # the out-dir is written, some objects may be in the bucket: say which
            if not self.check:
                exc.message += (f"; the release was written to {out_dir} and {len(sent)} of its {len(result.objects)} "
                                f"objects uploaded to s3://{self.bucket}/ before this, not the root template {root} "
                                "(the live root is unchanged); no report was written; run the same command again to finish")
                exc.args = (exc.message,)
            raise
        wanted = {p.obj.key for p in done.plan if p.upload}
        if self.check:
            outcome.uploaded = len(wanted)
            outcome.skipped = len(done.plan) - len(wanted)
            outcome.uploaded_bytes = sum(p.obj.size for p in done.plan if p.upload)
            outcome.plan_lines = [
                f"would upload s3://{self.bucket}/{obj.key} ({obj.kind}, {obj.size:,} bytes)"
                for step in upload_order(result.objects, root) for obj in step if obj.key in wanted
            ]
            return
        outcome.uploaded, outcome.skipped, outcome.uploaded_bytes = done.uploaded, done.skipped, done.bytes
        outcome.where += f" and uploaded to s3://{self.bucket}/"
        result.report["uploaded"] = True
        attach_next_steps(result.report)


def blockers_metadata(report: Mapping[str, Any]) -> dict[str, str]:
    """The root's S3 metadata recording the release's own blockers (those the global release does not have), for `deploy`.

    S3 metadata is ASCII and at most 2 KB in all, so the places are cut to 1,500 characters; the count is whole.
    """
    from .s3target import BLOCKER_PLACES_METADATA, BLOCKERS_METADATA

    own = [blocker for blocker in report.get("blockers", []) if not blocker.get("shared")]
    places = blocker_places(own).encode("ascii", "replace").decode("ascii")
    return {BLOCKERS_METADATA: str(len(own)), **({BLOCKER_PLACES_METADATA: places[:1500]} if own else {})}


def _blockers(summary: dict[str, int]) -> str:
    """`2 blockers (0 shared with the global release)`: every run counts them, shared or not."""
    count = summary.get("blockers", 0)
    return f"{count} blocker{'' if count == 1 else 's'} ({summary.get('shared_blockers', 0)} shared with the global release)"


def _left_behind(summary: dict[str, int]) -> str:
    count = summary.get("objects_left_behind", 0)
    return f", {count} left behind (see the report)" if count else ""


def _size(count: int) -> str:
    size = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            return f"{count:,} bytes" if count < 1024 else f"{size:,.1f} {unit}"
    return f"{count:,} bytes"
