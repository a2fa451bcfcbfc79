"""A regular install, as a user gets it from a wheel or a package index: no editable install, no source tree.

The sdist is built from the files git tracks, the wheel from the sdist (what `python -m build`
does), and the wheel installed into a fresh virtual environment.  The environment sees the
dependencies already installed (`--system-site-packages`) but gets this package only from the
wheel: every command runs from a folder outside the checkout, so `python -m` cannot import the
source tree, and each run checks where the package was imported from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "examples" / "release" / "panther-enterprise-us-west-1"


def _tracked_files() -> list[str]:
    """The checkout's files as git tracks them (what a clean clone holds), so no stray build output gets in."""
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in done.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the venv's bin folder, the sdist, the wheel), the wheel installed without the source tree."""
    base = tmp_path_factory.mktemp("install")
    source, dist = base / "source", base / "dist"
    for name in _tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    # --ignore-installed: the venv sees the system's packages, where this one may be installed already (pip would
    # then keep that copy and install nothing); the test below checks where the package is imported from
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                          "--ignore-installed", str(wheel)], capture_output=True, text=True, check=False)
    assert pip.returncode == 0, pip.stderr[-2000:]
    return venv / "bin", sdist, wheel


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_the_wheel_holds_every_sub_package_and_the_packs_as_a_regular_package(installed: tuple[Path, Path, Path]) -> None:
    _, sdist, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    source_packages = {path.parent.relative_to(ROOT).as_posix() for path in (ROOT / "panther_cn_transform").rglob("__init__.py")}
    assert source_packages and all(f"{package}/__init__.py" in names for package in source_packages), source_packages
    shipped = {path.relative_to(ROOT / "rules").as_posix() for path in (ROOT / "rules").rglob("*")
               if path.is_file() and path.suffix in (".yml", ".json", ".py")}
    assert {f"panther_cn_transform/packs/{name}" for name in shipped} <= names
    assert "panther_cn_transform/packs/__init__.py" in names and "panther_cn_transform/py.typed" in names
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"setup.py", "pyproject.toml", "README.md", "rules/china.yml", "rules/partitions/aws-cn.yml"} <= members


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    bin_dir, _, _ = installed
    script = "import panther_cn_transform.packs as p, panther_cn_transform.render as r; print(p.__file__); print(r.__file__)"
    done = _run([str(bin_dir / "python"), "-c", script], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    venv = bin_dir.parent.resolve()
    assert all(Path(line).resolve().is_relative_to(venv) for line in done.stdout.splitlines()), done.stdout


@pytest.mark.parametrize("entry", ["console script", "python -m"])
def test_the_readme_main_job_runs_from_the_wheel(installed: tuple[Path, Path, Path], tmp_path: Path, entry: str) -> None:
    bin_dir, _, _ = installed
    command = [str(bin_dir / "panther-cn-transform")] if entry == "console script" else [
        str(bin_dir / "python"), "-m", "panther_cn_transform"]
    out = tmp_path / "out" / "cn-north-1"
    done = _run([*command, "release", str(RELEASE), "--release", "v1.0.0", "--region", "cn-north-1", "--bucket",
                 "my-cn-bucket", "--out-dir", str(out), "--force", "--report", "-"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = (out / "v1.0.0" / "panther.yml").read_text()
    assert "my-cn-bucket" in root and "panther-enterprise-us-west-1" not in root
    assert done.stdout.startswith("China release report: v1.0.0 for cn-north-1")


@pytest.mark.parametrize(
    ("pack", "template", "region", "expected"),
    [
        ("china", "examples/global-stack.yaml", "cn-north-1", "arn:aws-cn:"),
        ("panther", "examples/release/panther-enterprise-us-west-1/v1.0.0/panther.yml", "cn-northwest-1", "my-cn-bucket"),
        ("panther-web-proxy", "examples/release/panther-enterprise-us-west-1/v1.0.0/panther.yml", "ap-southeast-1",
         "my-web-bucket"),
        ("aws-us-gov", "examples/global-stack.yaml", "us-gov-west-1", "arn:aws-us-gov:"),
    ],
)
def test_each_shipped_pack_transforms_from_the_wheel(installed: tuple[Path, Path, Path], tmp_path: Path, pack: str,
                                                     template: str, region: str, expected: str) -> None:
    bin_dir, _, _ = installed
    bucket = "my-web-bucket" if pack == "panther-web-proxy" else "my-cn-bucket"
    done = _run([str(bin_dir / "panther-cn-transform"), "transform", str(ROOT / template), "--rules", pack,
                 "--region", region, "--bucket", bucket], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
