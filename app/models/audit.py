"""The audit log: append-only, each entry chained to the one before by a keyed hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base
from workflows.timeutil import utcnow

ALG_PLAIN = "sha256"  # entries written before the chain had a key: anyone can recompute them
ALG_HMAC = "hmac-sha256"  # HMAC-SHA256 with the key kept outside the database


class AuditEntry(Base):
    """One action on a case, a process, a deployment, the organisation or the catalog.

    ``seq`` numbers entries without gaps; ``hash`` covers the entry's fields and the
    previous entry's hash, so editing, deleting or inserting a row breaks the chain
    from that row on (``flask --app app audit verify``). ``row_table``/``row_id``
    name the row the entry covers and ``row_sha256`` digests that row's protected
    fields as the entry left them (None: the row was deleted).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_case", "case_id", "seq"),
        Index("ix_audit_entry_instance", "instance_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # process | case | deployment | ledger | auth
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(80))
    on_behalf_of: Mapped[str | None] = mapped_column(String(80))
    instance_id: Mapped[int | None]
    case_id: Mapped[int | None]
    subject: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)
    data_sha256: Mapped[str | None] = mapped_column(String(64))
    row_table: Mapped[str | None] = mapped_column(String(40))
    row_id: Mapped[str | None] = mapped_column(String(64))
    row_sha256: Mapped[str | None] = mapped_column(String(64))
    alg: Mapped[str] = mapped_column(String(16), server_default=ALG_PLAIN)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
