"""The bridge's two API key slots, and the order that rotates a key with no outage.

Why two slots: a key's value cannot change in place, and the web half's proxies hold the key
they read from the secret.  Replacing the one key (as a new release name did) breaks every
proxy call until the secret holds the new key.  With two keys on the usage plan, one in use
(`BridgeKeyInUse`, which the stack's `BridgeApiKeyId` output follows) and one idle, a
rotation is:

1. a new generation for the idle slot (`BridgeKeyA`/`BridgeKeyB`, part of the key's name):
   CloudFormation replaces the idle key, the key in use keeps working;
2. the bridge is checked with the new key, and only then the secret moves to it (the proxies
   re-read the secret when a key is refused, and the old key still works meanwhile);
3. a second update makes the new slot the one in use and gives the old slot a new
   generation: the old key is deleted, replaced by an idle key nobody holds.

A failure at any point leaves a key that works in the secret: before step 2 the old one, after
it the new one (and a rerun sees the secret holding the idle slot's key and only finishes
step 3).  An upgrade does the same with the new release as the generation, its step 1 being
the upgrade's own change set.  The generations also tell whether a rotation is due: after an
upgrade's rotation both slots carry the release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SLOTS = ("a", "b")
IN_USE = "BridgeKeyInUse"


def generation_parameter(slot: str) -> str:
    """`BridgeKeyA` for slot a."""
    return f"BridgeKey{slot.upper()}"


def key_resource(slot: str) -> str:
    return f"BridgeApiKey{slot.upper()}"


def usage_plan_key_resource(slot: str) -> str:
    return f"BridgeUsagePlanKey{slot.upper()}"


@dataclass(frozen=True)
class KeySlots:
    """The slots of a deployed China stack: which is in use, each one's generation and key id."""

    in_use: str
    generations: Mapping[str, str]
    key_ids: Mapping[str, str]

    @property
    def idle(self) -> str:
        return SLOTS[1 - SLOTS.index(self.in_use)]

    def rotation_due(self, generation: str) -> bool:
        """True when the key in use is older than `generation` and the idle slot already has it (step 1 is done)."""
        return self.generations[self.in_use] != generation and self.generations[self.idle] == generation


def declares_slots(parameters: Mapping[str, Any]) -> bool:
    """Whether a root template has the key slots (a release made before them has one key)."""
    return IN_USE in parameters and all(generation_parameter(slot) in parameters for slot in SLOTS)


def read_slots(parameters: Mapping[str, str], outputs: Mapping[str, str]) -> KeySlots | None:
    """The slots of a stack from its parameters and outputs (None without slots)."""
    if not declares_slots(parameters) or parameters.get(IN_USE) not in SLOTS:
        return None
    return KeySlots(
        in_use=parameters[IN_USE],
        generations={slot: parameters[generation_parameter(slot)] for slot in SLOTS},
        key_ids={slot: outputs.get(f"BridgeApiKeyId{slot.upper()}", "") for slot in SLOTS},
    )


def upgrade_values(slots: KeySlots, release: str) -> dict[str, str]:
    """Slot parameters for an upgrade to `release`: the idle slot gets the release unless the key in use has it."""
    idle = slots.generations[slots.idle]
    if slots.generations[slots.in_use] != release:
        idle = release
    return {IN_USE: slots.in_use, generation_parameter(slots.in_use): slots.generations[slots.in_use],
            generation_parameter(slots.idle): idle}


def switch_values(slots: KeySlots, generation: str) -> dict[str, str]:
    """Step 3: the idle slot in use, the old slot regenerated (its key replaced)."""
    return {IN_USE: slots.idle, generation_parameter(slots.idle): slots.generations[slots.idle],
            generation_parameter(slots.in_use): generation}


def new_generation(now: datetime | None = None) -> str:
    """A generation no slot had: `rotated-20261127-101500` (letters, digits, `.`, `_`, `-`)."""
    return (now or datetime.now(UTC)).strftime("rotated-%Y%m%d-%H%M%S")


def expected_replacements(slot: str, why: str) -> dict[str, str]:
    """The change set lines of a slot's replacement, saying why it is expected."""
    return {key_resource(slot): f"expected: {why}", usage_plan_key_resource(slot): "expected: the new key joins the usage plan"}
