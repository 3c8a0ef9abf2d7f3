from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accounts.dates import DateField

from .models import HealthMeasure, HealthModel, Input


class HealthModelForm(forms.ModelForm):
    class Meta:
        model = HealthModel
        fields = ["name", "green_min", "yellow_min", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        green, yellow = data.get("green_min"), data.get("yellow_min")
        if green is not None and yellow is not None and green <= yellow:
            self.add_error("green_min", "Green must start above yellow.")
        return data


class StepsField(forms.Field):
    """Steps typed as `3.5:60, 4.5:100` (threshold:score)."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> list[list[float]]:
        text = str(value or "").strip()
        steps = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            try:
                threshold, score = (float(x) for x in part.split(":"))
            except ValueError as exc:
                raise forms.ValidationError(
                    f"“{part}” is not threshold:score, e.g. 4.5:100."
                ) from exc
            steps.append([threshold, score])
        return steps

    def has_changed(self, initial: Any, data: Any) -> bool:
        # An extra row starts with no initial (None) and posts '' back: both
        # mean "no steps", as does a saved measure's []. Compare parsed steps,
        # or a blank row counts as changed and fails "required".
        try:
            posted = self.to_python(data)
        except forms.ValidationError:
            return True
        saved = initial if isinstance(initial, list) else self.to_python(initial)
        return [list(map(float, pair)) for pair in saved] != posted

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(f"{t:g}:{s:g}" for t, s in value)
        return value


class MeasureForm(forms.ModelForm):
    steps = StepsField(required=False, help_text="Steps only: threshold:score, …")

    class Meta:
        model = HealthMeasure
        fields = ["input", "weight", "rule", "direction", "low", "high", "steps"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("rule") == "steps" and not data.get("steps"):
            self.add_error("steps", "A step rule needs at least one threshold:score pair.")
        if data.get("rule") == "linear" and data.get("low") == data.get("high"):
            self.add_error("high", "The two points of a linear rule must differ.")
        return data


class BaseMeasureFormSet(forms.BaseModelFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            # Rows with errors have no complete cleaned_data; their messages
            # are shown beside them, and the cross-row checks wait for them.
            return
        kept = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise forms.ValidationError("A health model needs at least one measure.")
        inputs = [d["input"] for d in kept]
        duplicates = {i for i in inputs if inputs.count(i) > 1}
        if duplicates:
            raise forms.ValidationError(
                f"Each input can be measured once; repeated: {', '.join(sorted(duplicates))}."
            )


# Each input is measured once, so a model has at most one row per input; a posted form
# count beyond it is refused ("Please submit at most N forms."), never built.
MeasureFormSet = forms.modelformset_factory(
    HealthMeasure,
    form=MeasureForm,
    formset=BaseMeasureFormSet,
    extra=2,
    can_delete=True,
    max_num=len(Input),
    absolute_max=len(Input),
    validate_max=True,
)


class OverrideForm(forms.Form):
    score = forms.IntegerField(min_value=0, max_value=100, help_text="Your sentiment, 0-100.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    expires_on = DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Defaults to 30 days from today.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("expires_on", timezone.localdate() + timedelta(days=30))
        super().__init__(*args, **kwargs)

    def clean_expires_on(self) -> Any:
        value = self.cleaned_data["expires_on"]
        if value <= timezone.localdate():
            raise forms.ValidationError("The override must expire in the future.")
        return value
