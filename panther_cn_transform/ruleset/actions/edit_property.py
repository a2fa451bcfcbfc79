"""`edit_property`: services China has, but whose resources accept different properties."""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...model.edits import Edit, EditLog, JsonPath
from ...model.intrinsics import intrinsic_name
from ...model.property_paths import Place, is_literal, nested, parse, resolve
from ...model.sam import globals_section, implicit_events
from ...model.walk import is_sub_template
from ...partitions.region_data import load_region_data
from ..findings import Finding
from ..removal import plan_removal, unused_after
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

_SUB_ATTRIBUTE = re.compile(r"\$\{([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}")
#: the `then` values that remove something, after which parameters and conditions may be left unused
_REMOVING = frozenset({"rename", "remove", "remove_resource"})


class EditProperty:
    """Test a property of matching resources; then `set`, `replace`, `rename`, `remove` or `warn`.

    **Which resources.** `resource_types` (type globs); optionally `logical_ids` (globs),
    `only_with` (property paths of which the resource must set at least one) and `where`
    (tests on other properties that must all hold: `{property: Runtime, matches: ^python}`,
    tests as in `when`).  A SAM
    type (`AWS::Serverless::Api`) also covers its `Globals` section (`Globals.Api`): a
    resource that does not set the property inherits it from there, and when the template
    has an implicit API (a function event of type `Api` without `RestApiId`),
    `Globals.Api` is where the rule tests and sets it.

    **Which property.** `properties`: paths below `Properties`, dot-separated, `*` for any
    key or list item (`DistributionConfig.CacheBehaviors.*.LambdaFunctionAssociations`).
    Each `Fn::If` branch is tested on its own; `!Ref AWS::NoValue` and an empty list or
    mapping count as absent.

    **When.** `when`: a list of tests, any of which selects the property: `absent: true`,
    `present: true`, `equals: V`, `in: [V, ...]`, `not_in: [V, ...]`, `contains: V` (a list
    holding V), `matches: REGEX`, `openapi_unsigned: true` (an OpenAPI definition with an
    operation IAM does not protect, `openapi_unsigned`); to `equals`, `in` and `not_in` an absent property is
    `null` (`in: [null, EDGE]` is "unset or EDGE").  Default: `present: true`.  A value only known at deploy
    time (`!Ref Parameter`) cannot be tested: with `unknown: warn` (the default) it is a
    warning, with `unknown: ignore` it is left alone.

    **Then.** `then` is one of:

    * `set` - the property becomes `value` (added, with any missing parent mappings, if absent);
    * `replace` - a value found in `values` (old: new) is replaced, also inside a list;
    * `rename` - the property moves to the sibling key `to` (with `value` instead of its
      own value, if given); a sibling that already exists is a warning instead;
    * `remove` - the property is removed; parameters and conditions it was the last user
      of are reported;
    * `remove_resource` - the resource is removed, and every reference to it repaired or
      removed in turn by the removal planner (`on_reference: repair | remove`, as for
      `remove_unsupported`): for a resource China cannot create with that value;
    * `replace_attributes` - `Fn::GetAtt` (and `${X.Attr}` in `Fn::Sub`) inside the value
      use the new attribute names of `attributes` (old: new);
    * `warn` - nothing changes; `message` is reported at the property.

    With a change, `message` (if given) is reported too, `parameters` (template
    parameters, in long form) are added for the values that now come from them, and
    `rename_references` (old: new attribute names) renames every `Fn::GetAtt` of the
    changed resource elsewhere in the template, for attributes the change retires.

    A rule for another service difference, e.g. a feature China's Lambda has for Java but
    not for Python:

        - id: lambda-snapstart-python
          description: SnapStart for Python is not available in the China Regions.
          source_url: https://docs.amazonaws.cn/aws/latest/userguide/lambda.html
          action: edit_property
          resource_types: [AWS::Lambda::Function, AWS::Serverless::Function]
          where: [{property: Runtime, matches: ^python}]
          properties: [SnapStart]
          then: remove
          message: SnapStart is not available for Python in China; cold starts are slower
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="edit_property",
        why=(
            'Removing the types a region lacks and moving ARNs and endpoints is half of a port. The other half is '
            'services that exist in China but behave differently, the most reported China deployment failure in '
            'public projects: API Gateway has no edge-optimized endpoints (`Endpoint Configuration type EDGE is '
            'not supported in this region: cn-north-1`, also the default when a REST API sets no endpoint type), '
            'CloudFront cannot use ACM certificates, Lambda@Edge or Origin Access Control and cannot serve '
            'content from its default domain. cfn-lint accepts all of these for cn-north-1. Each difference is '
            'one rule in the pack (which resources, which property, which values, and what to do), so the next '
            'difference China has needs a rule, not code.'
        ),
        safety=(
            'Changes only the properties a rule names, in the resources it names. A value known only at deploy '
            'time is reported, not guessed. `remove` reports the parameters and conditions it leaves unused; the '
            'China pack removes only what narrows access or changes no behaviour (Origin Access Control ids, '
            'Origin Shield) and warns about the rest (Lambda@Edge, CloudFront Functions, WAF), which may enforce '
            'access.'
        ),
        params=(
            Param('resource_types', 'Resource type globs the rule applies to; a SAM type also covers its Globals section and implicit resources', {'type': 'array', 'minItems': 1, 'items': {'type': 'string', 'minLength': 1}}, required=True),
            Param('logical_ids', 'Only resources whose logical id matches one of these globs', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}),
            Param('only_with', 'Only resources that set at least one of these properties', {'type': 'array', 'items': {'type': 'string', 'pattern': '^[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*$'}}),
            Param('where', 'Tests on other properties of the resource that must all hold', {'type': 'array', 'items': {'type': 'object', 'required': ['property'], 'minProperties': 2, 'maxProperties': 2, 'additionalProperties': False, 'properties': {'property': {'title': 'Property path below Properties', 'type': 'string', 'pattern': '^[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*$'}, 'absent': {'title': 'The property is missing, !Ref AWS::NoValue, or an empty list or mapping', 'type': 'boolean'}, 'present': {'title': 'The property is set (to anything, a deploy-time value included)', 'type': 'boolean'}, 'equals': {'title': 'The value is exactly this (null: the property is absent)'}, 'in': {'title': 'The value is one of these (null: the property is absent)', 'type': 'array'}, 'not_in': {'title': 'The value is none of these (null: the property is absent)', 'type': 'array'}, 'contains': {'title': 'The value is a list holding this'}, 'matches': {'title': 'The value is a string matching this Python regular expression', 'type': 'string', 'format': 'regex'}, 'openapi_unsigned': {'title': 'The value is an OpenAPI definition with an operation (CORS preflight OPTIONS aside) that IAM (SigV4, x-amazon-apigateway-authtype awsSigv4) does not protect; an absent definition, a location or an unreadable security setting counts as unprotected', 'type': 'boolean'}}}}),
            Param('properties', 'Property paths below Properties: dot-separated, * for any key or list item', {'type': 'array', 'minItems': 1, 'items': {'type': 'string', 'pattern': '^[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*$'}}, required=True),
            Param('when', 'Tests, any of which selects the property (default: present)', {'type': 'array', 'minItems': 1, 'items': {'type': 'object', 'minProperties': 1, 'maxProperties': 1, 'additionalProperties': False, 'properties': {'absent': {'title': 'The property is missing, !Ref AWS::NoValue, or an empty list or mapping', 'type': 'boolean'}, 'present': {'title': 'The property is set (to anything, a deploy-time value included)', 'type': 'boolean'}, 'equals': {'title': 'The value is exactly this (null: the property is absent)'}, 'in': {'title': 'The value is one of these (null: the property is absent)', 'type': 'array'}, 'not_in': {'title': 'The value is none of these (null: the property is absent)', 'type': 'array'}, 'contains': {'title': 'The value is a list holding this'}, 'matches': {'title': 'The value is a string matching this Python regular expression', 'type': 'string', 'format': 'regex'}, 'openapi_unsigned': {'title': 'The value is an OpenAPI definition with an operation (CORS preflight OPTIONS aside) that IAM (SigV4, x-amazon-apigateway-authtype awsSigv4) does not protect; an absent definition, a location or an unreadable security setting counts as unprotected', 'type': 'boolean'}}}}),
            Param('then', 'What to do with a selected property', {'enum': ['set', 'replace', 'rename', 'remove', 'remove_resource', 'replace_attributes', 'warn']}, default='warn'),
            Param('value', 'set: the new value; rename: the value under the new key (default: the old value)', {}),
            Param('values', 'replace: old value -> new value', {'type': 'object', 'minProperties': 1}),
            Param('to', 'rename: the sibling key the property moves to', {'type': 'string', 'minLength': 1}),
            Param('attributes', 'replace_attributes: old GetAtt attribute -> new', {'type': 'object', 'minProperties': 1, 'additionalProperties': {'type': 'string'}}),
            Param('rename_references', 'After a change: GetAtt attributes of the changed resource to rename everywhere (old -> new)', {'type': 'object', 'additionalProperties': {'type': 'string'}}),
            Param('parameters', 'After a change: template parameters (long form) the new values use', {'type': 'object'}),
            Param('message', 'Warning reported at the property (warn, and every change)', {'type': 'string', 'minLength': 1}),
            Param('reason', "Why, for the report (default: the description's first sentence)", {'type': 'string'}),
            Param('unknown', 'A value known only at deploy time: warn, or ignore', {'enum': ['warn', 'ignore']}, default='warn'),
            Param('on_reference', 'remove_resource: repair references (drop DependsOn entries, outputs, Allow-statement entries, optional If branches) or remove every referencing resource', {'enum': ['repair', 'remove']}, default='repair'),
        ),
        example=(
            'Resources:\n'
            '  Api:\n'
            '    Type: AWS::ApiGateway::RestApi\n'
            '    Properties:\n'
            '      Name: images\n'
            '  Cdn:\n'
            '    Type: AWS::CloudFront::Distribution\n'
            '    Properties:\n'
            '      DistributionConfig:\n'
            '        Enabled: true\n'
            '        PriceClass: PriceClass_100\n'
            '        Origins:\n'
            '          - Id: api\n'
            '            DomainName: !Sub ${Api}.execute-api.${AWS::Region}.amazonaws.com\n'
            '            CustomOriginConfig: {OriginProtocolPolicy: https-only}\n'
            '        DefaultCacheBehavior:\n'
            '          TargetOriginId: api\n'
            '          ViewerProtocolPolicy: https-only\n'
            '          ForwardedValues: {QueryString: false}\n'
        ),
        schema_extra={'allOf': [{'if': {'properties': {'then': {'const': 'set'}}, 'required': ['then']}, 'then': {'required': ['value']}}, {'if': {'properties': {'then': {'const': 'replace'}}, 'required': ['then']}, 'then': {'required': ['values']}}, {'if': {'properties': {'then': {'const': 'rename'}}, 'required': ['then']}, 'then': {'required': ['to']}}, {'if': {'properties': {'then': {'const': 'replace_attributes'}}, 'required': ['then']}, 'then': {'required': ['attributes']}}]},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        run = _Run(log, rule, _Spec.of(rule), context.region)
        run.globals_sections()
        run.resources()
        return run.finish()


@dataclass(frozen=True)
class _Spec:
    """A rule's parameters, read once."""

    types: tuple[str, ...]
    logical_ids: tuple[str, ...]
    only_with: tuple[tuple[str, ...], ...]
    where: tuple[tuple[tuple[str, ...], Mapping[str, Any]], ...]
    properties: tuple[tuple[str, ...], ...]
    when: tuple[Mapping[str, Any], ...]
    then: str
    params: Mapping[str, Any]
    because: str

    @classmethod
    def of(cls, rule: BoundRule) -> _Spec:
        params = rule.params
        return cls(
            types=tuple(str(t) for t in params.get("resource_types") or ()),
            logical_ids=tuple(str(i) for i in params.get("logical_ids") or ()),
            only_with=tuple(parse(str(p)) for p in params.get("only_with") or ()),
            where=tuple(
                (parse(str(w["property"])), {k: v for k, v in w.items() if k != "property"}) for w in params.get("where") or ()
            ),
            properties=tuple(parse(str(p)) for p in params.get("properties") or ()),
            when=tuple(params.get("when") or ({"present": True},)),
            then=str(params.get("then") or "warn"),
            params=params,
            because=str(params.get("reason") or _first_sentence(rule.description)),
        )

    def selects(self, resource_type: str, logical_id: str | None) -> bool:
        if not _type_matches(self.types, resource_type):
            return False
        if self.logical_ids:
            return logical_id is not None and any(fnmatch.fnmatchcase(logical_id, glob) for glob in self.logical_ids)
        return True


@functools.lru_cache(maxsize=4096)
def _type_matches(globs: tuple[str, ...], resource_type: str) -> bool:
    """Cached: a template repeats a few types many times, and every rule asks about each."""
    return any(fnmatch.fnmatchcase(resource_type, glob) for glob in globs)


@dataclass
class _Run:
    """One application of one rule to one template."""

    log: EditLog
    rule: BoundRule
    spec: _Spec
    region: str
    warnings: list[Finding] = field(default_factory=list)
    doomed: dict[str, str] = field(default_factory=dict)  # remove_resource: logical id -> reason
    changed: set[str] = field(default_factory=set)  # logical ids whose properties changed
    any_change: bool = False
    removed_something: bool = False
    used_before: set[str] | None = None  # names used before this rule's first edit (the log's graph: shared)

    # -- targets ----------------------------------------------------------------------------

    def globals_sections(self) -> None:
        """`Globals.<Section>` of each SAM type the rule names (first: resources inherit from it)."""
        if self.spec.logical_ids:
            return  # Globals belong to no logical id
        for resource_type in self.spec.types:
            section = globals_section(resource_type)
            if section is None or not self.spec.selects(resource_type, None):
                continue
            implicit = implicit_events(self.log.model, section)
            has_section = isinstance((self.log.model.get("Globals") or {}).get(section), dict)
            if not implicit and not has_section:
                continue
            base: tuple[str, ...] = ("Globals", section)
            if not self._applies(self.log.model, (), base):
                continue
            for parts in self.spec.properties:
                for place in reversed(list(resolve(self.log.model, (), base + parts))):
                    if place.state == "absent" and not implicit:
                        continue  # explicit resources without the property are handled one by one
                    where = place.path if has_section or not implicit else implicit[0]
                    self.handle(place, parts, None, where)

    def resources(self) -> None:
        resources = self.log.model.get("Resources") or {}
        by_type = self.log.resources_by_type()  # only the resources of the rule's types, in document order
        chosen = {logical_id for kind, ids in by_type.items() if _type_matches(self.spec.types, kind) for logical_id in ids}
        if not chosen:
            return
        for logical_id, resource in [(logical_id, resources[logical_id]) for logical_id in resources if logical_id in chosen]:
            resource_type = resource["Type"]
            if not self.spec.selects(resource_type, str(logical_id)):
                continue
            base: JsonPath = ("Resources", logical_id)
            section = globals_section(resource_type) if resource_type in self.spec.types else None
            if not self._applies(resource, base, ("Properties",), section):
                continue
            for parts in self.spec.properties:
                current = self.log.get(base)
                for place in reversed(list(resolve(current, base, ("Properties",) + parts))):
                    if place.state == "absent" and section and self._inherited(section, parts):
                        continue
                    self.handle(place, parts, str(logical_id), place.path)

    def _applies(self, node: Any, base: JsonPath, prefix: tuple[str, ...], section: str | None = None) -> bool:
        """`only_with` and `where` hold for the resource (or Globals section) at `base`.

        A SAM resource's property that it does not set is read from its Globals `section`.
        A `where` property known only at deploy time is reported when the rule would
        otherwise act on the resource.
        """
        if self.spec.only_with and not any(
            place.state != "absent" for parts in self.spec.only_with for place in self._places(node, base, prefix, parts, section)
        ):
            return False
        for parts, test in self.spec.where:
            places = self._places(node, base, prefix, parts, section)
            outcomes = [_select((test,), place) for place in places]
            if any(outcomes):
                continue
            unknown = next((place for place, outcome in zip(places, outcomes) if outcome is None), None)
            if unknown is not None and self.spec.params.get("unknown", "warn") == "warn" and self._would_act(node, base, prefix):
                self.warn(unknown.path, f"{'.'.join(parts)} is only known at deploy time ({_show(unknown.value)}), so "
                                        f"whether this applies cannot be told; {self.message()}")
            return False
        return True

    def _places(self, node: Any, base: JsonPath, prefix: tuple[str, ...], parts: tuple[str, ...], section: str | None) -> list[Place]:
        places = list(resolve(node, base, prefix + parts))
        if section and all(place.state == "absent" for place in places) and self._inherited(section, parts):
            places = list(resolve(self.log.model, (), ("Globals", section) + parts))
        return places

    def _would_act(self, node: Any, base: JsonPath, prefix: tuple[str, ...]) -> bool:
        return any(
            _select(self.spec.when, place) is not False
            for parts in self.spec.properties
            for place in resolve(node, base, prefix + parts)
        )

    def _inherited(self, section: str, parts: tuple[str, ...]) -> bool:
        return any(place.state != "absent" for place in resolve(self.log.model, (), ("Globals", section) + parts))

    # -- one place --------------------------------------------------------------------------

    def handle(self, place: Place, parts: tuple[str, ...], logical_id: str | None, where: JsonPath) -> None:
        selected = _select(self.spec.when, place)
        prop = ".".join(parts)
        if selected is None:
            if self.spec.params.get("unknown", "warn") == "warn":
                self.warn(where, f"{prop} is only known at deploy time ({_show(place.value)}); {self.message()}")
            return
        if not selected:
            return
        changed = getattr(self, f"do_{self.spec.then}")(place, prop, where)
        if changed:
            self.any_change = True
            if logical_id is not None:
                self.changed.add(logical_id)
            if self.spec.params.get("message"):
                self.warn(where, str(self.spec.params["message"]))

    def do_warn(self, place: Place, prop: str, where: JsonPath) -> bool:
        self.warn(where, self.message())
        return False

    def do_set(self, place: Place, prop: str, where: JsonPath) -> bool:
        value = self.spec.params.get("value")
        if place.state == "present" and place.value == value:
            return False
        self.put(place, value, f"{prop} set to {_show(value)}: {self.spec.because}")
        return True

    def do_replace(self, place: Place, prop: str, where: JsonPath) -> bool:
        table: Mapping[str, Any] = self.spec.params.get("values") or {}
        value = place.value
        if isinstance(value, list):
            new: Any = [table.get(item, item) if isinstance(item, str) else item for item in value]
        elif isinstance(value, str):
            new = table.get(value, value)
        else:
            return False
        if new == value:
            return False
        self.apply(Edit(place.path, "replace", self.rule.id, f"{prop} {_show(value)} -> {_show(new)}: {self.spec.because}", value=new))
        return True

    def do_rename(self, place: Place, prop: str, where: JsonPath) -> bool:
        if place.state == "absent" or not isinstance(place.path[-1], str):
            return False
        to = str(self.spec.params["to"])
        sibling = place.path[:-1] + (to,)
        if self.log.exists(sibling):
            self.warn(where, f"{prop} and {to} are both set; {self.message()}")
            return False
        value = self.spec.params.get("value", place.value)
        self.apply(Edit(place.path, "remove", self.rule.id, f"{prop} replaced by {to}: {self.spec.because}"))
        self.apply(Edit(sibling, "add", self.rule.id, f"{to} replaces {prop}: {self.spec.because}", value=value))
        self.removed_something = True
        return True

    def do_remove(self, place: Place, prop: str, where: JsonPath) -> bool:
        if place.state == "absent" and not self.log.exists(place.path):
            return False
        self.apply(Edit(place.path, "remove", self.rule.id, f"{prop} removed: {self.spec.because}"))
        self.removed_something = True
        return True

    def do_remove_resource(self, place: Place, prop: str, where: JsonPath) -> bool:
        if place.path[0] != "Resources":
            self.warn(where, f"{prop} is set in Globals: remove the resources that use it by hand; {self.message()}")
            return False
        logical_id = str(place.path[1])
        self.doomed.setdefault(logical_id, f"{logical_id} removed: {prop} {_show(place.value)}: {self.spec.because}")
        return True

    def do_replace_attributes(self, place: Place, prop: str, where: JsonPath) -> bool:
        table: Mapping[str, str] = self.spec.params.get("attributes") or {}
        edits = attribute_edits(place.value, place.path, table, self.rule.id, f"{prop}: {self.spec.because}")
        for edit in edits:
            self.apply(edit)
        return bool(edits)

    # -- edits ------------------------------------------------------------------------------

    def put(self, place: Place, value: Any, reason: str) -> None:
        """Write `value` at `place`, adding the mappings on the way that do not exist."""
        path = place.path
        if self.log.exists(path):
            self.apply(Edit(path, "replace", self.rule.id, reason, value=value))
            return
        holder = path[: place.existing]
        if self.log.exists(holder) and isinstance(self.log.get(holder), dict) and intrinsic_name(self.log.get(holder)) is None:
            first = path[: place.existing + 1]
            self.apply(Edit(first, "add", self.rule.id, reason, value=nested(path[place.existing + 1 :], value)))
        else:  # `AWS::NoValue` (or nothing) where a mapping should be
            self.apply(Edit(holder, "replace", self.rule.id, reason, value=nested(path[place.existing :], value)))

    def apply(self, edit: Edit) -> None:
        if self.used_before is None and self.spec.then in _REMOVING:  # before its first edit: the model may change in place
            self.used_before = self.log.names_used()
        self.log.apply(edit)

    def warn(self, path: JsonPath, message: str) -> None:
        self.warnings.append(Finding(path, message, self.rule.id))

    def message(self) -> str:
        return str(self.spec.params.get("message") or self.spec.because)

    # -- after all places -------------------------------------------------------------------

    def finish(self) -> list[Finding]:
        self.changed -= set(self.doomed)
        if self.any_change:
            self.add_parameters()
            self.rename_references()
        if self.doomed:
            self.remove_resources()
        if self.removed_something and self.used_before is not None:  # set by the first edit of a removing rule
            self.warnings += unused_after(self.used_before, self.log.model, self.rule.id, self.log.names_used())
        return self.warnings

    def remove_resources(self) -> None:
        """The removal planner's edits for `remove_resource`: no reference left dangling, nothing widened."""
        required = load_region_data(self.region).required_properties
        on_reference = self.spec.params.get("on_reference", "repair")
        for edit in plan_removal(self.log.model, self.doomed, rule=self.rule.id, on_reference=on_reference,
                                 required=required, warnings=self.warnings, graph=self.log.graph()):
            self.apply(edit)
        self.removed_something = True

    def add_parameters(self) -> None:
        wanted: Mapping[str, Any] = self.spec.params.get("parameters") or {}
        for name, spec in wanted.items():
            existing = (self.log.model.get("Parameters") or {}).get(name)
            if existing == spec:
                continue
            if existing is not None:
                self.warn(("Parameters", name), f"parameter {name} already exists and differs from the rule's; kept")
                continue
            reason = f"new parameter {name}: {self.spec.because}"
            if "Parameters" not in self.log.model:
                self.apply(Edit(("Parameters",), "add", self.rule.id, reason, value={name: spec}))
            else:
                self.apply(Edit(("Parameters", name), "add", self.rule.id, reason, value=spec))
            self.warn(("Parameters", name), f"new parameter {name}: supply it when deploying ({self.message()})")

    def rename_references(self) -> None:
        table: Mapping[str, str] = self.spec.params.get("rename_references") or {}
        if not table or not self.changed:
            return
        graph = self.log.graph()
        for target in sorted(self.changed):
            for reference in graph.to(target):
                attribute = reference.attribute
                if attribute is None or attribute not in table:
                    continue
                where = reference.path
                because = f"{target} changed ({self.spec.because}), so its {attribute} is now {table[attribute]}"
                for edit in attribute_edits(self.log.get(where), where, table, self.rule.id, because, only=target):
                    self.apply(edit)


def attribute_edits(
    value: Any, path: JsonPath, table: Mapping[str, str], rule: str, reason: str, only: str | None = None
) -> list[Edit]:
    """Edits that rename the `Fn::GetAtt` attributes (and `${X.Attr}` in `Fn::Sub`) found in `value`.

    With `only`, just the references to that logical id.
    """
    edits: list[Edit] = []
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        here, node = stack.pop()
        name = intrinsic_name(node)
        if name == "Fn::GetAtt":
            edit = _getatt_edit(node["Fn::GetAtt"], here + ("Fn::GetAtt",), table, rule, reason, only)
            if edit is not None:
                edits.append(edit)
            continue
        if name == "Fn::Sub":
            arg = node["Fn::Sub"]
            text_path = here + ("Fn::Sub",) if isinstance(arg, str) else here + ("Fn::Sub", 0)
            text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else None)
            if text is not None:
                edit = _sub_edit(text, text_path, table, rule, reason, only)
                if edit is not None:
                    edits.append(edit)
            if isinstance(arg, list) and len(arg) == 2:
                stack.append((here + ("Fn::Sub", 1), arg[1]))
            continue
        if isinstance(node, str) and is_sub_template(here):
            edit = _sub_edit(node, here, table, rule, reason, only)  # a graph reference points at the Sub text itself
            if edit is not None:
                edits.append(edit)
            continue
        if isinstance(node, dict):
            stack.extend((here + (key,), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((here + (index,), child) for index, child in enumerate(node))
    return edits


def _getatt_edit(arg: Any, here: JsonPath, table: Mapping[str, str], rule: str, reason: str, only: str | None) -> Edit | None:
    if isinstance(arg, list) and len(arg) >= 2 and isinstance(arg[0], str) and isinstance(arg[1], str):
        if arg[1] in table and (only is None or arg[0] == only):
            return Edit(here + (1,), "replace", rule, reason, value=table[arg[1]])
    elif isinstance(arg, str) and "." in arg:
        target, attribute = arg.split(".", 1)
        if attribute in table and (only is None or target == only):
            return Edit(here, "replace", rule, reason, value=f"{target}.{table[attribute]}")
    return None


def _sub_edit(text: str, here: JsonPath, table: Mapping[str, str], rule: str, reason: str, only: str | None) -> Edit | None:
    fragments: list[tuple[str, str]] = []

    def swap(match: re.Match[str]) -> str:
        target, attribute = match.group(1), match.group(2)
        if attribute not in table or (only is not None and target != only):
            return match.group(0)
        new = f"${{{target}.{table[attribute]}}}"
        if (match.group(0), new) not in fragments:
            fragments.append((match.group(0), new))
        return new

    new_text = _SUB_ATTRIBUTE.sub(swap, text)
    if new_text == text:
        return None
    return Edit(here, "replace", rule, reason, value=new_text, fragments=tuple(fragments))


def _select(tests: tuple[Mapping[str, Any], ...], place: Place) -> bool | None:
    """True when any test selects the place, None when one cannot tell (a deploy-time value)."""
    unknown = False
    for test in tests:
        outcome = _test(test, place)
        if outcome:
            return True
        unknown = unknown or outcome is None
    return None if unknown else False


def _test(test: Mapping[str, Any], place: Place) -> bool | None:
    (kind, expected), = test.items()
    if kind == "absent":
        return (place.state == "absent") == bool(expected)
    if kind == "present":
        return (place.state != "absent") == bool(expected)
    if kind == "openapi_unsigned":
        return openapi_unsigned(None if place.state == "absent" else place.value) == bool(expected)
    # an absent property is null to value tests: `in: [null, EDGE]` is "unset or EDGE"
    value = None if place.state == "absent" else place.value
    if kind == "contains" and isinstance(value, list) and expected in value:
        return True
    if place.state == "opaque" or not is_literal(value):
        return None
    if kind == "equals":
        return bool(value == expected)
    if kind == "in":
        return value in expected
    if kind == "not_in":
        return value not in expected
    if kind == "contains":
        return False
    if kind == "matches":
        return isinstance(value, str) and re.search(str(expected), value) is not None
    raise ValueError(f"unknown test {kind!r}")  # the schema allows no other


#: the operations of an OpenAPI path item; `options` (CORS preflight, sent unsigned by browsers) is left out
_OPERATIONS = ("get", "put", "post", "delete", "head", "patch", "trace", "x-amazon-apigateway-any-method")


def openapi_unsigned(definition: Any) -> bool:
    """True unless `definition` is an OpenAPI (Swagger 2 or 3) definition whose every operation requires IAM.

    An operation requires IAM when each of its security requirements (its own `security`,
    else the definition's) names a scheme with `x-amazon-apigateway-authtype: awsSigv4`.
    Anything that cannot be read (a location, an intrinsic function where a security list
    or scheme should be, no operation at all) counts as not requiring IAM.
    """
    if not isinstance(definition, dict) or not isinstance(definition.get("paths"), dict):
        return True
    components = definition.get("components")
    schemes = definition.get("securityDefinitions") or (components.get("securitySchemes") if isinstance(components, dict) else None)
    if not isinstance(schemes, dict):
        return True
    signed = {name for name, scheme in schemes.items()
              if isinstance(scheme, dict) and str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4"}
    default = definition.get("security")
    operations = [operation for item in definition["paths"].values() if isinstance(item, dict)
                  for method, operation in item.items() if method.lower() in _OPERATIONS]
    if not operations:
        return True
    for operation in operations:
        security = operation.get("security", default) if isinstance(operation, dict) else None
        if not isinstance(security, list) or not security:
            return True
        if not all(isinstance(requirement, dict) and signed & set(requirement) for requirement in security):
            return True
    return False


def _show(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _first_sentence(text: str) -> str:
    return " ".join(text.split()).split(". ")[0].rstrip(".")
