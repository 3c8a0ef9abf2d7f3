"""Every URL the project defines, for every role and for an anonymous visitor.

New URLs must be added to EXPECTED or `test_every_url_is_in_the_table` fails.
Columns: anonymous, admin, leader, csm (owner of "own", not of "other"), viewer.
302 for anonymous means the login redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ImportBatch
from success.alerts.models import Alert, AlertRule, ExpansionSignal
from success.health.models import HealthModel, HealthScore
from tests.factories import (
    AccountFactory,
    ContactFactory,
    DealFactory,
    MilestoneFactory,
    OnboardingPlanFactory,
    OnboardingTemplateFactory,
)

ROLES = ["anonymous", "admin", "leader", "csm", "viewer"]


def statuses(anon: int, admin: int, leader: int, csm: int, viewer: int) -> dict[str, int]:
    return dict(zip(ROLES, [anon, admin, leader, csm, viewer], strict=True))


READ = statuses(302, 200, 200, 200, 200)
LEADER_ONLY = statuses(302, 200, 200, 403, 403)
OWNER_WRITE = statuses(302, 200, 200, 200, 403)
OTHERS_WRITE = statuses(302, 200, 200, 403, 403)
ADMIN_ONLY = statuses(302, 200, 403, 403, 403)
POST_ONLY = statuses(302, 405, 405, 405, 405)
# The API answers 401 without credentials (no login redirect).
API_READ = statuses(401, 200, 200, 200, 200)
API_POST_ONLY = statuses(401, 405, 405, 405, 405)


def _success_kwargs(kind: str, account: Any) -> dict[str, Any]:
    """Success objects built on demand for one URL row (plans, reviews, renewals)."""
    from tests.factories import (
        BusinessReviewFactory,
        ObjectiveFactory,
        RenewalFactory,
        SuccessPlanFactory,
        SuccessTaskFactory,
    )

    if kind == "plan":
        return {"plan_pk": SuccessPlanFactory.create(account=account).pk}
    if kind == "objective":
        return {"pk": ObjectiveFactory.create(plan__account=account).pk}
    if kind == "task":
        return {"pk": SuccessTaskFactory.create(account=account).pk}
    if kind == "review":
        return {"pk": BusinessReviewFactory.create(account=account).pk}
    if kind == "renewal":
        return {"pk": RenewalFactory.create(account=account).pk}
    token = "t" * 43 if kind == "shared" else "revoked-token"
    SuccessPlanFactory.create(account=account, share_token=token if kind == "shared" else None)
    return {"token": token}


def _success_rows(
    kind: str, *, own: dict[str, int] = OWNER_WRITE, other: dict[str, int] = OTHERS_WRITE
) -> list[tuple[str, Callable[[Objects], dict[str, Any]], dict[str, int]]]:
    return [
        ("own", lambda o: _success_kwargs(kind, o["own"]), own),
        ("other", lambda o: _success_kwargs(kind, o["other"]), other),
    ]


def _playbook_run(account: Any) -> Any:
    """A run of a one-step playbook on `account`, started as the daily job would."""
    from django.utils import timezone

    from success.playbooks.services import playbook_save, run_start

    playbook = playbook_save(
        by=None,
        name=f"URL table {account.pk}",
        description="",
        is_active=True,
        version={
            "trigger_kind": "manual",
            "objective_kind": "renewal_renewed",
            "objective_days": 9,
        },
        steps=[{"kind": "task", "title": "Call", "due_offset_days": 0, "assignee": "owner"}],
    )
    return run_start(playbook=playbook, account=account, by=None, today=timezone.localdate())


def _milestone_kwargs(account: Any) -> dict[str, Any]:
    milestone = MilestoneFactory.create(plan__account=account)
    return {"pk": milestone.plan_id, "mpk": milestone.pk, "action": "complete"}


# url name -> list of (variant, kwargs from the objects, expected per role)
Objects = dict[str, Any]
EXPECTED: dict[str, list[tuple[str, Callable[[Objects], dict[str, Any]], dict[str, int]]]] = {
    "home": [("", lambda o: {}, READ)],
    # Probes need no login; /healthz fails here since no worker cluster runs in tests.
    "readyz": [("", lambda o: {}, statuses(200, 200, 200, 200, 200))],
    "healthz": [("", lambda o: {}, statuses(503, 503, 503, 503, 503))],
    "settings": [("", lambda o: {}, ADMIN_ONLY)],
    # Metrics: leaders, admins and viewers; a CSM sees their book on the home page.
    "metrics": [("", lambda o: {}, statuses(302, 200, 200, 403, 200))],
    "metrics_export": [("", lambda o: {}, statuses(302, 200, 200, 403, 200))],
    "metrics_drill": [("", lambda o: {"metric": "churn"}, statuses(302, 200, 200, 403, 200))],
    "metrics_drill_export": [
        ("", lambda o: {"metric": "churn"}, statuses(302, 200, 200, 403, 200))
    ],
    "login": [("", lambda o: {}, statuses(200, 200, 200, 200, 200))],
    "logout": [("", lambda o: {}, statuses(302, 405, 405, 405, 405))],
    "portfolio": [("", lambda o: {}, READ)],
    "portfolio_export": [("", lambda o: {}, READ)],
    "account": [("", lambda o: {"pk": o["own"].pk}, READ)],
    "accounts:create": [("", lambda o: {}, LEADER_ONLY)],
    "accounts:edit": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "accounts:stage": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "accounts:reassign": [("own", lambda o: {"pk": o["own"].pk}, LEADER_ONLY)],
    "accounts:contact_create": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "accounts:contact_edit": [
        ("own", lambda o: {"pk": o["own"].pk, "contact_pk": o["contact"].pk}, OWNER_WRITE),
    ],
    "accounts:deal_create": [("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE)],
    "accounts:deal_edit": [
        ("own", lambda o: {"pk": o["own"].pk, "deal_pk": o["deal"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk, "deal_pk": o["other_deal"].pk}, OTHERS_WRITE),
    ],
    "accounts:import_upload": [("", lambda o: {"kind": "accounts"}, LEADER_ONLY)],
    "accounts:import_preview": [("", lambda o: {"pk": o["batch"].pk}, LEADER_ONLY)],
    "accounts:import_skipped": [("", lambda o: {"pk": o["batch"].pk}, LEADER_ONLY)],
    # Health: everyone reads; admins configure the model; owners override.
    "health:models": [("", lambda o: {}, READ)],
    "health:model_new_version": [("", lambda o: {}, statuses(302, 405, 405, 405, 405))],
    "health:model_edit": [("", lambda o: {"pk": o["draft"].pk}, ADMIN_ONLY)],
    "health:model_preview": [("", lambda o: {"pk": o["draft"].pk}, ADMIN_ONLY)],
    "health:model_activate": [
        ("", lambda o: {"pk": o["draft"].pk}, statuses(302, 405, 405, 405, 405))
    ],
    "health:account": [("", lambda o: {"pk": o["own"].pk}, READ)],
    "health:override": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "health:override_end": [
        ("own", lambda o: {"pk": o["own"].pk}, statuses(302, 405, 405, 405, 405))
    ],
    "health:backtest": [("", lambda o: {}, LEADER_ONLY)],
    # Alerts: everyone reads their list; owners act; admins configure rules.
    # Notifications: everyone has an inbox and preferences; admins configure; the
    # signed links from emails and Slack work without signing in (400 on a bad token).
    "notifications:inbox": [("", lambda o: {}, READ)],
    "notifications:bell": [("", lambda o: {}, READ)],
    "notifications:read_all": [("", lambda o: {}, statuses(302, 405, 405, 405, 405))],
    "notifications:open": [("", lambda o: {"pk": 999999}, statuses(302, 404, 404, 404, 404))],
    "notifications:open_signed": [("", lambda o: {"token": "forged"}, statuses(*[400] * 5))],
    "notifications:unsubscribe": [("", lambda o: {"token": "forged"}, statuses(*[400] * 5))],
    "notifications:preferences": [("", lambda o: {}, READ)],
    "notifications:settings": [("", lambda o: {}, ADMIN_ONLY)],
    "notifications:webhook_create": [("", lambda o: {}, ADMIN_ONLY)],
    "notifications:webhook_edit": [
        ("", lambda o: {"pk": 999999}, statuses(302, 404, 403, 403, 403))
    ],
    "notifications:rule_setting": [("", lambda o: {"rule_pk": o["alert"].rule_id}, ADMIN_ONLY)],
    "notifications:deliveries": [("", lambda o: {}, ADMIN_ONLY)],
    "notifications:delivery_retry": [
        ("", lambda o: {"pk": 999999}, statuses(302, 405, 405, 405, 405))
    ],
    "alerts:list": [("", lambda o: {}, READ)],
    "alerts:close": [("", lambda o: {"pk": o["alert"].pk}, statuses(302, 405, 405, 405, 405))],
    "alerts:rules": [("", lambda o: {}, ADMIN_ONLY)],
    "alerts:rule_create": [("", lambda o: {}, ADMIN_ONLY)],
    "alerts:rule_edit": [("", lambda o: {"pk": o["alert"].rule_id}, ADMIN_ONLY)],
    "alerts:rules_run": [("", lambda o: {}, statuses(302, 405, 405, 405, 405))],
    "alerts:signals": [("", lambda o: {}, READ)],
    "alerts:hints": [("", lambda o: {}, ADMIN_ONLY)],
    "alerts:signal_follow_up": [
        ("", lambda o: {"pk": o["signal"].pk}, statuses(302, 405, 405, 405, 405))
    ],
    "alerts:signal_raise": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    # Playbooks: everyone reads; admins configure; runs change by POST only.
    "playbooks:list": [("", lambda o: {}, READ)],
    "playbooks:create": [("", lambda o: {}, ADMIN_ONLY)],
    "playbooks:run_now": [("", lambda o: {}, POST_ONLY)],
    "playbooks:runs": [("", lambda o: {}, READ)],
    "playbooks:run": [("", lambda o: {"pk": _playbook_run(o["other"]).pk}, READ)],
    "playbooks:run_snooze": [("", lambda o: {"pk": _playbook_run(o["own"]).pk}, POST_ONLY)],
    "playbooks:run_cancel": [("", lambda o: {"pk": _playbook_run(o["own"]).pk}, POST_ONLY)],
    "playbooks:step_complete": [
        ("", lambda o: {"pk": _playbook_run(o["own"]).steps.get().pk}, POST_ONLY)
    ],
    "playbooks:step_skip": [
        ("", lambda o: {"pk": _playbook_run(o["own"]).steps.get().pk}, POST_ONLY)
    ],
    "playbooks:detail": [("", lambda o: {"pk": _playbook_run(o["own"]).playbook_id}, READ)],
    "playbooks:edit": [("", lambda o: {"pk": _playbook_run(o["own"]).playbook_id}, ADMIN_ONLY)],
    "playbooks:start": [("", lambda o: {"pk": o["own"].pk}, POST_ONLY)],
    # A CSM reads the runs of their own book through the API.
    "api:playbook-run-list": [("", lambda o: {}, API_READ)],
    "api:playbook-run-detail": [
        ("own", lambda o: {"pk": _playbook_run(o["own"]).pk}, API_READ),
        (
            "other",
            lambda o: {"pk": _playbook_run(o["other"]).pk},
            statuses(401, 200, 200, 404, 200),
        ),
    ],
    "api:playbook-step-detail": [
        ("", lambda o: {"pk": _playbook_run(o["own"]).steps.get().pk}, API_READ)
    ],
    "api:playbook-step-complete": [
        ("", lambda o: {"pk": _playbook_run(o["own"]).steps.get().pk}, API_POST_ONLY)
    ],
    "api:playbook-step-skip": [
        ("", lambda o: {"pk": _playbook_run(o["own"]).steps.get().pk}, API_POST_ONLY)
    ],
    # API tokens page (admins); revoking is POST only.
    "accounts:api_tokens": [("", lambda o: {}, ADMIN_ONLY)],
    "accounts:api_token_revoke": [("", lambda o: {"pk": 1}, POST_ONLY)],
    # HubSpot: admins run the sync; everyone who reads an account reads its journal.
    # The webhook receiver needs no login (HubSpot signs it) and only takes POST.
    "hubspot:status": [("", lambda o: {}, ADMIN_ONLY)],
    "hubspot:import_start": [("", lambda o: {}, POST_ONLY)],
    "hubspot:sync_start": [("", lambda o: {}, POST_ONLY)],
    "hubspot:owner_map": [("", lambda o: {"pk": 1}, POST_ONLY)],
    "hubspot:issues": [("", lambda o: {}, ADMIN_ONLY)],
    "hubspot:issues_retry": [("", lambda o: {}, POST_ONLY)],
    "hubspot:issue_link": [("", lambda o: {"pk": 1}, POST_ONLY)],
    "hubspot:issue_create_new": [("", lambda o: {"pk": 1}, POST_ONLY)],
    "hubspot:owner_issue_map": [("", lambda o: {"pk": 1}, POST_ONLY)],
    "hubspot:journal": [("", lambda o: {}, ADMIN_ONLY)],
    "hubspot:account_journal": [("", lambda o: {"pk": o["own"].pk}, READ)],
    "hubspot:webhooks": [("", lambda o: {}, statuses(405, 405, 405, 405, 405))],
    "hubspot:field_rules": [("", lambda o: {}, ADMIN_ONLY)],
    "hubspot:provision_start": [("", lambda o: {}, POST_ONLY)],
    # CSMs see their own accounts' conflicts; viewers resolve nothing.
    "hubspot:conflicts": [("", lambda o: {}, OWNER_WRITE)],
    "hubspot:conflict_resolve": [("", lambda o: {"pk": 1}, POST_ONLY)],
    "hubspot:replay_start": [("", lambda o: {}, POST_ONLY)],
    "hubspot:drift": [("", lambda o: {}, ADMIN_ONLY)],
    "hubspot:reconcile_start": [("", lambda o: {}, POST_ONLY)],
    "hubspot:drift_repair": [("", lambda o: {"pk": 1}, POST_ONLY)],
    # The API docs page is for people, so it sends anonymous visitors to sign in.
    "api:schema": [("", lambda o: {}, API_READ)],
    "api:docs": [("", lambda o: {}, READ)],
    "api:account-list": [("", lambda o: {}, API_READ)],
    "api:account-detail": [("", lambda o: {"pk": o["own"].pk}, API_READ)],
    "api:account-stage": [("", lambda o: {"pk": o["own"].pk}, API_POST_ONLY)],
    "api:usage-snapshot-list": [("", lambda o: {}, API_READ)],
    "api:onboarding-plan-list": [("", lambda o: {}, API_READ)],
    "api:onboarding-plan-detail": [
        ("", lambda o: {"pk": OnboardingPlanFactory.create(account=o["own"]).pk}, API_READ)
    ],
    "api:onboarding-milestone-detail": [
        ("", lambda o: {"pk": MilestoneFactory.create(plan__account=o["own"]).pk}, API_READ)
    ],
    "api:success-plan-list": [("", lambda o: {}, API_READ)],
    "api:success-plan-detail": [
        ("", lambda o: {"pk": _success_kwargs("plan", o["own"])["plan_pk"]}, API_READ)
    ],
    "api:objective-detail": [("", lambda o: _success_kwargs("objective", o["own"]), API_READ)],
    "api:objective-progress": [
        ("", lambda o: _success_kwargs("objective", o["own"]), API_POST_ONLY)
    ],
    "api:business-review-list": [("", lambda o: {}, API_READ)],
    "api:business-review-detail": [("", lambda o: _success_kwargs("review", o["other"]), API_READ)],
    "api:renewal-list": [("", lambda o: {}, API_READ)],
    "api:renewal-detail": [("", lambda o: _success_kwargs("renewal", o["other"]), API_READ)],
    "api:renewal-forecast": [("", lambda o: _success_kwargs("renewal", o["own"]), API_POST_ONLY)],
    "api:health-score-list": [("", lambda o: {}, API_READ)],
    "api:health-score-detail": [("", lambda o: {"pk": o["score"].pk}, API_READ)],
    "api:account-health": [("", lambda o: {"pk": o["other"].pk}, API_READ)],
    # A CSM reads the alerts and signals of their own book, as on the alerts page.
    "api:alert-list": [("", lambda o: {}, API_READ)],
    "api:alert-detail": [
        ("own", lambda o: {"pk": o["alert"].pk}, API_READ),
        ("other", lambda o: {"pk": o["other_alert"].pk}, statuses(401, 200, 200, 404, 200)),
    ],
    "api:expansion-signal-list": [("", lambda o: {}, API_READ)],
    "api:expansion-signal-detail": [("", lambda o: {"pk": o["signal"].pk}, API_READ)],
    "api:onboarding-milestone-complete": [
        ("", lambda o: {"pk": MilestoneFactory.create(plan__account=o["own"]).pk}, API_POST_ONLY)
    ],
    # Success: plans, reviews, renewals. Viewers and other CSMs read; owners write.
    "success:my_work": [("", lambda o: {}, READ)],
    "success:renewals": [("", lambda o: {}, READ)],
    "success:renewals_export": [("", lambda o: {}, READ)],
    "success:plan": [("", lambda o: {"pk": o["own"].pk}, READ)],
    "success:plan_create": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "success:task_create": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "success:review_create": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "success:plan_edit": _success_rows("plan"),
    "success:plan_share": _success_rows("plan", own=POST_ONLY, other=POST_ONLY),
    "success:objective_create": _success_rows("plan"),
    "success:objective_value": _success_rows("objective"),
    "success:objective_status": _success_rows("objective"),
    "success:task_done": _success_rows("task", own=POST_ONLY, other=POST_ONLY),
    # The customer's link needs no login; once revoked it is a 404 for everyone.
    "success:shared_plan": [
        ("", lambda o: _success_kwargs("shared", o["own"]), statuses(200, 200, 200, 200, 200)),
        (
            "revoked",
            lambda o: _success_kwargs("revoked", o["own"]),
            statuses(404, 404, 404, 404, 404),
        ),
    ],
    "success:review": _success_rows("review", own=READ, other=READ),
    "success:review_hold": _success_rows("review"),
    "success:review_cancel": _success_rows("review", own=POST_ONLY, other=POST_ONLY),
    "success:renewal": _success_rows("renewal", own=READ, other=READ),
    "success:renewal_forecast": _success_rows("renewal"),
    "success:renewal_close": _success_rows("renewal"),
    "success:renewal_deal_recreate": _success_rows("renewal", own=POST_ONLY, other=POST_ONLY),
    # Django admin: staff only; everyone else is sent to the admin login.
    "admin:*": [("", lambda o: {}, statuses(302, 200, 302, 302, 302))],
    "onboarding:my": [("", lambda o: {}, READ)],
    "onboarding:insights": [("", lambda o: {}, LEADER_ONLY)],
    "onboarding:plan_start": [
        ("own", lambda o: {"pk": o["own"].pk}, OWNER_WRITE),
        ("other", lambda o: {"pk": o["other"].pk}, OTHERS_WRITE),
    ],
    "onboarding:plan": [
        ("", lambda o: {"pk": OnboardingPlanFactory.create(account=o["own"]).pk}, READ)
    ],
    "onboarding:milestone_add": [
        ("own", lambda o: {"pk": OnboardingPlanFactory.create(account=o["own"]).pk}, OWNER_WRITE),
        (
            "other",
            lambda o: {"pk": OnboardingPlanFactory.create(account=o["other"]).pk},
            OTHERS_WRITE,
        ),
    ],
    "onboarding:milestone_action": [
        ("own", lambda o: _milestone_kwargs(o["own"]), OWNER_WRITE),
        ("other", lambda o: _milestone_kwargs(o["other"]), OTHERS_WRITE),
    ],
    "onboarding:templates": [("", lambda o: {}, ADMIN_ONLY)],
    "onboarding:template_create": [("", lambda o: {}, ADMIN_ONLY)],
    "onboarding:template": [
        ("", lambda o: {"pk": OnboardingTemplateFactory.create().pk}, ADMIN_ONLY)
    ],
    "onboarding:template_apply": [
        ("", lambda o: {"pk": OnboardingTemplateFactory.create().pk}, ADMIN_ONLY)
    ],
    "onboarding:template_action": [
        (
            "",
            lambda o: {"pk": OnboardingTemplateFactory.create().pk, "action": "archive"},
            POST_ONLY,
        )
    ],
    "onboarding:template_milestone_create": [
        ("", lambda o: {"pk": OnboardingTemplateFactory.create().pk}, ADMIN_ONLY)
    ],
    **{
        f"onboarding:template_milestone_{name}": [
            (
                "",
                lambda o: {
                    "pk": (t := OnboardingTemplateFactory.create()).pk,
                    "mpk": t.milestones.values_list("pk", flat=True)[0],
                },
                expected,
            )
        ]
        for name, expected in [("edit", ADMIN_ONLY), ("move", POST_ONLY), ("delete", POST_ONLY)]
    },
}


def _names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            if pattern.namespace == "admin":
                names.add("admin:*")
                continue
            names |= _names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{prefix}{pattern.name}")
    return names


def test_every_url_is_in_the_table() -> None:
    defined = _names(get_resolver())
    assert defined - set(EXPECTED) == set(), "add these URLs to EXPECTED"
    assert set(EXPECTED) - defined == set(), "these URLs no longer exist"


@pytest.fixture
def objects(
    db: Any, csm: Any, other_csm: Any, admin_user: Any, default_health_model: Any
) -> Objects:
    own = AccountFactory.create(owner=csm)
    other = AccountFactory.create(owner=other_csm)
    return {
        "own": own,
        "other": other,
        "contact": ContactFactory.create(account=own),
        "deal": DealFactory.create(account=own),
        "other_deal": DealFactory.create(account=other),
        "draft": HealthModel.objects.create(version=99, status="draft"),
        "alert": Alert.objects.create(
            account=own,
            rule=AlertRule.objects.create(name="Late", kind="onboarding_late"),
            message="Call",
            due_on=date.today(),
        ),
        "other_alert": Alert.objects.create(
            account=other,
            rule=AlertRule.objects.create(name="Quiet", kind="no_login", days=30),
            message="Call them",
            due_on=date.today(),
        ),
        "score": HealthScore.objects.create(
            account=other,
            date=date.today(),
            model=HealthModel.objects.get(status="active"),
            score=71,
            band="green",
        ),
        "signal": ExpansionSignal.objects.create(account=own, note="More seats"),
        "batch": ImportBatch.objects.create(
            kind="accounts", filename="a.csv", content="name\nAcme\n", created_by=admin_user
        ),
    }


CASES = [
    (name, variant, role)
    for name, rows in EXPECTED.items()
    for variant, _kwargs, _expected in rows
    for role in ROLES
]


@pytest.mark.parametrize(("name", "variant", "role"), CASES)
def test_url_answers_role_as_the_table_says(
    client: Any,
    objects: Objects,
    admin_user: Any,
    leader: Any,
    csm: Any,
    viewer: Any,
    name: str,
    variant: str,
    role: str,
) -> None:
    from django.urls import reverse

    kwargs_for, expected = next((k, e) for v, k, e in EXPECTED[name] if v == variant)
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    users = {"admin": admin_user, "leader": leader, "csm": csm, "viewer": viewer}
    if role != "anonymous":
        client.force_login(users[role])
    url = reverse("admin:index" if name == "admin:*" else name, kwargs=kwargs_for(objects))
    response = client.get(url)
    assert response.status_code == expected[role], f"{role} GET {url}"
