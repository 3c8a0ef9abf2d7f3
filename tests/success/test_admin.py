from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from success import models as success_models
from tests.factories import (
    BusinessReviewFactory,
    ObjectiveFactory,
    RenewalFactory,
    SuccessTaskFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [getattr(success_models, name) for name in success_models.__all__]
MODELS = [m for m in MODELS if isinstance(m, type) and hasattr(m, "_meta")]


def test_every_success_model_is_in_the_admin() -> None:
    assert {m for m in MODELS if m not in admin.site._registry} == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_changelist_and_search_render(client: Any, admin_user: Any, model: Any) -> None:
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save()
    ObjectiveFactory.create()
    SuccessTaskFactory.create()
    BusinessReviewFactory.create()
    RenewalFactory.create()
    client.force_login(admin_user)
    url = reverse(f"admin:success_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "acme"}).status_code == 200
