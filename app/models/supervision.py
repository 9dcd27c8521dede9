"""电子监察: warnings issued against limits, and the points ledger they feed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base
from workflows.timeutil import utcnow

LEVELS = {"yellow": "黄牌", "red": "红牌"}


class CaseWarning(Base):
    """A yellow or red card, issued once per case (or step) and level.

    ``scope`` is ``case`` for the case's own limit or ``item:<work item id>`` for a
    step's; the unique constraint is what keeps concurrent schedulers from issuing
    the same card twice.
    """

    __tablename__ = "case_warning"
    __table_args__ = (
        UniqueConstraint("case_id", "scope", "level"),
        Index("ix_case_warning_issued", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32))
    work_item_id: Mapped[int | None]
    step: Mapped[str | None] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(8))  # yellow | red
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    due: Mapped[date] = mapped_column(Date)
    days_left: Mapped[int]
    message: Mapped[str] = mapped_column(Text)

    @property
    def level_zh(self) -> str:
        return LEVELS.get(self.level, self.level)


class Deduction(Base):
    """扣分: an append-only ledger; a mistake is reversed by a new row, never edited."""

    __tablename__ = "deduction"
    __table_args__ = (Index("ix_deduction_department", "department_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("case_warning.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    username: Mapped[str | None] = mapped_column(String(80))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(80))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("deduction.id"), unique=True)


@event.listens_for(Deduction, "before_update")
@event.listens_for(Deduction, "before_delete")
def _append_only(_mapper, _connection, target):
    raise ValueError(f"扣分记录 {target.id} 不能修改或删除，只能由监察人员冲销。")
