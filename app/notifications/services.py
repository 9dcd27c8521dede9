"""站内消息 a person has: counting the unread ones (the navigation's number)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models.notifications import Notification


def unread_count(session, username: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.username == username, Notification.read_at.is_(None))
    )
