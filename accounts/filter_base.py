"""A FilterSet for list pages that builds its form class once per process.

django-filter's FilterSet deep-copies every filter of its class per request, builds
each filter's form field, and makes a new Form class from them (a metaclass call),
before the form itself copies those fields again: on the renewals and onboarding
lists that was about 2 ms a request, as much as their rows (docs/performance.md).
`BuiltOnceFilterSet` copies each filter shallowly (rebinding a `method=` filter to
its copy, as the deep copy did), reuses one Form class per FilterSet class, and
takes the choices known only now (owners, templates) on this request's form, whose
fields are its own. Filtering, validation and markup are django-filter's."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict


class BuiltOnceFilterSet(django_filters.FilterSet):
    _form_classes: ClassVar[dict[type, type[forms.Form]]] = {}

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
    ) -> None:
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            flt = copy.copy(base)
            flt.model = queryset.model
            flt.parent = self
            if base.method is not None:
                flt.method = base.method  # a FilterMethod bound to this copy
            self.filters[name] = flt
        self._choices: dict[str, list[tuple[str, str]]] = {}

    def choices_set(self, name: str, choices: list[tuple[str, str]]) -> None:
        """This request's choices of filter `name` (owners known now)."""
        self._choices[name] = choices
        if hasattr(self, "_form"):
            self._form.fields[name].choices = choices  # type: ignore[attr-defined]

    def get_form_class(self) -> type[forms.Form]:
        form_class = self._form_classes.get(type(self))
        if form_class is None:
            form_class = self._form_classes[type(self)] = super().get_form_class()
        return form_class

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form_class = self.get_form_class()
            form = form_class(self.data if self.is_bound else None, prefix=self.form_prefix)
            for name, choices in self._choices.items():
                form.fields[name].choices = choices  # type: ignore[attr-defined]
            self._form = form
        return self._form
