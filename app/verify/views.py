"""Public pages without login, throttled per client address.

文书核验: a document by its verification code. 办件查询: the applicant's case by its
number and query password; wrong passwords also count against the case number,
so that many addresses cannot share the guessing of one 6-digit password.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from sqlalchemy import select

from app.cases import documents, services
from app.engine import platform_runtime
from app.extensions import db, reads_only
from app.models.cases import Case, CaseEvent
from app.models.items import FEEDBACK_KIND
from app.privacy import mask
from app.vocabulary import CaseEventKind, CaseStatus

from .forms import CaseQueryForm, VerifyForm
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


@reads_only
def index():
    form = VerifyForm()
    if request.method == "POST" and form.validate_on_submit():
        return _check(form, form.code.data)
    return _page(form, status=400 if request.method == "POST" else 200)


def code(code: str):
    normalized = documents.normalize_code(code)
    form = VerifyForm(formdata=None, code=documents.format_code(normalized) if normalized else code)
    return _check(form, code)


# --- 办件查询 -------------------------------------------------------------------------

# what the applicant sees of the case's record (the window's words, no staff names)
PUBLIC_EVENTS = {kind: kind.label for kind in CaseEventKind.public()}


def _public_events(case: Case) -> list[CaseEvent]:
    return db.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(PUBLIC_EVENTS))
        .order_by(CaseEvent.id)
    ).all()


def _case_page(form, *, case=None, error=None, status=200):
    steps = []
    if case is not None and case.instance is not None and case.status == CaseStatus.PROCESSING:
        steps = [w.name for w in platform_runtime().open_work_items(case.instance.id)]
    return render_template(
        "verify/case.html",
        form=form,
        case=case,
        applicant=mask(case.applicant_name, 1, 0) if case else None,
        events=_public_events(case) if case else [],
        answer=_answer(case) if case is not None else None,
        event_names=PUBLIC_EVENTS,
        steps=steps,
        error=error,
    ), status


def _answer(case: Case) -> str | None:
    """The answer a 投诉 or 办不成事 report (a 监督件) ended with."""
    if case.item.kind != FEEDBACK_KIND or case.decided_at is None:
        return None
    return db.session.scalars(
        select(CaseEvent.message)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == CaseEventKind.DECIDED)
        .order_by(CaseEvent.id.desc())
    ).first()


@reads_only
def case():
    form = CaseQueryForm()
    if request.method != "POST" or not form.validate_on_submit():
        return _case_page(form, status=400 if request.method == "POST" else 200)
    number, password = form.number.data.strip(), form.password.data.strip()
    keys = (request.remote_addr or "-", f"case:{number}")
    limits = _limits()
    waits = [w for w in (_throttle().retry_after(k, **limits) for k in keys) if w is not None]
    if waits:
        return _case_page(
            form, error=f"查询过于频繁，请 {minutes(max(waits))} 分钟后再试。", status=429
        )
    found = db.session.scalars(select(Case).where(Case.number == number)).first()
    if found is None or not services.query_password_matches(found, password):
        for key in keys:
            _throttle().fail(key, window=limits["window"])
        return _case_page(form, error="办件编号或查询密码不正确，请核对受理通知书。", status=404)
    return _case_page(form, case=found)
