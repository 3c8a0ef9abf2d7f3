from django.apps import AppConfig


class HubSpotConfig(AppConfig):
    """The HubSpot integration, a plug-in app nested in accounts (like success.health):
    it owns its models, migrations, commands, URLs and admin, and the core apps never
    import it. They notify it through settings hooks (ACCOUNT_CHANGED_HOOKS,
    OPEN_CONFLICTS_HOOKS); drop it from INSTALLED_APPS and Lifecycle runs without HubSpot."""

    name = "accounts.hubspot"
    label = "hubspot"
    verbose_name = "HubSpot"
