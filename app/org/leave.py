"""请假/销假 by the person themselves (AB角): who stands in for them, until when."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from app.auth.services import find_user
from app.extensions import db
from app.models.org import Backup
from app.policy import STAFF, requires
from workflows.timeutil import utcnow

from .forms import MyLeaveForm, local_to_utc
from .services import OrgError, end_leave, take_own_leave


def _page(form, status=200):
    at = utcnow()
    mine = db.session.scalars(
        select(Backup)
        .where(Backup.holder_id == current_user.id)
        .order_by(Backup.valid_from.desc())
        .limit(20)
    ).all()
    standing_in = db.session.scalars(
        select(Backup).where(
            Backup.backup_id == current_user.id,
            Backup.valid_from <= at,
            or_(Backup.valid_to.is_(None), Backup.valid_to > at),
        )
    ).all()
    return render_template(
        "org/my_leave.html", form=form, mine=mine, standing_in=standing_in, now=at
    ), status


@requires(STAFF)
def leave():
    form = MyLeaveForm()
    if not form.validate_on_submit():
        return _page(form, 400 if request.method == "POST" else 200)
    backup = find_user(db.session, form.backup.data.strip())
    if backup is None:
        form.backup.errors.append("没有这个用户。")
        return _page(form, 400)
    try:
        take_own_leave(
            db.session,
            current_user,
            backup,
            local_to_utc(form.valid_to.data),
            form.reason.data or None,
        )
    except OrgError as exc:
        form.backup.errors.append(exc.message)
        return _page(form, 400)
    db.session.commit()
    flash(f"已请假，期间您的工作由 {backup.display_name} 代为办理。", "success")
    return redirect(url_for("account.leave"))


@requires(STAFF)
def end():
    ended = end_leave(db.session, current_user)
    db.session.commit()
    flash("已销假。" if ended else "您当前没有在请假。", "success" if ended else "info")
    return redirect(url_for("account.leave"))
