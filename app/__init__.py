"""The Yimen approval platform: the Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, g, request, send_from_directory
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from workflows.db import begin_read_only, configure_engine, end_read_only

from . import (
    engine,
    limits,
    models,  # noqa: F401  (every table known to the metadata)
)
from .api.blueprint import bp as api_bp
from .audit import chain as audit_chain
from .auth.audit import COVERED as ACCOUNTS_COVERED
from .auth.audit import security_event_row
from .auth.views import bp as auth_bp
from .cases.audit import COVERED as CASES_COVERED
from .cases.audit import case_event_row
from .cases.blueprint import bp as cases_bp
from .cases.document_views import bp as documents_bp
from .cases.services import CaseObserver, SuspensionGuard
from .cli import register_cli
from .config import load_config
from .designer.blueprint import bp as designer_bp
from .desk.blueprint import bp as desk_bp
from .errors import register_error_handlers
from .extensions import csrf, db, login_manager, migrate
from .feedback.blueprint import bp as feedback_bp
from .feedback.blueprint import window as feedback_window_bp
from .feedback.services import RectificationObserver
from .files.audit import COVERED as FILES_COVERED
from .filters import register_filters
from .items.audit import COVERED as ITEMS_COVERED
from .items.blueprint import bp as items_bp
from .messages import services as messages
from .models.auth import SecurityEvent
from .models.cases import CaseEvent
from .models.org import user_post
from .models.supervision import Deduction
from .notifications.blueprint import bp as notifications_bp
from .org.audit import COVERED as ORG_COVERED
from .org.blueprint import account as account_bp
from .org.blueprint import bp as org_bp
from .payments.blueprint import bp as payments_bp
from .payments.providers import register_platform_sender
from .policy import has
from .portal.blueprint import bp as portal_bp
from .portal.blueprint import staff as applicants_bp
from .routing.assigner import OrgAssigner
from .scheduler import start_embedded_scheduler
from .statistics.blueprint import bp as statistics_bp
from .supervision.audit import COVERED as LEDGER_COVERED
from .supervision.audit import deduction_row
from .supervision.blueprint import bp as supervision_bp
from .verify.blueprint import bp as verify_bp

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENDOR_PACKAGES = {"bootstrap", "@fontsource", "bpmn-js", "tom-select", "echarts"}


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application; ``overrides`` replace configuration entries (tests)."""
    instance_path = Path((overrides or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=False)
    app.config.update(load_config(instance_path))
    app.config.update(overrides or {})
    app.request_class = limits.BoundedRequest
    app.url_map.converters["int"] = limits.BoundedIntegerConverter

    if app.config["PROXY_HOPS"]:
        # the client's own address (login throttling, verification limits), not the proxy's
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    with app.app_context():
        configure_engine(db.engine, sqlite_busy_ms=app.config["SQLITE_BUSY_MS"])
        audit_chain.use_key(db.engine.url, app.config["AUDIT_KEY"])
    _read_only_requests(app)
    _security_headers(app)

    _plug_features(app)
    _register_blueprints(app)
    _register_vendor_route(app)
    register_filters(app)

    @app.context_processor
    def _permissions():
        return {"can": lambda capability: has(current_user, capability)}

    register_error_handlers(app)
    register_cli(app)
    if app.config.get("SCHEDULER_ENABLED"):
        start_embedded_scheduler(app)
    return app


def _read_only_requests(app: Flask) -> None:
    """GET and HEAD requests read only: on SQLite they never wait for the write lock."""

    @app.before_request
    def _begin():
        view = app.view_functions.get(request.endpoint)
        reading = request.method in ("GET", "HEAD") and not getattr(view, "writes_on_get", False)
        if reading or getattr(view, "reads_only", False):
            g.read_only_token = begin_read_only()

    @app.teardown_request
    def _end_transaction(_exc):
        # A request never leaves a transaction open (SQLite holds its write lock until then).
        db.session.remove()
        token = g.pop("read_only_token", None)
        if token is not None:
            end_read_only(token)


# No inline script anywhere (behaviour lives in app/static/js); inline styles stay allowed
# for the templates' style attributes and bpmn-js, which styles the diagram it draws.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
CACHED_ENDPOINTS = {"static", "vendor"}


def _security_headers(app: Flask) -> None:
    """Every answer: the CSP, no framing, no sniffing, no referrer abroad, no caching of pages.

    Pages show personal data (staff pages, the public case query), so only the static
    files and vendored packages may be cached.
    """

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        cached = request.endpoint in CACHED_ENDPOINTS
        if not cached and "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
        return response


def _plug_features(app: Flask) -> None:
    """The features into the kernel's seams: the runtime's and the audit chain's."""
    engine.plug(app, assigner=OrgAssigner(), observer=CaseObserver(), guard=SuspensionGuard())
    engine.plug(app, observer=RectificationObserver())  # 差评整改: 整改 and 回访 on the rating
    messages.install(app)
    register_platform_sender()
    audit_chain.register(CaseEvent, case_event_row)
    audit_chain.register(Deduction, deduction_row)
    for covered in (
        *CASES_COVERED, *LEDGER_COVERED, *ACCOUNTS_COVERED, *ORG_COVERED, *ITEMS_COVERED,
        *FILES_COVERED,
    ):  # fmt: skip
        audit_chain.cover(covered)
    audit_chain.watch_table(user_post, "org")  # the importer writes memberships in bulk
    audit_chain.register(SecurityEvent, security_event_row)
    audit_chain.install()


def _register_blueprints(app: Flask) -> None:
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    app.register_blueprint(auth_bp)
    app.register_blueprint(designer_bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(items_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(statistics_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(verify_bp)  # public: anyone may check a document's code
    app.register_blueprint(feedback_bp)  # public: 好差评 by a notice's QR code, results
    app.register_blueprint(feedback_window_bp)
    app.register_blueprint(portal_bp)  # public: the applicants' 网上办事大厅
    app.register_blueprint(applicants_bp)


def _register_vendor_route(app: Flask) -> None:
    modules = PROJECT_ROOT / "node_modules"

    @app.route("/vendor/<path:filename>", endpoint="vendor")
    def vendor(filename: str):
        if filename.split("/", 1)[0] not in VENDOR_PACKAGES:
            abort(404)
        return send_from_directory(modules, filename, max_age=86400)
