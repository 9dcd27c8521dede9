"""Requests that must act once: spent form nonces and stored API answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base
from workflows.timeutil import utcnow


class SpentNonce(Base):
    """A create form's one-time nonce, spent in the transaction that created the thing."""

    __tablename__ = "spent_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotentAnswer(Base):
    """The answer an API create gave to a caller's ``Idempotency-Key``: the same key
    (from the same caller) is answered the same, and creates nothing more."""

    __tablename__ = "idempotent_answer"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
