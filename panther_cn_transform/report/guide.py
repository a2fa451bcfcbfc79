"""What the operator does after a release is built: the root's parameters and the next commands.

The parameters come from the root template itself: those without a default, added by the
transform (a nested stack's input whose global source was removed, e.g. `UserPoolId`) or
the release's own (e.g. `FirstUserEmail`).  Where a value comes from is read from the edit that lifted
it: the old value `Fn::GetAtt [Bootstrap, Outputs.UserPoolId]` says "output UserPoolId of
the nested stack Bootstrap", which, in Panther's China split, the web half deploys.

The next steps are Panther's China guide, in its order, for the half this release is
(`split_half`: which of the split's packs built it):

1. the China half (pack `panther`): upload, deploy;
2. `connect`: the bridge's URL and API key, read from the China stack and tested, into the
   secret `panther/china` of the web region (created on a first install, updated on an
   upgrade, which replaced the key);
3. the web half (pack `panther-web-proxy`): upload, deploy; its proxies read the secret, and
   its Web stack's custom resources call them while it deploys, so it comes after `connect`;
4. on a first install, the China stack is given the web half's values (it was created with
   placeholders for `UserPoolId` and `AppDomainURL`: the web half did not exist yet);
5. the end-to-end check: both stacks complete, and `connect --test`.

Each half's report gives its own half's commands in full and names the other half's place
in that order; a release made with other packs gets the deploy steps alone.

**Create or update.** The report is written before anything is deployed, and cannot see
the account: an out-dir run has no credentials at all, and an upload sees only the bucket
(an earlier release in it proves no stack, and a fresh bucket no absence of one).  So it
does not guess: it gives both forms, each step marked with its `when` (`FIRST_INSTALL` or
`UPGRADE`), and one command that asks the account which one it is (`describe-stacks`: no
stack is a first install).  A first install creates the stack (`create-stack`, then the
wait); an upgrade goes through a change set (`create-change-set`, `describe-change-set` to
read it, the replaced resources included, `execute-change-set`), so what it replaces is seen
before it runs.  `aws cloudformation deploy` would do either, but it takes a local template
file and uploads it again to a bucket it is given, while the release's root is in its bucket
already, beside its nested stacks; and it executes at once unless told not to.  The secret
is written by `connect`, which creates it or puts the new value into it: never
`create-secret`, which fails once the secret exists.

Host names come from the partition data of the half's region (the template URL is
`Partition.object_url`, computed by release mode into the report's `template_url`): the web
half in ap-southeast-1 gets `amazonaws.com` hosts, the China half `amazonaws.com.cn`.  Each
command of this tool repeats the packs the run was given (`--rules`), and each AWS command
names its half's region and profile (`CHINA_PROFILE`, `WEB_PROFILE`).  Commands use shell
variables set in the first step, so they can be pasted as they are.  Steps are data (an
`id`, a `title`, a `text`, the `commands`, and `when` where it applies): a command that
runs them in turn can later be named beside them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any, Literal

from ..model.edits import Edit, to_pointer
from ..ruleset.rule_files import shipped_pack_regions

Half = Literal["china", "web"]
#: the pack that builds each half of Panther's China split
SPLIT_PACKS: dict[Half, str] = {"china": "panther", "web": "panther-web-proxy"}
FIRST_INSTALL, UPGRADE = "first install", "upgrade"
CAPABILITIES = "CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND"
SECRET_ID = "panther/china"
#: What a first install of the China half gives the parameters the web half supplies later, each valid for the
#: nested stacks' parameter it feeds (Core's and BootstrapGateway's UserPoolId: `^[a-zA-Z0-9_-]{15,}$`; Core's
#: AppDomainURL: `^[a-z0-9.-]+\.[a-z]{2,}$`); nothing in China uses them until the web half's values replace them.
PLACEHOLDERS = {"UserPoolId": "placeholder_user_pool", "AppDomainURL": "placeholder.example.com"}


def root_parameters(source_model: Any, output_model: Any, edits: Iterable[Edit]) -> list[dict[str, Any]]:
    """The root's parameters an operator must supply: those without a default, gained by the transform or not.

    A parameter a pack adds with a default (the web half's `SecretID`, default `panther/china`,
    the secret `connect` writes) needs nothing.
    """
    before = source_model.get("Parameters") or {}
    after = output_model.get("Parameters") or {}
    origins: dict[str, dict[str, str]] = {}
    used_by: dict[str, list[str]] = {}
    for edit in edits:
        if edit.op == "replace" and isinstance(edit.value, dict) and list(edit.value) == ["Ref"]:
            name = str(edit.value["Ref"])
            used_by.setdefault(name, []).append(to_pointer(edit.path))
            origin = _stack_output(edit.old)
            if origin:
                origins.setdefault(name, origin)
    found = []
    for name, spec in after.items():
        spec = spec if isinstance(spec, dict) else {}
        if "Default" in spec:
            continue
        found.append({
            "name": name,
            "status": "gained" if name not in before else "needed",
            "description": str(spec.get("Description", "")),
            "from": origins.get(name),
            "used_by": sorted(used_by.get(name, [])),
        })
    return found


def _stack_output(value: Any) -> dict[str, str] | None:
    """`{"stack", "output"}` of a `Fn::GetAtt` on a nested stack's output, else None."""
    if not isinstance(value, dict) or list(value) != ["Fn::GetAtt"]:
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target):
        stack, attribute = target
        if attribute.startswith("Outputs."):
            return {"stack": stack, "output": attribute[len("Outputs."):]}
    return None


def split_half(files: Iterable[str]) -> Half | None:
    """Which half of Panther's China split the rules that loaded `files` build (a file of yours extending a pack counts)."""
    loaded = set(files)
    for half in ("web", "china"):  # the web pack extends no pack of the China half, so it is the one to look for first
        if f"<builtin>/{SPLIT_PACKS[half]}.yml" in loaded:
            return half
    return None


def shell_name(parameter: str) -> str:
    """`UserPoolId` -> `USER_POOL_ID`, `AppDomainURL` -> `APP_DOMAIN_URL`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", parameter).upper()


def value_source(parameter: dict[str, Any], half: str | None = None) -> str:
    """Where the value of a root parameter comes from, in words."""
    origin = parameter.get("from")
    if origin and half == "china":
        return (f"output {origin['output']} of the web half's nested stack {origin['stack']}; on a first install the "
                f"web half does not exist yet: a placeholder, replaced once it does")
    if origin:
        return f"output {origin['output']} of the nested stack {origin['stack']} of the deployment that still has it"
    return f"your choice: {parameter['description'] or 'no description'}"


def next_steps(
    *, region: str, bucket: str, release: str, source_bucket: str, root: str, uploaded: bool,
    parameters: list[dict[str, Any]], outputs: Iterable[str], source: str | None = None,
    template_url: str, rules: Iterable[str] = (), half: str | None = None, own_blockers: int = 0,
) -> list[dict[str, Any]]:
    """The steps after this run: each an `id`, a `title`, a `text`, the exact `commands`, and `when` where it applies.

    `source` is the release source as the user gave it (a mirror folder or `s3://bucket`):
    the upload steps repeat it, so a user with a local mirror is not sent to the global
    bucket; without it, the global bucket.  `rules` are the packs the run was given (each
    command of this tool repeats them), `half` the split's half (`split_half`),
    `template_url` the root's URL in the bucket (from the partition data), and
    `own_blockers` the blockers the global release does not have (the upload stops on them).
    """
    guide = _Guide(region=region, bucket=bucket, release=release, source=source or f"s3://{source_bucket}",
                   root=root, parameters=parameters, rules=list(rules), half=half, template_url=template_url)
    bridge = {"BridgeUrl", "BridgeApiKeyId"} <= set(outputs)
    if half == "china":
        return guide.china(uploaded=uploaded, own_blockers=own_blockers, bridge=bridge)
    if half == "web":
        return guide.web(uploaded=uploaded, own_blockers=own_blockers)
    return guide.alone(uploaded=uploaded, own_blockers=own_blockers)


class _Guide:
    """The steps of one report; each method is one half's sequence (see the module docstring)."""

    def __init__(self, *, region: str, bucket: str, release: str, source: str, root: str, parameters: list[dict[str, Any]],
                 rules: list[str], half: str | None, template_url: str) -> None:
        self.region, self.bucket, self.release, self.source, self.root = region, bucket, release, source, root
        self.parameters, self.rules, self.half, self.template_url = parameters, rules, half, template_url
        self.change_set = "upgrade-" + re.sub(r"[^A-Za-z0-9-]", "-", release.strip("/"))[:100]

    # -- the sequences ------------------------------------------------------------------------

    def china(self, *, uploaded: bool, own_blockers: int, bridge: bool) -> list[dict[str, Any]]:
        web_regions = shipped_pack_regions(SPLIT_PACKS["web"]) or ("ap-southeast-1",)
        china = _Half("China half", "$REGION", "$STACK", "$CHINA_PROFILE")
        lifted = [p for p in self.parameters if p.get("from")]
        steps = [self._names(
            "Panther's China guide, in order: this China half (upload, deploy); `connect`, the bridge into the web "
            "half's secret; the web half (pack panther-web-proxy); on a first install, the China stack gets the web "
            "half's values; the end-to-end check. Steps marked first install or upgrade are for that case only.",
            [("REGION", self.region, "the China half's region (this release is built for it)"),
             ("STACK", "panther", "the China half's stack"),
             ("CHINA_PROFILE", "china", "AWS CLI profile of the China account"),
             ("WEB_REGION", web_regions[0], f"the web half's region: {' or '.join(web_regions)}"),
             ("WEB_STACK", "panther", "the web half's stack, in WEB_REGION"),
             ("WEB_BUCKET", "my-web-bucket", "the web half's bucket, in WEB_REGION"),
             ("WEB_PROFILE", "global", "AWS CLI profile of the web half's (global) account")])]
        if not uploaded:
            steps.append(self._upload(china, "the China bucket", own_blockers))
        steps += self._deploy(china, placeholders=lifted)
        if bridge:
            steps.append(self._connect(
                china_stack="$STACK", china_region="$REGION", web_region="$WEB_REGION",
                text=("`connect` reads the bridge's URL and API key from the China stack, tests them (the guide's "
                      "listIntegrations call), and creates the secret panther/china in WEB_REGION, or puts the new key "
                      "into it on an upgrade (the upgrade replaced the key). The web half's proxies read it: run it "
                      "before the web half, on every install and upgrade.")))
        steps.append({
            "id": "web-half", "title": "The web half",
            "text": ("Build and upload the web half from the same release with the pack panther-web-proxy, then deploy it "
                     "as its report's next steps say (first install or upgrade, as here)."),
            "commands": [self._release_command(
                rules=[SPLIT_PACKS["web"]], region='"$WEB_REGION"', bucket='"$WEB_BUCKET"', profile="$WEB_PROFILE",
                extra=" --report web-report.md")],
        })
        if lifted:
            steps.append(self._web_values(lifted))
        steps.append(self._check([china, _Half("web half", "$WEB_REGION", "$WEB_STACK", "$WEB_PROFILE")],
                                 connect=self._connect_command("$STACK", "$REGION", "$WEB_REGION") if bridge else None))
        return steps

    def web(self, *, uploaded: bool, own_blockers: int) -> list[dict[str, Any]]:
        china_regions = shipped_pack_regions(SPLIT_PACKS["china"]) or ("cn-north-1",)
        web = _Half("web half", "$REGION", "$STACK", "$WEB_PROFILE")
        steps = [self._names(
            "Panther's China guide, in order: the China half (pack panther) and `connect` first, then this web half "
            "(upload, deploy); on a first install, the China stack gets this half's values; the end-to-end check. "
            "Steps marked first install or upgrade are for that case only.",
            [("REGION", self.region, "the web half's region (this release is built for it)"),
             ("STACK", "panther", "the web half's stack"),
             ("WEB_PROFILE", "global", "AWS CLI profile of the web half's (global) account"),
             ("CHINA_REGION", china_regions[0], f"the China half's region: {' or '.join(china_regions)}"),
             ("CHINA_STACK", "panther", "the China half's stack, in CHINA_REGION"),
             ("CHINA_PROFILE", "china", "AWS CLI profile of the China account")])]
        steps.append({
            "id": "china-half", "title": "First, the China half",
            "text": (f"Build, upload and deploy the China half from the same release with the pack panther "
                     f"(`release {shlex.quote(self.source)} --release {self.release} --rules panther ...`); its report's "
                     "next steps give its commands. The web half's proxies call it through its bridge."),
            "commands": [],
        })
        if not uploaded:
            steps.append(self._upload(web, "the web half's bucket", own_blockers))
        steps.append(self._connect(
            china_stack="$CHINA_STACK", china_region="$CHINA_REGION", web_region="$REGION",
            text=("`connect` puts the China bridge's URL and API key, tested, into the secret panther/china of this "
                  "region (created on a first install, updated on an upgrade). The proxies read it, and the Web stack's "
                  "custom resources call them while it deploys: run it before this half, on every install and upgrade.")))
        steps += self._deploy(web, placeholders=[])
        lifted = [p for p in self.parameters if p.get("from")]
        steps.append({
            "id": "web-values", "title": "Give the China half this half's values", "when": FIRST_INSTALL,
            "text": ("The China half was created with placeholders for this half's values (UserPoolId, AppDomainURL): "
                     "its report's step of this name reads them from this half's nested stack Bootstrap and updates "
                     "the China stack through a change set."),
            "commands": [],
        })
        if lifted:
            steps[-1]["items"] = [f"{p['name']}: {value_source(p, self.half)}" for p in lifted]
        steps.append(self._check([_Half("China half", "$CHINA_REGION", "$CHINA_STACK", "$CHINA_PROFILE"), web],
                                 connect=self._connect_command("$CHINA_STACK", "$CHINA_REGION", "$REGION")))
        return steps

    def alone(self, *, uploaded: bool, own_blockers: int) -> list[dict[str, Any]]:
        """A release made with other packs: deploy it, first install or upgrade."""
        stack = _Half("stack", "$REGION", "$STACK", "$PROFILE")
        steps = [self._names("Steps marked first install or upgrade are for that case only.", [
            ("REGION", self.region, "the region this release is built for"),
            ("STACK", "panther", "the stack to create or upgrade"),
            ("PROFILE", "default", "AWS CLI profile of the account"),
        ])]
        if not uploaded:
            steps.append(self._upload(stack, f"the bucket {self.bucket}", own_blockers))
        return steps + self._deploy(stack, placeholders=[])

    # -- the steps --------------------------------------------------------------------------

    @staticmethod
    def _names(text: str, names: list[tuple[str, str, str]]) -> dict[str, Any]:
        width = max(len(f"{name}={value}") for name, value, _ in names)
        lines = [f"{f'{name}={shlex.quote(value)}':<{width}}   # {comment}" for name, value, comment in names]
        return {"id": "names", "title": "Set the names the commands below use", "text": text, "commands": ["\n".join(lines)]}

    def _upload(self, half: _Half, where: str, own_blockers: int) -> dict[str, Any]:
        text = f"This run did not upload; this copies the release to {where} (assets, then templates, the root last)."
        if own_blockers:
            text += (f" The report lists {own_blockers} blocker(s) the global release does not have: the upload stops on "
                     "them; fix them, or add --accept-blockers to upload anyway.")
        return {"id": "upload", "title": f"Upload the {half.name}" if half.name != "stack" else "Upload the release",
                "text": text, "commands": [self._release_command(
                    rules=self.rules, region=self.region, bucket=self.bucket, profile=half.profile)]}

    def _release_command(self, *, rules: list[str], region: str, bucket: str, profile: str, extra: str = "") -> str:
        packs = "".join(f" --rules {shlex.quote(rule)}" for rule in rules)
        source = ' --source-profile "$WEB_PROFILE"' if self.source.startswith("s3://") and self.half else ""
        return (f"python -m panther_cn_transform release {shlex.quote(self.source)} --release {self.release}{packs} \\\n"
                f'    --region {region} --bucket {bucket} --upload{source} --target-profile "{profile}"{extra}')

    def _deploy(self, half: _Half, *, placeholders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lifted = {p["name"] for p in placeholders}
        which = {
            "id": "which", "title": "First install or upgrade?",
            "text": ("Ask the account. \"Stack with id ... does not exist\" is a first install: take the steps marked "
                     "first install. A status (CREATE_COMPLETE, UPDATE_COMPLETE, ...) is an upgrade: take those marked "
                     "upgrade. A first install that failed (ROLLBACK_COMPLETE) is deleted before it is created again "
                     "(aws cloudformation delete-stack)."),
            "commands": [(f"aws cloudformation describe-stacks {half.where} --stack-name \"{half.stack}\" \\\n"
                         '    --query "Stacks[0].StackStatus" --output text')],
        }
        values = [(f"{shell_name(p['name'])}={PLACEHOLDERS.get(p['name'], 'placeholder')}   # placeholder until the "
                   f"web half exists: {p['name']}") if p["name"] in lifted else
                  f"{shell_name(p['name'])}='...'   # {value_source(p, self.half)}"
                  for p in self.parameters]
        create_parameters = "".join(f' \\\n    ParameterKey={p["name"]},ParameterValue="${shell_name(p["name"])}"' for p in self.parameters)
        create = {
            "id": "create", "title": f"Deploy the {half.name}", "when": FIRST_INSTALL,
            "text": (f"Create the {half.name}'s stack from the root template in its bucket"
                     + (", with placeholders for what the web half supplies later" if lifted else "") + "."),
            "items": [f"{p['name']}: {value_source(p, self.half)}" for p in self.parameters],
            "commands": [*values,
                         f'aws cloudformation create-stack {half.where} --stack-name "{half.stack}" \\\n'
                         f"    --template-url {self.template_url} \\\n"
                         f"    --capabilities {CAPABILITIES}"
                         + (f" \\\n    --parameters{create_parameters}" if self.parameters else ""),
                         f'aws cloudformation wait stack-create-complete {half.where} --stack-name "{half.stack}"'],
        }
        if not self.parameters:
            del create["items"]
        kept = "".join(f" \\\n    ParameterKey={p['name']},UsePreviousValue=true" for p in self.parameters)
        replaced = (" By hand, without parameters, both of the bridge's key slots (BridgeApiKeyA and B) take the new "
                    "release and their keys are replaced: run `connect` right after it to put the new key into the secret "
                    "(`deploy all` rotates one slot at a time instead, with no outage)." if self.half == "china" else "")
        update = {
            "id": "update", "title": f"Deploy the {half.name}", "when": UPGRADE,
            "text": ("A change set shows what the upgrade changes before it runs: read it (Replacement True is a resource "
                     f"replaced) before you execute it.{replaced} The parameters listed keep their values (add any other "
                     "you changed from its default the same way)."),
            "commands": self._change_set(half, f"--change-set-type UPDATE --include-nested-stacks \\\n    --template-url {self.template_url}", kept,
                                         self.change_set),
        }
        return [which, create, update]

    @staticmethod
    def _change_set(half: _Half, source: str, parameters: str, name: str) -> list[str]:
        named = f'{half.where} --stack-name "{half.stack}" --change-set-name {name}'
        return [
            f"aws cloudformation create-change-set {named} \\\n    {source} \\\n    --capabilities {CAPABILITIES}"
            + (f" \\\n    --parameters{parameters}" if parameters else ""),
            f"aws cloudformation wait change-set-create-complete {named}",
            (f"aws cloudformation describe-change-set {named} \\\n"
            '    --query "Changes[].ResourceChange.[Action, LogicalResourceId, ResourceType, Replacement]" --output table'),
            f"aws cloudformation execute-change-set {named}",
            f'aws cloudformation wait stack-update-complete {half.where} --stack-name "{half.stack}"',
        ]

    def _connect(self, *, china_stack: str, china_region: str, web_region: str, text: str) -> dict[str, Any]:
        return {"id": "connect", "title": "Connect the halves", "text": text,
                "commands": [self._connect_command(china_stack, china_region, web_region)]}

    @staticmethod
    def _connect_command(china_stack: str, china_region: str, web_region: str) -> str:
        return (f'python -m panther_cn_transform connect --china-stack "{china_stack}" --china-region "{china_region}" '
                f'--china-profile "$CHINA_PROFILE" \\\n    --web-region "{web_region}" --web-profile "$WEB_PROFILE" '
                f"--secret-id {SECRET_ID} --test")

    def _web_values(self, lifted: list[dict[str, Any]]) -> dict[str, Any]:
        china = _Half("China half", "$REGION", "$STACK", "$CHINA_PROFILE")
        reads = []
        for parameter in lifted:
            origin = parameter["from"]
            query = (f"Stacks[?starts_with(StackName, '${{WEB_STACK}}-{origin['stack']}-')].Outputs[]"
                     f" | [?OutputKey=='{origin['output']}'].OutputValue | [0]")
            reads.append(f'{shell_name(parameter["name"])}=$(aws cloudformation describe-stacks --region "$WEB_REGION" '
                         f'--profile "$WEB_PROFILE" \\\n    --query "{query}" --output text)')
        values = "".join(
            f' \\\n    ParameterKey={p["name"]},ParameterValue="${shell_name(p["name"])}"' if p.get("from")
            else f" \\\n    ParameterKey={p['name']},UsePreviousValue=true"
            for p in self.parameters)
        return {
            "id": "web-values", "title": "Give the China half the web half's values", "when": FIRST_INSTALL,
            "text": ("Once the web half is deployed, its nested stack Bootstrap has the values the China stack was "
                     "created with placeholders for; a change set on the same template puts them in (only environment "
                     "variables change)."),
            "items": [f"{p['name']}: output {p['from']['output']} of the web half's nested stack {p['from']['stack']}" for p in lifted],
            "commands": reads + self._change_set(china, "--change-set-type UPDATE --use-previous-template --include-nested-stacks",
                                                 values, "web-values"),
        }

    @staticmethod
    def _check(halves: list[_Half], *, connect: str | None) -> dict[str, Any]:
        statuses = [f'aws cloudformation describe-stacks {half.where} --stack-name "{half.stack}" \\\n'
                    '    --query "Stacks[0].StackStatus" --output text' for half in halves]
        return {
            "id": "check", "title": "Check end to end",
            "text": ("Both stacks are complete (CREATE_COMPLETE or UPDATE_COMPLETE), and the bridge answers the guide's "
                     "listIntegrations call with the key the secret gets (`connect --test`; a failure says why). Then sign "
                     "in to the web half's LoadBalancerUrl as FirstUserEmail."),
            "commands": statuses + ([connect] if connect else []),
        }


class _Half:
    """One half as the commands name it: its words, region, stack and profile variables."""

    def __init__(self, name: str, region: str, stack: str, profile: str) -> None:
        self.name, self.region, self.stack, self.profile = name, region, stack, profile
        self.where = f'--region "{region}" --profile "{profile}"'


def attach_next_steps(report: dict[str, Any]) -> None:
    """(Re)compute `report["next_steps"]` from the release report's own fields (after an upload, say)."""
    report["next_steps"] = next_steps(
        region=report["region"], bucket=report["bucket"], release=report["release"],
        source_bucket=report["source_bucket"], root=report["root"], uploaded=report.get("uploaded", False),
        parameters=report.get("parameters", []), outputs=report.get("outputs", []), source=report.get("source"),
        template_url=report["template_url"], rules=report.get("rules", []), half=report.get("half"),
        own_blockers=sum(1 for blocker in report.get("blockers", []) if not blocker.get("shared")),
    )
