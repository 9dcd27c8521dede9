"""Worklist pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import policy
from app.engine import platform_runtime
from app.extensions import db
from app.policy import requires
from app.routing.assigner import GREEN_CHANNEL_PRIORITY
from workflows.errors import RuntimeErrorBase

from . import services

PAGE_SIZE = 50


@requires("work")
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    rows = services.my_open_work(
        db.session, current_user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "desk/index.html",
        rows=rows,
        routed_to=services.candidate_titles(db.session, [r.item.id for r in rows]),
        total=services.count_open_work(db.session, current_user),
        page=page,
        has_next=len(rows) == PAGE_SIZE,
        green_priority=GREEN_CHANNEL_PRIORITY,
    )


def _act(item_id: int, action: str, done: str):
    runtime = platform_runtime()
    item = runtime.work_item(item_id)
    if not policy.can_act(db.session, current_user, item):
        abort(403)
    try:
        getattr(runtime, action)(
            item_id, current_user.username, request.form.get("version", type=int)
        )
    except RuntimeErrorBase as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("desk.index"))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("desk.index"))


@requires("work")
def claim(item_id: int):
    return _act(item_id, "claim", "已认领。")


@requires("work")
def release(item_id: int):
    return _act(item_id, "release", "已释放，其他同事可以认领。")
