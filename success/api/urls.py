"""/api/v1/ routes of the success app. Health, alerts and playbooks have their own
(success.health.api, success.alerts.api, success.playbooks.api)."""

from rest_framework.routers import SimpleRouter

from .plans import ObjectiveViewSet, SuccessPlanViewSet
from .renewals import RenewalViewSet
from .reviews import BusinessReviewViewSet

router = SimpleRouter()
router.register("success-plans", SuccessPlanViewSet, basename="success-plan")
router.register("objectives", ObjectiveViewSet, basename="objective")
router.register("business-reviews", BusinessReviewViewSet, basename="business-review")
router.register("renewals", RenewalViewSet, basename="renewal")
urlpatterns = router.urls
