"""The account overview's content, written in Python from the rows of `reads`.

The page's template and its eight panel partials ran about 2,700 template nodes per
request (a 50-entry timeline with three date formats per entry, the support
panel's lists, an include per badge), more than the page's SQL. The markup is the
templates' (moved to tests/lifecycle/account_page_templates/, which renders them
for the same rows and compares, whitespace aside)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from html import escape
from typing import Any

from django.template.defaultfilters import (
    capfirst,
    floatformat,
    timesince_filter,
    timeuntil_filter,
    truncatechars,
)
from django.template.defaultfilters import date as date_filter
from django.urls import get_script_prefix, reverse
from django.utils import formats
from django.utils.dates import MONTHS_3, MONTHS_AP
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import is_aware, localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.formats import date_display
from accounts.links import url_for_ids
from accounts.naturaltime import naturaltime_for
from accounts.templatetags.account_badges import forecast_badge, health_badge_html
from accounts.templatetags.formats import money
from onboarding.templatetags.onboarding_tags import due_in_words
from success.playbooks.forms import StartForm

from .reads import (
    AccountHead,
    AccountSuccess,
    AlertRow,
    ContactRow,
    DealRow,
    OnboardingPlanRow,
    RunRow,
    SupportPanel,
    TimelineEntry,
    Usage,
)


def template_localtime(value: datetime) -> datetime:
    """What templates do to a datetime before writing it (USE_TZ is on): the
    current time zone's local time."""
    return localtime(value) if is_aware(value) else value


def _e(value: object) -> str:
    """What `{{ value }}` writes for a plain value: localized, then escaped as
    Django's escape does (html.escape of its text)."""
    if isinstance(value, str):
        return escape(value)
    if type(value) is int:  # what localize writes for one (no thousands separator)
        return str(value)
    if not isinstance(value, _LOCALIZED):  # localize returns it as it is
        return escape(str(value))
    if isinstance(value, datetime):
        value = template_localtime(value)
    return escape(str(formats.localize(value)))


# What formats.localize changes (numbers, bools, dates and times); anything else it
# returns as it is (a Person, a lazy label).
_LOCALIZED = (bool, int, float, Decimal, date, time)


def _day(value: date | None) -> str:
    """`|day`."""
    return date_display(value) if isinstance(value, date) else ""


def _date(value: date | datetime, arg: str) -> str:
    """`|date:arg` (datetimes in the current time zone, as the filter gets them). The
    page's own formats are written from the month names translated once per language
    (`_stamps`); Django's formatter parses the format and translates per call."""
    if isinstance(value, datetime):
        value = template_localtime(value)
    fast = _DATE_FORMATS.get(arg)
    if fast is not None and isinstance(value, date):
        return escape(fast(_stamps().short, value))
    return escape(date_filter(value, arg))


# dateformat's M (MONTHS_3, title case), j (day), Y (%04d), m and d (%02d).
_DATE_FORMATS: dict[str, Callable[[list[str], date], str]] = {
    "M j, Y": lambda short, d: f"{short[d.month]} {d.day}, {d.year:04d}",
    "M j": lambda short, d: f"{short[d.month]} {d.day}",
    "Y-m-d": lambda short, d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
}


def _or(text: str, default: str) -> str:
    """`|default:default` of an already written value."""
    return text or default


@cache
def _ids_url(name: str, prefix: str) -> Callable[[int], str]:
    return url_for_ids(name)


def _url(name: str, pk: int) -> str:
    """`{% url name pk %}`, reversed once per process (and script prefix)."""
    return _ids_url(name, get_script_prefix())(pk)


@cache
def _plain_url(name: str, prefix: str) -> str:
    return reverse(name)


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


def _head(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    actions = ""
    if c["can_edit"]:
        actions += (
            f'\n      <a class="btn" href="{_url("accounts:edit", a.pk)}">Edit</a>'
            f'\n      <a class="btn btn-primary" href="{_url("accounts:stage", a.pk)}">'
            "Change stage</a>\n    "
        )
    reassign = ""
    if c["can_reassign"]:
        reassign = f'<a class="btn" href="{_url("accounts:reassign", a.pk)}">Reassign</a>'
    archived = ' <span class="badge">Archived</span>' if a.status == "archived" else ""
    return (
        '\n<div class="page-head">\n  <div>\n'
        f'    <p class="muted small"><a href="{_plain_url("portfolio", get_script_prefix())}">'
        "Portfolio</a> /</p>\n"
        f'    <h1>{_e(a.name)} <span class="badge stage-{_e(a.stage)}">'
        f"{_e(a.get_stage_display)}</span>{archived}</h1>\n"
        f'    <p class="muted">{_e(a.domain) or "No domain"} · {_e(a.get_segment_display)}'
        f" · Owner: <strong>{_e(a.owner) if a.owner else 'Unassigned'}</strong></p>\n"
        '  </div>\n  <div class="actions">\n    '
        f"{actions}\n    {reassign}\n  </div>\n</div>\n\n"
    )


def _facts(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    renewal = _or(_day(a.renewal_date), "—")
    if a.renewal_date:
        if a.renewal_date < c["today"]:
            when = f"{_e(timesince_filter(a.renewal_date))} ago"
        else:
            when = f"in {_e(timeuntil_filter(a.renewal_date))}"
        renewal += f' <span class="muted small">({when})</span>'
    onboarding = "—"
    if a.onboarding_status:
        onboarding = _e(capfirst(a.onboarding_status))
        if a.onboarding_progress is not None:
            onboarding += f" · {_e(a.onboarding_progress)}%"
    hubspot = _e(a.hubspot_id) if a.hubspot_id else "Not linked"
    if c["hubspot_installed"]:
        journal = _url("hubspot:account_journal", a.pk)
        hubspot += f' · <a href="{journal}">Sync journal</a>'
    conflicts = c["sync_conflicts"]
    if conflicts:
        hubspot += (
            ' · <a class="badge badge-red" '
            f'href="{_plain_url("hubspot:conflicts", get_script_prefix())}">'
            f"{_e(conflicts)} sync conflict{'' if conflicts == 1 else 's'}</a>"
        )
    return (
        '<section class="panel">\n  <dl class="facts">\n'
        f"    <div><dt>ARR</dt><dd>{_e(money(a.arr))} {_e(a.currency)}</dd></div>\n"
        f"    <div><dt>Contract start</dt><dd>{_or(_day(a.contract_start), '—')}</dd></div>\n"
        f"    <div><dt>Renewal</dt><dd>{renewal}</dd></div>\n"
        "    <div><dt>Health</dt><dd>"
        f"{health_badge_html(score=a.health_score, band=a.health_band)}\n</dd></div>\n"
        f"    <div><dt>Onboarding</dt><dd>{onboarding}</dd></div>\n"
        "    <div><dt>Next business review</dt>"
        f"<dd>{_or(_day(a.next_business_review), '—')}</dd></div>\n"
        "    <div><dt>Renewal forecast</dt>"
        f"<dd>{_e(a.get_renewal_forecast_category_display) or '—'}</dd></div>\n"
        f"    <div><dt>HubSpot</dt><dd>{hubspot}</dd></div>\n"
        "  </dl>\n</section>\n\n"
    )


def _onboarding(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    plans: list[OnboardingPlanRow] = c["onboarding_plans"]
    start = ""
    if c["can_edit"] and (not plans or not plans[0].is_active):
        start = (
            f'<a class="btn btn-small" href="{_url("onboarding:plan_start", a.pk)}">'
            "Start onboarding</a>"
        )
    out = f'<section class="panel" id="onboarding">\n  <h2>Onboarding {start}</h2>\n  '
    if not plans:
        edit = (
            " Start one from a template; due dates follow from the start date."
            if c["can_edit"]
            else ""
        )
        return out + f'\n  <p class="muted">No onboarding plan yet.{edit}</p>\n  \n</section>\n'
    plan = plans[0]
    ttv = f"{_e(plan.ttv_days)} days" if plan.ttv_days is not None else "Not reached yet"
    out += (
        "\n  \n"
        f'  <p><a class="row-title" href="{_e(plan.get_absolute_url)}">{_e(plan.template.name)}'
        f'</a> <span class="muted small">v{_e(plan.template_version)} · started '
        f"{_day(plan.start_date)}</span>\n"
        f'    <span class="badge onb-status-{_e(plan.status)}">{_e(plan.get_status_display)}'
        "</span>\n</p>\n"
        '  <dl class="facts">\n'
        f"    <div><dt>Progress</dt><dd>{_onboarding_progress(plan.progress)}</dd></div>\n"
        f'    <div><dt>Time to value</dt><dd id="onboarding-ttv">{ttv}</dd></div>\n'
        f"    <div><dt>First value</dt><dd>{_or(_day(plan.first_value_on), '—')}</dd></div>\n"
        "  </dl>\n  "
    )
    if plan.is_active:
        items = "".join(
            f'\n    <li>{_e(m.title)} <span class="muted small">due {_day(m.due_date)} · '
            f"{_e(due_in_words(m.due_date))} · {_e(m.get_owner_side_display)}</span></li>\n    "
            for m in plan.milestones
            if m.is_open
        )
        out += f'\n  <ul class="list-plain onb-compact">\n    {items}\n  </ul>\n  '
    out += "\n  \n  "
    if len(plans) > 1:
        earlier = ", ".join(
            f'<a href="{_e(p.get_absolute_url)}">{_e(p.template.name)} '
            f"({_date(p.start_date, 'M Y')}"
            f"{f', TTV {_e(p.ttv_days)} d' if p.ttv_days is not None else ''})</a>"
            for p in plans[1:]
        )
        out += f'\n  <p class="muted small">Earlier plans: {earlier}</p>\n  '
    return out + "\n  \n</section>\n"


def _onboarding_progress(value: int) -> str:
    v = _e(value)
    return (
        '<span class="onb-progress" role="progressbar" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{v}" aria-label="Progress {v}%">'
        f'<span style="width: {v}%"></span></span> <span class="small num">{v}%</span>\n'
    )


def _success_progress(value: int) -> str:
    v = _e(value)
    return (
        f'<span class="succ-progress" role="img" aria-label="{v}% of the way to target">'
        f'<span style="width: {v}%"></span></span> <span class="small">{v}%</span>\n'
    )


def _plan(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    s: AccountSuccess = c["success"]
    label = "Open" if s.plan else "Start" if c["can_edit"] else "Open"
    out = (
        '<section class="panel" id="success-plan">\n'
        f'  <h2>Success plan <a class="btn btn-small" href="{_url("success:plan", a.pk)}">'
        f"{label}</a></h2>\n  "
    )
    if not s.plan:
        return out + (
            '\n  <p class="muted">No success plan yet. Record what the customer wants to '
            "achieve and how you will measure it.</p>\n  \n</section>\n"
        )
    out += f'\n  <p class="small">{_e(truncatechars(s.plan.desired_outcomes, 220))}</p>\n  '
    if s.plan.objectives:
        items = "".join(
            f"\n    <li><strong>{_e(o.title)}</strong> "
            f'<span class="badge succ-status-{_e(o.status)}">{_e(o.get_status_display)}</span>\n'
            f'<br>\n      <span class="muted small">{_e(o.metric)}: now '
            f"{_e(floatformat(o.current_value, '-2g'))}, target "
            f"{_e(floatformat(o.target, '-2g'))}</span> {_success_progress(o.progress)}</li>\n    "
            for o in s.plan.objectives
        )
        out += f'\n  <ul class="list-plain">\n    {items}\n  </ul>\n  '
    else:
        out += '<p class="muted small">No objectives yet.</p>'
    out += "\n  "
    if s.open_tasks:
        out += f"\n  <h3>Open tasks</h3>\n  {_task_list(s.open_tasks, c['today'])}\n  "
    return out + "\n  \n</section>\n"


def _task_list(tasks: list[Any], today: date) -> str:
    items = []
    for t in tasks:
        due = ""
        if t.due_date:
            due = f" · due {_day(t.due_date)}"
            if not t.done and today and t.due_date < today:
                due += ' <span class="succ-late">overdue</span>'
        items.append(
            f'\n  <li class="{"succ-done" if t.done else ""}">{"✓ " if t.done else ""}'
            f'<span class="succ-task-title">{_e(t.title)}</span>\n'
            f'    <span class="muted small">· {_e(t.assignee) if t.assignee else "unassigned"}'
            f"{due}</span></li>\n  "
        )
    return f'\n<ul class="list-plain succ-tasks">\n  {"".join(items)}\n</ul>\n\n'


def _reviews(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    s: AccountSuccess = c["success"]
    schedule = ""
    if c["can_edit"]:
        schedule = (
            f'<a class="btn btn-small" href="{_url("success:review_create", a.pk)}">Schedule</a>'
        )
    out = f'<section class="panel" id="reviews">\n  <h2>Business reviews {schedule}</h2>\n  '
    if not (s.upcoming_reviews or s.past_reviews):
        return out + '\n  <p class="muted">No business reviews yet.</p>\n  \n</section>\n'
    out += "\n  "
    if s.upcoming_reviews:
        items = ""
        for r in s.upcoming_reviews:
            by = f"prepared by {_e(r.owner)}" if r.owner else ""
            late = ""
            if r.scheduled_for < c["today"]:
                late = ' · <span class="succ-late">date passed; record or cancel it</span>'
            items += (
                f'\n    <li><a class="row-title" href="{_e(r.get_absolute_url)}">'
                f"{_e(r.get_kind_display)} · {_day(r.scheduled_for)}</a>\n"
                f'      <span class="muted small">{by}{late}</span></li>\n    '
            )
        out += f'\n  <h3>Upcoming</h3>\n  <ul class="list-plain">\n    {items}\n  </ul>\n  '
    out += "\n  "
    if s.past_reviews:
        items = ""
        for r in s.past_reviews:
            sentiment = ""
            if r.sentiment:
                sentiment = (
                    f'<span class="badge succ-sentiment-{_e(r.sentiment)}">'
                    f"{_e(r.get_sentiment_display)}</span>"
                )
            outcomes = ""
            if r.outcomes:
                outcomes = (
                    f'<br><span class="muted small">{_e(truncatechars(r.outcomes, 140))}</span>'
                )
            items += (
                f'\n    <li><a href="{_e(r.get_absolute_url)}">{_e(r.get_kind_display)} · '
                f"{_day(r.held_on)}</a>\n      {sentiment}\n      {outcomes}</li>\n    "
            )
        out += f'\n  <h3>Past</h3>\n  <ul class="list-plain">\n    {items}\n  </ul>\n  '
    return out + "\n  \n</section>\n"


def _renewal(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    r = c["success"].renewal
    if r is None:
        ahead = (
            f". It opens automatically ahead of {_day(a.renewal_date)}" if a.renewal_date else ""
        )
        return (
            '<section class="panel" id="renewal">\n  <h2>Renewal </h2>\n  \n'
            f'  <p class="muted">No open renewal{ahead}.</p>\n  \n</section>\n'
        )
    edit = ""
    if c["can_edit"]:
        edit = (
            '<p class="form-actions"><a class="btn btn-small btn-primary" '
            f'href="{_url("success:renewal_forecast", r.pk)}">Change forecast</a> '
            f'<a class="btn btn-small" href="{_url("success:renewal_close", r.pk)}">Close</a></p>'
        )
    badge = forecast_badge(r.forecast_category, r.get_forecast_category_display)
    return (
        '<section class="panel" id="renewal">\n'
        f'  <h2>Renewal <a class="btn btn-small" href="{_e(r.get_absolute_url)}">Open</a></h2>\n'
        '  \n  \n  <dl class="facts">\n'
        f"    <div><dt>Renews</dt><dd>{_day(r.renewal_date)}</dd></div>\n"
        "    <div><dt>Up for renewal</dt>"
        f"<dd>{_e(money(r.current_arr))} {_e(a.currency)}</dd></div>\n"
        f"    <div><dt>Forecast</dt><dd>{badge}\n</dd></div>\n"
        f"    <div><dt>Forecast ARR</dt><dd>{_e(money(r.forecast_arr)) or '—'}</dd></div>\n"
        f"  </dl>\n  {edit}\n  \n  \n</section>\n"
    )


_CHOOSE_PLAYBOOK = getattr(StartForm.base_fields["playbook"], "empty_label", "")


def _playbooks(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    runs: list[RunRow] = c["playbook_runs"]
    out = (
        '<section class="panel" id="playbooks">\n'
        '  <div class="panel-head"><h2>Playbooks</h2></div>\n  '
    )
    if runs:
        items = ""
        for run in runs:
            met = ""
            if run.objective_met_on:
                met = f" · objective met {_date(run.objective_met_on, 'Y-m-d')}"
            items += (
                f'\n    <li><a href="{_url("playbooks:run", run.pk)}">{_e(run.playbook.name)}'
                f"</a> — {_e(run.get_status_display)} · {_e(run.done_count)} of "
                f"{_e(run.steps_total)} steps{met}</li>\n  "
            )
        out += f'\n  <ul class="plain">{items}</ul>\n  '
    else:
        out += '<p class="muted">No playbook has run on this account.</p>'
    out += "\n  "
    playbooks = c["startable_playbooks"]
    if c["can_edit"] and playbooks is not None:
        # StartForm's select as Django's widget template wrote it (no value chosen).
        options = "".join(
            f'\n  <option value="{pk}">{_e(name)}</option>\n' for pk, name in playbooks
        )
        out += (
            f'\n  <form method="post" action="{_url("playbooks:start", a.pk)}" '
            f'class="inline-form">{_csrf(c["csrf_token"])}\n'
            '    <label for="id_playbook">Start a playbook</label>'
            '<select name="playbook" required id="id_playbook">\n'
            f'  <option value="" selected>{_e(_CHOOSE_PLAYBOOK)}</option>\n{options}\n</select>\n'
            '    <button class="btn" type="submit">Start</button>\n  </form>\n  '
        )
    return out + "\n</section>\n"


class _Stamps:
    """The timeline's two datetime formats per entry: `{{ when }}` (DATETIME_FORMAT)
    and `|date:"M j, Y H:i"`. Django's formatter parses the format and looks up
    translations per call (100 calls a page); for the format the project's language
    uses ("N j, Y, P"), the same text is written from names translated once per
    language (`_stamps`). Any other format goes through Django."""

    def __init__(self) -> None:
        self.fast = formats.get_format("DATETIME_FORMAT") == "N j, Y, P"
        self.short = [""] + [str(MONTHS_3[m]).title() for m in range(1, 13)]
        if self.fast:
            self.ap = [""] + [str(MONTHS_AP[m]) for m in range(1, 13)]
            self.midnight, self.noon = str(_("midnight")), str(_("noon"))
            self.am, self.pm = str(_("a.m.")), str(_("p.m."))

    def title(self, local: datetime) -> str:
        if not self.fast:
            return str(formats.localize(local))
        hour, minute = local.hour, local.minute
        if minute == 0 and hour == 0:
            clock = self.midnight
        elif minute == 0 and hour == 12:
            clock = self.noon
        else:
            twelve = hour % 12 or 12
            clock = f"{twelve}:{minute:02d}" if minute else f"{twelve}"
            clock += f" {self.pm if hour > 11 else self.am}"
        return f"{self.ap[local.month]} {local.day}, {local.year}, {clock}"

    def short_text(self, local: datetime) -> str:
        """`M j, Y H:i`."""
        return (
            f"{self.short[local.month]} {local.day}, {local.year} "
            f"{local.hour:02d}:{local.minute:02d}"
        )


# Per language and DATETIME_FORMAT (Django caches the format and resets it when a
# setting changes): the names _Stamps translates, a tenth of the page per request.
_STAMPS: dict[tuple[str | None, str], _Stamps] = {}


def _stamps() -> _Stamps:
    """The current language's _Stamps, built once per process and language."""
    key = (get_language(), formats.get_format("DATETIME_FORMAT"))
    stamps = _STAMPS.get(key)
    if stamps is None:
        stamps = _STAMPS[key] = _Stamps()
    return stamps


def _timeline(entries: list[TimelineEntry]) -> str:
    out = '<section class="panel" id="timeline">\n      <h2>Timeline</h2>\n      '
    if not entries:
        return out + (
            '<p class="empty">Nothing has happened on this account yet.</p>\n    </section>\n'
        )
    stamps = _stamps()
    items = []
    for event in entries:
        local = template_localtime(event.occurred_at)
        summary = _e(event.summary)
        if event.link:
            summary = f'<a href="{_e(event.link)}">{summary}</a>'
        actor = f" · {_e(event.actor)}" if event.actor else ""
        items.append(
            "\n        <li>\n"
            f'          <time datetime="{escape(local.isoformat())}" '
            f'title="{escape(stamps.title(local))}">{escape(stamps.short_text(local))}</time>\n'
            f"          <div>{summary}\n"
            f'            <div class="actor">{_e(event.kind)}{actor}</div></div>\n'
            "        </li>\n        "
        )
    return (
        out + f'\n      <ol class="timeline">\n        {"".join(items)}\n      </ol>\n      '
        "\n    </section>\n"
    )


def _health(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    h = c["health"]
    alerts: list[AlertRow] = c["alerts"]
    out = (
        '<section class="panel" id="health">\n'
        f'  <h2>Health <a class="btn btn-small" href="{_url("health:account", a.pk)}">'
        "Explain</a></h2>\n  "
    )
    if h.latest:
        band = _e(a.health_band)
        override = ""
        if h.override:
            override = (
                f'<span class="muted small">override by {_e(h.override.created_by)}; '
                f"computed {_e(h.latest.score)}</span>"
            )
        look = ""
        if h.needs_a_look:
            look = (
                '<p class="callout"><strong>Needs a look:</strong> the override '
                f"({_e(h.override.score)}) and the computed score ({_e(h.latest.score)}) are "
                "two bands apart.</p>"
            )
        bars = ""
        if h.bars:
            parts = []
            for b in h.bars:
                source = f" ({_e(b['source'])})" if b["source"] else ""
                parts.append(f"{_e(b['short'])} {_e(floatformat(b['value'], '-1'))}{source}")
            bars = f'<p class="small muted" id="health-inputs">Inputs: {" · ".join(parts)}</p>'
        out += (
            f'\n    <p><span class="score-big badge-{band}">{_e(a.health_score)}</span> '
            f'<span class="badge badge-{band}">{_e(a.get_health_band_display)}</span>\n'
            f"    {override}</p>\n    {look}\n"
            f'    <p class="small">{_e(h.sentence)}</p>\n    {bars}\n  '
        )
    else:
        out += (
            f'<p class="muted">{_e(h.sentence)} Scores are computed daily from usage, '
            "support and engagement.</p>"
        )
    out += "\n  "
    if alerts:
        items = "".join(
            f'<li><span class="badge {"badge-yellow" if x.status == "open" else ""}">'
            f"{_e(x.get_status_display)}</span> {_e(x.message)} "
            f'<span class="muted small">due {_date(x.due_on, "M j")}</span></li>'
            for x in alerts
        )
        out += (
            f'\n  <h3>Open alerts</h3>\n  <ul class="list-plain">{items}</ul>\n'
            f'  <p class="small"><a href="{_plain_url("alerts:list", get_script_prefix())}">'
            "All alerts</a></p>\n  "
        )
    out += "\n  "
    if c["can_edit"]:
        out += (
            f'<p><a class="btn btn-small" href="{_url("alerts:signal_raise", a.pk)}">'
            "Raise an expansion signal</a></p>"
        )
    return out + "\n</section>\n"


def _support(s: SupportPanel) -> str:
    f = s.figures
    # humanize's naturaltime, its pieces translated once (accounts.naturaltime).
    natural = naturaltime_for()
    out = '\n<section class="panel" id="support">\n  <h2>Support</h2>\n  \n  '
    if f.has_support_data:
        escalated = ""
        if f.escalated_open:
            escalated = f' <span class="badge badge-red">{_e(f.escalated_open)} escalated</span>'
        trend = ""
        pct = f.opened_trend_pct
        if pct is not None:
            trend = (
                f' <span class="muted small">({"+" if pct > 0 else ""}{_e(pct)}% '
                "on the 30 d before)</span>"
            )
        weekly = " · ".join(_e(n) for n in f.weekly_opened)
        close = f"{_e(f.median_close_hours)} h" if f.median_close_hours is not None else "—"
        nps = "—"
        if f.nps is not None:
            plural = "" if f.nps_responses == 1 else "s"
            nps = (
                f'{_e(f.nps)} <span class="muted small">({_e(f.nps_responses)} '
                f"answer{plural})</span>"
            )
        csat = "—"
        if f.csat is not None:
            csat = f'{_e(f.csat)} <span class="muted small">({_e(f.csat_responses)})</span>'
        detractors = (
            f'<span class="badge badge-red">{_e(f.detractors)}</span>' if f.detractors else "0"
        )
        touch = "—"
        if f.last_touch_at:
            touch = (
                f'<time datetime="{_date(f.last_touch_at, "c")}">'
                f"{_e(natural(template_localtime(f.last_touch_at)))}</time>"
            )
        out += (
            '\n  <dl class="facts">\n'
            f"    <div><dt>Open tickets</dt><dd>{_e(f.open_tickets)}{escalated}</dd></div>\n"
            f"    <div><dt>Opened (30 d)</dt><dd>{_e(f.opened_30d)}{trend}</dd></div>\n"
            '    <div><dt>Weekly opened</dt><dd><span class="muted small" '
            f'title="Tickets opened per week, oldest first">{weekly}</span></dd></div>\n'
            f"    <div><dt>Median time to close</dt><dd>{close}</dd></div>\n"
            f"    <div><dt>NPS (90 d)</dt><dd>{nps}</dd></div>\n"
            f"    <div><dt>CSAT (90 d)</dt><dd>{csat}</dd></div>\n"
            f"    <div><dt>Detractors (90 d)</dt><dd>{detractors}</dd></div>\n"
            f"    <div><dt>Last touch</dt><dd>{touch}</dd></div>\n"
            "  </dl>\n  "
        )
    else:
        out += '<p class="muted">No tickets, survey answers or logged touches yet.</p>'
    out += "\n  \n  "
    if s.open_tickets:
        items = ""
        for t in s.open_tickets:
            subject = _e(t.subject)
            if t.hubspot_url:
                subject = (
                    f'<a href="{_e(t.hubspot_url)}" rel="noopener" target="_blank">{subject}</a>'
                )
            badge = ""
            if t.is_escalated:
                badge = f'<span class="badge badge-red">{_e(t.get_priority_display)}</span>'
            elif t.priority:
                badge = f'<span class="badge">{_e(t.get_priority_display)}</span>'
            contact = f" · {_e(t.contact.name)}" if t.contact else ""
            owner = f" · {_e(t.owner)}" if t.owner else ""
            items += (
                f"\n    <li>{subject}\n      {badge}<br>\n"
                f'      <span class="muted small">{_e(t.stage.label)} · opened '
                f"{_e(natural(template_localtime(t.opened_at)))}{contact}{owner}"
                "</span></li>\n    "
            )
        out += (
            '\n  <h3>Open tickets</h3>\n  <ul class="list-plain" id="support-tickets">\n    '
            f"{items}\n  </ul>\n  "
        )
    out += "\n  "
    if s.responses:
        items = ""
        for r in s.responses:
            group = ""
            if r.response_group:
                red = " badge-red" if r.response_group == "DETRACTOR" else ""
                group = f' <span class="badge{red}">{_e(r.get_response_group_display)}</span>'
            contact = f" · {_e(r.contact.name)}" if r.contact else ""
            comment = ""
            if r.comment:
                comment = f"<br><q>{_e(truncatechars(r.comment, 240))}</q>"
            score = _e(r.score) if r.score is not None else "—"
            items += (
                f"\n    <li><strong>{_e(r.get_survey_type_display)} {score}</strong>{group}\n"
                f'      <span class="muted small">{_date(r.submitted_at, "M j, Y")}{contact}'
                "</span>\n"
                f"      {comment}</li>\n    "
            )
        out += (
            '\n  <h3>Survey answers</h3>\n  <ul class="list-plain" id="support-responses">\n    '
            f"{items}\n  </ul>\n  "
        )
    out += "\n  "
    if s.touches:
        items = ""
        for g in s.touches:
            subject = _e(g.subject) if g.subject else "no subject"
            if g.hubspot_url:
                subject = (
                    f'<a href="{_e(g.hubspot_url)}" rel="noopener" target="_blank">{subject}</a>'
                )
            owner = f" · {_e(g.owner)}" if g.owner else ""
            contact = f" · with {_e(g.contact.name)}" if g.contact else ""
            items += (
                f"\n    <li>{_e(g.get_kind_display)}: {subject}\n"
                f'      <span class="muted small">{_date(g.occurred_at, "M j, Y")}{owner}'
                f"{contact}</span></li>\n    "
            )
        out += (
            '\n  <h3>Last touches</h3>\n  <ul class="list-plain" id="support-touches">\n    '
            f"{items}\n  </ul>\n  "
        )
    return out + "\n</section>\n"


def _contacts(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    rows: list[ContactRow] = c["contacts"]
    add = ""
    if c["can_edit"]:
        add = f'<a class="btn btn-small" href="{_url("accounts:contact_create", a.pk)}">Add</a>'
    out = f'<section class="panel" id="contacts">\n      <h2>Contacts {add}</h2>\n      '
    if not rows:
        return out + (
            '<p class="muted">No contacts yet. Add the champion and the executive sponsor '
            "first.</p>\n    </section>\n"
        )
    items = ""
    edit_url = url_for_ids("accounts:contact_edit", a.pk) if c["can_edit"] else None
    for x in rows:
        sep = " · " if x.title and x.email else ""
        email = f'<a href="mailto:{_e(x.email)}">{_e(x.email)}</a>' if x.email else ""
        edit = ""
        if edit_url is not None:
            edit = f'<a class="small" href="{edit_url(x.pk)}">Edit</a>'
        items += (
            f'\n        <li><strong>{_e(x.name)}</strong> <span class="badge">'
            f"{_e(x.get_role_display)}</span><br>\n"
            f'          <span class="muted small">{_e(x.title) if x.title else ""}{sep}{email}'
            f"</span>\n          {edit}</li>\n        "
        )
    return (
        out
        + f'\n      <ul class="list-plain">\n        {items}\n      </ul>\n      \n    </section>\n'
    )


def _deals(c: dict[str, Any]) -> str:
    a: AccountHead = c["account"]
    rows: list[DealRow] = c["deals"]
    add = ""
    if c["can_edit"]:
        add = f'<a class="btn btn-small" href="{_url("accounts:deal_create", a.pk)}">Add</a>'
    out = f'<section class="panel" id="deals">\n      <h2>Deals {add}</h2>\n      '
    if not rows:
        return out + '<p class="muted">No deals yet.</p>\n    </section>\n'
    edit_url = url_for_ids("accounts:deal_edit", a.pk) if c["can_edit"] else None
    items = ""
    for d in rows:
        edit = ""
        if edit_url is not None:
            edit = f'<a class="small" href="{edit_url(d.pk)}">Edit</a>'
        items += (
            f'\n        <li><strong>{_e(d.name)}</strong> <span class="badge">'
            f"{_e(d.get_kind_display)}</span><br>\n"
            f'          <span class="muted small">{_e(money(d.amount))} {_e(a.currency)} · '
            f"{_e(d.stage.label)} · {_day(d.close_date) or 'no close date'}</span>\n"
            f"          {edit}</li>\n        "
        )
    return (
        out
        + f'\n      <ul class="list-plain">\n        {items}\n      </ul>\n      \n    </section>\n'
    )


def _usage(usage: Usage | None) -> str:
    out = '<section class="panel" id="usage">\n      <h2>Latest usage</h2>\n      '
    if usage is None:
        return out + (
            '<p class="muted">No usage data yet. Import a usage CSV or send it through the '
            "API.</p>\n    </section>\n"
        )

    def n(value: object) -> str:
        return "—" if value is None else _e(value)

    return out + (
        '\n      <dl class="facts">\n'
        f"        <div><dt>As of</dt><dd>{_day(usage.date)}</dd></div>\n"
        f"        <div><dt>Active users</dt><dd>{n(usage.active_users)}</dd></div>\n"
        "        <div><dt>Seats used / bought</dt>"
        f"<dd>{n(usage.seats_used)} / {n(usage.seats_purchased)}</dd></div>\n"
        f"        <div><dt>Logins (30 d)</dt><dd>{n(usage.logins_30d)}</dd></div>\n"
        f"        <div><dt>Core features</dt><dd>{n(usage.core_features_adopted)}</dd></div>\n"
        f"        <div><dt>Open tickets</dt><dd>{n(usage.open_tickets)}</dd></div>\n"
        f"        <div><dt>CSAT</dt><dd>{n(usage.csat)}</dd></div>\n"
        f"        <div><dt>NPS</dt><dd>{n(usage.nps)}</dd></div>\n"
        "      </dl>\n      \n    </section>\n"
    )


def account_content(context: dict[str, Any]) -> SafeString:
    """The page's content block: what templates/lifecycle/account.html wrote with its
    panel partials, for the view's context plus the request's CSRF token."""
    c = context
    left = (
        f"{_onboarding(c)}\n    {_plan(c)}\n    {_reviews(c)}\n    {_renewal(c)}\n    "
        f"{_playbooks(c)}\n    \n    {_timeline(c['timeline'])}"
    )
    right = (
        f"{_health(c)}\n    {_support(c['support'])}\n    {_contacts(c)}"
        f"    {_deals(c)}    {_usage(c['usage'])}"
    )
    return mark_safe(
        f"{_head(c)}{_facts(c)}"
        f'<div class="grid-2">\n  <div>\n    {left}  </div>\n  <div>\n    {right}  </div>\n</div>\n'
    )
