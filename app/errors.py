"""Errors: one base for the platform's refusals, rendered here once.

Services raise a ``DomainError`` (or a subclass) where they find the problem,
with a Chinese message for people, the form ``field`` at fault when there is
one, and the HTTP status. The handlers below turn it (and the runtime's
``RuntimeErrorBase``) into JSON for ``/api/`` and into a flashed message and a
redirect back to the page for the web; a view that wants to show the form again
with its errors catches the error itself. A view behind a button that returns
to one page whatever happens names that page with ``refusals_return_to`` and
leaves the rollback, the message and the redirect to the handlers.
"""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request
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

    @property
    def http_status(self) -> int:
        """The status under the runtime's name, for callers that catch runtime errors too."""
        return self.status

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


def refusals_return_to(url: str) -> None:
    """Send this request's refusals, whatever their status, back to ``url`` with the message.

    The handlers roll back, flash the ``DomainError`` or runtime error and redirect
    there, as a view would after ``except``: for buttons whose page is the same
    whether the action is done or refused.
    """
    g.refusals_return_to = url


def _referrer() -> str | None:
    """The page a POST came from, if it is on this site."""
    target = request.referrer or ""
    if request.method == "POST" and target.startswith(request.host_url):
        return target
    return None


def _back(message: str, status: int, *, to_referrer: bool):
    """A flashed redirect for a refused web request, or None to show an error page.

    The page the view named wins; otherwise a 422 goes back to the page it came
    from when ``to_referrer``.
    """
    target = g.get("refusals_return_to")
    if target is None and to_referrer and status == 422:
        target = _referrer()
    if target is None:
        return None
    flash(message, "danger")
    return redirect(target)


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
        back = _back(exc.message, exc.status, to_referrer=True)
        if back is not None:
            return back
        return _page_error(exc.status, exc.message)

    @app.errorhandler(RuntimeErrorBase)
    def runtime_error(exc: RuntimeErrorBase):
        db.session.rollback()
        if _wants_json():
            return _json_error(exc.http_status, exc.code, exc.message, exc.details)
        back = _back(exc.message, exc.http_status, to_referrer=False)
        if back is not None:
            return back
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
            response, status = _json_error(503, "database_unavailable", message)
        else:
            # straight from Jinja: error.html's navigation and the context processors (the
            # logged-in user, the counts) would ask the busy database again
            page = app.jinja_env.get_template("busy.html").render(message=message)
            response, status = app.response_class(page), 503
        response.headers["Retry-After"] = "5"
        return response, status

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
