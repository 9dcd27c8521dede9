"""What the audit chain records of accounts: every account change (password
hashes included: a reset is an entry) with its posts, and every API token."""

from __future__ import annotations

from app.audit.chain import Covered
from app.models.auth import ApiToken, User

COVERED = (
    Covered(User, "org", collections=("posts",)),
    Covered(ApiToken, "auth", exclude=("last_used_at",)),
)
