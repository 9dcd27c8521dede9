"""What the audit chain records of accounts: throttled logins, revoked tokens."""

from __future__ import annotations

from app.models.auth import SecurityEvent


def security_event_row(_session, event: SecurityEvent) -> dict:
    return {
        "at": event.at,
        "source": "auth",
        "action": event.kind,
        "actor": event.actor,
        "subject": f"用户 {event.username}" if event.username else f"地址 {event.ip}",
        "message": event.message,
    }
