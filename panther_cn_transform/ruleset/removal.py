"""Plan the removal of resources so that no reference is left dangling (DESIGN.md section 4).

Starting from the resources a rule removes, every reference to a removed id is repaired
in the narrowest safe way, or its owner is removed too, until nothing dangles:

* `DependsOn` entries are dropped (the whole key when none is left);
* an Output that uses it is dropped (and so is anything importing its export);
* an `Allow` IAM statement drops just the list entry of `Resource` that names it, or the
  whole statement, or the whole inline policy: each only narrows permissions;
* a reference that only carries data (a nested stack's parameter, an environment
  variable, a tag, a custom resource's property, an authorizer ARN of an API definition)
  becomes a new Parameter of this template, named after what it stood for and shared by
  every place that used the same value; the owner stays, and a warning says what to supply;
* an `Fn::If` branch that uses it becomes `AWS::NoValue` when the property is optional;
* anything else removes the referencing resource, and the walk continues from it.

Nothing is widened: a reference in a `Deny` statement, in `NotResource`, in a policy
`Condition`, or in `SourceArn` / `SourceAccount` removes its owner instead.
Parameters and conditions that lose their last user are kept and reported.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..model.edits import Edit, EditLog, JsonPath
from ..model.graph import Reference, ReferenceGraph, names_in_values
from ..model.walk import semantic_path
from ..partitions.region_data import ref_identifier
from .findings import Finding
from .rule_api import Param

OnReference = Literal["repair", "remove"]

#: The parameter every action that removes resources takes.
ON_REFERENCE_PARAM = Param(
    "on_reference",
    "repair: drop DependsOn entries, outputs, Allow-statement entries and optional If branches; "
    "remove: remove every referencing resource",
    {"enum": ["repair", "remove"]},
    default="repair",
)
_WIDENING_KEYS = frozenset({"Condition", "SourceArn", "SourceAccount", "NotResource", "NotAction", "NotPrincipal"})


@dataclass
class RemovalPlan:
    """What to remove and repair, each with a reason a reviewer can follow."""

    resources: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    repairs: dict[JsonPath, Edit] = field(default_factory=dict)
    added: dict[str, dict[str, str]] = field(default_factory=dict)  # new Parameters


def plan_removal(
    model: dict[str, Any],
    initial: dict[str, str],
    *,
    rule: str,
    on_reference: OnReference = "repair",
    required: Callable[[str], frozenset[str]] = lambda _type: frozenset(),
    removed_attributes: Mapping[tuple[str, str], str] | None = None,
    warnings: list[Finding] | None = None,
    graph: ReferenceGraph,
) -> list[Edit]:
    """Edits that remove `initial` (id -> reason) and everything that would dangle.

    **Parameters:**

    * **model** - the template as it is now.
    * **initial** - resources to remove and why.
    * **rule** - the id recorded in every edit.
    * **on_reference** - `repair` (the safe default above) or `remove` (remove every
      referencing resource; only `DependsOn` entries and Outputs are still just dropped).
    * **required** - the required properties of a resource type (for `Fn::If` repairs).
    * **removed_attributes** - `(logical id, attribute) -> reason` for attributes that no
      longer exist although their resource does: a nested stack's removed Outputs
      (`Fn::GetAtt [Child, Outputs.Name]`).  References to them are handled like
      references to a removed resource.
    * **warnings** - a list that receives what the caller must act on (new parameters).
    * **graph** - the reference graph of `model` (`EditLog.graph`, shared with the rules).

    Every edit's path is in the coordinates of `model` itself (list entries are removed
    from the last to the first), which `names_used_after` relies on.
    """
    planner = _Planner(model, graph, rule, on_reference, required)
    planner.run(initial, removed_attributes or {})
    edits = planner.edits()
    if warnings is not None:
        warnings.extend(planner.lift_warnings)
    return edits


class _Planner:
    def __init__(self, model: dict[str, Any], graph: ReferenceGraph, rule: str, on_reference: OnReference,
                 required: Callable[[str], frozenset[str]]) -> None:
        self.model = model
        self.graph = graph
        self.rule = rule
        self.on_reference = on_reference
        self.required = required
        self.plan = RemovalPlan()
        self.removed_paths: set[JsonPath] = set()
        self.removed_entries: dict[JsonPath, set[JsonPath]] = {}  # list path -> its removed entries (linear planning)
        self.lifted: dict[tuple[str, str], str] = {}  # (removed target, attribute) -> the parameter for it
        # repaired path -> (new parameter, the place that uses it, why) for each value lifted there
        self.lift_uses: dict[JsonPath, list[tuple[str, str, str]]] = {}
        self.lift_warnings: list[Finding] = []
        self.taken: set[str] | None = None  # parameter and resource names, and the parameters planned
        # removed id (or `Outputs/name`) -> the reason of the removal its cascade started from
        self.origin: dict[str, str] = {}
        # removed by the cascade -> (what it used, whether that was where the cascade started)
        self.own: dict[str, tuple[str, bool]] = {}

    def run(self, initial: dict[str, str], removed_attributes: Mapping[tuple[str, str], str]) -> None:
        queue: deque[str] = deque()
        for logical_id, reason in initial.items():
            self.plan.resources[logical_id] = reason
            self.origin[logical_id] = reason
            queue.append(logical_id)
        for reference in list(self.graph.references):
            why = removed_attributes.get((reference.target, reference.attribute or ""))
            if why is not None and reference.target not in self.plan.resources:
                self.handle(reference, f"{reference.target}.{reference.attribute}", why, queue)
        while queue:
            target = queue.popleft()
            for reference in self.graph.to(target):
                self.handle(reference, target, self.why(target), queue)

    def why(self, target: str) -> str:
        """Why `target` (an id or `Outputs/name`) went, in a length that does not grow along a cascade.

        Why not its own reason: that quotes the reason of what it used, which quotes the
        next, so down a chain of n references the reasons held n^2 characters (a 10,000-link
        chain from one removed resource took gigabytes with `--report`).  What `target` used
        is named, and the removal the cascade started from; one more link back is left out
        (its own entry in the report says what it used).  Within two links of the start
        this is the full reason.
        """
        reason = self.plan.resources.get(target) or self.plan.outputs.get(target.removeprefix("Outputs/"), "")
        own = self.own.get(target)
        if own is None:  # a removal the cascade started from
            return reason
        own_text, used_start = own
        origin = self.origin[target]
        return f"{own_text}; {origin}" if used_start else f"{own_text} (removed in turn, from: {origin})"

    def handle(self, reference: Reference, target: str, reason: str, queue: deque[str]) -> None:
        """Repair one reference to a removed `target`, or remove its owner (and queue it)."""
        section, owner = reference.owner
        origin = self.origin.get(target, reason)  # a removed attribute (`Child.Outputs.Name`) starts its own
        used_start = target not in self.own  # what it used is where the cascade started
        if section == "Resources" and owner not in self.plan.resources:
            if reference.kind == "Condition":
                return
            if not self.repair(reference, target, reason):
                own = f"{owner} removed: {_describe(reference)} uses {target}"
                self.plan.resources[owner] = f"{own}; {reason}"
                self.own[owner], self.origin[owner] = (own, used_start), origin
                queue.append(owner)
        elif section == "Outputs" and owner not in self.plan.outputs:
            own = f"output {owner} removed: {_describe(reference)} uses {target}"
            self.plan.outputs[owner] = f"{own}; {reason}"
            self.own[f"Outputs/{owner}"], self.origin[f"Outputs/{owner}"] = (own, used_start), origin
            queue.append(f"Outputs/{owner}")

    # -- repairs --------------------------------------------------------------------------

    def repair(self, reference: Reference, target: str, reason: str) -> bool:
        """Record the narrowest safe repair of `reference`; False when its owner must go."""
        path = reference.path
        because = f"{_describe(reference)} uses {target}; {reason}"
        if reference.kind == "DependsOn":
            self.remove_list_entry(path, f"dependency on removed {target} dropped: {reason}", drop_empty=True)
            return True
        if self.on_reference == "remove":
            return False
        keys = [p for p in path if isinstance(p, str)]
        if any(key in _WIDENING_KEYS for key in keys):
            return False
        return (
            self.repair_identity_provider(reference, because)
            or self.user_pool_setting(reference) and self.repair_if_branch(reference, because)
            or self.lift_data_reference(reference, target, because)
            or self.repair_if_branch(reference, because)
            or self.repair_policy(path, because)
        )

    def lift_data_reference(self, reference: Reference, target: str, because: str) -> bool:
        """A reference that only carries data becomes a new Parameter of this template.

        Why: removing the owner (the default for other references) would take working
        parts of the application with it because one *value* went away: a function whose
        environment names a Cognito pool, a nested backend stack that takes the pool id
        (Panther's stacks), a custom resource told an endpoint.  The hand ports keep such
        owners and ask for the value at deploy time; so does this.  Data positions:
        nested-stack parameters, environment variables, tags, custom-resource properties
        and authorizer ARNs of API definitions (`data_position`).  One parameter stands for
        each removed value (target and attribute), shared by every place that used it.
        """
        path = reference.path
        resource = self.model["Resources"].get(path[1])
        if not isinstance(resource, dict):
            return False
        position = data_position(str(resource.get("Type", "")), path)
        if position is None:
            return False
        hint, site = position
        key = (reference.target, reference.attribute or "")
        parameter = self.lifted.get(key)
        stood_for = f"{reference.target}.{reference.attribute}" if reference.attribute else f"{reference.target} (its Ref)"
        if parameter is None:
            kind = self.value_kind(reference.target, reference.attribute)
            parameter = self.parameter_name(hint, reference.target, reference.attribute, kind)
            self.lifted[key] = parameter
            description = f"Supply the value of {stood_for}: this template no longer deploys it"
            if kind is not None:
                what, resource_type = kind
                description = (f"Supply the value of {stood_for[: -len(' (its Ref)')] if not reference.attribute else stood_for} "
                               f"({'its Ref: ' if not reference.attribute else ''}the {what} of an {resource_type}): this "
                               f"template no longer deploys it; give the {what} of one deployed elsewhere")
            self.plan.added[parameter] = {"Type": "String", "Description": description}
        self.lift_uses.setdefault(site or path, []).append((parameter, f"{path[1]}.{_describe(reference)}", because))
        if site is not None:  # the whole value (a nested stack's parameter)
            edit = Edit(site, "replace", self.rule, f"value now from parameter {parameter}: {because}", value={"Ref": parameter})
            self.plan.repairs[site] = edit
        elif reference.kind == "Sub":
            self.replace_in_sub(reference, parameter, because)
        else:
            edit = Edit(path, "replace", self.rule, f"value now from parameter {parameter}: {because}", value={"Ref": parameter})
            self.plan.repairs[path] = edit
        return True

    def value_kind(self, target: str, attribute: str | None) -> tuple[str, str] | None:
        """What a reference to the removed resource `target` gave (`UserPoolId`, `Arn`) and the resource's type.

        A Ref gives what the type's schema names as its primary identifier (a user pool's id,
        a pool client's id), a GetAtt its attribute; None for a nested stack's output or a
        type no schema describes.
        """
        resource = (self.model.get("Resources") or {}).get(target)
        resource_type = resource.get("Type") if isinstance(resource, dict) else None
        if not isinstance(resource_type, str) or resource_type in _NESTED_STACK_TYPES:
            return None
        what = attribute or ref_identifier(resource_type)
        return (what, resource_type) if what else None

    def parameter_name(self, hint: str, target: str, attribute: str | None, kind: tuple[str, str] | None = None) -> str:
        """A free parameter name after what the value stood for (`COGNITO_POOL_ID` -> `CognitoPoolId`).

        The names taken are gathered once and grow with each new parameter (a set built
        per call made thousands of lifted values quadratic).
        """
        if self.taken is None:
            self.taken = set(self.model.get("Parameters") or {}) | set(self.model.get("Resources") or {})
        taken = self.taken
        if not hint and kind is not None and not attribute:  # the last word of what a Ref gives: PoolId, not PoolRef
            hint = target + (re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", kind[0]) or ["Ref"])[-1]
        name = self._free_name(hint, target, attribute, taken)
        taken.add(name)
        return name

    @staticmethod
    def _free_name(hint: str, target: str, attribute: str | None, taken: set[str]) -> str:
        base = _pascal(hint) or f"{target}{_pascal(attribute or '') or 'Ref'}"
        for candidate in (base, f"{target}{base}" if not base.startswith(target) else base):
            if candidate not in taken:
                return candidate
        number = 2
        while f"{base}{number}" in taken:
            number += 1
        return f"{base}{number}"

    def replace_in_sub(self, reference: Reference, parameter: str, because: str) -> None:
        """`${Target}` / `${Target.Attr}` inside a Fn::Sub string becomes `${Parameter}`."""
        path = reference.path
        previous = self.plan.repairs.get(path)
        text = previous.value if previous is not None else _get(self.model, path)
        fragments = previous.fragments if previous is not None else ()
        name = f"{reference.target}.{reference.attribute}" if reference.attribute else reference.target
        old, new = "${" + name + "}", "${" + parameter + "}"
        if not isinstance(text, str) or old not in text:
            return
        edit = Edit(path, "replace", self.rule, f"value now from parameter {parameter}: {because}",
                    value=text.replace(old, new), fragments=fragments + ((old, new),))
        self.plan.repairs[path] = edit

    def user_pool_setting(self, reference: Reference) -> bool:
        """The reference tells a resource the user pool it works with (`_USER_POOL_SETTINGS`): an optional
        Fn::If branch holding it becomes AWS::NoValue before the value would be lifted to a parameter."""
        resource = self.model["Resources"].get(reference.path[1])
        marker = _USER_POOL_SETTINGS.get(str(resource.get("Type"))) if isinstance(resource, dict) else None
        return marker is not None and marker in reference.path

    def repair_identity_provider(self, reference: Reference, because: str) -> bool:
        """A removed user pool (or its client) in an identity pool's `CognitoIdentityProviders` drops that provider.

        Keep what can live: the identity pool stays (cn-north-1 has identity pools) when
        another way in remains (unauthenticated identities, another provider, login,
        OpenID Connect or SAML providers, a developer provider); this only narrows who gets
        credentials.  Without one, the pool is removed as before.
        """
        path = reference.path
        if len(path) >= 5 and path[2:4] == ("Properties", "RoleMappings") and isinstance(path[4], str):
            return self.repair_role_mapping(reference, because)
        if len(path) < 6 or path[2:4] != ("Properties", "CognitoIdentityProviders") or not isinstance(path[4], int):
            return False
        resource = self.model["Resources"].get(path[1])
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Cognito::IdentityPool":
            return False
        properties = resource.get("Properties") or {}
        providers_path = path[:4]
        others = any(properties.get(key) not in (None, False, [], {}) for key in _IDENTITY_POOL_WAYS_IN)
        if not others and self.remaining(providers_path, properties.get("CognitoIdentityProviders")) <= 1 and path[:5] not in self.removed_paths:
            return False
        self.remove_list_entry(path[:5], f"identity provider dropped (narrows who gets credentials): {because}", drop_empty=True)
        return True

    def repair_role_mapping(self, reference: Reference, because: str) -> bool:
        """An identity pool role attachment's role mapping for a removed provider goes (the pool's default roles stay)."""
        path = reference.path
        resource = self.model["Resources"].get(path[1])
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Cognito::IdentityPoolRoleAttachment":
            return False
        mappings_path, entry = path[:4], path[:5]
        if entry in self.removed_paths or mappings_path in self.removed_paths:
            return True
        reason = f"role mapping dropped (its identity provider is gone): {because}"
        if self.remaining(mappings_path, _get(self.model, mappings_path)) <= 1:
            self.add_removal(mappings_path, reason)  # RoleMappings is optional
        else:
            self.add_removal(entry, reason)
        return True

    def repair_if_branch(self, reference: Reference, because: str) -> bool:
        path = reference.path
        for index in range(len(path) - 2, 1, -1):
            if path[index] == "Fn::If" and path[index + 1] in (1, 2):
                holder = path[:index]
                branch = path[: index + 2]
                resource = self.model["Resources"][path[1]]
                top_level_optional = (
                    len(holder) == 4 and holder[2] == "Properties" and holder[3] not in self.required(str(resource.get("Type")))
                )
                if top_level_optional or isinstance(holder[-1], int):
                    edit = Edit(branch, "replace", self.rule, f"branch becomes AWS::NoValue: {because}", value={"Ref": "AWS::NoValue"})
                    self.plan.repairs[branch] = edit
                    return True
                return False
        return False

    def repair_policy(self, path: JsonPath, because: str) -> bool:
        for index in range(len(path) - 1, 0, -1):
            if path[index - 1] == "Statement" and isinstance(path[index], int):
                statement_path = path[: index + 1]
                statement = _get(self.model, statement_path)
                if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                    return False
                rest = path[index + 1 :]
                if rest and rest[0] == "Resource" and len(rest) > 1 and isinstance(rest[1], int):
                    entries = statement["Resource"]
                    entry_path = statement_path + ("Resource", rest[1])
                    if self.remaining(statement_path + ("Resource",), entries) > 1 or entry_path in self.removed_paths:
                        self.remove_list_entry(entry_path, f"policy resource dropped (narrows permissions): {because}")
                        return True
                statements_path = statement_path[:-1]
                if self.remaining(statements_path, _get(self.model, statements_path)) > 1 or statement_path in self.removed_paths:
                    self.remove_list_entry(statement_path, f"policy statement dropped (narrows permissions): {because}")
                    return True
                return self.drop_inline_policy(statements_path, because)
        return False

    def drop_inline_policy(self, statements_path: JsonPath, because: str) -> bool:
        """Drop the inline policy (`Policies[i]`) whose last statement goes; else the owner goes."""
        for index in range(len(statements_path) - 1, 0, -1):
            if statements_path[index - 1] == "Policies" and isinstance(statements_path[index], int):
                policy_path = statements_path[: index + 1]
                self.remove_list_entry(policy_path, f"inline policy dropped (narrows permissions): {because}", drop_empty=True)
                return True
        return False

    def remaining(self, list_path: JsonPath, entries: Any) -> int:
        count = len(entries) if isinstance(entries, list) else 1
        return count - len(self.removed_entries.get(list_path, ()))

    def remove_list_entry(self, entry_path: JsonPath, reason: str, *, drop_empty: bool = False) -> None:
        list_path = entry_path[:-1] if isinstance(entry_path[-1], int) else entry_path
        container = _get(self.model, list_path)
        if not isinstance(container, list):  # a single value (DependsOn: X): drop the key
            self.add_removal(list_path, reason)
            return
        if entry_path in self.removed_paths:
            return
        if drop_empty and self.remaining(list_path, container) <= 1:
            for path in self.removed_entries.pop(list_path, set()):
                self.removed_paths.discard(path)
                self.plan.repairs.pop(path, None)
            self.add_removal(list_path, reason)
            return
        self.add_removal(entry_path, reason)

    def add_removal(self, path: JsonPath, reason: str) -> None:
        self.removed_paths.add(path)
        self.removed_entries.setdefault(path[:-1], set()).add(path)
        self.plan.repairs[path] = Edit(path, "remove", self.rule, reason)

    # -- edits ----------------------------------------------------------------------------

    def edits(self) -> list[Edit]:
        plan = self.plan
        gone = {("Resources", r) for r in plan.resources} | {("Outputs", o) for o in plan.outputs}
        repairs = [  # a repair inside something removed anyway is not needed (prefix lookups: linear)
            edit for path, edit in plan.repairs.items()
            if path[:2] not in gone and not any(path[:length] in self.removed_paths for length in range(1, len(path)))
        ]
        replaces = [e for e in repairs if e.op == "replace"]
        removals = sorted((e for e in repairs if e.op == "remove"), key=lambda e: _sort_key(e.path), reverse=True)
        uses = [use for e in replaces for use in self.lift_uses.get(e.path, ())]
        used = {parameter for parameter, _, _ in uses}
        added = {name: spec for name, spec in plan.added.items() if name in used}
        uses_of: dict[str, list[tuple[str, str]]] = {}
        for parameter, site, why in uses:
            uses_of.setdefault(parameter, []).append((site, why))
        self.lift_warnings = [Finding(("Parameters", name), _lift_message(name, uses_of[name]), self.rule) for name in added]
        if added and "Parameters" not in self.model:
            result = [Edit(("Parameters",), "add", self.rule, "parameters for values removed stacks no longer provide", value=added)]
        else:
            result = [Edit(("Parameters", name), "add", self.rule, spec["Description"], value=spec) for name, spec in added.items()]
        result += replaces + removals
        outputs = self.model.get("Outputs") or {}
        if plan.outputs and len(plan.outputs) == len(outputs):
            result.append(Edit(("Outputs",), "remove", self.rule, "; ".join(plan.outputs.values())))
        else:
            result += [Edit(("Outputs", name), "remove", self.rule, reason) for name, reason in plan.outputs.items()]
        result += [Edit(("Resources", rid), "remove", self.rule, reason) for rid, reason in plan.resources.items()]
        return result


#: what lets an identity pool hand out credentials besides its Cognito user-pool providers
_IDENTITY_POOL_WAYS_IN = ("AllowUnauthenticatedIdentities", "SupportedLoginProviders", "OpenIdConnectProviderARNs",
                          "SamlProviderARNs", "DeveloperProviderName")
#: where a resource is told a user pool it works with: the value is kept as a parameter and the resource, which
#: cannot work without a pool China lacks, is a blocker (report/blockers.py) instead of being removed with its users.
#: (An AppSync API authenticated by a user pool is removed as before: Panther's China pack moves it to the web half.)
_USER_POOL_SETTINGS = {
    "AWS::ApiGateway::Authorizer": "ProviderARNs",
    "AWS::ApiGatewayV2::Authorizer": "JwtConfiguration",
    "AWS::OpenSearchService::Domain": "CognitoOptions",
    "AWS::Elasticsearch::Domain": "CognitoOptions",
    "AWS::ElasticLoadBalancingV2::Listener": "AuthenticateCognitoConfig",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "AuthenticateCognitoConfig",
}
#: Resources whose `Parameters` are the values a nested stack's parameters get: data, like a Lambda's environment
#: (a SAM application with a local `Location` becomes an AWS::CloudFormation::Stack when packaged)
_NESTED_STACK_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


def data_position(resource_type: str, path: JsonPath) -> tuple[str, JsonPath | None] | None:
    """Whether a reference at `path` only carries data; then (a name hint, the whole-value site).

    The site is the path of the whole value to replace (a nested stack's parameter), or
    None when only the reference itself is replaced (`!Ref X` inside an environment
    variable, `${X}` inside a Fn::Sub).  None overall: the owner cannot exist without it.
    """
    meaning = semantic_path(path)
    if len(meaning) < 4 or meaning[2] != "Properties":
        return None
    props = meaning[3:]
    keys = [part for part in props if isinstance(part, str)]
    if resource_type in _NESTED_STACK_TYPES and props[0] == "Parameters" and len(props) > 1:
        return str(props[1]), path[:5]
    if "Environment" in keys[:-1] or props[0] == "Tags":
        return _entry_name(props), None
    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        return (None if props[0] == "ServiceToken" else (keys[-1], None))
    if props[0] in ("Body", "DefinitionBody") and "x-amazon-apigateway-authorizer" in keys:
        return "", None  # named after what the value is: a pool's id or ARN (`value_kind`)
    if _USER_POOL_SETTINGS.get(resource_type) in keys:
        return ("" if keys[-1] == "ProviderARNs" else keys[-1]), None
    if props[:2] == ("Auth", "Authorizers") and len(props) > 3:  # a SAM Cognito authorizer's UserPoolArn; else by what it holds
        return (f"{props[2]}{props[3]}" if props[3] == "UserPoolArn" else ""), None
    return None


def _entry_name(props: JsonPath) -> str:
    """The name of a data entry: a map key (`Variables.COGNITO_POOL_ID`), or a `{Name|Key, Value}` item's name."""
    last = props[-1]
    return str(last) if last not in ("Value",) else ""


def _pascal(text: str) -> str:
    """`COGNITO_POOL_ID` -> `CognitoPoolId`, `collectionEndpoint` -> `CollectionEndpoint`."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    return "".join(w[:1].upper() + (w[1:].lower() if w.isupper() else w[1:]) for w in words)


def _lift_message(parameter: str, uses: list[tuple[str, str]]) -> str:
    sites = ", ".join(sorted({site for site, _ in uses}))
    why = uses[0][1] if uses else ""
    message = f"new parameter {parameter}, used by {sites}: {why}; supply it when deploying"
    if any(".Auth.Authorizers." in site or "authorizer" in site.lower() or "ProviderARNs" in site for site, _ in uses):
        message += (" (Cognito user-pool authorizers are not supported in China: replace the authorizer with IAM "
                    "authorization, a Lambda authorizer, or an identity provider outside China)")
    return message


def apply_removal(
    log: EditLog,
    rule: str,
    initial: dict[str, str],
    *,
    on_reference: OnReference,
    required: Callable[[str], frozenset[str]],
) -> list[Finding]:
    """Remove `initial` (id -> reason) through `log`, with every repair; the findings on the way.

    One reference graph serves the whole removal: the log's (shared with the rules
    before, when they did not edit), for the names used before, the plan, and (with the
    plan's edits) the names used after; no second walk of the template.
    """
    if not initial:
        return []
    before = log.model
    graph = log.graph()
    findings: list[Finding] = []
    edits = plan_removal(before, initial, rule=rule, on_reference=on_reference, required=required, warnings=findings, graph=graph)
    used_after = names_used_after(graph, edits)
    for edit in edits:
        log.apply(edit)
    if used_after is None:  # the edits wrote values that need their surroundings: the log's graph of the result, kept for the next rule
        used_after = log.names_used()
    findings += unused_after(graph.names_used(), log.model, rule, used_after)
    if not log.model.get("Resources"):
        findings.append(Finding(("Resources",), "every resource was removed; CloudFormation needs at least one", rule))
    return findings


def names_used_after(graph: ReferenceGraph, edits: list[Edit]) -> set[str] | None:
    """The names still used once `edits` (from `plan_removal` on the graph's model) are applied.

    Equal to `build_graph(after).names_used()` for the Parameters and Conditions that
    `unused_after` asks about, without walking the template again: a reference survives
    unless an edit removed or replaced a value on its path (every path of a plan is in the
    graph's coordinates), and the values the edits write bring their own references.
    None when a written value needs its surroundings to tell (`graph.names_in_values`).
    """
    written = names_in_values([(edit.path, edit.value) for edit in edits if edit.op != "remove"])
    if written is None:
        return None
    cut = {edit.path for edit in edits if edit.op != "add"}
    used = {
        reference.target for reference in graph.references
        if not any(reference.path[:length] in cut for length in range(1, len(reference.path) + 1))
    }
    return used | written


def unused_after(used_before: set[str], after: dict[str, Any], rule: str, used_after: set[str]) -> list[Finding]:
    """Parameters and Conditions that had users before (`used_before`, from the graph before the removal) and have none after.

    `used_after`: the names `after` uses (`names_used_after`, `EditLog.names_used`).
    """
    warnings = []
    for section in ("Parameters", "Conditions"):
        for name in after.get(section) or {}:
            if name in used_before and name not in used_after:
                kind = section[:-1].lower()
                warnings.append(Finding((section, name), f"{kind} {name} is no longer used after removals; kept, since callers may still pass or expect it", rule))
    return warnings


def _describe(reference: Reference) -> str:
    meaning = semantic_path(reference.path)[2:]
    where = ".".join(str(p) for p in meaning) or reference.kind
    return where


def _get(model: Any, path: JsonPath) -> Any:
    for part in path:
        model = model[part]
    return model


def _sort_key(path: JsonPath) -> tuple[tuple[bool, Any], ...]:
    return tuple((isinstance(p, int), p) for p in path)
