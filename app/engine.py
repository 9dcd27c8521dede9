"""The runtime as the platform uses it: with org routing attached."""

from __future__ import annotations

from app.extensions import db
from app.routing.assigner import OrgAssigner
from workflows.runtime import Runtime


def platform_runtime(session=None) -> Runtime:
    """A runtime on the request's session (or ``session``) that routes new work by the org model."""
    return Runtime(session if session is not None else db.session, assigner=OrgAssigner())
