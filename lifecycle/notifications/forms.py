from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms

from accounts.filters import PlainSelect
from accounts.models import User
from accounts.roles import Role

from .models import Kind, RuleSetting, SlackWebhook
from .selectors import Choices

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


@cache
def zone_choices() -> list[tuple[str, str]]:
    """The IANA zones this machine knows, read once per process: listing them walks
    the zone directories, and rendering the ~600 options through Django's widget
    templates made the preferences page cost 80 ms (PlainSelect writes them)."""
    return [(z, z.replace("_", " ")) for z in sorted(zoneinfo.available_timezones())]


class ChannelsForm(forms.Form):
    """One email and one in-app checkbox per kind (the digest is email only)."""

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            current = choices[kind]
            self.fields[f"{kind.value}_email"] = forms.BooleanField(
                label=f"{kind.label}: email", required=False, initial=current.email
            )
            if kind != Kind.DIGEST:
                self.fields[f"{kind.value}_in_app"] = forms.BooleanField(
                    label=f"{kind.label}: in the app", required=False, initial=current.in_app
                )

    def channel_choices(self) -> dict[str, tuple[bool, bool]]:
        data = self.cleaned_data
        return {
            kind.value: (
                bool(data.get(f"{kind.value}_email")),
                bool(data.get(f"{kind.value}_in_app")),
            )
            for kind in Kind
        }

    def kind_rows(self) -> list[tuple[str, Any, Any]]:
        return [
            (
                kind.label,
                self[f"{kind.value}_email"],
                self[f"{kind.value}_in_app"] if kind != Kind.DIGEST else None,
            )
            for kind in Kind
        ]


class PreferencesForm(ChannelsForm):
    time_zone = forms.ChoiceField(
        choices=zone_choices,
        widget=PlainSelect,
        help_text="Your digest hour, “today” and “overdue” follow it.",
    )
    digest_hour = forms.TypedChoiceField(
        choices=HOURS, coerce=int, help_text="Local time the daily digest is sent."
    )


class SlackWebhookForm(forms.ModelForm):
    class Meta:
        model = SlackWebhook
        fields = ["name", "url", "team_leader", "is_active"]
        labels = {"url": "Incoming-webhook URL", "team_leader": "Team (its leader)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team_leader"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(
            groups__name__in=[Role.LEADER.value, Role.ADMIN.value]
        ).distinct()
        field.empty_label = "Everyone (company channel)"


class RuleSettingForm(forms.ModelForm):
    class Meta:
        model = RuleSetting
        fields = ["immediate", "min_arr", "slack_webhook"]
