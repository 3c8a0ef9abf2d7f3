"""Success models, one module per area. Health and alerts add their own
modules here (and one import line each) without touching the others."""

from .plans import Objective, ObjectiveStatus, ObjectiveUpdate, SuccessPlan, SuccessTask
from .renewals import ArrMovement, ChurnReason, ForecastChange, Renewal
from .reviews import BusinessReview, ReviewKind, Sentiment

__all__ = [
    "ArrMovement",
    "BusinessReview",
    "ChurnReason",
    "ForecastChange",
    "Objective",
    "ObjectiveStatus",
    "ObjectiveUpdate",
    "Renewal",
    "ReviewKind",
    "Sentiment",
    "SuccessPlan",
    "SuccessTask",
]
