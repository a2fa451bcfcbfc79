"""Hostile output places: the input itself, links, special files, folders of other runs, odd names.

Single templates (`transform IN -o ... --patch ... --report ...`) and projects (`transform
folder --out-dir ...`), where a careless writer overwrites its own input, follows a planted
link, or leaves half a result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .runner import Expect, Probe, Run

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "examples" / "global-stack.yaml").read_bytes()
OUTPUTS = ("-o", "--patch", "--report")


def _single(name: str, setup: Callable[[Path], None], args: dict[str, str], expect: Expect,
            writes: tuple[str, ...] = (), parses: tuple[str, ...] = ()) -> Probe:
    def build(work: Path) -> Run:
        (work / "in.yaml").write_bytes(EXAMPLE)
        setup(work)
        flags = [part for flag, value in args.items() for part in (flag, value)]
        return Run(["transform", "in.yaml", "--region", "cn-north-1", "--bucket", "my-cn-bucket", *flags], expect,
                   writes=[Path(w) for w in writes], parses=[Path(p) for p in parses], timeout=60)
    return Probe("outputs", name, build)


def _nothing(_work: Path) -> None:
    pass


def _mkdir(*names: str) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        for name in names:
            (work / name).mkdir(parents=True, exist_ok=True)
    return setup


def _link(name: str, target: str) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, work / name)
    return setup


def _fifo(name: str) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        os.mkfifo(work / name)
    return setup


def _readonly(name: str) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        (work / name).mkdir()
        (work / name).chmod(0o555)
    return setup


def _single_probes() -> list[Probe]:
    good = {"-o": "o.yaml", "--patch": "p.json", "--report": "r.md"}
    probes = [_single("every output, all fine", _nothing, good, "ok", ("o.yaml", "p.json", "r.md"), ("o.yaml",))]
    for flag in OUTPUTS:
        probes += [
            _single(f"{flag} is the input", _nothing, {**good, flag: "in.yaml"}, "error", ("o.yaml", "p.json", "r.md")),
            _single(f"{flag} in a missing folder", _nothing, {**good, flag: "no/such/x"}, "error", ("o.yaml", "p.json", "r.md")),
            _single(f"{flag} is a folder", _mkdir("d"), {**good, flag: "d"}, "error", ("o.yaml", "p.json", "r.md")),
            _single(f"{flag} is a link to the input", _link("l", "in.yaml"), {**good, flag: "l"}, "error", ("o.yaml", "p.json", "r.md")),
            _single(f"{flag} is a link to the user's file", _link("l", "../../../../home/.bashrc"), {**good, flag: "l"}, "either",
                    ("o.yaml", "p.json", "r.md", "l", "../../../../home/.bashrc")),  # written through, as the user named it
            _single(f"{flag} is a dangling link", _link("l", "nowhere/x"), {**good, flag: "l"}, "either", ("o.yaml", "p.json", "r.md", "l")),
            _single(f"{flag} is a FIFO nobody reads", _fifo("f"), {**good, flag: "f"}, "either", ("o.yaml", "p.json", "r.md", "f")),
            _single(f"{flag} is /dev/full", _nothing, {**good, flag: "/dev/full"}, "error", ("o.yaml", "p.json", "r.md")),
            _single(f"{flag} in a read-only folder", _readonly("ro"), {**good, flag: "ro/x"}, "either", ("o.yaml", "p.json", "r.md", "ro")),
            _single(f"{flag} has a newline", _nothing, {**good, flag: "a\nb"}, "either", ("o.yaml", "p.json", "r.md", "a\nb")),
            _single(f"{flag} is 300 characters", _nothing, {**good, flag: "x" * 300}, "error", ("o.yaml", "p.json", "r.md")),
            _single(f"{flag} climbs out", _nothing, {**good, flag: "../../../../home/.bashrc"}, "either",
                    ("o.yaml", "p.json", "r.md", "../../../../home/.bashrc")),
        ]
    probes += [
        _single("-o and --patch the same file", _nothing, {**good, "--patch": "o.yaml"}, "error", ("o.yaml", "p.json", "r.md")),
        _single("--report and --patch the same file", _nothing, {**good, "--patch": "r.md"}, "error", ("o.yaml", "p.json", "r.md")),
        _single("-o through a link folder to the input", _link("ln", "."), {**good, "-o": "ln/in.yaml"}, "error", ("o.yaml", "p.json", "r.md")),
        _single("a report format that is not one", _nothing, {**good, "--report-format": "pdf"}, "error", ("o.yaml", "p.json", "r.md")),
    ]
    return probes


def _project(name: str, setup: Callable[[Path], None], out: str, expect: Expect, *extra: str, inputs: str = "src",
             writes: tuple[str, ...] = ()) -> Probe:
    def build(work: Path) -> Run:
        (work / "src" / "nested").mkdir(parents=True)
        (work / "src" / "a.yaml").write_bytes(EXAMPLE)
        (work / "src" / "nested" / "b.yaml").write_bytes(EXAMPLE)
        setup(work)
        checking = "--check" in extra
        return Run(["transform", inputs, "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--out-dir", out,
                    "--report", "r.md", *extra], expect, writes=[*([] if checking else [Path(out)]), Path("r.md"), *map(Path, writes)],
                   timeout=90)
    return Probe("outputs", f"project: {name}", build)


def _earlier_output(work: Path) -> None:
    (work / "cn").mkdir()
    (work / "cn" / "keep.yaml").write_text("an earlier good output\n")


def _other_folders(work: Path) -> None:
    for name in ("other", ".other.partial-1", ".other.old-1"):
        (work / name).mkdir()
        (work / name / "keep").write_text("another run's\n")


def _planted_lock(work: Path) -> None:
    os.symlink("../../../../home/.bashrc", work / ".cn.lock")


def _project_probes() -> list[Probe]:
    return [
        _project("a fresh out-dir", _nothing, "cn", "ok"),
        _project("an out-dir inside the inputs", _nothing, "src/cn", "error"),
        _project("the inputs as out-dir", _nothing, "src", "error", "--force"),
        _project("an out-dir holding the inputs", _nothing, ".", "error", "--force"),
        _project("a non-empty out-dir without --force", _earlier_output, "cn", "error"),
        _project("a non-empty out-dir with --force", _earlier_output, "cn", "ok", "--force"),
        _project("an out-dir named like a glob", _other_folders, "o*", "either", "--force"),
        _project("an out-dir named like another's staging", _other_folders, ".other.partial-*", "either", "--force"),
        _project("a planted lock link", _planted_lock, "cn", "either", writes=(".cn.lock",)),
        _project("an out-dir that is a file", lambda w: (w / "cn").write_text("x"), "cn", "error", "--force"),
        _project("an out-dir that is a link to the inputs", _link("cn", "src"), "cn", "error", "--force"),
        _project("an out-dir that is a link out", _link("cn", "../../../../home"), "cn", "error", "--force"),
        _project("a 300-character out-dir", _nothing, "c" * 300, "error"),
        _project("an out-dir in a missing folder", _nothing, "no/such/cn", "either", writes=("no",)),
        _project("--report inside the out-dir", _nothing, "cn", "either", "--report", "cn/r.md"),
        _project("--report on an input", _nothing, "cn", "error", "--report", "src/a.yaml"),
        _project("a glob of inputs", _nothing, "cn", "ok", inputs="src/*.yaml"),
        _project("a glob matching nothing", _nothing, "cn", "error", inputs="src/*.json"),
        _project("a glob climbing out", _nothing, "cn", "either", inputs="../../../../home/*"),
        _project("inputs holding a link loop", _link("src/loop", "."), "cn", "either"),
        _project("inputs holding a link out", _link("src/out.yaml", "../../../../../home/.bashrc"), "cn", "either"),
        _project("an input that is not a template", lambda w: (w / "src" / "c.yaml").write_text("a: [\n"), "cn", "ok"),  # skipped, noted
        _project("--check writes nothing", _nothing, "cn", "check", "--check"),
        _project("-o with several inputs", _nothing, "cn", "error", "-o", "x.yaml"),
    ]


def probes() -> list[Probe]:
    return _single_probes() + _project_probes()
