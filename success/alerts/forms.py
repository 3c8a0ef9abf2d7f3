from __future__ import annotations

from django import forms

from .models import Alert, AlertRule, ExpansionSignal

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
            "due_in_days",
            "reopen_after_days",
            "is_active",
        ]
        help_texts = {
            "threshold": "Health drop: percent. Seat expansion: percent of seats used.",
            "days": "Health drop: window. No login: days. Renewal: renews within.",
            "second_days": "Renewal: no business review in this many days.",
            "minimum": "Seat expansion: core features adopted at least.",
        }


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
