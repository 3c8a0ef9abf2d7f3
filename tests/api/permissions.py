"""The API's write-permission matrix, shared by every test of a write endpoint
on an account's data (the `account_writer` fixture in conftest.py runs a test
once per row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AccountWriter:
    """One row of the API's write-permission matrix: who writes, to an account
    owned by whom, and whether they may."""

    user: Any
    owner: Any
    allowed: bool

    def status(self, ok: int) -> int:
        """The status a write answers: `ok` when allowed, else 403."""
        return ok if self.allowed else 403


# Every write endpoint on an account's data answers the same way: admins and CS
# leaders write to any account, a CSM only to the accounts they own, a viewer never.
ACCOUNT_WRITE_MATRIX = {
    "admin": ("admin_user", False, True),
    "leader": ("leader", False, True),
    "csm-own": ("csm", True, True),
    "csm-other": ("csm", False, False),
    "viewer": ("viewer", False, False),
}
