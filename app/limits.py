"""Every text the platform stores is bounded: its column's size, checked before each flush.

A form or an API call that sends a longer text is refused with a 422 naming the
field; nothing is truncated. The check sits on the session, so every way into the
database (pages, API, CLI, jobs) and both databases answer the same (SQLite would
store any length, PostgreSQL would fail with a database error). The platform's
unbounded ``Text`` columns (reasons, notes, messages people write) get
``TEXT_MAX_CHARS``; the runtime's serialized state is not text people write.
"""

from __future__ import annotations

from sqlalchemy import String, event, inspect

from app.errors import DomainError
from app.extensions import db

TEXT_MAX_CHARS = 5000


class TextTooLong(DomainError):
    code = "text_too_long"


def limit_of(column, *, platform: bool = True) -> int | None:
    """The longest text ``column`` takes, or None for a column without a limit.

    ``platform``: the column belongs to a model of ``app.models`` (bounded ``Text``).
    """
    if not isinstance(column.type, String):
        return None
    return column.type.length or (TEXT_MAX_CHARS if platform else None)


def check_lengths(instance) -> None:
    """Raise ``TextTooLong`` for the first text attribute of ``instance`` over its column."""
    platform = type(instance).__module__.startswith("app.models")
    for attribute in inspect(instance).mapper.column_attrs:
        column = attribute.columns[0]
        limit = limit_of(column, platform=platform)
        value = getattr(instance, attribute.key, None)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            label = column.info.get("label", attribute.key)
            raise TextTooLong(
                f"「{label}」太长：最多 {limit} 个字符，收到 {len(value)} 个。",
                field=attribute.key,
            )


@event.listens_for(db.session, "before_flush")
def _bounded_texts(session, _context, _instances):
    for instance in (*session.new, *session.dirty):
        check_lengths(instance)
