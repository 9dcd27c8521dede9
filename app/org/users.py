"""User pages: search and page through users, create, edit, deactivate, reset a password.

A password generated here is shown once in the response that created it, never
flashed (flash messages travel in the session cookie).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.limits import page_number
from app.models.auth import User
from app.policy import requires

from . import queries
from .forms import PasswordResetForm, UserCreateForm, UserEditForm
from .services import create_user, reset_password, set_user_active, update_user
from .web import FAILED, act, save

MANAGE = "org.manage"
PAGE_SIZE = 50


@requires(MANAGE)
def index():
    text = request.args.get("q", "").strip()
    page = page_number(request.args)
    users, total = queries.users_page(db.session, text, page, PAGE_SIZE)
    return render_template(
        "org/users.html",
        users=users,
        total=total,
        q=text,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
    )


def _user_page(user: User, *, edit_form=None, reset_form=None, new_password=None, status=200):
    return (
        render_template(
            "org/user.html",
            user=user,
            edit_form=edit_form or UserEditForm(obj=user),
            reset_form=reset_form or PasswordResetForm(),
            new_password=new_password,
        ),
        status,
    )


@requires(MANAGE)
def new():
    form = UserCreateForm()
    if form.validate_on_submit():
        created = save(
            form,
            lambda: create_user(
                db.session,
                username=form.username.data,
                display_name=form.display_name.data,
                phone=form.phone.data,
                password=form.password.data,
                is_admin=form.is_admin.data,
            ),
        )
        if created is not FAILED:
            user, generated = created
            flash(f"已创建用户 {user.username}。", "success")
            return _user_page(user, new_password=generated)
    status = 400 if form.is_submitted() else 200
    return render_template("org/user_new.html", form=form), status


@requires(MANAGE)
def detail(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        changed = save(
            form,
            lambda: update_user(
                db.session,
                user,
                display_name=form.display_name.data,
                phone=form.phone.data,
                is_admin=form.is_admin.data,
                actor=current_user,
            ),
        )
        if changed is not FAILED:
            flash("用户信息已保存。", "success")
            return redirect(url_for("org.user", user_id=user_id))
    return _user_page(user, edit_form=form, status=400 if form.is_submitted() else 200)


@requires(MANAGE)
def password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        new_password = save(form, lambda: reset_password(db.session, user, form.password.data))
        if new_password is not FAILED:
            flash(f"已重置 {user.username} 的密码，下次登录须修改。", "success")
            shown = None if form.password.data else new_password
            return _user_page(user, new_password=shown)
    return _user_page(user, reset_form=form, status=400)


@requires(MANAGE)
def activate(user_id: int):
    return _set_active(user_id, True, "已启用")


@requires(MANAGE)
def deactivate(user_id: int):
    return _set_active(user_id, False, "已停用")


def _set_active(user_id: int, active: bool, done: str):
    user = db.get_or_404(User, user_id)
    message = f"{done}用户 {user.username}。"
    page = url_for("org.user", user_id=user_id)
    act(lambda: set_user_active(db.session, user, active, current_user), message, refused_to=page)
    return redirect(page)
