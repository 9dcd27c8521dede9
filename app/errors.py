"""Errors: one base for the platform's refusals, rendered here once.

Services raise a ``DomainError`` (or a subclass) where they find the problem,
with a Chinese message for people, the form ``field`` at fault when there is
one, and the HTTP status. The handlers below turn it (and the runtime's
``RuntimeErrorBase``) into JSON for ``/api/`` and into a flashed message and a
redirect back to the page for the web; a view that wants to show the form again
with its errors catches the error itself.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from workflows.errors import RuntimeErrorBase


class DomainError(Exception):
    """A refused action: ``message`` for people, ``field`` (and ``fields``) at fault."""

    code = "invalid"
    status = 422

    def __init__(
        self,
        message: str,
        field: str | None = None,
        status: int | None = None,
        *,
        fields: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.fields = dict(fields or {})
        if status is not None:
            self.status = status

    def field_errors(self) -> dict[str, str]:
        """Every field at fault with its message (``field`` gets the main message)."""
        found = dict(self.fields)
        if self.field:
            found.setdefault(self.field, self.message)
        return found


class BadRequest(DomainError):
    """The request itself is malformed (not the data of a task)."""

    code = "bad_request"
    status = 400


class Unauthorized(DomainError):
    """No valid bearer token on an API request."""

    code = "unauthorized"
    status = 401

    def __init__(self, message: str = "需要有效的访问令牌：Authorization: Bearer <token>。"):
        super().__init__(message)


class Forbidden(DomainError):
    code = "forbidden"
    status = 403

    def __init__(self, message: str = "没有权限执行此操作。"):
        super().__init__(message)


class Conflict(DomainError):
    code = "conflict"
    status = 409


_HTTP_ZH = {
    400: "请求有误。",
    401: "需要登录或有效的访问令牌。",
    403: "没有权限执行此操作。",
    404: "找不到请求的资源。",
    405: "不支持该请求方法。",
    413: "上传的内容太大。",
    500: "服务器内部错误，请稍后重试。",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _json_error(http_status: int, code: str, message: str, extra: dict | None = None):
    body = {"error": {"code": code, "message": message, **(extra or {})}}
    return jsonify(body), http_status


def _page_error(status: int, message: str, details: dict | None = None):
    return render_template("error.html", status=status, message=message, details=details), status


def _back():
    """Where a refused form goes: the page it came from (same site only), else home."""
    target = request.referrer or ""
    if target.startswith(request.host_url) and request.method == "POST":
        return redirect(target)
    return None


def register_error_handlers(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if _wants_json():
            extra = {"fields": exc.field_errors()} if exc.field_errors() else None
            response, status = _json_error(exc.status, exc.code, exc.message, extra)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            return response, status
        back = _back() if exc.status == 422 else None
        if back is not None:
            flash(exc.message, "danger")
            return back
        return _page_error(exc.status, exc.message)

    @app.errorhandler(RuntimeErrorBase)
    def runtime_error(exc: RuntimeErrorBase):
        db.session.rollback()
        if _wants_json():
            return _json_error(exc.http_status, exc.code, exc.message, exc.details)
        return _page_error(exc.http_status, exc.message, exc.details)

    @app.errorhandler(IntegrityError)
    def integrity(_exc):
        db.session.rollback()
        message = "数据已被同时修改，请重试。"
        if _wants_json():
            return _json_error(409, "conflict", message)
        return _page_error(409, message)

    @app.errorhandler(OperationalError)
    def operational(exc):
        db.session.rollback()
        app.logger.exception("database error")
        message = "数据库繁忙或不可用，请稍后重试。"
        if _wants_json():
            return _json_error(503, "database_unavailable", message)
        return _page_error(503, message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        flash("页面已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。", "danger")
        return _page_error(400, "安全令牌无效，请刷新页面后重试。")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        message = _HTTP_ZH.get(status, exc.description)
        if _wants_json():
            return _json_error(status, exc.name.lower().replace(" ", "_"), message)
        if status == 401:
            return redirect("/login?next=" + request.path)
        return _page_error(status, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if _wants_json():
            return _json_error(500, "internal_error", _HTTP_ZH[500])
        return _page_error(500, _HTTP_ZH[500])
