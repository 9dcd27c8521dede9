"""Login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from app.extensions import db, login_manager

from .forms import LoginForm
from .models import User
from .services import check_password, find_user

bp = Blueprint("auth", __name__, template_folder="templates")


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(User, int(user_id))


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("designer.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user(db.session, form.username.data.strip())
        if user is not None and user.is_active and check_password(user, form.password.data):
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash("用户名或密码不正确。", "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
