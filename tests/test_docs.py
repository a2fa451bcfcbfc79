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
* a block after the comment `<!-- aws: moto -->` runs the AWS CLI (awscli, from the test
  extras), against moto like everything else: `AWS_ENDPOINT_URL` and the profiles of the
  test's AWS config file (each with `endpoint_url` naming moto) point it there.  Such a block
  has its entry in `AWS_BLOCKS`: the state its page implies before it runs, prepared (the
  China bucket holding the transformed release, the China stack created before
  `describe-stacks`, the web stack before the `UserPoolId` lookup, `./cn-release` written
  before `aws s3 sync`, ...), and its effect, checked afterwards in moto (the stack and its
  nested stacks complete with the parameters the command gave, the change set executed
  with the bridge's keys replaced, the secret holding the bridge's URL and key, the bucket
  holding exactly the manifest's objects, the root last, ...), not only its exit code.  Its
  commands run after the names the China report's first step sets (`REGION`, `STACK`,
  `CHINA_PROFILE`, `WEB_REGION`, ..., from a real report of the uploaded release) and the
  block's own earlier `NAME=value` lines, with `set -u -o pipefail`: an unset variable, or
  an assignment that gives nothing (`None`), fails it.  The marker is refused on a block
  that does not call `aws`, an unmarked block that calls `aws` fails, and so does a marked
  block without its entry; no block is skipped;

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
  China region given, its outputs naming an API key and a stage URL of the China form, and
  `PANTHER_CN_BRIDGE_URL` naming the stand-in bridge, which answers `listIntegrations`;
* a `deploy` command - finds both halves of its `--release` uploaded to its `--bucket` and
  `--web-bucket` (unless the block uploads them itself), moto's CloudFormation completed as
  tests/moto_cloudformation.py does (a resource type moto skipped fails the example), and
  `PANTHER_CN_BRIDGE_URL` naming a stand-in bridge that accepts the keys on moto's usage plan;
  `python tests/local_aws.py` (which starts the same two for a user) is not run, the test's
  own serve instead, and the `export` lines after it run and change nothing;
* Panther's root parameters the example's root lacks, given by an AWS block's command
  (`FirstUserEmail`; `AppDomainURL`, which the China split lifts; `SecretID`, which the web
  pack adds with the proxies, only to a root with `Appsync` and `Web` stacks, which the
  example has not) - declared in that block's copy of the root as Panther's are
  (`PANTHER_ROOT_PARAMETERS`), so what the command gives is checked against what the stack
  took (moto ignores a parameter the template does not declare, and checks no
  `AllowedPattern`: the test does both);
* `my-rules.yml` - examples/quickstart-buckets.yml; `examples/`, `bench/`, `tests/` - the
  repository's own;
* benchmarks run once on small input (`--repeat 1`; bench_transform with `--resources 20`,
  and with `--removals 30 --megabytes 0.1` where it times removals;
  bench_copy and bench_release (its mirror form) on the bundled example, v1.0.0; bench_aliases with `--aliases 0,400 --size
  300000`; bench_cli_gc with `--sizes 20`; bench_bounds with `--scale 0.01`; bench_release's `--generated` as `2x20`;
  `python -m tests.probes` with `--every 100`, the first probe of each family): the
  test proves the command line works,
  the figures are measured by hand (docs/performance.md); `HYPOTHESIS_PROFILE=long` or
  `thorough` becomes the `docs` profile (3 examples) for the same reason.

Not run here, because CI (`.ci/run`) runs them around this very suite: `pip install ...`
(the suite runs in the installed project) and the bare `python -m pytest` (this run).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from . import moto_cloudformation
from .aws_servers import FAKE_CREDENTIALS, FakeBridge, fake_bridge
from .s3server import S3Server

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
SOURCE_BUCKET, SOURCE_REGION = "panther-enterprise-us-west-1", "us-west-1"
RELEASE_NAMES = ("v1.16.0", "v1.18.1")  # the releases the pages name, each a copy of the example's v1.0.0
PROFILES = ("global", "china", "web")
AWS_MARKER = "<!-- aws: moto -->"
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
    uses_aws: bool  # after AWS_MARKER: run with the state `AWS_BLOCKS` prepares, its effect checked

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
            found.append(Example(page, index + 1, language, body + "\n", before == AWS_MARKER))
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
        if "bench_copy.py" in command or "bench_release.py" in command and "--generated" not in command:
            command += f" ./{SOURCE_BUCKET} --release v1.0.0"  # the bundled example, not the v1.16.0 mirror
        if "bench_aliases.py" in command:
            command += " --aliases 0,400 --size 300000"
        if "bench_cli_gc.py" in command:
            command += " --sizes 20"
        if "bench_bounds.py" in command:
            command += " --scale 0.01"
        command = re.sub(r"--generated \d+x\d+", "--generated 2x20", command)
    if re.search(r"\bpython -m tests\.probes\b", command):
        command = re.sub(r"\s#.*$", "", command) + " --every 100"  # the first probe of each family: the command works
    return command


def _folder(tmp_path: Path, endpoint: str) -> Path:
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
    (aws / "config").write_text("".join(f"[profile {name}]\nendpoint_url = {endpoint}\n" for name in PROFILES))
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
    stand_in: dict[str, str] = {}
    if stacks:
        bridge = stack.enter_context(fake_bridge("unset"))
        for name, region in sorted(stacks):
            # the output as the panther pack writes it (connect checks its form); the override sends the call to the stand-in
            _bridge_stack(s3.url, bridge, name, region, url=f"https://a1b2c3d4e5.execute-api.{region}.amazonaws.com.cn/prod")
        stand_in = {"PANTHER_CN_BRIDGE_URL": bridge.url}
    return {**stand_in, **_prepare_deploy(deploys, uploaded, home, stack, environment)}


def _bridge_stack(endpoint: str, bridge: FakeBridge, name: str, region: str, *, url: str | None = None) -> None:
    """A China stack named `name` whose outputs name an API key and `bridge` (or `url`), which takes that key and answers the guide's request.

    The docs' by-hand block reads the URL from the stack and calls it with curl, so its stack
    names the stand-in itself; `connect` refuses such a URL (it checks BridgeUrl's form), so
    its stacks name a China stage URL and the run sets the override.
    """
    key = boto3.client("apigateway", region_name=region, endpoint_url=endpoint, **FAKE_CREDENTIALS).create_api_key(
        name=f"panther-cn-bridge-{name}", enabled=True)
    bridge.api_key = str(key["value"])
    bridge.answers["panther-source-api"] = [{"integrationId": "self"}]
    outputs = {"BridgeUrl": {"Value": url or bridge.url}, "BridgeApiKeyId": {"Value": key["id"]}}
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name=region, endpoint_url=endpoint, **FAKE_CREDENTIALS).create_stack(
        StackName=name, TemplateBody=json.dumps(template))


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


# --- blocks that run the AWS CLI (after AWS_MARKER): the state their page implies, run against moto, effect checked ---

CHINA_REGION, WEB_REGION = "cn-north-1", "ap-southeast-1"
HALVES = {"china": ("panther", CHINA_REGION, "my-cn-bucket"), "web": ("panther-web-proxy", WEB_REGION, "my-web-bucket")}
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
PLACEHOLDER = {"UserPoolId": "placeholder_user_pool"}  # what a first install gives it (docs/release.md, section 3)
#: Parameters of Panther's root that a page gives and the example's root lacks, declared as Panther's are: FirstUserEmail
#: (Panther's own, with its pattern), AppDomainURL (lifted by the China split from the web half's Bootstrap output) and
#: SecretID (added by the web pack with the proxies, to a root with Core, Appsync and Web stacks; the example has no
#: Appsync or Web stack, so no proxies either: rules/panther-web-proxy.yml, `web-proxies`)
PANTHER_ROOT_PARAMETERS = {
    "FirstUserEmail": {"Type": "String", "AllowedPattern": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"},
    "AppDomainURL": {"Type": "String"},
    "SecretID": {"Type": "String", "Default": "panther/china", "MinLength": 1},
}
_ASSIGNMENT = re.compile(r"""^[A-Z_][A-Z0-9_]*=(\$\(.*\)|"[^"]*"|'[^']*'|\S*)\s*(#.*)?$""", re.DOTALL)


@dataclass
class DocsAws:
    """moto in the state an AWS block's page implies; what the block printed, for its check."""

    s3: S3Server
    home: Path
    environment: dict[str, str]
    resources: ExitStack
    names: str = ""  # the China report's names step (REGION=..., STACK=...), run before each command of the block
    bridge: FakeBridge | None = None
    printed: dict[str, str] = field(default_factory=dict)  # command text -> its stdout
    buckets: set[str] = field(default_factory=set)
    keys_before: set[str] = field(default_factory=set)  # the bridge's key values before the block ran

    def client(self, service: str, region: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.s3.url, **FAKE_CREDENTIALS)

    def declare_panther_parameters(self, release: str, *names: str) -> None:
        """The mirror's `release` root declares Panther's own `names` (PANTHER_ROOT_PARAMETERS), before it is uploaded."""
        root = self.home / SOURCE_BUCKET / release / "panther.yml"
        section = "Parameters:\n" + "".join(f"  {name}: {json.dumps(PANTHER_ROOT_PARAMETERS[name])}\n" for name in names)
        root.write_text(root.read_text().replace("\nResources:\n", f"\n{section}Resources:\n", 1))

    def upload(self, release: str, half: str = "china") -> None:
        """`half` of `release` in its bucket, as `release ... --upload` puts it there; the China report's names kept."""
        pack, region, bucket = HALVES[half]
        if bucket not in self.buckets:
            self.s3.bucket(bucket, region)
            self.buckets.add(bucket)
        report = self.home.parent / f"report-{half}-{release}.json"
        done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "release", f"./{SOURCE_BUCKET}", "--release", release,
                               "--rules", pack, "--region", region, "--bucket", bucket, "--upload", "--no-verify",
                               "--report", str(report)], cwd=self.home, env=self.environment, capture_output=True, text=True,
                              check=False, timeout=600)
        assert done.returncode == 0, done.stderr
        if half == "china":
            steps = json.loads(report.read_text())["next_steps"]
            self.names = next(step for step in steps if step["id"] == "names")["commands"][0]

    def create_stack(self, half: str, release: str, parameters: dict[str, str]) -> None:
        """The half's stack `panther` from the root in its bucket, as the page's create-stack makes it."""
        _, region, bucket = HALVES[half]
        host = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        self.client("cloudformation", region).create_stack(
            StackName="panther", TemplateURL=f"https://{bucket}.s3.{region}.{host}/{release}/panther.yml", Capabilities=CAPABILITIES,
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()])
        assert self.stack(region)["StackStatus"] == "CREATE_COMPLETE"

    def connect(self, url: str, key: str) -> None:
        """The secret `connect` writes in the web region: the bridge's URL and key."""
        self.client("secretsmanager", WEB_REGION).create_secret(Name="panther/china", SecretString=json.dumps({"URL": url, "API_KEY": key}))

    def stack(self, region: str, name: str = "panther") -> dict[str, Any]:
        found: dict[str, Any] = self.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"][0]
        return found

    def parameters(self, region: str) -> dict[str, str]:
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.stack(region).get("Parameters", [])}

    def output(self, region: str, name: str) -> str:
        return next(str(o["OutputValue"]) for o in self.stack(region).get("Outputs", []) if o["OutputKey"] == name)

    def shown(self, command: str) -> str:
        """What the block's command starting `command` printed on stdout."""
        return next(out for text, out in self.printed.items() if text.startswith(command))


def _created_with(aws: DocsAws, region: str, given: dict[str, str]) -> None:
    """The stack and its nested stacks complete, its parameters those given (and declared: CloudFormation refuses others)."""
    stack = aws.stack(region)
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), stack["StackStatus"]
    nested = [s for s in aws.client("cloudformation", region).describe_stacks()["Stacks"] if s["StackName"].startswith("panther-")]
    assert sorted(s["StackName"].split("-")[1] for s in nested) == ["Bootstrap", "Core"], [s["StackName"] for s in nested]
    assert all(s["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE") for s in nested), [(s["StackName"], s["StackStatus"]) for s in nested]
    parameters = aws.parameters(region)
    assert {key: parameters.get(key) for key in given} == given, parameters
    declared = yaml_parameters(str(aws.client("cloudformation", region).get_template(StackName="panther")["TemplateBody"]))
    for key, value in given.items():  # moto checks no AllowedPattern: a value CloudFormation would refuse fails here
        assert re.fullmatch(declared[key].get("AllowedPattern", ".*"), value), f"{key}={value!r} does not match {declared[key]}"


def yaml_parameters(template: str) -> dict[str, dict[str, Any]]:
    """The template's declared parameters (cfn-lint's reader: CloudFormation's YAML tags too)."""
    from cfnlint.decode import decode_str

    decoded, errors = decode_str(template)
    assert decoded is not None and not errors, errors
    return dict(decoded.get("Parameters") or {})


def _china_stack(aws: DocsAws, release: str = "v1.18.1") -> None:
    aws.upload(release)
    aws.create_stack("china", release, PLACEHOLDER)


def _intro_prepare(aws: DocsAws) -> None:
    aws.declare_panther_parameters("v1.18.1", "FirstUserEmail", "AppDomainURL")
    aws.upload("v1.18.1")


def _intro_check(aws: DocsAws) -> None:
    _created_with(aws, CHINA_REGION, {"FirstUserEmail": "admin@example.com", "UserPoolId": "placeholder_user_pool",
                                      "AppDomainURL": "placeholder.example.com"})


def _which_check(aws: DocsAws) -> None:
    assert aws.shown("aws cloudformation describe-stacks").strip() == "CREATE_COMPLETE"  # an upgrade, the page says


def _create_check(aws: DocsAws) -> None:
    _created_with(aws, CHINA_REGION, PLACEHOLDER)
    assert len(moto_cloudformation.bridge_keys(CHINA_REGION)) == 2  # the bridge's two key slots, on its usage plan


def _upgrade_prepare(aws: DocsAws) -> None:
    aws.upload("v1.18.1")
    _china_stack(aws, "v1.16.0")
    aws.keys_before = moto_cloudformation.bridge_keys(CHINA_REGION)


def _upgrade_check(aws: DocsAws) -> None:
    _created_with(aws, CHINA_REGION, {**PLACEHOLDER, "BridgeKeyA": "v1.18.1", "BridgeKeyB": "v1.18.1"})  # the new release's defaults
    assert aws.stack(CHINA_REGION)["StackStatus"] == "UPDATE_COMPLETE"
    change_set = aws.client("cloudformation", CHINA_REGION).describe_change_set(StackName="panther", ChangeSetName="upgrade-v1-18-1")
    assert change_set["ExecutionStatus"] == "EXECUTE_COMPLETE"
    table = aws.shown("aws cloudformation describe-change-set").splitlines()
    for key in ("BridgeApiKeyA", "BridgeApiKeyB"):  # "the table shows the bridge's keys replaced"
        assert any(key in line and "True" in line for line in table), "\n".join(table)
    keys = moto_cloudformation.bridge_keys(CHINA_REGION)
    assert len(keys) == 2 and not keys & aws.keys_before  # both slots' keys replaced: `connect` must follow


def _by_hand_prepare(aws: DocsAws) -> None:
    aws.bridge = aws.resources.enter_context(fake_bridge("unset"))
    _bridge_stack(aws.s3.url, aws.bridge, "panther", CHINA_REGION)


def _by_hand_check(aws: DocsAws) -> None:
    assert aws.bridge is not None
    assert aws.bridge.calls == [("/prod/cn/panther-source-api", aws.bridge.api_key, {"listIntegrations": {}})]
    assert json.loads(aws.shown("curl")) == [{"integrationId": "self"}]
    secret = aws.client("secretsmanager", WEB_REGION).get_secret_value(SecretId="panther/china")["SecretString"]
    assert json.loads(secret) == {"URL": aws.bridge.url, "API_KEY": aws.bridge.api_key}


def _web_prepare(aws: DocsAws) -> None:
    aws.declare_panther_parameters("v1.18.1", "FirstUserEmail", "SecretID")
    aws.upload("v1.18.1", "web")
    aws.connect("https://bridge.execute-api.cn-north-1.amazonaws.com.cn/prod", "connected-key")  # steps 2 and 3 done


def _web_check(aws: DocsAws) -> None:
    _created_with(aws, WEB_REGION, {"FirstUserEmail": "admin@example.com", "SecretID": "panther/china"})
    assert len(aws.client("cognito-idp", WEB_REGION).list_user_pools(MaxResults=10)["UserPools"]) == 1


def _web_values_prepare(aws: DocsAws) -> None:
    _china_stack(aws)
    key = aws.client("apigateway", CHINA_REGION).get_api_key(apiKey=aws.output(CHINA_REGION, "BridgeApiKeyId"), includeValue=True)
    aws.connect(aws.output(CHINA_REGION, "BridgeUrl"), str(key["value"]))
    aws.upload("v1.18.1", "web")
    aws.create_stack("web", "v1.18.1", {})


def _web_values_check(aws: DocsAws) -> None:
    [pool] = aws.client("cognito-idp", WEB_REGION).list_user_pools(MaxResults=10)["UserPools"]
    change_set = aws.client("cloudformation", CHINA_REGION).describe_change_set(StackName="panther", ChangeSetName="web-values")
    assert change_set["Status"] == "CREATE_COMPLETE" and change_set["Changes"], change_set
    assert {p["ParameterKey"]: p.get("ParameterValue") for p in change_set["Parameters"]}["UserPoolId"] == pool["Id"]
    assert aws.parameters(CHINA_REGION)["UserPoolId"] == "placeholder_user_pool"  # read, then executed: not by this block


def _sync_prepare(aws: DocsAws) -> None:
    aws.s3.bucket("my-cn-bucket", CHINA_REGION)
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "release", f"./{SOURCE_BUCKET}", "--release", "v1.18.1",
                           "--region", CHINA_REGION, "--bucket", "my-cn-bucket", "--out-dir", "./cn-release", "--no-verify"],
                          cwd=aws.home, env=aws.environment, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr  # the page's transform step (its --verify left out: the same out-dir)
    aws.s3.log.lines.clear()


def _sync_check(aws: DocsAws) -> None:
    manifest = json.loads((aws.home / "cn-release" / "manifest.json").read_text())
    stored = aws.s3.objects("my-cn-bucket", CHINA_REGION)
    assert {key: hashlib.sha256(data).hexdigest() for key, data in stored.items()} == {o["key"]: o["sha256"] for o in manifest["objects"]}
    assert aws.s3.requests("PUT", "my-cn-bucket")[-1] == manifest["root"]  # the root template last


@dataclass(frozen=True)
class AwsBlock:
    """One AWS_MARKER block: how it is recognized, the state its page implies before it runs, and its effect."""

    recognized_by: str  # a regular expression found in this block's body and in no other marked block's
    state: str  # in words
    prepare: Callable[[DocsAws], None]
    check: Callable[[DocsAws], None]


AWS_BLOCKS = [
    AwsBlock(r"create-stack --region cn-north-1 --profile china", "the China half of v1.18.1 in my-cn-bucket, no stack",
             _intro_prepare, _intro_check),
    AwsBlock(r'\Aaws cloudformation describe-stacks --region "\$REGION"', "the China stack created (an upgrade)",
             _china_stack, _which_check),
    AwsBlock(r'\AUSER_POOL_ID=placeholder_user_pool\naws cloudformation create-stack', "the China half of v1.18.1 in my-cn-bucket, no stack",
             lambda aws: aws.upload("v1.18.1"), _create_check),
    AwsBlock(r"--change-set-name upgrade-", "the China stack created from v1.16.0; v1.18.1 uploaded beside it",
             _upgrade_prepare, _upgrade_check),
    AwsBlock(r"aws apigateway get-api-key", "the China stack, its outputs naming the bridge (the stand-in) and its key; no secret",
             _by_hand_prepare, _by_hand_check),
    AwsBlock(r"create-stack --region ap-southeast-1", "the web half of v1.18.1 in my-web-bucket, the secret written by connect",
             _web_prepare, _web_check),
    AwsBlock(r"--change-set-name web-values", "the China stack with the placeholder, connected; the web stack created",
             _web_values_prepare, _web_values_check),
    AwsBlock(r"aws s3 sync", "./cn-release written by the page's transform step; my-cn-bucket empty",
             _sync_prepare, _sync_check),
]


def _aws_block(example: Example) -> AwsBlock:
    found = [block for block in AWS_BLOCKS if re.search(block.recognized_by, example.body)]
    assert len(found) == 1, (f"{example.name} is marked {AWS_MARKER}: give it one entry in AWS_BLOCKS (the state its page implies, "
                             f"its effect), found {[b.recognized_by for b in found]}")
    return found[0]


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
    if example.uses_aws:
        assert calls_aws, f"{example.name} is marked {AWS_MARKER} but does not call the AWS CLI"
    assert calls_aws <= example.uses_aws, f"{example.name} calls the AWS CLI: mark the block {AWS_MARKER} (and keep other commands out of it)"
    block = _aws_block(example) if example.uses_aws else None
    home = _folder(tmp_path, s3.url)
    environment = _environment(s3, tmp_path, home)
    with ExitStack() as resources:
        environment.update(_prepare_aws(s3, home, example, resources, environment))
        if example.language == "python":
            _run_python(example, home, environment)
        elif block is None:
            _run_shell(example, home, environment)
        else:
            resources.enter_context(moto_cloudformation.strict_cloudformation())  # a resource type moto skipped fails it
            aws = DocsAws(s3, home, environment, resources)
            block.prepare(aws)
            # the names the report's first step sets, unset variables refused: a page's command must be pasteable as it is
            aws.printed.update(_run_shell(example, home, environment, prefix=f"set -u -o pipefail\n{aws.names}"))
            block.check(aws)


def test_every_aws_block_is_known_and_every_known_block_is_on_a_page() -> None:
    marked = [example for example in EXAMPLES if example.uses_aws]
    assert {_aws_block(example) for example in marked} == set(AWS_BLOCKS)
    assert len(marked) == len(AWS_BLOCKS)


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


def _run_shell(example: Example, home: Path, environment: dict[str, str], prefix: str = "") -> dict[str, str]:
    """Run the block's commands, each in its own `bash -c` after `prefix` and the block's earlier assignments; their stdout."""
    ran: dict[str, str] = {}
    assigned: list[str] = []  # `NAME=value` lines: the later commands of the block read them, as one shell would
    for command in commands(example):
        text = runnable(command.text)
        if text is None:
            continue
        assignment = _ASSIGNMENT.match(text)
        shown = f'\nprintf "%s" "${{{text.split("=", 1)[0]}}}"' if assignment else ""
        done = subprocess.run(["bash", "-c", "\n".join([prefix, *assigned, text]) + shown], cwd=home, env=environment,
                              capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=600)
        where = f"{example.page.relative_to(REPO)}:{command.line}: {command.text}"
        assert done.returncode == command.exit_code, (
            f"{where}\nexited {done.returncode}, the page says {command.exit_code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        printed = (done.stdout + done.stderr).splitlines()
        assert _shown(command.shows, printed), f"{where}\nthe page shows {command.shows}, the command printed:\n" + "\n".join(printed[-40:])
        if assignment:  # a value the later commands read: a real one
            assert done.stdout.strip() not in ("", "None"), f"{where}\ngave {done.stdout!r}\n{done.stderr[-3000:]}"
            assigned.append(text)
        ran[command.text] = done.stdout
    assert ran or all(runnable(c.text) is None for c in commands(example))
    return ran


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
    # a block's `NAME=value` lines are kept for its later commands; a command with an environment prefix is not one
    assert _ASSIGNMENT.match("USER_POOL_ID=placeholder_user_pool   # placeholder") and _ASSIGNMENT.match(
        'URL=$(aws cloudformation describe-stacks --query "Stacks[0].Outputs" --output text)')
    assert not _ASSIGNMENT.match("HYPOTHESIS_PROFILE=long python -m pytest -n 0 tests/test_hostile.py")
    assert runnable("python bench/bench_transform.py --removals 3700 --megabytes 10 --repeat 5") == (
        "python bench/bench_transform.py --removals 30 --repeat 1 --resources 20 --megabytes 0.1")
