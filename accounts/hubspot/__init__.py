"""The HubSpot integration: client, sandbox, and (later) mapping, engine and webhooks."""
