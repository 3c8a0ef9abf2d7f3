"""/api/v1/ routes of the accounts app."""

from rest_framework.routers import SimpleRouter

from .views import AccountViewSet, UsageSnapshotViewSet

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("usage-snapshots", UsageSnapshotViewSet, basename="usage-snapshot")

urlpatterns = router.urls
