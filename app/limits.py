"""Bounds on what a request may bring: texts within their columns, numbers within BIGINT.

Every text the platform stores is bounded by its column's size, checked before each flush.

A form or an API call that sends a longer text is refused with a 422 naming the
field; nothing is truncated. The check sits on the session, so every way into the
database (pages, API, CLI, jobs) and both databases answer the same (SQLite would
store any length, PostgreSQL would fail with a database error). The platform's
unbounded ``Text`` columns (reasons, notes, messages people write) get
``TEXT_MAX_CHARS``; the runtime's serialized state is not text people write.
"""

from __future__ import annotations

from flask import Request
from sqlalchemy import String, event, inspect
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

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


# --- numbers from the request -------------------------------------------------------

# what a database integer holds (BIGINT); a larger id in a URL or form names nothing
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000


def bounded_int(value) -> int:
    """``int`` for request values that refuses numbers no database column holds."""
    number = int(value)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError("out of range")
    return number


class BoundedArgs(ImmutableMultiDict):
    """Query and form values where ``get(..., type=int)`` ignores out-of-range numbers."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, bounded_int if type is int else type)


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in URLs up to ``MAX_ID``: a larger id is a 404, not a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def page_number(args) -> int:
    """The ``page`` query value, 1 to ``MAX_PAGE`` (a page beyond the last one is empty)."""
    return min(max(args.get("page", 1, type=int), 1), MAX_PAGE)
