"""Who may call what. Every view declares its rule with one of these decorators."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user, login_required

from app.extensions import db

from .services import user_for_token


class ApiUnauthorized(Exception):
    pass


class ApiForbidden(Exception):
    pass


def api_user():
    """The user of the current API request (set by ``token_required``)."""
    return g.api_user


def token_required(admin: bool = False):
    """API views: a valid bearer token is required; ``admin`` narrows to administrators."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                raise ApiUnauthorized()
            if admin and not user.is_admin:
                raise ApiForbidden()
            g.api_user = user
            return view(*args, **kwargs)

        return wrapper

    return decorate


def staff_required(admin: bool = False):
    """Staff pages: login required; ``admin`` narrows to administrators."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if admin and not current_user.is_admin:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
