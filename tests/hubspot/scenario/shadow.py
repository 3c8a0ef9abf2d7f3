"""The shadow model: for each account and field, every real edit a person made (side,
instant on the shared clock, canonical value), and from those the value the field's
rule says it must end with once sync has settled."""

from __future__ import annotations

from dataclasses import dataclass, field

LIFECYCLE = "lifecycle"
HUBSPOT = "hubspot"


@dataclass(frozen=True)
class Edit:
    side: str  # LIFECYCLE or HUBSPOT
    ms: int  # when the side recorded it (field_changed_at, or HubSpot's history)
    value: str  # canonical, as the rule's spec writes it
    step: int  # the operation that made it (its line in the log)


@dataclass(frozen=True)
class Expected:
    """What a field must end as: `value` on both sides; for an "ask" field edited on both
    sides, alternatively an open conflict holding `ours` and `theirs`."""

    value: str
    conflict: tuple[str, str] | None = None


@dataclass
class FieldShadow:
    initial: str
    edits: list[Edit] = field(default_factory=list)

    def last(self, side: str) -> Edit | None:
        mine = [e for e in self.edits if e.side == side]
        return max(mine, key=lambda e: e.ms) if mine else None

    def latest(self) -> Edit | None:
        return max(self.edits, key=lambda e: e.ms) if self.edits else None

    def expected(self, owner: str, policy: str) -> Expected:
        """The field's rule applied to the edits: the owner's last edit; for two-way
        latest-wins the later real edit; for "ask" the later edit when only one side
        edited (or sync agreed in between), else an open conflict holding both."""
        if owner in (LIFECYCLE, HUBSPOT):
            edit = self.last(owner)
            return Expected(edit.value if edit else self.initial)
        latest = self.latest()
        value = latest.value if latest else self.initial
        if policy == "ask":
            ours, theirs = self.last(LIFECYCLE), self.last(HUBSPOT)
            if ours and theirs and ours.value != theirs.value:
                return Expected(value, conflict=(ours.value, theirs.value))
        return Expected(value)


@dataclass
class CompanyShadow:
    """One HubSpot company and the account it is linked to, as the test made them."""

    account_pk: int
    company_id: str
    fields: dict[str, FieldShadow]
    deleted: bool = False
    merged_into: str = ""  # the survivor's company id, once merged away

    @property
    def live(self) -> bool:
        return not self.deleted and not self.merged_into


@dataclass
class Shadow:
    companies: dict[str, CompanyShadow] = field(default_factory=dict)  # by company id

    def by_account(self, account_pk: int) -> CompanyShadow:
        return next(c for c in self.companies.values() if c.account_pk == account_pk)

    def record(self, company_id: str, key: str, edit: Edit) -> None:
        self.companies[company_id].fields[key].edits.append(edit)

    def live(self) -> list[CompanyShadow]:
        return [c for c in self.companies.values() if c.live]
