"""What the desk keeps of its own: each person's unsent draft of a task form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base
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
