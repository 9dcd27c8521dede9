"""The window's refusals, shared by the case services and the intake form."""

from __future__ import annotations

from app.errors import DomainError


class CaseError(DomainError):
    """A refused window action; ``field`` names the form field at fault, if any."""
