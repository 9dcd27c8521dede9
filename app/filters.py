"""Template filters: they format what the center's clock (``app.clock``) computes."""

from __future__ import annotations

from datetime import datetime

from flask import g
from sqlalchemy import select

from app.clock import center_clock
from app.extensions import db
from app.models.auth import User
from app.privacy import mask, mask_phone
from workflows.models import ProcessDefinition


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (naive UTC) moment in the center's time zone."""
    if value is None:
        return ""
    return center_clock().to_local(value).strftime(fmt)


def working_days(due) -> str:
    """剩余 n 个工作日 / 超期 n 个工作日 until a due date or datetime (local days)."""
    if due is None:
        return ""
    left = center_clock(db.session).workdays_left(due)
    return f"超期 {-left} 个工作日" if left < 0 else f"剩余 {left} 个工作日"


def worked_days(since) -> str:
    """已用 n 个工作日 since a moment (local days; 0 on the day it arrived)."""
    return f"已用 {center_clock(db.session).workdays_used(since)} 个工作日"


def process_label(process_id: str | None) -> str:
    """A process as people know it: the name its newest version was drawn with.

    Names are read once per request; a process without a name keeps its id."""
    if not process_id:
        return ""
    names = g.get("process_names")
    if names is None:
        rows = db.session.execute(
            select(ProcessDefinition.process_id, ProcessDefinition.name).order_by(
                ProcessDefinition.version
            )
        )
        names = g.process_names = {pid: name for pid, name in rows if name}
    return names.get(process_id, process_id)


def person(username: str | None) -> str:
    """A user as colleagues know them: the display name (looked up once per request);
    an account that no longer exists keeps its login name, nobody reads as 系统."""
    if not username:
        return "系统"
    people = g.setdefault("people", {})
    if username not in people:
        people[username] = db.session.scalar(
            select(User.display_name).where(User.username == username)
        )
    return people[username] or username


def step_names(items) -> str:
    """Open steps as one line: each step once, in order; a step open several times
    at once (会签, a department per branch) says how many: 会签（3 项并行）."""
    counts: dict[str, int] = {}
    for item in items:
        name = (item if isinstance(item, str) or item is None else item.name) or "未命名步骤"
        counts[name] = counts.get(name, 0) + 1
    return "、".join(f"{n}（{c} 项并行）" if c > 1 else n for n, c in counts.items())


def register_filters(app) -> None:
    app.add_template_filter(step_names, "step_names")
    app.add_template_filter(person, "person")
    app.add_template_filter(process_label, "process_label")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(working_days, "working_days")
    app.add_template_filter(worked_days, "worked_days")
    app.add_template_filter(mask, "mask_id")
    app.add_template_filter(mask_phone, "mask_phone")
