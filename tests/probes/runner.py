"""Run hostile probes: each one command line in its own process, judged by what it did to the disk and said.

A probe prepares a folder, names the command (this checkout's `python -m panther_cn_transform`)
and what the run may write.  The runner snapshots the probe's whole folder, runs the command
under a 1 GiB address-space limit and a timeout, snapshots again and sorts what went wrong
into the issue's classes:

* **path escape** - a file created or changed anywhere the run was not told to write;
* **data loss** - an input changed or deleted, or a previous output damaged by a failed run;
* **silent wrong output** - exit 0 where only an error is right, or an output that does not parse;
* **output on error** - a failed run that left an output it was told to write;
* **hang** - no exit within the probe's timeout;
* **over 1 GB** - killed by the address-space limit, or a MemoryError;
* **unlocated error** - an exit 2 that is not one `error: <place>: <what>` line, a traceback,
  an internal error, or an exit code the documentation does not give;
* **secret leak** - the probe's secret in the output, the errors, or any file written.

The probe folder is deep (`<probe>/a/b/c/work`), so a path that climbs out of the work folder
lands in the snapshot and is seen.  Nothing is mocked: the S3 probes talk to a real server
on a local socket (tests/release/hostile_s3.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

REPO = Path(__file__).resolve().parents[2]
GIB = 1 << 30
DEFECTS = ("path escape", "data loss", "silent wrong output", "output on error", "hang", "over 1 GB", "unlocated error",
           "secret leak")
Expect = Literal["ok", "error", "either", "check"]
_LOCATED = re.compile(r"error: (<[^>\n]+>|[^\s:][^:\n]*?)(:\d+(:\d+)?)?(:/\S*?)?: \S")


@dataclass
class Run:
    """One command of a probe and what it may do."""

    args: list[str]
    expect: Expect
    writes: list[Path] = field(default_factory=list)  # files or folders the run may create or replace
    caches: list[Path] = field(default_factory=list)  # folders the run may fill whether it succeeds or not
    parses: list[Path] = field(default_factory=list)  # templates that must decode when the run succeeds
    env: dict[str, str] = field(default_factory=dict)
    secret: str | None = None
    timeout: float = 90.0
    stdin: bytes | None = None
    check: Callable[[subprocess.CompletedProcess[bytes]], list[str]] | None = None  # the probe's own defects


@dataclass
class Probe:
    family: str
    name: str
    build: Callable[[Path], Run]  # prepares the work folder (given) and names the run


@dataclass
class Outcome:
    probe: Probe
    defects: list[str]
    returncode: int | None
    stderr: str
    seconds: float


def _snapshot(root: Path) -> dict[str, str]:
    """Every entry below `root`: a file by its SHA-256, a link by its target, a folder by its name."""
    seen: dict[str, str] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                seen[relative] = "link:" + os.readlink(path)
            elif path.is_dir():
                seen[relative] = "dir"
            elif path.is_file():
                try:
                    seen[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    seen[relative] = "unreadable"
            else:
                seen[relative] = "special"
    return seen


def _allowed(relative: str, writes: list[str]) -> bool:
    """`relative` is one of `writes`, below one, or the run's lock or staging beside one."""
    for allowed in writes:
        if relative == allowed or relative.startswith(allowed + "/"):
            return True
        parent, _, name = allowed.rpartition("/")
        sibling = relative.rpartition("/")
        if sibling[0] == parent and sibling[2].startswith(f".{name}."):
            return True
    return False


#: the command line under a 1 GiB address-space limit, set by the child itself (no preexec_fn beside the server threads)
_LIMITED = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, ({0}, {0})); "
            "sys.argv[0] = 'panther-cn-transform'; runpy.run_module('panther_cn_transform', run_name='__main__', alter_sys=True)")


def run_probe(probe: Probe, folder: Path) -> Outcome:
    """Prepare, run and judge one probe in `folder` (created, deep enough to see a climb out of it)."""
    work = folder / "a" / "b" / "c" / "work"
    (folder / "home").mkdir(parents=True)
    (folder / "home" / ".bashrc").write_text("# the user's own\n")
    work.mkdir(parents=True)
    run = probe.build(work)
    writes = [Path(os.path.abspath(work / w)).relative_to(folder).as_posix() for w in run.writes]
    before = _snapshot(folder)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PANTHER_CN_"))}
    environment.update(HOME=str(folder / "home"), XDG_CACHE_HOME=str(work / ".xdg-cache"), AWS_EC2_METADATA_DISABLED="true",
                       PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])))
    environment.update(run.env)
    caches = [Path(os.path.abspath(work / c)).relative_to(folder).as_posix() for c in [*run.caches, Path(".xdg-cache")]]
    defects: list[str] = []
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", _LIMITED.format(GIB), *run.args], cwd=work, env=environment,
                               stdin=subprocess.PIPE if run.stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(run.stdin, timeout=run.timeout)
        returncode: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        returncode = None
        defects.append("hang")
    seconds = time.monotonic() - started
    done = subprocess.CompletedProcess(run.args, returncode if returncode is not None else -9, stdout, stderr)
    text = stderr.decode("utf-8", "replace")
    after = _snapshot(folder)
    defects += _judge_disk(before, after, writes, caches, failed=returncode not in (0, 1))
    if returncode is not None:
        defects += _judge_exit(run, returncode, text, work)
    if run.secret and _leaks(run.secret, stdout + stderr, folder, before, after):
        defects.append("secret leak")
    if run.check is not None and returncode is not None:
        defects += run.check(done)
    return Outcome(probe, sorted(set(defects)), returncode, text, seconds)


def _judge_disk(before: dict[str, str], after: dict[str, str], writes: list[str], caches: list[str], *,
                failed: bool) -> list[str]:
    defects = []
    for path in after.keys() - before.keys():
        if not _allowed(path, writes + caches):
            defects.append("path escape")
    for path, digest in before.items():
        if after.get(path) == digest or _allowed(path, caches):
            continue
        if not _allowed(path, writes):
            defects.append("data loss")
        elif failed and path in before:
            defects.append("data loss")  # a failed run damaged an earlier output
    if failed:
        for path in after.keys() - before.keys():
            if _allowed(path, writes) and not _allowed(path, caches) and not path.rsplit("/", 1)[-1].startswith("."):
                defects.append("output on error")  # a failed run left an output behind
                break
    return defects


def _judge_exit(run: Run, returncode: int, stderr: str, work: Path) -> list[str]:
    errors = [line for line in stderr.splitlines() if not line.startswith(("warning: ", "note: ")) and line.strip()]
    if returncode < 0:
        return ["over 1 GB"] if returncode in (-signal.SIGKILL, -signal.SIGSEGV) else ["unlocated error"]
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
        return ["over 1 GB"]
    if "Traceback" in stderr or "internal error" in stderr:
        return ["unlocated error"]
    allowed = {"ok": {0}, "check": {0, 1}, "error": {2}, "either": {0, 2}}[run.expect]
    if returncode not in allowed:
        return ["silent wrong output"] if returncode == 0 else ["unlocated error"]
    if returncode == 2 and not (len(errors) == 1 and _LOCATED.match(errors[0])):
        return ["unlocated error"]
    if returncode == 0:
        return _unparsed(run, work)
    return []


def _unparsed(run: Run, work: Path) -> list[str]:
    from panther_cn_transform import TemplateError, decode_text

    for path in run.parses:
        try:
            decode_text((work / path).read_text("utf-8"), source=str(path))
        except (OSError, UnicodeDecodeError, TemplateError):
            return ["silent wrong output"]
    return []


def _leaks(secret: str, said: bytes, folder: Path, before: dict[str, str], after: dict[str, str]) -> bool:
    if secret.encode() in said:
        return True
    for path, digest in after.items():
        if before.get(path) != digest and digest not in ("dir", "special") and not digest.startswith("link:"):
            try:
                if secret.encode() in (folder / path).read_bytes():
                    return True
            except OSError:
                continue
    return False


@dataclass
class Family:
    """Probes that share a context (a server they talk to), entered once for all of them."""

    name: str
    probes: Callable[[], list[Probe]]
    context: Callable[[], AbstractContextManager[object]] = nullcontext

    def filtered(self, text: str) -> Family:
        """The family with only the probes whose family or name holds `text`."""
        if not text:
            return self
        return Family(self.name, lambda: [p for p in self.probes() if text in f"{p.family}/{p.name}"], self.context)


def sample(probes: list[Probe], every: int) -> list[Probe]:
    """Every `every`-th probe of each family, the first included: the default suite's share."""
    return [probe for index, probe in enumerate(probes) if index % every == 0]


def run_families(families: list[Family], *, every: int = 1, report: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="probes-") as scratch:
        for family in families:
            with family.context():
                for index, probe in enumerate(sample(family.probes(), every)):
                    outcome = run_probe(probe, Path(scratch) / f"{family.name}-{index}")
                    outcomes.append(outcome)
                    if report:
                        report(outcome)
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """Probes per family, and the count of each defect class: the figure docs/limits.md quotes."""
    families = Counter(o.probe.family for o in outcomes)
    defects = Counter(d for o in outcomes for d in o.defects)
    lines = [f"{len(outcomes)} probes: " + ", ".join(f"{n} {f}" for f, n in families.items())]
    lines.append(", ".join(f"{defects[d]} {d}" + ("s" if d.endswith(("escape", "leak", "hang")) and defects[d] != 1 else "")
                           for d in DEFECTS))
    slowest = max(outcomes, key=lambda o: o.seconds, default=None)
    if slowest:
        lines.append(f"slowest: {slowest.probe.family}/{slowest.probe.name} {slowest.seconds:.1f} s")
    return "\n".join(lines)


def iter_defects(outcomes: list[Outcome]) -> Iterator[str]:
    for outcome in outcomes:
        if outcome.defects:
            last = outcome.stderr.strip().splitlines()[-1:] or [""]
            yield (f"{outcome.probe.family}/{outcome.probe.name}: {', '.join(outcome.defects)} "
                   f"(exit {outcome.returncode}; {last[0][:300]})")
