"""The HubSpot pages, one module per page family: `sync_runs` (status, import and sync
runs, owner mapping, quarantined records, journal, the webhook endpoint) and `two_way`
(field rules and provisioning, the conflict inbox, drift and replay)."""
