"""Login, logout and one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from app.extensions import db, login_manager
from app.models.auth import User
from app.policy import STAFF, has, requires

from .forms import ChangePasswordForm, LoginForm
from .services import LoginRefused, PasswordRejected, authenticate, change_password

bp = Blueprint("auth", __name__, template_folder="templates")

# Pages a person who must change their password may still open.
_OPEN_WHILE_CHANGING = {"auth.password", "auth.logout", "auth.login", "vendor", "static"}


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(User, int(user_id))


def home_for(user) -> str:
    """The first page of a user, by what they do."""
    for capability, endpoint in (
        ("work", "desk.index"),
        ("supervise", "supervision.index"),
        ("deploy", "designer.index"),
        ("org.manage", "org.index"),
    ):
        if has(user, capability):
            return url_for(endpoint)
    return url_for("auth.password")


def is_local_path(target: str | None) -> bool:
    """Whether ``target`` is a path on this site, safe to put in a Location header.

    Control characters (CR/LF would split the header), backslashes (browsers read
    ``/\\host`` as ``//host``) and anything with a scheme or host are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if not target.isprintable() or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _safe_next(target: str | None, user) -> str:
    return target if is_local_path(target) else home_for(user)


@bp.before_app_request
def _force_password_change():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _OPEN_WHILE_CHANGING
        and not request.path.startswith("/api/")
    ):
        flash("请先修改初始密码。", "warning")
        return redirect(url_for("auth.password"))
    return None


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(
                db.session, form.username.data, form.password.data, request.remote_addr or "-"
            )
        except LoginRefused as exc:  # the form again, with the reason; 429 while throttled
            flash(exc.message, "danger")
            return render_template("auth/login.html", form=form), 429 if exc.status == 429 else 200
        login_user(user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next"), user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(STAFF)
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(db.session, current_user, form.current.data, form.new.data)
        except PasswordRejected as exc:
            form[exc.field].errors.append(exc.message)
        else:
            db.session.commit()
            flash("密码已修改。", "success")
            return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form)
