"""Rules: what maps to what and who wins. The synced fields and their defaults
(`fields`), pure mapping between HubSpot records and our fields (`mapping`), per-field
owners (`field_rules`), the pure three-way decision (`threeway`) and the agreed base
it decides against (`sync_state`). Imports transport only."""
