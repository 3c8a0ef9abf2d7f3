from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from accounts.dates import DateField, model_form_dates
from accounts.filter_base import BuiltOnceFilterSet
from accounts.filters import PlainSelect
from accounts.forms import ModelIdsField
from accounts.models import Account, Contact, ForecastCategory, Segment, User
from accounts.selectors import assignable_owner_choices, assignable_owners

from .models import BusinessReview, ChurnReason, Objective, ObjectiveStatus, Renewal, Sentiment
from .services.reviews import ActionItem

DATE = forms.DateInput(attrs={"type": "date"})


class PlanForm(forms.Form):
    desired_outcomes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the customer wants to achieve, in their words. The customer sees this.",
    )
    internal_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For your team only; never shown on the customer's link.",
    )


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["title", "metric", "baseline", "target", "current_value", "due_date"]
        field_classes = model_form_dates("due_date")
        widgets = {"due_date": DATE}
        help_texts = {"current_value": "Leave empty to start at the baseline."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["current_value"].required = False


class ObjectiveValueForm(forms.Form):
    value = forms.DecimalField(label="Current value", max_digits=14, decimal_places=2)
    note = forms.CharField(required=False, max_length=2000)


class ObjectiveStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ObjectiveStatus.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Say why; kept in the history."
    )


def assignee_choices(account: Account) -> list[tuple[str, Any]]:
    users = [(f"u:{u.pk}", str(u)) for u in assignable_owners()]
    contacts = [
        (f"c:{c.pk}", f"{c.name} ({c.get_role_display()})")
        for c in account.contacts.filter(archived_at__isnull=True)
    ]
    return [("", "Nobody yet"), ("Our team", users), (f"{account.name}", contacts)]


class AssigneeField(forms.ChoiceField):
    """One select for "a user of ours or a contact of the customer's"."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(label="Owner", required=False, **kwargs)

    @staticmethod
    def resolve(value: str, account: Account) -> tuple[User | None, Contact | None]:
        if not value:
            return None, None
        kind, _, pk = value.partition(":")
        if kind == "u":
            return assignable_owners().get(pk=pk), None
        return None, account.contacts.get(pk=pk)


class TaskForm(forms.Form):
    title = forms.CharField(max_length=300)
    objective = forms.ModelChoiceField(queryset=Objective.objects.none(), required=False)
    assignee = AssigneeField()
    due_date = DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["objective"].queryset = Objective.objects.filter(  # type: ignore[attr-defined]
            plan__account=account, plan__replaced_at__isnull=True
        )
        self.fields["assignee"].choices = assignee_choices(account)  # type: ignore[attr-defined]

    def assignees(self) -> tuple[User | None, Contact | None]:
        return AssigneeField.resolve(self.cleaned_data.get("assignee") or "", self.account)


class ReviewScheduleForm(forms.ModelForm):
    class Meta:
        model = BusinessReview
        fields = ["kind", "scheduled_for", "owner", "attendee_users", "attendee_contacts", "agenda"]
        field_classes = {
            **model_form_dates("scheduled_for"),
            "attendee_users": ModelIdsField,
            "attendee_contacts": ModelIdsField,
        }
        widgets = {
            "scheduled_for": DATE,
            "attendee_users": forms.CheckboxSelectMultiple,
            "attendee_contacts": forms.CheckboxSelectMultiple,
            "agenda": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "scheduled_for": "Date",
            "attendee_users": "Our attendees",
            "attendee_contacts": "Customer attendees",
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = assignable_owners()
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        self.fields["attendee_users"].queryset = owners  # type: ignore[attr-defined]
        current = account.contacts.filter(archived_at__isnull=True)
        self.fields["attendee_contacts"].queryset = current  # type: ignore[attr-defined]


class ReviewHoldForm(forms.Form):
    held_on = DateField(label="Held on", widget=DATE)
    sentiment = forms.ChoiceField(choices=[("", "---------"), *Sentiment.choices])
    outcomes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    notes = forms.CharField(
        label="Internal notes", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class ActionItemForm(forms.Form):
    title = forms.CharField(label="Action item", max_length=300, required=False)
    assignee = AssigneeField()
    due_date = DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["assignee"].choices = assignee_choices(account)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("title") and (data.get("assignee") or data.get("due_date")):
            self.add_error("title", "Say what needs doing.")
        return data

    def item(self) -> ActionItem | None:
        if not self.cleaned_data.get("title"):
            return None
        user, contact = AssigneeField.resolve(self.cleaned_data.get("assignee") or "", self.account)
        return ActionItem(
            title=self.cleaned_data["title"],
            assignee_user=user,
            assignee_contact=contact,
            due_date=self.cleaned_data.get("due_date"),
        )


ActionItemFormSet = forms.formset_factory(
    ActionItemForm, extra=3, max_num=20, absolute_max=20, validate_max=True
)


class ForecastForm(forms.Form):
    category = forms.ChoiceField(label="Forecast category", choices=ForecastCategory.choices)
    forecast_arr = forms.DecimalField(
        label="Forecast ARR", max_digits=14, decimal_places=2, min_value=Decimal(0)
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for every change; kept in the forecast history.",
    )


class RenewalCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("renewed", "Renewed"), ("churned", "Churned")], widget=forms.RadioSelect
    )
    new_arr = forms.DecimalField(
        label="New ARR",
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="When renewed. The difference is recorded as expansion or contraction.",
    )
    churn_reason = forms.ModelChoiceField(
        queryset=ChurnReason.objects.filter(is_active=True), required=False
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    closed_on = DateField(label="Closed on", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == "renewed" and data.get("new_arr") is None:
            self.add_error("new_arr", "Enter the ARR of the renewed contract.")
        if data.get("outcome") == "churned" and not data.get("churn_reason"):
            self.add_error("churn_reason", "Pick why the customer left.")
        return data


OWNER_ME, OWNER_ALL = "me", "all"


class RenewalFilter(BuiltOnceFilterSet):
    # PlainSelect: the same markup as Django's Select without two template
    # includes per option (accounts.filters).
    owner = django_filters.ChoiceFilter(method="filter_owner", empty_label=None, widget=PlainSelect)
    segment = django_filters.ChoiceFilter(
        field_name="account__segment",
        choices=Segment.choices,
        empty_label="All segments",
        widget=PlainSelect,
    )
    category = django_filters.ChoiceFilter(
        field_name="forecast_category",
        choices=[("none", "Not forecast"), *ForecastCategory.choices],
        empty_label="All forecasts",
        method="filter_category",
        widget=PlainSelect,
    )

    class Meta:
        model = Renewal
        fields: list[str] = []

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        owners = assignable_owner_choices()
        self.choices_set("owner", [(OWNER_ALL, "Everyone"), (OWNER_ME, "Me"), *owners])

    def filter_owner(self, qs: QuerySet[Renewal], name: str, value: str) -> QuerySet[Renewal]:
        if value == OWNER_ME:
            return qs.filter(account__owner=self.user)
        if value and value != OWNER_ALL:
            return qs.filter(account__owner_id=int(value))
        return qs

    def filter_category(self, qs: QuerySet[Renewal], name: str, value: str) -> QuerySet[Renewal]:
        if value == "none":
            return qs.filter(Q(forecast_category=""))
        return qs.filter(forecast_category=value) if value else qs
