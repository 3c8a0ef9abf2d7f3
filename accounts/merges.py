"""Merging two accounts that turned out to be one customer (a CRM merged their companies):
everything that belongs to the merged-away account moves to the survivor, whatever app
made it, and the merged-away account is archived.

Every row that points at an account is found from the model graph
(`Account._meta.get_fields(include_hidden=True)`), so a CS app added later is moved too
without accounts importing it. A model whose rows describe the account record itself
rather than the customer (a sync's per-record state, its journal) sets the class
attribute `account_merge_stays = True` and stays where it is.

A row the survivor already has its own of (a unique constraint that holds per account:
one current success plan, one renewal per date, one live alert per rule...) is not
moved: the survivor's is kept, and the merged-away account's stays on it (archived,
out of lists, still there for whoever asks), counted in what the survivor's timeline
says was kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Account, Event, User
from .services import accounts_last_activity_recompute, event_record


@dataclass
class MergeReport:
    """What moved to the survivor and what stayed behind, by kind of record
    ({verbose name plural: count}), for the timeline and the sync journal."""

    moved: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        moved = _counts(self.moved) or "nothing"
        text = f"moved {moved}"
        if self.kept:
            text += f"; left on the merged account (this one has its own): {_counts(self.kept)}"
        return text


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {label}" for label, n in sorted(counts.items()) if n)


def account_relations() -> list[Any]:
    """Every foreign key (and one-to-one) to Account that a merge moves."""
    found = []
    for rel in Account._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and rel.is_relation):
            continue
        if rel.many_to_many or getattr(rel.related_model, "account_merge_stays", False):
            continue
        found.append(rel.field)  # type: ignore[union-attr]
    return found


def _unique_sets(model: type[models.Model], fk: Any) -> list[tuple[list[str], Q | None]]:
    """(the other fields, condition) of each uniqueness that includes the foreign key."""
    sets: list[tuple[list[str], Q | None]] = []
    if fk.unique:
        sets.append(([], None))
    for constraint in model._meta.constraints:
        names = list(getattr(constraint, "fields", None) or ())
        if isinstance(constraint, models.UniqueConstraint) and fk.name in names:
            sets.append(([n for n in names if n != fk.name], constraint.condition))
    for together in model._meta.unique_together:
        if fk.name in together:
            sets.append(([n for n in together if n != fk.name], None))
    return sets


def _clashing(model: type[models.Model], fk: Any, survivor: Account, merged: Account) -> set[int]:
    """Pks of the merged account's rows the survivor holds its own of."""
    clash: set[int] = set()
    manager = model._default_manager
    for others, condition in _unique_sets(model, fk):
        condition = condition or Q()
        held = {
            tuple(row)
            for row in manager.filter(condition, **{fk.name: survivor}).values_list(*others, "pk")
        }
        keys = {row[:-1] for row in held}
        for row in manager.filter(condition, **{fk.name: merged}).values_list(*others, "pk"):
            if tuple(row[:-1]) in keys:
                clash.add(row[-1])
    return clash


@transaction.atomic
def account_merge(
    *, survivor: Account, merged: Account, by: User | None = None, why: str = ""
) -> MergeReport:
    """Move everything of `merged` to `survivor` (renewals, plans, reviews, health
    history, alerts, signals, usage, timeline, onboarding, playbook runs, deals,
    contacts...), archive `merged` without its CRM link, and say on both timelines what
    moved. `why` names the cause ("HubSpot merged company 123 into 456")."""
    if survivor.pk == merged.pk:
        raise ValueError("An account cannot be merged into itself.")
    report = MergeReport()
    for fk in account_relations():
        model = fk.model
        label = str(model._meta.verbose_name_plural)
        stays = _clashing(model, fk, survivor, merged)
        rows = model._default_manager.filter(**{fk.name: merged}).exclude(pk__in=stays)
        moved = rows.update(**{fk.name: survivor})
        if moved:
            report.moved[label] = report.moved.get(label, 0) + moved
        if stays:
            report.kept[label] = report.kept.get(label, 0) + len(stays)
    # The survivor is the customer now: the merged account gives up its CRM link and
    # its domain (unique among accounts), which the survivor may take.
    Account.objects.filter(pk=merged.pk).update(
        status=Account.Status.ARCHIVED, hubspot_id=None, domain="", updated_at=timezone.now()
    )
    data = {
        "merged_account": merged.pk,
        "hubspot_id": merged.hubspot_id or "",
        "domain": merged.domain,
        "moved": report.moved,
        "kept": report.kept,
    }
    merged.status, merged.hubspot_id, merged.domain = Account.Status.ARCHIVED, None, ""
    prefix = f"{why}: " if why else ""
    event_record(
        account=survivor,
        kind=Event.Kind.ACCOUNT_UPDATED,
        summary=f"{prefix}merged {merged.name} (#{merged.pk}) into this account; "
        f"{report.summary()}",
        actor=by,
        link=merged.get_absolute_url(),
        data=data,
    )
    event_record(
        account=merged,
        kind=Event.Kind.ACCOUNT_UPDATED,
        summary=f"{prefix}merged into {survivor.name} (#{survivor.pk}) and archived",
        actor=by,
        link=survivor.get_absolute_url(),
        data={"survivor": survivor.pk, **data},
    )
    accounts_last_activity_recompute(account_ids=[survivor.pk, merged.pk])
    return report
