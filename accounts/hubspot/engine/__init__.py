"""The sync engine: what to pull from HubSpot and how it lands in our tables.

`importer` (full import, resumable), `poller` (incremental sync and archived sweep),
`events` (webhook events), `writers` (one page in a fixed number of queries) and
`retry` (quarantined records, once their mapping is fixed).
"""

from __future__ import annotations

from django.conf import settings

from ..client import HubSpotClient
from ..mapping import MappingConfig


def mapping_config() -> MappingConfig:
    """The configured mapping (settings.HUBSPOT_ARR_SOURCE: a company property, or
    `won_deals` for the sum of won deals)."""
    return MappingConfig(arr_source=getattr(settings, "HUBSPOT_ARR_SOURCE", "annualrevenue"))


def client_from_settings() -> HubSpotClient:
    return HubSpotClient.from_settings()
