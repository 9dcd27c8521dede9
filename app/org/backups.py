"""AB角 pages: the backups in force, a new backup, ending one, and 请假 / 销假."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models.org import Backup
from app.policy import requires
from workflows.timeutil import utcnow

from . import queries
from .forms import BackupForm, LeaveForm, ReturnForm, local_to_utc
from .services import (
    create_backup,
    end_backup,
    end_leave,
    require_department,
    require_user,
    start_leave,
)
from .web import FAILED, act, save

MANAGE = "org.manage"


def _forms(backup_form=None, leave_form=None, return_form=None) -> dict:
    holder = request.args.get("holder", "")
    leave = leave_form or LeaveForm(prefix="leave", data={"holder": holder})
    back = return_form or ReturnForm(prefix="return", data={"holder": holder})
    return {
        "backup_form": backup_form or BackupForm(prefix="ab"),
        "leave_form": leave,
        "return_form": back,
    }


def _page(status=200, **forms):
    current_only = request.args.get("all") != "1"
    return (
        render_template(
            "org/backups.html",
            backups=queries.backups(db.session, current_only=current_only, at=utcnow()),
            current_only=current_only,
            now=utcnow(),
            **_forms(**forms),
        ),
        status,
    )


@requires(MANAGE)
def index():
    return _page()


def _create(form: BackupForm) -> Backup:
    department_code = (form.department_code.data or "").strip()
    return create_backup(
        db.session,
        holder=require_user(db.session, form.holder.data, "holder"),
        backup=require_user(db.session, form.backup.data, "backup"),
        department=require_department(db.session, department_code) if department_code else None,
        process_id=form.process_id.data,
        valid_from=local_to_utc(form.valid_from.data),
        valid_to=local_to_utc(form.valid_to.data),
        reason=form.reason.data,
        created_by=current_user.username,
    )


@requires(MANAGE)
def create():
    form = BackupForm(prefix="ab")
    if form.validate_on_submit() and save(form, lambda: _create(form)) is not FAILED:
        flash("AB角设置已保存。", "success")
        return redirect(url_for("org.backups"))
    return _page(400, backup_form=form)


@requires(MANAGE)
def end(backup_id: int):
    entry = db.get_or_404(Backup, backup_id)
    page = url_for("org.backups")
    act(lambda: end_backup(db.session, entry), "该 AB角设置已结束。", refused_to=page)
    return redirect(page)


def _leave(form: LeaveForm) -> Backup:
    return start_leave(
        db.session,
        require_user(db.session, form.holder.data, "holder"),
        require_user(db.session, form.backup.data, "backup"),
        local_to_utc(form.valid_to.data),
        form.reason.data,
        created_by=current_user.username,
    )


@requires(MANAGE)
def leave():
    form = LeaveForm(prefix="leave")
    if form.validate_on_submit():
        entry = save(form, lambda: _leave(form))
        if entry is not FAILED:
            flash(
                f"{entry.holder.display_name} 已请假，工作由 {entry.backup.display_name} 代理。",
                "success",
            )
            return redirect(url_for("org.backups"))
    return _page(400, leave_form=form)


@requires(MANAGE)
def back():
    form = ReturnForm(prefix="return")
    if form.validate_on_submit():
        ended = save(
            form,
            lambda: end_leave(db.session, require_user(db.session, form.holder.data, "holder")),
        )
        if ended is not FAILED:
            message = (
                f"已销假，结束了 {ended} 项代理。"
                if ended
                else "该用户当前没有生效的代理，无需销假。"
            )
            flash(message, "success" if ended else "info")
            return redirect(url_for("org.backups"))
    return _page(400, return_form=form)
