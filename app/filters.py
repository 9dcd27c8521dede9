"""Template filters: times are stored as naive UTC and shown in the center's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def center_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) moment as the center's local, aware time."""
    return moment.replace(tzinfo=UTC).astimezone(center_zone())


def from_local(moment: datetime) -> datetime:
    """An aware local moment back to the storage convention (naive UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return to_local(value).strftime(fmt)


def working_days(due) -> str:
    """剩余 n 个工作日 / 超期 n 个工作日 until a due date or datetime (local days)."""
    if due is None:
        return ""
    from app.extensions import db
    from workflows.calendar import load_calendar
    from workflows.timeutil import utcnow

    day = to_local(due).date() if isinstance(due, datetime) else due
    left = load_calendar(db.session).workdays_between(to_local(utcnow()).date(), day)
    return f"超期 {-left} 个工作日" if left < 0 else f"剩余 {left} 个工作日"


def worked_days(since) -> str:
    """已用 n 个工作日 since a moment (local days; 0 on the day it arrived)."""
    from app.extensions import db
    from workflows.calendar import load_calendar
    from workflows.timeutil import utcnow

    start, today = to_local(since).date(), to_local(utcnow()).date()
    return f"已用 {max(0, load_calendar(db.session).workdays_between(start, today))} 个工作日"


def register_filters(app) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(working_days, "working_days")
    app.add_template_filter(worked_days, "worked_days")
