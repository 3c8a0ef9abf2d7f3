from django.db import migrations

# Three plays from the domain's seed rules, each started by the default alert rule of
# the same condition; admins edit, pause or delete them on the playbooks page.
DEFAULTS = [
    {
        "name": "Health fell sharply",
        "description": "Health dropped 20% or more within a week: find out why before the customer drifts.",
        "rule": "health_drop",
        "objective_kind": "health_band",
        "objective_band": "yellow",
        "objective_days": 30,
        "steps": [
            ("Read the health breakdown and the timeline", "Which measure pulls the score down, and since when? Check usage, tickets and the last touch.", 0),
            ("Call the champion", "Ask what changed (team, priorities, problems). Log the call on the timeline.", 2),
            ("Agree a recovery plan", "Add an objective to the success plan for what must improve, with a date.", 7),
        ],
        "leader_step": ("Review the recovery with the CSM", "Is the plan credible? Does the account need an executive sponsor call?", 10),
    },
    {
        "name": "No login or touch in 30 days",
        "description": "Nobody has used the product for a month: re-engage before the renewal comes up.",
        "rule": "no_login",
        "objective_kind": "alert_cleared",
        "objective_band": "",
        "objective_days": 30,
        "steps": [
            ("Check who stopped using it", "Compare active users with seats; look for a champion who left.", 0),
            ("Reach out to the main contact", "Offer a short session on what they bought it for.", 3),
            ("Run a re-onboarding session", "Show the two workflows that matter most to them.", 14),
        ],
        "leader_step": None,
    },
    {
        "name": "Renewal in 90 days without a business review",
        "description": "A renewal is near and nobody has reviewed value with the customer recently.",
        "rule": "renewal_without_review",
        "objective_kind": "renewal_renewed",
        "objective_band": "",
        "objective_days": 120,
        "steps": [
            ("Prepare the value summary", "Outcomes achieved, objectives progress, usage trend: the review pack.", 0),
            ("Hold the business review", "Agree next year's outcomes; listen for risk and expansion.", 21),
            ("Forecast the renewal", "Set the category and ARR with a reason after the review.", 28),
        ],
        "leader_step": None,
    },
]


def create_playbooks(apps, schema_editor):
    Playbook = apps.get_model("playbooks", "Playbook")
    Version = apps.get_model("playbooks", "PlaybookVersion")
    Step = apps.get_model("playbooks", "PlaybookStep")
    AlertRule = apps.get_model("alerts", "AlertRule")
    if Playbook.objects.exists():
        return
    for spec in DEFAULTS:
        rule = AlertRule.objects.filter(kind=spec["rule"]).order_by("pk").first()
        playbook = Playbook.objects.create(name=spec["name"], description=spec["description"])
        objective, band = spec["objective_kind"], spec["objective_band"]
        if rule is None and objective == "alert_cleared":
            # Without its rule (an admin deleted it) the play starts by hand only,
            # and "alert cleared" has no alert to clear: measure health instead.
            objective, band = "health_band", "yellow"
        version = Version.objects.create(
            playbook=playbook,
            number=1,
            trigger_kind="alert_rule" if rule else "manual",
            trigger_rule=rule,
            objective_kind=objective,
            objective_band=band,
            objective_days=spec["objective_days"],
        )
        steps = list(spec["steps"])
        for position, (title, guidance, offset) in enumerate(steps):
            Step.objects.create(
                version=version,
                position=position,
                kind="task",
                title=title,
                guidance=guidance,
                due_offset_days=offset,
                assignee="owner",
            )
        if spec["leader_step"]:
            title, guidance, offset = spec["leader_step"]
            Step.objects.create(
                version=version,
                position=len(steps),
                kind="task",
                title=title,
                guidance=guidance,
                due_offset_days=offset,
                assignee="leader",
            )


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0001_initial"), ("alerts", "0002_default_rules")]
    operations = [migrations.RunPython(create_playbooks, migrations.RunPython.noop)]
