"""Two-way sync of account fields, one module per concern; this module names them
together for the callers that drive a whole pass (tasks, pages, benchmarks):

- `field_rules`: who owns each field, our and HubSpot's values and times, journal rows;
- `threeway`: the pure decision against the agreed base;
- `inbound_compare`: pages HubSpot sent, compared with the base;
- `push`: the push pass (what only we changed, in batches of 100);
- `conflicts`, `provisioning`, `deal_push`.

Both directions compare with the per-account agreed base (`SyncState.fields`), so our
own writes coming back are neither applied nor pushed again, many edits between two
passes are one write, and a crash loses nothing: the next pass sees the same
differences.
"""

from __future__ import annotations

from accounts.hubspot.inbound.compare import inbound_compare, initial_state, pulled_values
from accounts.hubspot.outbound.conflicts import conflict_resolve
from accounts.hubspot.outbound.deal_push import (
    DEAL_TO_COMPANY_PRIMARY,
    deals_push_pass,
)
from accounts.hubspot.outbound.provisioning import _created, provision
from accounts.hubspot.outbound.push import accounts_push, push_lock, push_pass
from accounts.hubspot.rules.deal_properties import deal_fingerprint
from accounts.hubspot.rules.field_rules import (
    CHECK_MARGIN,
    epoch_ms,
    journal_row,
    local_value,
    ours_ms,
    ours_value,
    remote_properties,
    rule_save,
    rules_load,
)
from accounts.hubspot.rules.sync_state import STATE_FIELDS, remote_of
from accounts.hubspot.rules.threeway import Rule

__all__ = [
    "CHECK_MARGIN",
    "DEAL_TO_COMPANY_PRIMARY",
    "STATE_FIELDS",
    "Rule",
    "_created",
    "accounts_push",
    "conflict_resolve",
    "deal_fingerprint",
    "deals_push_pass",
    "epoch_ms",
    "inbound_compare",
    "initial_state",
    "journal_row",
    "local_value",
    "ours_ms",
    "ours_value",
    "provision",
    "pulled_values",
    "push_lock",
    "push_pass",
    "remote_of",
    "remote_properties",
    "rule_save",
    "rules_load",
]
