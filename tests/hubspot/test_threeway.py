"""The three-way comparison: every case of ours / theirs / base, per owner and policy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from accounts.hubspot.models import SyncState
from accounts.hubspot.rules.fields import ASK, BY_KEY, HUBSPOT, LATEST, LIFECYCLE, TWO_WAY
from accounts.hubspot.rules.sync_state import Written
from accounts.hubspot.rules.threeway import Action, Rule, decide

SPEC = BY_KEY["renewal_forecast_category"]


def rule(owner: str, policy: str = LATEST) -> Rule:
    return Rule(spec=SPEC, property=SPEC.property, owner=owner, policy=policy)


@pytest.mark.parametrize(
    ("owner", "ours", "theirs", "base", "action", "value"),
    [
        # Nothing changed, or both sides already agree.
        (TWO_WAY, "commit", "commit", "commit", Action.NOTHING, ""),
        (TWO_WAY, "likely", "likely", "commit", Action.AGREE, "likely"),
        (TWO_WAY, "likely", "likely", None, Action.AGREE, "likely"),
        # Only one side changed.
        (TWO_WAY, "likely", "commit", "commit", Action.PUSH, "likely"),
        (TWO_WAY, "commit", "likely", "commit", Action.PULL, "likely"),
        # A clear is a change like any other, both ways.
        (TWO_WAY, "", "commit", "commit", Action.PUSH, ""),
        (TWO_WAY, "commit", "", "commit", Action.PULL, ""),
        # Owned fields: the owner's value wins whatever the base says.
        (HUBSPOT, "likely", "commit", "commit", Action.PULL, "commit"),
        (HUBSPOT, "likely", "at_risk", "commit", Action.PULL, "at_risk"),
        (LIFECYCLE, "likely", "commit", "likely", Action.PUSH, "likely"),
        (LIFECYCLE, "likely", "at_risk", "commit", Action.PUSH, "likely"),
    ],
)
def test_one_side_or_owner_decides(
    owner: str, ours: str, theirs: str, base: str | None, action: Action, value: str
) -> None:
    decision = decide(rule(owner), ours=ours, theirs=theirs, base=base)
    assert (decision.action, decision.value) == (action, value)


def test_both_changed_latest_wins_by_change_time() -> None:
    two_way = rule(TWO_WAY, LATEST)
    hubspot_later = decide(
        two_way, ours="likely", theirs="at_risk", base="commit", ours_ms=1_000, theirs_ms=2_000
    )
    assert (hubspot_later.action, hubspot_later.value) == (Action.PULL, "at_risk")
    ours_later = decide(
        two_way, ours="likely", theirs="at_risk", base="commit", ours_ms=3_000, theirs_ms=2_000
    )
    assert (ours_later.action, ours_later.value) == (Action.PUSH, "likely")


def test_both_changed_with_ask_is_a_conflict_even_on_first_sync() -> None:
    ask = rule(TWO_WAY, ASK)
    assert decide(ask, ours="likely", theirs="at_risk", base="commit").action == Action.CONFLICT
    assert decide(ask, ours="likely", theirs="at_risk", base=None).action == Action.CONFLICT


def test_unknown_remote_value_pushes_only_fields_we_may_push() -> None:
    assert decide(rule(LIFECYCLE), ours="likely", theirs=None, base=None).action == Action.PUSH
    assert decide(rule(LIFECYCLE), ours="likely", theirs=None, base="likely").action == (
        Action.NOTHING
    )
    assert decide(rule(HUBSPOT), ours="likely", theirs=None, base=None).action == Action.NOTHING


def test_canonical_forms_make_equal_values_equal() -> None:
    from decimal import Decimal

    arr = BY_KEY["renewal_forecast_arr"]
    assert arr.canonical_local(Decimal("1500.00")) == arr.canonical_remote("1500") == "1500"
    assert arr.canonical_local(None) == arr.canonical_remote("") == ""
    review = BY_KEY["next_business_review"]
    assert review.canonical_remote("2026-03-01T00:00:00.000Z") == "2026-03-01"


@pytest.mark.django_db
def test_each_field_state_is_one_named_typed_object_stored_as_json(
    django_assert_num_queries: Any,
) -> None:
    from accounts.hubspot.field_state import FieldSync
    from accounts.hubspot.rules import sync_state
    from tests.factories import AccountFactory

    account = AccountFactory.create()
    entry = FieldSync(
        prop="lifecycle_renewal_forecast",
        base="at_risk",
        base_ms=3_000,
        remote="at_risk",
        remote_by="INTEGRATION 4242",
        written=Written(value="at_risk", written_ms=3_000, agreed_before_ms=1_000, ours_ms=2_000),
    )
    state = SyncState(account=account, fields={"renewal_forecast_category": entry})
    with django_assert_num_queries(1):  # one upsert, however many states
        sync_state.states_save([state])
    with connection.cursor() as cursor:  # as stored: JSON, each entry by name
        cursor.execute("SELECT fields::text FROM accounts_syncstate")
        raw = json.loads(cursor.fetchone()[0])
    assert raw["renewal_forecast_category"]["written"] == {
        "value": "at_risk",
        "written_ms": 3_000,
        "agreed_before_ms": 1_000,
        "ours_ms": 2_000,
    }
    loaded = SyncState.objects.get(account=account).fields["renewal_forecast_category"]
    assert loaded == entry and loaded.written is not None and loaded.written.ours_ms == 2_000
    assert Written.from_json(["12", "5", "0", "7"]) == Written("12", 5, 0, 7)  # older rows
