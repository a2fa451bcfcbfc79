"""Decode template text into a CloudFormation model, remembering where everything is.

Why two views: rules want plain long-form data (dicts, lists, strings) in which `!Ref X`
and `{"Ref": "X"}` are equal; rendering wants the exact source span of every node so that
an edit changes only the characters it must.  YAML is composed once with libyaml (the C
parser, ~10x faster than a ruamel.yaml round trip) and the model is built from the node
tree, which is kept for rendering.  JSON is loaded by the `json` module (exact JSON number
semantics); its node tree is composed with libyaml only if an edit needs rendering.

The pieces: `yaml_compose` (libyaml's node tree and the nesting guard), `builder` (the
long-form model from the node tree, and the template checks), `json_load` (JSON via
`json`) and `json_compose` (its node tree when libyaml refuses valid JSON), `template`
(`Template`) and `render_check` (`yaml_decodes_to`).  This module holds the entry points:
bytes or text in, the size check, YAML or JSON told apart, a `Template` out.
"""

from __future__ import annotations

import re
from pathlib import Path

from .._gc import collector_paused
from ..errors import TemplateError
from ..files import read_limited
from ..limits import Limits
from .builder import ModelBuilder, check_is_template
from .json_load import decode_json
from .template import Template
from .yaml_compose import JSON_STARTS, compose, first_character, guard_nesting

__all__ = ["JsonPath", "Template", "decode_bytes", "decode_text", "read_template"]  # Template: offered with the entry points that make one

JsonPath = tuple[str | int, ...]


def read_template(path: str | Path, *, limits: Limits | None = None) -> Template:
    """Read and decode the template at `path` (`-`: standard input); any problem is a `TemplateError`.

    Only a regular file or standard input is read, and never more than the input limit
    (files.read_limited): `/dev/zero` or a FIFO is refused instead of read forever.
    """
    limits = limits or Limits()
    name = "<stdin>" if str(path) == "-" else str(path)
    data = read_limited(path, limits.max_input_bytes, error=TemplateError, name=name, what="template file")
    return decode_bytes(data, source=name, limits=limits)


def decode_bytes(data: bytes, *, source: str = "<input>", limits: Limits | None = None) -> Template:
    """Decode UTF-8 bytes (a byte-order mark is allowed) into a `Template`."""
    limits = limits or Limits()
    if len(data) > limits.max_input_bytes:
        raise TemplateError(
            f"input is {len(data):,} bytes, over the {limits.max_input_bytes:,}-byte input limit",
            file=source,
        )
    if b"\x00" in data[:8192]:
        raise TemplateError("binary data, not a template (contains NUL bytes)", file=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            file=source,
            line=line,
        ) from None
    with collector_paused():
        return _decode_text(text, source, limits, trusted=False)


def decode_text(text: str, *, source: str = "<input>", limits: Limits | None = None, trusted: bool = False) -> Template:
    """Decode template text (YAML or JSON, told apart by content) into a `Template`.

    `trusted` skips the size check and the nesting pre-scan, for text this library
    rendered itself from a template that passed them.
    """
    limits = limits or Limits()
    if not trusted:
        _check_size(text, source, limits)
    with collector_paused():
        return _decode_text(text, source, limits, trusted)


def _check_size(text: str, source: str, limits: Limits) -> None:
    """`max_input_bytes` for text: its UTF-8 size, encoded only when the character count cannot decide.

    An ASCII text (`isascii` reads a flag) has as many bytes as characters.
    """
    size, exact = len(text), text.isascii()
    if not exact and size <= limits.max_input_bytes < 4 * size:
        size, exact = len(text.encode("utf-8", "surrogatepass")), True
    if size > limits.max_input_bytes:
        at_least = "" if exact else "at least "
        raise TemplateError(f"input is {at_least}{size:,} bytes, over the {limits.max_input_bytes:,}-byte input limit", file=source)


def _decode_text(text: str, source: str, limits: Limits, trusted: bool) -> Template:
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or len(text)] else "\n"
    first = first_character(text)
    if not first:
        raise TemplateError("empty file, not a template", file=source)
    if first in JSON_STARTS:
        template = decode_json(text, source, limits)
        if template is not None:
            template.bom, template.newline, template.limits = bom, newline, limits
            return template
    if not trusted:
        guard_nesting(text, source, limits)
    root = compose(text, source)
    builder = ModelBuilder(source, limits, record_strings=True)
    if text.count("*") > limits.max_alias_values:  # only then can aliases of scalars pass the limit: count them
        builder.count_scalar_aliases()
    model = builder.build(root)
    check_is_template(model, source, root)
    return Template(source, text, "yaml", model, bom, newline, root, limits, builder.recorded_strings())


#: A top-level key only a template has: at the start of a line in YAML, anywhere as a JSON key.
_YAML_TEMPLATE_KEY = re.compile(rb"""^["']?(?:AWSTemplateFormatVersion|Resources)["']?[ \t]*:""", re.MULTILINE)
_JSON_TEMPLATE_KEY = re.compile(rb'"(?:AWSTemplateFormatVersion|Resources)"\s*:')


def looks_like_template(data: bytes) -> bool:
    """Whether `data` claims to be a CloudFormation template, even if it does not decode.

    True when it has a top-level `Resources` or `AWSTemplateFormatVersion` key: written at
    the start of a line in YAML (an indented one belongs to another format, such as the
    `resources:` block of a Serverless Framework file), anywhere in JSON.  `--check` over
    many files skips a file that does not decode and does not claim to be a template (a
    README, a Helm chart), and fails on one that does (a template with a syntax error).

    >>> looks_like_template(b"# Title\\n\\nSome: text [\\n"), looks_like_template(b"Resources:\\n  R: [x\\n")
    (False, True)
    >>> looks_like_template(b'{"AWSTemplateFormatVersion": "2010-09-09", }')
    True
    """
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    pattern = _JSON_TEMPLATE_KEY if body.startswith(b"{") else _YAML_TEMPLATE_KEY
    return pattern.search(body) is not None
