"""Output places the hostile probes (tests/probes) found unguarded: each a one-line error, nothing touched.

A project's `--report` or `--patch` on one of its own templates, an out-dir that is a link
(the swap would replace whatever folder it points to), and an output file name too long for
its staging file.  Each runs the command in its own process (tests/test_edges_cli.py's `run`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .test_edges_cli import TRANSFORM, one_line, run

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = (REPO / "examples" / "global-stack.yaml").read_bytes()


def project(folder: Path) -> Path:
    (folder / "src" / "nested").mkdir(parents=True)
    (folder / "src" / "a.yaml").write_bytes(EXAMPLE)
    (folder / "src" / "nested" / "b.yaml").write_bytes(EXAMPLE)
    return folder / "src"


def test_a_projects_report_or_patch_never_overwrites_one_of_its_templates(tmp_path: Path) -> None:
    project(tmp_path)
    for option in ("--report", "--patch"):
        done = run("transform", "src", *TRANSFORM, "--out-dir", "cn", option, "src/nested/b.yaml", cwd=tmp_path)
        one_line(done, f"error: src/nested/b.yaml: {option} would overwrite the template")
        assert (tmp_path / "src" / "nested" / "b.yaml").read_bytes() == EXAMPLE
        assert not (tmp_path / "cn").exists()


def test_an_out_dir_that_is_a_link_is_refused_and_the_folder_it_points_to_is_kept(tmp_path: Path) -> None:
    project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("the user's own\n")
    os.symlink("elsewhere", tmp_path / "cn")
    for command in (("transform", "src", *TRANSFORM, "--out-dir", "cn", "--force"),
                    ("release", REPO / "examples" / "release" / "panther-enterprise-us-west-1", "--release", "v1.0.0",
                     *TRANSFORM, "--out-dir", "cn", "--force")):
        one_line(run(*command, cwd=tmp_path), "error: cn: the output folder is a link (to elsewhere)")
        assert sorted(p.name for p in elsewhere.iterdir()) == ["precious"]
        assert (tmp_path / "cn").is_symlink()


def test_an_output_file_name_too_long_for_its_staging_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_bytes(EXAMPLE)
    for option in ("-o", "--patch", "--report"):
        done = run("transform", "in.yaml", *TRANSFORM, option, "x" * 300, cwd=tmp_path)
        one_line(done, "cannot write: the file name is 300 bytes; at most 241 fit")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.yaml"]
