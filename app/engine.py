"""The runtime as the platform uses it: org routing and case tracking attached."""

from __future__ import annotations

from app.extensions import db
from app.routing.assigner import OrgAssigner
from workflows.runtime import Runtime


def platform_runtime(session=None) -> Runtime:
    """A runtime on the request's session (or ``session``) with routing and case tracking."""
    from app.cases.services import CaseObserver

    return Runtime(
        session if session is not None else db.session,
        assigner=OrgAssigner(),
        observer=CaseObserver(),
    )
