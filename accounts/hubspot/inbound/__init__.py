"""Inbound: HubSpot -> Lifecycle. Full import (`importer`), incremental sync and the
archived sweep (`poller`, `cursors`), webhook events (`events`), and page writers per
object type (`companies`, `deals`, `contacts`, registered in `writers`), which compare
two-way fields with the agreed base (`compare`). Imports rules and transport."""
