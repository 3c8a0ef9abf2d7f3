"""My work: everything due for the signed-in person, across plans, reviews and
renewals."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import selectors as account_selectors
from accounts.http import AuthedRequest

from ..selectors import overview


@require_GET
def my_work(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    items = overview.my_work(user=request.user, today=today)
    conflicts = account_selectors.open_conflicts_count(owner_id=request.user.pk)
    return render(
        request,
        "success/my_work.html",
        {
            "items": items,
            "today": today,
            "overdue": sum(1 for i in items if i.overdue),
            "sync_conflicts": conflicts,
        },
    )
