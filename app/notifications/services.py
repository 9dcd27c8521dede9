"""站内消息 a person has: counting the unread ones (the navigation's number), sending once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models.notifications import Notification


def unread_count(session, username: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.username == username, Notification.read_at.is_(None))
    )


def notify_once(session, usernames, kind: str, text: str, link: str) -> list[str]:
    """One message of ``kind`` about ``link`` to each person who has not had it yet.

    Saving the same change again (a retried request, a re-saved instance) sends
    nothing more. Returns who was notified this time.
    """
    wanted = list(dict.fromkeys(usernames))
    if not wanted:
        return []
    had = set(
        session.scalars(
            select(Notification.username).where(
                Notification.username.in_(wanted),
                Notification.kind == kind,
                Notification.link == link,
            )
        )
    )
    sent = [name for name in wanted if name not in had]
    session.add_all(Notification(username=name, kind=kind, text=text, link=link) for name in sent)
    return sent
