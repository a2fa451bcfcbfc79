"""Start-up stays light: commands that only print help import none of the library's heavy dependencies.

Not a timed test (bench/bench_startup.py measures the time): it lists the modules the command really
imports (`python -X importtime`, in a new interpreter, as a user runs it) so that an import moved back
to module level fails here instead of slowly costing every `--help`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Imported only by the commands that need them (their import time is most of a 250 ms `--help` otherwise).
HEAVY = (
    "yaml", "ruamel.yaml", "jsonschema", "jsonpatch", "regex", "botocore", "boto3", "rich", "cfnlint",
    "importlib.metadata", "concurrent.futures.process", "multiprocessing",
    "panther_cn_transform.model.decode", "panther_cn_transform.ruleset.rule_files", "panther_cn_transform.transform",
    "panther_cn_transform.release.pipeline", "panther_cn_transform.report.json_report",
)


def imported_modules(*args: str) -> set[str]:
    """The modules `python -m panther_cn_transform ARGS` imports, from `-X importtime` (its own report, on stderr)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "panther_cn_transform", *args],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "panther_cn_transform.cli" in names, done.stderr[-2000:]  # the report is there: an empty set proves nothing
    return names


@pytest.mark.parametrize("args", [["--help"], ["rules", "--help"], ["transform", "--help"], ["release", "--help"]],
                         ids=" ".join)
def test_help_imports_no_heavy_module(args: list[str]) -> None:
    names = imported_modules(*args)
    heavy = sorted(name for name in names if any(name == h or name.startswith(h + ".") for h in HEAVY))
    assert heavy == [], f"`{' '.join(args)}` imports {heavy}: import them in the command that uses them"


def test_the_check_sees_a_heavy_import() -> None:
    # The same listing for a command that does load the library: the check above can fail.
    names = imported_modules("rules", "show", "--rules", "china")
    assert {"panther_cn_transform.ruleset.rule_files", "ruamel.yaml"} <= names
