"""What the audit chain records of accounts: every account change (password
hashes included: a reset is an entry) with its posts, every API token, and the
security events (throttled logins, revoked tokens)."""

from __future__ import annotations

from app.audit.chain import Covered
from app.models.auth import ApiToken, SecurityEvent, User

COVERED = (
    Covered(User, "org", collections=("posts",)),
    Covered(ApiToken, "auth", exclude=("last_used_at",)),
)


def security_event_row(_session, event: SecurityEvent) -> dict:
    return {
        "at": event.at,
        "source": "auth",
        "action": event.kind,
        "actor": event.actor,
        "subject": f"用户 {event.username}" if event.username else f"地址 {event.ip}",
        "message": event.message,
    }
