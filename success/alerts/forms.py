from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MinValueValidator

from .models import Alert, AlertRule, ExpansionHint, ExpansionSignal

# What a CSM may pick when dismissing: back after this many days if still true.
SNOOZE_DAYS = (7, 14, 30, 90)


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = [
            "name",
            "kind",
            "threshold",
            "days",
            "second_days",
            "minimum",
            "arr_threshold",
            "due_in_days",
            "reopen_after_days",
            "is_active",
        ]
        help_texts = {
            "threshold": "Health drop: percent. Seat expansion: percent of seats used. "
            "Tickets rising: percent up on the previous 30 days (e.g. 50).",
            "days": "Health drop: window. No login: days. Renewal: renews within. "
            "Detractor: answers of the last N days. Escalated ticket: open N days or more. "
            "No touch: no touch and no login for N days (e.g. 30).",
            "second_days": "Renewal: no business review in this many days.",
            "minimum": "Seat expansion: core features adopted at least. Tickets rising: "
            "at least this many tickets in the last 30 days (2 or more), so 1 → 2 is not "
            "a 100% rise; none before counts as a rise once this many are reached.",
            "arr_threshold": "No touch: only accounts with at least this ARR.",
        }

    # The fields that count something, with what they count (for the messages).
    COUNTS = {
        "threshold": "a percent",
        "days": "a number of days",
        "second_days": "a number of days",
        "minimum": "a count",
        "due_in_days": "a number of days",
        "reopen_after_days": "a number of days",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, what in self.COUNTS.items():
            field = self.fields[name]
            lowest = 0 if name in ("minimum", "due_in_days") else 1
            field.validators = [
                v for v in field.validators if not isinstance(v, MinValueValidator)
            ] + [MinValueValidator(lowest)]
            field.widget.attrs["min"] = lowest
            field.error_messages["min_value"] = (
                f"Enter {what} of {lowest} or more (not negative)."
                if lowest == 0
                else f"Enter {what} of {lowest} or more (not zero or negative)."
            )
        self.fields["arr_threshold"].error_messages["min_value"] = (
            "Enter an ARR of 0 or more (not negative)."
        )


class AlertCloseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (Alert.Status.ACKNOWLEDGED, "Acknowledge"),
            (Alert.Status.RESOLVED, "Resolve"),
            (Alert.Status.DISMISSED, "Dismiss"),
        ]
    )
    note = forms.CharField(required=False, max_length=1000)
    snooze_days = forms.TypedChoiceField(
        choices=[("", "Until the condition clears")]
        + [(str(d), f"Snooze {d} days") for d in SNOOZE_DAYS],
        coerce=int,
        empty_value=None,
        required=False,
    )


class SignalForm(forms.Form):
    source = forms.ChoiceField(
        choices=[(ExpansionSignal.Source.CSM, "CSM"), (ExpansionSignal.Source.SUPPORT, "Support")]
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class FollowUpForm(forms.Form):
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ExpansionHintForm(forms.ModelForm):
    class Meta:
        model = ExpansionHint
        fields = ["ticket_categories", "keywords", "is_active"]
        widgets = {"keywords": forms.Textarea(attrs={"rows": 5})}

    def clean_ticket_categories(self) -> str:
        raw = self.cleaned_data["ticket_categories"]
        names = [c.strip().upper() for c in raw.split(",") if c.strip()]
        bad = [n for n in names if not n.replace("_", "").isalnum()]
        if bad:
            raise forms.ValidationError(
                f"Categories are HubSpot's internal values (letters, digits, _): {', '.join(bad)}."
            )
        return ", ".join(dict.fromkeys(names))

    def clean_keywords(self) -> str:
        words = [k.strip() for k in self.cleaned_data["keywords"].splitlines() if k.strip()]
        short = [w for w in words if len(w) < 3]
        if short:
            raise forms.ValidationError(
                f"Keywords of 3 characters or more (too short: {', '.join(short)})."
            )
        return "\n".join(dict.fromkeys(words))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("is_active") and not (data.get("ticket_categories") or data.get("keywords")):
            raise forms.ValidationError("Name at least one ticket category or keyword.")
        return data
