"""Who may take a work item: posts and people, decided when the item opens."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base


class WorkItemCandidate(Base):
    """One candidate of a work item: a post (any holder) or one person.

    ``on_behalf_of_id`` marks a backup (B角) added because the holder is away.
    """

    __tablename__ = "work_item_candidate"
    __table_args__ = (
        Index("ix_candidate_post", "post_id", "work_item_id"),
        Index("ix_candidate_user", "user_id", "work_item_id"),
        # 待办 reads these alone (index-only): B角 records are not candidates any more
        Index(
            "ix_candidate_post_live",
            "post_id",
            "work_item_id",
            postgresql_where=text("on_behalf_of_id IS NULL"),
            sqlite_where=text("on_behalf_of_id IS NULL"),
        ),
        Index(
            "ix_candidate_user_live",
            "user_id",
            "work_item_id",
            postgresql_where=text("on_behalf_of_id IS NULL"),
            sqlite_where=text("on_behalf_of_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(32), default="diagram")
