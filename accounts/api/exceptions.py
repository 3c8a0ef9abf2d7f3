"""DRF's exception handler, plus the domain's own ValidationError.

Services raise django.core.exceptions.ValidationError; any that reaches the
API becomes a 400 with field errors instead of a 500."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


def as_drf_validation_error(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): msgs
                for field, msgs in exc.message_dict.items()
            }
        )
    return ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = as_drf_validation_error(exc)
    return exception_handler(exc, context)
