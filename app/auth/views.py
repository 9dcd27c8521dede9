"""Login, logout, one's own password and API tokens; the login session's checks."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from app.extensions import db, login_manager
from app.models.auth import User
from app.policy import STAFF, has, requires
from workflows.timeutil import utcnow

from .forms import ChangePasswordForm, LoginForm
from .services import (
    LoginRefused,
    PasswordRejected,
    SessionLimits,
    UnknownToken,
    authenticate,
    change_password,
    end_sessions,
    revoke_token,
    seen_again,
    session_is_current,
    session_stamp,
    token_state,
    tokens_of,
)

bp = Blueprint("auth", __name__, template_folder="templates")

# Pages a person who must change their password may still open.
_OPEN_WHILE_CHANGING = {"auth.password", "auth.logout", "auth.login", "vendor", "static"}


# The session key of a login's stamp (session version, login and last-seen moments).
STAMP = "login_stamp"


def _limits() -> SessionLimits:
    return SessionLimits(
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
    )


@login_manager.user_loader
def _load_user(user_id: str):
    """The logged-in user, if the session is still current (see ``session_is_current``);
    otherwise the session is emptied and the person must log in again."""
    user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
    now = utcnow()
    stamp = session.get(STAMP)
    if not session_is_current(stamp, user, now, _limits()):
        session.clear()
        return None
    renewed = seen_again(stamp, user, now)
    if renewed is not None:
        session[STAMP] = renewed
    return user


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
        session[STAMP] = session_stamp(user, utcnow())
        db.session.commit()
        return redirect(_safe_next(request.args.get("next"), user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out; every other session of the person (a copied cookie, too) ends as well."""
    if current_user.is_authenticated:
        end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
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
            # this session goes on; the person's other sessions end (change_password)
            session[STAMP] = session_stamp(current_user, utcnow(), session[STAMP]["at"])
            db.session.commit()
            flash("密码已修改。", "success")
            return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form)


# Who sees and revokes everyone's API tokens (the others: their own).
EVERYONE_S_TOKENS = "org.manage"


@bp.route("/account/tokens")
@requires(STAFF)
def tokens():
    everyone = has(current_user, EVERYONE_S_TOKENS)
    return render_template(
        "auth/tokens.html",
        tokens=tokens_of(db.session, None if everyone else current_user),
        everyone=everyone,
        state=token_state,
        now=utcnow(),
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@requires(STAFF)
def revoke(token_id: int):
    owner = None if has(current_user, EVERYONE_S_TOKENS) else current_user
    try:
        revoke_token(db.session, token_id, current_user, owner=owner)
    except UnknownToken:
        abort(404)
    db.session.commit()
    flash(f"访问令牌 #{token_id} 已撤销。", "success")
    return redirect(url_for("auth.tokens"))
