"""`{{ value|day }}` and `{{ amount|money:currency }}`: the one date and money
format of every page (built in: settings TEMPLATES builtins)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template

from accounts.formats import date_display, money_display

register = template.Library()


@register.filter
def day(value: date | datetime | str | None) -> str:
    if not isinstance(value, date):
        return ""
    return date_display(value)


@register.filter
def money(value: Decimal | float | int | str | None, currency: Any = "") -> str:
    if value is None or value == "":
        return ""
    try:
        return money_display(Decimal(str(value)), str(currency or ""))
    except ArithmeticError:
        return ""
