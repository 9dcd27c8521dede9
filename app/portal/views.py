"""The portal's pages: the guide (no login) and the applicant's own account."""

from __future__ import annotations

from functools import wraps

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from app.auth.services import LoginRefused
from app.extensions import db
from app.files import store
from app.items.packages import packages_with, published, published_package, shape_of
from app.verify.throttle import Throttle, minutes

from . import accounts, guide
from .forms import LoginForm, PasswordForm, RegisterForm
from .session import current_identity, log_in, log_out

REGISTRATIONS_PER_WINDOW = 10
REGISTRATION_WINDOW_SECONDS = 3600


def county_name() -> str:
    return guide.county_name(db.session)


# --- 办事指南 ----------------------------------------------------------------------


def home():
    return render_template(
        "portal/home.html",
        topics=guide.topics(db.session),
        departments=guide.departments(db.session),
        packages=published(db.session),
    )


def guides():
    text = request.args.get("q", "")[: guide.MAX_QUERY]
    topic = request.args.get("topic", "")[:40]
    department = request.args.get("department", "")
    department_id = int(department) if department.isdigit() and len(department) < 10 else None
    return render_template(
        "portal/guides.html",
        items=guide.search(db.session, text, department_id, topic),
        packages=guide.search_packages(db.session, text, department_id, topic),
        departments=guide.departments(db.session),
        text=text,
        topic=topic,
        department_id=department_id,
    )


def item_guide(code: str):
    item = guide.published_item(db.session, code[:40])
    if item is None:
        abort(404)
    return render_template(
        "portal/guide.html",
        item=item,
        steps=guide.route(db.session, item),
        packages=packages_with(db.session, item),
    )


def package_guide(code: str):
    """一件事's guide: its items, the one material list, limits, fees, where to go."""
    package = published_package(db.session, code[:40])
    if package is None:
        abort(404)
    return render_template(
        "portal/package_guide.html",
        package=package,
        shape=shape_of(db.session, package),
        fees=[i for i in package.items if i.fee_amount],
    )


def material_file(code: str, material_id: int, which: str):
    item = guide.published_item(db.session, code[:40])
    material = next((m for m in item.materials if m.id == material_id), None) if item else None
    if material is None:
        abort(404)
    sha, name = (
        (material.blank_form_sha256, material.blank_form_name)
        if which == "blank"
        else (material.example_sha256, material.example_name)
    )
    if not sha:
        abort(404)
    return send_file(store.path_of(sha), download_name=store.safe_name(name), as_attachment=True)


# --- accounts ----------------------------------------------------------------------


def applicant_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        identity = current_identity()
        if identity is None:
            flash("请先登录。", "warning")
            return redirect(url_for("portal.login"))
        if identity.must_change_password and request.endpoint != "portal.password":
            flash("您的密码已由窗口重置，请先设置新密码。", "warning")
            return redirect(url_for("portal.password"))
        g.identity = identity
        return view(*args, **kwargs)

    return wrapper


def _registration_throttle() -> Throttle:
    return current_app.extensions.setdefault("portal_registrations", Throttle())


def register():
    form = RegisterForm()
    if request.method == "POST":
        client = request.remote_addr or "-"
        window = current_app.config.get("PORTAL_REGISTRATION_WINDOW", REGISTRATION_WINDOW_SECONDS)
        limit = current_app.config.get("PORTAL_REGISTRATIONS", REGISTRATIONS_PER_WINDOW)
        wait = _registration_throttle().retry_after(client, limit=limit, window=window)
        if wait is not None:
            form.id_number.errors = [f"注册过于频繁，请 {minutes(wait)} 分钟后再试。"]
            return render_template("portal/register.html", form=form), 429
        if form.validate_on_submit():
            _registration_throttle().fail(client, window=window)
            try:
                applicant = accounts.register(db.session, form.data)
            except accounts.RegistrationRefused as refused:
                getattr(form, refused.field or "id_number").errors = [refused.message]
                return render_template("portal/register.html", form=form), 400
            db.session.commit()
            log_in(applicant.identities[0])
            flash("注册成功，已为您登录。", "success")
            return redirect(url_for("portal.profile"))
        return render_template("portal/register.html", form=form), 400
    return render_template("portal/register.html", form=form)


def login():
    form = LoginForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("portal/login.html", form=form), 400
        try:
            identity = accounts.authenticate(
                db.session, form.id_number.data, form.password.data, request.remote_addr or "-"
            )
        except LoginRefused as refused:
            form.password.errors = [refused.message]
            return render_template("portal/login.html", form=form), refused.status
        db.session.commit()
        log_in(identity)
        return redirect(url_for("portal.profile"))
    return render_template("portal/login.html", form=form)


def logout():
    log_out()
    flash("您已退出登录。", "success")
    return redirect(url_for("portal.home"))


@applicant_required
def profile():
    return render_template("portal/profile.html", applicant=g.identity.applicant)


@applicant_required
def password():
    form = PasswordForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                accounts.change_password(g.identity, form.current.data, form.new.data)
            except accounts.RegistrationRefused as refused:
                getattr(form, refused.field).errors = [refused.message]
            else:
                db.session.commit()
                flash("密码已修改。", "success")
                return redirect(url_for("portal.profile"))
        return render_template("portal/password.html", form=form), 400
    return render_template("portal/password.html", form=form)
