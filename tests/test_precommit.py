"""The pre-commit hook of .pre-commit-hooks.yaml, run by pre-commit itself on a small repository.

`pre-commit try-repo` installs the hook from this checkout (its committed state plus the
changes to tracked files, as pre-commit's shadow repository takes them) into a virtual
environment of its own, with the project's dependencies from the package index: about a
minute and a half a run here, which is why the test is marked `slow`.  It still runs in
every `python -m pytest` (nothing deselects the marker).

The repository keeps its China templates under cn/, as a user's would, and the hook runs on
what is staged, as it does for `git commit`: a China template that would still change
fails the commit, and a clean one passes, with a README.md and a YAML file that is not a
template beside it skipped, not failed.  The hook's default args (the `china` pack, for
cn-north-1) are what try-repo runs with; docs/projects.md shows a config that sets them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "global-stack.yaml"
CLEAN = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
README = "# China templates\n\nPorted from templates/ with panther-cn-transform.\n\nkey: value [\n"
WORKFLOW = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, env={**os.environ, **IDENTITY}, check=True, capture_output=True)


def try_repo(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo <this checkout> panther-cn-check` on what `folder` has staged."""
    environment = {**os.environ, **IDENTITY, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "panther-cn-check", "--verbose"],
                          cwd=folder, env=environment, capture_output=True, text=True, check=False, timeout=1200)


@pytest.mark.slow
def test_the_hook_fails_a_commit_whose_china_template_would_change_and_skips_files_that_are_not_templates(tmp_path: Path) -> None:
    folder = tmp_path / "repository"
    (folder / "cn").mkdir(parents=True)
    git(folder, "init", "-q")
    (folder / "cn" / "clean.yaml").write_text(CLEAN)
    (folder / "cn" / "README.md").write_text(README)
    (folder / "cn" / "workflow.yml").write_text(WORKFLOW)
    git(folder, "add", "cn")

    passed = try_repo(folder, tmp_path / "home")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "China templates up to date (panther-cn-transform --check)" in passed.stdout and "Passed" in passed.stdout
    assert "note: cn/README.md: skipped, not a CloudFormation template" in passed.stdout
    assert "note: cn/workflow.yml: skipped, not a CloudFormation template (no Resources section)" in passed.stdout
    assert "0 of 1 template(s) would change; 2 file(s) skipped, not templates" in passed.stdout

    git(folder, "commit", "-q", "-m", "clean China templates")
    (folder / "cn" / "drifted.yaml").write_text(EXAMPLE.read_text("utf-8"))  # the global template: the China port would change it
    git(folder, "add", "cn/drifted.yaml")
    failed = try_repo(folder, tmp_path / "home")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout and "- exit code: 1" in failed.stdout
    assert "cn/drifted.yaml: would change (5 change(s))" in failed.stdout  # the only file staged: the only one checked
    assert "cn/clean.yaml" not in failed.stdout
