"""The pre-commit hook of .pre-commit-hooks.yaml, run by pre-commit itself on a small repository.

pre-commit installs the hook from a git repository holding this checkout's tracked files as
they are in the working tree (what `pre-commit try-repo` would take), at a fixed commit, into
a virtual environment of its own with the project's dependencies from the package index:
about a minute and a half here, which is why the test is marked `slow` (it still runs in every
`python -m pytest`: nothing deselects the marker).  The repository's `.pre-commit-config.yaml`
is the one docs/projects.md shows, with `repo:` and `rev:` pointing at that copy, so the hook
is installed once and both runs below reuse it, as a user's commits do.

The repository keeps its China templates under cn/, as a user's would, and the hook runs on
what is staged, as it does for `git commit`: a China template that would still change
fails the commit, and a clean one passes, with a README.md and a YAML file that is not a
template beside it skipped, not failed.
"""

from __future__ import annotations

import os
import re
import shutil
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


def hook_repository(tmp_path: Path) -> tuple[Path, str]:
    """A git repository of this checkout's tracked files as they are now, and its commit."""
    source = tmp_path / "hook-source"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        path = REPO / name
        if path.is_file():  # a tracked file deleted in the working tree is left out, as try-repo does
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    git(source, "init", "-q")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "the checkout under test")
    revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True)
    return source, revision.stdout.strip()


def documented_config(source: Path, revision: str) -> str:
    """docs/projects.md's `.pre-commit-config.yaml`, its `repo:` and `rev:` pointing at `source`, for cn-north-1."""
    text = (REPO / "docs" / "projects.md").read_text("utf-8")
    config = re.search(r"```yaml\n(repos:\n.*?)```", text, re.DOTALL)
    assert config, "docs/projects.md shows no .pre-commit-config.yaml"
    config_text = re.sub(r"repo: \S+", f"repo: {source}", config.group(1))
    config_text = re.sub(r"rev: \S+", f"rev: {revision}", config_text)
    assert "--region, cn-northwest-1" in config_text, "the documented args changed: update this test"
    return config_text.replace("cn-northwest-1", "cn-north-1")


def run_hooks(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit run` on what `folder` has staged, as `git commit` runs it."""
    environment = {**os.environ, **IDENTITY, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--verbose"],
                          cwd=folder, env=environment, capture_output=True, text=True, check=False, timeout=1200)


@pytest.mark.slow
def test_the_hook_fails_a_commit_whose_china_template_would_change_and_skips_files_that_are_not_templates(tmp_path: Path) -> None:
    folder = tmp_path / "repository"
    (folder / "cn").mkdir(parents=True)
    git(folder, "init", "-q")
    source, revision = hook_repository(tmp_path)
    (folder / ".pre-commit-config.yaml").write_text(documented_config(source, revision))
    git(folder, "add", ".pre-commit-config.yaml")
    git(folder, "commit", "-q", "-m", "the hook")
    (folder / "cn" / "clean.yaml").write_text(CLEAN)
    (folder / "cn" / "README.md").write_text(README)
    (folder / "cn" / "workflow.yml").write_text(WORKFLOW)
    git(folder, "add", "cn")

    passed = run_hooks(folder, tmp_path / "home")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "China templates up to date (panther-cn-transform --check)" in passed.stdout and "Passed" in passed.stdout
    assert "note: cn/README.md: skipped, not a CloudFormation template" in passed.stdout
    assert "note: cn/workflow.yml: skipped, not a CloudFormation template (no Resources section)" in passed.stdout
    assert "0 of 1 template(s) would change; 2 file(s) skipped, not templates" in passed.stdout

    git(folder, "commit", "-q", "-m", "clean China templates")
    (folder / "cn" / "drifted.yaml").write_text(EXAMPLE.read_text("utf-8"))  # the global template: the China port would change it
    git(folder, "add", "cn/drifted.yaml")
    failed = run_hooks(folder, tmp_path / "home")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout and "- exit code: 1" in failed.stdout
    assert "cn/drifted.yaml: would change (5 change(s))" in failed.stdout  # the only file staged: the only one checked
    assert "cn/clean.yaml" not in failed.stdout
