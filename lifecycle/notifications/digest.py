"""The daily digest: per person, at the local hour they chose, what needs them
today; leaders also get their team's roll-up. Built for a batch of people in a
fixed number of queries (one per section, whatever the batch size), rendered
without further queries, and written to the outbox as one email each.
Nothing to say means no email."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import ForecastCategory, HealthBand, User
from accounts.roles import Role
from onboarding.models import Milestone
from success.alerts.models import Alert, ExpansionSignal
from success.models import BusinessReview, Renewal, SuccessTask

from . import selectors
from .models import Kind, Notification, Profile
from .services import Draft, outbox_write
from .tokens import absolute

LIVE_ALERTS = [Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]
RENEWAL_WINDOWS = (30, 60, 90)
REVIEW_RECENT_DAYS = 120
SIGNAL_NEAR_HOURS = 12
SECTION_LIMIT = 10
DIGEST_ROLES = [Role.ADMIN.value, Role.LEADER.value, Role.CSM.value]
LEADER_ROLES = {Role.ADMIN.value, Role.LEADER.value}


@dataclass
class Line:
    title: str
    account: str
    url: str
    note: str = ""


@dataclass
class Section:
    key: str
    heading: str
    lines: list[Line] = field(default_factory=list)

    @property
    def shown(self) -> list[Line]:
        return self.lines[:SECTION_LIMIT]

    @property
    def more(self) -> int:
        return max(len(self.lines) - SECTION_LIMIT, 0)


@dataclass
class TeamRow:
    name: str
    overdue_alerts: int = 0
    overdue_tasks: int = 0
    late_milestones: int = 0
    renewals_at_risk: int = 0

    @property
    def total(self) -> int:
        return (
            self.overdue_alerts + self.overdue_tasks + self.late_milestones + self.renewals_at_risk
        )


@dataclass
class Digest:
    user: User
    today: date
    time_zone: str
    sections: list[Section]
    team: list[TeamRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(s.lines for s in self.sections) and not any(r.total for r in self.team)

    @property
    def count(self) -> int:
        return sum(len(s.lines) for s in self.sections)


def _sections() -> dict[str, Section]:
    return {
        "alerts_new": Section("alerts_new", "New alerts"),
        "alerts_overdue": Section("alerts_overdue", "Overdue alerts"),
        "tasks_overdue": Section("tasks_overdue", "Tasks overdue"),
        "tasks_due": Section("tasks_due", "Tasks due today"),
        "signals": Section("signals", f"Expansion signals due within {SIGNAL_NEAR_HOURS} hours"),
        "renewals": Section("renewals", "Renewals in the next 90 days at risk or without a review"),
        "milestones": Section("milestones", "Onboarding milestones late"),
    }


def local_today(profile: Profile, now: datetime) -> date:
    return now.astimezone(profile.zone).date()


def _roles(user_ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for uid, name in User.groups.through.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "group__name"
    ):
        out[uid].add(name)
    return out


def _renewals_at_risk(owner_ids: list[int], first: date, last: date) -> Any:
    recent = BusinessReview.objects.filter(
        account=OuterRef("account_id"),
        status=BusinessReview.Status.HELD,
        held_on__gte=first - timedelta(days=REVIEW_RECENT_DAYS),
    )
    return (
        Renewal.objects.filter(
            status=Renewal.Status.OPEN,
            account__owner_id__in=owner_ids,
            renewal_date__gte=first,
            renewal_date__lte=last,
        )
        .annotate(reviewed=Exists(recent))
        .filter(
            Q(forecast_category__in=[ForecastCategory.AT_RISK, ForecastCategory.CHURN])
            | Q(account__health_band=HealthBand.RED)
            | Q(reviewed=False)
        )
    )


def _team_rollups(
    leaders: list[int], profiles: dict[int, Profile], now: datetime, today: date
) -> dict[int, list[TeamRow]]:
    """Each leader's team (the people whose profile names them, else every CSM)
    with counts of what is late. Five queries for any number of leaders."""
    if not leaders:
        return {}
    members: dict[int, list[int]] = defaultdict(list)
    for uid, leader in Profile.objects.filter(team_leader_id__in=leaders).values_list(
        "user_id", "team_leader_id"
    ):
        assert leader is not None
        members[leader].append(uid)
    csms = {
        u.pk: u for u in User.objects.filter(is_active=True, groups__name=Role.CSM.value).distinct()
    }
    for leader in leaders:
        if not members.get(leader):
            members[leader] = list(csms)
    everyone = sorted({uid for ids in members.values() for uid in ids})
    names = {u.pk: str(u) for u in csms.values()}
    missing = [pk for pk in everyone if pk not in names]
    if missing:
        names.update({u.pk: str(u) for u in User.objects.filter(pk__in=missing)})

    def counted(rows: Any, key: str) -> dict[int, int]:
        return {r[key]: r["n"] for r in rows.values(key).annotate(n=Count("id"))}

    alerts = counted(
        Alert.objects.filter(owner_id__in=everyone, status__in=LIVE_ALERTS, due_on__lt=today),
        "owner_id",
    )
    tasks = counted(
        SuccessTask.objects.filter(
            assignee_user_id__in=everyone, done_at__isnull=True, due_date__lt=today
        ),
        "assignee_user_id",
    )
    milestones = counted(
        Milestone.objects.filter(
            plan__account__owner_id__in=everyone,
            plan__finished_on__isnull=True,
            completed_on__isnull=True,
            skipped_on__isnull=True,
            due_date__lt=today,
        ),
        "plan__account__owner_id",
    )
    renewals = counted(
        _renewals_at_risk(everyone, today, today + timedelta(days=90)), "account__owner_id"
    )
    out: dict[int, list[TeamRow]] = {}
    for leader in leaders:
        rows = [
            TeamRow(
                name=names.get(uid, str(uid)),
                overdue_alerts=alerts.get(uid, 0),
                overdue_tasks=tasks.get(uid, 0),
                late_milestones=milestones.get(uid, 0),
                renewals_at_risk=renewals.get(uid, 0),
            )
            for uid in members[leader]
            if uid != leader
        ]
        out[leader] = sorted(rows, key=lambda r: (-r.total, r.name))
    return out


def digests_build(*, users: list[User], now: datetime) -> list[Digest]:
    """Digests for these people as of `now`, each in their own zone. Eleven
    queries for any number of people (profiles, roles, five sections, and the
    leaders' roll-up when the batch has a leader)."""
    if not users:
        return []
    ids = [u.pk for u in users]
    profiles = selectors.profiles_for(ids)
    todays = {pk: local_today(p, now) for pk, p in profiles.items()}
    first, last = min(todays.values()), max(todays.values())
    sections: dict[int, dict[str, Section]] = {pk: _sections() for pk in ids}
    alerts_url, signals_url = reverse("alerts:list"), reverse("alerts:signals")

    for a in (
        Alert.objects.filter(owner_id__in=ids, status__in=LIVE_ALERTS)
        .filter(Q(opened_at__gte=now - timedelta(hours=24)) | Q(due_on__lt=last))
        .select_related("account")
        .order_by("due_on", "pk")
    ):
        assert a.owner_id is not None
        today = todays[a.owner_id]
        line = Line(a.message, a.account.name, absolute(f"{alerts_url}#alert-{a.pk}"))
        if a.due_on < today:
            line.note = f"due {a.due_on:%b %-d}"
            sections[a.owner_id]["alerts_overdue"].lines.append(line)
        elif a.opened_at >= now - timedelta(hours=24):
            sections[a.owner_id]["alerts_new"].lines.append(line)

    for t in (
        SuccessTask.objects.filter(assignee_user_id__in=ids, done_at__isnull=True)
        .filter(due_date__lte=last)
        .select_related("account")
        .order_by("due_date", "pk")
    ):
        assert t.assignee_user_id is not None and t.due_date is not None
        today = todays[t.assignee_user_id]
        line = Line(t.title, t.account.name, absolute(reverse("success:my_work")))
        if t.due_date < today:
            line.note = f"due {t.due_date:%b %-d}"
            sections[t.assignee_user_id]["tasks_overdue"].lines.append(line)
        elif t.due_date == today:
            sections[t.assignee_user_id]["tasks_due"].lines.append(line)

    for s in (
        ExpansionSignal.objects.filter(
            account__owner_id__in=ids,
            followed_up_at__isnull=True,
            follow_up_by__lte=now + timedelta(hours=SIGNAL_NEAR_HOURS),
        )
        .select_related("account")
        .order_by("follow_up_by")
    ):
        owner = s.account.owner_id
        assert owner is not None
        late = s.follow_up_by < now
        when = s.follow_up_by.astimezone(profiles[owner].zone)
        sections[owner]["signals"].lines.append(
            Line(
                s.note[:200],
                s.account.name,
                absolute(f"{signals_url}#signal-{s.pk}"),
                f"{'overdue since' if late else 'follow up by'} {when:%b %-d %H:%M}",
            )
        )

    for r in (
        _renewals_at_risk(ids, first, last + timedelta(days=max(RENEWAL_WINDOWS)))
        .select_related("account")
        .order_by("renewal_date")
    ):
        owner = r.account.owner_id
        assert owner is not None
        days = (r.renewal_date - todays[owner]).days
        if days < 0 or days > max(RENEWAL_WINDOWS):
            continue
        window = next(w for w in RENEWAL_WINDOWS if days <= w)
        why = (
            r.get_forecast_category_display()
            if r.forecast_category in (ForecastCategory.AT_RISK, ForecastCategory.CHURN)
            else "health red"
            if r.account.health_band == HealthBand.RED
            else f"no review in {REVIEW_RECENT_DAYS} days"
        )
        sections[owner]["renewals"].lines.append(
            Line(
                f"Renews {r.renewal_date:%b %-d} ({r.current_arr:,.0f} {r.account.currency})",
                r.account.name,
                absolute(r.get_absolute_url()),
                f"within {window} days · {why}",
            )
        )

    for m in (
        Milestone.objects.filter(
            plan__account__owner_id__in=ids,
            plan__finished_on__isnull=True,
            completed_on__isnull=True,
            skipped_on__isnull=True,
            due_date__lt=last,
        )
        .select_related("plan__account")
        .order_by("due_date", "pk")
    ):
        owner = m.plan.account.owner_id
        assert owner is not None
        if m.due_date < todays[owner]:
            sections[owner]["milestones"].lines.append(
                Line(
                    m.title,
                    m.plan.account.name,
                    absolute(reverse("onboarding:plan", args=[m.plan_id])),
                    f"due {m.due_date:%b %-d}",
                )
            )

    roles = _roles(ids)
    leaders = [pk for pk in ids if roles[pk] & LEADER_ROLES]
    team = _team_rollups(leaders, profiles, now, first) if leaders else {}
    return [
        Digest(
            user=u,
            today=todays[u.pk],
            time_zone=profiles[u.pk].time_zone,
            sections=list(sections[u.pk].values()),
            team=team.get(u.pk, []),
        )
        for u in users
    ]


def digest_render(digest: Digest) -> tuple[str, str, str]:
    """(subject, text, html) of one digest; no queries."""
    context = {"d": digest, "site_url": settings.SITE_URL}
    subject = (
        f"Lifecycle digest for {digest.today:%a %b %-d}: "
        f"{digest.count} item{'s' if digest.count != 1 else ''}"
    )
    text = render_to_string("notifications/email/digest.txt", context)
    html = render_to_string("notifications/email/digest.html", context)
    return subject, text, html


def candidates(*, now: datetime, usernames: list[str] | None = None) -> list[User]:
    """People who get digests: active, with an email and a working role."""
    qs = User.objects.filter(is_active=True).exclude(email="")
    if usernames:
        return list(qs.filter(username__in=usernames))
    return list(qs.filter(Q(is_superuser=True) | Q(groups__name__in=DIGEST_ROLES)).distinct())


def wanting_digest(*, users: list[User]) -> list[User]:
    """Those who did not turn the digest email off (or unsubscribe)."""
    choices = selectors.choices_for([u.pk for u in users])
    return [u for u in users if choices[u.pk][Kind.DIGEST].email]


def due_now(*, users: list[User], now: datetime) -> list[User]:
    """Those whose local hour has reached their digest hour and who had no digest
    today (so a late worker catches up), and who want the digest by email."""
    profiles = selectors.profiles_for([u.pk for u in users])
    choices = selectors.choices_for([u.pk for u in users])
    out = []
    for u in users:
        p = profiles[u.pk]
        local = now.astimezone(p.zone)
        if not choices[u.pk][Kind.DIGEST].email:
            continue
        if local.hour >= p.digest_hour and p.last_digest_on != local.date():
            out.append(u)
    return out


@transaction.atomic
def digests_write(*, digests: list[Digest], now: datetime, forced: bool = False) -> int:
    """Write the non-empty digests to the outbox (one email each) and note the
    day on every profile, empty ones too, so each person is looked at once a
    day. A forced run (send_digests --now) gets its own key and notes nothing."""
    drafts = []
    for d in digests:
        if d.is_empty:
            continue
        subject, text, html = digest_render(d)
        key = f"digest:{d.user.pk}:{d.today:%Y-%m-%d}"
        if forced:
            key += f":now:{now.timestamp():.6f}"
        drafts.append(
            Draft(
                key=key,
                kind=Kind.DIGEST,
                title=subject,
                body=text,
                html=html,
                path=reverse("success:my_work"),
                recipient_id=d.user.pk,
                email=d.user.email,
            )
        )
    taken = set(
        Notification.objects.filter(key__in=[d.key for d in drafts]).values_list("key", flat=True)
    )
    written = outbox_write(drafts=[d for d in drafts if d.key not in taken])
    if not forced and digests:
        Profile.objects.bulk_create(
            [
                Profile(user_id=d.user.pk, last_digest_on=d.today, time_zone=d.time_zone)
                for d in digests
            ],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=["last_digest_on"],
        )
    return len(written)


def digests_send_due(*, now: datetime, batch: int = 200) -> int:
    """The scheduled pass: build and queue the digests that are due."""
    people = due_now(users=candidates(now=now), now=now)
    queued = 0
    for start in range(0, len(people), batch):
        chunk = people[start : start + batch]
        queued += digests_write(digests=digests_build(users=chunk, now=now), now=now)
    return queued
