"""Stored file contents: one row per distinct content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base
from workflows.timeutil import utcnow


class Blob(Base):
    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    mime: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstanceFile(Base):
    """A file uploaded to a case (its process instance): a form's file field may name
    only files of its own case, never another case's by its hash."""

    __tablename__ = "instance_file"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
