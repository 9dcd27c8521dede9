"""统计分析's monthly facts: what a finished month counted, kept so the 12-month trend
reads a few thousand rows instead of a year of cases (app/statistics/facts.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from workflows.db import Base
from workflows.timeutil import utcnow


class MonthFilled(Base):
    """A month whose facts are kept (one row: a second scheduler finds it and stops)."""

    __tablename__ = "statistics_month_filled"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    filled_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonthFact(Base):
    """One month's counts for one item, lead department, channel and place."""

    __tablename__ = "statistics_month_fact"
    __table_args__ = (Index("ix_statistics_month_fact_month", "month", "place_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, ForeignKey("statistics_month_filled.month"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    channel: Mapped[str] = mapped_column(String(16))
    place_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    received: Mapped[int] = mapped_column(default=0)
    decided: Mapped[int] = mapped_column(default=0)
    timed: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
