"""A transform leaves no reference cycles behind.

Why: the library pauses the cyclic collector while it works, and the command line holds
it off until it exits (`_gc.py`, `cli.collector_held`), so whatever a transform leaves in
a cycle stays in memory for the rest of a release.  A recursive closure used to keep the
model index's lists of every string and mapping (21,769 objects for the 1 MB benchmark
template) alive that way.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from panther_cn_transform import decode_text, load_rules, transform_text

EXAMPLE = Path(__file__).parent.parent / "examples" / "global-stack.yaml"


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_a_transform_leaves_nothing_for_the_cyclic_collector(form: str) -> None:
    text = EXAMPLE.read_text()
    if form == "json":
        text = json.dumps(decode_text(text).model, indent=2)
    rules = load_rules("china")
    first = transform_text(text, rules, region="cn-north-1")  # imports and caches, made once, are not the transform's
    assert first.edits, "the example must change, or nothing is measured"
    del first
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        result = transform_text(text, rules, region="cn-north-1")
        del result
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()
