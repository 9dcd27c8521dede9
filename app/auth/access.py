"""Kept for feature folders written before the policy module: see ``app.policy``."""

from app.policy import STAFF, requires


def staff_required(admin: bool = False):
    """Staff pages: login required; ``admin`` means the org-management capability."""
    return requires("org.manage" if admin else STAFF)
