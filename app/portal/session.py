"""The applicant's login, under its own session key: never a staff login.

Flask-Login serves staff; an applicant's login is the key ``APPLICANT`` alone, and
logging in as one empties the session first, so the two never share a session.
"""

from __future__ import annotations

from flask import session

from app.extensions import db
from app.models.applicants import ApplicantIdentity

APPLICANT = "portal_identity"


def log_in(identity: ApplicantIdentity) -> None:
    session.clear()
    session[APPLICANT] = identity.id


def log_out() -> None:
    session.pop(APPLICANT, None)


def current_identity() -> ApplicantIdentity | None:
    """The logged-in applicant's identity; None in a staff session or without login."""
    identity_id = session.get(APPLICANT)
    if "_user_id" in session:  # a staff login came later: the applicant's is over
        session.pop(APPLICANT, None)
        return None
    if not isinstance(identity_id, int):
        return None
    identity = db.session.get(ApplicantIdentity, identity_id)
    if identity is None or not identity.applicant.active:
        return None
    return identity
