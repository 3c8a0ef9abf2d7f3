from django.http import HttpRequest

from .models import User


class AuthedRequest(HttpRequest):
    """A request past LoginRequiredMiddleware: the user is a real User."""

    user: User
