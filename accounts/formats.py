"""The one way Lifecycle writes a day and an amount of money, in pages, CSV-free
text (timeline summaries, alert messages) and emails alike. Templates use the
`day` and `money` filters (accounts/templatetags/formats.py, built in), Python
calls these functions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone


def date_display(value: date | datetime | None) -> str:
    """`Feb 7, 2027`: abbreviated month, day without a leading zero, year.
    A datetime is shown as its local day."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return f"{value:%b} {value.day}, {value.year}"


def money_display(amount: Decimal | float | int | None, currency: str = "") -> str:
    """`69,500 USD`: thousands grouped, cents only when there are some
    (`1,234.50 USD`), the currency code after the number when known."""
    if amount is None:
        return ""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{text} {currency}".strip()
