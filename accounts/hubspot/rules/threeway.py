"""The three-way comparison at the heart of two-way sync. Pure: no database, no HTTP.

For one field of one linked record we know our value, HubSpot's value (as last seen)
and the base, the last value both sides agreed on. Values are canonical strings
(accounts/hubspot/rules/fields.py), "" meaning cleared, so a clear is a change like any other.

    only we changed it            -> push
    only HubSpot changed it       -> pull
    both, to the same value       -> agree (nothing to write)
    both, to different values     -> by the field's owner and policy: HubSpot-owned
                                     pulls, Lifecycle-owned pushes, two-way takes the
                                     latest change or asks a person (conflict)

A side that changed its value and then changed it back to the base (A -> C -> A) has
changed it: its value then equals the base but `theirs_reset` (HubSpot's side) or
`ours_reset` (ours) says a person set it again after the sides agreed, and its time is
judged like any other edit's.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from enum import StrEnum

from accounts.hubspot.rules.fields import ASK, HUBSPOT, LATEST, LIFECYCLE, TWO_WAY, FieldSpec


class Action(StrEnum):
    NOTHING = "nothing"
    AGREE = "agree"  # both sides hold `value`: it becomes the base
    PUSH = "push"  # write our `value` to HubSpot
    PULL = "pull"  # write HubSpot's `value` to our record
    CONFLICT = "conflict"  # both changed, policy ask: wait for a person


@dataclass(frozen=True)
class Rule:
    """A field as the admin configured it."""

    spec: FieldSpec
    property: str
    owner: str
    policy: str = LATEST

    @builtins.property
    def key(self) -> str:
        return self.spec.key

    @builtins.property
    def pulls(self) -> bool:
        return self.owner in (HUBSPOT, TWO_WAY)

    @builtins.property
    def pushes(self) -> bool:
        return self.owner in (LIFECYCLE, TWO_WAY)


@dataclass(frozen=True)
class Decision:
    action: Action
    value: str = ""
    reason: str = ""


def decide(
    rule: Rule,
    *,
    ours: str,
    theirs: str | None,
    base: str | None,
    ours_ms: int = 0,
    theirs_ms: int = 0,
    theirs_reset: bool = False,
    ours_reset: bool = False,
) -> Decision:
    """What to do with one field. `theirs` is None when HubSpot's value is unknown
    (never read); `base` is None when the sides never agreed (first sync);
    `theirs_reset`: HubSpot's value is the base, set again by someone else since the
    sides agreed (so HubSpot changed it too); `ours_reset` the same of ours."""
    if theirs is None:
        if rule.pushes and ours != base:
            return Decision(Action.PUSH, ours, "changed in Lifecycle")
        return Decision(Action.NOTHING)
    if ours == theirs:
        if ours == base and not (ours_reset or theirs_reset):
            return Decision(Action.NOTHING)
        return Decision(Action.AGREE, ours, "both sides hold the same value")
    if rule.owner == HUBSPOT:
        return Decision(Action.PULL, theirs, "HubSpot owns this field")
    if rule.owner == LIFECYCLE:
        return Decision(Action.PUSH, ours, "Lifecycle owns this field")
    # Two-way.
    if base is not None and ours == base and not ours_reset:
        return Decision(Action.PULL, theirs, "changed in HubSpot")
    if base is not None and theirs == base and not theirs_reset:
        return Decision(Action.PUSH, ours, "changed in Lifecycle")
    if rule.policy == ASK:
        return Decision(Action.CONFLICT, "", "changed on both sides")
    if theirs_ms > ours_ms:
        return Decision(Action.PULL, theirs, "changed on both sides; HubSpot's edit is later")
    return Decision(Action.PUSH, ours, "changed on both sides; Lifecycle's edit is later")
