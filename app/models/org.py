"""Org model tables.

Regions form a tree (province → city → county → township → village) with their
official codes; ``path`` ("/1/5/42/") lets a query take a whole subtree. A
department belongs to a region; a section (股室) is a department whose parent is
a department. A post is a role inside a department or section; users hold posts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.db import Base
from workflows.timeutil import utcnow

LEVELS = ("province", "city", "county", "township", "village")
LEVEL_ZH = {"province": "省", "city": "市", "county": "县", "township": "乡镇", "village": "村"}

ROLES = {
    "window_clerk": "窗口受理员",
    "handler": "承办人",
    "reviewer": "审核人",
    "deputy_leader": "分管领导",
    "chief_leader": "主要领导",
    "inspector": "监察员",
    "designer": "流程设计员",
    "admin": "系统管理员",
}
ROLE_BY_ZH = {zh: key for key, zh in ROLES.items()}


user_post = Table(
    "user_post",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_user_post_post", "post_id"),
)


class Region(Base):
    __tablename__ = "region"
    # prefix search (subtrees) on PostgreSQL needs pattern ops unless the collation is C
    __table_args__ = (
        Index("ix_region_path_prefix", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="/")

    parent: Mapped[Region | None] = relationship(remote_side=[id])

    @property
    def level_zh(self) -> str:
        return LEVEL_ZH.get(self.level, self.level)


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("region_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)

    region: Mapped[Region] = relationship()
    parent: Mapped[Department | None] = relationship(remote_side=[id])

    @property
    def is_section(self) -> bool:
        return self.parent_id is not None


class Post(Base):
    """A role in a department or section, e.g. 县市场监管局审批股 审核人."""

    __tablename__ = "post"
    __table_args__ = (UniqueConstraint("department_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    department: Mapped[Department] = relationship()
    holders = relationship("User", secondary=user_post, back_populates="posts")

    @property
    def role_zh(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def title(self) -> str:
        return f"{self.department.name} {self.role_zh}"


class Backup(Base):
    """AB角: while in force, ``backup`` receives and sees ``holder``'s work."""

    __tablename__ = "ab_backup"
    __table_args__ = (Index("ix_ab_backup_active", "backup_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    backup_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # optional scope: only work of this department (and its sections) or this process
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    process_id: Mapped[str | None] = mapped_column(String(255))
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    holder = relationship("User", foreign_keys=[holder_id])
    backup = relationship("User", foreign_keys=[backup_id])
    department: Mapped[Department | None] = relationship()

    def in_force(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


class AssignmentRules(Base):
    """What to do with odd assignments, per process (per item once items exist)."""

    __tablename__ = "assignment_rules"

    process_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    # nobody resolvable: "leader" (the department's leader post) or "admin"
    when_empty: Mapped[str] = mapped_column(String(16), default="leader")
    # the only candidate is the person who started the case: "allow", "skip" or "leader"
    when_initiator: Mapped[str] = mapped_column(String(16), default="leader")
    # the only candidate completed the previous step: "allow", "skip" or "leader"
    when_same_as_previous: Mapped[str] = mapped_column(String(16), default="allow")
