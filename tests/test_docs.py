"""Every shell and Python example of README.md and docs/*.md runs, and does what the page says.

Each fenced ```sh and ```python block is one test, run in a fresh folder against the
bundled example release (examples/release/), with moto in server mode standing in for
AWS (S3, CloudFormation, API Gateway, Secrets Manager) and a local stand-in for the China
bridge (tests/aws_servers.py).  A failing example is a failing test.

What a page promises, and how it is checked:

* a shell block is a list of commands (`\\` continues a line); each runs with `bash -c`
  in the example's folder and must exit 0, or N when the comment line just above it says
  `exit N`;
* lines `# => TEXT` right after a command are output the page shows: each must be a line
  the command printed (stdout or stderr), in that order; `...` in TEXT matches anything;
* a Python block runs as a script and must exit 0; what it shows is written as `assert`s,
  and `test_*` functions it defines are called, as pytest would; a Hypothesis test among
  them must carry `deadline=None` and suppress the `too_slow` health check (the script runs
  with Hypothesis's defaults, which stop a slow but correct run on a loaded machine);
* a block after the comment `<!-- needs: aws -->` uses the AWS CLI against a real account
  (CloudFormation deployments, API keys); it is skipped for that reason alone: the marker
  is refused on a block that does not call `aws`, and an unmarked block that calls `aws`
  fails.

The placeholders of the pages stand for the bundled example, always the same way:

* `panther.yml` - the example's root, examples/release/panther-enterprise-us-west-1/v1.0.0/panther.yml;
* `./panther-enterprise-us-west-1` - a copy of the example mirror whose release v1.0.0 is
  also there as v1.16.0 and v1.18.1, the releases the pages name;
  `s3://panther-enterprise-us-west-1` - the same objects in moto, in us-west-1;
* `my-cn-bucket`, `my-web-bucket` - for a command that uploads (`--upload`, `upload_release`),
  created in moto in the region the command gives with it;
* profiles `global`, `china`, `web` - moto's test credentials; `AWS_ENDPOINT_URL` points
  every client at moto, and `HOME` is the example's folder (so `~/.cache` is there too);
* the China stack of `connect` (`--china-stack`, `china_stack=`) - created in moto in the
  China region given, its outputs naming an API key and the stand-in bridge, which answers
  `listIntegrations`;
* a `deploy` command - finds both halves of its `--release` uploaded to its `--bucket` and
  `--web-bucket` (unless the block uploads them itself), moto's CloudFormation completed as
  tests/moto_cloudformation.py does (a resource type moto skipped fails the example), and
  `PANTHER_CN_BRIDGE_URL` naming a stand-in bridge that accepts the keys on moto's usage plan;
  `python tests/local_aws.py` (which starts the same two for a user) is not run, the test's
  own serve instead, and the `export` lines after it run and change nothing;
* `my-rules.yml` - examples/quickstart-buckets.yml; `examples/`, `bench/`, `tests/` - the
  repository's own;
* benchmarks run once on small input (`--repeat 1`; bench_transform with `--resources 20`,
  and with `--removals 30 --megabytes 0.1` where it times removals;
  bench_copy on the bundled example, v1.0.0; bench_aliases with `--aliases 0,400 --size
  300000`; bench_cli_gc with `--sizes 20`; bench_bounds with `--scale 0.01`; bench_release's `--generated` as `2x20`): the
  test proves the command line works,
  the figures are measured by hand (docs/performance.md); `HYPOTHESIS_PROFILE=long` or
  `thorough` becomes the `docs` profile (3 examples) for the same reason.

Not run here, because CI (`.ci/run`) runs them around this very suite: `pip install ...`
(the suite runs in the installed project) and the bare `python -m pytest` (this run).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from . import moto_cloudformation
from .aws_servers import FAKE_CREDENTIALS, fake_bridge
from .s3server import S3Server

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
SOURCE_BUCKET, SOURCE_REGION = "panther-enterprise-us-west-1", "us-west-1"
RELEASE_NAMES = ("v1.16.0", "v1.18.1")  # the releases the pages name, each a copy of the example's v1.0.0
PROFILES = ("global", "china", "web")
NEEDS_AWS = "<!-- needs: aws -->"
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[a-z]*)\s*$")
_LANGUAGES = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python"}
_CALLS_AWS = re.compile(r"(^|[;&|(]\s*|\$\()aws\s")


@dataclass(frozen=True)
class Example:
    """One fenced block of a page."""

    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    body: str
    needs_aws: bool

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


@dataclass
class Command:
    """One shell command of a block, with what the page says it does."""

    text: str
    line: int
    exit_code: int = 0
    shows: list[str] = field(default_factory=list)


def examples(page: Path) -> list[Example]:
    """The sh and python blocks of `page` (indented blocks inside list items included)."""
    found: list[Example] = []
    lines = page.read_text("utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not _FENCE.match(lines[end]):
            end += 1
        language = _LANGUAGES.get(opening["lang"])
        if language:
            indent = len(opening["indent"])
            body = "\n".join(line[indent:] if not line[:indent].strip() else line.lstrip() for line in lines[index + 1:end])
            before = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            found.append(Example(page, index + 1, language, body + "\n", before == NEEDS_AWS))
        index = end + 1
    return found


EXAMPLES = [example for page in PAGES for example in examples(page)]


def commands(example: Example) -> list[Command]:
    """The block's commands: continuation lines joined, with exit codes and shown output."""
    found: list[Command] = []
    pending_comment = ""
    lines = example.body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        number = example.line + 1 + index
        index += 1
        if not line.strip():
            pending_comment = ""
            continue
        if line.lstrip().startswith("# => "):
            if not found:
                raise AssertionError(f"{example.name}: output shown before any command")
            found[-1].shows.append(line.lstrip()[len("# => "):])
            continue
        if line.lstrip().startswith("#"):
            pending_comment = line
            continue
        text = line
        while text.endswith("\\") and index < len(lines):
            text = text[:-1] + " " + lines[index].strip()
            index += 1
        code = re.search(r"\bexit (\d+)\b", pending_comment)
        found.append(Command(text, number, int(code.group(1)) if code else 0))
        pending_comment = ""
    return found


def runnable(text: str) -> str | None:
    """The command as it runs here (placeholders mapped, see the module docstring), or None if CI runs it."""
    parts = [part for part in re.split(r"\s+&&\s+", text.strip()) if not part.startswith("pip install ")]
    if not parts or parts == ["python -m pytest"] or parts[0].startswith("python tests/local_aws.py"):
        return None
    command = " && ".join(parts)
    command = re.sub(r"HYPOTHESIS_PROFILE=(long|thorough)\b", "HYPOTHESIS_PROFILE=docs", command)
    if re.search(r"\bbench/bench_\w+\.py\b", command):
        command = re.sub(r"\s#.*$", "", command)  # a trailing comment
        command = " ".join(re.sub(r"--repeat \d+", "", command).split()) + " --repeat 1"
        if "bench_transform.py" in command:
            command += " --resources 20"
            if "--removals" in command:
                command = " ".join(re.sub(r"--removals \d+", "--removals 30", re.sub(r"--megabytes [\d.]+", "", command)).split())
                command += " --megabytes 0.1"
        if "bench_copy.py" in command:
            command += f" ./{SOURCE_BUCKET} --release v1.0.0"
        if "bench_aliases.py" in command:
            command += " --aliases 0,400 --size 300000"
        if "bench_cli_gc.py" in command:
            command += " --sizes 20"
        if "bench_bounds.py" in command:
            command += " --scale 0.01"
        command = re.sub(r"--generated \d+x\d+", "--generated 2x20", command)
    return command


def _folder(tmp_path: Path) -> Path:
    """The example's folder: the placeholders of the module docstring, laid out."""
    home = tmp_path / "example"
    home.mkdir()
    shutil.copytree(REPO / "examples", home / "examples")
    for name in ("bench", "tests", "pyproject.toml"):
        (home / name).symlink_to(REPO / name)
    mirror = home / SOURCE_BUCKET
    shutil.copytree(EXAMPLE, mirror)
    for release in RELEASE_NAMES:
        shutil.copytree(mirror / "v1.0.0", mirror / release)
    shutil.copy(EXAMPLE / "v1.0.0" / "panther.yml", home / "panther.yml")
    shutil.copy(REPO / "examples" / "quickstart-buckets.yml", home / "my-rules.yml")
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text("".join(f"[profile {name}]\n" for name in PROFILES))
    (aws / "credentials").write_text("".join(
        f"[{name}]\naws_access_key_id = testing\naws_secret_access_key = testing\n" for name in PROFILES))
    return home


def _environment(s3: S3Server, tmp_path: Path, home: Path) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(s3.environment)
    environment.update(
        HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), AWS_CONFIG_FILE=str(tmp_path / "aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws" / "credentials"), AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    )
    return environment


def _option(tokens: list[str], name: str) -> str | None:
    return tokens[tokens.index(name) + 1] if name in tokens[:-1] else None


def _prepare_aws(s3: S3Server, home: Path, example: Example, stack: ExitStack, environment: dict[str, str]) -> dict[str, str]:
    """The buckets and stacks the block's commands expect to exist (see the module docstring); environment to add."""
    s3.bucket(SOURCE_BUCKET, SOURCE_REGION)
    s3.put_folder(SOURCE_BUCKET, SOURCE_REGION, home / SOURCE_BUCKET)
    targets: set[tuple[str, str]] = set()
    stacks: set[tuple[str, str]] = set()
    uploaded: set[tuple[str, str]] = set()  # (bucket, release) the block uploads itself
    deploys: list[list[str]] = []
    source = example.body
    for command in commands(example) if example.language == "sh" else []:
        tokens = shlex.split(command.text, comments=True)
        if "--upload" in tokens and _option(tokens, "--bucket") and _option(tokens, "--region"):
            targets.add((str(_option(tokens, "--bucket")), str(_option(tokens, "--region"))))
            uploaded.add((str(_option(tokens, "--bucket")), str(_option(tokens, "--release"))))
        if "connect" in tokens and _option(tokens, "--china-stack") and _option(tokens, "--china-region"):
            stacks.add((str(_option(tokens, "--china-stack")), str(_option(tokens, "--china-region"))))
        if tokens[:4] == ["python", "-m", "panther_cn_transform", "deploy"]:
            deploys.append(tokens)
            for bucket, region in (("--bucket", "--china-region"), ("--web-bucket", "--web-region")):
                if _option(tokens, bucket) and _option(tokens, region):
                    targets.add((str(_option(tokens, bucket)), str(_option(tokens, region))))
    if "upload_release(" in source:
        targets.update(re.findall(r'bucket="([^"]+)",\s*region="([^"]+)"', source.split("upload_release(", 1)[1]))
    for found in re.finditer(r'connect\(china_stack="([^"]+)", china_region="([^"]+)"', source):
        stacks.add((found.group(1), found.group(2)))
    for bucket, region in sorted(targets):
        s3.bucket(bucket, region)
    if stacks:
        bridge = stack.enter_context(fake_bridge("unset"))
        bridge.answers["panther-source-api"] = [{"integrationId": "self"}]
        for name, region in sorted(stacks):
            key = boto3.client("apigateway", region_name=region, endpoint_url=s3.url, **FAKE_CREDENTIALS).create_api_key(
                name=f"panther-cn-bridge-{name}", enabled=True)
            bridge.api_key = str(key["value"])
            outputs = {"BridgeUrl": {"Value": bridge.url}, "BridgeApiKeyId": {"Value": key["id"]}}
            template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
            boto3.client("cloudformation", region_name=region, endpoint_url=s3.url, **FAKE_CREDENTIALS).create_stack(
                StackName=name, TemplateBody=json.dumps(template))
    return _prepare_deploy(deploys, uploaded, home, stack, environment)


def _prepare_deploy(deploys: list[list[str]], uploaded: set[tuple[str, str]], home: Path, stack: ExitStack,
                    environment: dict[str, str]) -> dict[str, str]:
    """For `deploy` commands: both halves of their release uploaded, moto completed, a stand-in bridge."""
    if not deploys:
        return {}
    stack.enter_context(moto_cloudformation.strict_cloudformation())
    china_region = next((str(_option(t, "--china-region")) for t in deploys if _option(t, "--china-region")), "cn-north-1")
    bridge = stack.enter_context(fake_bridge("unset"))
    bridge.accepts = lambda key: key in moto_cloudformation.bridge_keys(china_region)
    bridge.answers["panther-source-api"] = []
    for tokens in deploys:
        release = _option(tokens, "--release")
        halves = (("panther", "--bucket", "--china-region"), ("panther-web-proxy", "--web-bucket", "--web-region"))
        for pack, bucket, region in halves:
            if not (release and _option(tokens, bucket) and _option(tokens, region)) or (_option(tokens, bucket), release) in uploaded:
                continue
            uploaded.add((str(_option(tokens, bucket)), release))
            done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "release", f"./{SOURCE_BUCKET}", "--release", release,
                                   "--rules", pack, "--region", str(_option(tokens, region)), "--bucket", str(_option(tokens, bucket)),
                                   "--upload", "--no-verify"], cwd=home, env=environment, capture_output=True, text=True,
                                  check=False, timeout=600)
            assert done.returncode == 0, done.stderr
    return {"PANTHER_CN_BRIDGE_URL": bridge.url}


def _shown(expected: list[str], printed: list[str]) -> bool:
    """Each expected line, in order, among the printed ones (`...` matches anything)."""
    patterns = [re.compile(".*?".join(map(re.escape, line.split("..."))) + r"\Z") for line in expected]
    position = 0
    for pattern in patterns:
        while position < len(printed) and not pattern.match(printed[position]):
            position += 1
        if position == len(printed):
            return False
        position += 1
    return True


def test_every_page_has_its_examples_collected() -> None:
    # guards against a silently empty glob or a fence the parser no longer sees
    pages = {example.page.name for example in EXAMPLES}
    assert {"README.md", "api.md", "release.md", "limits.md", "testing.md", "performance.md", "fidelity.md"} <= pages
    assert len(EXAMPLES) >= 25


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_the_example_runs_as_documented(example: Example, s3: S3Server, tmp_path: Path) -> None:
    calls_aws = any(_CALLS_AWS.search(line) for line in example.body.splitlines() if not line.lstrip().startswith("#"))
    if example.needs_aws:
        assert calls_aws, f"{example.name} is marked {NEEDS_AWS} but does not call the AWS CLI"
        pytest.skip("needs AWS: the AWS CLI against a real account")
    assert not calls_aws, f"{example.name} calls the AWS CLI: mark the block {NEEDS_AWS} (and keep other commands out of it)"
    home = _folder(tmp_path)
    environment = _environment(s3, tmp_path, home)
    with ExitStack() as resources:
        environment.update(_prepare_aws(s3, home, example, resources, environment))
        if example.language == "python":
            _run_python(example, home, environment)
        else:
            _run_shell(example, home, environment)


def _run_python(example: Example, home: Path, environment: dict[str, str]) -> None:
    script = home / "doc_example.py"
    script.write_text(example.body + (
        "\nfor _name, _value in list(globals().items()):\n"
        "    if _name.startswith('test_') and callable(_value):\n"
        "        _settings = getattr(_value, '_hypothesis_internal_use_settings', None)\n"
        "        if _settings is not None:  # a page's Hypothesis test must not fail on a slow machine\n"
        "            from hypothesis import HealthCheck\n"
        "            assert _settings.deadline is None and HealthCheck.too_slow in _settings.suppress_health_check, (\n"
        "                f'{_name}: give it @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow]): '\n"
        "                'with the defaults a loaded machine stops it with \"Input generation is slow\"')\n"
        "        _value()\n"
    ))
    done = subprocess.run([sys.executable, str(script)], cwd=home, env=environment, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, f"{example.name}: the example failed\n{done.stdout}\n{done.stderr}"


def _run_shell(example: Example, home: Path, environment: dict[str, str]) -> None:
    ran = 0
    for command in commands(example):
        text = runnable(command.text)
        if text is None:
            continue
        done = subprocess.run(["bash", "-c", text], cwd=home, env=environment, capture_output=True, text=True,
                              check=False, timeout=600)
        where = f"{example.page.relative_to(REPO)}:{command.line}: {command.text}"
        assert done.returncode == command.exit_code, (
            f"{where}\nexited {done.returncode}, the page says {command.exit_code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        printed = (done.stdout + done.stderr).splitlines()
        assert _shown(command.shows, printed), f"{where}\nthe page shows {command.shows}, the command printed:\n" + "\n".join(printed[-40:])
        ran += 1
    assert ran or all(runnable(c.text) is None for c in commands(example))


def test_commands_and_shown_output_are_parsed_as_the_docstring_says() -> None:
    block = Example(REPO / "README.md", 1, "sh", (
        "# would anything change? (exit 1 if so)\n"
        "python -m x transform a.yml \\\n    --check\n"
        "# => a.yml: would change (... change(s))\n"
        "pip install -e '.[test]' && python -m x release y\n"
        "python -m pytest\n"
    ), False)
    parsed = commands(block)
    assert [(c.text, c.exit_code, c.shows) for c in parsed] == [
        ("python -m x transform a.yml  --check", 1, ["a.yml: would change (... change(s))"]),
        ("pip install -e '.[test]' && python -m x release y", 0, []),
        ("python -m pytest", 0, []),
    ]
    assert [runnable(c.text) for c in parsed] == ["python -m x transform a.yml  --check", "python -m x release y", None]
    assert _shown(["a.yml: would change (... change(s))"], ["note", "a.yml: would change (14 change(s))"])
    assert not _shown(["a.yml: would change (... change(s))"], ["a.yml: would change"])
    assert runnable("python bench/bench_transform.py --repeat 9     # generated") == "python bench/bench_transform.py --repeat 1 --resources 20"
    assert runnable("python bench/bench_transform.py --removals 3700 --megabytes 10 --repeat 5") == (
        "python bench/bench_transform.py --removals 30 --repeat 1 --resources 20 --megabytes 0.1")
