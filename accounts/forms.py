from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .dates import model_form_dates
from .models import Account, Contact, Deal, PipelineStage, Stage, User, domain_clean
from .selectors import assignable_owners

BIGINT = range(-(2**63), 2**63)


class ModelIdsField(forms.ModelMultipleChoiceField):
    """A multiple choice of records by integer id that refuses an id no database column
    can hold as an invalid choice before querying: SQLite raises OverflowError (a 500)
    on `id IN (99999999999999999999)`."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else ():
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # not a number: Django's own check says so
            if number not in BIGINT:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super().clean(value)


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name",
            "domain",
            "segment",
            "arr",
            "currency",
            "contract_start",
            "renewal_date",
            "status",
        ]
        field_classes = model_form_dates("contract_start", "renewal_date")
        widgets = {
            "contract_start": forms.DateInput(attrs={"type": "date"}),
            "renewal_date": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {"domain": "Lowercase, without https:// or www. (we tidy it for you)."}

    def clean_domain(self) -> str:
        return domain_clean(self.cleaned_data.get("domain", ""))

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Use a three-letter currency code such as USD or EUR.")
        return value


class AccountCreateForm(AccountForm):
    class Meta(AccountForm.Meta):
        fields = [*AccountForm.Meta.fields, "owner", "stage"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners()  # type: ignore[attr-defined]


class StageChangeForm(forms.Form):
    to_stage = forms.ChoiceField(label="New stage", choices=Stage.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Kept on the timeline and in the stage history.",
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        choices = [c for c in Stage.choices if c[0] != account.stage]
        self.fields["to_stage"].choices = choices  # type: ignore[attr-defined]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the stage changes.")
        return reason


class ReassignForm(forms.Form):
    owner: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Unassigned"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners()  # type: ignore[attr-defined]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "title", "role"]


class DealForm(forms.ModelForm):
    class Meta:
        model = Deal
        fields = ["name", "kind", "pipeline", "stage", "amount", "close_date"]
        field_classes = model_form_dates("close_date")
        widgets = {"close_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = PipelineStage.objects.select_related("pipeline")  # type: ignore[attr-defined]
        self.fields["stage"].label_from_instance = str  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stage, pipeline = data.get("stage"), data.get("pipeline")
        if stage and pipeline and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", f"“{stage.label}” is not a stage of {pipeline.label}.")
        return data


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma-separated, header row first.")

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 5 MB; split it and import twice.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save it as CSV UTF-8."
            ) from exc
        if not text.strip():
            raise forms.ValidationError("The file is empty.")
        if "\x00" in text:
            # A NUL byte is never in a real CSV (and PostgreSQL cannot store one in text).
            raise forms.ValidationError(
                "The file contains NUL characters, so it is not a CSV text file; "
                "save it as CSV UTF-8."
            )
        self.filename = upload.name
        return text
