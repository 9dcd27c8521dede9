"""Account operations: plain values in, plain values out."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from workflows.timeutil import utcnow

from .models import ApiToken, User

_hasher = PasswordHasher()
TOKEN_PREFIX = "ym_"


class UnknownUser(LookupError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_user(session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def create_user(
    session, username: str, password: str, *, display_name=None, is_admin=False
) -> User:
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    return user


def ensure_admin(session, password: str | None) -> tuple[User, str | None]:
    """The ``admin`` account; created on first call with the given or a new password.

    Returns the user and the password when it was just generated (to print once).
    """
    user = find_user(session, "admin")
    if user is not None:
        return user, None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user = create_user(session, "admin", password, display_name="系统管理员", is_admin=True)
    return user, generated


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session, username: str, name: str = "cli") -> str:
    """A new bearer token for a user; the plain token is shown only now."""
    user = find_user(session, username)
    if user is None:
        raise UnknownUser(username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, name=name, token_sha256=_token_digest(token)))
    session.flush()
    return token


def user_for_token(session, token: str) -> User | None:
    """The active user a bearer token belongs to, if the token is valid."""
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_sha256 == _token_digest(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return row.user
