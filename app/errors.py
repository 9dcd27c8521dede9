"""Errors become a clear page or a JSON error body, decided here once."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.api.errors import BadRequest
from app.extensions import db
from app.policy import ApiForbidden, ApiUnauthorized
from workflows.errors import RuntimeErrorBase

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


def register_error_handlers(app) -> None:
    @app.errorhandler(RuntimeErrorBase)
    def runtime_error(exc: RuntimeErrorBase):
        db.session.rollback()
        if _wants_json():
            return _json_error(exc.http_status, exc.code, exc.message, exc.details)
        return render_template(
            "error.html", status=exc.http_status, message=exc.message, details=exc.details
        ), exc.http_status

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest):
        db.session.rollback()
        return _json_error(400, "bad_request", exc.message)

    @app.errorhandler(ApiUnauthorized)
    def unauthorized(_exc):
        db.session.rollback()
        response, status = _json_error(
            401, "unauthorized", "需要有效的访问令牌：Authorization: Bearer <token>。"
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, status

    @app.errorhandler(ApiForbidden)
    def forbidden(exc: ApiForbidden):
        db.session.rollback()
        return _json_error(403, "forbidden", exc.message)

    @app.errorhandler(IntegrityError)
    def integrity(_exc):
        db.session.rollback()
        message = "数据已被同时修改，请重试。"
        if _wants_json():
            return _json_error(409, "conflict", message)
        return render_template("error.html", status=409, message=message), 409

    @app.errorhandler(OperationalError)
    def operational(exc):
        db.session.rollback()
        app.logger.exception("database error")
        message = "数据库繁忙或不可用，请稍后重试。"
        if _wants_json():
            return _json_error(503, "database_unavailable", message)
        return render_template("error.html", status=503, message=message), 503

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        flash("页面已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。", "danger")
        return render_template(
            "error.html", status=400, message="安全令牌无效，请刷新页面后重试。"
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        message = _HTTP_ZH.get(status, exc.description)
        if _wants_json():
            return _json_error(status, exc.name.lower().replace(" ", "_"), message)
        if status == 401:
            return redirect("/login?next=" + request.path)
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if _wants_json():
            return _json_error(500, "internal_error", _HTTP_ZH[500])
        return render_template("error.html", status=500, message=_HTTP_ZH[500]), 500
