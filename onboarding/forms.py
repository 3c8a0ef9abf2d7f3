from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from accounts.dates import DateField, model_form_dates
from accounts.filter_base import BuiltOnceFilterSet
from accounts.filters import PlainSelect
from accounts.models import Segment, User
from accounts.selectors import assignable_owner_choices, assignable_owners

from .models import (
    Milestone,
    MilestoneTemplate,
    OnboardingPlan,
    OnboardingTemplate,
    OwnerSide,
    PlanStatus,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TemplateForm(forms.ModelForm):
    segments = forms.MultipleChoiceField(
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Plans for accounts in these segments suggest this template first.",
    )

    class Meta:
        model = OnboardingTemplate
        fields = ["name", "description", "segments"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MilestoneTemplateForm(forms.ModelForm):
    class Meta:
        model = MilestoneTemplate
        fields = [
            "title",
            "kind",
            "due_offset_days",
            "owner_side",
            "required",
            "is_first_value",
            "description",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "due_offset_days": forms.NumberInput(attrs={"min": 0}),
        }
        help_texts = {"is_first_value": "Time to value is measured when this is completed."}
        error_messages = {
            "due_offset_days": {
                "min_value": "The offset counts days after the plan starts: use 0 or more."
            }
        }


class PlanStartForm(forms.Form):
    template = forms.ModelChoiceField(queryset=OnboardingTemplate.objects.none(), empty_label=None)
    start_date = DateField(widget=DATE)

    def __init__(self, *args: Any, templates: list[OnboardingTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = OnboardingTemplate.objects.filter(pk__in=[t.pk for t in templates])
        # Keep the suggested-first order the selector chose.
        field.choices = [(t.pk, str(t)) for t in templates]
        if templates and not self.is_bound:
            self.initial.setdefault("template", templates[0].pk)
        self.initial.setdefault("start_date", timezone.localdate())


class CompleteForm(forms.Form):
    on = DateField(label="Completed on", widget=DATE)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_on(self) -> Any:
        value = self.cleaned_data["on"]
        if value > timezone.localdate():
            raise forms.ValidationError("A milestone cannot be completed in the future.")
        return value


class SkipForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DueChangeForm(forms.Form):
    due_date = DateField(label="New due date", widget=DATE)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReassignForm(forms.Form):
    owner_side = forms.ChoiceField(label="Owner side", choices=OwnerSide.choices)
    assignee: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Nobody in particular"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_owners()  # type: ignore[attr-defined]


class EmptyForm(forms.Form):
    """Reopen needs no input, only a POST."""


class AdhocMilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["title", "kind", "due_date", "owner_side", "required", "description"]
        field_classes = model_form_dates("due_date")
        widgets = {"due_date": DATE, "description": forms.Textarea(attrs={"rows": 2})}


ACTION_FORMS: dict[str, type[forms.Form]] = {
    "complete": CompleteForm,
    "reopen": EmptyForm,
    "skip": SkipForm,
    "due": DueChangeForm,
    "reassign": ReassignForm,
}


OWNER_ALL = "all"
OWNER_ME = "me"


class PlanFilter(BuiltOnceFilterSet):
    # The templates are choices read with one plain query (a ModelChoiceFilter reads
    # them through a server-side cursor, three round trips); PlainSelect writes the
    # same markup as Django's Select without two template includes per option.
    template = django_filters.ChoiceFilter(empty_label="Any template", widget=PlainSelect)
    status = django_filters.ChoiceFilter(
        choices=PlanStatus.choices,
        empty_label="Any status (running)",
        method="by_status",
        widget=PlainSelect,
    )
    owner = django_filters.ChoiceFilter(
        method="by_owner", label="Owner", empty_label=None, widget=PlainSelect
    )

    class Meta:
        model = OnboardingPlan
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any = None, owners: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        choices = [(OWNER_ME, "My accounts"), (OWNER_ALL, "All owners")]
        if owners:
            choices += assignable_owner_choices()
        self.choices_set("owner", choices)
        templates = OnboardingTemplate.objects.order_by("name").values_list("pk", "name")
        self.choices_set("template", [(str(pk), name) for pk, name in templates])

    def by_status(
        self, queryset: QuerySet[OnboardingPlan], name: str, value: str
    ) -> QuerySet[OnboardingPlan]:
        return queryset.filter(status=value)

    def by_owner(
        self, queryset: QuerySet[OnboardingPlan], name: str, value: str
    ) -> QuerySet[OnboardingPlan]:
        if value == OWNER_ME:
            return queryset.filter(account__owner=self.user)
        if value and value.isdigit():
            return queryset.filter(account__owner_id=int(value))
        return queryset

    def filter_queryset(self, queryset: QuerySet[OnboardingPlan]) -> QuerySet[OnboardingPlan]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            # Without a status filter the list shows running plans only.
            queryset = queryset.filter(finished_on__isnull=True)
        return queryset
