"""Database plumbing shared by the runtime and the app.

SQLite serialises writers: every transaction starts with ``BEGIN IMMEDIATE`` so
that reading an instance and writing it back cannot interleave with another
writer. PostgreSQL uses row locks (``SELECT ... FOR UPDATE``) instead.
"""

from __future__ import annotations

from sqlalchemy import JSON, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

JSONType = JSON().with_variant(JSONB(), "postgresql")


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
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgresql(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
