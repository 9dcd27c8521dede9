"""Staff accounts and their API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.db import Base
from workflows.timeutil import utcnow


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    phone: Mapped[str | None] = mapped_column(String(32))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Raised to end every login session of the person (logout, new password, deactivation).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")
    posts = relationship("Post", secondary="user_post", back_populates="holders")

    @property
    def is_active(self) -> bool:
        return self.active


class LoginFailure(Base):
    """A failed login, kept for throttling."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_user", "username", "at"),
        Index("ix_login_failure_ip", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SecurityEvent(Base):
    """Something about accounts worth keeping in the audit log (a login throttled, a
    token revoked); ``kind`` is a ``SecurityEventKind``."""

    __tablename__ = "security_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(80))
    username: Mapped[str | None] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token; only its sha256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User] = relationship(back_populates="tokens")

    def valid_at(self, at: datetime) -> bool:
        return self.revoked_at is None and at < self.expires_at
