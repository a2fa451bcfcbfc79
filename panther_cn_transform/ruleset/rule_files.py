"""Rule files: loading, `extends`, schema validation and variables.

A rule file is YAML (see `rules/schema.json` and docs/rules.md).  It is read with
ruamel.yaml because its round-trip nodes keep the line of every key, so an error can
name the file, the line and the offending key; rule files are small, so its speed does
not matter here.  Templates never go through ruamel.yaml (see decode.py for why).

Variables: a string parameter may contain `${name}` (a lowercase identifier); it is
replaced with the caller's value when the rules are bound to a transform.  Upper-case or
qualified names such as `${AWS::Region}` are CloudFormation's and are left alone.

A rule file is input like a template, so it gets the same bounds (`Limits`: size read,
nesting, values after alias expansion), each file of an `extends` graph is loaded once
(a diamond is not loaded twice, so 31 files never mean 2^30 loads), and every regular
expression and replacement is compiled and tested at load time (patterns.py), so
`rules check` finds what `transform` would trip over.
"""

from __future__ import annotations

import copy
import difflib
import functools
import os
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RegionError, RuleFileError, TemplateError
from ..files import read_limited
from ..limits import Limits
from ..model.yaml_compose import guard_nesting
from ..partitions.endpoint_data import partition_of_region
from ..partitions.partition import DEFAULT_SOURCE_PARTITION, Partition, PartitionFacts, build_partition, check_region
from .actions import ACTIONS
from .packaged import asset_key, asset_names
from .patterns import PatternError, compile_replacement
from .rule_schema import build_schema
from .shipped_yaml import load_shipped

if TYPE_CHECKING:
    import jsonschema

_VARIABLE = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
_BUILTIN_PACKAGE = "panther_cn_transform.packs"
DEFAULT_PACK = "panther"


@dataclass(frozen=True)
class Rule:
    """One rule as written in a rule file (parameters may still hold `${variables}`)."""

    id: str
    description: str
    action: str
    params: Mapping[str, Any]
    file: str
    line: int | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class RuleSet:
    """The effective rules after `extends`, in the order they run."""

    rules: tuple[Rule, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    #: object key -> packaged asset file (`assets:` of the rule files); release mode writes these objects
    assets: Mapping[str, str] = field(default_factory=dict)
    partition: PartitionFacts | None = None  # the partition the rules port to (None: the region's)
    source_partition: PartitionFacts | None = None  # the partition templates come from (None: aws)
    #: the regions the rules port to (a pack's `regions:`); None: every region of the partition
    regions: tuple[str, ...] | None = None
    #: what the caller asked `load_rules` for (pack names or paths, as given), in order: a report's commands repeat them
    specs: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """The rule files read from disk (`files` without the built-in packs): inputs no output may overwrite."""
        return tuple(name for name in self.files if not name.startswith("<builtin>/"))

    @classmethod
    def empty(cls) -> RuleSet:
        """A rule set with no rules: the transform changes nothing."""
        return cls()

    def partitions(self, region: str) -> tuple[Partition, Partition]:
        """The source and target partitions for `region`; a `RegionError` naming the valid regions if it is not the target's.

        Rules without a `partition` port to the partition botocore places the region in.  Rules
        with `regions` (the web half's pack: the regions Panther's China guide names) take only those.
        """
        rules = ", ".join(self.files) or "no rules"
        if self.regions is not None and region not in self.regions:
            raise RegionError(f"region {region!r} is not one of the regions of the rules ({rules}); "
                              f"valid regions: {', '.join(self.regions)}", file="<command line>")
        target_facts = self.partition
        if target_facts is None:
            name = partition_of_region(region)
            if name is None:
                raise RegionError(f"unknown region {region!r}: no partition in botocore's endpoint data has it", file="<command line>")
            target_facts = shipped_partition(name)
        target = build_partition(target_facts)
        check_region(target, region, rules)
        source = build_partition(self.source_partition or shipped_partition(DEFAULT_SOURCE_PARTITION))
        return source, target

    def bind(self, variables: Mapping[str, str]) -> tuple[Rule, ...]:
        """The rules with `${name}` replaced in every parameter; an undefined name is a `RuleFileError`."""
        values = {**self.defaults, **variables}
        bound = []
        for rule in self.rules:
            params = _substitute(rule.params, values, rule)
            if params != rule.params:  # a variable went into a pattern: test it as loading did
                line = rule.line

                def rule_line(_path: list[Any], line: int | None = line) -> int | None:
                    return line

                _check_params(rule.action, params, rule.file, rule_line, f"rule {rule.id!r}: ")
            bound.append(replace(rule, params=_with_defaults(rule, params)))
        return tuple(bound)

    def to_data(self) -> dict[str, Any]:
        """The effective rules as plain data (what `rules show` prints)."""
        rules = []
        for rule in self.rules:
            entry: dict[str, Any] = {"id": rule.id, "description": rule.description, "action": rule.action}
            entry.update(rule.params)
            if rule.source_url:
                entry["source_url"] = rule.source_url
            rules.append(entry)
        data: dict[str, Any] = {"variables": dict(self.defaults), "rules": rules}
        if self.assets:
            data["assets"] = dict(self.assets)
        if self.regions is not None:
            data = {"regions": list(self.regions), **data}
        if self.partition is not None:
            data = {"partition": self.partition.name, **data}
        return data

    def valid_regions(self) -> tuple[str, ...] | None:
        """The regions `--region` may name: the rules' `regions`, else their partition's; None when any region will do."""
        if self.regions is not None:
            return self.regions
        if self.partition is None:
            return None
        return build_partition(self.partition).regions


def load_rules(*specs: str | Path, limits: Limits | None = None) -> RuleSet:
    """Load rule files or built-in packs (`china`, `panther`) and merge them in order.

    With no spec the default pack (`panther`) is loaded.  Later files override rules of
    the same id from earlier files and from what they extend.  `limits` bound each file
    read (docs/limits.md).
    """
    loader = _Loader(limits or Limits())
    for spec in specs or (DEFAULT_PACK,):
        loader.load(spec, chain=())
    return RuleSet(tuple(loader.rules.values()), dict(loader.defaults), tuple(loader.files), dict(loader.assets),
                   loader.partition, loader.source_partition, loader.regions,
                   tuple(str(spec) for spec in specs or (DEFAULT_PACK,)))


def packs_dir() -> Traversable:
    """Where the shipped rule files are: installed as a sub-package, or `rules/` in a checkout."""
    try:
        return resources.files(_BUILTIN_PACKAGE)
    except ModuleNotFoundError:  # running from a source checkout or an editable install
        return Path(__file__).resolve().parents[2] / "rules"


def builtin_packs() -> list[str]:
    """Names of the packs shipped with the package."""
    return sorted(p.name[:-4] for p in packs_dir().iterdir() if p.name.endswith(".yml"))


@functools.cache
def shipped_partition(name: str) -> PartitionFacts:
    """The facts of a partition shipped under `rules/partitions/`; only its name when none is shipped."""
    path = packs_dir().joinpath("partitions", f"{name}.yml")
    if not path.is_file():
        return PartitionFacts(name=name, file=f"botocore ({name})")
    return _Loader(Limits()).partition_file(f"<builtin>/partitions/{name}.yml", path.read_text("utf-8"))


@functools.cache
def shipped_pack_regions(name: str) -> tuple[str, ...] | None:
    """`load_rules(name).valid_regions()` of the shipped pack `name`, read from its files' `regions`, `partition` and `extends` alone.

    A report names the other half's regions with it: a whole `load_rules` (ruamel.yaml, the
    schema, every rule) costs 0.3-0.5 s, this a few milliseconds (PyYAML's C loader, no rules).
    """
    import yaml

    data = yaml.load(packs_dir().joinpath(f"{name}.yml").read_text("utf-8"), Loader=yaml.CSafeLoader) or {}
    if "regions" in data:
        return tuple(str(region) for region in data["regions"])
    if isinstance(data.get("partition"), str):
        return build_partition(shipped_partition(data["partition"])).regions
    extends = data.get("extends") or []
    for parent in reversed([extends] if isinstance(extends, str) else extends):  # the last one loaded wins
        found = shipped_pack_regions(str(parent))
        if found is not None:
            return found
    return None


@functools.cache
def rule_file_schema() -> jsonschema.Draft202012Validator:
    """The validator of rule files (built once: jsonschema is imported only when a file of the user's is read)."""
    import jsonschema

    return jsonschema.Draft202012Validator(build_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@functools.cache
def partition_schema() -> jsonschema.Draft202012Validator:
    """The validator of partition files (the `partition` definition of the rule-file schema)."""
    import jsonschema

    definitions = build_schema()["$defs"]
    return jsonschema.Draft202012Validator({**definitions["partition"], "$defs": definitions},
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


class _Loader:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rules: dict[str, Rule] = {}
        self.defaults: dict[str, str] = {}
        self.files: list[str] = []
        self.assets: dict[str, str] = {}
        self.loaded: set[str] = set()  # identities of files already merged: each file of an extends graph once
        self.partition: PartitionFacts | None = None
        self.source_partition: PartitionFacts | None = None
        self.regions: tuple[str, ...] | None = None

    def load(self, spec: str | Path, chain: tuple[tuple[str, str], ...], relative_to: Path | None = None) -> None:
        """Merge `spec` (and what it extends, first); `chain` is the (identity, name) path of extends to it."""
        identity, name, path = self.locate(spec, relative_to, chain)
        if identity in (link for link, _name in chain):
            cycle = " -> ".join((*(n for _i, n in chain), name))
            raise RuleFileError(f"extends cycle: {cycle}", file=chain[-1][1])
        if identity in self.loaded:
            return
        text = self.read(name, path, chain)
        data = self.parse(name, text)
        self.check_size(name, data)
        if path is not None:  # a shipped pack is validated by the tests (tests/ruleset/test_rules.py), not at every start
            self.validate(name, data)
        self.check_patterns(name, data)
        base = Path(name).parent if path is not None else None
        extends = data.get("extends") or []
        for parent in [extends] if isinstance(extends, str) else extends:
            self.load(parent, chain + ((identity, name),), base)
        self.loaded.add(identity)
        self.defaults.update({str(k): str(v) for k, v in (data.get("variables") or {}).items()})
        self.load_assets(name, data.get("assets") or {})
        for key in ("partition", "source_partition"):
            if key in data:
                setattr(self, key, self.partition_of(name, data, key, base))
        if "regions" in data:  # a later file's list replaces what it extends
            self.regions = tuple(str(region) for region in data["regions"])
        for position, removed in enumerate(data.get("disable") or []):
            if str(removed) not in self.rules:  # a misspelled id would otherwise disable nothing, silently
                raise RuleFileError(f"disable/{position}: unknown rule id {str(removed)!r}: no rule loaded before this file "
                                    f"has it{_closest(str(removed), self.rules)}",
                                    file=name, line=_line_of(data["disable"], position) or _line_of(data, "disable"))
            self.rules.pop(str(removed))
        first_at: dict[str, int | None] = {}
        for index, entry in enumerate(data.get("rules") or []):
            line = _line_of(data["rules"], index)
            if str(entry["id"]) in first_at:  # the second would replace the first, silently
                raise RuleFileError(f"rules/{index}/id: rule id {str(entry['id'])!r} is given twice in this file (first at line "
                                    f"{first_at[str(entry['id'])]}); give one of them another id, or remove it", file=name, line=line)
            first_at[str(entry["id"])] = line
            params = {k: _plain(v) for k, v in entry.items() if k not in ("id", "description", "action", "source_url")}
            rule = Rule(str(entry["id"]), str(entry["description"]), str(entry["action"]), params, name, line, entry.get("source_url"))
            self.rules[rule.id] = rule  # an override keeps the overridden rule's place in the order
        self.files.append(name)

    def load_assets(self, name: str, assets: Any) -> None:
        """Each `variable: file` of `assets:` sets the variable to the file's object key."""
        for variable, file in assets.items():
            if str(file) not in asset_names():
                raise RuleFileError(f"assets/{variable}: unknown asset {str(file)!r} (shipped: {', '.join(asset_names())})",
                                    file=name, line=_line_of(assets, variable))
            key = asset_key(str(file))
            self.defaults[str(variable)] = key
            self.assets[key] = str(file)

    def partition_of(self, name: str, data: Any, key: str, base: Path | None) -> PartitionFacts:
        """The partition a rule file's `partition` (or `source_partition`) key selects."""
        value = data[key]
        if isinstance(value, dict):
            return PartitionFacts.from_data(_plain(value), name)
        spec = str(value)
        if "/" not in spec and not spec.endswith((".yml", ".yaml")):
            if not packs_dir().joinpath("partitions", f"{spec}.yml").is_file():
                raise RuleFileError(f"{key}: no shipped partition file {spec!r} (give a path or an inline mapping)",
                                    file=name, line=_line_of(data, key))
            return shipped_partition(spec)
        path = Path(spec) if base is None or Path(spec).is_absolute() else base / spec
        if not path.is_file():
            raise RuleFileError(f"{key}: partition file {str(path)!r} not found", file=name, line=_line_of(data, key))
        raw = read_limited(path, self.limits.max_input_bytes, error=RuleFileError, name=str(path), what="partition file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RuleFileError("not UTF-8 text", file=str(path)) from None
        return self.partition_file(str(path), text)

    def partition_file(self, name: str, text: str) -> PartitionFacts:
        """A partition file, parsed and validated against the `partition` schema."""
        data = self.parse(name, text, what="a partition file must be a mapping with a `name`")
        if not name.startswith("<builtin>/"):  # a shipped one is validated by the tests (tests/ruleset/test_rules.py)
            self.validate(name, data, partition_schema())
        return PartitionFacts.from_data(_plain(data), name)

    def locate(self, spec: str | Path, relative_to: Path | None, chain: tuple[tuple[str, str], ...]) -> tuple[str, str, Path | None]:
        """(identity, display name, path or None for a built-in pack) of a spec."""
        spec_text = str(spec)
        # A bare name is a built-in pack even when the working directory has a file or folder
        # of that name (a checkout of Panther has a `panther/` folder); `./name` means the file.
        is_path = isinstance(spec, Path) or "/" in spec_text or spec_text.endswith((".yml", ".yaml"))
        if not is_path and spec_text not in builtin_packs() and ((relative_to or Path()) / spec_text).is_file():
            is_path = True
        if not is_path:
            packs = builtin_packs()
            if spec_text not in packs:
                where = chain[-1][1] if chain else spec_text  # the file that extends it, or what the caller gave
                raise RuleFileError(
                    f"unknown rule pack {spec_text!r} (built-in packs: {', '.join(packs)}; or give a file path)", file=where
                )
            name = f"<builtin>/{spec_text}.yml"
            return name, name, None
        path = Path(spec_text)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        try:
            identity = os.path.realpath(path, strict=False)
        except (OSError, RuntimeError):  # a link loop: reading it reports the problem
            identity = os.path.abspath(path)
        return identity, str(path), path

    def read(self, name: str, path: Path | None, chain: tuple[tuple[str, str], ...]) -> str:
        if path is None:
            return packs_dir().joinpath(name.removeprefix("<builtin>/")).read_text("utf-8")
        if not path.exists() and not path.is_symlink():
            raise RuleFileError(
                "rule file not found" + (f" (extended by {chain[-1][1]})" if chain else ""), file=name
            )
        data = read_limited(path, self.limits.max_input_bytes, error=RuleFileError, name=name, what="rule file")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise RuleFileError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", file=name, line=line) from None

    def parse(self, name: str, text: str, what: str = "a rule file must be a mapping with a `rules` list") -> Any:
        if name.startswith("<builtin>/"):  # the project's own files: libyaml, lines kept (shipped_yaml.py)
            return load_shipped(text)
        try:
            guard_nesting(text, name, self.limits)
        except TemplateError as exc:
            raise RuleFileError(exc.message, file=name, line=exc.line) from None
        from ruamel.yaml import YAML  # the user's rule files only: its import and parser are slow
        from ruamel.yaml.error import MarkedYAMLError

        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = False
        try:
            with warnings.catch_warnings():  # ruamel warns on stderr (a reused anchor): one line per error only
                warnings.simplefilter("ignore")
                data = yaml.load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            raise RuleFileError(f"malformed YAML: {exc.problem or exc.context}", file=name, line=line) from None
        except RecursionError:
            raise RuleFileError("nesting too deep to parse", file=name) from None
        except Exception as exc:  # noqa: BLE001 - ruamel raises several unrelated types for bad input
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RuleFileError(f"malformed YAML: {detail}", file=name) from None
        if not isinstance(data, dict):
            raise RuleFileError(what, file=name, line=1)
        return data

    def check_size(self, name: str, data: dict[Any, Any]) -> None:
        """Nesting and values after alias expansion, counted without expanding (an alias bomb stops here)."""
        sizes: dict[int, tuple[int, int]] = {}  # id -> (values, depth), each shared node measured once
        total = 0
        for key, value in data.items():
            line = _line_of(data, key)
            try:
                size, depth = _measure(value, sizes)
            except _Recursive:
                raise RuleFileError(f"{key}: a recursive alias (a value that contains itself)", file=name, line=line) from None
            total += size + 1
            if depth + 1 > self.limits.max_depth:
                raise RuleFileError(f"{key}: nesting deeper than {self.limits.max_depth} levels (raise the limit with --max-depth N)", file=name, line=line)
            if total > self.limits.max_nodes:
                raise RuleFileError(
                    f"{key}: expands to more than {self.limits.max_nodes:,} values (an alias bomb? raise the limit with --max-nodes N)", file=name, line=line
                )

    def check_patterns(self, name: str, data: dict[str, Any]) -> None:
        for index, entry in enumerate(data.get("rules") or []):
            def line_of(path: list[Any], index: int = index) -> int | None:
                return _line_for_path(data, ["rules", index, *path])

            params = {k: v for k, v in entry.items() if k not in ("id", "description", "action", "source_url")}
            _check_params(str(entry["action"]), params, name, line_of, f"rules/{index}/")

    def validate(self, name: str, data: Any, validator: jsonschema.Draft202012Validator | None = None) -> None:
        """The rule file (or, with `validator`, partition file) checked against its JSON Schema."""
        errors = sorted((validator or rule_file_schema()).iter_errors(_plain(data)), key=lambda e: (len(e.path), list(map(str, e.path))))
        if not errors:
            return
        error = min(errors, key=lambda e: -len(e.path))
        path = list(error.path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            extra = [key for key in error.instance if key not in allowed]
            if extra:
                path.append(extra[0])
        line = _line_for_path(data, path)
        where = "/".join(str(p) for p in path) or "(top level)"
        raise RuleFileError(f"{where}: {_schema_message(error)}", file=name, line=line)


def _schema_message(error: jsonschema.ValidationError) -> str:
    message = str(error.message)
    if error.validator == "additionalProperties":
        return message.replace("Additional properties are not allowed", "unknown key")
    if error.validator == "enum" and error.path and error.path[-1] == "action":
        return f"unknown action {error.instance!r} (known: {', '.join(sorted(ACTIONS))})"
    if error.validator == "format" and error.validator_value == "regex" and isinstance(error.instance, str):
        return f"{error.instance!r} is not a valid regular expression: {_regex_problem(error.instance)}"
    return message


def _regex_problem(pattern: str) -> str:
    """What the `regex` module (which runs the rules' patterns) says is wrong with `pattern`."""
    import regex

    try:
        regex.compile(pattern)
    except regex.error as exc:
        return str(exc)
    return "Python's re module refuses it"


def _closest(word: str, known: Mapping[str, Any]) -> str:
    """`(did you mean 'x'?)` for the known id closest to `word`, else how to list them."""
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if match:
        return f" (did you mean {match[0]!r}?)"
    return f" ({len(known)} rules are loaded before it; `rules show` lists them)"


def _line_of(container: Any, key: Any) -> int | None:
    """1-based line of `key` in a ruamel round-trip mapping or sequence, if it knows it."""
    positions = getattr(container, "lc", None)
    if positions is None:
        return None
    try:
        line, _column = positions.key(key) if isinstance(container, dict) else positions.item(key)
    except (KeyError, IndexError, TypeError):
        return None
    return int(line) + 1


def _line_for_path(data: Any, path: list[Any]) -> int | None:
    line = None
    node = data
    for part in path:
        found = _line_of(node, part)
        if found is not None:
            line = found
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _check_params(
    action: str, params: Mapping[str, Any], file: str, line_of: Callable[[list[Any]], int | None], prefix: str
) -> None:
    """Compile and test what an action would compile at transform time (today: replace_text's patterns)."""
    if action != "replace_text":
        return
    for index, pair in enumerate(params.get("replacements") or []):
        try:
            compile_replacement(str(pair["pattern"]), str(pair["replace"]))
        except PatternError as exc:
            where = f"replacements/{index}"
            raise RuleFileError(f"{prefix}{where}: {exc.message}", file=file, line=line_of(["replacements", index, "pattern"])) from None


class _Recursive(Exception):
    """A container that contains itself (a recursive YAML alias)."""


def _measure(value: Any, sizes: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, depth) of `value` with shared (aliased) containers counted at every use, computed once each."""
    if not isinstance(value, (dict, list)):
        return 1, 1
    stack: list[tuple[Any, bool]] = [(value, False)]
    open_nodes: set[int] = set()  # containers whose children are being measured: meeting one again is a cycle
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = [v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list))]
        if not children_done:
            if id(node) in open_nodes:
                raise _Recursive()
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        count, deepest = 1, 0
        for child in node.values() if isinstance(node, dict) else node:
            child_size, child_depth = sizes[id(child)] if isinstance(child, (dict, list)) else (1, 1)
            count += child_size
            deepest = max(deepest, child_depth)
        sizes[id(node)] = (count, deepest + 1)
    return sizes[id(value)]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _with_defaults(rule: Rule, params: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's parameters with the action's defaults for those it leaves out."""
    action = ACTIONS.get(rule.action)
    defaults = copy.deepcopy(action.spec.defaults()) if action else {}
    return {**defaults, **params}


def _how_to_set(name: str) -> str:
    """The flag that gives variable `name` a value: `--bucket` has its own, the rest `--set`."""
    if name == "bucket":
        return 'give the China bucket that holds the assets with --bucket NAME; in Python, variables={"bucket": NAME}'
    if name == "release":
        return "the release command sets it from --release; elsewhere set it with --set release=VALUE"
    return f"set it with --set {name}=VALUE"


def _substitute(value: Any, values: Mapping[str, str], rule: Rule) -> Any:
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise RuleFileError(f"rule {rule.id!r} uses undefined variable ${{{name}}} ({_how_to_set(name)})",
                                    file=rule.file, line=rule.line)
            return values[name]

        return _VARIABLE.sub(lookup, value)
    if isinstance(value, dict):
        return {k: _substitute(v, values, rule) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values, rule) for v in value]
    return value


