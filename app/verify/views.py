"""文书核验: look a document up by its verification code, throttled per client address."""

from __future__ import annotations

from flask import current_app, render_template, request

from app.cases import documents
from app.extensions import db

from .forms import VerifyForm
from .throttle import Throttle, minutes

DEFAULT_WINDOW_SECONDS = 600
DEFAULT_MAX_FAILURES = 10


def _throttle() -> Throttle:
    # one store per application (tests build many apps in one process)
    return current_app.extensions.setdefault("verify_throttle", Throttle())


def _limits() -> dict:
    return {
        "limit": current_app.config.get("VERIFY_MAX_FAILURES", DEFAULT_MAX_FAILURES),
        "window": current_app.config.get("VERIFY_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS),
    }


def _page(form, *, document=None, error=None, status=200):
    return render_template(
        "verify/index.html",
        form=form,
        document=document,
        rows=documents.public_facts(document) if document else [],
        error=error,
    ), status


def _check(form, code: str):
    """Answer one lookup; a wrong code counts against the client's address."""
    client = request.remote_addr or "-"
    limits = _limits()
    wait = _throttle().retry_after(client, **limits)
    if wait is not None:
        return _page(form, error=f"查询过于频繁，请 {minutes(wait)} 分钟后再试。", status=429)
    document = documents.find_by_code(db.session, code)
    if document is None:
        _throttle().fail(client, window=limits["window"])
        return _page(form, error="未找到该验证码对应的文书，请核对后重新输入。", status=404)
    return _page(form, document=document)


def index():
    form = VerifyForm()
    if request.method == "POST" and form.validate_on_submit():
        return _check(form, form.code.data)
    return _page(form, status=400 if request.method == "POST" else 200)


def code(code: str):
    normalized = documents.normalize_code(code)
    form = VerifyForm(formdata=None, code=documents.format_code(normalized) if normalized else code)
    return _check(form, code)
