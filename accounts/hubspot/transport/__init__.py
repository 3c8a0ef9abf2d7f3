"""Transport, the lowest layer: the HubSpot client (one method per call we use), HTTP
retries, the shared rate-limit budget and our HubSpotError. Knows nothing of accounts."""
