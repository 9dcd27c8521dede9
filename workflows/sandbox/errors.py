"""What the sandbox raises when it refuses code (a violation) or stops it (a limit)."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of sandbox errors: a Chinese message plus a stable English key."""

    def __init__(self, message: str, key: str, lineno: int | None = None):
        super().__init__(f"{message} ({key})")
        self.message = message
        self.key = key
        self.lineno = lineno


class SandboxViolation(SandboxError):
    """The code uses something the sandbox does not allow."""


class SandboxLimitExceeded(SandboxError):
    """The code ran over a time, size, work or memory budget."""


def violation(message: str, key: str, lineno: int | None = None) -> SandboxViolation:
    return SandboxViolation(message, key, lineno)


def over_limit(message: str, key: str) -> SandboxLimitExceeded:
    return SandboxLimitExceeded(message, key)
