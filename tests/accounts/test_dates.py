"""Every date that comes in is bounded (accounts.dates): the forms, filters and
serializers that read dates use its field classes, and nothing patches Django's."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import django_filters
import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from rest_framework import serializers

from accounts.dates import OUT_OF_RANGE, validate_date_in_range
from success.forms import ObjectiveForm

APPS = ("accounts", "onboarding", "success", "lifecycle")
# Settings that refuse to load without production secrets; they hold no forms.
UNIMPORTABLE = {"lifecycle.settings.production", "lifecycle.settings.bench"}


def _import_every_module() -> None:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in module.name or module.name in UNIMPORTABLE:
                continue
            importlib.import_module(module.name)


def _ours(cls: type) -> Iterator[Any]:
    sub: Any
    for sub in cls.__subclasses__():
        if sub.__module__.split(".")[0] in APPS:
            yield sub
        yield from _ours(sub)


def _date_fields() -> Iterator[tuple[str, Any]]:
    _import_every_module()
    for form in set(_ours(forms.BaseForm)):
        for name, field in getattr(form, "base_fields", {}).items():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                yield f"{form.__module__}.{form.__name__}.{name}", field
    for filterset in set(_ours(django_filters.FilterSet)):
        for name, declared in filterset.base_filters.items():
            field = declared.field
            if isinstance(field, forms.DateField | forms.DateTimeField):
                yield f"{filterset.__module__}.{filterset.__name__}.{name}", field
    for serializer in set(_ours(serializers.BaseSerializer)):
        for name, field in serializer().fields.items():
            dated = isinstance(field, serializers.DateField | serializers.DateTimeField)
            if dated and not field.read_only:
                yield f"{serializer.__module__}.{serializer.__name__}.{name}", field


def _admin_date_fields(superuser: Any) -> Iterator[tuple[str, Any]]:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        if model.__module__.split(".")[0] not in APPS:
            continue  # Django's own models (groups)
        forms_of = {type(model_admin).__name__: model_admin.get_form(request)}
        for inline in model_admin.get_inline_instances(request):
            forms_of[type(inline).__name__] = inline.get_formset(request).form
        for owner, form in forms_of.items():
            for name, field in form.base_fields.items():
                if isinstance(field, forms.DateField):
                    yield f"admin {owner}.{name}", field


def test_every_date_a_form_filter_or_serializer_reads_is_bounded() -> None:
    fields = dict(_date_fields())
    # The walk really finds the date inputs (forms, model forms, filters, API bodies).
    assert len(fields) >= 40
    assert "success.forms.ObjectiveForm.due_date" in fields
    assert "success.api.renewals.RenewalFilter.renewal_from" in fields
    assert "onboarding.api.MilestoneCompleteSerializer.on" in fields
    unbounded = [name for name, f in fields.items() if validate_date_in_range not in f.validators]
    assert unbounded == []


@pytest.mark.django_db
def test_every_date_the_admin_takes_is_bounded(django_user_model: Any) -> None:
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    fields = dict(_admin_date_fields(superuser))
    assert "admin AccountAdmin.renewal_date" in fields
    unbounded = [name for name, f in fields.items() if validate_date_in_range not in f.validators]
    assert unbounded == []


def test_django_date_fields_are_left_as_django_ships_them() -> None:
    """The bound is ours to use, not a patch on Django's or DRF's classes."""
    assert validate_date_in_range not in forms.DateField().validators
    assert validate_date_in_range not in serializers.DateField().validators


@pytest.mark.parametrize(("due", "ok"), [("1899-12-31", False), ("1900-01-01", True)])
def test_a_model_form_date_outside_the_range_is_a_field_error(due: str, ok: bool) -> None:
    form = ObjectiveForm(
        data={
            "title": "Adoption",
            "metric": "Seats",
            "baseline": "1",
            "target": "2",
            "due_date": due,
        }
    )
    form.is_valid()
    assert ("due_date" not in form.errors) is ok
    if not ok:
        assert form.errors["due_date"] == [OUT_OF_RANGE]
