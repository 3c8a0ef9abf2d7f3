from __future__ import annotations

from typing import Any

from django import forms

from accounts.dates import DateField
from accounts.models import User
from accounts.roles import Role

from .models import (
    Playbook,
    PlaybookStep,
    PlaybookVersion,
)


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["name", "description", "is_active", "crm_tasks"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"is_active": "Active (triggers start it)"}


class VersionForm(forms.ModelForm):
    class Meta:
        model = PlaybookVersion
        fields = [
            "trigger_kind",
            "trigger_rule",
            "trigger_stage",
            "trigger_days",
            "objective_kind",
            "objective_band",
            "objective_days",
        ]
        labels = {
            "trigger_kind": "Starts when",
            "trigger_rule": "Alert rule",
            "trigger_stage": "Stage",
            "trigger_days": "Days before the renewal",
            "objective_kind": "Objective",
            "objective_band": "Health band to reach",
            "objective_days": "Objective window (days)",
        }
        help_texts = {
            "trigger_rule": "For “An alert rule opens an alert”.",
            "trigger_stage": "For “The account enters a stage”.",
        }


class StepForm(forms.ModelForm):
    class Meta:
        model = PlaybookStep
        fields = [
            "kind",
            "title",
            "guidance",
            "due_offset_days",
            "assignee",
            "assignee_user",
            "action",
            "action_value",
        ]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 2})}
        labels = {"due_offset_days": "Due (days after start)", "action_value": "Action value"}
        help_texts = {
            "action_value": "Stage, forecast category, review kind (qbr/ebr) or template id.",
        }

    def __init__(self, *args: Any, user_choices: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee_user = self.fields["assignee_user"]
        assert isinstance(assignee_user, forms.ModelChoiceField)
        assignee_user.queryset = User.objects.filter(
            is_active=True, groups__name__in=[Role.ADMIN, Role.LEADER, Role.CSM]
        ).distinct()
        if user_choices is not None:  # read once for every row (the formset's)
            assignee_user.choices = user_choices

    def has_changed(self) -> bool:
        # An untouched extra row posts the defaults back: only a title makes it a step.
        return bool(self.data.get(self.add_prefix("title"), "").strip()) and super().has_changed()


class BaseStepFormSet(forms.BaseModelFormSet):
    _user_choices: list[Any] | None = None

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # The user select's options are read once per page, not once per step row; a
        # posted user is still checked against the query.
        if self._user_choices is None:
            users = StepForm().fields["assignee_user"]
            assert isinstance(users, forms.ModelChoiceField)
            self._user_choices = list(users.iterator(users))  # what `.choices` iterates
        return {**super().get_form_kwargs(index), "user_choices": self._user_choices}

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            f
            for f in self.forms
            if (f.has_changed() or f.instance.pk) and not f.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise forms.ValidationError("A playbook needs at least one step.")


MAX_STEPS = 50
# A posted form count beyond MAX_STEPS is refused ("Please submit at most 50 forms."),
# never built: Django's default cap (2,000 rows, each with its own user select query)
# made one crafted post a six-megabyte page and a minute of a worker.
StepFormSet = forms.modelformset_factory(
    PlaybookStep,
    form=StepForm,
    formset=BaseStepFormSet,
    extra=3,
    can_delete=True,
    max_num=MAX_STEPS,
    absolute_max=MAX_STEPS,
    validate_max=True,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class SnoozeForm(ReasonForm):
    until = DateField(widget=forms.DateInput(attrs={"type": "date"}))


class StartForm(forms.Form):
    playbook = forms.ModelChoiceField(
        queryset=Playbook.objects.filter(is_active=True), empty_label="Choose a playbook"
    )
