"""站内消息: warnings, 督办 and copies addressed to the signed-in user."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select, update

from app.extensions import db
from app.limits import page_number
from app.models.notifications import Notification
from app.policy import STAFF, requires
from workflows.timeutil import utcnow

PAGE_SIZE = 50


@requires(STAFF)
def index():
    page = page_number(request.args)
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.username == current_user.username)
        .order_by(Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "notifications/index.html", rows=rows, page=page, has_next=len(rows) == PAGE_SIZE
    )


@requires(STAFF)
def read_all():
    db.session.execute(
        update(Notification)
        .where(Notification.username == current_user.username, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    flash("已全部标为已读。", "success")
    return redirect(url_for("notifications.index"))
