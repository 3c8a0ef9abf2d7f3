from django.apps import AppConfig


class SupportConfig(AppConfig):
    """What the customer's support desk, surveys and conversations say: tickets,
    feedback submissions (NPS, CSAT, CES) and engagements (notes, calls, meetings,
    emails, tasks). CRM records like contacts and deals, so they live beside them in
    `accounts`, where the HubSpot plug-in (which may import `accounts` but never
    `success`) writes them and `success` (health, alerts, expansion) reads them. Nothing
    here knows HubSpot's sync state; that stays in `accounts.hubspot`."""

    name = "accounts.support"
    label = "support"
    verbose_name = "Support"
