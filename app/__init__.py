"""The Yimen approval platform: the Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, send_from_directory

from workflows.db import configure_engine

from . import models  # noqa: F401  (every table known to the metadata)
from .config import load_config
from .extensions import csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENDOR_PACKAGES = {"bootstrap", "@fontsource", "bpmn-js"}


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application; ``overrides`` replace configuration entries (tests)."""
    instance_path = Path((overrides or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=False)
    app.config.update(load_config(instance_path))
    app.config.update(overrides or {})

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    with app.app_context():
        configure_engine(db.engine)

    @app.teardown_request
    def _end_transaction(_exc):
        # A request never leaves a transaction open (SQLite holds its write lock until then).
        db.session.remove()

    from .audit.chain import install as install_audit

    install_audit()
    _register_blueprints(app)
    _register_vendor_route(app)

    from .filters import register_filters

    register_filters(app)

    @app.context_processor
    def _permissions():
        from flask_login import current_user

        from .policy import has

        return {"can": lambda capability: has(current_user, capability)}

    from .errors import register_error_handlers

    register_error_handlers(app)

    from .cli import register_cli

    register_cli(app)

    if app.config.get("SCHEDULER_ENABLED"):
        from .scheduler import start_embedded_scheduler

        start_embedded_scheduler(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .api.blueprint import bp as api_bp
    from .auth.views import bp as auth_bp
    from .cases.blueprint import bp as cases_bp
    from .cases.document_views import bp as documents_bp
    from .designer.blueprint import bp as designer_bp
    from .desk.blueprint import bp as desk_bp
    from .items.blueprint import bp as items_bp
    from .notifications.views import bp as notifications_bp
    from .org.blueprint import bp as org_bp
    from .supervision.blueprint import bp as supervision_bp
    from .verify.blueprint import bp as verify_bp

    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    app.register_blueprint(auth_bp)
    app.register_blueprint(designer_bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(items_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(verify_bp)  # public: anyone may check a document's code


def _register_vendor_route(app: Flask) -> None:
    modules = PROJECT_ROOT / "node_modules"

    @app.route("/vendor/<path:filename>", endpoint="vendor")
    def vendor(filename: str):
        if filename.split("/", 1)[0] not in VENDOR_PACKAGES:
            abort(404)
        return send_from_directory(modules, filename, max_age=86400)
