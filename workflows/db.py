"""Database plumbing shared by the runtime and the app.

SQLite serialises writers: a transaction that may write starts with ``BEGIN
IMMEDIATE`` so that reading an instance and writing it back cannot interleave
with another writer. PostgreSQL uses row locks (``SELECT ... FOR UPDATE``)
instead. Work that only reads (a web page, ``read_only()``) begins ``DEFERRED``:
in WAL mode it reads its snapshot while a writer holds the write lock, so one
slow writer never stops every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import JSON, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

JSONType = JSON().with_variant(JSONB(), "postgresql")

# How SQLite transactions begin in this context; threads start with the default.
_SQLITE_BEGIN: ContextVar[str] = ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")


class ReadOnlyViolation(RuntimeError):
    """Something tried to write inside work declared read-only (a bug, not a user error)."""


@contextmanager
def read_only() -> Iterator[None]:
    """SQLite transactions begun inside the block are ``DEFERRED`` (take no write lock)."""
    token = _SQLITE_BEGIN.set("BEGIN DEFERRED")
    try:
        yield
    finally:
        _SQLITE_BEGIN.reset(token)


def begin_read_only() -> object:
    """Like ``read_only()`` for hooks that cannot wrap a block; ``end_read_only`` undoes it."""
    return _SQLITE_BEGIN.set("BEGIN DEFERRED")


def end_read_only(token) -> None:
    _SQLITE_BEGIN.reset(token)


def is_read_only() -> bool:
    return _SQLITE_BEGIN.get() == "BEGIN DEFERRED"


class Base(DeclarativeBase):
    """Declarative base of every model, runtime and app alike."""

    registry = registry(type_annotation_map={dict: JSONType, list: JSONType})


def configure_engine(engine: Engine, *, sqlite_busy_ms: int = 30000) -> None:
    """Attach per-dialect connection settings to an engine (idempotent)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_yimen_configured", False):
        return
    engine._yimen_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(sqlite_busy_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql(_SQLITE_BEGIN.get())


def is_postgresql(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
