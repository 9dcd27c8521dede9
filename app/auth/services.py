"""Account operations: plain values in, plain values out."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from app.errors import DomainError
from app.models.auth import ApiToken, LoginFailure, SecurityEvent, User
from app.vocabulary import SecurityEventKind
from workflows.timeutil import utcnow

_hasher = PasswordHasher()
TOKEN_PREFIX = "ym_"


class UnknownUser(DomainError):
    """No account with that username."""

    code = "unknown_user"
    status = 404

    def __init__(self, username: str):
        super().__init__(f"用户 {username} 不存在。")
        self.username = username


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    return password_matches(user.password_hash, password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (argon2)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, TypeError):
        return False


def equalise_timing() -> None:
    """Spend what checking a password costs (an unknown account answers as slowly)."""
    _hasher.verify(_DUMMY_HASH, "timing-equaliser")


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


class AdminAccount(NamedTuple):
    """What ``ensure_admin`` found or made: ``generated`` is the password to print once."""

    user: User
    created: bool
    generated: str | None


def ensure_admin(session, password: str | None) -> AdminAccount:
    """The ``admin`` account; created on first call with the given or a new password."""
    user = find_user(session, "admin")
    if user is not None:
        return AdminAccount(user, created=False, generated=None)
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user = create_user(session, "admin", password, display_name="系统管理员", is_admin=True)
    return AdminAccount(user, created=True, generated=generated)


# --- login sessions ---------------------------------------------------------------

# How often a session's "last seen" moment is rewritten (each rewrite re-sends the cookie).
SEEN_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """How long a staff login lasts: without any request, and at most after logging in."""

    idle: timedelta
    absolute: timedelta


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def session_stamp(user: User, now: datetime, started: float | None = None) -> dict:
    """What a login session remembers of itself (kept in the signed session cookie)."""
    return {"v": user.session_version, "at": started or _epoch(now), "seen": _epoch(now)}


def session_is_current(stamp, user: User | None, now: datetime, limits: SessionLimits) -> bool:
    """Whether a session may still act as ``user``: same session version, active user,
    neither idle nor older than the limits. A session without a stamp (e.g. one a
    remember-me cookie restored) is never current."""
    if user is None or not user.is_active or not isinstance(stamp, dict):
        return False
    try:
        version, started, seen = int(stamp["v"]), float(stamp["at"]), float(stamp["seen"])
    except (KeyError, TypeError, ValueError):
        return False
    at = _epoch(now)
    return (
        version == user.session_version
        and at - seen < limits.idle.total_seconds()
        and at - started < limits.absolute.total_seconds()
    )


def seen_again(stamp: dict, user: User, now: datetime) -> dict | None:
    """The stamp with a new "last seen" moment, or None while the old one is recent enough."""
    if _epoch(now) - float(stamp["seen"]) < SEEN_GRANULARITY.total_seconds():
        return None
    return session_stamp(user, now, started=float(stamp["at"]))


def end_sessions(user: User) -> None:
    """Every login session of ``user`` ends at its next request (cookies cannot be replayed)."""
    user.session_version = (user.session_version or 0) + 1


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


DEFAULT_TOKEN_DAYS = 90


class UnknownToken(DomainError):
    """No API token with that id (or not one of the person's own)."""

    code = "unknown_token"
    status = 404

    def __init__(self, token_id):
        super().__init__(f"访问令牌 #{token_id} 不存在。")


def issue_token(
    session, username: str, name: str = "命令行签发", days: int = DEFAULT_TOKEN_DAYS
) -> str:
    """A new bearer token for a user, valid for ``days``; the plain token is shown only now."""
    user = find_user(session, username)
    if user is None:
        raise UnknownUser(username)
    if days < 1:
        raise DomainError("有效期至少 1 天。", "days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiToken(
            user=user,
            name=name,
            token_sha256=_token_digest(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def user_for_token(session, token: str, *, record_use: bool = True) -> User | None:
    """The active user a bearer token belongs to, if the token is valid (not revoked,
    not expired).

    ``record_use`` stamps ``last_used_at``; read-only requests leave it (they take no
    write lock), so it is the last use by a request that may change something.
    """
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_sha256 == _token_digest(token))
    ).first()
    now = utcnow()
    if row is None or not row.valid_at(now) or not row.user.is_active:
        return None
    if record_use and (row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60):
        row.last_used_at = now
    return row.user


def tokens_of(session, user: User | None = None) -> list[ApiToken]:
    """API tokens, newest first: ``user``'s, or everyone's when None."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def token_state(token: ApiToken, at: datetime) -> str:
    """有效 / 已过期 / 已撤销, as people read it."""
    if token.revoked_at is not None:
        return "已撤销"
    return "有效" if token.valid_at(at) else "已过期"


def revoke_tokens(session, tokens: list[ApiToken], actor: str) -> int:
    """Revoke the tokens not yet revoked (recorded in the audit log); returns how many."""
    now, revoked = utcnow(), 0
    for token in tokens:
        if token.revoked_at is not None:
            continue
        token.revoked_at, token.revoked_by = now, actor
        session.add(
            SecurityEvent(
                at=now,
                kind=SecurityEventKind.TOKEN_REVOKED,
                actor=actor,
                username=token.user.username,
                message=f"访问令牌 #{token.id}（{token.name}）已撤销",
            )
        )
        revoked += 1
    session.flush()
    return revoked


def revoke_token(session, token_id: int, actor: User | str, *, owner: User | None = None) -> int:
    """Revoke one token; with ``owner``, only if it is theirs (else UnknownToken)."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise UnknownToken(token_id)
    name = actor if isinstance(actor, str) else actor.username
    return revoke_tokens(session, [token], name)


# --- login throttling -----------------------------------------------------------
#
# Failures slow the guesser down without letting anyone lock another person out:
# an address that keeps failing waits longer and longer (minutes, across all
# usernames, and sooner for one username from that address), while the failures
# of a username from all addresses together only ever make its next attempt wait a
# few seconds. So an attacker's failures at one address never stop the real
# person at theirs, and every wait ends by time alone.

FAILURE_WINDOW = timedelta(minutes=15)
_DUMMY_HASH = _hasher.hash("timing-equaliser")


@dataclass(frozen=True)
class Throttle:
    """After ``free`` failures within the window, each further failure makes the next
    attempt wait ``base``·2ⁿ (n failures beyond the free ones), at most ``cap``."""

    label: str
    free: int
    base: timedelta
    cap: timedelta
    in_minutes: bool = True  # how the wait is told: whole minutes, or seconds

    def words(self, wait: timedelta) -> str:
        seconds = max(1, math.ceil(wait.total_seconds()))
        return f"{math.ceil(seconds / 60)} 分钟" if self.in_minutes else f"{seconds} 秒"

    def wait(self, failures: list[datetime], now: datetime) -> timedelta | None:
        """How long the next attempt must wait after ``failures`` (oldest first), if at all."""
        beyond = len(failures) - self.free
        if beyond < 0:
            return None
        until = failures[-1] + min(self.base * 2**beyond, self.cap)
        return until - now if until > now else None


ADDRESS = Throttle("该地址", 10, timedelta(minutes=1), FAILURE_WINDOW)
ACCOUNT_AT_ADDRESS = Throttle("该用户在该地址", 5, timedelta(minutes=1), FAILURE_WINDOW)
ACCOUNT = Throttle("该用户", 10, timedelta(seconds=2), timedelta(seconds=30), in_minutes=False)


class LoginRefused(DomainError):
    """Login failed; ``message`` is what the person is told (status 429 while throttled)."""

    code = "login_refused"
    status = 401


def _recent_failures(session, now, *conditions) -> list[datetime]:
    return list(
        session.scalars(
            select(LoginFailure.at)
            .where(*conditions, LoginFailure.at > now - FAILURE_WINDOW)
            .order_by(LoginFailure.at)
        )
    )


def _throttles(session, username: str, ip: str, now) -> list[tuple[Throttle, list[datetime]]]:
    return [
        (ADDRESS, _recent_failures(session, now, LoginFailure.ip == ip)),
        (
            ACCOUNT_AT_ADDRESS,
            _recent_failures(
                session, now, LoginFailure.username == username, LoginFailure.ip == ip
            ),
        ),
        (ACCOUNT, _recent_failures(session, now, LoginFailure.username == username)),
    ]


def longest_wait(session, username: str, ip: str, now) -> tuple[Throttle, timedelta] | None:
    waits = [
        (throttle, wait)
        for throttle, failures in _throttles(session, username, ip, now)
        if (wait := throttle.wait(failures, now)) is not None
    ]
    return max(waits, key=lambda pair: pair[1], default=None)


def record_failure(session, username: str, ip: str, now) -> str:
    """Store a failure; when it makes a throttle wait, say so in the audit log.

    Returns the hint for the person (how many tries are left before a wait).
    """
    session.add(LoginFailure(username=username, ip=ip, at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
    session.flush()
    throttled = longest_wait(session, username, ip, now)
    if throttled is not None:
        throttle, wait = throttled
        session.add(
            SecurityEvent(
                at=now,
                kind=SecurityEventKind.LOGIN_THROTTLED,
                username=username or None,
                ip=ip,
                message=(
                    f"{throttle.label}登录失败过多（最近一次来自 {ip}），"
                    f"须等待 {throttle.words(wait)}后再试"
                ),
            )
        )
        return ""
    failures = _recent_failures(
        session, now, LoginFailure.username == username, LoginFailure.ip == ip
    )
    left = ACCOUNT_AT_ADDRESS.free - len(failures)
    return f"再失败 {left} 次须等待 1 分钟后再试。" if 0 < left <= 2 else ""


def authenticate(session, username: str, password: str, ip: str) -> User:
    """The user for a username and password, with throttling; raises LoginRefused
    (status 429 with the time to wait while throttled)."""
    now = utcnow()
    username = username.strip()
    throttled = longest_wait(session, username, ip, now)
    if throttled is not None:
        throttle, wait = throttled
        raise LoginRefused(f"登录失败次数过多，请 {throttle.words(wait)}后再试。", status=429)
    user = find_user(session, username)
    if user is None:
        equalise_timing()
    if user is None or not user.is_active or not check_password(user, password):
        hint = record_failure(session, username, ip, now)
        session.commit()
        raise LoginRefused("用户名或密码不正确。" + hint)
    session.execute(
        delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == ip)
    )
    return user


class PasswordRejected(DomainError):
    """A password change was refused; ``field`` names the form field at fault."""


def change_password(session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; raises PasswordRejected."""
    if not check_password(user, current):
        raise PasswordRejected("当前密码不正确。", "current")
    if len(new) < 8:
        raise PasswordRejected("新密码至少 8 位。", "new")
    if new == current:
        raise PasswordRejected("新密码不能与当前密码相同。", "new")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user)
