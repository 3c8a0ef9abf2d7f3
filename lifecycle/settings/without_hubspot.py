"""Lifecycle without its HubSpot integration: the test settings minus the hubspot app
and its hooks. The plug-in's test (tests/lifecycle/test_without_hubspot.py) runs
`check`, `migrate` and pages with it; a deployment that does without HubSpot does the
same two removals in its own settings module."""

from .test import *  # noqa: F403
from .test import INSTALLED_APPS

HUBSPOT_APP = "accounts.hubspot"
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != HUBSPOT_APP]
ACCOUNT_CHANGED_HOOKS = []
OPEN_CONFLICTS_HOOKS = []
HEALTH_REPORT_HOOKS = []
WORK_RECOVER_HOOKS = []
CRM_TASKS_CHANGED_HOOKS = []
