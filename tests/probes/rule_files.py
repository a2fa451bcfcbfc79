"""Hostile rule files: broken YAML, wrong shapes, unknown names, and patterns that blow up.

Each file is run twice: `rules check FILE`, and `transform` of the example with `--rules FILE`
writing -o, --patch and --report (a file `rules check` passes must transform or fail in one line).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .runner import Expect, Probe, Run

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "examples" / "global-stack.yaml").read_bytes()
#: strings that make backtracking patterns explode, in the template the rules run on
ADVERSARIAL = ("Metadata:\n  Slow:\n    Value: '" + "a" * 40 + "!'\n  Slower:\n    Value: '" + "ab" * 30 + "c'\n").encode()
HEAD = "version: 1\nname: probe\npartition: aws-cn\n"


def _text_rule(pattern: str, replace: str = "x") -> str:
    return (HEAD + "rules:\n  - id: text\n    description: d\n    source_url: https://example.com\n    action: replace_text\n"
            f"    replacements:\n      - pattern: '{pattern}'\n        replace: '{replace}'\n")


def _cases() -> list[tuple[str, str | bytes, Expect]]:
    """(name, file content, what `rules check` must do)."""
    many = HEAD + "rules:\n" + "".join(f"  - id: r{i}\n    description: d\n    source_url: https://example.com\n"
                                       "    action: rewrite_partition\n" for i in range(3000))
    return [
        ("an empty file", "", "error"),
        ("a list", "- a\n", "error"),
        ("a scalar", "rules\n", "error"),
        ("not YAML", "version: [1\n", "error"),
        ("binary", b"\x00\x01\xff\xfe" * 50, "error"),
        ("Latin-1", HEAD.encode() + b"description: caf\xe9\nrules: []\n", "error"),
        ("version 2", "version: 2\nname: p\nrules: []\n", "error"),
        ("no rules key", "version: 1\nname: p\n", "either"),
        ("rules is a mapping", HEAD + "rules: {a: b}\n", "error"),
        ("a rule without id", HEAD + "rules:\n  - action: rewrite_partition\n", "error"),
        ("an unknown action", HEAD + "rules:\n  - id: a\n    description: d\n    source_url: https://e.com\n    action: nope\n", "error"),
        ("an unknown key", HEAD + "rules:\n  - id: a\n    description: d\n    source_url: https://e.com\n    action: rewrite_partition\n    colour: red\n", "error"),
        ("an unknown top-level key", HEAD + "colour: red\nrules: []\n", "error"),
        ("two rules of one id", HEAD + "rules:\n" + 2 * "  - id: a\n    description: d\n    source_url: https://e.com\n    action: rewrite_partition\n", "error"),
        ("disable of an unknown id", "version: 1\nname: p\nextends: china\ndisable: [no-such-rule]\nrules: []\n", "error"),
        ("disable misspelled", "version: 1\nname: p\nextends: china\ndisable: [partiton]\nrules: []\n", "error"),
        ("extends an unknown pack", "version: 1\nname: p\nextends: nope\nrules: []\n", "error"),
        ("extends itself", "version: 1\nname: p\nextends: rules.yml\nrules: []\n", "error"),
        ("extends a path out of the folder", "version: 1\nname: p\nextends: ../../../../home/.bashrc\nrules: []\n", "error"),
        ("extends /dev/zero", "version: 1\nname: p\nextends: /dev/zero\nrules: []\n", "error"),
        ("an unclosed group", _text_rule("(abc"), "error"),
        ("a bad escape", _text_rule("\\\\q"), "either"),
        ("a replacement naming a missing group", _text_rule("a(b)", "\\5"), "error"),
        ("a nested repeat", _text_rule("^(a+)+$"), "either"),
        ("an ambiguous alternation under a star", _text_rule("^(ab|a|b)*$"), "either"),
        ("a huge counted repeat", _text_rule("a{1000000000}"), "error"),
        ("nested counted repeats", _text_rule("(a{1000}){1000}"), "either"),
        ("a harmless pattern", _text_rule("amazonaws\\\\.com"), "ok"),
        ("a pattern matching nothing", _text_rule("(?!)"), "either"),
        ("a pattern matching the empty string", _text_rule(""), "either"),
        ("a lookbehind of variable width", _text_rule("(?<=a+)b"), "error"),
        ("a control character in an id", HEAD + 'rules:\n  - id: "a\\x1b[2Jb"\n    description: d\n    source_url: https://e.com\n    action: rewrite_partition\n', "error"),
        ("an id with spaces", HEAD + "rules:\n  - id: a b\n    description: d\n    source_url: https://e.com\n    action: rewrite_partition\n", "error"),
        ("an alias bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\ne: &e [*d, *d]\nf: &f [*e, *e]\n"
                          "g: &g [*f, *f]\nh: &h [*g, *g]\ni: &i [*h, *h]\nj: &j [*i, *i]\nk: &k [*j, *j]\n" + HEAD + "rules: []\n", "error"),
        ("3,000 rules", many, "either"),
        ("a variable never given", HEAD + "rules:\n  - id: a\n    description: d\n    source_url: https://e.com\n    action: replace_text\n"
                                          "    replacements:\n      - pattern: x\n        replace: ${nowhere}\n", "either"),
        ("a variable holding a newline", HEAD + 'variables:\n  v: "a\\nb"\nrules:\n  - id: a\n    description: d\n    source_url: https://e.com\n'
                                               "    action: replace_text\n    replacements:\n      - pattern: amazonaws\n        replace: ${v}\n", "either"),
        ("a Python tag", HEAD + "rules: !!python/object/apply:os.system ['touch ../../../../pwned']\n", "error"),
        ("an unknown partition", "version: 1\nname: p\npartition: aws-mars\nrules: []\n", "error"),
        ("a region list of junk", "version: 1\nname: p\npartition: aws-cn\nregions: [1, [2]]\nrules: []\n", "error"),
    ]


def probes() -> list[Probe]:
    result = []
    for name, content, expect in _cases():
        result.append(Probe("rules", f"check: {name}", _check(content, expect)))
        result.append(Probe("rules", f"transform: {name}", _transform(content, "ok" if expect == "ok" else
                                                                          "error" if expect == "error" else "either")))
    return result


def _write(work: Path, content: str | bytes) -> None:
    (work / "rules.yml").write_bytes(content.encode() if isinstance(content, str) else content)


def _check(content: str | bytes, expect: Expect) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        _write(work, content)
        return Run(["rules", "check", "rules.yml"], expect, timeout=120)
    return build


def _transform(content: str | bytes, expect: Expect) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        _write(work, content)
        (work / "in.yaml").write_bytes(EXAMPLE + ADVERSARIAL)
        return Run(["transform", "in.yaml", "--rules", "rules.yml", "--region", "cn-north-1", "-o", "out.yaml",
                    "--patch", "p.json", "--report", "r.md"], expect, writes=[Path("out.yaml"), Path("p.json"), Path("r.md")],
                   parses=[Path("out.yaml")], timeout=120)
    return build

