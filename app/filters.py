"""Template filters: times are stored as naive UTC and shown in the center's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return value.replace(tzinfo=UTC).astimezone(zone).strftime(fmt)


def register_filters(app) -> None:
    app.add_template_filter(local_time, "local_time")
