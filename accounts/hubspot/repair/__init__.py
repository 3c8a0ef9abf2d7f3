"""Repair, the top layer of the engine: reconciliation and drift repair, replay of a
time window (`reconcile`), and re-trying quarantined records (`quarantine`)."""
