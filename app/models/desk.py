"""What the desk keeps of its own: each person's unsent drafts, and copies (抄送)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.auth import User
from workflows.db import Base
from workflows.models import ProcessInstance, WorkItem
from workflows.timeutil import utcnow


class TaskDraft(Base):
    """A form saved with 保存草稿: not validated, seen only by its author, dropped on completion."""

    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("work_item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    data: Mapped[dict] = mapped_column(default=dict)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseCopy(Base):
    """A case (or one step of it) copied to a person for information (抄送).

    Nothing waits on a copy: it is read or not. It lets the recipient see the case.
    """

    __tablename__ = "case_copy"
    __table_args__ = (
        Index("ix_case_copy_recipient", "recipient_id", "id"),
        Index("ix_case_copy_unread", "recipient_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    sent_by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    instance: Mapped[ProcessInstance] = relationship()
    work_item: Mapped[WorkItem | None] = relationship()
    recipient: Mapped[User] = relationship()


class OpinionPhrase(Base):
    """A 常用意见 a person saved for themselves, offered next to every opinion field."""

    __tablename__ = "opinion_phrase"
    __table_args__ = (UniqueConstraint("user_id", "text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
