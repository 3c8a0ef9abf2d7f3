"""Row-by-row checks for usage ingestion: shape, account match, permission to
write that account, and one reading per account and day within the request;
then, once stored, the USAGE_INGESTED_HOOKS (health rescoring by default) run from
accounts.services.usage_snapshots_upsert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from .. import selectors
from ..roles import sees_all_writes
from ..services import USAGE_FIELDS
from .serializers import UsageRowSerializer


@dataclass
class RowOutcome:
    index: int
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def account_id(self) -> int | None:
        return self.data.get("account_id")

    @property
    def date(self) -> date | None:
        return self.data.get("date")


def _messages(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(name): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for name, msgs in detail.items()
        }
    items = detail if isinstance(detail, list) else [detail]
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in items]}


def usage_rows_check(*, rows: list[Any], user: Any) -> list[RowOutcome]:
    """Validate every row; valid outcomes carry what usage_snapshots_upsert takes.

    Accounts are matched by our id, HubSpot id or domain in one query (the
    same matching the CSV import uses). CSMs may write only the accounts they
    own; admins and leaders any account."""
    validator = UsageRowSerializer()
    outcomes: list[RowOutcome] = []
    for index, raw in enumerate(rows):
        outcome = RowOutcome(index=index)
        try:
            outcome.data = dict(validator.run_validation(raw))
        except ValidationError as exc:
            outcome.errors = _messages(exc.detail)
        outcomes.append(outcome)

    matches = selectors.accounts_by_reference(
        references={o.data["account"] for o in outcomes if o.ok}
    )
    writes_any = sees_all_writes(user)
    seen: dict[tuple[int, date], int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            continue
        reference = outcome.data.pop("account")
        match = matches.get(reference)
        if match is None:
            outcome.errors["account"] = [f"No account matches {reference!r}."]
            continue
        outcome.data["account_id"] = match.pk
        if not writes_any and match.owner_id != user.pk:
            outcome.errors["account"] = ["You may send usage only for accounts you own."]
            continue
        pair = (match.pk, outcome.data["date"])
        if pair in seen:
            outcome.errors["date"] = [f"Row {seen[pair]} already has this account and date."]
            continue
        seen[pair] = outcome.index
        outcome.data = {
            "account_id": match.pk,
            "date": outcome.data["date"],
            **{f: outcome.data.get(f) for f in USAGE_FIELDS},
        }
    return outcomes
